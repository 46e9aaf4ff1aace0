"""Signed webhooks: endpoints of the owner's that receive the site's events, signed per
Standard Webhooks (https://www.standardwebhooks.com/): the headers webhook-id (the
event's msg_… id, the same on every attempt, for de-duplication), webhook-timestamp
(of the attempt, in seconds) and webhook-signature ("v1," + base64 HMAC-SHA256 of
"{id}.{timestamp}.{body}" keyed with the secret after "whsec_", base64-decoded).

Each delivery is an outbox row of kind "webhook" (core/events.py writes them with the
change), so the worker's claim, lease and back-off carry it: a 2xx answer is sent;
anything else, a network error or a timeout is tried again with back-off until the
delivery is WEBHOOK_RETRY_HOURS old, when the endpoint is switched off and its owner
e-mailed. An address the SSRF guard refuses (core/outbound.py) fails at once: nothing
is sent, and the delivery log says why. "Send a test event" queues an event of type
webhook.test for one endpoint only (it is no site event, so not in events.TYPES), tried
once; "send again" queues a failed delivery again with a fresh retry window."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import timedelta, timezone
from urllib.parse import urlsplit

import requests
from flask import Flask
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from widget.core import db, events, outbound, outbox, vault
from widget.core.rawsql import as_datetime
from widget.models import Event, OutboxMessage, Site, Webhook, utcnow

SECRET_PREFIX = "whsec_"
MAX_URL = 2048
MAX_DESCRIPTION = 200
MAX_PER_SITE = 10  # each event is one row per endpoint: keep the fan-out small
EXCERPT = 1024  # characters of the receiver's answer kept for the delivery log
TEST_TYPE = "webhook.test"
USER_AGENT = "reciprocity-widgets-webhooks/1"
# Retries end by time (WEBHOOK_RETRY_HOURS), not by a count of attempts.
NO_ATTEMPT_LIMIT = 2 ** 31 - 1
_local = threading.local()  # one guarded session a thread: connections are reused


class Invalid(ValueError):
    """What the owner typed cannot make a webhook: `code` and `field` for the API's
    error, the message for people."""

    def __init__(self, code: str, field: str | None, message: str, status: int = 422):
        super().__init__(message)
        self.code, self.field, self.status = code, field, status


@dataclass(frozen=True)
class Made:
    """A new webhook and its secret in clear, shown this once."""
    row: Webhook
    secret: str


def clean_url(value) -> str:
    """An endpoint URL: http(s), a host, no user or password in it, at most 2048
    characters. Whether its address may be reached is checked when sending."""
    url = value.strip() if isinstance(value, str) else ""
    if not url:
        raise Invalid("missing_field", "url", "Give the URL that should receive events.")
    if len(url) > MAX_URL:
        raise Invalid("too_long", "url", f"The URL is longer than {MAX_URL} characters.")
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in url):
        raise Invalid("invalid_url", "url", "The URL holds a space or a control character.")
    try:
        parts = urlsplit(url)
        parts.port  # a port that is no number raises ValueError here
    except ValueError:
        raise Invalid("invalid_url", "url", "That is not a URL.") from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise Invalid("invalid_url", "url", "Use an http:// or https:// URL with a host.")
    if parts.username is not None or parts.password is not None:
        raise Invalid("invalid_url", "url", "Leave user names and passwords out of the URL: "
                      "the signature proves each request is ours.")
    return url


def clean_events(value) -> str:
    """The event types a webhook takes as stored: a comma list in TYPES' order, '' for
    all of them (None or an empty list)."""
    if value is None:
        return ""
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise Invalid("invalid_type", "events", "'events' must be a list of event types.",
                      status=400)
    unknown = [v for v in value if v not in events.TYPES]
    if unknown:
        raise Invalid("invalid_event", "events", f"Unknown event type '{unknown[0][:40]}': "
                      f"use {', '.join(events.TYPES)}.")
    return ",".join(t for t in events.TYPES if t in value)


def types_of(hook: Webhook) -> list[str]:
    """The event types a webhook takes; an empty list means all of them."""
    return hook.events.split(",") if hook.events else []


def new_secret() -> str:
    """A signing secret as Standard Webhooks writes them: whsec_ + base64 of 24 bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()


