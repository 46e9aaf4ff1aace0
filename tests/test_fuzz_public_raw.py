"""Raw bodies no client should send, to every public write (sign-ups, gifts given first,
stories and widget events), over real HTTP to the real app on SQLite and PostgreSQL: a
property (Hypothesis) that each is refused cleanly, a documented 4xx leaving every table
as it was, never a 5xx. The inputs the fuzzing found answering 500 (deep nesting, a page
address urlsplit refuses, lone surrogates, ratings in other digits, event types of other
JSON types) are kept after it as plain regression tests. The properties of valid-shaped
bodies are tests/test_fuzz_public.py's and tests/test_fuzz_public_stories_events.py's."""
from __future__ import annotations

import json
from collections import Counter
from urllib.parse import urlencode

import pytest
from hypothesis import given
from hypothesis import strategies as st

from .helpers import fuzz_public as shared
from .helpers.fuzz import (FUZZ, JSON_LIKE, assert_refusal, changes, content_type, is_form,
                           mimetype, raw_json, snapshot)
from .helpers.fuzz_public import ORIGIN, PAGE, answer, post, widget_of
from .helpers.gifts import file_gift

# The sites each write is sent to (fixtures).
signup_sites, gift_site = shared.signup_sites, shared.gift_site
story_site, event_site = shared.story_site, shared.event_site


# --- raw bodies ---------------------------------------------------------------------------

def test_raw_bodies_are_refused_cleanly_everywhere(client, app, query, signup_sites,
                                                   gift_site, story_site, event_site):
    """Bodies no client should send, to every public write (random bytes, cut-off and
    padded JSON around the size limit, huge numbers, deep nesting, lone surrogates,
    duplicate keys, UTF-16, a BOM, scalars, nothing), under every content type: never a
    5xx; a refusal documented and without a trace; what is accepted leaves only what
    that endpoint may write."""
    limit = app.config["MAX_BODY"]
    doi = next(iter(signup_sites))
    gift, story, (ev_site, own, _other) = gift_site, story_site, event_site
    endpoints = {
        "subscriptions": (f"/api/v1/sites/{doi}/subscriptions",
                          {"email": "reader@example.com", "consent": True, "name": "Kari",
                           "widget": signup_sites[doi], "page_url": PAGE}),
        "grants": (f"/api/v1/sites/{gift[0]}/grants", {"widget": gift[1]["file"]}),
        "stories": (f"/api/v1/sites/{story[0]}/stories",
                    {"name": "Kari", "text": "Lovely bread.", "consent": True, "rating": 5}),
        "events": (f"/api/v1/sites/{ev_site}/events",
                   {"events": [{"widget": own[0], "type": "open"}]}),
    }
    may_write = {"subscriptions": {"subscribers", "consents", "status_changes", "outbox",
                                   "subscribers_updated", "stat_days"},
                 "grants": {"gift_grants"}, "stories": {"stories", "outbox", "stat_days"},
                 "events": {"stat_days", (own[0], "opened")}}
    seen = Counter()

    @FUZZ
    @given(data=st.data(), name=st.sampled_from(sorted(endpoints)),
           ctype=st.one_of(st.sampled_from(["application/json", "text/plain"]),
                           content_type()),
           origin=st.sampled_from([None, ORIGIN]))
    def prop(data, name, ctype, origin):
        path, good = endpoints[name]
        raw = data.draw(raw_json(json.dumps(good).encode(), limit), "raw")
        before = snapshot(query)
        resp = post(client, path, raw, ctype, origin)
        after = snapshot(query)
        if len(raw) > limit:  # the type is checked first, then the size (docs/api.md)
            typed = mimetype(ctype) in JSON_LIKE or (is_form(ctype) and name != "events")
            assert resp.status_code == (413 if typed else 415), (len(raw), resp.status_code)
        if answer(resp, origin, is_form(ctype), before, after) == "refused":
            seen["refused"] += 1
            return
        assert set(changes(before, after)) <= may_write[name], changes(before, after)
        seen["accepted"] += 1

    prop()
    assert seen["refused"] and seen["accepted"], seen


# --- what the fuzzing found: 500s for bad input (nothing is written) ----------------------
# Each answers 500 internal_error today, on SQLite and PostgreSQL, and keeps no row.
# docs/api.md: "500 internal_error (never for bad input)".

