"""The e-mail of one claimed batch: read in one go, rendered (once per message, ever),
stored in one transaction, then sent over the batch's SMTP session one after another,
each marked sent as soon as the server took it (by core/outbox.Finisher's thread, so the
commit overlaps the next message's SMTP exchange).

Rendering in a thread of its own while the messages before are sent was tried and not
kept: the two threads take turns on the interpreter's lock, smaller transactions cost
more, and it measured no faster than the whole batch first (bench/mail.py).

Per message, the worker used to renew its lease, read the message, its subscriber and
site, render, commit the rendering, send and commit the outcome: four transactions and
a dozen statements around a send that takes half a millisecond. Now a batch costs one
read per table and one write for its renderings; a message, its send and its outcome.
Outcomes are written as the messages go (not once a batch, as webhooks are): a worker
killed mid-batch leaves to be sent again only what the server took since the finisher's
last commit, usually nothing.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from widget.core import db, outbox, smtp
from widget.core.said import stored
from widget.mail import dkim, letter, render, verp
from widget.models import Grant, OutboxMessage, Site, Story, Subscriber

log = logging.getLogger(__name__)
STORY_KINDS = ("story_thanks", "story_reply")  # to the storyteller, not a subscriber


# What this module stores in English, shown translated in the dashboard (core/said.py)
DELETED = stored("the subscriber was deleted")
UNSUBSCRIBED = stored("the subscriber unsubscribed before it was sent")
BOUNCED = stored("the address bounced")
NO_LONGER_CONFIRMED = stored("the reader is no longer confirmed")
CONFIRMED_ALREADY = stored("the address was confirmed before it was sent")
GIFT_DELETED = stored("the gift was deleted")
GIFT_WITHDRAWN = stored("the gift's link was withdrawn")
RATED_ALREADY = stored("they rated the gift already")
FOLLOWUPS_OFF = stored("follow-ups were switched off for this gift")
STORY_DELETED = stored("the story was deleted")
INVITATION_GONE = stored("the invitation was withdrawn or accepted")


@dataclass(frozen=True)
class Ready:
    """A message rendered and stored, to be sent as it is."""
    message_id: int
    recipient: str
    sender: str  # the envelope's: a subscriber's own return path (VERP), else MAIL_FROM
    raw: str
    transport: str  # "smtp", or "dev": the dashboard's dev outbox shows it, nothing is sent
    account_mail: bool  # to an owner about their account: no site's outbox shows it


def skip_reason(message: OutboxMessage, subscriber: Subscriber | None,
                grant: Grant | None) -> str | None:
    """Mail nobody should get any more: the person left, their address bounced or was
    already confirmed, the gift was withdrawn, or the follow-up has nothing left to ask."""
    if subscriber is None:
        return DELETED
    if subscriber.status == "unsubscribed":
        return UNSUBSCRIBED
    if subscriber.status == "bounced":
        return BOUNCED
    if message.kind == "letter" and subscriber.status != "confirmed":
        return NO_LONGER_CONFIRMED
    if message.kind == "confirm" and subscriber.status != "pending":
        return CONFIRMED_ALREADY
    if message.kind in ("gift", "followup"):
        if grant is None:
            return GIFT_DELETED
        if grant.revoked_at is not None:
            return GIFT_WITHDRAWN
    if message.kind == "followup":
        if grant.rating is not None:
            return RATED_ALREADY
        if grant.gift.followup_days is None:
            return FOLLOWUPS_OFF
    return None


def _by_id(session, model, ids, *options) -> dict:
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    return {row.id: row for row in session.scalars(
        select(model).where(model.id.in_(ids)).options(*options))}


def _one(message: OutboxMessage, loaded: dict) -> tuple[str, object]:
    """("skip", why) or ("send", (recipient, Email or None when rendered before))."""
    story = loaded["stories"].get(message.story_id)
    subscriber = loaded["subscribers"].get(message.subscriber_id)
    grant = loaded["grants"].get(message.grant_id)
    owner = (render.owner_of(message)
             if message.kind in (*render.OWNER_KINDS, "letter_test") else None)
    if message.kind in STORY_KINDS:
        reason = STORY_DELETED if story is None else None
    elif owner is not None:
        reason = (INVITATION_GONE if message.kind == "invite"
                  and render.invited(message) is None else None)
    else:
        reason = skip_reason(message, subscriber, grant)
    if reason:
        return "skip", reason
    recipient = (story.email if story is not None else render.owner_address(message, owner)
                 if owner is not None else subscriber.email)
    if message.raw is not None:  # rendered at an earlier claim: the same bytes again
        return "send", (recipient, None)
    email = (render.for_story(message, story) if story is not None
             else letter.for_test(message, owner) if message.kind == "letter_test"
             else render.for_owner(message, owner) if owner is not None
             else letter.for_message(message, subscriber) if message.kind == "letter"
             else render.for_message(message, subscriber))
    return "send", (recipient, email)


def _sender(cfg, message: OutboxMessage) -> str:
    """A subscriber's e-mail comes back to its own VERP address (mail/bounces.py reads
    it); an owner's or a storyteller's to the operator's MAIL_FROM."""
    to_subscriber = message.subscriber_id is not None and message.kind not in (
        *render.OWNER_KINDS, "letter_test", *STORY_KINDS)
    return verp.address(cfg, message.id) if to_subscriber else cfg["MAIL_FROM"]


