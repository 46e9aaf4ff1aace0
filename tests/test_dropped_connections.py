"""The database server drops the app's connections (a restart, a failover, an idle
timeout in a pooler): nobody notices. Sign-ups skip the pool's pre-ping and run again on
a fresh connection when the first answer says the old one is gone; the dashboard's ORM
connections are checked as they are handed out. Either way nothing is written twice."""
from __future__ import annotations

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from widget.models import Consent, OutboxMessage, StatDay, StatusChange, Subscriber, Widget

from .fixtures.database import PG_URL

pytestmark = pytest.mark.postgresql
ORIGIN = "https://blog.example"


def drop_connections(database_url: str) -> int:
    """Close every server connection to the test's database, as a restart would."""
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            return len(conn.execute(text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = :name AND pid <> pg_backend_pid()"),
                {"name": make_url(database_url).database}).all())
    finally:
        admin.dispose()


def count(query, model, *where) -> int:
    return query(lambda s: s.scalar(select(func.count()).select_from(model).where(*where)))


def test_a_sign_up_after_the_server_dropped_the_connections_is_written_once(
        app, client, make_site, query, database_url):
    site = make_site()
    app.config["SITE_CACHE_SECONDS"] = 60  # the site from memory: the write meets the drop
    url = f"/api/v1/sites/{site}/subscriptions"
    first = client.post(url, json={"email": "before@example.com", "consent": True},
                        headers={"Origin": ORIGIN})
    assert first.status_code == 200
    assert drop_connections(database_url) >= 1  # the app's pooled connection among them
    after = client.post(url, json={"email": "after@example.com", "consent": True},
                        headers={"Origin": ORIGIN})
    assert after.status_code == 200, after.text
    assert count(query, Subscriber, Subscriber.email == "after@example.com") == 1
    after_id = query(lambda s: s.scalar(select(Subscriber.id).where(
        Subscriber.email == "after@example.com")))
    assert count(query, Consent, Consent.subscriber_id == after_id) == 1
    assert count(query, StatusChange, StatusChange.subscriber_id == after_id) == 1
    assert count(query, OutboxMessage, OutboxMessage.subscriber_id == after_id,
                 OutboxMessage.kind == "confirm") == 1


def test_a_beacon_after_the_server_dropped_the_connections_counts_once(
        app, client, make_site, query, database_url):
    # A beacon's one statement runs alone in autocommit: a dropped connection must be
    # found and the statement run once more, as a sign-up's transaction is.
    site = make_site()
    widget = query(lambda s: s.scalar(select(Widget.id).where(Widget.site_id == site)))
    app.config["SITE_CACHE_SECONDS"] = 60
    url = f"/api/v1/sites/{site}/events"
    body = {"page": "/p", "events": [{"widget": widget, "type": "impression"}]}
    assert client.post(url, json=body, headers={"Origin": ORIGIN}).status_code == 204
    assert drop_connections(database_url) >= 1
    after = client.post(url, json=body, headers={"Origin": ORIGIN})
    assert after.status_code == 204, after.text
    shown = query(lambda s: s.scalar(select(StatDay.shown).where(
        StatDay.widget_id == widget, StatDay.dim == "page", StatDay.key == "/p")))
    assert shown == 2


def test_the_dashboard_after_the_server_dropped_the_connections(
        app, ann, make_site, database_url):
    make_site(owner_email="ann@example.com", name="Kept")
    assert ann.get("/dashboard/").status_code == 200
    assert drop_connections(database_url) >= 1
    page = ann.get("/dashboard/")
    assert page.status_code == 200 and "Kept" in page.text
