"""Deliveries to e-mail services: the outbox rows of kind "sync" (core/events.py writes one
per enabled connector with each contact event; a backfill writes one per confirmed
contact), each turned into one call of the connector's service (connectors/base.py says
which), with the service's last answer kept on the row and the connector's last success
or error on the connector.

A 429 (or 503 with Retry-After) pauses the whole connector until the time the service
named: the row is due again then, and so are the connector's other queued rows that
were due sooner, so neither this worker nor another asks again before it, and the rows
keep their order. A Permanent error fails that one delivery (the service refused this
address); the others go on. Anything else backs off as e-mail does."""
from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import requests
from flask import Flask
from flask_babel import gettext
from sqlalchemy import and_, select, update

from widget.core import db, outbound, outbox, vault
from widget.core.said import stored
from widget.models import Connector, ContactTag, Event, OutboxMessage, Subscriber, utcnow
from widget.sync.connectors import SERVICES
from widget.sync.connectors.base import Conn, Contact, Permanent, Retry, Service, SyncError

ACTIONS = {"contact.confirmed": "upsert", "contact.updated": "upsert",
           "contact.unsubscribed": "unsubscribe", "contact.erased": "erase"}
BACKFILL = "backfill"  # the message_id prefix of a backfill's rows (they have no event)
_local = threading.local()  # HTTP sessions a thread: connections to a service are reused
# In this process, by (database, connector id): when the connector may be asked again,
# and when its last_ok_at was last written.
_paused: dict[tuple[str, int], datetime] = {}
_noted: dict[tuple[str, int], datetime] = {}
NOTE_OK = timedelta(seconds=5)
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


# What this module stores in English, shown translated in the dashboard (core/said.py)
WAITING = stored("waiting: the service asked us to slow down")
FOR_CONTACT = stored("%(reason)s (contact %(id)s)")
REMOVED = stored("the connector was removed")
SWITCHED_OFF = stored("the connector is switched off")
KEY_UNREADABLE = stored("the API key cannot be read (was WIDGET_SECRET_KEY changed?): connect the "
                        "service again")
UNKNOWN_SERVICE = stored("no service “%(name)s” here")
NOT_CONFIRMED = stored("the contact is not confirmed: only confirmed contacts go over")
ERASED = stored("the contact was erased before it was sent")
NO_LONGER_CONFIRMED = stored("the contact is no longer confirmed")
NO_ADDRESS = stored("the event names no address")


def _http(guarded: bool, allow_private: outbound.Allowed) -> requests.Session:
    """A plain session for the services' fixed hosts; the guarded one of core/outbound.py
    for an address the owner typed."""
    sessions = _local.__dict__.setdefault("sessions", {})
    which = (guarded, allow_private)
    if which not in sessions:
        sessions[which] = outbound.session(allow_private) if guarded else requests.Session()
    return sessions[which]


def connect(connector: Connector, allow_private: outbound.Allowed) -> tuple[Service, Conn]:
    """The connector's service and a Conn with its key opened (vault.Unreadable when
    it was sealed with another secret key)."""
    service = SERVICES[connector.service]
    key = vault.open_(connector.secret)
    settings = dict(connector.settings or {})
    http = _http(service.owner_host, allow_private)
    return service, Conn(service, key, settings, service.base_url(key, settings), http)


def sent_tags(settings: dict, tags) -> tuple[str, ...]:
    """The contact's tags the connector sends: all of them, none, or those chosen
    (settings["tags"]: absent or None for all, a list otherwise)."""
    chosen = settings.get("tags")
    return tuple(t for t in tags if chosen is None or t in chosen)


@dataclass(frozen=True)
class _Job:
    connector_id: int
    action: str
    service: Service
    conn: Conn
    contact: Contact


def deliver(app: Flask, message_id: int, worker: str) -> str:
    """Deliver one claimed "sync" row; returns its new status (sent, skipped, queued,
    failed). The caller renewed the lease."""
    engine, cfg = db.engine(), app.config
    job = _job(engine, message_id, worker, cfg["WEBHOOK_ALLOW_PRIVATE"])
    if isinstance(job, str):
        return job
    until = _paused.get(_key(engine, job.connector_id))
    if until is not None and until > utcnow():  # an earlier row was told to wait: so is this
        outbox.fail(engine, message_id, worker,
                    WAITING, permanent=False,
                    retry_seconds=0, max_attempts=0,
                    retry_after=(until - utcnow()).total_seconds())
        _pause(engine, job.connector_id, until)
        return "queued"
    try:
        getattr(job.service, job.action)(job.conn, job.contact)
    except SyncError as exc:
        answer = _answer(job.conn.last)
        _note(engine, job.connector_id, error=FOR_CONTACT % {
            "reason": exc.reason, "id": job.contact.id})
        if isinstance(exc, Retry):
            until = utcnow() + timedelta(seconds=exc.after_seconds)
            outbox.fail(engine, message_id, worker, exc.reason, permanent=False,
                        retry_seconds=0, max_attempts=0, retry_after=exc.after_seconds,
                        also=answer)
            _pause(engine, job.connector_id, until)
            return "queued"
        permanent = isinstance(exc, Permanent)
        outbox.fail(engine, message_id, worker, exc.reason, permanent=permanent,
                    retry_seconds=cfg["OUTBOX_RETRY_SECONDS"],
                    max_attempts=cfg["OUTBOX_MAX_ATTEMPTS"], also=answer)
        return "failed" if permanent else "queued"
    outbox.finish(engine, message_id, worker, "sent", also=_answer(job.conn.last))
    _note(engine, job.connector_id)
    return "sent"


