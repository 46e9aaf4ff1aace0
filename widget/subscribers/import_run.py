"""An import's dry run ("checking") and the import itself ("running"), done by the outbox
worker in batches.

A worker claims one import at a time with a lease (one UPDATE; SKIP LOCKED on
PostgreSQL), like outbox.claim. Each batch is one transaction that first advances the
import's `done` (only while this worker holds the claim and `done` is what it read, so a
worker whose lease ran out and was taken over writes nothing) and then writes the
batch's contacts and counters: a worker killed mid-batch leaves that batch unwritten,
and the next claim goes on from the last committed one. The file is read on from where
the last batch ended; the addresses seen before (for "same address as line N") are read
again from the file when another worker takes over.

The import: a new address becomes a contact, confirmed with a consent row (basis
'import', the owner's statement) when the owner stated the basis, else pending with a
confirmation e-mail due at the owner's pace and within the per-mailbox daily cap of
sign-ups. A contact on the list gets the file's name, language and tags when they
differ, keeps its status (never confirmed or downgraded by a file), and one who
unsubscribed is left exactly as they are.
"""
from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import islice

from flask import Flask, current_app
from sqlalchemy import case, delete, func, insert, or_, select, update
from sqlalchemy.dialects import sqlite
from sqlalchemy.exc import InterfaceError, OperationalError

from widget.core import db, events, outbox
from widget.core.rawsql import Tx, as_datetime
from widget.core.said import stored
from widget.giveback.referrals import new_code
from widget.models import (ContactImport, ContactTag, Consent, ImportChunk, OutboxMessage,
                           Site, StatusChange, Subscriber, utcnow)
from widget.sites import audit
from widget.subscribers import imports, tags
from widget.subscribers.imports import Contact, ImportRefused

log = logging.getLogger(__name__)
CI = ContactImport
BATCH = 500
BUDGET = 1.0  # seconds of import work before the worker looks at the outbox again
LIVE = ("checking", "queued", "running")
# The database was away, busy or (PostgreSQL) broke a deadlock: the batch is tried again.
TRANSIENT = (OperationalError, InterfaceError)
FAILED = stored("An internal error stopped it (the server's log has the details).")

# PostgreSQL: the batch's mailboxes locked in one statement, in the (sorted) order given,
# as a sign-up locks its one (store.LOCK_MAILBOX), so concurrent counts take turns.
LOCK_MAILBOXES = """
SELECT pg_advisory_xact_lock(hashtext(m)) FROM unnest(CAST(:mailboxes AS text[])) AS m"""

# Never touches one who unsubscribed, even in the moment since the batch looked.
UPDATE_CONTACT = """
UPDATE subscribers SET name = COALESCE(:name, name), lang = COALESCE(:lang, lang),
                       updated_at = :now
WHERE id = :id AND status <> 'unsubscribed'"""


@dataclass
class _Job:
    """An import a worker is working on, and where in its file it is."""
    id: int
    status: str  # checking or running
    site_id: str
    default_lang: str
    actor: str
    filename: str
    mapping: dict
    basis: str | None
    extra_tags: tuple[str, ...]
    pace: int
    started_at: datetime | None
    counts: Counter  # done, new, updated, unchanged, invalid as committed
    problems: list
    rows: Iterator[tuple[int, list[str]]]
    # Each valid address's first line. Python's hash of the address, not the address,
    # keeps a 50 MB file's worth small; a 64-bit collision is not to be expected.
    seen: dict[int, int] = field(default_factory=dict)


def step(app: Flask, worker: str, batch: int = BATCH, budget: float = BUDGET) -> int:
    """Claim a check or an import that is due and work on it for about `budget` seconds,
    `batch` rows a transaction; returns the rows handled, plus one when something was
    claimed (0: nothing to do, or the database is away for a moment). A worker that
    holds a claim keeps its place in the file in memory until the next call."""
    jobs = app.extensions.setdefault("widget.import_jobs", {})
    with app.app_context():
        claimed = _claim(worker, app.config["OUTBOX_LEASE_SECONDS"])
        if claimed is None:
            jobs.pop(worker, None)
            return 0
        handled = 0
        try:
            job = jobs.get(worker)
            if job is None or (job.id, job.status, job.counts["done"]) != tuple(claimed):
                job = jobs[worker] = _open(claimed.id)
            deadline, going = time.monotonic() + budget, True
            while going:
                done, going = _batch(job, worker, batch)
                handled += done
                going = going and time.monotonic() < deadline
        except TRANSIENT:
            log.warning("import %s: the database failed; the batch is tried again",
                        claimed.id, exc_info=True)
            db.session().rollback()
            jobs.pop(worker, None)
            return 0
        except ImportRefused as exc:
            _fail(claimed.id, worker, str(exc))
            jobs.pop(worker, None)
        except Exception:  # a bug must not retry forever, nor stop the worker
            log.exception("import %s failed", claimed.id)
            _fail(claimed.id, worker, FAILED)
            jobs.pop(worker, None)
        if worker in jobs and jobs[worker].status not in LIVE:
            jobs.pop(worker)  # done, checked, or taken over by another worker
        return handled + 1


