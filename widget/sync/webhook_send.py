"""Delivering the outbox's "webhook" rows (core/events.py writes one per endpoint that
takes an event, in the transaction of the change), with the worker's claim, lease and
back-off: each attempt signed anew (sync/webhooks.py), POSTed through core/outbound's
guarded session, the receiver's status and the start of its answer kept with the
outcome.

A 2xx answer is sent; anything else (a redirect too), a network error or a timeout is
tried again with back-off until the delivery is WEBHOOK_RETRY_HOURS old, when it fails,
the endpoint is switched off and its owner e-mailed. An address the SSRF guard refuses
fails at once, nothing sent, the reason in the log. A test event is tried once.

The rows of one claimed batch are sent several at once (POOL threads, each with its own
kept-alive connections), so a slow endpoint (up to 10 s) holds one thread, not the
worker, and the waits for answers overlap; the threads only talk HTTP, and the batch's
outcomes are written in one transaction. The claim never puts two rows about one
contact for one endpoint in a batch (core/outbox.py), so their order holds. A worker
that dies after sending and before writing leaves its rows to be sent again when their
lease ends: at least once, with the same webhook-id."""
from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import requests
from flask import Flask
from sqlalchemy import select, update

from widget.core import db, outbound, outbox, vault
from widget.core.rawsql import as_datetime
from widget.core.said import stored
from widget.models import Event, OutboxMessage, Site, Webhook, utcnow
from widget.sync.webhooks import TEST_TYPE, signed_headers

log = logging.getLogger(__name__)
POOL = 8  # deliveries in flight at once in one worker process
EXCERPT = 1024  # characters of the receiver's answer kept for the delivery log
# Retries end by time (WEBHOOK_RETRY_HOURS), not by a count of attempts.
NO_ATTEMPT_LIMIT = 2 ** 31 - 1
NO_ANSWER = {"response_status": None, "response": None}
_local = threading.local()  # one guarded session a thread: connections are reused
_pool: ThreadPoolExecutor | None = None  # made on first use, kept for the process
_pool_lock = threading.Lock()

# What an attempt reads: the row's window start, its endpoint and its event.
JOB = (select(OutboxMessage.id, OutboxMessage.created_at, Webhook.id, Webhook.site_id,
              Webhook.url, Webhook.secret, Webhook.enabled, Event.public_id, Event.type,
              Event.payload)
       .select_from(OutboxMessage).join(Webhook, Webhook.id == OutboxMessage.webhook_id)
       .join(Event, Event.id == OutboxMessage.event_id))


# What this module stores in English, shown translated in the dashboard (core/said.py)
NOT_SENT = stored("not sent: %(reason)s")
HTTP_ERROR = stored("the endpoint answered HTTP %(status)s")
GAVE_UP = stored("gave up after %(hours)s hours: %(error)s")
SWITCHED_OFF = stored("the endpoint is switched off")
DELETED = stored("the webhook was deleted")
SECRET_UNREADABLE = stored("the signing secret cannot be read (was WIDGET_SECRET_KEY changed?)")
NO_CONNECTION_TYPE = stored("could not connect (%(error)s)")
TIMED_OUT = stored("no answer within %(seconds)s seconds")
NO_CONNECTION = stored("could not connect: %(reason)s")
SWITCHED_OFF_REASON = stored("Switched off on %(when)s UTC: deliveries failed for %(hours)s hours "
                             "(last: %(error)s).")


@dataclass(frozen=True)
class _Job:
    """What one attempt needs, read before any request is made."""
    message_id: int
    hook_id: int
    site_id: str
    url: str
    secret: str
    msg_id: str
    body: bytes
    test: bool
    since: datetime  # the start of the retry window: when the delivery was (re)queued


@dataclass(frozen=True)
class _Outcome:
    status: str  # sent, queued (to be tried again), failed, or gave_up
    error: str | None
    answer: dict  # response_status and response, for the delivery log


