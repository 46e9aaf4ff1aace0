"""Helpers shared by the outbox fault test modules (tests/test_mail_faults.py and
tests/test_mail_faults_workers.py): mailboxes that record, refuse, block or hold a
conversation, a real SMTP server the app sends to with its settings (fixtures), sign-ups,
the outbox rows read back, and `widget worker` started as an operator starts it."""
from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
from datetime import timezone

import pytest
from sqlalchemy import select

from widget.models import OutboxMessage, Subscriber

from .smtp import Mailbox, SmtpServer


class RecordingMailbox(Mailbox):
    """A Mailbox that also keeps the bytes of every DATA it was offered (refused or
    not) and can refuse recipients: `refuse_rcpt(n)` answers the n-th RCPT."""

    def __init__(self):
        super().__init__()
        self.offered: list[bytes] = []
        self.refuse_rcpt = None
        self.rcpt_count = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        with self.lock:
            self.rcpt_count += 1
            answer = self.refuse_rcpt(self.rcpt_count) if self.refuse_rcpt else None
        if answer:
            return answer
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.offered.append(envelope.content)
        return await super().handle_DATA(server, session, envelope)


class BlockingMailbox(Mailbox):
    """Holds every MAIL FROM until `release` is set: the client is mid-conversation."""

    def __init__(self):
        super().__init__()
        self.entered = threading.Event()
        self.release = threading.Event()

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        self.entered.set()
        await asyncio.get_running_loop().run_in_executor(None, self.release.wait, 30)
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"


class GateMailbox(Mailbox):
    """Holds the first MAIL FROM until a second one arrives (or 20 s pass): two
    workers, each sending one message at a time, are then sending at the same time."""

    def __init__(self):
        super().__init__()
        self.arrived = 0
        self.overlapped = False

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        loop = asyncio.get_running_loop()
        self.arrived += 1  # only the server's event loop touches it
        deadline = loop.time() + 20
        while self.arrived < 2 and loop.time() < deadline:
            await asyncio.sleep(0.005)
        self.overlapped = self.overlapped or self.arrived >= 2
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"


def server_with(mailbox: Mailbox, port: int | None = None) -> SmtpServer:
    server = SmtpServer(port)
    server.mailbox = mailbox
    return server


@pytest.fixture
def server():
    """A real SMTP server the app sends to, not yet started: each test starts it."""
    srv = server_with(RecordingMailbox())
    yield srv
    srv.stop()


@pytest.fixture
def app_config(app_config, server):
    app_config.update(SMTP_URL=server.url, OUTBOX_RETRY_SECONDS=0.1, OUTBOX_MAX_ATTEMPTS=30,
                      MAIL_FROM="news@blog.example")
    return app_config


def sign_up(client, site: str, emails) -> None:
    for email in emails:
        resp = client.post(f"/api/v1/sites/{site}/subscriptions",
                           json={"email": email, "consent": True})
        assert resp.status_code == 200 and resp.json() == {"ok": True}, (email, resp.text)


def outbox_rows(query) -> list[dict]:
    """Every outbox row as a plain dict, in id order, with the subscriber's address."""
    def read(s):
        rows = s.execute(select(OutboxMessage, Subscriber.email)
                         .join(Subscriber, Subscriber.id == OutboxMessage.subscriber_id)
                         .order_by(OutboxMessage.id)).all()
        return [{"email": email, **{c: getattr(m, c) for c in (
            "id", "kind", "status", "attempts", "message_id", "last_error", "claimed_by",
            "lease_until", "sent_at", "raw")}} for m, email in rows]
    return query(read)


def recipient(message) -> str:
    return message["To"].addresses[0].addr_spec


def as_utc(value):
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def start_worker(app, smtp_url: str, log_path, *args: str, lease: int = 2) -> subprocess.Popen:
    """`widget worker` as an operator runs it, against the test app's database and
    instance folder (so the links it signs verify in the app); `lease` in seconds."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WIDGET_", "DATABASE_URL"))}
    env.update(DATABASE_URL=app.config["DATABASE_URL"],
               WIDGET_INSTANCE_PATH=app.config["INSTANCE_PATH"],
               WIDGET_BASE_URL=app.config["BASE_URL"], WIDGET_SMTP_URL=smtp_url,
               WIDGET_MAIL_FROM="news@blog.example", WIDGET_OUTBOX_LEASE_SECONDS=str(lease),
               WIDGET_OUTBOX_RETRY_SECONDS="1", WIDGET_OUTBOX_MAX_ATTEMPTS="8")
    log = open(log_path, "w")
    try:
        return subprocess.Popen([sys.executable, "-m", "widget", "worker", *args],
                                env=env, stdout=log, stderr=subprocess.STDOUT)
    finally:
        log.close()  # the child has its own copy
