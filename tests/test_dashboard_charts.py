"""The "What works" charts: a bar per funnel step as wide as its count, and lines of
views and sign-ups over the range (a time view's own rows, else days, or weeks beyond
three months), drawn as SVG with a title and a description in words; no chart where one
point would be a line. Both databases."""
from __future__ import annotations

import re
from datetime import date

from sqlalchemy import select

from widget.models import StatDay, Widget

ROW = {"shown": 0, "opened": 0, "closed": 0, "signed_up": 0, "confirmed": 0,
       "downloaded": 0, "referred": 0, "stories": 0}


def put(query, site: str, widget: str, day: date, **counts) -> None:
    def run(s):
        s.add(StatDay(site_id=site, widget_id=widget, variant=0, day=day, dim="all", key="",
                      **{**ROW, **counts}))
        s.commit()
    query(run)


def svgs(html: str) -> list[str]:
    return re.findall(r"<svg .*?</svg>", html, re.S)


def points(svg: str) -> list[list[tuple[float, float]]]:
    return [[tuple(map(float, p.split(","))) for p in found.split()]
            for found in re.findall(r'<polyline [^>]*points="([^"]+)"', svg)]


def test_bars_and_lines_say_what_the_tables_say(ann, make_site, query):
    site = make_site(owner_email="ann@example.com")
    widget = query(lambda s: s.scalar(select(Widget.id).where(Widget.site_id == site)))
    put(query, site, widget, date(2026, 3, 2), shown=40, opened=10, signed_up=4)
    put(query, site, widget, date(2026, 3, 4), shown=80, opened=30, signed_up=2, confirmed=2)
    page = ann.get(f"/dashboard/sites/{site}/stats?from=2026-03-01&to=2026-03-05")
    assert page.status_code == 200
    bars, views, signups = svgs(page.text)

    widths = re.findall(r'width="([\d.]+)"></rect>\s*<text class="label"[^>]*>([^<]+)<', bars)
    assert [(label, float(width)) for width, label in widths] == [  # of 490 for 120 shown
        ("Shown", 490.0), ("Opened", 163.3), ("Signed up", 24.5), ("Confirmed", 8.2),
        ("Gift downloaded", 0.0), ("Friends referred", 0.0), ("Stories", 0.0)]
    assert "<title id=\"funnel-title\">The funnel, 1 Mar 2026 – 5 Mar 2026 (5 days)</title>" \
        in bars
    assert "Shown: 120. Opened: 40. Signed up: 6. Confirmed: 2." in bars

    shown, opened = points(views)
    assert len(shown) == len(opened) == 5  # quiet days are points too, at the bottom
    assert [y for _, y in shown] == [154.0, 80.0, 154.0, 6.0, 154.0]  # 40 and 80 of 80
    assert shown[0][0] == 6.0 and shown[-1][0] == 634.0
    assert ("Shown: 120 in all, at most 80 (Wed 4 Mar 2026). "
            "Opened: 40 in all, at most 30 (Wed 4 Mar 2026).") in views
    assert "Signed up: 6 in all, at most 4 (Mon 2 Mar 2026). Confirmed: 2 in all" in signups
    assert 'role="img"' in views and "<title id=\"trend-1-title\">Shown and Opened, " \
        "Sun 1 Mar 2026 to Thu 5 Mar 2026</title>" in views


def test_other_views_chart_weeks_and_one_day_draws_no_line(ann, make_site, query):
    site = make_site(owner_email="ann@example.com")
    widget = query(lambda s: s.scalar(select(Widget.id).where(Widget.site_id == site)))
    put(query, site, widget, date(2026, 1, 7), shown=5)
    by_page = ann.get(f"/dashboard/sites/{site}/stats?from=2026-01-05&to=2026-04-30&by=page")
    views = svgs(by_page.text)[1]
    assert len(points(views)[0]) == 17  # 116 days: 17 weeks from Monday 5 January
    assert "Shown: 5 in all, at most 5 (5 Jan 2026)." in views

    one_day = ann.get(f"/dashboard/sites/{site}/stats?from=2026-01-07&to=2026-01-07")
    assert len(svgs(one_day.text)) == 1  # the funnel's bars only
    assert "Shown: 5." in one_day.text