def deliver_batch(app: Flask, ids: list[int], worker: str) -> list[int]:
    """Deliver the "webhook" rows among a claimed batch, up to POOL at once; returns the
    other ids, in order, for the caller to deliver one by one."""
    if not ids:
        return ids
    engine = db.engine()
    # The webhook rows this worker still holds get a fresh lease in one statement, as
    # each would one by one just before it is sent: they are all being sent now.
    lease = timedelta(seconds=app.config["OUTBOX_LEASE_SECONDS"])
    with engine.begin() as conn:
        mine = set(conn.scalars(update(OutboxMessage).where(
            OutboxMessage.id.in_(ids), OutboxMessage.kind == "webhook",
            OutboxMessage.claimed_by == worker, OutboxMessage.status == "sending")
            .values(lease_until=utcnow() + lease).returning(OutboxMessage.id)))
    jobs = [job for job in _jobs(engine, worker, mine) if isinstance(job, _Job)]
    done = list(_executor().map(lambda job: (job, _attempt(app, job)), jobs))
    for job, outcome in done:  # before the batch's write, which holds SQLite's lock
        if outcome.status == "gave_up":
            _give_up(app, job, outcome.error)
    with engine.begin() as conn:
        outbox.finish_sent(conn, worker, {job.message_id: outcome.answer
                                          for job, outcome in done if outcome.status == "sent"})
        for job, outcome in done:
            if outcome.status != "sent":
                _record(app, conn, worker, job, outcome)
    return [message_id for message_id in ids if message_id not in mine]


def deliver(app: Flask, message_id: int, worker: str) -> str:
    """Deliver one claimed "webhook" row; returns its new status (sent, queued, failed,
    skipped). The caller renewed the lease."""
    engine = db.engine()
    [job] = _jobs(engine, worker, {message_id})
    if isinstance(job, str):
        return job
    outcome = _attempt(app, job)
    if outcome.status == "gave_up":
        _give_up(app, job, outcome.error)
    return _record(app, engine, worker, job, outcome)


def _executor() -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(POOL, thread_name_prefix="webhook")
        return _pool


def _attempt(app: Flask, job: _Job) -> _Outcome:
    """One attempt: sign, send, judge the answer. HTTP only: no database."""
    cfg = app.config
    try:
        answer = outbound.post(_http(cfg["WEBHOOK_ALLOW_PRIVATE"]), job.url, job.body,
                               signed_headers(job.secret, job.msg_id, int(time.time()),
                                              job.body))
    except outbound.Refused as exc:
        return _Outcome("failed", NOT_SENT % {"reason": exc}, NO_ANSWER)
    except requests.RequestException as exc:
        error, answered = _network_error(exc), NO_ANSWER
    except Exception:  # one broken delivery must not stop the batch
        log.exception("outbox %s could not be delivered", job.message_id)
        error, answered = outbox.INTERNAL, NO_ANSWER
    else:
        excerpt = answer.body[:EXCERPT * 4].decode("utf-8", errors="replace")[:EXCERPT]
        answered = {"response_status": answer.status, "response": excerpt.replace("\x00", "")}
        if 200 <= answer.status < 300:
            return _Outcome("sent", None, answered)
        error = HTTP_ERROR % {"status": answer.status}
    if job.test:  # the owner is watching the log: one attempt, then "send again"
        return _Outcome("failed", error, answered)
    if utcnow() - job.since >= timedelta(hours=cfg["WEBHOOK_RETRY_HOURS"]):
        return _Outcome("gave_up", error, answered)
    return _Outcome("queued", error, answered)


