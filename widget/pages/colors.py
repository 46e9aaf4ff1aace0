"""A site's colours for its public pages (confirm, thank-you, unsubscribe, gift, rating,
share): GET /site/<site_id>/colors.css, a tiny stylesheet from our own origin, since the
pages' policy (default-src 'self') allows no inline style. templates/public/base.html
links it after dashboard.css when a page belongs to a site."""
from __future__ import annotations

import hashlib
import re

from flask import Blueprint, Response, request
from sqlalchemy import select

from widget.core import db
from widget.models import Site, Widget
from widget.sites.colors import ERROR_RED, MIN_CONTRAST, contrast

bp = Blueprint("site_colors", __name__)
# Checked again here, whatever a row holds: these values are written into CSS.
HEX = re.compile(r"^#[0-9a-f]{6}$")
# What dashboard.css paints a public page with when a colour is not set: the body's
# background, the card's, the text and the links.
BODY, CARD, FG, ACCENT = "#f5f7fa", "#ffffff", "#1d232b", "#1f5fbf"
WHITE = "#ffffff"
# Short: an owner who changes a colour sees it on their pages within minutes.
CACHE = "public, max-age=300"


def site_colors(site_id: str) -> dict[str, str] | None:
    """The colours a site's pages wear ({'bg'|'fg'|'accent': '#rrggbb'}, only those set),
    or None for an unknown site. There is no setting of its own: they are the owner's
    widget colours, from the site's oldest widget with an accent colour set (the one the
    site has worn longest). A value that is not '#rrggbb' is left out."""
    session = db.session()
    if session.get(Site, site_id) is None:
        return None
    widget = session.scalars(
        select(Widget).where(Widget.site_id == site_id, Widget.color_accent.is_not(None))
        .order_by(Widget.created_at, Widget.id).limit(1)).first()
    if widget is None:
        return {}
    found = {"bg": widget.color_bg, "fg": widget.color_fg, "accent": widget.color_accent}
    return {k: v.lower() for k, v in found.items()
            if isinstance(v, str) and HEX.fullmatch(v.lower())}


def stylesheet(colors: dict[str, str]) -> str:
    """The CSS for these colours: the custom properties dashboard.css reads (--bg, --fg,
    --accent; only the set ones) and the few rules that keep text, links and buttons
    readable on them. Empty (the default theme) when there are none, or when the text
    would not reach 4.5:1 on the background (entry checks that; an old row may not)."""
    bg, fg, accent = colors.get("bg"), colors.get("fg"), colors.get("accent")
    # Where text lands: the site's background on body and card alike, else ours (two).
    grounds = [bg] if bg else [BODY, CARD]
    if not colors or min(contrast(fg or FG, g) for g in grounds) < MIN_CONTRAST:
        return ""
    rules = [":root{" + ";".join(f"--{k}:{v}" for k, v in colors.items()) + "}"]
    if bg:  # the card and the plain buttons are white in dashboard.css
        rules.append(".public .card,.public .button:not(.primary){background:var(--bg)}")
    if bg or fg:  # our grey for secondary text is chosen for our white only, and our red
        # for errors may not read on the site's background
        red = bg is None or contrast(ERROR_RED, bg) >= MIN_CONTRAST
        rules.append(".public{--muted:var(--fg)" + ("" if red else ";--err:var(--fg)") + "}")
    if min(contrast(accent or ACCENT, g) for g in grounds) < MIN_CONTRAST:
        # The accent does not read as text on this background: links and plain
        # buttons take the text colour.
        rules.append(".public a,.public .button:not(.primary){color:var(--fg);"
                     "border-color:var(--fg)}")
    if contrast(WHITE, accent or ACCENT) < MIN_CONTRAST:
        # White on the accent button would not read: the button wears the text and
        # background colours instead (a pair that reaches 4.5:1, checked above).
        rules.append(f".public .primary{{background:{fg or FG};border-color:{fg or FG};"
                     f"color:{bg or CARD}}}")
    return "\n".join(rules) + "\n"


@bp.get("/site/<site_id>/colors.css")
def colors_css(site_id: str):
    """A site's stylesheet for its public pages; 404 for an unknown site. Cached
    briefly by anyone, with an ETag so a browser revalidates for a 304."""
    colors = site_colors(site_id)
    if colors is None:
        return Response("/* no such site */\n", status=404, mimetype="text/css")
    css = stylesheet(colors)
    resp = Response(css, mimetype="text/css", headers={"Cache-Control": CACHE})
    resp.set_etag(hashlib.sha256(css.encode()).hexdigest()[:32])
    return resp.make_conditional(request)