def prepare(app: Flask, ids: list[int], worker: str) -> list[Ready]:
    """The e-mails among claimed `ids` (all of them e-mail), those nobody should get any
    more marked skipped, the rest rendered if they never were; all of it written in one
    transaction. A message that cannot be rendered is logged and retried later; one this
    worker no longer holds is left alone."""
    engine, cfg = db.engine(), app.config
    session = db.session()
    try:
        messages = session.scalars(select(OutboxMessage).where(
            OutboxMessage.id.in_(ids), OutboxMessage.claimed_by == worker,
            OutboxMessage.status == "sending").order_by(OutboxMessage.id)).all()
        loaded = {
            "subscribers": _by_id(session, Subscriber, (m.subscriber_id for m in messages)),
            "grants": _by_id(session, Grant, (m.grant_id for m in messages),
                             selectinload(Grant.gift)),
            "stories": _by_id(session, Story, (m.story_id for m in messages)),
            # Held here, so each message's look-up of its site finds it in the session.
            "sites": _by_id(session, Site, (m.site_id for m in messages)),
        }
        transport = "smtp" if cfg["SMTP_URL"] else "dev"
        ready, rendered, skipped, broken = [], {}, {}, []
        for message in messages:
            try:
                what, detail = _one(message, loaded)
            except Exception:  # one broken message must not stop the others
                log.exception("outbox %s could not be rendered", message.id)
                broken.append(message.id)
                continue
            if what == "skip":
                skipped[message.id] = {"last_error": detail}
                continue
            recipient, email = detail
            raw = message.raw
            if email is not None:  # signed now, so a retry sends the same bytes
                raw = dkim.sign(email.raw, cfg)
                # A letter over SMTP keeps no copy: 100,000 readers' would be half a
                # gigabyte written and read back, and its web version holds the posts;
                # a retry renders it again (the same posts and Message-ID, fresh link
                # signatures). The dev outbox keeps copies to show.
                keep = message.kind != "letter" or transport == "dev"
                rendered[message.id] = {"raw": raw if keep else None,
                                        "subject": email.subject, "transport": transport}
            ready.append(Ready(message.id, recipient, _sender(cfg, message), raw,
                               transport if email else message.transport or transport,
                               message.site_id is None))
    finally:
        session.close()
    with engine.begin() as conn:
        outbox.write_many(conn, worker, rendered)
        outbox.write_many(conn, worker, skipped, status="skipped", lease_until=None)
        for message_id in broken:
            outbox.fail(conn, message_id, worker, outbox.INTERNAL, permanent=False,
                        retry_seconds=cfg["OUTBOX_RETRY_SECONDS"],
                        max_attempts=cfg["OUTBOX_MAX_ATTEMPTS"])
    return ready


def send(app: Flask, ready: Ready, worker: str, mail: smtp.Session | None,
         finisher: outbox.Finisher | None = None) -> str:
    """Send one prepared message over the batch's session `mail` (or a session of its
    own) and record the outcome (a success through the batch's `finisher`, if given);
    returns the new status (sent, queued, failed)."""
    engine, cfg = db.engine(), app.config
    finish = finisher.sent if finisher else (
        lambda message_id: outbox.finish(engine, message_id, worker, "sent"))
    if ready.transport == "dev":
        if ready.account_mail:  # no site's dev outbox shows it: the operator's log does
            log.warning("dev outbox (no WIDGET_SMTP_URL): an account e-mail to %s:\n%s",
                        ready.recipient, ready.raw)
        finish(ready.message_id)  # the dashboard shows it
        return "sent"
    conversation = mail or smtp.Session(smtp.SmtpSettings.parse(cfg["SMTP_URL"]))
    try:
        conversation.send(ready.sender, ready.recipient, ready.raw.encode())
    except (smtp.PermanentError, smtp.TransientError) as exc:
        permanent = isinstance(exc, smtp.PermanentError)
        log.warning("outbox %s: %s", ready.message_id, exc)
        outbox.fail(engine, ready.message_id, worker, str(exc), permanent=permanent,
                    retry_seconds=cfg["OUTBOX_RETRY_SECONDS"],
                    max_attempts=cfg["OUTBOX_MAX_ATTEMPTS"])
        return "failed" if permanent else "queued"
    finally:
        if conversation is not mail:  # its own, for this message alone
            conversation.close()
    finish(ready.message_id)
    return "sent"
