"""The outbox: rows written with the change that causes a message, claimed by workers.

Claiming reads the ids of the soonest due rows, then takes them with one UPDATE …
RETURNING whose materialized CTE skips rows other workers hold (FOR UPDATE SKIP LOCKED on
PostgreSQL; SQLite runs one writer at a time), so two workers never hold the same row and
each takes at most one batch. A claim is a lease: if its worker dies, the row becomes due
again when the lease ends.
"""
from __future__ import annotations

import logging
import random
import secrets
import threading
import time
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import Flask
from sqlalchemy import and_, bindparam, exists, func, or_, select, text, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session, aliased

from widget.core import rawsql
from widget.core.rawsql import Tx
from widget.core.said import stored
from widget.models import OutboxMessage as OB
from widget.models import utcnow

# E-mails; "referral": no e-mail but the due time of a referral's waiting period, which
# the worker settles; "webhook" and "sync": an event's delivery to a webhook or a
# connector (core/events.py); "webhook_disabled": the e-mail telling a site's owner that
# an endpoint was switched off; "password_reset" and "email_change" (to the new address,
# kept in body): to an owner about their account (no site: owner_id instead); "invite":
# to a person invited to a site's team (the address in body; owner_id: who invited);
# "letter": new posts to a reader (letter_id), "letter_test": the same to an owner. The
# outbox is the one durable queue of outbound work.
NOT_MAIL = ("referral", "webhook", "sync")
KINDS = ("confirm", "welcome", "gift", "followup", "reward", "story_thanks", "story_reply",
         "referral", "webhook", "sync", "webhook_disabled", "password_reset", "email_change",
         "invite", "letter", "letter_test")
log = logging.getLogger(__name__)
# the error stored when our own code failed on a row (the log has the traceback)
INTERNAL = stored("internal error while sending")
MAX_BACKOFF = 3600  # seconds
COLUMNS = ("site_id", "subscriber_id", "kind", "mailbox", "lang", "status", "attempts",
           "next_attempt_at", "created_at", "message_id", "grant_id", "story_id", "referral_id",
           "body")
QUEUE = (f"INSERT INTO outbox ({', '.join(COLUMNS)}) "
         f"VALUES ({', '.join(':' + c for c in COLUMNS)})")


@dataclass(frozen=True)
class Recipient:
    """Whom a queued message goes to: a subscriber of a site (or, for a story's
    thank-you, the storyteller: no subscriber), in their language."""
    site_id: str | None  # None: an owner's account mail
    subscriber_id: int | None
    email_normalized: str
    lang: str


def mailbox_of(email_normalized: str) -> str:
    """The address without a +tag: a+1@x and a+2@x reach one mailbox."""
    local, _, domain = email_normalized.rpartition("@")
    return f"{local.split('+', 1)[0]}@{domain}"


def new_row(kind: str, to: Recipient, mail_from: str, grant_id: int | None = None,
            due: datetime | None = None, story_id: int | None = None,
            referral_id: int | None = None, body: str | None = None) -> dict:
    """The column values of a queued message, due now or at `due` (a follow-up days
    later), about a grant, a story or a referral; its Message-ID is fixed here, so every
    attempt carries the same one."""
    assert kind in KINDS, kind
    now = utcnow()
    domain = mail_from.rpartition("@")[2] or "localhost"
    return {"site_id": to.site_id, "subscriber_id": to.subscriber_id, "kind": kind,
            "mailbox": mailbox_of(to.email_normalized), "lang": to.lang, "status": "queued",
            "attempts": 0, "next_attempt_at": due or now, "created_at": now,
            "message_id": f"<{secrets.token_hex(16)}@{domain}>", "grant_id": grant_id,
            "story_id": story_id, "referral_id": referral_id, "body": body}


def add_for_owner(session: Session, kind: str, owner, lang: str, mail_from: str,
                  to: str | None = None) -> OB:
    """Queue a message to an owner about their account (no site) in the session's
    transaction (the caller commits); `to`: another address than theirs (a new one)."""
    row = OB(**new_row(kind, Recipient(None, None, (to or owner.email).lower(), lang),
                       mail_from, body=to), owner_id=owner.id)
    session.add(row)
    return row


def recipient(subscriber) -> Recipient:
    """The Recipient of a Subscriber row."""
    return Recipient(subscriber.site_id, subscriber.id, subscriber.email_normalized,
                     subscriber.lang)


