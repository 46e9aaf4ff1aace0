"""Two instances, as a site that outgrows one server runs them: two gunicorn instances and
two `widget worker` processes on one database, rate limits counted in one real Redis
(redis-server, started here). Sign-ups go to both; one instance and one worker are
killed with SIGKILL midway; then confirmations. Every 2xx is a row, every e-mail arrives
exactly once, the outbox's counts agree with what arrived, and a per-address limit
counts across both instances. On SQLite (one file, WAL) and PostgreSQL."""
from __future__ import annotations

import asyncio
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from sqlalchemy import create_engine, func, select

from widget.models import OutboxMessage, Subscriber, Widget

from .helpers.serving import app_env, wait_healthy
from .helpers.smtp import Mailbox, SmtpServer, free_port
from .helpers.waiting import wait_until

# Heavy: six processes. The group keeps it off the worker that runs the other heavy tests.
pytestmark = pytest.mark.xdist_group("export_memory")

ROOT = Path(__file__).resolve().parent.parent
REDIS = shutil.which("redis-server")
ORIGIN = "https://blog.example"
SIGNUPS = 40


class HoldingMailbox(Mailbox):
    """Holds every MAIL FROM while `hold` is set: each worker stops mid-conversation at
    its next message, before the server accepted it."""

    def __init__(self):
        super().__init__()
        self.hold = threading.Event()
        self.waiting = 0

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        if self.hold.is_set():
            with self.lock:
                self.waiting += 1
            await asyncio.get_running_loop().run_in_executor(None, self._until_released)
            with self.lock:
                self.waiting -= 1
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    def _until_released(self):
        while self.hold.is_set():
            time.sleep(0.02)


