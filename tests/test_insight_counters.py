"""The funnel's counters: what a page view's beacon adds (by page path, language and
device class, never a query string, nothing that tells visitors apart), what the server
adds in the transaction of the change (confirmed, a gift downloaded, a friend referred,
a story told), on the day of the site's own calendar, summer time included, and that
beacons arriving at once lose no count. Both databases."""
from __future__ import annotations

import threading
from datetime import date, datetime, timezone

from sqlalchemy import select

from widget.core import db, rawsql
from widget.insight import counters, stats
from widget.models import STAT_COUNTERS, StatDay, Widget

from .helpers.giveback import add_widget, confirm, join, member, set_site, tell
from .helpers.gifts import claimed, file_gift, ticket
from .helpers.mail import path_of

ORIGIN = "https://blog.example"


def beacon(client, site: str, events, **where):
    resp = client.post(f"/api/v1/sites/{site}/events", json={**where, "events": events},
                       headers={"Origin": ORIGIN})
    assert resp.status_code == 204, resp.text
    return resp


def counted(query, widget_id: str) -> dict[tuple[str, str], dict[str, int]]:
    """Every row of the widget, summed over days: {(dim, key): {counter: n}} without zeros."""
    def run(s):
        out: dict = {}
        for row in s.scalars(select(StatDay).where(StatDay.widget_id == widget_id)):
            got = out.setdefault((row.dim, row.key), {})
            for name in STAT_COUNTERS:
                if getattr(row, name):
                    got[name] = got.get(name, 0) + getattr(row, name)
        return out
    return query(run)


def first_widget(query, site: str) -> str:
    return query(lambda s: s.scalar(select(Widget.id).where(Widget.site_id == site)))


def test_a_beacon_counts_in_all_and_by_page_language_and_device(client, make_site, query):
    site = make_site()
    widget = first_widget(query, site)
    beacon(client, site, [{"widget": widget, "type": "impression"},
                          {"widget": widget, "type": "open"},
                          {"widget": widget, "type": "submit"}],
           page=f"{ORIGIN}/bread/sourdough?utm_source=news&email=kari@example.com#top",
           lang="nb", device="mobile")
    beacon(client, site, [{"widget": widget, "type": "impression"},
                          {"widget": widget, "type": "close"}],
           page="/bread/sourdough", lang="xx", device="fridge")  # unknown: all and page only
    beacon(client, site, [{"widget": widget, "type": "impression"}],
           page="javascript:alert(1)")  # not a path: all only
    assert counted(query, widget) == {
        ("all", ""): {"shown": 3, "opened": 1, "closed": 1, "signed_up": 1},
        ("page", "/bread/sourdough"): {"shown": 2, "opened": 1, "closed": 1, "signed_up": 1},
        ("lang", "nb"): {"shown": 1, "opened": 1, "signed_up": 1},
        ("device", "mobile"): {"shown": 1, "opened": 1, "signed_up": 1},
    }


def test_the_day_is_the_sites_own_across_a_change_to_summer_time(app, make_site, query):
    site = make_site()
    set_site(query, site, time_zone="America/New_York")  # summer time from 8 March 2026
    widget = first_widget(query, site)
    moments = ["2026-03-08T04:30:00", "2026-03-08T05:30:00",  # 23:30 on the 7th; 00:30
               "2026-03-09T03:30:00", "2026-03-09T04:30:00",  # 23:30 EDT on the 8th; 00:30
               "2026-02-28T23:00:00"]  # 18:00 on 28 February: a month earlier
    with app.app_context():
        for moment in moments:
            now = datetime.fromisoformat(moment).replace(tzinfo=timezone.utc)
            rawsql.write(db.engine(), lambda tx, now=now: counters.count(
                tx, site, widget, "confirmed", page_url=f"{ORIGIN}/p", lang="en", now=now))
        session = db.session()
        by_day = stats.rows(session, site, stats.Range(date(2026, 3, 6), date(2026, 3, 10)),
                            "day")
        by_month = stats.rows(session, site, stats.Range(date(2026, 2, 27), date(2026, 3, 9)),
                              "month")
    assert [(r["key"], r["confirmed"]) for r in by_day] == [
        ("2026-03-06", 0), ("2026-03-07", 1), ("2026-03-08", 2), ("2026-03-09", 1),
        ("2026-03-10", 0)]  # the 8th had 23 hours, and both of its moments
    assert [(r["key"], r["confirmed"]) for r in by_month] == [
        ("2026-02-01", 1), ("2026-03-01", 4)]


def test_concurrent_beacons_lose_no_count(client, make_site, query):
    site = make_site()
    widgets = [first_widget(query, site), add_widget(query, site, "newsletter")]
    errors: list = []

    def visitor(n: int) -> None:
        try:
            for i in range(10):  # two widgets a beacon, in either order
                order = widgets if (n + i) % 2 else widgets[::-1]
                beacon(client, site, [{"widget": w, "type": t} for w in order
                                      for t in ("impression", "open")],
                       page=f"/post-{i % 3}", lang="de", device="desktop")
        except Exception as exc:  # noqa: BLE001 (reported below)
            errors.append(exc)

    threads = [threading.Thread(target=visitor, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    for widget in widgets:
        rows = counted(query, widget)
        assert rows[("all", "")] == {"shown": 80, "opened": 80}
        assert rows[("lang", "de")] == rows[("device", "desktop")] == {"shown": 80,
                                                                        "opened": 80}
        assert sum(rows[("page", f"/post-{i}")]["shown"] for i in range(3)) == 80


def test_the_server_counts_confirmations_downloads_referrals_and_stories(
        app, client, make_site, query):
    site = make_site()
    widget = first_widget(query, site)
    page = f"{ORIGIN}/bread?ref=x"
    ann = member(app, client, query, site, "ann@example.com", widget=widget, page_url=page,
                 lang="de")
    assert join(client, site, "bob@example.com", ann.ref_code).status_code == 200
    assert counted(query, widget)[("all", "")] == {"confirmed": 1}  # bob is pending
    confirm(app, client, query, "bob@example.com")  # bob came through no widget
    rows = counted(query, widget)
    assert rows[("all", "")] == {"confirmed": 1, "referred": 1}  # ann's friend counts
    assert rows[("page", "/bread")] == rows[("lang", "de")] == {"confirmed": 1,
                                                                "referred": 1}

    gift, gift_widget = file_gift(query, site)
    given = claimed(client, site, gift_widget, page_url=f"{ORIGIN}/gifts")
    gift_page = path_of(given["page"])
    for _ in range(2):  # the same person twice: one who downloaded
        assert client.get(ticket(client, gift_page)).status_code == 200
    assert counted(query, gift_widget) == {("all", ""): {"downloaded": 1},
                                           ("page", "/gifts"): {"downloaded": 1}}

    story_widget = add_widget(query, site, "story")
    assert tell(client, site, widget=story_widget, lang="nl",
                page_url=f"{ORIGIN}/about").status_code == 201
    assert counted(query, story_widget) == {("all", ""): {"stories": 1},
                                            ("page", "/about"): {"stories": 1},
                                            ("lang", "nl"): {"stories": 1}}