def _record(app: Flask, bind, worker: str, job: _Job, outcome: _Outcome) -> str:
    """Write an attempt's outcome with the answer (on an engine, or in the caller's
    transaction on a connection); returns the row's new status."""
    if outcome.status == "sent":
        outbox.finish(bind, job.message_id, worker, "sent", also=outcome.answer)
        return "sent"
    error = outcome.error
    if outcome.status == "gave_up":
        error = GAVE_UP % {
            "hours": app.config["WEBHOOK_RETRY_HOURS"], "error": error}
    outbox.fail(bind, job.message_id, worker, error, permanent=outcome.status != "queued",
                retry_seconds=app.config["OUTBOX_RETRY_SECONDS"],
                max_attempts=NO_ATTEMPT_LIMIT, also=outcome.answer)
    return "queued" if outcome.status == "queued" else "failed"


def _jobs(engine, worker: str, ids: set[int]) -> list[_Job | str]:
    """Each row's attempt inputs, read at once, or the status it got when there is
    nothing to send (its webhook deleted or switched off, its secret unreadable)."""
    with engine.connect() as conn:  # no transaction stays open while receivers answer
        rows = {row[0]: row for row in conn.execute(JOB.where(
            OutboxMessage.id.in_(ids)))} if ids else {}
    found: list[_Job | str] = []
    for message_id in sorted(ids):
        if message_id not in rows:
            outbox.finish(engine, message_id, worker, "skipped",
                          DELETED)
            found.append("skipped")
            continue
        _, created, hook_id, site_id, url, sealed, enabled, msg_id, type_, payload = \
            rows[message_id]
        reason = None if enabled or type_ == TEST_TYPE else SWITCHED_OFF
        try:
            secret = vault.open_(sealed)
        except vault.Unreadable:
            reason = SECRET_UNREADABLE
        if reason:
            outbox.fail(engine, message_id, worker, NOT_SENT % {"reason": reason}, permanent=True,
                        retry_seconds=0, max_attempts=NO_ATTEMPT_LIMIT)
            found.append("failed")
            continue
        found.append(_Job(message_id, hook_id, site_id, url, secret, msg_id,
                          payload.encode(), type_ == TEST_TYPE,
                          as_datetime(created).astimezone(timezone.utc)))
    return found


def _http(allow_private: outbound.Allowed) -> requests.Session:
    sessions = _local.__dict__.setdefault("sessions", {})
    if allow_private not in sessions:
        sessions[allow_private] = outbound.session(allow_private)
    return sessions[allow_private]


def _network_error(exc: requests.RequestException) -> str:
    """A network error in a few words: the OS's reason when there is one."""
    if isinstance(exc, requests.Timeout):
        return TIMED_OUT % {"seconds": outbound.TIMEOUT}
    cause = exc
    while cause is not None:
        if isinstance(cause, OSError) and cause.strerror:
            return NO_CONNECTION % {"reason": cause.strerror}
        cause = cause.__cause__ or cause.__context__
    return NO_CONNECTION_TYPE % {"error": type(exc).__name__}


def _give_up(app: Flask, job: _Job, error: str) -> None:
    """Switch the endpoint off and e-mail its owner, once however many deliveries give
    up together (only the update that finds it on queues the e-mail)."""
    session = db.session()
    try:
        reason = SWITCHED_OFF_REASON % {
            "when": f"{utcnow():%Y-%m-%d %H:%M}", "hours": app.config["WEBHOOK_RETRY_HOURS"],
            "error": error}
        switched = session.execute(update(Webhook).where(
            Webhook.id == job.hook_id, Webhook.enabled.is_(True)).values(
            enabled=False, disabled_reason=reason)
            .execution_options(synchronize_session=False)).rowcount == 1
        if switched:
            site = session.get(Site, job.site_id)
            to = outbox.Recipient(site.id, None, site.owner.email.lower(), site.default_lang)
            session.add(OutboxMessage(**outbox.new_row(
                "webhook_disabled", to, app.config["MAIL_FROM"]), webhook_id=job.hook_id))
        session.commit()
    finally:
        session.close()
    if switched:
        outbox.wake_event(app).set()
