"""A/B tests over real HTTP: the owner starts a test on the dashboard; the config gives
each variant with the pattern that picks it (every first-visit time gets exactly one);
beacons, sign-ups and confirmations count for the variant the browser saw; nothing is
declared and no variant can be made the widget before the sample; then "Make this the
widget" changes the widget and keeps the test as history. Variants that break the
product's rules (unreadable colours, a guilt-trip or hidden "No thanks") are refused and
nothing is saved. On SQLite and PostgreSQL."""
from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import func, select

from widget.insight import counters
from widget.models import StatDay, Subscriber, Widget, WidgetTest, utcnow

from .helpers.api import H
from .helpers.giveback import confirm, join
from .helpers.http import csrf_post


def first_widget(query, site: str) -> str:
    return query(lambda s: s.scalar(select(Widget.id).where(Widget.site_id == site)))


def page_of(site: str, widget: str) -> str:
    return f"/dashboard/sites/{site}/widgets/{widget}/tests"


def variant(**fields) -> dict:
    return {f"b-{k}": v for k, v in fields.items()}


def start(ann, site, widget, min_shown=100, **data):
    return csrf_post(ann, page_of(site, widget), {"min_shown": min_shown, **data})


def config(client, site) -> list[dict]:
    resp = client.get(f"/api/v1/sites/{site}/widgets?lang=en", headers=H)
    assert resp.status_code == 200
    return resp.json()["widgets"]


def running(query, widget) -> WidgetTest | None:
    def run(s):
        test = s.scalar(select(WidgetTest).where(WidgetTest.widget_id == widget,
                                                 WidgetTest.ended_at.is_(None)))
        if test is not None:
            test.variants  # loaded while the session is open
        return test
    return query(run)


def by_variant(query, widget) -> dict[int, dict]:
    rows = query(lambda s: s.execute(
        select(StatDay.variant, func.sum(StatDay.shown), func.sum(StatDay.signed_up),
               func.sum(StatDay.confirmed))
        .where(StatDay.widget_id == widget, StatDay.dim == "all")
        .group_by(StatDay.variant)).all())
    return {v: {"shown": a, "signed_up": b, "confirmed": c} for v, a, b, c in rows}


def test_a_test_from_the_form_to_the_config(ann, client, make_site, query):
    site = make_site("ann@example.com")
    widget = first_widget(query, site)
    resp = start(ann, site, widget, **variant(name="Shorter", title="Two minutes a week"),
                 **{"c-name": "Warm", "c-color_bg": "#FFF6D6", "c-color_fg": "#1d232b",
                    "c-trigger": "scroll", "c-trigger_value": "40"})
    assert resp.status_code == 302, resp.text[:2000]
    test = running(query, widget)
    assert [(v.position, v.name, v.changes) for v in test.variants] == [
        (0, "Original", {}), (1, "Shorter", {"title": "Two minutes a week"}),
        (2, "Warm", {"color_bg": "#fff6d6", "color_fg": "#1d232b",
                     "triggers": [["scroll", 40]], "trigger_match": "any"})]
    entries = config(client, site)
    assert [e["id"] for e in entries] == [widget] * 3
    assert [e["v"] for e in entries] == [v.id for v in test.variants]
    assert entries[1]["title"] == "Two minutes a week"
    assert entries[2]["on"] == [["s", 40]] and entries[2]["theme"]["--rw-bg"] == "#fff6d6"
    assert entries[0]["title"] == entries[2]["title"] != entries[1]["title"]
    # Every first-visit time gets exactly one variant, about a third each.
    patterns = [re.compile(e["a"]) for e in entries]
    got = [0, 0, 0]
    for ms in range(1_796_000_000_000, 1_796_000_000_000 + 3_000_000, 997):
        hits = [i for i, p in enumerate(patterns) if p.search(str(ms))]
        assert len(hits) == 1, (ms, hits)
        got[hits[0]] += 1
    assert all(abs(n / sum(got) - 1 / 3) < 0.02 for n in got), got
    # The site page says a test runs; a second one cannot start beside it.
    assert "A/B test running" in ann.get(f"/dashboard/sites/{site}").text
    again = start(ann, site, widget, **variant(name="Other", title="x"))
    assert again.status_code == 200 and "Start the test" not in again.text
    assert len(query(lambda s: s.scalars(select(WidgetTest)).all())) == 1


def test_variants_that_break_the_rules_are_refused(ann, make_site, query):
    site = make_site("ann@example.com")
    widget = first_widget(query, site)
    cases = [
        (variant(name="Shame", no_thanks_label="No thanks, I hate saving money"), "guilt trip"),
        (variant(name="Hidden", no_thanks_label="\u200b"), "no letter or digit"),
        (variant(name="Pale", color_bg="#ffffff", color_fg="#dddddd"), "contrast"),
        (variant(name="Same"), "changes nothing"),
        (variant(name="Original", title="x"), "own short name"),
        ({}, "Name at least one variant"),
    ]
    for data, message in cases:
        resp = start(ann, site, widget, **data)
        assert resp.status_code == 200, (data, resp.status_code)
        assert message in resp.text, (message, resp.text[:3000])
    resp = start(ann, site, widget, min_shown=10, **variant(name="B", title="x"))
    assert resp.status_code == 200 and "Number must be between 100" in resp.text
    assert query(lambda s: s.scalar(select(func.count(WidgetTest.id)))) == 0