def queue(tx: Tx, kind: str, to: Recipient, mail_from: str, grant_id: int | None = None,
          due: datetime | None = None, story_id: int | None = None,
          referral_id: int | None = None, body: str | None = None) -> None:
    """Queue a message in the transaction of `tx` (the caller commits)."""
    tx.run(QUEUE, **new_row(kind, to, mail_from, grant_id, due, story_id, referral_id, body))


def add(session: Session, kind: str, subscriber, mail_from: str) -> OB:
    """Queue a message to `subscriber` in the session's transaction (the caller commits)."""
    row = OB(**new_row(kind, recipient(subscriber), mail_from))
    session.add(row)
    return row


def confirmations_since(session: Session, email_normalized: str, hours: int = 24) -> int:
    """Confirmation e-mails queued to this mailbox in the last `hours`, across all sites
    (locked on PostgreSQL, see sent_since)."""
    return sent_since(session, email_normalized, "confirm", hours)


def sent_since(session: Session, email_normalized: str, kind: str, hours: int = 24) -> int:
    """Messages of `kind` queued to this mailbox in the last `hours`, across all sites.

    On PostgreSQL this takes the mailbox's transaction lock first (as the sign-up path
    does), so concurrent requests count one after another and a cap holds."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:mailbox))"),
                        {"mailbox": mailbox_of(email_normalized)})
    return session.scalar(select(func.count(OB.id)).where(
        OB.mailbox == mailbox_of(email_normalized), OB.kind == kind,
        OB.created_at > utcnow() - timedelta(hours=hours)))


KINDS_IN_ORDER = ("webhook", "sync")  # deliveries about one contact keep their order
_EARLIER = aliased(OB)


def _due(now):
    due = or_(and_(OB.status == "queued", OB.next_attempt_at <= now),
              and_(OB.status == "sending", OB.lease_until < now))
    # An event about a contact waits while an earlier one about them to the same
    # receiver is still to be delivered (queued, being retried, or being sent).
    earlier = exists().where(
        _EARLIER.contact_id == OB.contact_id, _EARLIER.id < OB.id,
        _EARLIER.status.in_(("queued", "sending")),
        or_(and_(OB.webhook_id.is_not(None), _EARLIER.webhook_id == OB.webhook_id),
            and_(OB.connector_id.is_not(None), _EARLIER.connector_id == OB.connector_id)))
    return and_(due, or_(OB.contact_id.is_(None), ~earlier))


WINDOW = 4  # a claim looks first at this many times `limit` of the soonest due rows


def claim(engine: Engine, worker: str, limit: int, lease_seconds: int) -> list[int]:
    """Take up to `limit` due messages for `worker`; returns their ids.

    The per-contact order check (`_due`) costs a look-up per row it is asked about, so
    it is asked about a window: the soonest WINDOW * limit queued rows (read in order
    from the (status, next_attempt_at) index) and the rows whose lease ran out. Only
    when the window is full and still yields too few (one contact's many events, each
    waiting for the one before) does the claim look at every due row."""
    now = utcnow()
    size = WINDOW * limit
    with engine.begin() as conn:
        window = conn.scalars(
            select(OB.id).where(OB.status == "queued", OB.next_attempt_at <= now)
            .order_by(OB.next_attempt_at, OB.id).limit(size)).all()
        window += conn.scalars(select(OB.id).where(OB.status == "sending", OB.lease_until < now)
                               .limit(size)).all()
        if not window:
            return []
        taken = conn.scalars(_claiming(worker, limit, lease_seconds, now,
                                       OB.id.in_(window))).all()
        if len(taken) < limit and len(window) >= size:
            taken += conn.scalars(_claiming(worker, limit - len(taken), lease_seconds,
                                            now, OB.id.not_in(taken))).all()
    return sorted(taken)


def _claiming(worker: str, limit: int, lease_seconds: int, now: datetime, among):
    # A materialized CTE runs once. As a plain IN (subquery), PostgreSQL may re-run the
    # locking subquery for every row it updates, each run seeing the rows just claimed
    # as no longer due and locking the next ones: one worker then took all of them.
    due = (select(OB.id).where(among, _due(now)).order_by(OB.next_attempt_at, OB.id)
           .limit(limit).with_for_update(skip_locked=True).cte("due")
           .prefix_with("MATERIALIZED"))
    return (update(OB).where(OB.id.in_(select(due.c.id)), _due(now))
            .values(status="sending", claimed_by=worker, attempts=OB.attempts + 1,
                    lease_until=now + timedelta(seconds=lease_seconds))
            .returning(OB.id))


def _mine(message_id: int, worker: str):
    return and_(OB.id == message_id, OB.claimed_by == worker, OB.status == "sending")


def renew(engine: Engine, message_id: int, worker: str, lease_seconds: int) -> bool:
    """Start a fresh lease on one message of this worker's batch just before working on
    it. False when the worker no longer holds it: the batch's earlier messages outlasted
    the lease and another worker took this one over (it may even be sent already)."""
    with engine.begin() as conn:
        renewed = conn.execute(update(OB).where(_mine(message_id, worker)).values(
            lease_until=utcnow() + timedelta(seconds=lease_seconds)))
        return renewed.rowcount == 1


def _begin(bind: Engine | Connection):
    """A transaction of its own on an engine; on a connection, the caller's."""
    return bind.begin() if isinstance(bind, Engine) else nullcontext(bind)


