"""The outbox worker: claims due messages, renders each once, delivers, records the result.

It runs as a thread inside `widget serve` / `widget demo` (WIDGET_WORKER=on) or as any
number of `widget worker` processes. A message is rendered on its first claim and kept,
so every retry sends the same bytes with the same Message-ID.
"""
from __future__ import annotations

import logging
import os
import socket
import threading
from contextlib import nullcontext

from flask import Flask

from widget.core import db, outbox, smtp
from widget.core.rawsql import Tx
from widget.giveback import referrals
from widget.mail import render
from widget.models import Grant, OutboxMessage, Story, Subscriber, utcnow
from widget.subscribers import import_run, retention
from widget.sync import sync, webhook_send

log = logging.getLogger(__name__)
# Rows a claim takes. A claim costs about what a few deliveries do (on PostgreSQL with
# thousands due, webhooks reached 0.40x of a plain loop at 20 a claim and 0.65x at 100);
# each message renews its own lease before it is sent, so a long batch loses nothing.
BATCH = 100
STORY_KINDS = ("story_thanks", "story_reply")  # to the storyteller, not a subscriber


def worker_name() -> str:
    """Who holds a claim: host, process and thread, so a takeover is traceable."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{threading.get_ident() % 10**6}"


def _skip_reason(message: OutboxMessage, subscriber: Subscriber | None,
                 grant: Grant | None) -> str | None:
    """Mail nobody should get any more: the person left or already confirmed, the gift
    was withdrawn, or the follow-up has nothing left to ask."""
    if subscriber is None:
        return "the subscriber was deleted"
    if subscriber.status == "unsubscribed":
        return "the subscriber unsubscribed before it was sent"
    if message.kind == "confirm" and subscriber.status != "pending":
        return "the address was confirmed before it was sent"
    if message.kind in ("gift", "followup"):
        if grant is None:
            return "the gift was deleted"
        if grant.revoked_at is not None:
            return "the gift's link was withdrawn"
    if message.kind == "followup":
        if grant.rating is not None:
            return "they rated the gift already"
        if grant.gift.followup_days is None:
            return "follow-ups were switched off for this gift"
    return None


def deliver(app: Flask, message_id: int, worker: str, mail: smtp.Session | None = None) -> str:
    """Deliver one claimed message; returns its new status (sent, skipped, queued, failed),
    or "lost" when another worker took it over after this worker's lease ran out. E-mail
    goes over `mail`, the batch's SMTP session, or without one over a session of its own."""
    engine, cfg = db.engine(), app.config
    if not outbox.renew(engine, message_id, worker, cfg["OUTBOX_LEASE_SECONDS"]):
        return "lost"  # the batch's lease ended while earlier messages were sent
    session = db.session()
    try:
        message = session.get(OutboxMessage, message_id)
        if message.kind == "webhook":  # an event to an owner's endpoint, signed
            return webhook_send.deliver(app, message_id, worker)
        if message.kind == "sync":  # an event to an e-mail service (Mailchimp, Kit, …)
            return sync.deliver(app, message_id, worker)
        if message.kind == "referral":  # no e-mail: a referral's waiting period ended
            outcome = referrals.settle(Tx.on_session(session), message.referral_id, utcnow(),
                                       cfg["MAIL_FROM"])
            session.commit()
            outbox.finish(engine, message_id, worker, "sent", outcome)
            outbox.wake_event(app).set()  # a reward it gave is due at once
            return "sent"
        story = session.get(Story, message.story_id) if message.story_id else None
        subscriber = (session.get(Subscriber, message.subscriber_id)
                      if message.subscriber_id else None)
        grant = session.get(Grant, message.grant_id) if message.grant_id else None
        owner = render.owner_of(message) if message.kind in render.OWNER_KINDS else None
        reason = (("the story was deleted" if story is None else None)
                  if message.kind in STORY_KINDS else None if owner is not None
                  else _skip_reason(message, subscriber, grant))
        if message.kind == "invite" and render.invited(message) is None:
            reason = "the invitation was withdrawn or accepted"
        if reason:
            outbox.finish(engine, message_id, worker, "skipped", reason)
            return "skipped"
        if message.raw is None:
            email = (render.for_story(message, story) if story is not None
                     else render.for_owner(message, owner) if owner is not None
                     else render.for_message(message, subscriber))
            message.raw, message.subject = email.as_string(), str(email["Subject"])
            message.transport = "smtp" if cfg["SMTP_URL"] else "dev"
            session.commit()
        # The rendered To header is this address: no need to parse the message again.
        raw, kind_of_transport = message.raw, message.transport
        account_mail = message.site_id is None
        recipient = (story.email if story is not None else render.owner_address(message, owner)
                     if owner is not None else subscriber.email)
    finally:
        session.close()
    if kind_of_transport == "dev":
        if account_mail:  # no site's dev outbox shows it: the operator's log does
            log.warning("dev outbox (no WIDGET_SMTP_URL): an account e-mail to %s:\n%s",
                        recipient, raw)
        outbox.finish(engine, message_id, worker, "sent")  # the dashboard shows it
        return "sent"
    conversation = mail or smtp.Session(smtp.SmtpSettings.parse(cfg["SMTP_URL"]))
    try:
        conversation.send(cfg["MAIL_FROM"],  # bounces go to the operator's address
                          recipient, raw.encode())
    except (smtp.PermanentError, smtp.TransientError) as exc:
        permanent = isinstance(exc, smtp.PermanentError)
        log.warning("outbox %s: %s", message_id, exc)
        outbox.fail(engine, message_id, worker, str(exc), permanent=permanent,
                    retry_seconds=cfg["OUTBOX_RETRY_SECONDS"],
                    max_attempts=cfg["OUTBOX_MAX_ATTEMPTS"])
        return "failed" if permanent else "queued"
    finally:
        if conversation is not mail:  # its own, for this message alone
            conversation.close()
    outbox.finish(engine, message_id, worker, "sent")
    return "sent"


