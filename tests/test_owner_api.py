"""The owner API over real HTTP: keys made in the dashboard or by the command, shown
once, stored hashed; Bearer authentication with 401, 403 and 404 answers in the public
API's error shape; one site's key reads nothing of another's; every row once over the
cursor pages; the key's last use and rate limit. SQLite and PostgreSQL alike."""
from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
from datetime import datetime, timedelta, timezone

import pytest
from flask import g
from sqlalchemy import select, update

from widget.api.owner import authorize
from widget.core import db
from widget.core.errors import ApiError
from widget.models import ApiKey, Consent, Gift, Grant, StatusChange, Story, Subscriber
from widget.sites import keys
from widget.sync import webhooks

from .helpers.gifts import claimed, file_gift
from .helpers.http import csrf_post

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=timezone.utc)


def make_key(query, site: str, scope: str = "read") -> str:
    return query(lambda s: keys.create(s, site, scope, "test").key)


def bearer(key: str) -> dict:
    return {"headers": {"Authorization": f"Bearer {key}"}}


def dashboard_key(ann, site: str, scope: str = "read", name: str = "Reports") -> str:
    """Make a key on the dashboard's keys page: the key the answer shows."""
    resp = csrf_post(ann, f"/dashboard/sites/{site}/keys", {"name": name, "scope": scope})
    assert resp.status_code == 200, resp.text[:300]
    found = re.findall(r"rw_live_[\w-]{43}", resp.text)
    assert len(found) == 1 and "it is not shown again" in " ".join(resp.text.split())
    return found[0]


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


def walk(client, path: str, key: str, name: str, limit: int) -> list[dict]:
    rows, cursor, pages = [], None, 0
    while True:
        params = {"limit": limit, **({"cursor": cursor} if cursor else {})}
        resp = client.get(path, params=params, **bearer(key))
        assert resp.status_code == 200, resp.text
        body = resp.json()
        assert len(body[name]) <= limit
        rows += body[name]
        cursor, pages = body["next"], pages + 1
        if cursor is None:
            return rows
        assert pages < 100


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


# Contacts ---------------------------------------------------------------------------

