"""JSON sign-ups are answered in front of Flask (widget/api/fastpath.py). Whatever the
request, a site's visitor gets what the Flask route would have sent: the same status,
bytes and headers, refusals included, and the same rows; what the fast path does not take
(a form, a body without a length, one over the limit, a client that left) still reaches
Flask and gets its answer."""
from __future__ import annotations

import io
import json

import pytest
from sqlalchemy import func, select
from werkzeug.test import Client, create_environ, run_wsgi_app

from widget.models import Consent, OutboxMessage, StatDay, Subscriber, Widget

ORIGIN = "https://blog.example"


@pytest.fixture
def limited(app_config):
    app_config.update(RATE_LIMITS=True, RATE_LIMIT_IP="1000/minute", RATE_LIMIT_EMAIL="1/hour",
                      RATE_LIMIT_STORAGE="memory://")


@pytest.fixture
def flask_hits(app):
    """How many requests reached Flask's own dispatch."""
    hits = []
    app.before_request(lambda: hits.append(1) and None)
    return hits


def answer(wsgi, site: str, body, content_type="text/plain", origin=ORIGIN, **environ):
    resp = Client(wsgi).post(
        f"/api/v1/sites/{site}/subscriptions",
        data=body if isinstance(body, (bytes, str)) else json.dumps(body),
        headers={"Content-Type": content_type, **({"Origin": origin} if origin else {})},
        environ_base={"REMOTE_ADDR": "203.0.113.9", **environ})
    return resp.status_code, resp.get_data(), sorted(resp.headers.items())


CASES = {
    "new address": {"email": "new@example.com", "consent": True},
    "emoji name": {"email": "emoji@example.com", "consent": True, "name": "Ådne 🎉"},
    "invalid address": {"email": "not-an-address", "consent": True},
    "missing address": {"consent": True},
    "consent not a boolean": {"email": "c@example.com", "consent": "yes"},
    "unknown widget": {"email": "w@example.com", "consent": True, "widget": "w_nope"},
    "control characters": {"email": "x@example.com\r\nBcc: y@example.com", "consent": True},
    "page address not http": {"email": "p@example.com", "consent": True,
                              "page_url": "javascript:alert(1)"},
    "honeypot": {"email": "bot@example.com", "consent": True, "website": "spam"},
    "not an object": [1, 2],
    "broken JSON": b'{"email": ',
    "too deep": b"[" * 40 + b"]" * 40,
    "empty body": b"",
}


@pytest.mark.parametrize("case", list(CASES))
def test_fast_and_flask_answer_alike(app, make_site, flask_hits, query, case):
    site = make_site()
    fast = answer(app.wsgi_app, site, CASES[case])
    assert flask_hits == []  # answered in front of Flask
    flask = answer(app.wsgi_app.wsgi_app, site, CASES[case])  # the Flask route itself
    assert flask_hits == [1]
    assert fast == flask
    if fast[0] == 200 and case != "honeypot":
        email = CASES[case]["email"]
        assert query(lambda s: s.scalar(select(func.count()).select_from(Subscriber).where(
            Subscriber.email == email))) == 1
        # One consent row per sign-up, each path's own.
        assert query(lambda s: s.scalar(select(func.count()).select_from(Consent))) == 2


def test_refusals_and_cors_match_for_other_origins_sites_and_media_types(
        app, make_site, flask_hits):
    site = make_site()
    body = {"email": "o@example.com", "consent": True}
    for args in ((site, body, "text/plain", "https://evil.example"),  # 403, no CORS
                 (site, body, "application/json; charset=utf-8", None),  # no Origin
                 ("s_nope", body, "text/plain", ORIGIN)):  # 404 site_not_found
        fast = answer(app.wsgi_app, *args)
        flask = answer(app.wsgi_app.wsgi_app, *args)
        assert fast == flask, args
    assert flask_hits == [1, 1, 1]
    codes = [json.loads(answer(app.wsgi_app, *a)[1]).get("error", {}).get("code") for a in (
        (site, body, "text/plain", "https://evil.example"), ("s_nope", body))]
    assert codes == ["origin_not_allowed", "site_not_found"]


