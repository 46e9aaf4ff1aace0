"""The "What works" page over real HTTP: counters fed through the public beacon (and
older days as StatDay rows), then what the owner sees: the funnel's counts, rates and
change from the previous period, each view's rows (quiet days as zeros, pages as paths,
widgets and languages by name), the widget filter, the CSV's exact rows with formula
cells neutralised, bad dates explained (422), another owner's site 404, and the site's
time zone saved and used. On SQLite and PostgreSQL."""
from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from widget.insight import counters
from widget.models import Site, StatDay, Widget, utcnow

from .helpers.api import H
from .helpers.http import csrf_post

FORMULA = "=cmd|' /C calc'!A0"
MINUS = "\u2212"


class Tables(HTMLParser):
    """Each table's rows as lists of cell texts (spaces collapsed), by the table's class."""

    def __init__(self, html: str):
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.rows = self.row = self.cell = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.rows = self.tables.setdefault(dict(attrs).get("class", ""), [])
        elif tag == "tr" and self.rows is not None:
            self.row = []
        elif tag in ("td", "th") and self.row is not None:
            self.cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self.cell is not None:
            self.row.append(" ".join("".join(self.cell).split()))
            self.cell = None
        elif tag == "tr" and self.row is not None:
            self.rows.append(self.row)
            self.row = None
        elif tag == "table":
            self.rows = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell.append(data)


def page(client, site: str, status: int = 200, **args) -> dict[str, list[list[str]]]:
    """The stats page's tables (funnel, view) without their header rows."""
    resp = client.get(f"/dashboard/sites/{site}/stats", params=args)
    assert resp.status_code == status, resp.text[:500]
    return {name: rows[1:] for name, rows in Tables(resp.text).tables.items()}


def beacon(client, site: str, widget: str, page_url: str, lang: str, device: str, **types):
    """One page view's beacon: `types` is event type -> how many (impression=8, …)."""
    events = [{"widget": widget, "type": kind} for kind, n in types.items() for _ in range(n)]
    resp = client.post(f"/api/v1/sites/{site}/events", headers=H, json={
        "page": page_url, "lang": lang, "device": device, "events": events})
    assert resp.status_code == 204, resp.text


def plain(day: date) -> str:
    return f"{day.day} {day:%b %Y}"


@pytest.fixture
def world(ann, make_client, make_site, query):
    """Ann's site: its default widget A and a widget B named like a formula; today's
    beacons (A on /post in Norwegian on a phone and on /about in English on a desktop,
    B on /post), and older days as rows: three days ago (A, and two more page paths),
    forty days ago (the previous period) and seventy (in neither)."""
    site = make_site("ann@example.com")

    def add_b(s):
        b = Widget(site_id=site, name=FORMULA, triggers=[], is_live=True)
        s.add(b)
        s.commit()
        return s.scalar(select(Widget.id).where(Widget.site_id == site, Widget.id != b.id)), b.id
    a, b = query(add_b)
    today = counters.local_day(utcnow(), "UTC")
    visitor = make_client()
    beacon(visitor, site, a, "https://blog.example/post?utm_source=x#top", "nb", "mobile",
           impression=8, open=4, submit=2, close=1)
    beacon(visitor, site, a, "https://blog.example/about", "en", "desktop",
           impression=2, open=1)
    beacon(visitor, site, b, "https://blog.example/post", "nb", "mobile", impression=3, open=1)

    def older(s):
        s.add_all([
            StatDay(site_id=site, widget_id=a, day=today - timedelta(days=3), dim="all",
                    key="", shown=10, opened=5, signed_up=2, confirmed=2, downloaded=1,
                    referred=1, stories=1),
            # Older data may hold keys the beacon would not make today.
            StatDay(site_id=site, widget_id=a, day=today - timedelta(days=3), dim="page",
                    key="/+x", shown=3),
            StatDay(site_id=site, widget_id=a, day=today - timedelta(days=3), dim="page",
                    key=FORMULA, shown=1),
            StatDay(site_id=site, widget_id=a, day=today - timedelta(days=40), dim="all",
                    key="", shown=16, opened=10, signed_up=5, confirmed=2),
            StatDay(site_id=site, widget_id=a, day=today - timedelta(days=70), dim="all",
                    key="", shown=1000, opened=900)])
        s.commit()
    query(older)
    return {"site": site, "a": a, "b": b, "today": today,
            "a_name": query(lambda s: s.get(Widget, a).name)}