def create(session: Session, site_id: str, url, types, description=None) -> Made:
    """Check and store a new webhook for the site (committed); its secret is kept
    encrypted and returned in clear this once."""
    url, types = clean_url(url), clean_events(types)
    if description is not None and not isinstance(description, str):
        raise Invalid("invalid_type", "description", "'description' must be a string.",
                      status=400)
    description = (description or "").strip() or None
    if description and len(description) > MAX_DESCRIPTION:
        raise Invalid("too_long", "description",
                      f"Keep the description under {MAX_DESCRIPTION} characters.")
    count = session.scalar(select(func.count(Webhook.id)).where(Webhook.site_id == site_id))
    if count >= MAX_PER_SITE:
        raise Invalid("too_many_webhooks", None, f"A site has at most {MAX_PER_SITE} "
                      "webhooks: delete one first.", status=409)
    secret = new_secret()
    row = Webhook(site_id=site_id, url=url, events=types, description=description,
                  secret=vault.seal(secret), enabled=True, created_at=utcnow())
    session.add(row)
    session.commit()
    return Made(row, secret)


def listed(session: Session, site_id: str) -> list[Webhook]:
    """The site's webhooks, oldest first."""
    return list(session.scalars(select(Webhook).where(Webhook.site_id == site_id)
                                .order_by(Webhook.created_at, Webhook.id)))


def delete(session: Session, hook: Webhook) -> None:
    """Remove a webhook with its deliveries (committed); its events stay for others."""
    session.delete(hook)
    session.commit()


def enable(session: Session, hook: Webhook) -> bool:
    """Switch an endpoint on again (committed); False if it was on. Deliveries that
    failed meanwhile stay failed: "send again" queues each."""
    if hook.enabled:
        return False
    hook.enabled, hook.disabled_reason = True, None
    session.commit()
    return True


def send_test(session: Session, hook: Webhook) -> OutboxMessage:
    """Queue a webhook.test event for this endpoint alone (committed; wake the worker)."""
    now = utcnow()
    public_id = f"msg_{secrets.token_urlsafe(18)}"
    payload = {"type": TEST_TYPE, "version": events.VERSION, "id": public_id,
               "timestamp": now.strftime("%Y-%m-%dT%H:%M:%SZ"), "site": hook.site_id,
               "data": {"webhook": {"id": hook.id, "url": hook.url}}}
    event = Event(public_id=public_id, site_id=hook.site_id, type=TEST_TYPE,
                  payload=json.dumps(payload, ensure_ascii=False, separators=(",", ":")),
                  created_at=now)
    session.add(event)
    session.flush()
    row = OutboxMessage(site_id=hook.site_id, kind="webhook", mailbox="", lang="",
                        status="queued", attempts=0, next_attempt_at=now, created_at=now,
                        message_id=public_id, event_id=event.id, webhook_id=hook.id)
    session.add(row)
    session.commit()
    return row


def send_again(session: Session, hook: Webhook, delivery_id: int) -> bool:
    """Queue a failed delivery of this endpoint again, due now with a fresh retry
    window (committed); False if it is no failed delivery of this endpoint."""
    mine = (OutboxMessage.id == delivery_id, OutboxMessage.webhook_id == hook.id,
            OutboxMessage.kind == "webhook", OutboxMessage.status == "failed")
    if session.scalar(select(OutboxMessage.id).where(*mine)) is None:
        return False
    # The retry window starts again now; outbox.retry commits this with the re-queue.
    session.execute(update(OutboxMessage).where(*mine).values(created_at=utcnow())
                    .execution_options(synchronize_session=False))
    return outbox.retry(session, delivery_id)


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The webhook-signature header's value for one attempt (Standard Webhooks, v1)."""
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    signed = f"{msg_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def signed_headers(secret: str, msg_id: str, timestamp: int, body: bytes) -> dict:
    """The request headers of one attempt: the three signature headers and the type."""
    return {"webhook-id": msg_id, "webhook-timestamp": str(timestamp),
            "webhook-signature": sign(secret, msg_id, timestamp, body),
            "Content-Type": "application/json", "User-Agent": USER_AGENT}


@dataclass(frozen=True)
class _Job:
    """What one attempt needs, read before the database connection is given back."""
    hook_id: int
    site_id: str
    url: str
    secret: str
    msg_id: str
    body: bytes
    test: bool
    since: object  # the start of the retry window: when the delivery was (re)queued


