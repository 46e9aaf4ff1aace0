"""The clean-up of sign-ups never confirmed: a contact still pending when its site's
`unconfirmed_days` have passed since it became pending is erased, with that person's data
everywhere (subscribers/privacy.py, the one definition of it). Confirmed and
unsubscribed contacts are never touched; the site's anonymous counters stay.

The worker runs it at start and then hourly (`when_due`). Each site is swept in batches
of BATCH contacts, a transaction each, and gets one audit entry per sweep whose count
grows with each committed batch, so the log never counts a contact not erased. Several
workers may sweep at once: each erases only rows it locked and re-checked, and counts
only those."""
from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta

from flask import Flask
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from widget.core import db
from widget.core.said import stored
from widget.models import AuditEntry, Site, Subscriber, utcnow
from widget.sites import audit
from widget.subscribers import privacy

log = logging.getLogger(__name__)
BATCH = 500  # contacts per transaction: short locks, and well within any parameter limit
ACTOR = stored("automatic clean-up")
EVERY = 3600  # seconds between one worker's sweeps


def sweep(session: Session, now: datetime | None = None) -> dict[str, int]:
    """Erase every site's contacts pending longer than its unconfirmed_days, committing
    batch by batch; returns how many were erased per site (sites with none left out)."""
    now = now or utcnow()
    sites = session.execute(select(Site.id, Site.unconfirmed_days).order_by(Site.id)).all()
    session.rollback()
    erased = {}
    for site_id, days in sites:
        if count := sweep_site(session, site_id, now - timedelta(days=days), now):
            erased[site_id] = count
    return erased


def _stale(site_id: str, cutoff: datetime) -> tuple:
    """Pending since before the cutoff: status_at, not created_at, so an address that
    unsubscribed and signed up again gets its full time. A confirmation link sent since
    (a fresh link, or the sign-up repeated) gives it that time again. created_at is never
    later than status_at: that term only lets the site's sign-up index narrow the scan."""
    return (Subscriber.site_id == site_id, Subscriber.status == "pending",
            Subscriber.created_at < cutoff, Subscriber.status_at < cutoff,
            or_(Subscriber.confirm_sent_at.is_(None), Subscriber.confirm_sent_at < cutoff))


def sweep_site(session: Session, site_id: str, cutoff: datetime,
               now: datetime | None = None) -> int:
    """Erase the site's contacts pending since before `cutoff`, BATCH a transaction, with
    one audit entry for them all; returns how many were erased."""
    now, total, entry = now or utcnow(), 0, None
    while True:
        erased = _batch(session, site_id, cutoff, now)
        if not erased:
            session.rollback()
            return total
        total += erased
        if entry is None:
            entry = audit.record(session, site_id, ACTOR, "sweep", total)
        else:
            session.execute(update(AuditEntry).where(AuditEntry.id == entry.id)
                            .values(count=total))
        session.commit()
        if erased < BATCH:
            return total


def _batch(session: Session, site_id: str, cutoff: datetime, now: datetime) -> int:
    """Erase up to BATCH stale contacts in the session's transaction (the caller commits)."""
    stale = _stale(site_id, cutoff)
    # PostgreSQL locks the rows chosen and skips those another worker holds.
    chosen = session.scalars(select(Subscriber.id).where(*stale).order_by(Subscriber.id)
                             .limit(BATCH).with_for_update(skip_locked=True)).all()
    if not chosen:
        return 0
    # SQLite read them before its one write lock: a conditional write re-checks each
    # row under that lock (and on PostgreSQL under the row locks), so one confirmed or
    # erased meanwhile is left out, and what follows sees exactly these rows.
    ids = session.scalars(update(Subscriber).where(Subscriber.id.in_(chosen), *stale)
                          .values(updated_at=now).returning(Subscriber.id)
                          .execution_options(synchronize_session=False)).all()
    return privacy.erase(session, site_id, list(ids), stories=False) if ids else 0


def when_due(app: Flask, last: float | None) -> float | None:
    """Sweep when none ran yet (`last` None) or EVERY seconds have passed since `last`
    (a time.monotonic()); returns when the latest sweep ran. A sweep that fails is
    logged and tried again after EVERY seconds, like one that worked."""
    if last is not None and time.monotonic() - last < EVERY:
        return last
    started = time.monotonic()
    with app.app_context():
        try:
            erased = sweep(db.session())
        except Exception:  # the database is away for a moment: the next hour's sweep
            log.exception("the clean-up of unconfirmed sign-ups failed")
        else:
            if erased:
                log.info("erased %d sign-ups never confirmed, on %d sites",
                         sum(erased.values()), len(erased))
    return started
