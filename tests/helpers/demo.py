"""`widget demo` as a subprocess, and widgets written straight into its database."""
from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
import urllib.request
import uuid

import pytest
from sqlalchemy import create_engine, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from widget.models import Widget

from ..fixtures.database import PG_URL
from .smtp import free_port


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


def add_widget(demo, triggers, match="any", **attrs) -> str:
    """A live widget on the demo site, straight into the demo's database, for the test
    that adds it only: fixtures/browser.py removes it when that test ends (the demo is
    shared by a module, and a leftover "time" trigger opened a dialog over the next
    test's page once it ran longer than a second, as it does on a loaded machine)."""
    engine = create_engine(demo["db"])
    wid = f"w_{uuid.uuid4().hex[:10]}"
    with Session(engine) as session:
        session.add(Widget(**{"id": wid, "site_id": "demo-blog", "name": wid,
                              "kind": "newsletter", "layout": "modal", "triggers": triggers,
                              "trigger_match": match, "is_live": True,
                              "title": f"Widget {wid}", **attrs}))
        session.commit()
    engine.dispose()
    demo.setdefault("added", []).append(wid)
    return wid


def remove_added_widgets(demo, since: int = 0) -> None:
    """Pause the widgets add_widget put on the demo site after the first `since` (a
    paused widget is not served; its sign-ups and counters keep pointing at it)."""
    added = demo.get("added", [])[since:]
    demo["added"] = demo.get("added", [])[:since]
    if added:
        engine = create_engine(demo["db"])
        with Session(engine) as session:
            session.execute(update(Widget).where(Widget.id.in_(added)).values(is_live=False))
            session.commit()
        engine.dispose()
