"""A grant's links and what they may do now.

Every link is an itsdangerous token for one purpose (tokens.py): the gift page
(`gift`: the grant, its gift, its subscriber and its nonce), a download ticket issued by
that page's button (`gift_file`: one hour), and a follow-up's ratings (`rating`). The
grant row is the authority on expiry, downloads and revocation; a fresh link changes
its nonce, so every older link stops working.
"""
from __future__ import annotations

import hmac
import secrets
from datetime import datetime

from flask import current_app
from sqlalchemy import update
from sqlalchemy.orm import Session

from widget.core import db, outbox, tokens
from widget.core.rawsql import Tx, as_datetime
from widget.gifts import ledger
from widget.models import Grant, utcnow

TICKET_SECONDS = 3600  # a download started from the page may be resumed for an hour
EXPIRING_KINDS = ("file", "link")  # a coupon code or a bonus text stays readable


class Replaced(Exception):
    """A genuine link whose grant has a newer one (a fresh link was sent since)."""

    def __init__(self, grant: Grant):
        super().__init__("replaced")
        self.grant = grant


def _grant(session: Session, grant_id, nonce) -> Grant:
    if not isinstance(grant_id, int) or not isinstance(nonce, str):
        raise tokens.TokenInvalid()
    grant = session.get(Grant, grant_id)
    if grant is None:
        raise tokens.TokenInvalid()
    if not hmac.compare_digest(grant.nonce, nonce):
        raise Replaced(grant)
    return grant


def token(grant: Grant) -> str:
    """The token of a grant's page; it binds the grant, its gift, its subscriber (0 for
    a gift given before the person was known) and its current nonce."""
    return token_of(grant.id, grant.gift_id, grant.subscriber_id, grant.nonce)


def token_of(grant_id: int, gift_id: str, subscriber_id: int | None, nonce: str) -> str:
    """token() from the grant's values, for a grant written in plain SQL."""
    return tokens.sign("gift", [grant_id, gift_id, subscriber_id or 0, nonce])


def given_first(value: str | None) -> tuple[int, str] | None:
    """The grant id and nonce of a gift-first grant's token that a visitor sends with a
    later sign-up, so the gift joins their ledger; None for anything else."""
    try:
        found, _age = tokens.read("gift", value) if isinstance(value, str) else (None, 0)
    except tokens.TokenInvalid:
        return None
    if (isinstance(found, list) and len(found) == 4 and isinstance(found[0], int)
            and found[2] == 0 and isinstance(found[3], str)):
        return found[0], found[3]
    return None


def from_token(session: Session, value: str) -> Grant:
    """The grant of a page token. Raises tokens.TokenInvalid, or Replaced."""
    found, _age = tokens.read("gift", value)
    if not (isinstance(found, list) and len(found) == 4 and isinstance(found[2], int)):
        raise tokens.TokenInvalid()
    grant_id, gift_id, subscriber_id, nonce = found
    grant = _grant(session, grant_id, nonce)
    if grant.gift_id != gift_id or subscriber_id not in (0, grant.subscriber_id or 0):
        raise tokens.TokenInvalid()
    return grant


def page_url(page_token: str) -> str:
    """The gift page: GET shows the gift and its button, so scanners spend nothing."""
    return f"{current_app.config['BASE_URL']}/gift/{page_token}"


def download_url(grant_id: int, nonce: str) -> str:
    """A new download ticket's URL; the download counts when it is first fetched."""
    ticket = tokens.sign("gift_file", [grant_id, nonce, secrets.token_hex(8)])
    return f"{current_app.config['BASE_URL']}/gift/get/{ticket}"


def from_ticket(session: Session, value: str) -> tuple[Grant, str]:
    """The grant and ticket id of a download ticket no older than an hour. Raises
    tokens.TokenExpired, tokens.TokenInvalid or Replaced."""
    found = tokens.unsign("gift_file", value, max_age=TICKET_SECONDS)
    if not (isinstance(found, list) and len(found) == 3 and isinstance(found[2], str)):
        raise tokens.TokenInvalid()
    return _grant(session, found[0], found[1]), found[2]


