"""The owner API's funnel statistics (GET /api/v1/sites/<site>/stats) over real HTTP:
counters fed through the real public beacon, and rows of other days written straight
into stat_days, read back exactly by day (quiet days as zeros), week, month, page path
(top 20, query strings merged), language, device, widget and variant; totals, rates and
the period before; a range across a month end; the widget filter; every refusal with
its code and field. SQLite and PostgreSQL alike."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from widget.insight import counters
from widget.models import STAT_COUNTERS, StatDay, Widget, utcnow
from widget.sites import keys

from .helpers.api import assert_error
from .helpers.giveback import add_widget, set_site

ORIGIN = "https://blog.example"
ZONE = "Europe/Oslo"


def make_key(query, site: str, scope: str = "read") -> str:
    return query(lambda s: keys.create(s, site, scope, "stats").key)


def get_stats(client, site: str, key: str | None, **params):
    return client.get(f"/api/v1/sites/{site}/stats", params=params,
                      headers={"Authorization": f"Bearer {key}"} if key else {})


def answer(client, site: str, key: str, **params) -> dict:
    resp = get_stats(client, site, key, **params)
    assert resp.status_code == 200, resp.text
    assert resp.headers["Cache-Control"] == "no-store"
    assert "Access-Control-Allow-Origin" not in resp.headers
    return resp.json()


def beacon(client, site: str, events: list[dict], **where) -> None:
    """One page view's events through the public endpoint, as ui.js sends them."""
    resp = client.post(f"/api/v1/sites/{site}/events", json={**where, "events": events},
                       headers={"Origin": ORIGIN})
    assert resp.status_code == 204, resp.text


def put(query, site: str, widget: str, day: date, variant: int = 0, dim: str = "all",
        key: str = "", **counts) -> None:
    """A day's counters written straight into stat_days (days a beacon cannot reach)."""
    def run(s):
        s.add(StatDay(site_id=site, widget_id=widget, variant=variant, day=day, dim=dim,
                      key=key, **{c: counts.get(c, 0) for c in STAT_COUNTERS}))
        s.commit()
    query(run)


def counts(**given) -> dict:
    return {c: given.get(c, 0) for c in STAT_COUNTERS}


def row(key, **given) -> dict:
    return {"key": key, **counts(**given)}


def first_widget(query, site: str) -> str:
    return query(lambda s: s.scalar(select(Widget.id).where(Widget.site_id == site)))


@pytest.fixture
def site(make_site, query):
    made = make_site(origins=[ORIGIN])
    set_site(query, made, time_zone=ZONE)
    return made


def test_by_day_with_totals_rates_and_the_period_before(client, site, query):
    widget = first_widget(query, site)
    views = [([("impression", 1), ("open", 1), ("submit", 1)],
              {"page": f"{ORIGIN}/a?utm_source=news#top", "lang": "nb", "device": "mobile"}),
             ([("impression", 1), ("close", 1)], {"page": "/a", "lang": "en"}),
             ([("impression", 1)], {"page": "/b", "device": "desktop"})]
    for events, where in views:
        beacon(client, site, [{"widget": widget, "type": kind}
                              for kind, n in events for _ in range(n)], **where)
    # The beacon's day is the site's today: read it back rather than guess at midnight.
    today = query(lambda s: s.scalar(select(StatDay.day).where(StatDay.widget_id == widget)))
    assert today == counters.local_day(utcnow(), ZONE)
    put(query, site, widget, today - timedelta(days=2), shown=5, opened=2, signed_up=1,
        confirmed=1)
    put(query, site, widget, today - timedelta(days=2), dim="page", key="/a", shown=5)
    put(query, site, widget, today - timedelta(days=30), shown=7, signed_up=3)  # before
    put(query, site, widget, today + timedelta(days=1), shown=100)  # not yet in range

    body = answer(client, site, make_key(query, site))
    quiet = {today - timedelta(days=n): counts() for n in range(30)}
    quiet[today - timedelta(days=2)] = counts(shown=5, opened=2, signed_up=1, confirmed=1)
    quiet[today] = counts(shown=3, opened=1, closed=1, signed_up=1)
    totals = counts(shown=8, opened=3, closed=1, signed_up=2, confirmed=1)
    assert body == {
        "from": (today - timedelta(days=29)).isoformat(), "to": today.isoformat(),
        "by": "day", "time_zone": ZONE,
        "rows": [{"key": day.isoformat(), **quiet[day]} for day in sorted(quiet)],
        "totals": {**totals, "rates": {
            "opened": 3 / 8, "signed_up": 2 / 3, "confirmed": 1 / 2, "downloaded": 0.0,
            "referred": 0.0, "stories": 0.0, "signed_up_of_shown": 2 / 8}},
        "previous": {
            "from": (today - timedelta(days=59)).isoformat(),
            "to": (today - timedelta(days=30)).isoformat(),
            "totals": {**counts(shown=7, signed_up=3), "rates": {
                "opened": 0.0, "signed_up": None, "confirmed": 0.0, "downloaded": 0.0,
                "referred": 0.0, "stories": 0.0, "signed_up_of_shown": 3 / 7}}}}
    assert len(body["rows"]) == 30


