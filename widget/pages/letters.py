"""/letter/<token>: a letter's web version, the same page for every reader (no one's
own links on it), in the site's colours with the way back to the site."""
from __future__ import annotations

from flask import Blueprint

from widget.core import db, i18n, tokens
from widget.core.pages import PAGE_POLICY, belongs_to, invalid, render, visitor_lang
from widget.letters import content, sending
from widget.models import Letter, Site

bp = Blueprint("letter_pages", __name__)
# The posts' images come from the blog, as in the e-mail; nothing else is loaded from
# elsewhere, and nothing of ours is added to them.
POLICY = PAGE_POLICY.replace("default-src 'self'", "default-src 'self'; img-src 'self' https:")


@bp.get("/letter/<token>")
def web_version(token: str):
    """The letter as its readers got it: the posts, their summaries and links."""
    try:
        letter_id = tokens.unsign("letter", token)
    except (tokens.TokenInvalid, tokens.TokenExpired):
        return invalid(404)
    session = db.session()
    letter = session.get(Letter, letter_id) if isinstance(letter_id, int) else None
    site = session.get(Site, letter.site_id) if letter is not None else None
    if site is None:
        return invalid(404)
    belongs_to(site)
    lang = letter.lang or visitor_lang(site.default_lang)
    title = i18n.fill(i18n.text("page.letter.title", lang), {"site": site.name})
    answer = render("public/letter.html", lang, title=title, site=site,
                    posts=content.for_template(sending.posts(session, letter.id)),
                    read_more=i18n.text("mail.letter.read", lang),
                    sent=letter.started_at or letter.created_at)
    answer.headers["Content-Security-Policy"] = POLICY
    return answer