def _claim(worker: str, lease_seconds: int):
    """(id, status, done) of the import this worker now holds, or None."""
    now = utcnow()
    free = or_(CI.claimed_by.is_(None), CI.lease_until < now, CI.claimed_by == worker)
    # The one this worker holds first (its place in the file is in memory), then oldest.
    due = (select(CI.id).where(CI.status.in_(LIVE), free)
           .order_by(case((CI.claimed_by == worker, 0), else_=1), CI.created_at, CI.id)
           .limit(1).with_for_update(skip_locked=True).scalar_subquery())
    stmt = (update(CI).where(CI.id == due, CI.status.in_(LIVE), free)
            .values(claimed_by=worker, lease_until=now + timedelta(seconds=lease_seconds),
                    status=case((CI.status == "queued", "running"), else_=CI.status),
                    started_at=case((CI.status == "checking", CI.started_at),
                                    else_=func.coalesce(CI.started_at, now)))
            .returning(CI.id, CI.status, CI.done))
    with db.engine().begin() as conn:
        # Mostly there is none: a look first spares SQLite a write lock every poll.
        if conn.scalar(select(CI.id).where(CI.status.in_(LIVE), free).limit(1)) is None:
            return None
        return conn.execute(stmt).first()


def _open(import_id: int) -> _Job:
    """The claimed import as a job, its file read on to where the last batch ended."""
    session = db.session()
    row = session.get(CI, import_id, populate_existing=True)
    job = _Job(row.id, row.status, row.site_id, session.get(Site, row.site_id).default_lang,
               row.actor, row.filename, row.mapping, row.basis, tags.parse(row.tags),
               row.pace, as_datetime(row.started_at),
               Counter(done=row.done, new=row.new, updated=row.updated,
                       unchanged=row.unchanged, invalid=row.invalid),
               list(row.problems or []), imports.records(db.engine(), row.id, row.mapping))
    session.rollback()
    for line, cells in islice(job.rows, job.counts["done"]):
        found = imports.check_row(line, cells, job.mapping, job.extra_tags)
        if isinstance(found, Contact):
            job.seen.setdefault(hash(found.normalized), line)
    return job


def _note(job: _Job, line: int, reason: str, kind: str = "invalid") -> None:
    """List a line the owner should look at (the first MAX_PROBLEMS of each kind)."""
    if sum(p[2] == kind for p in job.problems) < imports.MAX_PROBLEMS:
        job.problems.append([line, reason, kind])


def _batch(job: _Job, worker: str, size: int) -> tuple[int, bool]:
    """Check (or import) the next `size` rows in one transaction; returns the rows
    handled and whether there may be more."""
    pairs = list(islice(job.rows, size))
    listed, counts = len(job.problems), Counter()
    valid: list[Contact] = []
    for line, cells in pairs:
        found = imports.check_row(line, cells, job.mapping, job.extra_tags)
        first = job.seen.setdefault(hash(found.normalized), line) \
            if isinstance(found, Contact) else line
        if isinstance(found, str) or first != line:
            counts["invalid"] += 1
            _note(job, line, found if isinstance(found, str)
                  else f"Same address as line {first}: this line is left out.")
        else:
            valid.append(found)
    session, now = db.session(), utcnow()
    lease = now + timedelta(seconds=current_app.config["OUTBOX_LEASE_SECONDS"])
    if session.execute(update(CI).where(
            CI.id == job.id, CI.claimed_by == worker, CI.status == job.status,
            CI.done == job.counts["done"]).values(done=CI.done + len(pairs), lease_until=lease)
            .execution_options(synchronize_session=False)).rowcount != 1:
        session.rollback()  # taken over, or deleted: the batch is someone else's now
        job.status = "lost"
        return 0, False
    people = imports.known(session, job.site_id, [c.normalized for c in valid])
    mailed = False
    if job.status == "checking":
        for contact in valid:
            result = imports.outcome(contact, people.get(contact.normalized))
            if result == "unsubscribed":
                _left(job, contact.line, counts)
            else:
                counts[result] += 1
    else:
        mailed = _write(session, job, valid, people, counts, now)
    finished = len(pairs) < size
    values = {name: getattr(CI, name) + n for name, n in counts.items()}
    if len(job.problems) != listed:
        values["problems"] = list(job.problems)
    if finished:
        values.update(claimed_by=None, lease_until=None,
                      **({"status": "checked", "rows": job.counts["done"] + len(pairs)}
                         if job.status == "checking"
                         else {"status": "done", "finished_at": now}))
    session.execute(update(CI).where(CI.id == job.id).values(**values)
                    .execution_options(synchronize_session=False))
    counts["done"] = len(pairs)
    if finished and job.status == "running":
        _end(session, job.id, job.site_id, job.actor, job.filename, job.counts + counts)
    session.commit()
    job.counts.update(counts)
    if finished:
        job.status = values["status"]
    if mailed:
        outbox.wake_event(current_app).set()  # the first confirmations are due now
    return len(pairs), not finished