def state(grant: Grant, now: datetime | None = None) -> str:
    """What the grant's link may do now: ok, revoked (withdrawn, even while it waited),
    waiting (for the address to be confirmed), expired or spent (every download used)."""
    now = now or utcnow()
    if grant.revoked_at is not None:
        return "revoked"
    if grant.released_at is None:
        return "waiting"
    if grant.gift.kind in EXPIRING_KINDS:
        if as_datetime(grant.expires_at) <= now:
            return "expired"
        if grant.downloads >= grant.download_limit:
            return "spent"
    return "ok"


def may_renew(grant: Grant) -> bool:
    """Whether the person can have a fresh link e-mailed: a confirmed subscriber's gift."""
    return (grant.subscriber is not None and grant.subscriber.status == "confirmed"
            and grant.released_at is not None)


def admit_download(grant: Grant, ticket: str, head: bool) -> bool:
    """Whether a ticket may fetch its gift now. The first GET of a ticket counts one
    download (committed); its resumed and ranged requests count no more, and a HEAD
    never counts. False when the link may not be used."""
    session, now = db.session(), utcnow()
    if not head and ledger.count_download(Tx.on_session(session), grant.id, grant.nonce,
                                          ticket, now):
        session.commit()
        return True
    # A HEAD, or a ticket counted before: fine while the link is not withdrawn.
    session.rollback()
    session.refresh(grant)
    resumed = grant.last_ticket == ticket and grant.revoked_at is None
    return resumed or (head and state(grant, now) == "ok")


def renew(session: Session, grant: Grant, *, by_owner: bool) -> bool:
    """Send a confirmed subscriber a fresh link to their gift by e-mail (older links,
    withdrawn ones too, stop working). A visitor may ask once per
    WIDGET_CONFIRM_RESEND_MINUTES; the owner may always. Commits; returns whether one
    was queued."""
    if not may_renew(grant):
        return False
    cfg, tx, now = current_app.config, Tx.on_session(session), utcnow()
    renewed = ledger.renew(tx, grant.id, grant.valid_days, now, by_owner=by_owner,
                           cooldown_minutes=cfg["CONFIRM_RESEND_MINUTES"])
    if renewed:
        outbox.queue(tx, "gift", outbox.recipient(grant.subscriber), cfg["MAIL_FROM"],
                     grant_id=grant.id)
    session.commit()
    if renewed:
        outbox.wake_event(current_app).set()
    return renewed


def revoke(session: Session, grant: Grant) -> None:
    """The owner withdraws a grant's link (commits): it and every older link stop working."""
    session.execute(update(Grant).where(Grant.id == grant.id, Grant.revoked_at.is_(None))
                    .values(revoked_at=utcnow()).execution_options(synchronize_session=False))
    session.commit()
    session.refresh(grant)


def rating_url(grant: Grant, stars: int) -> str:
    """A follow-up's link for one rating: GET shows the form, only its POST records."""
    value = tokens.sign("rating", [grant.id, grant.subscriber_id or 0])
    return f"{current_app.config['BASE_URL']}/rate/{value}?r={stars}"


def from_rating_token(session: Session, value: str) -> Grant:
    """The grant of a rating link. Raises tokens.TokenInvalid."""
    found, _age = tokens.read("rating", value)
    if not (isinstance(found, list) and len(found) == 2 and isinstance(found[0], int)):
        raise tokens.TokenInvalid()
    grant = session.get(Grant, found[0])
    if grant is None or grant.subscriber_id is None or grant.subscriber_id != found[1]:
        raise tokens.TokenInvalid()
    return grant


def rate(session: Session, grant: Grant, stars: int, comment: str | None) -> None:
    """Record (or change) what the person thought of their gift; commits."""
    grant.rating, grant.comment, grant.rated_at = stars, comment or None, utcnow()
    session.commit()