def test_a_gated_widget_and_consent_rules_go_the_same_way(app, make_site, flask_hits, query):
    site = make_site(require_consent=True)
    widget = query(lambda s: s.scalar(select(Widget.id).where(Widget.site_id == site)))
    for body in ({"email": "n@example.com", "consent": False, "widget": widget},
                 {"email": "y@example.com", "consent": True, "widget": widget}):
        assert answer(app.wsgi_app, site, body) == answer(app.wsgi_app.wsgi_app, site, body)
    assert query(lambda s: s.scalar(select(func.count()).select_from(OutboxMessage).where(
        OutboxMessage.kind == "confirm"))) == 1  # y@ only, once: the repeat queued nothing


def test_rate_limits_are_counted_once_and_answered_alike(limited, app, make_site, flask_hits):
    site = make_site()
    body = {"email": "rate@example.com", "consent": True}
    first = answer(app.wsgi_app, site, body)
    assert first[0] == 200
    fast = answer(app.wsgi_app, site, body)
    flask = answer(app.wsgi_app.wsgi_app, site, body)
    assert fast[0] == 429 and ("Retry-After", dict(fast[2])["Retry-After"]) in fast[2]
    assert fast == flask
    assert answer(app.wsgi_app, site, {"email": "other@example.com", "consent": True})[0] == 200


def event_answer(wsgi, site: str, body, origin=ORIGIN):
    resp = Client(wsgi).post(
        f"/api/v1/sites/{site}/events", data=body if isinstance(body, bytes) else json.dumps(body),
        headers={"Content-Type": "text/plain", **({"Origin": origin} if origin else {})},
        environ_base={"REMOTE_ADDR": "203.0.113.9"})
    return resp.status_code, resp.get_data(), sorted(resp.headers.items())


def test_beacons_are_answered_alike_and_counted_by_both(app, make_site, flask_hits, query):
    site = make_site()
    widget = query(lambda s: s.scalar(select(Widget.id).where(Widget.site_id == site)))
    good = {"page": "/post", "lang": "en", "device": "mobile",
            "events": [{"widget": widget, "type": "impression"}]}
    for body, origin in ((good, ORIGIN), (good, None), (good, "https://evil.example"),
                         ({"events": [{"widget": "w_nope", "type": "open"}]}, ORIGIN),
                         ({"events": [{"widget": widget, "type": "nope"}]}, ORIGIN),
                         ({"events": "x"}, ORIGIN), (b"{", ORIGIN)):
        fast = event_answer(app.wsgi_app, site, body, origin)
        flask = event_answer(app.wsgi_app.wsgi_app, site, body, origin)
        assert fast == flask, (body, origin)
    assert len(flask_hits) == 7  # the Flask route only when asked directly
    assert event_answer(app.wsgi_app, site, good)[0] == 204
    shown = query(lambda s: s.scalar(select(func.sum(StatDay.shown)).where(
        StatDay.widget_id == widget, StatDay.dim == "all")))
    assert shown == 5  # both paths' accepted beacons, each once (with and without Origin)


def test_what_the_fast_path_does_not_take_reaches_flask(app, make_site, flask_hits, query):
    site = make_site()
    client = Client(app.wsgi_app)
    url = f"/api/v1/sites/{site}/subscriptions"
    form = client.post(url, data={"email": "form@example.com", "consent": "on"},
                       headers={"Origin": ORIGIN})
    assert form.status_code == 200 and form.mimetype == "text/html"
    big = client.post(url, data="x" * (app.config["MAX_BODY"] + 1),
                      headers={"Content-Type": "text/plain", "Origin": ORIGIN})
    assert big.status_code == 413
    assert json.loads(big.get_data())["error"]["code"] == "payload_too_large"
    # A client that sends less than it announced: Flask sees what came and refuses it.
    environ = create_environ(url, method="POST", headers={"Content-Type": "text/plain"})
    environ.update({"CONTENT_LENGTH": "200", "wsgi.input": io.BytesIO(b'{"email"')})
    _body, status, _headers = run_wsgi_app(app.wsgi_app, environ, buffered=True)
    assert status.startswith("400 ")
    assert flask_hits == [1, 1, 1]
    assert query(lambda s: s.scalar(select(Subscriber.email))) == "form@example.com"