def _left(job: _Job, line: int, counts: Counter) -> None:
    """A row whose contact unsubscribed: left exactly as it is, counted as unchanged."""
    counts["unchanged"] += 1
    _note(job, line, "Unsubscribed earlier: stays unsubscribed, and gets no e-mail.", "note")


def _write(session, job: _Job, valid: list[Contact], people: dict, counts: Counter,
           now: datetime) -> bool:
    """Write the batch's contacts in the session's transaction; count each. Returns
    whether confirmations were queued."""
    tx = Tx.on_session(session)
    fresh = [c for c in valid if c.normalized not in people]
    added, mail = _insert(tx, session, job, fresh, counts["new"], now)
    counts["new"] += len(added)
    raced = [c.normalized for c in fresh if c.normalized not in added]
    people = {**people, **imports.known(session, job.site_id, raced)}  # signed up meanwhile
    for contact in valid:
        if contact.normalized in added:
            continue
        person = people[contact.normalized]
        name, lang, tagged = imports.changes(contact, person)
        if person.status == "unsubscribed":
            _left(job, contact.line, counts)
        elif not (name or lang or tagged):
            counts["unchanged"] += 1
        elif tx.run(UPDATE_CONTACT, id=person.id, name=name, lang=lang, now=now).rowcount != 1:
            _left(job, contact.line, counts)  # unsubscribed since the batch looked
        else:
            tags.add(tx, job.site_id, person.id, tagged)
            counts["updated"] += 1
            events.about_contact(tx, job.site_id, "contact.updated", person.id, now)
    return mail


def _insert(tx: Tx, session, job: _Job, fresh: list[Contact], new_before: int,
            now: datetime) -> tuple[set[str], bool]:
    """The batch's new contacts, in one statement, and what comes with each: a status
    change, a consent or a confirmation, tags. Returns the addresses added (one that
    signed up since the batch looked is not) and whether confirmations were queued."""
    if not fresh:
        return set(), False
    cfg = current_app.config
    room = _mail_room(tx, session, fresh if job.basis is None else [], now,
                      cfg["MAIL_PER_ADDRESS_DAY"])
    status = "pending" if job.basis is None else "confirmed"
    due: dict[str, datetime] = {}
    rows = []
    for k, contact in enumerate(fresh, start=job.counts["new"] + new_before):
        mailbox = outbox.mailbox_of(contact.normalized)
        if job.basis is None and room[mailbox] > 0:
            # The k-th new contact's confirmation is due k hours/pace after the start.
            room[mailbox] -= 1
            due[contact.normalized] = job.started_at + timedelta(seconds=k * 3600 / job.pace)
        rows.append({"site_id": job.site_id, "email": contact.email,
                     "email_normalized": contact.normalized, "name": contact.name,
                     "status": status, "status_at": now, "lang": contact.lang or job.default_lang,
                     "confirm_sent_at": due.get(contact.normalized),
                     "ref_code": None if job.basis is None else new_code(),
                     "created_at": now, "updated_at": now, "ref_count": 0, "ref_visits": 0,
                     "share_clicks": 0})
    ids = dict(_insert_rows(tx, session, Subscriber.__table__, rows, new=True))
    extra: dict[type, list[dict]] = {StatusChange: [], Consent: [], ContactTag: [],
                                     OutboxMessage: []}
    for contact, row in zip(fresh, rows):
        subscriber_id = ids.get(contact.normalized)
        if subscriber_id is None:
            continue
        extra[StatusChange].append({"subscriber_id": subscriber_id, "status": status,
                                    "via": "import", "created_at": now})
        if job.basis is not None:
            extra[Consent].append({"subscriber_id": subscriber_id, "given": True,
                                   "basis": "import", "text": job.basis, "lang": row["lang"],
                                   "created_at": now})
        extra[ContactTag] += [{"site_id": job.site_id, "subscriber_id": subscriber_id,
                               "tag": tag} for tag in contact.tags]
        if contact.normalized in due:
            to = outbox.Recipient(job.site_id, subscriber_id, contact.normalized, row["lang"])
            extra[OutboxMessage].append(outbox.new_row("confirm", to, cfg["MAIL_FROM"],
                                                       due=due[contact.normalized]))
    for model, found in extra.items():
        if found:
            _insert_rows(tx, session, model.__table__, found)
    if ids and events.listening(tx, job.site_id):
        for subscriber_id in ids.values():
            events.about_contact(tx, job.site_id, "contact.created", subscriber_id, now)
            if status == "confirmed":
                events.about_contact(tx, job.site_id, "contact.confirmed", subscriber_id, now)
    return set(ids), bool(extra[OutboxMessage])


