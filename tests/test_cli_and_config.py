"""The `widget` command and start-up settings, run as an owner would run them."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest
from sqlalchemy import create_engine, select

from widget import create_app, settings
from widget.models import Feed, Owner, Site, Widget


def run(*args, env=None, input=None):
    return subprocess.run([sys.executable, "-m", "widget", *args], capture_output=True,
                          text=True, env=env, input=input, timeout=60)


@pytest.fixture
def env(database_url, tmp_path):
    e = {k: v for k, v in os.environ.items() if not k.startswith(("WIDGET_", "DATABASE_URL"))}
    e.update(WIDGET_INSTANCE_PATH=str(tmp_path / "inst"), DATABASE_URL=database_url)
    return e


def test_create_owner_and_site_from_the_command_line(env, database_url):
    done = run("create-owner", "--email", "Ann@Example.com", "--password", "long enough pw",
               env=env)
    assert done.returncode == 0, done.stderr
    site = run("create-site", "--owner", "ann@example.com", "--name", "Ann’s blog 🌿",
               "--origin", "https://ann.example/", "--origin", "http://localhost:4000",
               "--lang", "nb", env=env)
    assert site.returncode == 0, site.stderr
    site_id = site.stdout.strip().splitlines()[-1]
    assert f'data-site="{site_id}"' in site.stdout
    engine = create_engine(database_url)
    with engine.connect() as conn:
        assert conn.scalar(select(Owner.email)) == "ann@example.com"
        row = conn.execute(select(Site.name, Site.default_lang).where(Site.id == site_id)).one()
        assert tuple(row) == ("Ann’s blog 🌿", "nb")
        assert conn.execute(select(Widget.is_live, Widget.layout, Widget.triggers)).one() == (
            True, "modal", [["exit_intent", None]])
    engine.dispose()


def test_create_owner_prompts_for_the_password(env):
    done = run("create-owner", "--email", "bo@example.com", env=env,
               input="a secret passphrase\na secret passphrase\n")
    assert done.returncode == 0, done.stderr
    assert "Owner bo@example.com created" in done.stdout


def test_cli_errors_are_clear(env):
    weak = run("create-owner", "--email", "bo@example.com", "--password", "short", env=env)
    assert weak.returncode == 1 and "at least 10 characters" in weak.stderr
    nobody = run("create-site", "--owner", "ghost@example.com", "--name", "X",
                 "--origin", "https://x.example", env=env)
    assert nobody.returncode == 1 and "No owner with the e-mail" in nobody.stderr
    run("create-owner", "--email", "bo@example.com", "--password", "long enough pw", env=env)
    bad = run("create-site", "--owner", "bo@example.com", "--name", "X", "--origin",
              "blog.example", env=env)
    assert bad.returncode == 1 and "not an http(s) origin" in bad.stderr
    assert "Traceback" not in weak.stderr + nobody.stderr + bad.stderr


def test_help_lists_commands_and_settings():
    out = run("--help").stdout
    for name in ("serve", "demo", "migrate", "create-owner", "create-site"):
        assert name in out
    for setting in settings.SETTINGS:
        assert setting.env in out
    assert "--origin" in run("create-site", "--help").stdout


def test_production_refuses_unsafe_settings(env):
    env.update(WIDGET_ENV="production")
    done = run("migrate", env=env)
    assert done.returncode == 1
    for name in ("WIDGET_SECRET_KEY", "WIDGET_BASE_URL", "WIDGET_SMTP_URL", "WIDGET_MAIL_FROM"):
        assert name in done.stderr
    env.update(WIDGET_SECRET_KEY="k" * 40, WIDGET_BASE_URL="https://widgets.example",
               WIDGET_SMTP_URL="smtp://mail.example:587", WIDGET_MAIL_FROM="news@blog.example")
    assert run("migrate", env=env).returncode == 0
    env.update(WIDGET_SMTP_URL="imap://mail.example")
    bad = run("migrate", env=env)
    assert bad.returncode == 1 and "WIDGET_SMTP_URL" in bad.stderr and "Traceback" not in bad.stderr
    env.update(WIDGET_SMTP_URL="smtps://u:p@mail.example")
    assert run("migrate", env=env).returncode == 0


def test_secret_key_is_generated_once_and_kept(tmp_path, monkeypatch):
    monkeypatch.setenv("WIDGET_INSTANCE_PATH", str(tmp_path / "inst"))
    monkeypatch.delenv("WIDGET_SECRET_KEY", raising=False)
    monkeypatch.delenv("WIDGET_ENV", raising=False)
    first = create_app().config["SECRET_KEY"]
    assert len(first) >= 32 and create_app().config["SECRET_KEY"] == first
    key_file = tmp_path / "inst" / "secret_key"
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"
    assert create_app().config["DATABASE_URL"].endswith("inst/widget.sqlite3")


def test_database_url_and_base_url_come_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("WIDGET_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/other.db")
    monkeypatch.setenv("WIDGET_BASE_URL", "https://w.example/")
    app = create_app()
    assert app.config["DATABASE_URL"].endswith("other.db")
    assert app.config["BASE_URL"] == "https://w.example"
    assert app.config["SESSION_COOKIE_SECURE"] is True


def test_serve_migrates_and_answers_with_links_to_itself(env):
    import socket
    import time
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "widget", "serve", "--port", str(port)],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as r:
                    assert r.status == 200
                    break
            except OSError:
                assert proc.poll() is None and time.monotonic() < deadline, proc.stdout.read()
                time.sleep(0.1)
        done = run("create-owner", "--email", "s@example.com", "--password", "long enough pw",
                   env=env)
        assert done.returncode == 0  # the schema was migrated by serve
    finally:
        proc.terminate()
        out = proc.communicate(timeout=10)[0]
    assert f"dashboard: http://127.0.0.1:{port}/dashboard/" in out


def test_demo_seed_keeps_existing_data(app, client, query):
    from widget.core import db
    from widget.demo import DEMO_SITE, seed
    from widget.models import Subscriber

    with app.app_context():
        seed("http://127.0.0.1:5001")
    client.post(f"/api/v1/sites/{DEMO_SITE}/subscriptions",
                json={"email": "kept@example.com", "consent": True})
    with app.app_context():
        assert seed("http://127.0.0.1:6001") == ("demo@example.com", "demo-password", DEMO_SITE)
        site = db.session().get(Site, DEMO_SITE)
        assert {o.origin for o in site.origins} == {
            "http://127.0.0.1:5001", "http://localhost:5001",
            "http://127.0.0.1:6001", "http://localhost:6001"}
    assert query(lambda s: s.scalar(select(Subscriber.email))) == "kept@example.com"
    assert query(lambda s: len(s.scalars(select(Owner)).all())) == 1
    # the example blog's feed follows the example pages to this run's port
    assert query(lambda s: s.scalars(select(Feed.url)).all()) == [
        "http://127.0.0.1:6001/feed.xml"]
