"""The funnel's counters: what widgets did, added up per widget, variant and day in the
site's time zone, once in all and again per page path, language and device class.

A page view's beacon adds what the browser saw (shown, opened, closed, signed up); the
server adds what happened later, in the transaction of the change itself (confirmed, a
gift downloaded, a friend referred, a story sent). Nothing is kept per visitor: a
beacon carries no id, and a page path is only ever a counter's key.
"""
from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import func, select

from widget.core import db, i18n, ratelimit, rawsql
from widget.core.errors import ApiError
from widget.core.rawsql import Tx
from widget.models import STAT_COUNTERS, STAT_DIMS, StatDay, utcnow
from widget.sites.checks import Caller, check_origin
from widget.sites.snapshot import SiteView

# Event name sent by the widget -> counter.
EVENTS = {"impression": "shown", "open": "opened", "close": "closed", "submit": "signed_up"}
DEVICES = ("mobile", "tablet", "desktop")  # by the viewport's width, told by the browser
MAX_EVENTS = 50  # one page view sends a handful
MAX_PATH = 200

COLUMNS = ("site_id", "widget_id", "variant", "day", "dim", "key", *STAT_COUNTERS)
WHERE_FROM = "SELECT time_zone FROM sites WHERE id = :site_id"


@functools.cache
def _add(shape: tuple[int, ...]) -> str:
    """One statement adding to every row of a beacon's groups (each made when missing):
    group g (a widget and variant) has shape[g] rows, which share its site, widget,
    variant, day and counts and differ only in dimension and key. Named parameters are
    reused across a group's rows: a third of the values to pass, which was a fifth of a
    beacon's time."""
    values = ",\n".join(
        f"(:s{g}, :w{g}, :v{g}, :d{g}, :dim{g}_{r}, :key{g}_{r}, "
        + ", ".join(f":{c}{g}" for c in STAT_COUNTERS) + ")"
        for g, rows in enumerate(shape) for r in range(rows))
    return (f"INSERT INTO stat_days ({', '.join(COLUMNS)})\nVALUES {values}\n"
            "ON CONFLICT (widget_id, variant, dim, key, day) DO UPDATE SET "
            + ", ".join(f"{c} = stat_days.{c} + excluded.{c}" for c in STAT_COUNTERS))


@dataclass(frozen=True)
class Where:
    """Where a count happened, as far as it is known: each known part is a dimension."""
    page: str = ""  # a path, no query string
    lang: str = ""
    device: str = ""
    variant: int = 0

    def keys(self):
        """(dim, key) of every row a count adds to: all, then each known dimension."""
        yield "all", ""
        for dim in STAT_DIMS[1:]:
            if getattr(self, dim):
                yield dim, getattr(self, dim)


def page_path(value) -> str:
    """The path of a page address or path, without query string or fragment ('' if it is
    not one): the only part of a page the funnel keeps."""
    if not isinstance(value, str) or not value:
        return ""
    try:
        path = urlsplit(value.strip()).path
    except ValueError:
        return ""
    path = "".join(ch for ch in path if ch.isprintable())
    return path[:MAX_PATH] if path.startswith("/") else ""


def zone(name: str | None) -> ZoneInfo:
    """A site's time zone; UTC when the name is unknown to this machine."""
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def local_day(moment: datetime, time_zone: str | None) -> date:
    """The day `moment` falls on in the site's time zone."""
    return moment.astimezone(zone(time_zone)).date()


def parse(site: SiteView, data) -> tuple[Where, Counter]:
    """A beacon `{"page", "lang", "device", "events": [{"widget", "type", "variant"}, …]}`
    (page, lang, device and variant optional, and ignored when not ones we know: a
    variant of a test that has ended counts for the widget) as where and counts by
    (widget, variant, counter)."""
    events = data.get("events") if isinstance(data, dict) else None
    if not isinstance(events, list):
        raise ApiError(400, "invalid_type", "'events' must be a list.", field="events")
    if len(events) > MAX_EVENTS:
        raise ApiError(413, "payload_too_large", f"At most {MAX_EVENTS} events per batch.")
    counts: Counter = Counter()
    for event in events:
        if not isinstance(event, dict) or not isinstance(event.get("widget"), str):
            raise ApiError(400, "invalid_type", "Each event is {widget, type}.", field="events")
        if not isinstance(event.get("type"), str) or event["type"] not in EVENTS:
            raise ApiError(422, "invalid_event", f"Event types: {', '.join(EVENTS)}.",
                           field="events")
        widget = site.widget(event["widget"])
        if widget is None:
            raise ApiError(422, "unknown_widget", field="widget")
        variant = widget.as_variant(event.get("variant")).variant
        counts[(widget.id, variant, EVENTS[event["type"]])] += 1
    lang, device = data.get("lang"), data.get("device")
    return Where(page=page_path(data.get("page")),
                 lang=lang if lang in i18n.LANGS else "",
                 device=device if device in DEVICES else ""), counts


