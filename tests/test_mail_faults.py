"""Faults of the SMTP server the e-mail outbox sends to, with a real SMTP server
(aiosmtpd) on loopback, real databases (SQLite and PostgreSQL) and the real worker in a
thread: the server down during sign-ups, temporary and permanent refusals, and a
Message-ID that never changes. Workers taking over from each other are
tests/test_mail_faults_workers.py's.
"""
from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import select

from widget.models import Subscriber

from .helpers import mail_faults
from .helpers.mail import worker_passed
from .helpers.mail_faults import outbox_rows, recipient, sign_up
from .helpers.waiting import wait_until

TRY_AGAIN = "451 4.3.0 Try again later"
# The faults' SMTP server (not started) and the app's settings for it (fixtures).
server, app_config = mail_faults.server, mail_faults.app_config


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


# --- 4. the Message-ID does not change between attempts ---

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
