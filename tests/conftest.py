"""Fixtures: a fresh real database per test (SQLite always, PostgreSQL when
TEST_DATABASE_URL is set), the app served over real HTTP, and small helpers."""
from __future__ import annotations

import os
import shutil
import re
import threading
import uuid

import pytest
import requests
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from werkzeug.serving import make_server

from widget import create_app, db
from widget.accounts import create_owner, create_site, find_owner
from widget.migrate import upgrade

PG_URL = os.environ.get("TEST_DATABASE_URL")
BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])
PASSWORD = "correct horse battery"


@pytest.fixture(params=BACKENDS)
def database_url(request, tmp_path):
    """An empty database of each backend, dropped after the test."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'widget.sqlite3'}"
        return
    name = f"t_{uuid.uuid4().hex[:16]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def app_config(database_url, tmp_path):
    """Settings for the app under test; tests may change them before `app` is built."""
    return {"DATABASE_URL": database_url, "INSTANCE_PATH": str(tmp_path / "instance"),
            "BASE_URL": "http://127.0.0.1:5000", "RATE_LIMITS": False,
            "SITE_CACHE_SECONDS": 0}


@pytest.fixture
def app(app_config, monkeypatch, tmp_path):
    """The app on a freshly migrated database."""
    monkeypatch.setenv("WIDGET_INSTANCE_PATH", str(tmp_path / "instance"))
    application = create_app(app_config)
    with application.app_context():
        upgrade(db.engine())
    yield application
    application.extensions["widget.db"][0].dispose()


class LiveServer:
    """The app on a real socket, with a requests session pointed at it."""

    def __init__(self, application):
        self.server = make_server("127.0.0.1", 0, application, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True)
        self.thread.start()
        self.http = requests.Session()

    def request(self, method: str, path: str, **kw) -> requests.Response:
        kw.setdefault("allow_redirects", False)
        kw.setdefault("timeout", 10)
        return self.http.request(method, self.url + path, **kw)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, **kw):
        return self.request("POST", path, **kw)

    def csrf(self, path: str) -> str:
        """The CSRF token of the form on the page at `path`."""
        page = self.get(path)
        match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text)
        assert match, f"no CSRF token on {path}"
        return match.group(1)

    def login(self, email: str, password: str = PASSWORD) -> requests.Response:
        token = self.csrf("/dashboard/login")
        return self.post("/dashboard/login",
                         data={"email": email, "password": password, "csrf_token": token})

    def close(self):
        self.http.close()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def client(app):
    """Real HTTP against the app."""
    server = LiveServer(app)
    yield server
    server.close()


@pytest.fixture
def make_client(app):
    """More clients of the same server (each with its own cookies)."""
    servers = []

    def make():
        server = LiveServer(app)
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.close()


@pytest.fixture
def make_owner(app):
    """Create an owner: make_owner('ann@example.com')."""
    def make(email: str, password: str = PASSWORD):
        with app.app_context():
            return create_owner(db.session(), email, password)
    return make


@pytest.fixture
def make_site(app):
    """Create a site for an owner (created when needed); returns the site id."""
    def make(owner_email: str = "owner@example.com", name: str = "Blog",
             origins=("https://blog.example",), lang: str = "en", **attrs) -> str:
        with app.app_context():
            owner = (find_owner(db.session(), owner_email)
                     or create_owner(db.session(), owner_email, PASSWORD))
            site = create_site(db.session(), owner, name, list(origins), lang)
            for key, value in attrs.items():
                setattr(site, key, value)
            db.session().commit()
            return site.id
    return make


@pytest.fixture
def query(app):
    """Run a function with a database session: query(lambda s: s.scalar(...))."""
    def run(fn):
        with app.app_context():
            return fn(db.session())
    return run


CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium")


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Debian's Chromium where installed (CI), else Playwright's own browser."""
    args = {**browser_type_launch_args,
            "args": ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--disable-background-networking", "--disable-component-update",
                     "--disable-sync", "--no-first-run"]}
    if CHROMIUM:
        args["executable_path"] = CHROMIUM
    return args