def accept(site: SiteView, caller: Caller, body: Callable[[], object]) -> None:
    """A page view's beacon, for the Flask route and the fast path alike: the origin,
    the per-IP limit, then the body (read by `body()` only then), added and committed."""
    check_origin(site, caller.origin)
    ratelimit.hit("events", caller.ip or "-")
    record(site, *parse(site, body()))


@dataclass(frozen=True)
class Group:
    """What one widget (and variant) adds on a day: `counts` to its all row and to one row
    per known dimension of `where`."""
    site_id: str
    widget_id: str
    where: Where
    counts: dict[str, int]
    day: date


def add(tx: Tx, groups: list[Group]) -> None:
    """Add `groups` in `tx` in one statement (the caller commits). Always in the order
    given: writers that take the same rows in one order never deadlock."""
    params, shape = {}, []
    for g, group in enumerate(groups):
        keys = list(group.where.keys())
        shape.append(len(keys))
        params.update({f"s{g}": group.site_id, f"w{g}": group.widget_id,
                       f"v{g}": group.where.variant, f"d{g}": group.day})
        params.update({f"{c}{g}": group.counts.get(c, 0) for c in STAT_COUNTERS})
        for r, (dim, key) in enumerate(keys):
            params[f"dim{g}_{r}"], params[f"key{g}_{r}"] = dim, key
    tx.run(_add(tuple(shape)), **params)


def record(site: SiteView, where: Where, counts: Counter) -> None:
    """Add a parsed beacon to today's counters (the site's today) and commit."""
    per_widget: dict[tuple[str, int], dict[str, int]] = {}
    for (widget_id, variant, counter), n in counts.items():
        per_widget.setdefault((widget_id, variant), Counter())[counter] += n
    if not per_widget:
        return
    day = local_day(utcnow(), site.time_zone)
    groups = [Group(site.id, widget_id, replace(where, variant=variant),
                    per_widget[widget_id, variant], day)
              for widget_id, variant in sorted(per_widget)]  # one order: see add
    rawsql.write(db.engine(), lambda tx: add(tx, groups), alone=True)


def count(tx: Tx, site_id: str, widget_id: str | None, counter: str, *,
          page_url: str | None = None, lang: str | None = None, variant: int | None = None,
          now: datetime | None = None) -> None:
    """Add one to a server-side counter (confirmed, downloaded, referred, stories) of the
    widget (and A/B test variant) it came through, in `tx`, the transaction of the
    change itself; nothing when it came through no widget."""
    assert counter in STAT_COUNTERS, counter
    if not widget_id:
        return
    row = tx.one(WHERE_FROM, site_id=site_id)
    day = local_day(now or utcnow(), row[0] if row else None)
    where = Where(page=page_path(page_url), lang=lang if lang in i18n.LANGS else "",
                  variant=variant or 0)
    add(tx, [Group(site_id, widget_id, where, {counter: 1}, day)])


def summary(site_id: str, widget_ids: list[str], time_zone: str | None,
            days: int = 30) -> dict[str, dict[str, int]]:
    """Totals per widget over the site's last `days` days (its today included), read
    through the site's index (a look-up by widget alone walks each widget's every day)."""
    since = local_day(utcnow(), time_zone) - timedelta(days=days - 1)
    cols = [func.coalesce(func.sum(StatDay.__table__.c[c]), 0) for c in STAT_COUNTERS]
    rows = db.session().execute(
        select(StatDay.widget_id, *cols)
        .where(StatDay.site_id == site_id, StatDay.widget_id.in_(widget_ids),
               StatDay.dim == "all", StatDay.day >= since)
        .group_by(StatDay.widget_id)).all()
    empty = dict.fromkeys(STAT_COUNTERS, 0)
    result = {wid: dict(empty) for wid in widget_ids}
    for wid, *values in rows:
        result[wid] = dict(zip(STAT_COUNTERS, map(int, values)))
    return result