def add_contacts(query, site: str, n: int, prefix: str = "r", **values) -> list[int]:
    """n contacts, in threes made at the same moment (the cursor must break ties by id)."""
    def run(s):
        rows = [Subscriber(site_id=site, email=f"{prefix}{i:03}.{site}@example.com",
                           email_normalized=f"{prefix}{i:03}.{site}@example.com",
                           name=f"Reader {i}",
                           created_at=T0 + timedelta(seconds=i // 3), **values)
                for i in range(n)]
        s.add_all(rows)
        s.commit()
        return [r.id for r in rows]
    return query(run)


def test_contacts_page_by_cursor_every_row_once_and_filter(client, make_site, query):
    site, other = make_site(), make_site("bob@example.com")
    ids = add_contacts(query, site, 20, status="confirmed")
    nb = add_contacts(query, site, 7, "nb", lang="nb")  # created at the same moments as the first
    add_contacts(query, other, 3)
    key = make_key(query, site)
    path = f"/api/v1/sites/{site}/contacts"
    rows = walk(client, path, key, "contacts", 4)
    assert [r["id"] for r in rows] == query(lambda s: s.scalars(
        select(Subscriber.id).where(Subscriber.site_id == site)
        .order_by(Subscriber.created_at.desc(), Subscriber.id.desc())).all())
    assert sorted(r["id"] for r in rows) == sorted(ids + nb)
    assert rows[-1] == {"id": ids[0], "email": f"r000.{site}@example.com", "name": "Reader 0",
                        "status": "confirmed", "lang": "en", "tags": [], "widget": None,
                        "page_url": None, "created_at": "2026-11-01T12:00:00Z", "confirmed_at": None,
                        "unsubscribed_at": None, "ref_code": None, "ref_count": 0}
    filtered = walk(client, f"{path}?lang=nb&status=pending", key, "contacts", 3)
    assert sorted(r["id"] for r in filtered) == sorted(nb)
    assert [r["id"] for r in walk(client, f"{path}?q=reader 19", key, "contacts", 5)] == \
        [ids[19]]
    assert walk(client, f"{path}?to=2026-10-31", key, "contacts", 5) == []


@pytest.mark.parametrize("params, field", [
    ({"status": "all"}, "status"), ({"lang": "xx"}, "lang"), ({"gift": "maybe"}, "gift"),
    ({"referred": "1"}, "referred"), ({"from": "2026-02-30"}, "from"), ({"to": "soon"}, "to"),
    ({"widget": "w" * 65}, "widget"), ({"limit": "101"}, "limit"), ({"cursor": "nope"}, "cursor")])
def test_a_bad_contacts_request_is_400_naming_the_field(client, make_site, query, params, field):
    site = make_site()
    key = make_key(query, site)
    for suffix in ("", ".csv", ".jsonl") if field not in ("limit", "cursor") else ("",):
        resp = client.get(f"/api/v1/sites/{site}/contacts{suffix}", params=params,
                          **bearer(key))
        assert resp.status_code == 400, (suffix, resp.text[:200])
        assert resp.json()["error"]["code"] == "bad_request"
        assert resp.json()["error"]["field"] == field


def test_one_contact_with_consents_and_history(client, make_site, query):
    site = make_site()
    person = add_contacts(query, site, 1, status="unsubscribed", lang="de",
                          page_url="https://example.com/a")[0]

    def history(s):
        s.add(Consent(subscriber_id=person, given=True, text="Yes, mail me", lang="de",
                      created_at=T0))
        s.add_all(StatusChange(subscriber_id=person, status=status, via=via,
                               created_at=T0 + timedelta(minutes=n))
                  for n, (status, via) in enumerate([("pending", "signup"),
                                                     ("confirmed", "confirm_page"),
                                                     ("unsubscribed", "one_click")]))
        s.commit()
    query(history)
    key = make_key(query, site)
    one = client.get(f"/api/v1/sites/{site}/contacts/{person}", **bearer(key))
    assert one.status_code == 200, one.text
    body = one.json()
    listed = client.get(f"/api/v1/sites/{site}/contacts", **bearer(key)).json()["contacts"]
    assert {k: v for k, v in body.items() if k not in ("consents", "history")} == listed[0]
    assert (body["confirmed_at"], body["unsubscribed_at"]) == (
        "2026-11-01T12:01:00Z", "2026-11-01T12:02:00Z")
    assert body["consents"] == [{"given": True, "basis": "signup", "text": "Yes, mail me", "lang": "de",
                                 "widget": None, "page_url": None,
                                 "created_at": "2026-11-01T12:00:00Z"}]
    assert [(h["status"], h["via"]) for h in body["history"]] == [
        ("pending", "signup"), ("confirmed", "confirm_page"), ("unsubscribed", "one_click")]
    assert client.get(f"/api/v1/sites/{site}/contacts/abc", **bearer(key)).status_code == 404


@pytest.mark.parametrize("args", ["", "?lang=nb", "?q=reader 1&status=pending"])
def test_the_exports_over_bearer_equal_the_dashboards(ann, make_site, query, args):
    site = make_site("ann@example.com")
    add_contacts(query, site, 12)
    add_contacts(query, site, 4, "nb", lang="nb", status="confirmed")
    key = make_key(query, site)
    for suffix, content_type in ((".csv", "text/csv; charset=utf-8"),
                                 (".jsonl", "application/x-ndjson")):
        mine = ann.get(f"/api/v1/sites/{site}/contacts{suffix}{args}", **bearer(key))
        theirs = ann.get(f"/dashboard/sites/{site}/contacts{suffix}{args}")
        assert mine.status_code == theirs.status_code == 200
        assert mine.content == theirs.content and len(mine.content.splitlines()) > 1
        assert mine.headers["Content-Type"] == content_type
        assert mine.headers["Content-Disposition"] == theirs.headers["Content-Disposition"]
        assert mine.headers["Cache-Control"] == "no-store"


def test_a_revoked_key_reads_no_contacts(ann, make_site, query):
    site = make_site("ann@example.com")
    person = add_contacts(query, site, 1)[0]
    key = dashboard_key(ann, site)
    paths = [f"/api/v1/sites/{site}/contacts{suffix}"
             for suffix in ("", f"/{person}", ".csv", ".jsonl")]
    assert [ann.get(p, **bearer(key)).status_code for p in paths] == [200] * 4
    key_id = query(lambda s: s.scalar(select(ApiKey.id)))
    csrf_post(ann, f"/dashboard/sites/{site}/keys/{key_id}/revoke", {},
              page=f"/dashboard/sites/{site}/keys")
    for p in paths:
        resp = ann.get(p, **bearer(key))
        assert resp.status_code == 401 and resp.json()["error"]["code"] == "unauthorized"


def test_exports_give_their_database_connection_back(app, client, make_site, query):
    """A finished export ends its last transaction: the pool gets every connection back
    (each export kept one checked out, until PostgreSQL's pool ran dry and answered 500)."""
    from widget.core import db

    from .helpers.waiting import wait_until
    site = make_site()
    add_contacts(query, site, 3)
    key = make_key(query, site)
    for kind in ("csv", "jsonl", "csv"):
        resp = client.get(f"/api/v1/sites/{site}/contacts.{kind}", **bearer(key))
        assert resp.status_code == 200 and resp.text

    def checked_out():
        with app.app_context():
            return db.engine().pool.checkedout()
    wait_until(lambda: checked_out() == 0, "every connection back in the pool")