def finish(engine: Engine | Connection, message_id: int, worker: str, status: str,
           error: str | None = None, also: dict | None = None) -> None:
    """Mark a claimed message sent or skipped (only while this worker still holds it);
    `also`: more columns written with it (a receiver's answer). On a connection, in
    its transaction (several outcomes in one)."""
    values = {"status": status, "lease_until": None, "last_error": error, **(also or {})}
    if status == "sent":
        values["sent_at"] = utcnow()
    with _begin(engine) as conn:
        conn.execute(update(OB).where(_mine(message_id, worker)).values(**values))


def write_many(conn: Connection, worker: str, rows: dict[int, dict], **same) -> None:
    """Write columns of many messages this worker still holds, in the caller's
    transaction. `rows`: message id → its own values, the same columns for each; `same`:
    values for all. Messages given the same values (a letter's readers of one language,
    mail skipped for one reason) share one statement; the rest go as one statement run
    once per message (executemany: one round trip)."""
    alike: dict[tuple, list[int]] = {}
    for message_id, own in rows.items():
        alike.setdefault(tuple(own.items()), []).append(message_id)
    single = {}
    for values, ids in alike.items():
        if len(ids) == 1:
            single[ids[0]] = dict(values)
            continue
        conn.execute(update(OB).where(OB.id.in_(ids), OB.claimed_by == worker,
                                      OB.status == "sending").values(**same, **dict(values)))
    if not single:
        return
    columns = next(iter(single.values())).keys()
    stmt = (update(OB).where(OB.id == bindparam("row_id"), OB.claimed_by == worker,
                             OB.status == "sending")
            .values(**same, **{c: bindparam(f"new_{c}") for c in columns}))
    conn.execute(stmt, [{"row_id": message_id, **{f"new_{c}": v for c, v in own.items()}}
                        for message_id, own in single.items()])


def finish_sent(conn: Connection, worker: str, answers: dict[int, dict]) -> None:
    """finish(…, "sent") for many messages in one statement, in the caller's transaction.
    `answers`: message id → the columns written with it (a receiver's answer)."""
    write_many(conn, worker, answers, status="sent", lease_until=None, last_error=None,
               sent_at=utcnow())


class Lease:
    """A claimed batch's lease, kept fresh for the messages not yet worked on: once a
    third of it has passed, one UPDATE renews them all (a renewal a message would make
    the batch's sending as slow as a round trip each)."""

    def __init__(self, engine: Engine, worker: str, ids: list[int], seconds: int):
        self.engine, self.worker, self.seconds = engine, worker, seconds
        self.pending, self.renewed = set(ids), time.monotonic()  # the claim's own lease

    def holds(self, message_id: int) -> bool:
        """Whether this worker still holds `message_id`, about to work on it (then it is
        no longer pending). False: the batch outlasted the lease and another worker took
        it over (it may even be sent already)."""
        if time.monotonic() - self.renewed > self.seconds / 3 and self.pending:
            with self.engine.begin() as conn:
                self.pending = set(conn.scalars(
                    update(OB).where(OB.id.in_(self.pending), OB.claimed_by == self.worker,
                                     OB.status == "sending")
                    .values(lease_until=utcnow() + timedelta(seconds=self.seconds))
                    .returning(OB.id)))
            self.renewed = time.monotonic()
        held = message_id in self.pending
        self.pending.discard(message_id)
        return held


SENT = ("UPDATE outbox SET status = 'sent', lease_until = NULL, last_error = NULL, "
        "sent_at = :now WHERE id = :row_id AND claimed_by = :worker AND status = 'sending'")
