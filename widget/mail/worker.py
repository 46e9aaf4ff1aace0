"""The outbox worker: claims due messages, renders each once, delivers, records the result.

It runs as a thread inside `widget serve` / `widget demo` (WIDGET_WORKER=on) or as any
number of `widget worker` processes. A message is rendered on its first claim and kept,
so every retry sends the same bytes with the same Message-ID (a letter of new posts is
rendered again instead: see mail/batch.py).
"""
from __future__ import annotations

import logging
import os
import socket
import threading
from contextlib import nullcontext

from flask import Flask
from sqlalchemy import select

from widget.core import db, outbox, smtp
from widget.core.rawsql import Tx
from widget.giveback import referrals
from widget.insight import months
from widget.letters import feeds, schedule
from widget.mail import batch
from widget.models import OutboxMessage, utcnow
from widget.subscribers import import_run, retention
from widget.sync import sync, webhook_send

log = logging.getLogger(__name__)
# Rows a claim takes. A claim costs about what a few deliveries do (on PostgreSQL with
# thousands due, webhooks reached 0.40x of a plain loop at 20 a claim and 0.65x at 100);
# the lease of the e-mail not yet sent is renewed as the batch goes (outbox.Lease), so a
# long batch loses nothing.
BATCH = 100


def worker_name() -> str:
    """Who holds a claim: host, process and thread, so a takeover is traceable."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{threading.get_ident() % 10**6}"


def deliver(app: Flask, message_id: int, worker: str, mail: smtp.Session | None = None) -> str:
    """Deliver one claimed message; returns its new status (sent, skipped, queued, failed),
    or "lost" when another worker took it over after this worker's lease ran out. E-mail
    goes over `mail`, the batch's SMTP session, or without one over a session of its own."""
    engine, cfg = db.engine(), app.config
    if not outbox.renew(engine, message_id, worker, cfg["OUTBOX_LEASE_SECONDS"]):
        return "lost"  # the batch's lease ended while earlier messages were sent
    with db.engine().connect() as conn:
        kind = conn.scalar(select(OutboxMessage.kind).where(OutboxMessage.id == message_id))
    if kind == "webhook":  # an event to an owner's endpoint, signed
        return webhook_send.deliver(app, message_id, worker)
    if kind == "sync":  # an event to an e-mail service (Mailchimp, Kit, …)
        return sync.deliver(app, message_id, worker)
    if kind == "referral":  # no e-mail: a referral's waiting period ended
        session = db.session()
        try:
            message = session.get(OutboxMessage, message_id)
            outcome = referrals.settle(Tx.on_session(session), message.referral_id, utcnow(),
                                       cfg["MAIL_FROM"])
            session.commit()
        finally:
            session.close()
        outbox.finish(engine, message_id, worker, "sent", outcome)
        outbox.wake_event(app).set()  # a reward it gave is due at once
        return "sent"
    ready = batch.prepare(app, [message_id], worker)
    return batch.send(app, ready[0], worker, mail) if ready else "skipped"


