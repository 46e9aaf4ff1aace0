"""How the app answers: the security headers of every response (one rule, for Flask's
answers and the fast path's alike), and how every page behind a link answers (confirm,
unsubscribe, gift, rating, share): in the person's language, never cached, and naming
no referrer, since its URL holds a token."""
from __future__ import annotations

import re
from urllib.parse import urlsplit

from flask import Response, g, render_template, request, url_for

from widget.core import i18n

NO_STORE = {"Cache-Control": "no-store"}
# The pages behind links: their URLs hold a token (or a referral code), which no
# Referer header may carry on, not even to our own server's logs.
LINK_PATHS = ("/confirm/", "/unsubscribe/", "/gift/", "/rate/", "/r/", "/share/", "/letter/")
# Every HTML page, public or the dashboard: our own scripts, styles and images only (the
# templates have no inline ones), never framed (no click-jacking a confirm, unsubscribe
# or log-in button), forms post only to us (see allow_form_target), and no <base> can
# move relative links.
PAGE_POLICY = "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
# Everything else (JSON, embed.js and the assets, CSV, 204s): a policy applies only when
# such an answer is opened as a document, and then nothing in it runs and nobody frames
# it. Host pages read these with fetch, <script>, import() and <link>, which never apply
# the response's own policy, so this cannot stand in their way (and no
# Cross-Origin-Resource-Policy is sent: host pages on other origins load these).
RESOURCE_POLICY = "default-src 'none'; frame-ancestors 'none'"
# A year. No includeSubDomains or preload: the operator's other hosts are not ours to
# promise https for.
HSTS = "max-age=31536000"
SOURCE = re.compile(r"https?://[a-z0-9.-]+(:[0-9]+)?")


def security_headers(base_url: str, path: str, mimetype: str | None, status: int,
                     form_targets=()) -> list[tuple[str, str]]:
    """The security headers a response to `path` gets, unless it set its own (a page's
    stricter choice stays: the caller adds only the names the response lacks).

    HSTS follows the public base URL, not the request's scheme: behind a TLS-terminating
    proxy the app itself may be spoken to in plain HTTP. A 304 carries no policy: a cache
    updates the stored answer's headers from it, and that answer's own policy stays.
    `form_targets`: origins this page's forms may lead to besides our own.
    """
    headers = [("X-Content-Type-Options", "nosniff"),
               ("Referrer-Policy", "no-referrer" if path.startswith(LINK_PATHS)
                else "strict-origin-when-cross-origin")]
    if base_url.startswith("https://"):
        headers.append(("Strict-Transport-Security", HSTS))
    if status == 304:
        return headers
    if mimetype == "text/html" and status != 204:
        policy = PAGE_POLICY.replace(
            "form-action 'self'", " ".join(["form-action 'self'", *sorted(form_targets)]))
        headers += [("Content-Security-Policy", policy), ("X-Frame-Options", "DENY")]
    else:
        headers.append(("Content-Security-Policy", RESOURCE_POLICY))
    return headers


def allow_form_target(url: str) -> None:
    """Let this page's forms lead to `url`'s origin. A link gift's button posts to us and
    is redirected on to the owner's link; browsers check form-action at every hop of a
    form's redirects, so without this the last one would be refused."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        return
    try:
        port = f":{parts.port}" if parts.port else ""
        origin = f"{scheme}://{parts.hostname.encode('idna').decode('ascii')}{port}"
    except (AttributeError, UnicodeError, ValueError):  # no host, a bad one or a bad port
        origin = ""
    # A host a source expression cannot name (an IPv6 address): the whole scheme.
    source = origin if SOURCE.fullmatch(origin) else f"{scheme}:"
    g.setdefault("form_targets", set()).add(source)


def visitor_lang(*fallbacks: str | None) -> str:
    """The visitor's browser's language if we speak it, else the first fallback we do."""
    return i18n.best_lang(request.accept_languages.best_match(i18n.LANGS), *fallbacks)


def belongs_to(site) -> None:
    """This page is one of `site`'s: its name and a way back to it show at the top."""
    g.page_site = site


def _home(site, lang: str) -> dict | None:
    """The way back to a site: the owner's landing page for friends, else its first
    allowed origin; only ever an address the owner allowed."""
    origins = sorted(o.origin for o in site.origins)
    url = site.ref_landing or (origins[0] + "/" if origins else None)
    label = i18n.fill(i18n.text("page.back", lang), {"site": site.name})
    return {"url": url, "label": label, "name": site.name} if url else None


def render(template: str, lang: str, status: int = 200, **context) -> Response:
    """A public template in `lang` (its `t` translates), with the way back to the site
    it belongs to (the `site` given, or belongs_to's) at the top."""
    site = context.get("site") or g.get("page_site")
    # The site's colours come as a stylesheet of our own (no inline style under PAGE_POLICY).
    colors = url_for("site_colors.colors_css", site_id=site.id) if site is not None else None
    body = render_template(template, lang=lang, t=i18n.translator(lang), site_colors=colors,
                           home=_home(site, lang) if site is not None else None, **context)
    return Response(body, status=status, headers=NO_STORE)


def message(lang: str, key: str, values: dict | None = None, status: int = 200,
            form: tuple | None = None, **extra) -> Response:
    """The title and text of page.`key`, at most one button (form = (action URL, button
    string key)), and whatever else public/message.html shows (gifts, share)."""
    t, values = i18n.translator(lang), values or {}
    return render("public/message.html", lang, status,
                  title=i18n.fill(t(f"page.{key}.title"), values),
                  text=i18n.fill(t(f"page.{key}.text"), values),
                  form={"action": form[0], "button": t(form[1])} if form else None, **extra)


def invalid(status: int = 400) -> Response:
    """A link that does not work: tampered, cut short, or made for something else."""
    return message(visitor_lang(), "invalid", status=status)
