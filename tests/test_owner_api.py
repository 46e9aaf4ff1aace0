"""The owner API over real HTTP: keys made in the dashboard or by the command, shown
once, stored hashed; Bearer authentication with 401, 403 and 404 answers in the public
API's error shape; one site's key reads nothing of another's; every row once over the
cursor pages; the key's last use and rate limit. SQLite and PostgreSQL alike. The
contacts endpoints and exports are tests/test_owner_api_contacts.py's."""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from datetime import timedelta

import pytest
from flask import g
from sqlalchemy import select, update

from widget.api.owner import authorize
from widget.core import db
from widget.core.errors import ApiError
from widget.models import ApiKey, Gift, Grant, Story
from widget.sync import webhooks

from .helpers.gifts import claimed, file_gift
from .helpers.http import csrf_post
from .helpers.owner_api import T0, add_contacts, bearer, dashboard_key, make_key, walk


def add_stories(query, site: str, n: int) -> list[int]:
    """n stories, in pairs made at the same moment (the cursor must break ties by id)."""
    def run(s):
        rows = [Story(site_id=site, name=f"Reader {i}", text=f"Story {i}", consent_publish=True,
                      consent_text="Yes", lang="en", status="pending",
                      created_at=T0 + timedelta(seconds=i // 2)) for i in range(n)]
        s.add_all(rows)
        s.commit()
        return [r.id for r in rows]
    return query(run)


def test_a_key_made_in_the_dashboard_works_and_is_never_shown_again(ann, make_site, query):
    site = make_site("ann@example.com")
    key = dashboard_key(ann, site)
    resp = ann.get(f"/api/v1/sites/{site}/stories", **bearer(key))
    assert resp.status_code == 200, resp.text
    assert resp.json() == {"stories": [], "next": None}
    assert resp.headers["Cache-Control"] == "no-store"
    assert "Access-Control-Allow-Origin" not in resp.headers and "Set-Cookie" not in resp.headers
    page = ann.get(f"/dashboard/sites/{site}/keys")
    assert key not in page.text and key[:12] in page.text and "Reports" in page.text
    assert f'href="/dashboard/sites/{site}/keys"' in ann.get(f"/dashboard/sites/{site}").text
    stored = query(lambda s: s.scalars(select(ApiKey)).one())
    assert stored.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert key not in repr(vars(stored))


def test_the_command_prints_a_working_key_last(app, client, make_site, tmp_path):
    site = make_site()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WIDGET_", "DATABASE_URL"))}
    env.update(WIDGET_INSTANCE_PATH=str(tmp_path / "cli"), DATABASE_URL=app.config["DATABASE_URL"])

    def run(*args):
        return subprocess.run([sys.executable, "-m", "widget", "api-key", "create", *args],
                              capture_output=True, text=True, env=env, timeout=60)

    done = run("--site", site, "--scope", "read", "--name", "Nightly export")
    assert done.returncode == 0, done.stderr
    key = done.stdout.strip().splitlines()[-1]
    assert client.get(f"/api/v1/sites/{site}/stories", **bearer(key)).status_code == 200
    unknown = run("--site", "s_nope", "--scope", "read")
    assert unknown.returncode != 0 and "No site with the id s_nope" in unknown.stderr
    wrong = run("--site", site, "--scope", "admin")
    assert wrong.returncode != 0 and "'admin' is not one of 'read', 'write'" in wrong.stderr


@pytest.mark.parametrize("header", [None, "Bearer", "Bearer rw_live_garbage", "Basic abc",
                                    "Bearer " + "x" * 5000])
def test_no_or_a_wrong_key_is_401(client, make_site, header):
    site = make_site()
    resp = client.get(f"/api/v1/sites/{site}/stories",
                      headers={"Authorization": header} if header else {})
    assert resp.status_code == 401
    assert resp.json()["error"]["code"] == "unauthorized"
    assert resp.headers["WWW-Authenticate"].startswith("Bearer")
    assert ('error="invalid_token"' in resp.headers["WWW-Authenticate"]) == \
        (header not in (None, "Bearer"))


def test_a_revoked_key_is_401_and_the_dashboard_says_so(ann, make_site, query):
    site = make_site("ann@example.com")
    key = dashboard_key(ann, site)
    key_id = query(lambda s: s.scalar(select(ApiKey.id)))
    path = f"/dashboard/sites/{site}/keys/{key_id}/revoke"
    resp = csrf_post(ann, path, {}, page=f"/dashboard/sites/{site}/keys")
    assert resp.status_code == 302 and "done=revoked" in resp.headers["Location"]
    assert ann.get(f"/api/v1/sites/{site}/stories", **bearer(key)).status_code == 401
    assert "Revoked" in ann.get(f"/dashboard/sites/{site}/keys").text
    assert ann.post(path, data={}).status_code == 400  # no CSRF token: refused


def test_a_read_key_may_not_write(app, make_site, query):
    site = make_site()
    read, write = make_key(query, site, "read"), make_key(query, site, "write")
    for key, allowed in ((read, False), (write, True)):
        with app.test_request_context(headers={"Authorization": f"Bearer {key}"}):
            if allowed:
                assert authorize(site, "write").scope == "write"
            else:
                with pytest.raises(ApiError) as refused:
                    authorize(site, "write")
                assert (refused.value.status, refused.value.code) == (403, "forbidden_scope")
            assert authorize(site, "read").site_id == site
            db.session().close()
            g.pop("key_sent")


def test_a_key_of_one_site_reads_nothing_of_another(client, app, make_site, query):
    """IDOR: every owner endpoint of site B answers a key of site A as if B did not exist."""
    a, b = make_site("ann@example.com"), make_site("bob@example.com")
    b_gift, b_widget = file_gift(query, b)
    claimed(client, b, b_widget)
    add_stories(query, b, 2)
    b_contact = add_contacts(query, b, 1)[0]
    b_hook = query(lambda s: webhooks.create(s, b, "https://hooks.example/b", None).row.id)
    key = make_key(query, a, "write")
    owner_rules = [r for r in app.url_map.iter_rules() if r.endpoint.startswith("owner_api.")]
    assert len(owner_rules) == 16  # reads, writes, exports, referrals, webhooks, stats: all walked
    for rule in owner_rules:
        path = (rule.rule.replace("<site_id>", b).replace("<gift_id>", b_gift)
                .replace("<int:subscriber_id>", str(b_contact))
                .replace("<int:webhook_id>", str(b_hook)))
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            resp = client.request(method, path, **bearer(key))
            assert resp.status_code == 404, (path, resp.status_code)
            assert resp.json()["error"]["code"] == "site_not_found"
            assert resp.text == client.request(
                method, path.replace(b, "s_no_such_site"), **bearer(key)).text
    # A gift of site B under site A's URL: not found either.
    resp = client.get(f"/api/v1/sites/{a}/gifts/{b_gift}/grants", **bearer(key))
    assert resp.status_code == 404 and resp.json()["error"]["code"] == "not_found"
    # Nor a contact of site B's, or one with no row, or an id no INTEGER holds.
    for contact_id in (b_contact, b_contact + 1000, 2**31, 2**63, 10**30, 0):
        resp = client.get(f"/api/v1/sites/{a}/contacts/{contact_id}", **bearer(key))
        assert resp.status_code == 404 and resp.json()["error"]["code"] == "not_found"
    for suffix in ("", ".csv", ".jsonl"):  # and site A's lists hold none of B's
        resp = client.get(f"/api/v1/sites/{a}/contacts{suffix}", **bearer(key))
        assert resp.status_code == 200 and "@example.com" not in resp.text


def test_stories_page_by_cursor_every_row_once(client, make_site, query):
    site, other = make_site(), make_site("bob@example.com")
    ids = add_stories(query, site, 23)
    add_stories(query, other, 3)
    key = make_key(query, site)
    rows = walk(client, f"/api/v1/sites/{site}/stories", key, "stories", 5)
    assert [r["id"] for r in rows] == sorted(ids, reverse=True)
    assert rows[-1]["created_at"] == "2026-11-01T12:00:00Z"
    pending = client.get(f"/api/v1/sites/{site}/stories?status=pending&limit=100",
                         **bearer(key)).json()
    assert len(pending["stories"]) == 23 and pending["next"] is None
    assert client.get(f"/api/v1/sites/{site}/stories?status=approved",
                      **bearer(key)).json()["stories"] == []


@pytest.mark.parametrize("params", [{"limit": "0"}, {"limit": "101"}, {"limit": "x"},
                                    {"cursor": "nope"}, {"cursor": "MjAyNnwx"},
                                    {"status": "all"}])
def test_a_bad_page_request_is_400(client, make_site, query, params):
    site = make_site()
    resp = client.get(f"/api/v1/sites/{site}/stories", params=params,
                      **bearer(make_key(query, site)))
    assert resp.status_code == 400
    assert resp.json()["error"]["field"] == next(iter(params))


def test_the_gift_ledger_pages_by_cursor(client, make_site, query):
    site = make_site()
    gift, widget = file_gift(query, site)
    for _ in range(3):
        claimed(client, site, widget)

    def more(s):
        s.add_all(Grant(site_id=site, gift_id=gift, nonce=f"n{i}", valid_days=7,
                        download_limit=5, created_at=T0, rating=4) for i in range(8))
        s.commit()
    query(more)
    key = make_key(query, site)
    path = f"/api/v1/sites/{site}/gifts/{gift}/grants"
    rows = walk(client, path, key, "grants", 3)
    ids = query(lambda s: s.scalars(select(Grant.id).where(Grant.gift_id == gift)).all())
    assert sorted(r["id"] for r in rows) == sorted(ids) and len(rows) == 11
    assert rows[-1] == {**rows[-1], "rating": 4, "downloads": 0, "created_at":
                        "2026-11-01T12:00:00Z", "email": None}
    assert rows[0]["created_at"].endswith("Z") and rows[0]["released_at"].endswith("Z")
    # The public "gifts left" on the neighbouring path is untouched.
    assert client.get(f"/api/v1/sites/{site}/gifts/{gift}").json() == {"left": None}
    assert query(lambda s: s.get(Gift, gift).site_id) == site


def test_last_used_is_recorded_at_most_once_a_minute(client, make_site, query):
    site = make_site()
    key = make_key(query, site)

    def last():
        return query(lambda s: s.scalar(select(ApiKey.last_used_at)))

    assert last() is None
    path = f"/api/v1/sites/{site}/stories"
    assert client.get(path, **bearer(key)).status_code == 200
    first = last()
    assert first is not None
    assert client.get(path, **bearer(key)).status_code == 200
    assert last() == first  # within the minute: no write

    def age(s):
        s.execute(update(ApiKey).values(last_used_at=T0))
        s.commit()
    query(age)
    assert client.get(path, **bearer(key)).status_code == 200
    assert last() not in (None, T0, T0.replace(tzinfo=None))


@pytest.mark.parametrize("app_config", [{"RATE_LIMITS": True, "RATE_LIMIT_KEY": "3/minute",
                                         "RATE_LIMIT_STORAGE": "memory://"}], indirect=True)
def test_each_key_has_its_own_rate_limit(client, make_site, query):
    site = make_site()
    one, two = make_key(query, site), make_key(query, site)
    path = f"/api/v1/sites/{site}/stories"
    assert [client.get(path, **bearer(one)).status_code for _ in range(4)] == [200] * 3 + [429]
    limited = client.get(path, **bearer(one))
    assert limited.json()["error"]["code"] == "rate_limited" and "Retry-After" in limited.headers
    assert client.get(path, **bearer(two)).status_code == 200


def test_the_keys_page_refuses_a_long_name_and_anothers_key(ann, make_site, query):
    site, theirs = make_site("ann@example.com"), make_site("bob@example.com")
    resp = csrf_post(ann, f"/dashboard/sites/{site}/keys", {"name": "x" * 101, "scope": "read"})
    assert resp.status_code == 422 and "rw_live_" not in resp.text
    assert query(lambda s: s.scalar(select(ApiKey.id))) is None
    their_key = make_key(query, theirs)
    their_id = query(lambda s: s.scalar(select(ApiKey.id)))
    token = ann.csrf(f"/dashboard/sites/{site}/keys")
    for owner_site in (site, theirs):  # their key under my site, and their site
        resp = ann.post(f"/dashboard/sites/{owner_site}/keys/{their_id}/revoke",
                        data={"csrf_token": token})
        assert resp.status_code == 404
    assert ann.get(f"/api/v1/sites/{theirs}/stories", **bearer(their_key)).status_code == 200