def test_the_funnel_with_rates_and_the_previous_period(ann, world):
    tables = page(ann, world["site"])
    assert tables["funnel"] == [
        ["Shown", "23", "", "16", "+44 %"],
        ["Opened", "11", "47.8 % of shown", "10", "+10 %"],
        ["Signed up", "4", "36.4 % of opened", "5", f"{MINUS}20 %"],
        ["Confirmed", "2", "50 % of signed up", "2", "0 %"],
        ["Gift downloaded", "1", "4.3 % of shown", "0", "—"],
        ["Friends referred", "1", "4.3 % of shown", "0", "—"],
        ["Stories", "1", "4.3 % of shown", "0", "—"]]
    text = ann.get(f"/dashboard/sites/{world['site']}/stats").text
    today = world["today"]
    assert (f"The funnel: {plain(today - timedelta(days=29))} – {plain(today)} (30 days), "
            f"compared with {plain(today - timedelta(days=59))} – "
            f"{plain(today - timedelta(days=30))} (30 days)") in text
    assert f'value="{today - timedelta(days=29)}"' in text and f'value="{today}"' in text
    assert "nothing here is about one visitor" in text
    site_page = ann.get(f"/dashboard/sites/{world['site']}").text
    assert f'href="/dashboard/sites/{world["site"]}/stats">What works →</a>' in site_page


def test_the_widget_filter(ann, world):
    only_a = page(ann, world["site"], widget=world["a"])["funnel"]
    assert [row[1] for row in only_a] == ["20", "10", "4", "2", "1", "1", "1"]
    assert [row[4] for row in only_a] == [
        "+25 %", "0 %", f"{MINUS}20 %", "0 %", "—", "—", "—"]
    only_b = page(ann, world["site"], widget=world["b"], by="page")
    assert [row[1] for row in only_b["funnel"]] == ["3", "1", "0", "0", "0", "0", "0"]
    assert [row[2] for row in only_b["funnel"]] == [  # nothing signed up: no share of it
        "", "33.3 % of shown", "0 % of opened", "—", "0 % of shown", "0 % of shown",
        "0 % of shown"]
    assert only_b["view"] == [["/post", "3", "1", "0", "0", "0", "0", "0", "0", "0 %"]]
    by_widget = page(ann, world["site"], by="widget")["view"]
    assert sorted(by_widget) == sorted([
        [world["a_name"], "20", "10", "1", "4", "2", "1", "1", "1", "20 %"],
        [FORMULA, "3", "1", "0", "0", "0", "0", "0", "0", "0 %"]])


def test_each_view_lists_its_keys_as_the_owner_reads_them(ann, world):
    site, today = world["site"], world["today"]
    pages = page(ann, site, by="page")["view"]
    assert pages == [  # most shown first; the query string and fragment were never kept
        ["/post", "11", "5", "1", "2", "0", "0", "0", "0", "18.2 %"],
        ["/+x", "3", "0", "0", "0", "0", "0", "0", "0", "0 %"],
        ["/about", "2", "1", "0", "0", "0", "0", "0", "0", "0 %"],
        [FORMULA, "1", "0", "0", "0", "0", "0", "0", "0", "0 %"]]
    assert page(ann, site, by="lang")["view"] == [
        ["Norsk (bokmål)", "11", "5", "1", "2", "0", "0", "0", "0", "18.2 %"],
        ["English", "2", "1", "0", "0", "0", "0", "0", "0", "0 %"]]
    assert page(ann, site, by="device")["view"] == [
        ["Mobile", "11", "5", "1", "2", "0", "0", "0", "0", "18.2 %"],
        ["Desktop", "2", "1", "0", "0", "0", "0", "0", "0", "0 %"]]
    assert page(ann, site, by="variant")["view"] == [
        ["Outside a test", "23", "11", "1", "4", "2", "1", "1", "1", "17.4 %"]]

    days = page(ann, site, by="day", **{"from": str(today - timedelta(days=3)),
                                         "to": str(today)})
    label = [f"{d:%a} {plain(d)}" for d in (today - timedelta(days=n) for n in (3, 2, 1, 0))]
    assert days["view"] == [
        [label[0], "10", "5", "0", "2", "2", "1", "1", "1", "20 %"],
        [label[1], "0", "0", "0", "0", "0", "0", "0", "0", "—"],  # quiet days: zeros
        [label[2], "0", "0", "0", "0", "0", "0", "0", "0", "—"],
        [label[3], "13", "6", "1", "2", "0", "0", "0", "0", "15.4 %"]]
    assert [row[1] for row in days["funnel"]] == ["23", "11", "4", "2", "1", "1", "1"]
    months = page(ann, site, by="month", **{"from": "2025-01-15", "to": "2025-03-10"})
    assert [row[0] for row in months["view"]] == ["January 2025", "February 2025",
                                                  "March 2025"]
    weeks = page(ann, site, by="week", **{"from": "2025-03-05", "to": "2025-03-18"})
    assert [row[0] for row in weeks["view"]] == ["3 Mar 2025", "10 Mar 2025", "17 Mar 2025"]