def _insert_rows(tx: Tx, session, table, rows: list[dict], new: bool = False) -> list:
    """Insert rows (dicts with the same keys) into a table; `new`: contacts, skipping an
    address on the list, returning (address, id) of each added. PostgreSQL takes one
    short statement with a column's values as an array each (psycopg would parse the
    thousands of parameters of a multi-row VALUES anew each batch); SQLite executemany."""
    if not tx.postgres:
        stmt = insert(table) if not new else sqlite.insert(table).on_conflict_do_nothing(
            index_elements=["site_id", "email_normalized"]).returning(
            table.c.email_normalized, table.c.id)
        return session.execute(stmt, rows).all() if new else session.execute(stmt, rows)
    dialect = session.get_bind().dialect
    columns = list(rows[0])
    arrays = ", ".join(f"CAST(:{c} AS {table.c[c].type.compile(dialect=dialect)}[])"
                       for c in columns)
    sql = f"INSERT INTO {table.name} ({', '.join(columns)}) SELECT * FROM unnest({arrays})"
    if new:
        sql += (" ON CONFLICT (site_id, email_normalized) DO NOTHING"
                " RETURNING email_normalized, id")
    found = tx.run(sql, **{c: [row[c] for row in rows] for c in columns})
    return found.fetchall() if new else found


def _mail_room(tx: Tx, session, pending: list[Contact], now: datetime,
               per_day: int) -> dict[str, int]:
    """How many more confirmations each of these contacts' mailboxes may get today, by
    the sign-ups' cap (across all sites; on PostgreSQL each mailbox locked, in one
    order, as a sign-up locks it, so the count holds until this batch commits)."""
    mailboxes = sorted({outbox.mailbox_of(c.normalized) for c in pending})
    if not mailboxes:
        return {}
    if tx.postgres:
        tx.run(LOCK_MAILBOXES, mailboxes=mailboxes)
    sent = dict(session.execute(
        select(OutboxMessage.mailbox, func.count(OutboxMessage.id))
        .where(OutboxMessage.mailbox.in_(mailboxes), OutboxMessage.kind == "confirm",
               OutboxMessage.created_at > now - timedelta(days=1))
        .group_by(OutboxMessage.mailbox)).all())
    return {mailbox: per_day - sent.get(mailbox, 0) for mailbox in mailboxes}


def _end(session, import_id: int, site_id: str, actor: str, filename: str,
         total: Counter) -> None:
    """An import ended (done or stopped): its file goes, the audit log records it."""
    session.execute(delete(ImportChunk).where(ImportChunk.import_id == import_id))
    audit.record(session, site_id, actor, "import", total["new"] + total["updated"],
                 audit.IMPORTED % {"file": filename, **{k: total[k] for k in (
                     "new", "updated", "unchanged", "invalid")}})


def _fail(import_id: int, worker: str, message: str) -> None:
    """Stop a check or an import for good, saying why; what earlier batches imported
    stays (each was whole), the batch that failed was rolled back."""
    session = db.session()
    session.rollback()
    row = session.get(CI, import_id, populate_existing=True, with_for_update=True)
    if row is None or row.claimed_by != worker or row.status not in LIVE:
        return
    if row.status == "running":
        _end(session, row.id, row.site_id, row.actor, row.filename, Counter(
            new=row.new, updated=row.updated, unchanged=row.unchanged, invalid=row.invalid))
    else:
        session.execute(delete(ImportChunk).where(ImportChunk.import_id == row.id))
    row.status, row.error, row.finished_at = "failed", message[:2000], utcnow()
    row.claimed_by = row.lease_until = None
    session.commit()