def refused_cleanly(client, query, path: str, raw: bytes, ctype: str = "application/json"):
    """POST raw bytes: a documented refusal that keeps nothing."""
    before = snapshot(query)
    resp = client.post(path, data=raw, headers={"Content-Type": ctype})
    assert resp.status_code < 500, (resp.status_code, resp.text[:200])
    assert_refusal(resp, is_form(ctype))
    assert changes(before, snapshot(query)) == {}
    return resp


@pytest.mark.parametrize("endpoint", ["subscriptions", "grants", "stories", "events"])
def test_deeply_nested_json_is_invalid_json(client, make_site, query, endpoint):
    site = make_site(origins=[ORIGIN])
    raw = b'{"email": ' + b"[" * 1000 + b"]" * 1000 + b"}"
    resp = refused_cleanly(client, query, f"/api/v1/sites/{site}/{endpoint}", raw)
    assert resp.json()["error"]["code"] == "invalid_json"


@pytest.mark.parametrize("endpoint, body, encoding", [
    ("subscriptions", {"email": "reader@example.com", "consent": True}, "json"),
    ("subscriptions", {"email": "reader@example.com", "consent": "on"}, "form"),
    ("stories", {"name": "Kari", "text": "Lovely bread."}, "json"),
    ("grants", {}, "json"),
], ids=["signup", "signup-form", "story", "gift"])
def test_a_page_url_urlsplit_refuses_is_invalid_url(client, make_site, query, endpoint, body,
                                                    encoding):
    site = make_site(origins=[ORIGIN])
    body = {**body, "page_url": "http://["}
    if encoding == "json":
        raw, ctype = json.dumps(body).encode(), "application/json"
    else:
        raw, ctype = urlencode(body).encode(), "application/x-www-form-urlencoded"
    resp = refused_cleanly(client, query, f"/api/v1/sites/{site}/{endpoint}", raw, ctype)
    assert resp.status_code == 422


@pytest.mark.parametrize("endpoint, body", [
    pytest.param("subscriptions", '{"email": "reader@example.com", "consent": true, '
                 '"name": "\\ud800"}', id="signup-name"),
    pytest.param("subscriptions", '{"email": "reader@example.com", "consent": true, '
                 '"page_url": "https://blog.example/\\udfff"}', id="signup-page_url"),
    pytest.param("subscriptions", '{"email": "reader@example.com", "consent": true, '
                 '"grant": "\\ud800"}', id="signup-grant"),
    pytest.param("stories", '{"name": "Kari\\ud83d", "text": "Lovely bread."}', id="story-name"),
    pytest.param("stories", '{"name": "Kari", "text": "\\udc80"}', id="story-text"),
    pytest.param("stories", '{"name": "Kari", "text": "Lovely.", '
                 '"page_url": "https://blog.example/\\ud800"}', id="story-page_url"),
    pytest.param("grants", '{"widget": "WIDGET", "page_url": "https://blog.example/\\ud800"}',
                 id="gift-page_url"),
])
def test_a_lone_surrogate_is_refused(client, make_site, query, endpoint, body):
    site = make_site(origins=[ORIGIN])
    _gift, widget = file_gift(query, site, "first")
    refused_cleanly(client, query, f"/api/v1/sites/{site}/{endpoint}",
                    body.replace("WIDGET", widget).encode())


@pytest.mark.parametrize("rating, encoding", [("²", "json"), ("፩", "form")],
                         ids=["superscript-json", "ethiopic-form"])
def test_a_rating_of_other_digits_is_invalid(client, make_site, query, rating, encoding):
    site = make_site(origins=[ORIGIN])
    body = {"name": "Kari", "text": "Lovely bread.", "rating": rating}
    if encoding == "json":
        raw, ctype = json.dumps(body).encode(), "application/json"
    else:
        raw, ctype = urlencode(body).encode(), "application/x-www-form-urlencoded"
    resp = refused_cleanly(client, query, f"/api/v1/sites/{site}/stories", raw, ctype)
    assert resp.status_code == 422


@pytest.mark.parametrize("kind", [["open"], {}], ids=["list", "object"])
def test_an_event_type_of_another_json_type_is_refused(client, make_site, query, kind):
    site = make_site(origins=[ORIGIN])
    widget = widget_of(query, site)
    raw = json.dumps({"events": [{"widget": widget, "type": kind}]}).encode()
    resp = refused_cleanly(client, query, f"/api/v1/sites/{site}/events", raw)
    assert resp.json()["error"]["code"] in ("invalid_event", "invalid_type")
