"""Faults of the e-mail outbox, with a real SMTP server (aiosmtpd) on loopback, real
databases and the real worker (in a thread, or as `widget worker` processes): the
server down during sign-ups, temporary and permanent refusals, a worker killed
mid-conversation, two workers draining one outbox, and a Message-ID that never changes.
"""
from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
from collections import Counter
from datetime import timezone

import pytest
from sqlalchemy import select

from widget.models import OutboxMessage, Subscriber, utcnow

from .helpers.mail import worker_passed
from .helpers.smtp import Mailbox, SmtpServer
from .helpers.waiting import wait_until

TRY_AGAIN = "451 4.3.0 Try again later"


# --- helpers ---

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


# --- 1. the SMTP server is down while people sign up ---

def test_smtp_down_during_signups_delivers_everything_once_it_is_back(
        client, make_site, server, worker, query):
    site = make_site()
    emails = [f"early-{i}@example.com" for i in range(10)]
    sign_up(client, site, emails)  # nothing listens on server.port yet

    statuses = query(lambda s: s.execute(select(Subscriber.email, Subscriber.status)).all())
    assert sorted(statuses) == sorted((e, "pending") for e in emails)
    rows = outbox_rows(query)
    assert sorted(r["email"] for r in rows) == sorted(emails)
    assert all(r["kind"] == "confirm" and r["status"] != "sent" for r in rows)

    # The worker keeps trying: every row has failed at least twice, and says why.
    rows = wait_until(lambda: (lambda rs: rs if all(r["attempts"] >= 2 for r in rs) else None)(
        outbox_rows(query)), "two failed attempts per message", 10)
    assert all(r["status"] in ("queued", "sending") for r in rows)
    assert all("refused" in (r["last_error"] or "").lower() for r in rows
               if r["status"] == "queued"), [r["last_error"] for r in rows]
    assert server.mailbox.messages == []

    server.start()
    received = server.mailbox.wait(10, timeout=15)
    wait_until(lambda: all(r["status"] == "sent" for r in outbox_rows(query)),
               "every row marked sent", 10)
    worker_passed(query, site)  # the worker has come round since: nothing more to send,
    assert len(server.mailbox.messages) == 10  # and no late duplicates

    assert sorted(recipient(m) for m in received) == sorted(emails)
    ids = [m["Message-ID"] for m in received]
    assert len(set(ids)) == 10
    rows = outbox_rows(query)
    assert {r["email"]: r["message_id"] for r in rows} == {recipient(m): m["Message-ID"]
                                                          for m in received}
    assert len(server.mailbox.offered) == 10  # once up, each went through DATA once


# --- 2. a server that asks to try again every other time ---

def test_server_refusing_every_other_attempt_gets_each_message_once(
        client, make_site, server, worker, query):
    server.mailbox.refuse = lambda n: TRY_AGAIN if n % 2 else None
    server.start()
    site = make_site()
    emails = [f"flaky-{i}@example.com" for i in range(10)]
    sign_up(client, site, emails)

    # Which row draws the odd numbers is up to timing; an unlucky one may be refused
    # five or six times (its waits double from 0.1 s), hence the generous deadline.
    received = server.mailbox.wait(10, timeout=30)
    wait_until(lambda: all(r["status"] == "sent" for r in outbox_rows(query)),
               "every row marked sent", 10)
    worker_passed(query, site)
    assert len(server.mailbox.messages) == 10

    assert Counter(recipient(m) for m in received) == Counter(emails)
    rows = outbox_rows(query)
    assert [r["status"] for r in rows] == ["sent"] * 10
    assert any(r["attempts"] > 1 for r in rows)
    # Odd DATA commands were refused, even ones accepted: the 10th delivery is DATA
    # number 20, and every attempt of every row is one of those 20.
    assert server.mailbox.data_count == 20
    assert sum(r["attempts"] for r in rows) == 20
    assert all(r["last_error"] is None for r in rows)  # cleared once it was sent
    assert {r["email"]: r["message_id"] for r in rows} == {recipient(m): m["Message-ID"]
                                                          for m in received}


# --- 3. a permanent refusal ---

