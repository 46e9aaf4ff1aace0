"""Helpers shared by the owner API test modules (tests/test_owner_api.py and
tests/test_owner_api_contacts.py): keys made straight in the database or on the
dashboard's keys page, the Bearer header, contacts written straight into the database,
and every row of a cursor-paged list."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from widget.models import Subscriber
from widget.sites import keys

from .http import csrf_post


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