def test_the_csv_of_a_view(ann, world):
    site, today = world["site"], world["today"]
    start = today - timedelta(days=29)
    resp = ann.get(f"/dashboard/sites/{site}/stats.csv", params={"by": "page"})
    assert resp.status_code == 200, resp.text
    assert resp.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert resp.headers["Content-Disposition"] == (
        f'attachment; filename="what-works-{site}-page-{start}-{today}.csv"')
    assert resp.content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(resp.content.decode("utf-8-sig"), newline="")))
    assert rows == [
        ["page", "shown", "opened", "closed", "signed_up", "confirmed", "downloaded",
         "referred", "stories", "signup_rate"],
        ["/post", "11", "5", "1", "2", "0", "0", "0", "0", "0.1818"],
        ["/+x", "3", "0", "0", "0", "0", "0", "0", "0", "0.0"],  # not a formula: as it is
        ["/about", "2", "1", "0", "0", "0", "0", "0", "0", "0.0"],
        ["'" + FORMULA, "1", "0", "0", "0", "0", "0", "0", "0", "0.0"]]

    # The page's CSV link carries its view; days as YYYY-MM-DD, a widget by its name.
    text = ann.get(f"/dashboard/sites/{site}/stats", params={"by": "widget"}).text
    assert (f'href="/dashboard/sites/{site}/stats.csv?from={start}&amp;to={today}'
            f'&amp;by=widget">Download CSV</a>') in text
    by_widget = ann.get(f"/dashboard/sites/{site}/stats.csv",
                        params={"by": "widget", "from": str(start), "to": str(today)})
    rows = list(csv.reader(io.StringIO(by_widget.content.decode("utf-8-sig"), newline="")))
    assert rows[0][0] == "widget" and sorted(rows[1:]) == sorted([
        [world["a_name"], "20", "10", "1", "4", "2", "1", "1", "1", "0.2"],
        ["'" + FORMULA, "3", "1", "0", "0", "0", "0", "0", "0", "0.0"]])
    days = ann.get(f"/dashboard/sites/{site}/stats.csv", params={
        "from": str(today - timedelta(days=2)), "to": str(today), "widget": world["b"]})
    rows = list(csv.reader(io.StringIO(days.content.decode("utf-8-sig"), newline="")))
    assert rows[1:] == [
        [str(today - timedelta(days=2)), "0", "0", "0", "0", "0", "0", "0", "0", ""],
        [str(today - timedelta(days=1)), "0", "0", "0", "0", "0", "0", "0", "0", ""],
        [str(today), "3", "1", "0", "0", "0", "0", "0", "0", "0.0"]]


def test_another_owners_site_is_404(ann, make_site):
    theirs = make_site("bob@example.com")
    for suffix in ("stats", "stats.csv", "stats?by=page", "stats.csv?by=widget"):
        assert ann.get(f"/dashboard/sites/{theirs}/{suffix}").status_code == 404, suffix


