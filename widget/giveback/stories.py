"""Stories: a visitor tells theirs (the JSON API and the plain form end here), the owner
approves, rejects or replies. Only approved stories whose teller explicitly allowed it
are ever shown, and always as text.

A storyteller who gives an address gets a personal thank-you naming their story (with
the owner's story gift, if set); like a confirmation, at most WIDGET_MAIL_PER_ADDRESS_DAY
of them a day go to one mailbox, so the form cannot be used to flood someone's inbox.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import update
from sqlalchemy.orm import Session

from widget.core import db, events, i18n, outbox
from widget.core.errors import ApiError
from widget.core.rawsql import Tx
from widget.gifts import ledger
from widget.insight import counters
from widget.models import Gift, Site, Story, utcnow
from widget.sites import snapshot
from widget.sites.checks import admit, checked_email, consent_value, text_field
from widget.sites.snapshot import SiteView

MAX_TEXT = 5000
# Controls but line feed and tab, and lone surrogates (no database can store one).
STORY_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")
MAX_NAME = 100


@dataclass(frozen=True)
class Told:
    story_id: int
    lang: str
    page_url: str | None


def _rating(data: dict) -> int | None:
    value = data.get("rating")
    if value in (None, ""):
        return None
    # A whole number from 1 to 5, as a number or (from a form) a digit: never 2.5 or true.
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        value = int(value)  # ASCII only: isdigit() also takes '²', which int() refuses
    if isinstance(value, bool) or not isinstance(value, int) or value not in range(1, 6):
        raise ApiError(422, "invalid_rating", field="rating")
    return value


def _text(data: dict) -> str:
    value = data.get("text")
    if value is not None and not isinstance(value, str):
        raise ApiError(400, "invalid_type", "'text' must be a string.", field="text")
    text = (value or "").replace("\r\n", "\n").strip()
    if not text:
        raise ApiError(422, "missing_story", field="text")
    if len(text) > MAX_TEXT:
        raise ApiError(422, "too_long", f"'text' is longer than {MAX_TEXT} characters.",
                       field="text")
    if STORY_CONTROL.search(text):
        raise ApiError(422, "invalid_characters", field="text")
    return text


def tell(site: SiteView, data: dict, *, is_form: bool = False) -> Told:
    """Check and keep one story, with its thank-you (and gift) queued, in one commit.
    Raises ApiError; a filled honeypot is answered as if accepted, and keeps nothing."""
    first = admit(site, data, "story")
    if first.trapped:
        return Told(0, i18n.best_lang(first.lang_hint, site.default_lang), first.page_url)
    name = text_field(data, "name")
    if not name:
        raise ApiError(422, "missing_name", field="name")
    text = _text(data)
    rating = _rating(data)
    raw_email = text_field(data, "email")  # optional: only for the thank-you
    email = checked_email(raw_email)[0] if raw_email else None
    consent = consent_value(data, is_form)
    widget = site.widget(first.widget_id) if first.widget_id else None
    if first.widget_id and (widget is None or widget.kind != "story"):
        raise ApiError(422, "unknown_widget", field="widget")
    lang = i18n.best_lang(widget.lang if widget else None, first.lang_hint, site.default_lang)
    story = Story(site_id=site.id, widget_id=first.widget_id, name=name[:MAX_NAME], email=email,
                  text=text, rating=rating, consent_publish=consent,
                  consent_text=i18n.text("story.consent", lang), lang=lang,
                  page_url=first.page_url, status="pending", created_at=utcnow())
    session = db.session()
    session.add(story)
    session.flush()
    if email and _mailbox_has_room(session, email):
        _thank(session, site.id, story)
    events.emit(Tx.on_session(session), site.id, "story.submitted", lambda: {"story": {
        "id": story.id, "name": story.name, "email": story.email, "text": story.text,
        "rating": story.rating, "consent_publish": story.consent_publish,
        "lang": story.lang, "page_url": story.page_url, "widget": story.widget_id}})
    counters.count(Tx.on_session(session), site.id, story.widget_id, "stories",
                   page_url=story.page_url, lang=story.lang, now=story.created_at)
    session.commit()
    outbox.wake_event(current_app).set()
    return Told(story.id, lang, first.page_url)


def _mailbox_has_room(session: Session, email: str) -> bool:
    """The list-bomb guard for story thank-yous: a few a day per mailbox, all sites."""
    sent = outbox.sent_since(session, email.lower(), "story_thanks")
    return sent < current_app.config["MAIL_PER_ADDRESS_DAY"]


def _thank(session: Session, site_id: str, story: Story) -> None:
    """Queue the thank-you, with the owner's story gift when they give one."""
    tx, now = Tx.on_session(session), utcnow()
    chosen = session.get(Site, site_id).story_gift_id
    gift = session.get(Gift, chosen) if chosen else None
    if gift is not None and gift.is_active and gift.site_id == site_id:
        tx.run("SAVEPOINT story_gift")
        try:
            given = ledger.give(tx, ledger.Terms(gift.id, gift.kind, gift.link_days,
                                                 gift.download_limit),
                                site_id=site_id, subscriber_id=None, widget_id=story.widget_id,
                                page_url=story.page_url, release=True, now=now)
            tx.run("RELEASE SAVEPOINT story_gift")
            story.grant_id = given.grant_id
        except ledger.GiftGone:  # the thank-you goes out without it
            tx.run("ROLLBACK TO SAVEPOINT story_gift")
    session.flush()
    to = outbox.Recipient(site_id, None, story.email.lower(), story.lang)
    outbox.queue(tx, "story_thanks", to, current_app.config["MAIL_FROM"],
                 grant_id=story.grant_id, story_id=story.id)


def decide(session: Session, story: Story, status: str) -> bool:
    """The owner approves or rejects a story (commits); approved ones with consent show
    in the site's proof widgets within a minute. Returns whether it changed."""
    assert status in ("approved", "rejected", "pending"), status
    changed = session.execute(
        update(Story).where(Story.id == story.id, Story.status != status)
        .values(status=status, decided_at=utcnow())
        .execution_options(synchronize_session=False)).rowcount == 1
    session.commit()
    session.refresh(story)
    snapshot.invalidate(story.site_id)
    return changed


def reply(session: Session, story: Story, text: str) -> bool:
    """E-mail the owner's reply to the storyteller (commits). False when they gave no
    address."""
    if not story.email:
        return False
    story.reply = text.replace("\r\n", "\n").strip()
    to = outbox.Recipient(story.site_id, None, story.email.lower(), story.lang)
    outbox.queue(Tx.on_session(session), "story_reply", to, current_app.config["MAIL_FROM"],
                 story_id=story.id, body=story.reply)  # each reply goes with its own words
    session.commit()
    outbox.wake_event(current_app).set()
    return True