def test_counts_sign_ups_and_confirmations_follow_the_variant(app, ann, client, make_site,
                                                              query):
    site = make_site("ann@example.com")
    widget = first_widget(query, site)
    assert start(ann, site, widget, **variant(name="B", title="Short")).status_code == 302
    original, b = (v.id for v in running(query, widget).variants)
    events = ([{"widget": widget, "type": "impression", "variant": original}] * 3
              + [{"widget": widget, "type": "impression", "variant": b}] * 2
              + [{"widget": widget, "type": "submit", "variant": b}]
              # a variant of no running test counts for the widget itself
              + [{"widget": widget, "type": "impression", "variant": 999_999}])
    resp = client.post(f"/api/v1/sites/{site}/events", headers=H, json={"events": events})
    assert resp.status_code == 204
    assert join(client, site, "ann@example.com", widget=widget, variant=b).status_code == 200
    assert join(client, site, "bob@example.com", widget=widget, variant="x").status_code == 200
    rows = query(lambda s: dict(s.execute(select(Subscriber.email, Subscriber.variant_id))
                                .all()))
    assert rows == {"ann@example.com": b, "bob@example.com": None}
    confirm(app, client, query, "ann@example.com")
    confirm(app, client, query, "bob@example.com")
    assert by_variant(query, widget) == {
        0: {"shown": 1, "signed_up": 0, "confirmed": 1},
        original: {"shown": 3, "signed_up": 0, "confirmed": 0},
        b: {"shown": 2, "signed_up": 1, "confirmed": 1}}
    # "What works" by variant names each by its widget, name and test.
    view = ann.get(f"/dashboard/sites/{site}/stats", params={"by": "variant"}).text
    name = query(lambda s: s.get(Widget, widget).name)
    day = utcnow()
    started = f"{day.day} {day:%b %Y}"
    for label in ("Outside a test", f"{name}: Original (test of {started})",
                  f"{name}: B (test of {started})"):
        assert label in view, label


def test_no_winner_before_the_sample_then_make_it_the_widget(ann, make_site, query, client):
    site = make_site("ann@example.com")
    widget = first_widget(query, site)
    assert start(ann, site, widget, min_shown=200,
                 **variant(name="Short", title="Two minutes a week")).status_code == 302
    test = running(query, widget)
    original, b = test.variants

    def counts(shown_a, up_a, ok_a, shown_b, up_b, ok_b):
        def run(s):
            s.query(StatDay).filter(StatDay.widget_id == widget).delete()
            day = counters.local_day(utcnow(), "UTC")
            s.add_all([StatDay(site_id=site, widget_id=widget, variant=original.id, day=day,
                               dim="all", key="", shown=shown_a, signed_up=up_a,
                               confirmed=ok_a),
                       StatDay(site_id=site, widget_id=widget, variant=b.id,
                               day=day - timedelta(days=1), dim="all", key="", shown=shown_b,
                               signed_up=up_b, confirmed=ok_b)])
            s.commit()
        query(run)

    path = page_of(site, widget)
    end = f"{path}/{test.id}/end"
    # A large gap, but B has been shown 150 times of the 200 set: nothing is declared.
    counts(1000, 20, 18, 150, 40, 35)
    page = ann.get(path).text
    assert "Collecting" in page and "Make this the widget" not in page
    refused = csrf_post(ann, end, {"winner": b.id}, page=path)
    assert refused.status_code == 302 and running(query, widget) is not None
    assert "before every variant has reached" in ann.get(path).text
    # More sign-ups that do not confirm do not win.
    counts(1000, 20, 18, 1000, 60, 10)
    page = ann.get(path).text
    assert "Collecting" not in page and "does better than the original" not in page
    # Both better: B is named, and made the widget.
    counts(1000, 20, 18, 1000, 60, 55)
    page = ann.get(path).text
    assert "Short does better than the original" in page
    assert csrf_post(ann, end, {"winner": b.id}, page=path).status_code == 302
    assert running(query, widget) is None
    assert query(lambda s: s.get(Widget, widget).title) == "Two minutes a week"
    entries = config(client, site)
    assert len(entries) == 1 and "v" not in entries[0]
    assert entries[0]["title"] == "Two minutes a week"
    history = ann.get(path).text
    assert "Earlier tests" in history and "(made the widget)" in history
    assert "Start the test" in history  # a new test may start
    # Ending it twice does nothing more.
    assert csrf_post(ann, end, {"winner": ""}, page=path).status_code == 302


def test_stop_keeps_the_widget_and_others_cannot_see_or_end_it(ann, make_client, make_owner,
                                                               make_site, query):
    site = make_site("ann@example.com")
    widget = first_widget(query, site)
    assert start(ann, site, widget, **variant(name="B", title="New")).status_code == 302
    test = running(query, widget)
    path = page_of(site, widget)
    bob = make_client()
    make_owner("bob@example.com")
    bob.login("bob@example.com")
    assert bob.get(path).status_code == 404
    token = bob.csrf("/dashboard/")
    assert bob.post(f"{path}/{test.id}/end", data={"csrf_token": token}).status_code == 404
    assert ann.post(f"{path}/{test.id}/end", data={}).status_code in (302, 400)
    assert running(query, widget) is not None  # no CSRF token: nothing ended
    assert csrf_post(ann, f"{path}/{test.id}/end", {"winner": ""}, page=path).status_code == 302
    assert running(query, widget) is None
    assert query(lambda s: s.get(Widget, widget).title) is None