# The same for many at once on PostgreSQL (an array parameter): one statement, run alone.
SENT_ALL = SENT.replace("id = :row_id", "id = ANY(:row_ids)")


def _mark_sent(tx: Tx, ids: list[int], worker: str, now) -> None:
    if tx.postgres:
        tx.run(SENT_ALL, row_ids=ids, worker=worker, now=now)
    else:  # SQLite has no arrays; its statements cost no round trip
        for message_id in ids:
            tx.run(SENT, row_id=message_id, worker=worker, now=now)


# After a commit the finisher waits this long for more: on PostgreSQL each commit costs
# the server CPU the SMTP server shares (bench/mail.py: 15 % more mail a second at 2 ms),
# and a worker killed mid-batch re-sends at most what it sent in that time.
LINGER = 0.002


class Finisher:
    """Marks messages sent from a thread of its own, so the commit overlaps the next
    messages' SMTP exchanges: what waits goes in one transaction, at most every LINGER
    seconds. A worker killed mid-batch leaves unmarked (to be sent again when the lease
    ends) only what it sent since the last commit: a few messages at most. Leaving the `with`
    block waits until all are written."""

    def __init__(self, engine: Engine, worker: str):
        self.engine, self.worker = engine, worker
        self.waiting: list[int] = []
        self.more = threading.Condition()
        self.closing = False
        self.thread = threading.Thread(target=self._run, name="outbox-finisher", daemon=True)

    def __enter__(self) -> Finisher:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        with self.more:
            self.closing = True
            self.more.notify()
        self.thread.join()

    def sent(self, message_id: int) -> None:
        """The server took `message_id`: mark it sent (soon, from the thread)."""
        with self.more:
            self.waiting.append(message_id)
            self.more.notify()

    def _run(self) -> None:
        while True:
            with self.more:
                while not self.waiting and not self.closing:
                    self.more.wait()
                ids, self.waiting = self.waiting, []
                if not ids:
                    return
            now = utcnow()
            try:  # plain SQL: through Core, the statement cost three times the database's time
                rawsql.write(self.engine, lambda tx: _mark_sent(tx, ids, self.worker, now),
                             alone=True)
            except Exception:  # the database is away: their leases end, they go again
                log.exception("outbox %s were sent but could not be marked sent",
                              ", ".join(map(str, ids)))
            if not self.closing:
                time.sleep(LINGER)


def fail(engine: Engine | Connection, message_id: int, worker: str, error: str, *,
         permanent: bool, retry_seconds: int, max_attempts: int,
         retry_after: float | None = None, also: dict | None = None) -> None:
    """Schedule another try with exponential back-off, or mark the message failed.
    `retry_after`: the receiver said when to come back (429 with Retry-After): then,
    neither sooner nor spread, and not counted against max_attempts (it is up).
    `also`: more columns written with it (a receiver's answer). On a connection, in its
    transaction."""
    with _begin(engine) as conn:
        attempts = conn.scalar(select(OB.attempts).where(OB.id == message_id))
        values = {"last_error": error[:2000], "lease_until": None, **(also or {})}
        if permanent or (retry_after is None and (attempts or 0) >= max_attempts):
            values["status"] = "failed"
        elif retry_after is not None:
            values.update(status="queued",
                          next_attempt_at=utcnow() + timedelta(seconds=retry_after))
        else:
            delay = min(MAX_BACKOFF, retry_seconds * 2 ** ((attempts or 1) - 1))
            delay *= random.uniform(0.9, 1.1)  # spread retries of a burst apart
            values.update(status="queued", next_attempt_at=utcnow() + timedelta(seconds=delay))
        conn.execute(update(OB).where(_mine(message_id, worker)).values(**values))


def retry(session: Session, message_id: int) -> bool:
    """The owner's "send again" for a failed message: due now, with fresh attempts.
    Only a failed row changes, so a double click never re-queues a claimed message.
    Commits; returns whether it was queued again."""
    queued = session.execute(
        update(OB).where(OB.id == message_id, OB.status == "failed")
        .values(status="queued", attempts=0, next_attempt_at=utcnow(), lease_until=None,
                claimed_by=None, last_error=None)
        .execution_options(synchronize_session=False)).rowcount == 1
    session.commit()
    return queued


def wake_event(app: Flask) -> threading.Event:
    """Set after a commit that queued mail, so this process's worker sends it at once."""
    return app.extensions.setdefault("widget.outbox_wake", threading.Event())
