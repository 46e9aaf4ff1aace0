"""The owner API's contacts over real HTTP: every contact once over the cursor pages and
their filters, 400s naming the field, one contact with its consents and history, the
exports over Bearer equal to the dashboard's (and giving their database connection
back), and a revoked key reading none. SQLite and PostgreSQL alike. Keys themselves are
tests/test_owner_api.py's."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from widget.models import ApiKey, Consent, StatusChange, Subscriber

from .helpers.http import csrf_post
from .helpers.owner_api import T0, add_contacts, bearer, dashboard_key, make_key, walk


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