def test_weeks_months_and_days_across_a_month_end(client, site, query):
    widget = first_widget(query, site)
    for day, shown in [("2026-01-25", 256), ("2026-01-26", 1), ("2026-01-31", 2),
                       ("2026-02-01", 4), ("2026-02-02", 8), ("2026-02-28", 16),
                       ("2026-03-01", 32), ("2026-03-03", 64), ("2026-03-04", 128)]:
        put(query, site, widget, date.fromisoformat(day), shown=shown, signed_up=1)
    put(query, site, widget, date(2026, 2, 1), dim="lang", key="nb", shown=4)  # not twice
    key = make_key(query, site)
    span = {"from": "2026-01-26", "to": "2026-03-03"}  # Monday to Tuesday, 37 days

    weeks = answer(client, site, key, by="week", **span)
    assert weeks["rows"] == [row("2026-01-26", shown=7, signed_up=3),
                             row("2026-02-02", shown=8, signed_up=1),
                             row("2026-02-09"), row("2026-02-16"),
                             row("2026-02-23", shown=48, signed_up=2),
                             row("2026-03-02", shown=64, signed_up=1)]
    assert weeks["totals"] == {**counts(shown=127, signed_up=7), "rates": {
        "opened": 0.0, "signed_up": None, "confirmed": 0.0, "downloaded": 0.0,
        "referred": 0.0, "stories": 0.0, "signed_up_of_shown": 7 / 127}}
    assert weeks["previous"]["from"] == "2025-12-20" and weeks["previous"]["to"] == "2026-01-25"
    assert weeks["previous"]["totals"]["shown"] == 256

    months = answer(client, site, key, by="month", **span)
    assert months["rows"] == [row("2026-01-01", shown=3, signed_up=2),
                              row("2026-02-01", shown=28, signed_up=3),
                              row("2026-03-01", shown=96, signed_up=2)]
    assert months["totals"] == weeks["totals"]

    # A week cut by the range counts only its days in the range, under its Monday.
    cut = answer(client, site, key, by="week", **{"from": "2026-01-31", "to": "2026-02-01"})
    assert cut["rows"] == [row("2026-01-26", shown=6, signed_up=2)]
    days = answer(client, site, key, **{"from": "2026-01-30", "to": "2026-02-02"})
    assert days["rows"] == [row("2026-01-30"), row("2026-01-31", shown=2, signed_up=1),
                            row("2026-02-01", shown=4, signed_up=1),
                            row("2026-02-02", shown=8, signed_up=1)]
    assert (days["previous"]["from"], days["previous"]["to"]) == ("2026-01-26", "2026-01-29")
    # From alone: 30 days on from it; a leap day's February.
    alone = answer(client, site, key, by="month", **{"from": "2028-02-01"})
    assert (alone["from"], alone["to"]) == ("2028-02-01", "2028-03-01")
    assert [r["key"] for r in alone["rows"]] == ["2028-02-01", "2028-03-01"]


def test_pages_top_20_of_25_with_query_strings_merged_languages_and_devices(
        client, site, query):
    widget = first_widget(query, site)
    for i in range(25):  # page /p<i> is shown i + 1 times, in two page views but the first
        views = [(f"{ORIGIN}/p{i}?ref=a", 1), (f"/p{i}?ref=b#x", i)] if i else [("/p0", 1)]
        for page, shown in views:
            events = [{"widget": widget, "type": "impression"}] * shown + (
                [{"widget": widget, "type": "open"}] if i % 2 == 0 and shown == 1 else [])
            beacon(client, site, events, page=page, lang=("en", "nb", "de", "nl")[i % 4],
                   device=counters.DEVICES[i % 3])
    key = make_key(query, site)

    pages = answer(client, site, key, by="page")
    assert pages["rows"] == [row(f"/p{i}", shown=i + 1, opened=int(i % 2 == 0))
                             for i in range(24, 4, -1)]
    assert pages["totals"] == {**counts(shown=325, opened=13), "rates": {
        "opened": 13 / 325, "signed_up": 0.0, "confirmed": None, "downloaded": 0.0,
        "referred": 0.0, "stories": 0.0, "signed_up_of_shown": 0.0}}
    assert answer(client, site, key, by="lang")["rows"] == [
        row("en", shown=91, opened=7), row("nl", shown=84), row("de", shown=78, opened=6),
        row("nb", shown=72)]
    assert answer(client, site, key, by="device")["rows"] == [
        row("mobile", shown=117, opened=5), row("desktop", shown=108, opened=4),
        row("tablet", shown=100, opened=4)]