def drain_once(app: Flask, worker: str | None = None) -> int:
    """Claim and deliver one batch of due messages; returns how many were claimed."""
    worker = worker or worker_name()
    with app.app_context():
        engine, cfg = db.engine(), app.config
        ids = outbox.claim(engine, worker, BATCH, cfg["OUTBOX_LEASE_SECONDS"])
        if not ids:
            return 0
        # From the claim on: the webhooks below may take a while.
        lease = outbox.Lease(engine, worker, ids, cfg["OUTBOX_LEASE_SECONDS"])
        # Webhook rows go out several at once; the e-mail is prepared in one pass, then
        # sent one by one; a referral's settling or a connector's sync one by one.
        rest = webhook_send.deliver_batch(app, ids, worker)
        with engine.connect() as conn:
            kinds = dict(conn.execute(select(OutboxMessage.id, OutboxMessage.kind)
                                      .where(OutboxMessage.id.in_(rest))).all()) if rest else {}
        others = [i for i in rest if kinds.get(i) in outbox.NOT_MAIL]
        emails = [i for i in rest if i in kinds and kinds[i] not in outbox.NOT_MAIL]
        # One SMTP session for the batch's e-mail, opened by its first message (a batch
        # of webhooks, skips or dev-outbox mail opens none) and closed with QUIT at the end.
        url = cfg["SMTP_URL"]
        mail = smtp.Session(smtp.SmtpSettings.parse(url)) if url else None
        ready = _guarded(app, worker, emails, lambda: batch.prepare(app, emails, worker))
        with mail or nullcontext(), outbox.Finisher(engine, worker) as finisher:
            for one in ready or ():
                if lease.holds(one.message_id):
                    _guarded(app, worker, [one.message_id],
                             lambda one=one: batch.send(app, one, worker, mail, finisher))
        for message_id in others:  # each renews its own lease
            _guarded(app, worker, [message_id],
                     lambda message_id=message_id: deliver(app, message_id, worker))
        return len(ids)


def _guarded(app: Flask, worker: str, ids: list[int], work):
    """Run `work`; if it breaks, log it and schedule `ids` for another try (one broken
    message must not stop the others)."""
    try:
        return work()
    except Exception:
        log.exception("outbox %s could not be delivered", ", ".join(map(str, ids)))
        for message_id in ids:
            outbox.fail(db.engine(), message_id, worker, outbox.INTERNAL, permanent=False,
                        retry_seconds=app.config["OUTBOX_RETRY_SECONDS"],
                        max_attempts=app.config["OUTBOX_MAX_ATTEMPTS"])
        return None


def run(app: Flask, stop: threading.Event, poll: float = 1.0, once: bool = False) -> None:
    """Deliver, run contact imports, poll blog feeds, move letters of new posts on and,
    hourly, erase sign-ups never confirmed and sum the funnel's months that are over,
    until `stop` is set (or, with once, until nothing is due)."""
    wake = outbox.wake_event(app)
    worker = worker_name()
    swept = None  # when this worker last ran the clean-up: at start, then hourly
    while not stop.is_set():
        last_sweep, swept = swept, retention.when_due(app, swept)
        if swept != last_sweep:  # hourly too: the months over, summed before a view asks
            _sum_months(app)
        try:
            claimed = drain_once(app, worker)
        except Exception:  # the database is away for a moment: wait, then try again
            log.exception("outbox worker could not claim messages")
            claimed = 0
        try:  # a slice of a contact import's check or run between batches of mail
            claimed += import_run.step(app, worker)
        except Exception:
            log.exception("outbox worker could not claim an import")
        try:  # a few due blog feeds (each at most every WIDGET_FEED_POLL_MINUTES)
            feeds.poll_due(app, limit=feeds.PER_TURN)
        except Exception:
            log.exception("outbox worker could not poll feeds")
        try:  # new posts into letters, due digests, letters queued at their pace; a
            # letter is marked sent when this worker has nothing else to do
            claimed += schedule.tick(app, settle=not claimed)["queued"]
        except Exception:
            log.exception("outbox worker could not move letters on")
        if claimed:
            continue
        if once:
            return
        wake.wait(poll)
        wake.clear()


def _sum_months(app: Flask) -> None:
    with app.app_context():
        try:
            months.sum_due(db.engine())
        except Exception:  # the database is away: a view sums what it needs, or next hour
            log.exception("the funnel's months could not be summed")


def start(app: Flask, poll: float = 1.0) -> tuple[threading.Thread, threading.Event]:
    """Run the worker in a daemon thread of this process; set the event to stop it."""
    stop = threading.Event()
    thread = threading.Thread(target=run, args=(app, stop, poll), name="outbox-worker",
                              daemon=True)
    thread.start()
    return thread, stop
