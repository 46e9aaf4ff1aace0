"""What works: the funnel's counters read back for a range of days, by day (or week or
month), widget, variant, page path, language or device class, with the rate at each
step and the same numbers for the period of equal length just before.

Days are the site's own (counters.local_day): a range is a span of the owner's calendar,
so months of different lengths and a change to or from summer time need no arithmetic
here; a range is whole days, both ends included.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import and_, func, or_, select, union_all
from sqlalchemy.orm import Session

from widget.core.errors import ApiError
from widget.insight import months
from widget.models import STAT_COUNTERS, StatDay, StatMonth

FUNNEL = ("shown", "opened", "signed_up", "confirmed", "downloaded", "referred", "stories")
BY = ("day", "week", "month", "widget", "variant", "page", "lang", "device")
TIME = ("day", "week", "month")
DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
TOP = 20  # pages shown by most views; languages and devices are few anyway
MAX_DAYS = 3 * 366  # one query never spans more than three years
# Days a range may name: far enough from the ends of what a date holds that the previous
# period and the days counted on from `from` are dates too.
EARLIEST, LATEST = date(1970, 1, 1), date(9998, 12, 31)


@dataclass(frozen=True)
class Range:
    """Whole days in the site's calendar, both ends included."""
    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> Range:
        """The period of equal length just before this one."""
        return Range(self.start - timedelta(days=self.days), self.start - timedelta(days=1))


def parse_range(start: str | None, end: str | None, today: date, days: int = 30) -> Range:
    """A range from YYYY-MM-DD texts (either may be missing: the last `days` days up to
    today, or as many days on from `start`); 400 bad_request naming the field when a
    date is not one (or not from EARLIEST to LATEST), the range runs backwards or spans
    more than three years."""
    def day(value: str | None, field: str) -> date | None:
        if value in (None, ""):
            return None
        try:  # YYYY-MM-DD only (fromisoformat would also take 2026-W01-1)
            found = date.fromisoformat(value) if DATE.fullmatch(value) else None
        except ValueError:
            found = None
        return found if found and EARLIEST <= found <= LATEST else _bad(field)

    first, last = day(start, "from"), day(end, "to")
    last = last or (first + timedelta(days=days - 1) if first else today)
    first = first or last - timedelta(days=days - 1)
    if first > last:
        raise ApiError(400, "bad_request", "'from' is after 'to'.", field="from")
    if (last - first).days + 1 > MAX_DAYS:
        raise ApiError(400, "bad_request", f"A range spans at most {MAX_DAYS} days.",
                       field="to")
    return Range(first, last)


def _bad(field: str):
    raise ApiError(400, "bad_request", f"'{field}' must be a date as YYYY-MM-DD, from "
                   f"{EARLIEST} to {LATEST}.", field=field)


def check_by(value: str | None) -> str:
    """The view asked for (day when none), or 400 bad_request."""
    value = value or "day"
    if value not in BY:
        raise ApiError(400, "bad_request", f"'by' is one of {', '.join(BY)}.", field="by")
    return value


def _sums():
    return [func.coalesce(func.sum(StatDay.__table__.c[c]), 0) for c in STAT_COUNTERS]


def _where(site_id: str, rng: Range, dim: str, widget_id: str | None):
    where = [StatDay.site_id == site_id, StatDay.dim == dim, StatDay.day >= rng.start,
             StatDay.day <= rng.end]
    return where + ([StatDay.widget_id == widget_id] if widget_id else [])


def _counts(values) -> dict[str, int]:
    return dict(zip(STAT_COUNTERS, map(int, values)))


def totals(session: Session, site_id: str, rng: Range,
           widget_id: str | None = None) -> dict[str, int]:
    """Each counter over the range, for the site or one of its widgets."""
    return _counts(session.execute(
        select(*_sums()).where(*_where(site_id, rng, "all", widget_id))).one())


