"""Webhooks managed by their owner over real HTTP, SQLite and PostgreSQL alike: the
dashboard adds one (CSRF, a clear message for a bad URL), tests it against a receiver in
this process and shows its log, another owner's is 404, and the owner API adds, lists and
deletes them. Signing and delivery are tests/test_webhooks.py's."""
from __future__ import annotations

import re

from sqlalchemy import select

from widget.models import Webhook
from widget.sync import webhooks

from .helpers import webhooks as shared
from .helpers.api import assert_error
from .helpers.http import csrf_post
from .helpers.webhooks import add_hook, bearer, drain

app_config, receiver = shared.app_config, shared.receiver  # loopback allowed; its receiver


# --- dashboard ---------------------------------------------------------------------------

def test_the_dashboard_adds_a_webhook_tests_it_and_shows_its_log(app, ann, make_site, query,
                                                                  receiver):
    site = make_site("ann@example.com")
    path = f"/dashboard/sites/{site}/webhooks"
    assert "Webhooks" in ann.get(f"/dashboard/sites/{site}").text
    refused = csrf_post(ann, path, {"url": "ftp://example.com/x"})
    assert refused.status_code == 422 and "Use an http:// or https:// URL" in refused.text
    assert ann.post(path, data={"url": receiver.url}).status_code == 400  # no CSRF token
    made = csrf_post(ann, path, {"url": receiver.url, "description": "Zapier",
                                 "events": ["contact.confirmed", "gift.given"]})
    assert made.status_code == 200
    [secret] = re.findall(r"whsec_[A-Za-z0-9+/=]+", made.text)
    hook = query(lambda s: s.scalar(select(Webhook).where(Webhook.site_id == site)))
    assert hook.events == "contact.confirmed,gift.given" and secret not in hook.secret
    assert secret not in ann.get(path).text  # shown once
    page = f"{path}/{hook.id}"
    assert csrf_post(ann, page + "/test", {}, page).status_code == 302
    drain(app)
    [payload] = receiver.verified(secret)
    assert payload["type"] == "webhook.test"
    assert payload["data"]["webhook"] == {"id": hook.id, "url": receiver.url}
    log = ann.get(page).text
    assert "webhook.test" in log and "HTTP 200" in log and "answer 1: 200" in log
    assert csrf_post(ann, page + "/delete", {}, page).status_code == 302
    assert query(lambda s: s.get(Webhook, hook.id)) is None
    assert ann.get(page).status_code == 404


def test_another_owners_webhook_is_404(ann, make_site, query):
    mine, theirs = make_site("ann@example.com"), make_site("bob@example.com")
    their_hook, _ = add_hook(query, theirs, "https://hooks.example/bob")
    token = ann.csrf(f"/dashboard/sites/{mine}/webhooks")
    for site in (mine, theirs):
        base = f"/dashboard/sites/{site}/webhooks/{their_hook}"
        assert ann.get(base).status_code == 404
        for action in ("test", "enable", "delete"):
            assert ann.post(f"{base}/{action}", data={"csrf_token": token}).status_code == 404
    assert query(lambda s: s.get(Webhook, their_hook)) is not None


# --- owner API ---------------------------------------------------------------------------

def test_the_owner_api_adds_lists_and_deletes_webhooks(client, make_site, query):
    site, other = make_site(), make_site("bob@example.com")
    write, read = bearer(query, site, "write"), bearer(query, site, "read")
    path = f"/api/v1/sites/{site}/webhooks"
    made = client.post(path, headers=write, json={
        "url": "https://hooks.example/a", "events": ["gift.given", "contact.created"],
        "description": "Make"})
    assert made.status_code == 201, made.text
    body = made.json()
    assert body["events"] == ["contact.created", "gift.given"] and body["enabled"] is True
    assert body["secret"].startswith("whsec_") and body["description"] == "Make"
    listed = client.get(path, headers=read).json()["webhooks"]
    assert listed == [{k: v for k, v in body.items() if k != "secret"}]
    assert_error(client.post(path, headers=read, json={"url": "https://x.example"}), 403,
                 "forbidden_scope")
    for data, status, code, field in [
            ({}, 422, "missing_field", "url"),
            ({"url": "javascript:alert(1)"}, 422, "invalid_url", "url"),
            ({"url": "https://user:pw@x.example/"}, 422, "invalid_url", "url"),
            ({"url": "https://x.example/" + "a" * 2048}, 422, "too_long", "url"),
            ({"url": "https://x.example", "events": ["contact.eaten"]}, 422, "invalid_event",
             "events"),
            ({"url": "https://x.example", "events": "gift.given"}, 400, "invalid_type",
             "events"),
            ({"url": "https://x.example", "secret": "mine"}, 400, "bad_request", "secret")]:
        assert_error(client.post(path, headers=write, json=data), status, code, field)
    theirs = client.post(f"/api/v1/sites/{other}/webhooks", json={"url": "https://b.example"},
                         headers=bearer(query, other, "write")).json()["id"]
    assert_error(client.delete(f"{path}/{theirs}", headers=write), 404, "not_found")
    assert_error(client.delete(f"/api/v1/sites/{other}/webhooks/{theirs}", headers=write),
                 404, "site_not_found")
    assert_error(client.delete(f"{path}/{body['id']}", headers=read), 403, "forbidden_scope")
    assert client.delete(f"{path}/{body['id']}", headers=write).status_code == 204
    assert client.get(path, headers=read).json() == {"webhooks": []}
    for n in range(webhooks.MAX_PER_SITE):
        assert client.post(path, headers=write, json={"url": f"https://h.example/{n}"}
                           ).status_code == 201
    assert_error(client.post(path, headers=write, json={"url": "https://h.example/x"}), 409,
                 "too_many_webhooks")
