"""Fixtures: a fresh real database per test (SQLite always, PostgreSQL when
TEST_DATABASE_URL is set), the app served over real HTTP, and small helpers."""
from __future__ import annotations

import contextlib
import functools
import os
import re
import shutil
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from playwright.sync_api import Page
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session
from werkzeug.serving import make_server

from widget import create_app
from widget.core import db
from widget.core.migrate import upgrade
from widget.models import SiteOrigin, Widget
from widget.sites.accounts import create_owner, create_site, find_owner

from .smtpserver import SmtpServer, free_port

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


class HttpClient:
    """A requests session against a base URL, with the dashboard's CSRF and log-in steps."""

    def __init__(self, url: str):
        self.url = url
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


class LiveServer(HttpClient):
    """The app on a real socket, with a client pointed at it."""

    def __init__(self, application):
        self.server = make_server("127.0.0.1", 0, application, threaded=True)
        super().__init__(f"http://127.0.0.1:{self.server.server_port}")
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True)
        self.thread.start()

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


def csrf_post(client: HttpClient, path: str, data: dict, page: str | None = None):
    """POST a dashboard form with the CSRF token of the form on `page` (default: `path`)."""
    return client.post(path, data={**data, "csrf_token": client.csrf(page or path)})


def wait_until(check, what: str = "the condition", timeout: float = 15.0):
    """Poll `check` until it returns something truthy and return that; fail the test
    after `timeout` seconds (the outbox worker runs in another thread or process)."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.02)


@pytest.fixture
def ann(client, make_owner):
    """A client logged into the dashboard as the owner ann@example.com."""
    make_owner("ann@example.com")
    assert client.login("ann@example.com").status_code == 302
    return client


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


# --- real-browser fixtures: the demo as a subprocess, and a third origin for host pages ---

@pytest.fixture(scope="module", params=BACKENDS)
def demo(request, tmp_path_factory):
    """`widget demo` exactly as the README runs it, on free ports and a fresh database."""
    with run_demo(request.param, tmp_path_factory.mktemp("demo")) as running:
        yield running


@contextlib.contextmanager
def run_demo(backend: str, tmp, **env_extra):
    """`widget demo` as a subprocess on `backend` (sqlite or postgresql), with any extra
    environment (e.g. WIDGET_SMTP_URL); stopped and its database dropped afterwards."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WIDGET_", "DATABASE_URL"))}
    env["WIDGET_INSTANCE_PATH"] = str(tmp / "instance")
    env["WIDGET_SITE_CACHE_SECONDS"] = "0"  # tests add widgets to the running demo
    env["DATABASE_URL"] = f"sqlite:///{tmp / 'instance' / 'widget.sqlite3'}"
    env.update(env_extra)
    admin = None
    if backend == "postgresql":
        name = f"demo_{uuid.uuid4().hex[:12]}"
        admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        env["DATABASE_URL"] = make_url(PG_URL).set(database=name).render_as_string(False)
    port, examples_port = free_port(), free_port()
    log = open(tmp / "demo.log", "w+")
    proc = subprocess.Popen([sys.executable, "-m", "widget", "demo", "--port", str(port),
                             "--examples-port", str(examples_port)],
                            env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(base + "/healthz", timeout=1)
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                log.seek(0)
                pytest.fail("widget demo did not start:\n" + log.read())
            time.sleep(0.1)
    log.seek(0)
    printed = log.read()
    try:
        yield {"base": base, "pages": f"http://127.0.0.1:{examples_port}", "printed": printed,
               "db": env["DATABASE_URL"]}
    finally:
        proc.terminate()
        proc.wait(10)
        log.close()
        if admin is not None:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


ARTICLE = "".join(f"<p>Paragraph {i} of a long article about bread.</p>" * 3
                  for i in range(60))


def add_widget(demo, triggers, match="any", **attrs) -> str:
    """A live widget on the demo site, straight into the demo's database."""
    engine = create_engine(demo["db"])
    wid = f"w_{uuid.uuid4().hex[:10]}"
    with Session(engine) as session:
        session.add(Widget(**{"id": wid, "site_id": "demo-blog", "name": wid,
                              "kind": "newsletter", "layout": "modal", "triggers": triggers,
                              "trigger_match": match, "is_live": True,
                              "title": f"Widget {wid}", **attrs}))
        session.commit()
    engine.dispose()
    return wid


@pytest.fixture(scope="module")
def host(demo, tmp_path_factory):
    """A plain static web server on its own origin, allowed by the demo site."""
    root = tmp_path_factory.mktemp("host")
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(root))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    origin = f"http://127.0.0.1:{server.server_port}"
    engine = create_engine(demo["db"])
    with Session(engine) as session:
        session.add(SiteOrigin(site_id="demo-blog", origin=origin))
        session.commit()
    engine.dispose()
    yield {"root": root, "origin": origin}
    server.shutdown()
    server.server_close()


def host_page(page: Page, demo, host, *widget_ids: str, top: str = "", query: str = "",
              referer: str | None = None):
    """A long article on the host origin, its snippet limited to `widget_ids`; `top` is
    HTML put before the article, `query` goes after the page's address."""
    attr = f' data-widget="{widget_ids[0]}"' if len(widget_ids) == 1 else ""
    name = f"t-{uuid.uuid4().hex[:8]}.html"
    (host["root"] / name).write_text(
        f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<title>Bread</title>'
        f'<script async src="{demo["base"]}/embed.js" data-site="demo-blog"{attr}>'
        f'</script></head><body>{top}<main><h1>Bread</h1>{ARTICLE}</main></body></html>',
        encoding="utf-8")
    with page.expect_response(lambda r: "/widgets?" in r.url and r.status == 200):
        page.goto(f"{host['origin']}/{name}{query}", referer=referer)




def open_example(page: Page, demo, name: str = "blog-post.html"):
    """Open one of the demo's example pages and wait until the loader has its config."""
    with page.expect_response(lambda r: "/widgets?" in r.url and r.status == 200):
        page.goto(f"{demo['pages']}/{name}")


def log_in(page: Page, demo):
    """Log into the demo's dashboard as its owner."""
    page.goto(f"{demo['base']}/dashboard/login")
    page.get_by_label("E-mail").fill("demo@example.com")
    page.get_by_label("Password").fill("demo-password")
    page.get_by_role("button", name="Log in").click()


def exit_intent(page: Page):
    """Move into the page, then out through the top edge, as a leaving reader does."""
    page.mouse.move(640, 300)
    page.mouse.move(640, 150)
    page.mouse.move(640, -10)


# --- e-mail: a real SMTP server (aiosmtpd) on loopback, and the real outbox worker ---
@pytest.fixture
def smtp():
    """A real SMTP server on loopback, running."""
    server = SmtpServer().start()
    yield server
    server.stop()


@pytest.fixture
def worker(app):
    """The real outbox worker in a thread of the test process, as `widget serve` runs it."""
    from widget.core import outbox
    from widget.mail import worker as mail_worker

    thread, stop = mail_worker.start(app, poll=0.05)
    yield thread
    stop.set()
    outbox.wake_event(app).set()
    thread.join(10)