@pytest.mark.parametrize("stage", ["DATA", "RCPT"])
def test_permanent_refusal_fails_at_once_without_retrying(
        stage, client, make_site, server, worker, query):
    answer = "550 5.1.1 Mailbox unavailable: no such user here"
    if stage == "DATA":
        server.mailbox.refuse = lambda n: answer
    else:
        server.mailbox.refuse_rcpt = lambda n: answer
    server.start()
    site = make_site()
    sign_up(client, site, ["nobody@example.com"])

    (row,) = wait_until(lambda: (lambda rs: rs if rs and rs[0]["status"] == "failed"
                                 else None)(outbox_rows(query)), "the row to fail", 10)
    assert row["attempts"] == 1
    assert row["last_error"] == answer
    assert row["lease_until"] is None
    # The worker has been through the outbox again since: nothing was tried again.
    worker_passed(query, site)
    assert server.mailbox.rcpt_count == 1
    assert server.mailbox.data_count == (1 if stage == "DATA" else 0)
    (row,) = outbox_rows(query)
    assert (row["status"], row["attempts"]) == ("failed", 1)
    assert server.mailbox.messages == []


# --- 4. a worker killed between its claim and the end of the send ---

def test_worker_killed_mid_send_is_taken_over_after_its_lease(
        app, client, make_site, query, tmp_path):
    site = make_site()
    sign_up(client, site, ["kill@example.com"])  # no worker runs in this process
    (row,) = outbox_rows(query)
    assert (row["status"], row["attempts"]) == ("queued", 0)

    stuck = server_with(BlockingMailbox()).start()
    first = start_worker(app, stuck.url, tmp_path / "first.log")
    try:
        if not stuck.mailbox.entered.wait(30):
            pytest.fail("the worker never reached MAIL FROM:\n"
                        + (tmp_path / "first.log").read_text())
        (row,) = outbox_rows(query)
        assert row["status"] == "sending" and row["attempts"] == 1
        assert f":{first.pid}:" in row["claimed_by"]
        assert row["raw"] and row["message_id"] in row["raw"]  # rendered before sending
        lease_until = as_utc(row["lease_until"])
        first.send_signal(signal.SIGKILL)
        assert first.wait(10) == -signal.SIGKILL
    finally:
        if first.poll() is None:
            first.kill()
            first.wait(10)
        stuck.mailbox.release.set()
        stuck.stop()
    assert stuck.mailbox.messages == [] and stuck.mailbox.data_count == 0
    (row,) = outbox_rows(query)
    assert row["status"] == "sending" and row["attempts"] == 1  # the dead worker's claim

    good = server_with(RecordingMailbox()).start()
    second = start_worker(app, good.url, tmp_path / "second.log", "--poll", "0.1")
    try:
        (mail,) = good.mailbox.wait(1, timeout=20)
        wait_until(lambda: outbox_rows(query)[0]["status"] == "sent", "the row sent", 10)
        worker_passed(query, site)
        assert len(good.mailbox.messages) == 1
    finally:
        second.send_signal(signal.SIGTERM)
        code = second.wait(10)
        good.stop()
    assert code == 0, (tmp_path / "second.log").read_text()

    (row,) = outbox_rows(query)
    assert recipient(mail) == "kill@example.com"
    assert mail["Message-ID"] == row["message_id"]
    assert (row["status"], row["attempts"]) == ("sent", 2)
    assert f":{second.pid}:" in row["claimed_by"]
    assert as_utc(row["sent_at"]) >= lease_until  # not taken before the lease ended
    assert len(good.mailbox.messages) == 1 and good.mailbox.data_count == 1


