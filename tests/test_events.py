"""Widget events: batched from the page, stored as daily counters, shown to the owner."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from widget.models import Widget, WidgetDay

from .helpers.api import ORIGIN, H, assert_error


@pytest.fixture
def site(make_site):
    return make_site(origins=[ORIGIN])


@pytest.fixture
def wid(query, site):
    return query(lambda s: s.scalar(select(Widget.id).where(Widget.site_id == site)))


def send(client, site, events, headers=H):
    # As navigator.sendBeacon sends a string: text/plain, no preflight.
    return client.post(f"/api/v1/sites/{site}/events", data=json.dumps({"events": events}),
                       headers={**headers, "Content-Type": "text/plain;charset=UTF-8"})


def counters(query):
    return query(lambda s: [(r.impressions, r.opens, r.closes, r.submits)
                            for r in s.scalars(select(WidgetDay))])


def test_batches_add_up_in_one_row_per_widget_and_day(client, site, wid, query):
    resp = send(client, site, [{"widget": wid, "type": t}
                               for t in ("impression", "open", "close")])
    assert resp.status_code == 204
    assert resp.headers["Access-Control-Allow-Origin"] == ORIGIN
    send(client, site, [{"widget": wid, "type": "impression"}, {"widget": wid, "type": "open"},
                        {"widget": wid, "type": "submit"}])
    assert counters(query) == [(2, 2, 1, 1)]


@pytest.mark.parametrize("events, status, code, field", [
    ([{"widget": "w_nope", "type": "open"}], 422, "unknown_widget", "widget"),
    ([{"widget": "WID", "type": "hover"}], 422, "invalid_event", "events"),
    (["open"], 400, "invalid_type", "events"),
    ([{"widget": "WID", "type": "open"}] * 50, 413, "payload_too_large", None),
])
def test_bad_batches_are_refused_whole(client, site, wid, query, events, status, code, field):
    events = json.loads(json.dumps(events).replace("WID", wid))
    assert_error(send(client, site, [{"widget": wid, "type": "open"}] + events), status, code,
                 field)
    assert counters(query) == []


def test_events_from_other_origins_or_sites_are_refused(client, site, wid, make_site, query):
    assert_error(send(client, site, [{"widget": wid, "type": "open"}],
                      headers={"Origin": "https://evil.example"}), 403, "origin_not_allowed")
    other = make_site(owner_email="o@example.com", origins=["https://o.example"])
    assert_error(send(client, other, [{"widget": wid, "type": "open"}],
                      headers={"Origin": "https://o.example"}), 422, "unknown_widget", "widget")
    assert_error(client.post(f"/api/v1/sites/{site}/events", data="{", headers={
        **H, "Content-Type": "text/plain"}), 400, "invalid_json")
    assert counters(query) == []


@pytest.fixture
def limited(app_config):
    app_config.update(RATE_LIMITS=True, RATE_LIMIT_IP="100/minute",
                      RATE_LIMIT_EMAIL="100/hour", RATE_LIMIT_LOGIN="10/minute",
                      RATE_LIMIT_EVENTS="3/minute", RATE_LIMIT_STORAGE="memory://")


def test_event_batches_are_rate_limited(limited, client, site, wid):
    for _ in range(3):
        assert send(client, site, [{"widget": wid, "type": "open"}]).status_code == 204
    assert_error(send(client, site, [{"widget": wid, "type": "open"}]), 429, "rate_limited")


def test_owner_sees_the_last_30_days_per_widget(client, make_owner, make_site, query):
    make_owner("ann@example.com")
    site = make_site("ann@example.com", origins=[ORIGIN])
    wid = query(lambda s: s.scalar(select(Widget.id).where(Widget.site_id == site)))
    send(client, site, [{"widget": wid, "type": "impression"}] * 40
         + [{"widget": wid, "type": "open"}] * 8 + [{"widget": wid, "type": "submit"}] * 2)
    client.login("ann@example.com")
    page = client.get(f"/dashboard/sites/{site}").text
    assert "40 shown · 8 started · 2 sign-ups (5%)" in page
