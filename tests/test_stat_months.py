"""Views of long ranges by page, language and device read whole months summed once they
are over (insight/months.py): the same numbers as every day's rows, however the range
falls across months, after a widget and its counters are deleted, and with today's
beacons counted at once. SQLite and PostgreSQL, over real HTTP."""
from __future__ import annotations

import random
import threading
from collections import Counter
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from widget.core import db
from widget.insight import months
from widget.mail import worker as mail_worker
from widget.models import STAT_COUNTERS, StatDay, StatMonth, StatMonthDone, Widget, utcnow
from widget.sites import keys

from .helpers.giveback import add_widget

ORIGIN = "https://blog.example"


def view(client, site: str, key: str, **params) -> list[dict]:
    resp = client.get(f"/api/v1/sites/{site}/stats", params=params,
                      headers={"Authorization": f"Bearer {key}"})
    assert resp.status_code == 200, resp.text
    return resp.json()["rows"]


def expected(rows: list[tuple], dim: str, start: date, end: date,
             widgets: set[str]) -> list[dict]:
    """The view as every day's rows add up: the top 20 keys by shown, then by key."""
    sums: dict[str, Counter] = {}
    for widget, day, row_dim, key, counts in rows:
        if row_dim == dim and start <= day <= end and widget in widgets:
            sums.setdefault(key, Counter()).update(counts)
    ordered = sorted(sums.items(), key=lambda item: (-item[1]["shown"], item[0]))[:20]
    return [{"key": key, **{c: counts[c] for c in STAT_COUNTERS}} for key, counts in ordered]


@pytest.fixture
def history(ann, make_site, query):
    """Ann's site with two widgets (one with a variant's rows) and 130 days of page,
    language and device rows ending today, some days of them quiet."""
    site = make_site("ann@example.com", origins=[ORIGIN])
    a = query(lambda s: s.scalar(select(Widget.id).where(Widget.site_id == site)))
    b = add_widget(query, site, "newsletter")
    today = utcnow().date()
    rnd = random.Random(16)
    rows = []
    for back in range(130):
        day = today - timedelta(days=back)
        if rnd.random() < 0.1:
            continue
        for widget in (a, b):
            for dim, key in [("page", f"/p{rnd.randrange(30)}"), ("page", "/home"),
                             ("lang", rnd.choice(["en", "nb"])), ("device", "mobile")]:
                counts = {c: rnd.randrange(5) for c in STAT_COUNTERS}
                rows.append((widget, day, dim, key, counts))

    def put(s):  # a widget's day has one row per key: no two rows meet
        for widget, day, dim, key, counts in rows:
            variant = 1 if widget == b and day.day % 2 else 0
            s.add(StatDay(site_id=site, widget_id=widget, variant=variant, day=day, dim=dim,
                          key=key, **counts))
        s.commit()
    query(put)
    key = query(lambda s: keys.create(s, site, "read", "stats").key)
    return {"site": site, "a": a, "b": b, "today": today, "rows": rows, "key": key}


def test_a_long_range_adds_up_as_its_days_do(ann, history, query):
    site, key, today, rows = history["site"], history["key"], history["today"], history["rows"]
    both = {history["a"], history["b"]}
    ranges = [(today - timedelta(days=120), today),  # mid-month to today
              (today.replace(day=1) - timedelta(days=62), today.replace(day=1)
               - timedelta(days=1)),  # ends on a month's last day
              (today - timedelta(days=15), today),  # no whole month in it
              ((today - timedelta(days=100)).replace(day=1), today - timedelta(days=40))]
    for start, end in ranges:
        for dim in ("page", "lang", "device"):
            want = expected(rows, dim, start, end, both)
            assert view(ann, site, key, by=dim, **{"from": str(start), "to": str(end)}) == want
            # Asked again: the months are read from their sums now.
            assert view(ann, site, key, by=dim, **{"from": str(start), "to": str(end)}) == want
    summed = query(lambda s: s.scalar(select(func.count()).select_from(StatMonth)
                                      .where(StatMonth.site_id == site)))
    assert summed > 0, "the whole months over for good were summed"
    this_month = query(lambda s: s.scalar(select(func.count()).select_from(StatMonth).where(
        StatMonth.month >= (today - timedelta(days=months.SETTLED_DAYS)).replace(day=1))))
    assert this_month == 0, "a month not over everywhere is read from its days"


def test_a_deleted_widgets_pages_leave_the_sums(ann, history, query):
    site, key, today, rows = history["site"], history["key"], history["today"], history["rows"]
    start = today - timedelta(days=120)
    args = {"by": "page", "from": str(start), "to": str(today)}
    assert view(ann, site, key, **args) == expected(rows, "page", start, today,
                                                   {history["a"], history["b"]})
    b = history["b"]
    token = ann.csrf(f"/dashboard/sites/{site}/widgets/{b}")
    assert ann.post(f"/dashboard/sites/{site}/widgets/{b}/delete",
                    data={"csrf_token": token}).status_code == 302
    assert view(ann, site, key, **args) == expected(rows, "page", start, today, {history["a"]})


@pytest.mark.parametrize("start, end, today, whole", [
    ("2026-01-10", "2026-05-20", "2026-12-01", ("2026-02-01", "2026-04-01")),
    ("2026-01-01", "2026-03-31", "2026-12-01", ("2026-01-01", "2026-03-01")),
    ("2026-02-01", "2026-02-28", "2026-12-01", ("2026-02-01", "2026-02-01")),
    ("2024-02-01", "2024-02-28", "2026-12-01", None),  # a leap year's February, one day short
    ("2026-01-05", "2026-01-31", "2026-12-01", None),
    ("2026-10-01", "2026-11-30", "2026-12-02", ("2026-10-01", "2026-10-01")),  # not over
    ("2026-10-01", "2026-11-30", "2026-12-03", ("2026-10-01", "2026-11-01")),  # everywhere
])
def test_the_whole_months_of_a_range(start, end, today, whole):
    got = months.span(date.fromisoformat(start), date.fromisoformat(end),
                      date.fromisoformat(today))
    assert got == (tuple(map(date.fromisoformat, whole)) if whole else None)


def months_done(query, site: str) -> int:
    return query(lambda s: s.scalar(select(func.count()).select_from(StatMonthDone)
                                    .where(StatMonthDone.site_id == site)))


def test_the_worker_sums_the_months_over_before_a_view_asks(ann, app, history, query):
    site, key, today, rows = history["site"], history["key"], history["today"], history["rows"]
    start = today - timedelta(days=120)
    first = min(day for _, day, *_ in rows)  # the worker sums from the first counted month
    whole = months.span(first.replace(day=1), today)
    want = (whole[1].year - whole[0].year) * 12 + whole[1].month - whole[0].month + 1
    with app.app_context():
        assert months.sum_due(db.engine(), limit=2) == 2  # a turn sums a few at most
        assert months.sum_due(db.engine(), limit=2) == min(2, want - 2)  # then the next ones
    mail_worker.run(app, threading.Event(), once=True)  # its first turn sums the rest
    assert months_done(query, site) == want
    args = {"by": "page", "from": str(start), "to": str(today)}
    assert view(ann, site, key, **args) == expected(rows, "page", start, today,
                                                   {history["a"], history["b"]})
    assert months_done(query, site) == want  # the view summed nothing more
