"""The public embed API over real HTTP: config, sign-ups, CORS and every error code."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from widget.models import Consent, Subscriber, Widget
from widget.sites import snapshot

from .helpers.api import ORIGIN, H, assert_error


def subscribe(client, site, body, headers=H, **kw):
    return client.post(f"/api/v1/sites/{site}/subscriptions", json=body, headers=headers, **kw)


def count(query, model=Subscriber):
    return query(lambda s: s.scalar(select(func.count()).select_from(model)))


@pytest.fixture
def site(make_site):
    return make_site(origins=[ORIGIN, "http://localhost:8000"])


def widget_id(query, site):
    return query(lambda s: s.scalar(select(Widget.id).where(Widget.site_id == site)))


# --- widgets config -------------------------------------------------------------------

def test_widgets_config_is_cacheable_and_localised(client, site):
    resp = client.get(f"/api/v1/sites/{site}/widgets?url=https://blog.example/p&lang=nb-NO",
                      headers=H)
    assert resp.status_code == 200
    assert resp.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "max-age=60" in resp.headers["Cache-Control"]
    assert "Cookie" not in resp.headers.get("Vary", "") and "Set-Cookie" not in resp.headers
    body = resp.json()
    (w,) = body["widgets"]
    assert (w["layout"], w["on"], w["all"], w["if"], w["lang"]) == (
        "modal", [["x", None]], False, [], "nb")
    assert (body["cap"], body["reset"]) == (1, 0)
    assert w["title"] == "Før du går …" and w["button"] == "Abonner"
    assert body["strings"]["nb"]["error.invalid_email"].startswith("Det ser ikke ut")
    again = client.get(f"/api/v1/sites/{site}/widgets?url=https://blog.example/p&lang=nb-NO",
                       headers={**H, "If-None-Match": resp.headers["ETag"]})
    assert again.status_code == 304


def test_widgets_config_reflects_owner_changes_and_pauses(client, site, query):
    def edit(s):
        w = s.get(Widget, widget_id(query, site))
        w.title, w.lang = "Før du drar 🎁 <b>", "nb"
        s.commit()
    query(edit)
    (w,) = client.get(f"/api/v1/sites/{site}/widgets?lang=de").json()["widgets"]
    assert (w["title"], w["lang"]) == ("Før du drar 🎁 <b>", "nb")

    def pause(s):
        s.get(Widget, widget_id(query, site)).is_live = False
        s.commit()
    query(pause)
    assert client.get(f"/api/v1/sites/{site}/widgets").json()["widgets"] == []


def test_cors_only_for_the_sites_own_origins(client, site):
    path = f"/api/v1/sites/{site}/widgets"
    assert client.get(path, headers={"Origin": "http://localhost:8000"}).headers[
        "Access-Control-Allow-Origin"] == "http://localhost:8000"
    for other in ("https://evil.example", "https://blog.example.evil.example", "null",
                  "http://blog.example"):
        resp = client.get(path, headers={"Origin": other})
        assert "Access-Control-Allow-Origin" not in resp.headers, other
    ok = client.request("OPTIONS", f"/api/v1/sites/{site}/subscriptions", headers={
        **H, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type"})
    assert ok.status_code == 204
    assert ok.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "POST" in ok.headers["Access-Control-Allow-Methods"]
    bad = client.request("OPTIONS", f"/api/v1/sites/{site}/subscriptions",
                         headers={"Origin": "https://evil.example",
                                  "Access-Control-Request-Method": "POST"})
    assert "Access-Control-Allow-Origin" not in bad.headers


# --- sign-ups ---------------------------------------------------------------------------

def test_signup_is_stored_with_its_consent(client, site, query):
    wid = widget_id(query, site)
    resp = subscribe(client, site, {"email": "Ann@Example.COM", "name": "Ann Ødegård 🌻",
                                    "consent": True, "widget": wid,
                                    "page_url": "https://blog.example/post?x=1", "lang": "nb"})
    assert resp.status_code == 200 and resp.json() == {"ok": True}
    assert resp.headers["Access-Control-Allow-Origin"] == ORIGIN
    sub = query(lambda s: s.scalar(select(Subscriber)))
    assert (sub.email, sub.email_normalized, sub.name) == (
        "Ann@example.com", "ann@example.com", "Ann Ødegård 🌻")
    assert (sub.widget_id, sub.page_url, sub.lang) == (wid, "https://blog.example/post?x=1", "nb")
    consent = query(lambda s: s.scalar(select(Consent)))
    assert consent.given and consent.subscriber_id == sub.id and consent.lang == "nb"
    assert consent.text.startswith("Ja, send meg e-post") and consent.ip == "127.0.0.1"


def test_text_plain_json_needs_no_preflight(client, site, query):
    resp = client.post(f"/api/v1/sites/{site}/subscriptions", headers={
        **H, "Content-Type": "text/plain;charset=UTF-8"},
        data=json.dumps({"email": "bo@example.com", "consent": True}).encode())
    assert resp.status_code == 200
    assert count(query) == 1


def test_repeat_signup_answers_the_same_and_adds_no_duplicate(client, site, query):
    first = subscribe(client, site, {"email": "dup@example.com", "consent": True})
    second = subscribe(client, site, {"email": "  DUP@example.com ", "consent": True,
                                      "name": "Dee"})
    assert (first.status_code, first.content) == (second.status_code, second.content)
    assert count(query) == 1
    assert count(query, Consent) == 2  # every accepted sign-up leaves its consent record
    assert query(lambda s: s.scalar(select(Subscriber.name))) == "Dee"


def test_same_address_on_two_sites_is_two_subscribers(client, site, make_site, query):
    other = make_site(name="Shop", origins=["https://shop.example"])
    subscribe(client, site, {"email": "x@example.com", "consent": True})
    subscribe(client, other, {"email": "x@example.com", "consent": True},
              headers={"Origin": "https://shop.example"})
    assert count(query) == 2


def test_signup_from_other_origin_is_refused_and_not_stored(client, site, query):
    resp = subscribe(client, site, {"email": "a@example.com", "consent": True},
                     headers={"Origin": "https://evil.example"})
    assert_error(resp, 403, "origin_not_allowed")
    assert "Access-Control-Allow-Origin" not in resp.headers
    assert count(query) == 0


def test_server_side_clients_without_origin_are_accepted(client, site, query):
    assert subscribe(client, site, {"email": "a@example.com", "consent": True},
                     headers={}).status_code == 200
    assert count(query) == 1


def test_honeypot_gets_the_same_answer_but_stores_nothing(client, site, query):
    resp = subscribe(client, site, {"email": "bot@example.com", "consent": True,
                                    "website": "http://spam.example"})
    assert resp.status_code == 200 and resp.json() == {"ok": True}
    assert count(query) == 0


def test_site_without_consent_checkbox(client, make_site, query):
    site = make_site(origins=[ORIGIN], require_consent=False)
    assert subscribe(client, site, {"email": "a@example.com"}).status_code == 200
    assert query(lambda s: s.scalar(select(Consent.given))) is True


@pytest.mark.parametrize("body, status, code, field", [
    ({"consent": True}, 422, "missing_field", "email"),
    ({"email": "", "consent": True}, 422, "missing_field", "email"),
    ({"email": "not-an-address", "consent": True}, 422, "invalid_email", "email"),
    ({"email": "a@b@example.com", "consent": True}, 422, "invalid_email", "email"),
    ({"email": "a@example.com"}, 422, "consent_required", "consent"),
    ({"email": "a@example.com", "consent": False}, 422, "consent_required", "consent"),
    ({"email": "a@example.com", "consent": "yes"}, 400, "invalid_type", "consent"),
    ({"email": ["a@example.com"], "consent": True}, 400, "invalid_type", "email"),
    ({"email": "a@example.com", "consent": True, "name": 7}, 400, "invalid_type", "name"),
    ({"email": "a" * 250 + "@example.com", "consent": True}, 422, "too_long", "email"),
    ({"email": "a@example.com", "consent": True, "name": "n" * 101}, 422, "too_long", "name"),
    ({"email": "a@example.com", "consent": True, "widget": "w_nope"}, 422, "unknown_widget",
     "widget"),
    ({"email": "a@example.com", "consent": True, "page_url": "javascript:alert(1)"}, 422,
     "invalid_url", "page_url"),
])
def test_bad_sign_ups_get_a_specific_error_and_store_nothing(client, site, query, body,
                                                              status, code, field):
    assert_error(subscribe(client, site, body), status, code, field)
    assert count(query) == 0 and count(query, Consent) == 0


def test_widget_of_another_site_is_unknown(client, site, make_site, query):
    other = make_site(owner_email="other@example.com", origins=["https://other.example"])
    resp = subscribe(client, site, {"email": "a@example.com", "consent": True,
                                    "widget": widget_id(query, other)})
    assert_error(resp, 422, "unknown_widget", "widget")


@pytest.mark.parametrize("data, content_type, status, code", [
    (b'{"email": "a@example.com"', "application/json", 400, "invalid_json"),
    (b"\xff\xfe not utf-8", "application/json", 400, "invalid_json"),
    (b"[1, 2]", "application/json", 400, "invalid_json"),
    (b"", "application/json", 400, "invalid_json"),
    (b"<xml/>", "application/xml", 415, "unsupported_media_type"),
])
def test_malformed_bodies(client, site, query, data, content_type, status, code):
    resp = client.post(f"/api/v1/sites/{site}/subscriptions", data=data,
                       headers={**H, "Content-Type": content_type})
    assert_error(resp, status, code)
    assert count(query) == 0


@pytest.mark.parametrize("path", ["subscriptions", "events"])
def test_deeply_nested_bodies_are_refused_before_parsing(client, site, query, path):
    """33 levels is past what any body of ours nests; 1,500 would make json recurse
    out of stack. Brackets inside strings do not count."""
    for body in (b"[" * 33 + b"]" * 33, b"[" * 1500 + b"]" * 1500):
        resp = client.post(f"/api/v1/sites/{site}/{path}", data=body,
                           headers={**H, "Content-Type": "text/plain"})
        assert_error(resp, 400, "invalid_json")
        assert "nested too deeply" in resp.json()["error"]["message"]
    text = json.dumps({"email": "a@example.com", "consent": True, "name": "[{" * 40})
    resp = client.post(f"/api/v1/sites/{site}/subscriptions", data=text,
                       headers={**H, "Content-Type": "text/plain"})
    assert resp.status_code == 200, resp.text
    assert count(query) == 1


def test_oversized_body_is_413(client, site, query):
    body = json.dumps({"email": "a@example.com", "consent": True, "name": "x" * 20000})
    resp = client.post(f"/api/v1/sites/{site}/subscriptions", data=body,
                       headers={**H, "Content-Type": "application/json"})
    assert_error(resp, 413, "payload_too_large")
    assert count(query) == 0


def test_unknown_site_and_paths_are_json_404s(client):
    assert_error(subscribe(client, "s_nope", {"email": "a@example.com"}), 404, "site_not_found")
    assert_error(client.get("/api/v1/sites/s_nope/widgets"), 404, "site_not_found")
    assert_error(client.get("/api/v1/sites/" + "x" * 500 + "/widgets"), 404, "site_not_found")
    assert_error(client.get("/api/v1/nothing-here"), 404, "not_found")
    resp = client.request("DELETE", "/api/v1/sites/s_nope/subscriptions")
    assert_error(resp, 405, "method_not_allowed")
    assert "POST" in resp.headers["Allow"]


@pytest.fixture
def limited(app_config):
    app_config.update(RATE_LIMITS=True, RATE_LIMIT_IP="4/minute", RATE_LIMIT_EMAIL="2/hour",
                      RATE_LIMIT_LOGIN="10/minute", RATE_LIMIT_EVENTS="3/minute",
                      RATE_LIMIT_STORAGE="memory://")


def test_rate_limit_per_address(limited, client, site, query):
    for _ in range(2):
        assert subscribe(client, site, {"email": "a@example.com", "consent": True}).ok
    resp = subscribe(client, site, {"email": "A@example.com", "consent": True})
    assert_error(resp, 429, "rate_limited")
    assert 0 < int(resp.headers["Retry-After"]) <= 3600
    assert subscribe(client, site, {"email": "b@example.com", "consent": True}).ok


def test_rate_limit_per_ip(limited, client, site, query):
    for i in range(4):
        assert subscribe(client, site, {"email": f"u{i}@example.com", "consent": True}).ok
    resp = subscribe(client, site, {"email": "u9@example.com", "consent": True})
    assert_error(resp, 429, "rate_limited")
    assert 0 < int(resp.headers["Retry-After"]) <= 60
    assert count(query) == 4


# --- the no-JavaScript form -----------------------------------------------------------

def test_plain_html_form_signs_up_through_the_same_path(client, site, query):
    resp = client.post(f"/api/v1/sites/{site}/subscriptions", headers=H, data={
        "email": "form@example.com", "consent": "on", "name": "Form <b>Filler</b>",
        "page_url": "https://blog.example/post", "lang": "de"})
    assert resp.status_code == 200
    assert resp.headers["Content-Type"].startswith("text/html")
    assert 'lang="de"' in resp.text and "Fast geschafft! Bitte bestätigen Sie Ihre Adresse" in resp.text
    assert 'href="https://blog.example/post"' in resp.text
    sub = query(lambda s: s.scalar(select(Subscriber)))
    assert (sub.email, sub.name) == ("form@example.com", "Form <b>Filler</b>")


def test_plain_html_form_errors_are_friendly_pages(client, site, query):
    resp = client.post(f"/api/v1/sites/{site}/subscriptions", headers=H, data={
        "email": "nope", "consent": "on", "page_url": "https://evil.example/"})
    assert resp.status_code == 422
    assert resp.headers["Content-Type"].startswith("text/html")
    assert "does not look like an e-mail address" in resp.text
    assert "Traceback" not in resp.text
    missing = client.post(f"/api/v1/sites/{site}/subscriptions", headers=H,
                          data={"email": "a@example.com"})
    assert missing.status_code == 422 and "tick the box" in missing.text
    assert count(query) == 0


def test_form_back_link_only_to_allowed_origins(client, site):
    resp = client.post(f"/api/v1/sites/{site}/subscriptions", data={
        "email": "a@example.com", "consent": "on", "page_url": "https://evil.example/x"})
    assert resp.status_code == 200 and "evil.example" not in resp.text


# --- naughty strings ------------------------------------------------------------------

NAUGHTY = json.loads((Path(__file__).parent / "data" / "blns.json").read_text(encoding="utf-8"))


def test_naughty_names_are_stored_exactly_or_refused_clearly(client, site, query):
    accepted = {}
    for i, value in enumerate(NAUGHTY):
        resp = subscribe(client, site, {"email": f"n{i}@example.com", "consent": True,
                                        "name": value})
        assert resp.status_code in (200, 422), (value, resp.status_code, resp.text)
        if resp.status_code == 422:
            assert resp.json()["error"]["code"] in ("too_long", "invalid_characters")
        elif value.strip():
            accepted[f"n{i}@example.com"] = value.strip()
    stored = dict(query(lambda s: s.execute(select(Subscriber.email, Subscriber.name)).all()))
    assert len(accepted) > 400
    for email, name in accepted.items():
        assert stored[email] == name


def test_naughty_emails_and_urls_never_break_the_server(client, site, query):
    for value in NAUGHTY:
        for body in ({"email": value, "consent": True},
                     {"email": "ok@example.com", "consent": True, "page_url": value}):
            resp = subscribe(client, site, body)
            assert resp.status_code in (200, 422), (value, resp.status_code, resp.text)
            if resp.status_code == 422:
                assert resp.json()["error"]["field"] in ("email", "page_url")


def test_config_cache_is_short_and_dropped_on_dashboard_edits(app, app_config, client, site,
                                                              query):
    app.config["SITE_CACHE_SECONDS"] = 300
    assert client.get(f"/api/v1/sites/{site}/widgets").json()["widgets"][0]["title"] == \
        "Before you go…"

    def edit(s):
        s.get(Widget, widget_id(query, site)).title = "Changed elsewhere"
        s.commit()
    query(edit)  # another process changed it: this one serves its snapshot until it expires
    assert client.get(f"/api/v1/sites/{site}/widgets").json()["widgets"][0]["title"] == \
        "Before you go…"
    with app.app_context():
        snapshot.invalidate(site)  # what dashboard edits call
    assert client.get(f"/api/v1/sites/{site}/widgets").json()["widgets"][0]["title"] == \
        "Changed elsewhere"


def test_cached_config_is_answered_before_flask_exactly_as_flask_would(app, client, site,
                                                                       query):
    app.config["SITE_CACHE_SECONDS"] = 300
    seen = []
    app.before_request(lambda: seen.append(1) and None)
    path = f"/api/v1/sites/{site}/widgets?url=https://blog.example/p&lang=de"
    first = client.get(path, headers=H)  # Flask renders and caches
    second = client.get(path, headers=H)  # the fast path answers from the snapshot
    assert len(seen) == 1
    drop = {"Date", "Server", "Connection"}
    assert {k: v for k, v in first.headers.items() if k not in drop} == \
        {k: v for k, v in second.headers.items() if k not in drop}
    assert first.content == second.content and second.json()["widgets"][0]["lang"] == "de"
    other = client.get(path, headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in other.headers and other.content == first.content
    cached = client.get(path, headers={**H, "If-None-Match": first.headers["ETag"]})
    assert cached.status_code == 304 and cached.headers["ETag"] == first.headers["ETag"]
    assert len(seen) == 1
    # A language not rendered yet, and anything odd, goes to Flask.
    assert client.get(f"/api/v1/sites/{site}/widgets?lang=nl").json()["widgets"][0]["lang"] == "nl"
    assert_error(client.get(f"/api/v1/sites/{site}/widgets?lang=de&url=" + "x" * 2049),
                 422, "too_long", "url")
    assert len(seen) == 3


def test_targeting_is_compiled_for_the_browser(client, site, query):
    import re as regex

    def edit(s):
        w = s.get(Widget, widget_id(query, site))
        w.url_include, w.url_exclude = "/blog/*\n/guides/*", "/blog/drafts/*"
        w.device, w.visitor, w.referrer, w.utm_source = "mobile", "returning", "news.ycombinator", "nyhetsbrev 😀"
        w.page_langs = "nb,de"
        s.commit()
    query(edit)
    (w,) = client.get(f"/api/v1/sites/{site}/widgets?lang=nb").json()["widgets"]
    rules = {(k, n): v for k, v, n in w["if"] if "utm" not in v}
    include, exclude = rules[("u", 0)], rules[("u", 1)]
    assert regex.search(include, "https://blog.example/blog/post?x=1#top", regex.I)
    assert not regex.search(include, "https://blog.example/shop/blog/x", regex.I)
    assert regex.search(exclude, "https://blog.example/blog/drafts/one", regex.I)
    assert (rules[("d", 0)], rules[("n", 0)]) == ("^m$", "^r$")
    utm = [v for k, v, n in w["if"] if k == "u" and "utm" in v][0]
    assert regex.search(utm, "https://blog.example/?a=1&utm_source=nyhetsbrev%20%F0%9F%98%80",
                        regex.I)
    # Page language is decided on the server: the config is per language anyway.
    assert client.get(f"/api/v1/sites/{site}/widgets?lang=nl").json()["widgets"] == []


def test_owner_changes_reach_every_visitor_within_a_minute(app, client, site):
    app.config["SITE_CACHE_SECONDS"] = 10  # the default snapshot age on each process
    first = client.get(f"/api/v1/sites/{site}/widgets")  # rendered by Flask
    second = client.get(f"/api/v1/sites/{site}/widgets")  # answered by the fast path
    for resp in (first, second):
        assert resp.headers["Cache-Control"] == "public, max-age=50"  # 10 s + 50 s = 1 min
