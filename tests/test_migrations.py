"""Migrations: an empty database reaches head, an existing one keeps its rows, and the
migrations describe exactly the tables the code uses."""
from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, func, inspect, select, text

from widget.core.migrate import current_revision, head_revision, upgrade
from widget.models import Base, Consent, Subscriber
from widget.subscribers import search


def test_empty_database_migrates_to_head(database_url):
    engine = create_engine(database_url)
    assert current_revision(engine) is None
    upgrade(engine)
    assert current_revision(engine) == head_revision()
    tables = set(inspect(engine).get_table_names())
    assert {"owners", "sites", "site_origins", "widgets", "subscribers", "consents"} <= tables
    with engine.connect() as conn:
        # The search index lives outside the models (subscribers/search.py).
        diff = compare_metadata(MigrationContext.configure(conn, opts={
            "include_name": lambda name, kind, parent: not (
                name and (name.startswith(search.TABLE) or name in search.INDEXES))}),
            Base.metadata)
    assert diff == [], f"models and migrations differ: {diff}"
    engine.dispose()


def test_existing_database_keeps_its_rows(app, client, make_site):
    site = make_site()
    for i in range(3):
        client.post(f"/api/v1/sites/{site}/subscriptions",
                    json={"email": f"keep{i}@example.com", "consent": True})
    engine = create_engine(app.config["DATABASE_URL"])
    upgrade(engine)  # again, as `widget serve` does on every start
    upgrade(engine)
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(Subscriber)) == 3
        assert conn.scalar(select(func.count()).select_from(Consent)) == 3
        assert conn.scalar(text("SELECT count(*) FROM alembic_version")) == 1
    engine.dispose()


def test_migrate_command_on_existing_database(app, make_site, tmp_path):
    import os
    import subprocess
    import sys

    make_site()
    env = {**os.environ, "DATABASE_URL": app.config["DATABASE_URL"],
           "WIDGET_INSTANCE_PATH": str(tmp_path / "i")}
    done = subprocess.run([sys.executable, "-m", "widget", "migrate"], env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert f"revision {head_revision()}" in done.stdout
    engine = create_engine(app.config["DATABASE_URL"])
    with engine.connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM sites")) == 1
    engine.dispose()


def test_upgrade_from_0002_turns_each_trigger_into_a_list_and_keeps_rows(database_url):
    from widget.models import Widget

    engine = create_engine(database_url)
    upgrade(engine, "0002")
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO owners (email, password_hash, created_at) "
                          "VALUES ('o@example.com', 'x', '2026-01-01')"))
        conn.execute(text("INSERT INTO sites (id, owner_id, name, default_lang, "
                          "require_consent, created_at) SELECT 's_old', id, 'Old', 'nb', "
                          "true, '2026-01-01' FROM owners"))
        conn.execute(text(
            "INSERT INTO widgets (id, site_id, name, kind, layout, trigger, is_live, title, "
            "quiet_days_after_close, quiet_days_after_signup, created_at, updated_at) VALUES "
            "('w_old', 's_old', 'Old', 'newsletter', 'modal', 'exit_intent', true, 'Hei', "
            "7, 30, '2026-01-01', '2026-01-01')"))
    upgrade(engine)
    with engine.connect() as conn:
        row = conn.execute(select(Widget.triggers, Widget.trigger_match, Widget.title,
                                  Widget.quiet_days_after_close)).one()
    assert tuple(row) == ([["exit_intent", None]], "any", "Hei", 7)
    engine.dispose()


def test_upgrade_from_0005_keeps_earlier_sign_ups_on_the_list(database_url):
    from widget.models import StatusChange

    engine = create_engine(database_url)
    upgrade(engine, "0005")
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO owners (email, password_hash, created_at) "
                          "VALUES ('o@example.com', 'x', '2026-01-01')"))
        conn.execute(text("INSERT INTO sites (id, owner_id, name, default_lang, require_consent, "
                          "popup_cap, reset_count, created_at) SELECT 's_old', id, 'Old', 'nb', "
                          "true, 1, 0, '2026-01-01' FROM owners"))
        conn.execute(text(
            "INSERT INTO subscribers (site_id, email, email_normalized, status, lang, "
            "created_at, updated_at) VALUES ('s_old', 'Kari@Example.com', 'kari@example.com', "
            "'subscribed', 'nb', '2026-02-03 04:05:06', '2026-02-03 04:05:06')"))
    upgrade(engine)
    with engine.connect() as conn:
        row = conn.execute(select(Subscriber.status, Subscriber.status_at,
                                  Subscriber.confirm_sent_at)).one()
        assert row.status == "confirmed" and row.confirm_sent_at is None
        assert row.status_at.strftime("%Y-%m-%d %H:%M:%S") == "2026-02-03 04:05:06"
        history = conn.execute(select(StatusChange.status, StatusChange.via)).all()
        assert [tuple(h) for h in history] == [("confirmed", "signup")]
        assert conn.scalar(text("SELECT double_opt_in FROM sites")) in (True, 1)
        assert conn.scalar(text("SELECT confirm_days FROM sites")) == 7
    engine.dispose()