def test_by_widget_and_variant_and_one_widget_alone(client, site, make_site, query):
    first, second = first_widget(query, site), add_widget(query, site, "newsletter")
    day = date(2026, 5, 4)
    put(query, site, first, day, shown=10, opened=4, signed_up=1)
    put(query, site, first, day, variant=1, shown=20, opened=8, signed_up=4, confirmed=2)
    put(query, site, first, day - timedelta(days=1), variant=1, shown=1)  # the day before
    put(query, site, second, day, shown=5, signed_up=1, stories=1)
    key, span = make_key(query, site), {"from": "2026-05-04", "to": "2026-05-04"}

    widgets = answer(client, site, key, by="widget", **span)
    assert widgets["rows"] == sorted([row(first, shown=30, opened=12, signed_up=5, confirmed=2),
                                      row(second, shown=5, signed_up=1, stories=1)],
                                     key=lambda r: r["key"])
    assert answer(client, site, key, by="variant", **span)["rows"] == [
        row(0, shown=15, opened=4, signed_up=2, stories=1),
        row(1, shown=20, opened=8, signed_up=4, confirmed=2)]

    alone = answer(client, site, key, by="variant", widget=first, **span)
    assert alone["rows"] == [row(0, shown=10, opened=4, signed_up=1),
                             row(1, shown=20, opened=8, signed_up=4, confirmed=2)]
    assert alone["totals"] == {**counts(shown=30, opened=12, signed_up=5, confirmed=2),
                               "rates": {"opened": 12 / 30, "signed_up": 5 / 12,
                                         "confirmed": 2 / 5, "downloaded": 0.0,
                                         "referred": 0.0, "stories": 0.0,
                                         "signed_up_of_shown": 5 / 30}}
    assert alone["previous"]["totals"]["shown"] == 1
    assert answer(client, site, key, widget=second, **span)["rows"] == [
        row("2026-05-04", shown=5, signed_up=1, stories=1)]
    theirs = first_widget(query, make_site("bo@example.com", name="Shop"))
    for other in (theirs, "w_nope", "w" * 65):
        assert_error(get_stats(client, site, key, widget=other), 404, "not_found", "widget")


@pytest.mark.parametrize("params, field", [
    ({"from": "2026-13-01"}, "from"),
    ({"to": "2026-02-30"}, "to"),
    ({"from": "2026-W01-1"}, "from"),
    ({"from": "1 May 2026"}, "from"),
    ({"from": "0001-01-01"}, "from"),  # the period before would be no date at all
    ({"to": "9999-12-31"}, "to"),
    ({"from": "2026-03-02", "to": "2026-03-01"}, "from"),
    ({"from": "2023-01-01", "to": "2026-01-03"}, "to"),  # 1,099 days: over three years
    ({"by": "nonsense"}, "by"),
    ({"by": "DAY"}, "by"),
])
def test_bad_input_is_400_naming_the_field(client, site, query, params, field):
    assert_error(get_stats(client, site, make_key(query, site), **params), 400,
                 "bad_request", field)


def test_three_years_is_the_longest_range(client, site, query):
    body = answer(client, site, make_key(query, site), by="month",
                  **{"from": "2023-01-01", "to": "2026-01-02"})  # 1,098 days
    assert len(body["rows"]) == 37 and body["previous"]["from"] == "2019-12-30"


def test_keys_read_their_own_site_only(client, site, make_site, query):
    theirs = make_site("bo@example.com", name="Shop")
    for scope in ("read", "write"):  # write includes read: no key is refused reading
        assert get_stats(client, site, make_key(query, site, scope)).status_code == 200
    assert_error(get_stats(client, theirs, make_key(query, site)), 404, "site_not_found")
    assert_error(get_stats(client, site, make_key(query, theirs)), 404, "site_not_found")
    assert_error(get_stats(client, "s_nope", make_key(query, site)), 404, "site_not_found")
    resp = get_stats(client, site, None)
    assert_error(resp, 401, "unauthorized")
    assert resp.headers["WWW-Authenticate"].startswith("Bearer")
    assert_error(get_stats(client, site, "rw_live_nope"), 401, "unauthorized")