def deliver(app: Flask, message_id: int, worker: str) -> str:
    """Deliver one claimed "webhook" row; returns its new status (sent, queued, failed,
    skipped). The caller renewed the lease."""
    engine, cfg = db.engine(), app.config
    job = _job(engine, message_id, worker)
    if isinstance(job, str):
        return job
    stamp = int(time.time())
    try:
        answer = outbound.post(_http(cfg["WEBHOOK_ALLOW_PRIVATE"]), job.url, job.body,
                               signed_headers(job.secret, job.msg_id, stamp, job.body))
    except outbound.Refused as exc:
        return _failed(engine, message_id, worker, f"not sent: {exc}")
    except requests.RequestException as exc:
        error = _network_error(exc)
    else:
        _record(engine, message_id, worker, answer)
        if 200 <= answer.status < 300:
            outbox.finish(engine, message_id, worker, "sent")
            return "sent"
        error = f"the endpoint answered HTTP {answer.status}"
    if job.test:  # the owner is watching the log: one attempt, then "send again"
        return _failed(engine, message_id, worker, error)
    hours = cfg["WEBHOOK_RETRY_HOURS"]
    if utcnow() - job.since >= timedelta(hours=hours):
        _give_up(app, job, hours, error)
        return _failed(engine, message_id, worker, f"gave up after {hours} hours: {error}")
    outbox.fail(engine, message_id, worker, error, permanent=False,
                retry_seconds=cfg["OUTBOX_RETRY_SECONDS"], max_attempts=NO_ATTEMPT_LIMIT)
    return "queued"


def _job(engine, message_id: int, worker: str) -> _Job | str:
    """The attempt's inputs, or the status the row got when there is nothing to send."""
    session = db.session()
    try:
        message = session.get(OutboxMessage, message_id)
        hook = session.get(Webhook, message.webhook_id) if message.webhook_id else None
        event = session.get(Event, message.event_id) if message.event_id else None
        if hook is None or event is None:
            outbox.finish(engine, message_id, worker, "skipped", "the webhook was deleted")
            return "skipped"
        test = event.type == TEST_TYPE
        if not hook.enabled and not test:
            return _failed(engine, message_id, worker, "not sent: the endpoint is switched off")
        try:
            secret = vault.open_(hook.secret)
        except vault.Unreadable:
            return _failed(engine, message_id, worker, "not sent: the signing secret cannot be "
                           "read (was WIDGET_SECRET_KEY changed?)")
        return _Job(hook.id, hook.site_id, hook.url, secret, event.public_id,
                    event.payload.encode(), test,
                    as_datetime(message.created_at).astimezone(timezone.utc))
    finally:
        session.close()  # no transaction stays open while the receiver takes its time


def _http(allow_private: bool) -> requests.Session:
    sessions = _local.__dict__.setdefault("sessions", {})
    if allow_private not in sessions:
        sessions[allow_private] = outbound.session(allow_private)
    return sessions[allow_private]


def _network_error(exc: requests.RequestException) -> str:
    """A network error in a few words: the OS's reason when there is one."""
    if isinstance(exc, requests.Timeout):
        return f"no answer within {outbound.TIMEOUT} seconds"
    cause = exc
    while cause is not None:
        if isinstance(cause, OSError) and cause.strerror:
            return f"could not connect: {cause.strerror}"
        cause = cause.__cause__ or cause.__context__
    return f"could not connect ({type(exc).__name__})"


def _record(engine, message_id: int, worker: str, answer: outbound.Answer) -> None:
    """Keep the receiver's status and the start of its answer on the delivery."""
    excerpt = answer.body[:EXCERPT * 4].decode("utf-8", errors="replace")[:EXCERPT]
    with engine.begin() as conn:
        conn.execute(update(OutboxMessage).where(
            OutboxMessage.id == message_id, OutboxMessage.claimed_by == worker,
            OutboxMessage.status == "sending").values(
            response_status=answer.status, response=excerpt.replace("\x00", "")))


def _failed(engine, message_id: int, worker: str, error: str) -> str:
    outbox.fail(engine, message_id, worker, error, permanent=True, retry_seconds=0,
                max_attempts=NO_ATTEMPT_LIMIT)
    return "failed"


def _give_up(app: Flask, job: _Job, hours, error: str) -> None:
    """Switch the endpoint off and e-mail its owner, once however many deliveries give
    up together (only the update that finds it on queues the e-mail)."""
    session = db.session()
    try:
        reason = (f"Switched off on {utcnow():%Y-%m-%d %H:%M} UTC: deliveries failed for "
                  f"{hours} hours (last: {error}).")
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