def _job(engine, message_id: int, worker: str, allow_private: outbound.Allowed) -> _Job | str:
    """What to send, or the status the row got when there is nothing to send."""
    session = db.session()
    try:
        message = session.get(OutboxMessage, message_id)
        connector = (session.get(Connector, message.connector_id)
                     if message.connector_id else None)
        reason = (REMOVED if connector is None
                  else SWITCHED_OFF if not connector.enabled
                  else UNKNOWN_SERVICE % {"name": connector.service}
                  if connector.service not in SERVICES else None)
        if reason is None:
            action, contact, reason = _plan(session, message, connector)
        if reason:
            outbox.finish(engine, message_id, worker, "skipped", reason)
            return "skipped"
        try:
            service, conn = connect(connector, allow_private)
        except vault.Unreadable:
            error = KEY_UNREADABLE
            _note(engine, connector.id, error=error)
            outbox.fail(engine, message_id, worker, error, permanent=True, retry_seconds=0,
                        max_attempts=0)
            return "failed"
        return _Job(connector.id, action, service, conn, contact)
    finally:
        session.close()  # no transaction stays open while the service takes its time


def _plan(session, message: OutboxMessage, connector: Connector):
    """(action, Contact, None), or (None, None, why nothing goes to the service)."""
    if message.event_id is None:  # a backfill's row: the contact as they are now
        person = session.get(Subscriber, message.contact_id)
        if person is None:
            return None, None, ERASED
        if person.status != "confirmed":
            return None, None, NO_LONGER_CONFIRMED
        tags = session.scalars(select(ContactTag.tag).where(
            ContactTag.subscriber_id == person.id).order_by(ContactTag.tag))
        data, type_ = {"id": person.id, "email": person.email, "name": person.name,
                       "lang": person.lang, "tags": list(tags)}, BACKFILL
    else:
        event = session.get(Event, message.event_id)
        payload = json.loads(event.payload) if event else {}
        data, type_ = (payload.get("data") or {}).get("contact") or {}, payload.get("type")
        if not data.get("email"):
            return None, None, NO_ADDRESS
    action = "upsert" if type_ == BACKFILL else ACTIONS.get(type_)
    if action == "upsert" and type_ != BACKFILL and data.get("status") != "confirmed":
        return None, None, NOT_CONFIRMED
    if action is None:
        return None, None, f"{type_}: nothing to send (only confirmed contacts go over)"
    contact = Contact(id=int(data.get("id") or message.contact_id or 0), email=data["email"],
                      name=data.get("name"), lang=data.get("lang") or "en",
                      tags=sent_tags(connector.settings or {}, data.get("tags") or ()),
                      resubscribe=type_ == "contact.confirmed")
    return action, contact, None


def _key(engine, connector_id: int) -> tuple[str, int]:
    return str(engine.url), connector_id


def _answer(last: tuple[int | None, str]) -> dict:
    """The service's last answer (status, start of the body), kept on the delivery."""
    return {"response_status": last[0], "response": last[1].replace("\x00", "")}


def _note(engine, connector_id: int, error: str | None = None) -> None:
    """The connector's last success (at most every NOTE_OK seconds from one process: a
    backfill would otherwise write the connector's row once a delivery), or its last
    error with the time it happened."""
    now = utcnow()
    if error is None:
        if now - _noted.get(_key(engine, connector_id), EPOCH) < NOTE_OK:
            return
        _noted[_key(engine, connector_id)] = now
    values = ({"last_ok_at": now} if error is None
              else {"last_error": f"{now:%Y-%m-%d %H:%M} UTC: {error}"[:2000]})
    with engine.begin() as conn:
        conn.execute(update(Connector).where(Connector.id == connector_id).values(**values))


def _pause(engine, connector_id: int, until: datetime) -> None:
    """No request to this connector before `until`: the rest of this process's batch
    waits, and its queued rows due sooner are due exactly then, so the claim takes them
    in their order (the row just told to wait, due a moment later than `until` by the
    time fail() took, is set back to it: the service's time is in whole seconds)."""
    _paused[_key(engine, connector_id)] = until
    with engine.begin() as conn:
        conn.execute(update(OutboxMessage).where(and_(
            OutboxMessage.connector_id == connector_id, OutboxMessage.status == "queued",
            OutboxMessage.next_attempt_at < until + timedelta(seconds=1)))
            .values(next_attempt_at=until))


def try_connection(connector: Connector, allow_private: outbound.Allowed) -> tuple[bool, str]:
    """The connector's "test connection": (worked, a sentence for the owner)."""
    try:
        service, conn = connect(connector, allow_private)
        return True, service.test(conn)
    except vault.Unreadable:
        return False, gettext("The stored key cannot be read (the secret key changed): "
                              "enter it again.")
    except SyncError as exc:
        return False, gettext("The test failed: %(reason)s", reason=exc.reason)

