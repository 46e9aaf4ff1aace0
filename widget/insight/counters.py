"""Widget events as daily counters per widget: shown (impression), started on (open),
closed without signing up (close) and signed up (submit)."""
from __future__ import annotations

import functools
from collections import Counter
from datetime import timedelta

from sqlalchemy import bindparam, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from widget.core import db
from widget.core.errors import ApiError
from widget.models import WidgetDay, utcnow
from widget.sites.snapshot import SiteView

# Event name sent by the widget -> counter column.
EVENTS = {"impression": "impressions", "open": "opens", "close": "closes", "submit": "submits"}
MAX_EVENTS = 50  # one page view sends a handful


def parse(site: SiteView, data) -> Counter:
    """Validate a batch `{"events": [{"widget": id, "type": name}, …]}` into counts."""
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
        if site.widget(event["widget"]) is None:
            raise ApiError(422, "unknown_widget", field="widget")
        counts[(event["widget"], EVENTS[event["type"]])] += 1
    return counts


@functools.cache
def _upsert(dialect: str):
    """Add to a widget's counters for a day, creating the row on its first event."""
    table = WidgetDay.__table__
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = insert(table).values({c: bindparam(c) for c in ("widget_id", "day", *EVENTS.values())})
    return stmt.on_conflict_do_update(
        index_elements=[table.c.widget_id, table.c.day],
        set_={c: table.c[c] + stmt.excluded[c] for c in EVENTS.values()})


def record(counts: Counter) -> None:
    """Add a validated batch to today's counters (UTC) and commit."""
    today = utcnow().date()
    rows = {}
    for (widget_id, column), n in counts.items():
        row = rows.setdefault(widget_id, {"widget_id": widget_id, "day": today,
                                          **{c: 0 for c in EVENTS.values()}})
        row[column] += n
    if not rows:
        return
    engine = db.engine()
    with engine.begin() as conn:
        for row in rows.values():
            conn.execute(_upsert(engine.dialect.name), row)


def summary(widget_ids: list[str], days: int = 30) -> dict[str, dict[str, int]]:
    """Totals per widget over the last `days` days (today included)."""
    since = utcnow().date() - timedelta(days=days - 1)
    cols = [func.coalesce(func.sum(WidgetDay.__table__.c[c]), 0) for c in EVENTS.values()]
    rows = db.session().execute(
        select(WidgetDay.widget_id, *cols)
        .where(WidgetDay.widget_id.in_(widget_ids), WidgetDay.day >= since)
        .group_by(WidgetDay.widget_id)).all()
    empty = dict.fromkeys(EVENTS.values(), 0)
    result = {wid: dict(empty) for wid in widget_ids}
    for wid, *values in rows:
        result[wid] = dict(zip(EVENTS.values(), map(int, values)))
    return result