def test_worker_whose_lease_ran_out_does_not_send_what_another_took(
        app, client, make_site, query, tmp_path):
    """A worker claims a batch under one lease. If sending its first message outlasts
    the lease, another worker takes over the whole batch; the first worker must not
    then send the rest of the batch as well."""
    site = make_site()
    sign_up(client, site, ["first@example.com", "second@example.com"])

    slow = server_with(BlockingMailbox()).start()
    good = server_with(RecordingMailbox()).start()
    procs = [start_worker(app, slow.url, tmp_path / "late.log", "--once")]
    try:
        if not slow.mailbox.entered.wait(30):
            pytest.fail("the worker never reached MAIL FROM:\n"
                        + (tmp_path / "late.log").read_text())
        rows = outbox_rows(query)
        assert [r["status"] for r in rows] == ["sending"] * 2
        assert {r["claimed_by"] for r in rows} == {rows[0]["claimed_by"]}  # one batch
        wait_until(lambda: all(as_utc(r["lease_until"]) < utcnow() for r in outbox_rows(query)), "the late worker's lease to end",
                   10)

        procs.append(start_worker(app, good.url, tmp_path / "other.log", "--once", lease=60))
        late, other = procs
        assert other.wait(30) == 0, (tmp_path / "other.log").read_text()
        rows = outbox_rows(query)
        assert [(r["status"], r["attempts"]) for r in rows] == [("sent", 2)] * 2
        assert all(f":{other.pid}:" in r["claimed_by"] for r in rows)
        assert sorted(recipient(m) for m in good.mailbox.messages) == [
            "first@example.com", "second@example.com"]

        slow.mailbox.release.set()  # the late worker goes on with its batch
        assert late.wait(30) == 0, (tmp_path / "late.log").read_text()
    finally:
        slow.mailbox.release.set()
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait(10)
        slow.stop()
        good.stop()
    # The message it was in the middle of sending when its lease ran out does arrive
    # twice (at-least-once: that cannot be undone), but nothing after it.
    assert [recipient(m) for m in slow.mailbox.messages] == ["first@example.com"]
    rows = outbox_rows(query)
    assert [(r["status"], r["attempts"]) for r in rows] == [("sent", 2)] * 2
    assert all(f":{other.pid}:" in r["claimed_by"] for r in rows)


# --- 5. two worker processes draining one outbox ---

def test_two_workers_deliver_each_message_exactly_once(
        app, client, make_site, query, tmp_path):
    count = 200
    site = make_site()
    emails = [f"many-{i:03d}@example.com" for i in range(count)]
    sign_up(client, site, emails)  # queued only: no worker runs in this process
    rows = outbox_rows(query)
    assert len(rows) == count and {r["status"] for r in rows} == {"queued"}

    gate = server_with(GateMailbox()).start()
    # A lease far longer than any one send: this is about two claims racing, not about
    # takeovers (the two tests above cover those). Runs on SQLite and PostgreSQL alike.
    workers = [start_worker(app, gate.url, tmp_path / f"worker-{n}.log", "--once", lease=60)
               for n in range(2)]
    try:
        codes = [w.wait(90) for w in workers]
    finally:
        for w in workers:
            if w.poll() is None:
                w.kill()
                w.wait(10)
        gate.stop()
    logs = "\n".join((tmp_path / f"worker-{n}.log").read_text() for n in range(2))
    assert codes == [0, 0], logs

    assert gate.mailbox.overlapped, "the two workers never sent at the same time"
    received = gate.mailbox.messages
    per_id = Counter(m["Message-ID"] for m in received)
    assert len(received) == count and set(per_id.values()) == {1}
    assert Counter(recipient(m) for m in received) == Counter(emails)
    rows = outbox_rows(query)
    assert [r["status"] for r in rows] == ["sent"] * count
    assert [r["attempts"] for r in rows] == [1] * count
    assert set(per_id) == {r["message_id"] for r in rows}
    holders = Counter(r["claimed_by"].split(":")[1] for r in rows)
    assert set(holders) == {str(w.pid) for w in workers}, holders  # both took a share


# --- 6. the Message-ID does not change between attempts ---

def test_message_id_is_stable_across_a_retry(client, make_site, server, worker, query):
    server.mailbox.refuse = lambda n: TRY_AGAIN if n == 1 else None
    server.start()
    site = make_site()
    sign_up(client, site, ["stable@example.com"])

    (mail,) = server.mailbox.wait(1)
    wait_until(lambda: outbox_rows(query)[0]["status"] == "sent", "the row sent", 10)
    (row,) = outbox_rows(query)
    assert row["attempts"] == 2 and server.mailbox.data_count == 2
    assert mail["Message-ID"] == row["message_id"]
    refused, accepted = server.mailbox.offered
    assert refused == accepted  # the same bytes both times, rendered once
    assert f"Message-ID: {row['message_id']}".encode() in refused