def rows(session: Session, site_id: str, rng: Range, by: str,
         widget_id: str | None = None) -> list[dict]:
    """One row per key of the view `by`: {"key", counter: n, …}. Time views list every
    day (Monday of every week, first of every month) of the range, quiet ones too;
    pages are the TOP most shown."""
    dim = by if by in ("page", "lang", "device") else "all"
    whole = months.span(rng.start, rng.end) if dim != "all" and not widget_id else None
    if whole:
        return _by_key_with_months(session, site_id, rng, dim, whole)
    column = {"widget": StatDay.widget_id, "variant": StatDay.variant}.get(
        by, StatDay.day if by in TIME else StatDay.key)
    query = (select(column, *_sums()).where(*_where(site_id, rng, dim, widget_id))
             .group_by(column))
    if by in TIME:
        found = {day: _counts(values) for day, *values in session.execute(query)}
        return _buckets(rng, by, found)
    if dim != "all":
        query = query.order_by(func.sum(StatDay.shown).desc(), column).limit(TOP)
    else:
        query = query.order_by(column)
    return [{"key": key, **_counts(values)} for key, *values in session.execute(query)]


def _by_key_with_months(session: Session, site_id: str, rng: Range, dim: str,
                        whole: tuple[date, date]) -> list[dict]:
    """rows() of a site's page, language or device view whose range holds whole months
    that are over: those months' sums, and the days before and after them."""
    first, last = whole
    engine = session.get_bind()
    months.ensure(engine, site_id, first, last)
    after = months.next_month(last)
    days = (select(StatDay.key, *(StatDay.__table__.c[c] for c in STAT_COUNTERS))
            .where(StatDay.site_id == site_id, StatDay.dim == dim,
                   or_(and_(StatDay.day >= rng.start, StatDay.day < first),
                       and_(StatDay.day >= after, StatDay.day <= rng.end))))
    summed = (select(StatMonth.key, *(StatMonth.__table__.c[c] for c in STAT_COUNTERS))
              .where(StatMonth.site_id == site_id, StatMonth.dim == dim,
                     StatMonth.month >= first, StatMonth.month <= last))
    both = union_all(days, summed).subquery()
    sums = [func.coalesce(func.sum(both.c[c]), 0) for c in STAT_COUNTERS]
    query = (select(both.c.key, *sums).group_by(both.c.key)
             .order_by(sums[0].desc(), both.c.key).limit(TOP))
    # On a connection of its own: one begun before the sums were committed (the session's,
    # on SQLite) would not see them.
    with engine.connect() as conn:
        return [{"key": key, **_counts(values)} for key, *values in conn.execute(query)]


def _buckets(rng: Range, by: str, found: dict[date, dict]) -> list[dict]:
    out: dict[date, dict] = {}
    for n in range(rng.days):
        day = rng.start + timedelta(days=n)
        start = (day if by == "day" else day - timedelta(days=day.weekday()) if by == "week"
                 else day.replace(day=1))
        bucket = out.setdefault(start, dict.fromkeys(STAT_COUNTERS, 0))
        for name, value in found.get(day, {}).items():
            bucket[name] += value
    return [{"key": start.isoformat(), **counts} for start, counts in out.items()]


# What each step's rate is a share of: the step before it down to confirmed; what people
# give back (a gift downloaded, a friend referred, a story) per view, as a gift given
# first is downloaded unconfirmed and a story widget signs nobody up.
BASE = {"opened": "shown", "signed_up": "opened", "confirmed": "signed_up",
        "downloaded": "shown", "referred": "shown", "stories": "shown"}


def rates(counts: dict[str, int]) -> dict[str, float | None]:
    """Each funnel step as a share of its BASE (None when that is 0);
    "signed_up_of_shown": the widget's sign-up rate."""
    out = {step: (counts[step] / counts[base] if counts[base] else None)
           for step, base in BASE.items()}
    out["signed_up_of_shown"] = (counts["signed_up"] / counts["shown"]
                                 if counts["shown"] else None)
    return out


def by_variant(session: Session, site_id: str, variant_ids: list[int]) -> dict[int, dict]:
    """Each counter of each variant over all its days: a test's own numbers (variant ids
    belong to one test, so no range is needed)."""
    found = {v: dict.fromkeys(STAT_COUNTERS, 0) for v in variant_ids}
    for variant, *values in session.execute(
            select(StatDay.variant, *_sums())
            .where(StatDay.site_id == site_id, StatDay.dim == "all",
                   StatDay.variant.in_(variant_ids))
            .group_by(StatDay.variant)):
        found[variant] = _counts(values)
    return found
