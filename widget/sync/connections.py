"""A site's connections to e-mail services: connect (or change) with a key kept sealed,
disconnect, the backfill of existing confirmed contacts with its progress, and what
each service last heard about one contact.

A backfill queues one "sync" row per confirmed contact, in one INSERT … SELECT in id
order (one transaction: it is queued whole or not at all), each with no event: the
worker sends the contact as they are when it gets there (sync/sync.py), so a contact
changed or erased meanwhile goes over as they are then, or not at all. Its rows carry
the message_id "backfill:<connector>:<token>", which the progress counts; the worker's
leases and back-off make it resumable, and one runs at a time per connector."""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import DateTime, Integer, String, delete, func, insert, literal, select
from sqlalchemy.orm import Session

from widget.core import vault
from widget.models import Connector, OutboxMessage, Subscriber, utcnow
from widget.sync.connectors import SERVICES
from widget.sync.connectors.base import Invalid, Service
from widget.sync.sync import BACKFILL

DONE = ("sent", "failed", "skipped")
# Settings no form shows, kept when the owner saves: an operator's base URL override
# (vendor hosts only; docs/connectors.md) and the current backfill.
KEPT = ("base_url", "backfill")


def listed(session: Session, site_id: str) -> dict[str, Connector]:
    """The site's connectors by service."""
    return {c.service: c for c in session.scalars(
        select(Connector).where(Connector.site_id == site_id))}


def save(session: Session, site_id: str, service: Service, key: str, typed: dict,
         tags: list[str] | None) -> Connector:
    """Connect the site to `service`, or change its connection: `key` blank keeps the
    stored one; `tags` None sends all tags, a list only those. Raises Invalid naming
    the field. Commits."""
    row = listed(session, site_id).get(service.name)
    key = key.strip()
    if not key and row is not None:
        try:
            key = vault.open_(row.secret)
        except vault.Unreadable:
            raise Invalid("api_key", "The stored key cannot be read any more: enter it "
                                     "again.") from None
    settings = service.clean(key, typed)
    old = dict(row.settings or {}) if row is not None else {}
    settings.update({name: old[name] for name in KEPT
                     if name in old and not any(f.name == name for f in service.fields)})
    settings["tags"] = tags
    if row is None:
        row = Connector(site_id=site_id, service=service.name, backfill_total=0,
                        enabled=True, created_at=utcnow())
        session.add(row)
    row.secret, row.settings = vault.seal(key), settings
    session.commit()
    return row


def disconnect(session: Session, connector: Connector) -> None:
    """Remove the connection, its sealed key and its deliveries still queued (the
    outbox rows go with it). Commits."""
    session.execute(delete(Connector).where(Connector.id == connector.id)
                    .execution_options(synchronize_session=False))
    session.commit()


@dataclass(frozen=True)
class Progress:
    """How far the connector's last backfill is: deliveries done of its total."""
    done: int
    total: int

    @property
    def running(self) -> bool:
        return self.done < self.total


def progress(session: Session, connector: Connector) -> Progress:
    """The last backfill's progress (0 of 0 when there was none)."""
    token = (connector.settings or {}).get("backfill")
    if not token:
        return Progress(0, 0)
    done = session.scalar(select(func.count(OutboxMessage.id)).where(
        OutboxMessage.connector_id == connector.id, OutboxMessage.message_id == token,
        OutboxMessage.status.in_(DONE)))
    return Progress(done, connector.backfill_total)


def backfill(session: Session, connector: Connector) -> Progress | None:
    """Queue one delivery per confirmed contact of the site, in id order; None (and
    nothing queued) while the last backfill still runs. Commits."""
    if progress(session, connector).running:
        return None
    token = f"{BACKFILL}:{connector.id}:{secrets.token_hex(8)}"
    now = utcnow()
    values = {"site_id": literal(connector.site_id, String), "kind": literal("sync", String),
              "mailbox": literal("", String), "lang": literal("", String),
              "status": literal("queued", String), "attempts": literal(0, Integer),
              "next_attempt_at": literal(now, DateTime(timezone=True)),
              "created_at": literal(now, DateTime(timezone=True)),
              "message_id": literal(token, String),
              "connector_id": literal(connector.id, Integer)}
    rows = (select(*values.values(), Subscriber.id)
            .where(Subscriber.site_id == connector.site_id, Subscriber.status == "confirmed")
            .order_by(Subscriber.id))
    session.execute(insert(OutboxMessage).from_select([*values, "contact_id"], rows))
    # counted, not the statement's rowcount: psycopg reports none for INSERT … SELECT
    total = session.scalar(select(func.count(OutboxMessage.id)).where(
        OutboxMessage.connector_id == connector.id, OutboxMessage.message_id == token))
    connector.settings = {**(connector.settings or {}), "backfill": token}
    connector.backfill_total = total
    session.commit()
    return Progress(0, total)


@dataclass(frozen=True)
class State:
    """A service's last delivery about one contact."""
    service: str
    label: str
    status: str  # queued, sending, sent, failed, skipped
    at: datetime  # when it was sent; else queued, or (queued) when it is tried next
    error: str | None
    response_status: int | None


def contact_state(session: Session, site_id: str, contact_id: int) -> list[State]:
    """Per connector of the site, its last delivery about the contact (none: left out)."""
    found = []
    for connector in listed(session, site_id).values():
        row = session.scalars(select(OutboxMessage).where(
            OutboxMessage.connector_id == connector.id,
            OutboxMessage.contact_id == contact_id)
            .order_by(OutboxMessage.id.desc()).limit(1)).first()
        if row is not None:
            at = (row.sent_at or (row.next_attempt_at if row.status == "queued"
                                  else row.created_at))
            service = SERVICES.get(connector.service)
            found.append(State(connector.service, service.label if service else
                               connector.service, row.status, at, row.last_error,
                               row.response_status))
    return found