@pytest.fixture
def redis_url():
    """A throw-away redis-server on a free port (no persistence)."""
    if REDIS is None:
        pytest.fail("redis-server is missing: apt-get install redis-server (.ci/run does)")
    port = free_port()
    proc = subprocess.Popen([REDIS, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        wait_until(lambda: _listening(port), "redis-server to listen", 10)
        yield f"redis://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(10)


def _listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def _widget(env: dict, *args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "widget", *args], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


def _start(env: dict, log: Path, *command: str) -> subprocess.Popen:
    # A session of its own: SIGKILL to its process group takes gunicorn's workers too.
    return subprocess.Popen([sys.executable, "-m", *command], env=env, cwd=ROOT,
                            stdout=log.open("w"), stderr=subprocess.STDOUT,
                            start_new_session=True)


def _kill(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)


def test_two_instances_and_two_workers_lose_nothing_when_one_of_each_is_killed(
        database_url, redis_url, tmp_path):
    smtp = SmtpServer()
    smtp.mailbox = HoldingMailbox()
    smtp.start()
    ports = [free_port(), free_port()]
    urls = [f"http://127.0.0.1:{port}" for port in ports]
    env = app_env(database_url, tmp_path / "instance", urls[1], WIDGET_SMTP_URL=smtp.url,
                  WIDGET_MAIL_FROM="news@blog.example", WIDGET_RATE_LIMIT_STORAGE=redis_url,
                  WIDGET_RATE_LIMIT_IP="10000/minute", WIDGET_RATE_LIMIT_EMAIL="3/hour",
                  WIDGET_OUTBOX_LEASE_SECONDS="2", WIDGET_OUTBOX_RETRY_SECONDS="1")
    _widget(env, "migrate")
    _widget(env, "create-owner", "--email", "ann@example.com", "--password", "a long password")
    site = _widget(env, "create-site", "--owner", "ann@example.com", "--name", "Blog",
                   "--origin", ORIGIN).strip().splitlines()[-1]
    engine = create_engine(database_url)
    with engine.connect() as conn:
        widget = conn.scalar(select(Widget.id).where(Widget.site_id == site))
    procs = [_start(env, tmp_path / f"app{i}.log", "gunicorn", "widget:create_app()",
                    "--workers", "2", "--bind", f"127.0.0.1:{port}")
             for i, port in enumerate(ports)]
    workers = [_start(env, tmp_path / f"worker{i}.log", "widget", "worker", "--poll", "0.1")
               for i in range(2)]
    try:
        for i, (url, proc) in enumerate(zip(urls, procs)):
            wait_healthy(url, proc, tmp_path / f"app{i}.log")

        def sign_up(n: int, email: str | None = None):
            email = email or f"reader{n:03}@example.com"
            try:
                resp = requests.post(f"{urls[n % 2]}/api/v1/sites/{site}/subscriptions",
                                     json={"email": email, "consent": True, "widget": widget},
                                     headers={"Origin": ORIGIN}, timeout=10)
            except requests.ConnectionError:
                return email, None  # the killed instance
            return email, resp.status_code

        # A limit counts across both instances and all their processes: 3 an hour.
        limited = [sign_up(n, "same@example.com")[1] for n in range(6)]
        assert sorted(limited) == [200, 200, 200, 429, 429, 429], limited

        # Both workers stop at their first message of the load, before the server takes
        # it; then one worker and one instance die with SIGKILL, the instance mid-load.
        smtp.mailbox.hold.set()
        with ThreadPoolExecutor(4) as pool:
            first = list(pool.map(sign_up, range(SIGNUPS // 2)))
            extra = SIGNUPS
            while smtp.mailbox.waiting < 2 and extra < SIGNUPS + 20:
                first.append(sign_up(extra))  # until the second worker has one too
                extra += 1
                time.sleep(0.3)
            assert smtp.mailbox.waiting == 2, "both workers should be held mid-message"
            later = [pool.submit(sign_up, n) for n in range(SIGNUPS // 2, SIGNUPS)]
            _kill(workers[0])
            time.sleep(0.2)
            _kill(procs[0])
            smtp.mailbox.hold.clear()
            rest = [future.result() for future in later]
        accepted = {email for email, status in first + rest if status == 200}
        assert all(status in (200, None) for _, status in first + rest), first + rest
        assert all(status == 200 for email, status in rest if int(email[6:9]) % 2)
        assert len(accepted) >= SIGNUPS // 2 + SIGNUPS // 4

        with engine.connect() as conn:  # every 2xx is a row
            stored = set(conn.scalars(select(Subscriber.email).where(Subscriber.site_id == site)))
        assert accepted | {"same@example.com"} <= stored

        def settled():
            with engine.connect() as conn:
                left = conn.scalar(select(func.count(OutboxMessage.id)).where(
                    OutboxMessage.status.in_(("queued", "sending"))))
            return left == 0
        wait_until(settled, "the outbox to empty (the dead worker's lease runs out)", 60)
        confirms = {m["To"].addresses[0].addr_spec: m for m in smtp.mailbox.messages}
        assert set(confirms) == stored  # one confirmation each, the held ones too

        # Confirmations, through the instance still up: each sets off a welcome e-mail.
        confirmed = sorted(accepted)[:8]
        for email in confirmed:
            link = re.search(r"/confirm/[\w.\-]+", confirms[email].get_body(("plain",))
                             .get_content())[0]
            assert requests.post(urls[1] + link, timeout=10).status_code == 200
        wait_until(settled, "the welcome e-mails to go", 30)
        wait_until(lambda: len(smtp.mailbox.messages) == len(stored) + len(confirmed) or None,
                   "every e-mail to arrive", 15)
        ids = Counter(m["Message-ID"] for m in smtp.mailbox.messages)
        assert max(ids.values()) == 1, [i for i, n in ids.items() if n > 1]  # exactly once
        with engine.connect() as conn:
            sent = conn.scalar(select(func.count(OutboxMessage.id)).where(
                OutboxMessage.status == "sent"))
            confirmed_rows = conn.scalar(select(func.count(Subscriber.id)).where(
                Subscriber.status == "confirmed"))
        assert sent == len(smtp.mailbox.messages) == len(stored) + len(confirmed)
        assert confirmed_rows == len(confirmed)
    finally:
        for proc in procs + workers:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    _kill(proc)
        smtp.mailbox.hold.clear()
        smtp.stop()
        engine.dispose()

