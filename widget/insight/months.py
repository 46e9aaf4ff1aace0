"""Whole months of a site's counters per page path, language and device class, summed
once the month is over, so a view of a long range reads a row per key and month instead
of one per widget, key and day: by page over a year read 365,000 day rows for 50 widgets
(bench/README.md, "The funnel's counters").

A day's counters stop changing when the site's day is over (every count lands on the
site's today), so a month may be summed once it is over in every time zone, a change of
the site's zone included. It is summed when a view first asks for it, in a transaction
that first marks it done: two views asking at once sum it once.
"""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from widget.core import rawsql
from widget.core.rawsql import Tx
from widget.models import STAT_COUNTERS, Site, StatDay, StatMonth, StatMonthDone, utcnow

# Days after a month's end in UTC when it is over in every zone (UTC-12 to UTC+14) and a
# site that moves to another zone cannot count on its last day any more.
SETTLED_DAYS = 3

MARK = ("INSERT INTO stat_months_done (site_id, month) VALUES (:site_id, :month) "
        "ON CONFLICT DO NOTHING")
SUM = f"""
INSERT INTO stat_months (site_id, month, dim, key, {", ".join(STAT_COUNTERS)})
SELECT site_id, :month, dim, key, {", ".join(f"sum({c})" for c in STAT_COUNTERS)}
FROM stat_days
WHERE site_id = :site_id AND dim IN ('page', 'lang', 'device') AND day >= :month
  AND day < :next
GROUP BY site_id, dim, key"""


def next_month(month: date) -> date:
    """The first day of the month after `month`'s."""
    return (month.replace(day=28) + timedelta(days=4)).replace(day=1)


def span(start: date, end: date, today: date | None = None) -> tuple[date, date] | None:
    """The first days of the first and the last whole month from `start` to `end` (both
    included) that are over for good; None when there is none."""
    settled = (today or utcnow().date()) - timedelta(days=SETTLED_DAYS)
    first = start if start.day == 1 else next_month(start)
    last = end.replace(day=1)
    if next_month(last) - timedelta(days=1) != end:  # the range ends inside that month
        last = (last - timedelta(days=1)).replace(day=1)
    while last >= first and next_month(last) - timedelta(days=1) > settled:
        last = (last - timedelta(days=1)).replace(day=1)
    return (first, last) if last >= first else None


def ensure(engine: Engine, site_id: str, first: date, last: date,
           limit: int | None = None) -> int:
    """Sum every month of the site from `first` to `last` that is not summed yet (the
    first `limit` of them), a transaction each: one takes a few tens of milliseconds, and
    SQLite's other writers wait for it. Returns how many were summed."""
    with engine.connect() as conn:
        done = set(conn.scalars(select(StatMonthDone.month).where(
            StatMonthDone.site_id == site_id, StatMonthDone.month.between(first, last))))
    summed, month = 0, first
    while month <= last and (limit is None or summed < limit):
        if month not in done:
            summed += rawsql.write(engine, lambda tx, month=month: _sum(tx, site_id, month))
        month = next_month(month)
    return summed


def _sum(tx: Tx, site_id: str, month: date) -> int:
    if tx.run(MARK, site_id=site_id, month=month).rowcount != 1:
        return 0  # another view or worker did it a moment ago
    tx.run(SUM, site_id=site_id, month=month, next=next_month(month))
    return 1


def sum_due(engine: Engine, limit: int = 12) -> int:
    """Sum up to `limit` months that are over and not summed yet, of every site with
    counters, oldest first: the worker's hourly turn, so that a view seldom waits for
    them. Returns how many were summed."""
    first_day = (select(func.min(StatDay.day))
                 .where(StatDay.site_id == Site.id, StatDay.dim == "page").scalar_subquery())
    with engine.connect() as conn:  # each site's first day through the site's index
        firsts = conn.execute(select(Site.id, first_day).order_by(Site.id)).all()
    summed = 0
    for site_id, first in firsts:
        whole = span(first.replace(day=1), utcnow().date()) if first else None
        if whole and summed < limit:
            summed += ensure(engine, site_id, *whole, limit=limit - summed)
    return summed


def forget(session: Session, site_id: str) -> None:
    """Drop the site's sums, in the caller's transaction: a widget's counters are going,
    and the months are summed again without them when next asked for."""
    session.execute(delete(StatMonth).where(StatMonth.site_id == site_id))
    session.execute(delete(StatMonthDone).where(StatMonthDone.site_id == site_id))
