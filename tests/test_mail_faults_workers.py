"""Workers of the e-mail outbox taking over from each other, with a real SMTP server
(aiosmtpd) on loopback, real databases (SQLite and PostgreSQL) and `widget worker`
processes: a worker killed mid-conversation, a worker whose lease ran out while another
took its row, and two workers draining one outbox. The server's own faults are
tests/test_mail_faults.py's.
"""
from __future__ import annotations

import signal
from collections import Counter

import pytest

from widget.models import utcnow

from .helpers import mail_faults
from .helpers.mail import worker_passed
from .helpers.mail_faults import (BlockingMailbox, GateMailbox, RecordingMailbox, as_utc,
                                  outbox_rows, recipient, server_with, sign_up, start_worker)
from .helpers.waiting import wait_until

# The faults' SMTP server (not started) and the app's settings for it (fixtures).
server, app_config = mail_faults.server, mail_faults.app_config


# --- 1. a worker killed between its claim and the end of the send ---

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


# --- 2. two worker processes draining one outbox ---

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
