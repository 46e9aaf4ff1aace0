"""A subscriber's life after the sign-up: confirm, unsubscribe, come back, get a fresh
confirmation link. Each change is one conditional UPDATE (so racing clicks change it
once), a status-history row and any e-mail it causes, committed together."""
from __future__ import annotations

import hmac
from datetime import timedelta

from flask import current_app
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from widget.core import events, outbox, tokens
from widget.core.rawsql import Tx
from widget.models import Grant, StatusChange, Subscriber, utcnow
from widget.subscribers import confirmation

FROM = {"confirmed": ("pending",), "unsubscribed": ("pending", "confirmed", "bounced"),
        "resubscribed": ("unsubscribed",), "bounced": ("pending", "confirmed")}
# The event each status announces (a bounce changes the contact; it did not leave).
EVENTS = {"unsubscribed": "contact.unsubscribed", "confirmed": "contact.confirmed",
          "bounced": "contact.updated"}


def from_token(session: Session, purpose: str, token: str) -> tuple[Subscriber, float]:
    """The subscriber a token was made for, and the token's age in seconds. Raises
    tokens.TokenInvalid (also when the subscriber is gone or the address changed)."""
    value, age = tokens.read(purpose, token)
    return _lookup(session, value), age


def _lookup(session: Session, value) -> Subscriber:
    if not (isinstance(value, list) and len(value) == 2 and isinstance(value[0], int)):
        raise tokens.TokenInvalid()
    subscriber = session.get(Subscriber, value[0])
    if subscriber is None or not hmac.compare_digest(
            tokens.subscriber_value(subscriber.id, subscriber.email_normalized)[1], str(value[1])):
        raise tokens.TokenInvalid()
    return subscriber


def change_status(session: Session, subscriber: Subscriber, to: str, via: str) -> bool:
    """Move the subscriber to `to` ('confirmed', 'unsubscribed', 'bounced' or
    'resubscribed', which lands on 'confirmed') if its current status allows; commit.
    Returns whether it moved.

    A confirmation sets off confirmation.on_confirmed (referral code, referral, gifts,
    the welcome e-mail) in the same transaction, and starts the soft bounces' count again
    (the mailbox just proved it works).
    """
    status = "confirmed" if to == "resubscribed" else to
    now = utcnow()
    fresh = {"soft_bounces": 0} if to == "confirmed" else {}
    moved = session.execute(
        update(Subscriber)
        .where(Subscriber.id == subscriber.id, Subscriber.status.in_(FROM[to]))
        .values(status=status, status_at=now, updated_at=now, **fresh)
        .execution_options(synchronize_session=False)).rowcount == 1
    if moved:
        session.add(StatusChange(subscriber_id=subscriber.id, status=status, via=via,
                                 created_at=now))
        if to == "confirmed":
            confirmation.on_confirmed(Tx.on_session(session), outbox.recipient(subscriber),
                                      now, current_app.config["MAIL_FROM"])
        else:  # unsubscribed, bounced, or back from unsubscribed (resubscribed)
            events.about_contact(Tx.on_session(session), subscriber.site_id,
                                 EVENTS[status], subscriber.id, now)
    session.commit()
    session.refresh(subscriber)
    if moved and to == "confirmed":
        outbox.wake_event(current_app).set()
    return moved


def resend_confirmation(session: Session, subscriber: Subscriber) -> bool:
    """Queue a fresh confirmation link for a pending subscriber, within the same cooldown
    and per-mailbox daily cap as sign-ups; commit. Returns whether one was queued."""
    cfg, now = current_app.config, utcnow()
    cooldown = now - timedelta(minutes=cfg["CONFIRM_RESEND_MINUTES"])
    claimed = session.execute(
        update(Subscriber)
        .where(Subscriber.id == subscriber.id, Subscriber.status == "pending",
               or_(Subscriber.confirm_sent_at.is_(None), Subscriber.confirm_sent_at < cooldown))
        .values(confirm_sent_at=now)
        .execution_options(synchronize_session=False)).rowcount == 1
    queued = claimed and outbox.confirmations_since(
        session, subscriber.email_normalized) < cfg["MAIL_PER_ADDRESS_DAY"]
    if queued:
        waiting = session.scalar(  # the fresh link names the gift it will release
            select(Grant.id).where(Grant.subscriber_id == subscriber.id,
                                   Grant.released_at.is_(None))
            .order_by(Grant.id.desc()).limit(1))
        outbox.add(session, "confirm", subscriber, cfg["MAIL_FROM"]).grant_id = waiting
    session.commit()
    if queued:
        outbox.wake_event(current_app).set()
    return queued