def drain_once(app: Flask, worker: str | None = None) -> int:
    """Claim and deliver one batch of due messages; returns how many were claimed."""
    worker = worker or worker_name()
    with app.app_context():
        ids = outbox.claim(db.engine(), worker, BATCH, app.config["OUTBOX_LEASE_SECONDS"])
        # One SMTP session for the batch's e-mail, opened by its first message (a batch
        # of webhooks, skips or dev-outbox mail opens none) and closed with QUIT at the end.
        url = app.config["SMTP_URL"]
        mail = smtp.Session(smtp.SmtpSettings.parse(url)) if url else None
        with mail or nullcontext():
            # Webhook rows go out several at once; the rest one after another.
            for message_id in webhook_send.deliver_batch(app, ids, worker):
                try:
                    deliver(app, message_id, worker, mail)
                except Exception:  # one broken message must not stop the others
                    log.exception("outbox %s could not be delivered", message_id)
                    outbox.fail(db.engine(), message_id, worker,
                                "internal error while sending", permanent=False,
                                retry_seconds=app.config["OUTBOX_RETRY_SECONDS"],
                                max_attempts=app.config["OUTBOX_MAX_ATTEMPTS"])
        return len(ids)


def run(app: Flask, stop: threading.Event, poll: float = 1.0, once: bool = False) -> None:
    """Deliver, run contact imports and, hourly, erase sign-ups never confirmed, until
    `stop` is set (or, with once, until nothing is due)."""
    wake = outbox.wake_event(app)
    worker = worker_name()
    swept = None  # when this worker last ran the clean-up: at start, then hourly
    while not stop.is_set():
        swept = retention.when_due(app, swept)
        try:
            claimed = drain_once(app, worker)
        except Exception:  # the database is away for a moment: wait, then try again
            log.exception("outbox worker could not claim messages")
            claimed = 0
        try:  # a slice of a contact import's check or run between batches of mail
            claimed += import_run.step(app, worker)
        except Exception:
            log.exception("outbox worker could not claim an import")
        if claimed:
            continue
        if once:
            return
        wake.wait(poll)
        wake.clear()


def start(app: Flask, poll: float = 1.0) -> tuple[threading.Thread, threading.Event]:
    """Run the worker in a daemon thread of this process; set the event to stop it."""
    stop = threading.Event()
    thread = threading.Thread(target=run, args=(app, stop, poll), name="outbox-worker",
                              daemon=True)
    thread.start()
    return thread, stop