@pytest.mark.parametrize("args, field, message", [
    ({"from": "2025-02-30"}, "from", "“From” must be a date as YYYY-MM-DD"),
    ({"to": "yesterday"}, "to", "“Until” must be a date as YYYY-MM-DD"),
    ({"from": "2025-03-10", "to": "2025-03-01"}, "from", "“From” is after “Until”."),
    ({"from": "2020-01-01", "to": "2025-01-01"}, "to", "A range spans at most 1098 days."),
    ({"by": "year"}, "by", "Choose one of the views in the list."),
    ({"widget": "w_nope"}, "widget", "Choose one of this site's widgets, or all of them."),
])
def test_what_the_form_cannot_take_is_explained_next_to_its_field(ann, make_site, args,
                                                                   field, message):
    site = make_site("ann@example.com")
    resp = ann.get(f"/dashboard/sites/{site}/stats", params=args)
    assert resp.status_code == 422
    # The message (insight/stats' words, its query names as the form's labels) at its field.
    assert (f'<p class="error" role="alert" id="stats-{field}-error">{message}'
            .replace("'", "&#39;")) in resp.text
    assert f'aria-describedby="stats-{field}-error"' in resp.text
    assert "<table" not in resp.text and "Download CSV" not in resp.text
    csv_resp = ann.get(f"/dashboard/sites/{site}/stats.csv", params=args)
    assert csv_resp.status_code == 422 and csv_resp.text.startswith(message)


def test_another_sites_widget_is_not_a_filter(ann, make_site, query):
    mine, theirs = make_site("ann@example.com"), make_site("bob@example.com")
    their_widget = query(lambda s: s.scalar(select(Widget.id).where(Widget.site_id == theirs)))
    resp = ann.get(f"/dashboard/sites/{mine}/stats", params={"widget": their_widget})
    assert resp.status_code == 422 and "Choose one of this site&#39;s widgets" in resp.text


def test_the_time_zone_is_saved_used_and_checked(ann, make_client, make_site, query):
    site = make_site("ann@example.com")
    path = f"/dashboard/sites/{site}/settings"
    form = ann.get(path).text
    assert '<option selected value="UTC">UTC</option>' in form
    assert '<option value="Europe/Oslo">Europe/Oslo</option>' in form
    assert "localtime" not in form
    settings = {"name": "Blog", "origins": "https://blog.example", "default_lang": "en"}
    # A day 14 hours ahead of UTC: never the day UTC or the server has now.
    assert csrf_post(ann, path, {**settings, "time_zone": "Pacific/Kiritimati"}
                     ).status_code == 302
    assert query(lambda s: s.get(Site, site).time_zone) == "Pacific/Kiritimati"
    assert csrf_post(ann, path, settings).status_code == 302  # not sent: kept
    assert query(lambda s: s.get(Site, site).time_zone) == "Pacific/Kiritimati"

    widget = query(lambda s: s.scalar(select(Widget.id).where(Widget.site_id == site)))
    before = datetime.now(ZoneInfo("Pacific/Kiritimati")).date()
    beacon(make_client(), site, widget, "https://blog.example/", "en", "desktop", impression=1)
    after = datetime.now(ZoneInfo("Pacific/Kiritimati")).date()
    counted = query(lambda s: s.scalar(select(StatDay.day).where(StatDay.site_id == site)))
    assert counted in (before, after)
    zone = ZoneInfo("Pacific/Kiritimati")
    days = {datetime.now(zone).date()}
    text = ann.get(f"/dashboard/sites/{site}/stats").text
    days.add(datetime.now(zone).date())
    assert "Days are your site's days in Pacific/Kiritimati" in text
    assert any(f'name="to" type="date" value="{day}"' in text for day in days)  # its today

    for bad in ("Mars/Olympus", "localtime", "", "Europe/Oslo\n"):
        resp = csrf_post(ann, path, {**settings, "time_zone": bad})
        assert resp.status_code == 422, bad
        assert "Choose a time zone from the list, such as Europe/Oslo or UTC." in resp.text
    assert query(lambda s: s.get(Site, site).time_zone) == "Pacific/Kiritimati"
    new = csrf_post(ann, "/dashboard/sites/new", {**settings, "name": "Shop",
                                                 "time_zone": "America/New_York"})
    assert new.status_code == 302
    made = new.headers["Location"].rstrip("/").rsplit("/", 1)[1]
    assert query(lambda s: s.get(Site, made).time_zone) == "America/New_York"
