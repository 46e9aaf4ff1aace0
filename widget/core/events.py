"""Events: what happened on a site, written in the transaction of the change that
causes it, with one outbox row per receiver (each enabled webhook that takes the type,
and for contact events each enabled connector), so the outbox worker delivers them
with its claim, lease and back-off, and a crash between the change and the delivery
loses nothing.

A site with no receiver for a type pays one indexed look-up per event of it and stores
nothing.
The payload (docs/events.md) is versioned:
{"type", "version": 1, "id": "msg_…" (also the webhook-id), "timestamp", "site", "data"}."""
from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from datetime import datetime, timezone

from widget.core.rawsql import Tx

VERSION = 1
CONTACT_TYPES = ("contact.created", "contact.confirmed", "contact.unsubscribed",
                 "contact.updated", "contact.erased")
TYPES = (*CONTACT_TYPES, "gift.given", "gift.downloaded", "referral.counted",
         "milestone.reached", "story.submitted", "letter.sent")

# A webhook's `events` is a comma list, empty for all types.
TAKES = "(events = '' OR ',' || events || ',' LIKE :pattern)"
RECEIVERS = f"""
SELECT (SELECT count(*) FROM webhooks WHERE site_id = :site_id AND enabled = :yes
        AND {TAKES}),
       (SELECT count(*) FROM connectors WHERE site_id = :site_id AND enabled = :yes)"""

EVENT = """
INSERT INTO events (public_id, site_id, type, contact_id, payload, created_at)
VALUES (:public_id, :site_id, :type, :contact_id, :payload, :now) RETURNING id"""

# One delivery per receiver.
DELIVERIES = """
INSERT INTO outbox (site_id, kind, mailbox, lang, status, attempts, next_attempt_at,
                    created_at, message_id, event_id, {receiver}, contact_id)
SELECT site_id, :kind, '', '', 'queued', 0, :now, :now, :public_id, :event_id, id,
       :contact_id
FROM {table} WHERE site_id = :site_id AND enabled = :yes {only}"""
TO_WEBHOOKS = DELIVERIES.format(
    receiver="webhook_id", table="webhooks",
    only=f"AND {TAKES}")
TO_CONNECTORS = DELIVERIES.format(receiver="connector_id", table="connectors", only="")

CONTACT = """
SELECT id, email, name, status, lang, created_at FROM subscribers WHERE id = :id"""
TAGS = "SELECT tag FROM contact_tags WHERE subscriber_id = :id ORDER BY tag"


def receivers(tx: Tx, site_id: str, type_: str):
    """Ask how many receivers the site has for `type_`; emit(asked=) reads the answer. A
    writer asks early, so the question travels with its other statements (rawsql.write
    pipelines them on PostgreSQL) instead of waiting alone."""
    return tx.run(RECEIVERS, site_id=site_id, yes=True, pattern=f"%,{type_},%")


def emit(tx: Tx, site_id: str, type_: str, data: dict | Callable[[], dict],
         contact_id: int | None = None, now: datetime | None = None, asked=None) -> bool:
    """Record an event and queue its deliveries in `tx` (the caller commits). `data` may
    be a function, called only when the site has receivers; `asked`: receivers()'s
    answer, when asked early. Returns whether anything was queued."""
    assert type_ in TYPES, type_
    hooks, connectors = (asked or receivers(tx, site_id, type_)).fetchone()
    connectors = connectors if type_ in CONTACT_TYPES and contact_id is not None else 0
    if not hooks and not connectors:
        return False
    now = now or datetime.now(timezone.utc)
    public_id = f"msg_{secrets.token_urlsafe(18)}"
    body = {"type": type_, "version": VERSION, "id": public_id,
            "timestamp": now.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "site": site_id, "data": data() if callable(data) else data}
    ids = {"site_id": site_id, "public_id": public_id, "contact_id": contact_id, "now": now}
    event_id = tx.one(EVENT, **ids, type=type_,
                      payload=json.dumps(body, ensure_ascii=False, separators=(",", ":")))[0]
    if hooks:
        tx.run(TO_WEBHOOKS, **ids, event_id=event_id, kind="webhook", yes=True,
               pattern=f"%,{type_},%")
    if connectors:
        tx.run(TO_CONNECTORS, **ids, event_id=event_id, kind="sync", yes=True)
    return True


def listening(tx: Tx, site_id: str) -> bool:
    """Whether the site has any receiver: a bulk writer (an import) asks once a batch
    instead of once a row."""
    return any(tx.one(RECEIVERS, site_id=site_id, yes=True, pattern="%"))


def contact(tx: Tx, subscriber_id: int) -> dict:
    """A contact as events carry it: id, email, name, status, lang, tags, created_at."""
    row = tx.one(CONTACT, id=subscriber_id)
    if row is None:
        return {"id": subscriber_id}
    tags = [tag for (tag,) in tx.run(TAGS, id=subscriber_id).fetchall()]
    created = row[5] if isinstance(row[5], datetime) else datetime.fromisoformat(row[5])
    if created.tzinfo is None:
        created = created.replace(tzinfo=timezone.utc)
    return {"id": row[0], "email": row[1], "name": row[2], "status": row[3], "lang": row[4],
            "tags": tags,
            "created_at": created.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")}


def about_contact(tx: Tx, site_id: str, type_: str, subscriber_id: int,
                  now: datetime | None = None, asked=None) -> bool:
    """emit() a contact event whose data is the contact as it is now in `tx`."""
    return emit(tx, site_id, type_, lambda: {"contact": contact(tx, subscriber_id)},
                subscriber_id, now, asked)
