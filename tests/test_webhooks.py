"""Signed webhooks over real HTTP, SQLite and PostgreSQL alike: a receiver in this
process (a threaded http.server on loopback, which the test app may reach:
WEBHOOK_ALLOW_PRIVATE) checks every delivery with the `standardwebhooks` library, not
with our signing code. Faults: the receiver down (503, then its port closed) and up
again, a worker stuck mid-delivery and taken over, private targets refused, the
give-up that switches an endpoint off and e-mails its owner (a real SMTP server). The
address guard is tested on addresses, never by connecting: no packet leaves loopback.
Adding and removing webhooks (dashboard, owner API) is tests/test_webhooks_manage.py's."""
from __future__ import annotations

import re
import threading
import time
from datetime import timedelta

import pytest
import standardwebhooks
from sqlalchemy import select, update

from widget.core import db, events, outbound, outbox
from widget.core.rawsql import Tx
from widget.mail import worker as mail_worker
from widget.models import OutboxMessage, Webhook, utcnow
from widget.sync import webhooks

from .helpers import webhooks as shared
from .helpers.giveback import member
from .helpers.http import csrf_post
from .helpers.waiting import wait_until
from .helpers.webhooks import Receiver, add_hook, bearer, drain

app_config, receiver = shared.app_config, shared.receiver  # loopback allowed; its receiver


@pytest.fixture
def strict(app_config):
    """The production default: loopback and private targets refused."""
    app_config["WEBHOOK_ALLOW_PRIVATE"] = False


def emit(query, site: str, type_: str, contact_id: int | None = None, n: int = 0) -> None:
    """An event written in a transaction, as the change sites write theirs."""
    def run(s):
        events.emit(Tx.on_session(s), site, type_, {"contact": {"id": contact_id}, "n": n},
                    contact_id)
        s.commit()
    query(run)


def make_due(query) -> None:
    """Time passes: every delivery waiting for its back-off is due now."""
    query(lambda s: (s.execute(update(OutboxMessage).where(OutboxMessage.status == "queued")
                               .values(next_attempt_at=utcnow())), s.commit()))


def deliveries(query, hook_id: int) -> list[OutboxMessage]:
    return query(lambda s: list(s.scalars(select(OutboxMessage).where(
        OutboxMessage.webhook_id == hook_id, OutboxMessage.kind == "webhook")
        .order_by(OutboxMessage.id))))


# --- signing -----------------------------------------------------------------------------

def test_our_signature_verifies_with_standard_webhooks_and_tampering_fails():
    secret, body, now = webhooks.new_secret(), b'{"type":"contact.created"}', int(time.time())
    assert re.fullmatch(r"whsec_[A-Za-z0-9+/]{32}", secret)
    headers = webhooks.signed_headers(secret, "msg_1", now, body)
    check = standardwebhooks.Webhook(secret)
    assert check.verify(body, headers) == {"type": "contact.created"}
    bad = standardwebhooks.WebhookVerificationError
    with pytest.raises(bad):
        check.verify(body.replace(b"created", b"erased"), headers)
    with pytest.raises(bad):
        check.verify(body, {**headers, "webhook-signature": "v1," + "A" * 44})
    with pytest.raises(bad):
        check.verify(body, {**headers, "webhook-id": "msg_2"})
    for stale in (now - 600, now + 600):  # the library's five minutes either way
        with pytest.raises(bad):
            check.verify(body, webhooks.signed_headers(secret, "msg_1", stale, body))
    with pytest.raises(bad):
        standardwebhooks.Webhook(webhooks.new_secret()).verify(body, headers)


@pytest.mark.parametrize("address", [
    "10.0.0.1", "10.255.255.254", "172.16.0.1", "172.31.255.1", "192.168.1.20",
    "169.254.169.254", "169.254.0.1", "fc00::1", "fd12:3456::1", "fe80::1", "fe80::1%eth0",
    "::ffff:10.0.0.1", "::ffff:127.0.0.1", "100.64.0.1", "0.0.0.0", "::", "127.0.0.1",
    "127.1.2.3", "::1", "224.0.0.1", "100.100.100.200", "fd00:ec2::254",
    "198.18.0.1", "240.0.0.1", "192.0.0.8"])
def test_the_guard_refuses_internal_addresses(address):
    assert outbound.refusal(address) is not None


@pytest.mark.parametrize("address", ["93.184.215.14", "1.1.1.1", "8.8.8.8",
                                     "2606:4700:4700::1111", "::ffff:93.184.215.14"])
def test_the_guard_lets_public_addresses_through(address):
    assert outbound.refusal(address) is None
    assert outbound.refusal(address, allow_private=True) is None


def test_allowing_private_targets_still_refuses_metadata_and_link_local():
    for address in ("10.0.0.1", "172.16.0.1", "192.168.1.20", "127.0.0.1", "::1", "fc00::1"):
        assert outbound.refusal(address, allow_private=True) is None
    for address in ("169.254.169.254", "fe80::1", "fd00:ec2::254", "100.100.100.200",
                    "0.0.0.0", "100.64.0.1"):
        assert outbound.refusal(address, allow_private=True) is not None


# --- delivery ----------------------------------------------------------------------------

def test_a_confirmed_sign_up_arrives_signed_and_in_order(app, client, make_site, query,
                                                         receiver, worker):
    site = make_site(double_opt_in=True, require_consent=False)
    made = client.post(f"/api/v1/sites/{site}/webhooks", headers=bearer(query, site, "write"),
                       json={"url": receiver.url, "events": ["contact.created",
                                                             "contact.confirmed"]})
    assert made.status_code == 201, made.text
    secret = made.json()["secret"]
    person = member(app, client, query, site, "reader@example.com", name="Rea")
    wait_until(lambda: len(receiver.got) == 2, "two deliveries")
    got = receiver.verified(secret)
    assert [p["type"] for p in got] == ["contact.created", "contact.confirmed"]
    for (headers, _), payload in zip(receiver.got, got):
        assert headers["webhook-id"] == payload["id"] and payload["id"].startswith("msg_")
        assert payload["version"] == 1 and payload["site"] == site
        assert payload["data"]["contact"]["id"] == person.id
        assert payload["data"]["contact"]["email"] == "reader@example.com"
        assert headers["Content-Type"] == "application/json"
    assert got[1]["data"]["contact"]["status"] == "confirmed"
    def all_sent():
        rows = deliveries(query, made.json()["id"])
        return all(r.status == "sent" for r in rows) and rows
    assert [(r.response_status, r.response) for r in wait_until(all_sent)] == [
        (200, "answer 1: 200"), (200, "answer 2: 200")]


def test_the_receiver_down_for_an_hour_then_up_gets_every_event_once_in_order(
        app, make_site, query, receiver):
    site = make_site()
    hook_id, secret = add_hook(query, site, receiver.url)
    sent = [(contact, kind) for contact in (1, 2, 3)
            for kind in ("contact.created", "contact.confirmed", "contact.updated")]
    for n, (contact, kind) in enumerate(sent):
        emit(query, site, kind, contact, n)
    emit(query, site, "story.submitted", None, 99)  # about no contact: waits for nothing
    receiver.status = lambda n: 503
    for _ in range(6):  # an hour of back-off, one round at a time
        drain(app)
        make_due(query)
    receiver.stop()  # and then not even listening
    for _ in range(4):
        drain(app)
        make_due(query)
    assert {r.last_error for r in deliveries(query, hook_id) if r.attempts > 6} == {
        "could not connect: Connection refused"}
    receiver.got.clear()
    receiver.status = lambda n: 200
    receiver.start()
    for _ in range(10):
        drain(app)
        make_due(query)
    assert all(r.status == "sent" for r in deliveries(query, hook_id))
    got = receiver.verified(secret)
    assert len({p["id"] for p in got}) == len(got) == len(sent) + 1  # once per id
    for contact in (1, 2, 3):
        assert [p["data"]["n"] for p in got if p["data"]["contact"]["id"] == contact] == [
            n for n, (c, _) in enumerate(sent) if c == contact]


def test_a_worker_stuck_mid_delivery_is_taken_over_and_nothing_is_lost(app, make_site, query,
                                                                         receiver):
    site = make_site()
    hook_id, secret = add_hook(query, site, receiver.url)
    emit(query, site, "contact.created", 7)
    stuck = threading.Event()
    receiver.status = lambda n: (stuck.wait(10), 200)[1] if n == 1 else 200
    with app.app_context():
        [claimed] = outbox.claim(db.engine(), "first", 20, 300)
    first = threading.Thread(target=deliver_in_thread, args=(app, claimed, "first"))
    first.start()
    wait_until(lambda: receiver.got, "the first worker's request")
    # The first worker hangs (or died): its lease runs out, another worker takes over.
    query(lambda s: (s.execute(update(OutboxMessage).values(
        lease_until=utcnow() - timedelta(seconds=1))), s.commit()))
    drain(app, "second")
    stuck.set()
    first.join(10)
    [row] = deliveries(query, hook_id)
    assert (row.status, row.claimed_by, row.response) == ("sent", "second", "answer 2: 200")
    got = receiver.verified(secret)
    assert len(got) == 2 and got[0] == got[1]  # at least once, with the same webhook-id
    assert receiver.got[0][0]["webhook-id"] == receiver.got[1][0]["webhook-id"]


def test_one_contacts_many_events_hold_up_no_one_else(app, make_site, query, receiver):
    """A claim looks at a window of the soonest due rows first: when one contact's events
    fill it (each waiting for the one before), it still takes the others behind them."""
    site = make_site()
    add_hook(query, site, receiver.url)
    for n in range(outbox.WINDOW * 2 + 2):
        emit(query, site, "contact.updated", 1, n)
    for contact in (2, 3):
        emit(query, site, "contact.created", contact)
    with app.app_context():
        taken = outbox.claim(db.engine(), "w", 2, 300)
        again = outbox.claim(db.engine(), "w", 2, 300)
    rows = {r.id: r for r in query(lambda s: s.scalars(select(OutboxMessage)).all())}
    assert [rows[i].contact_id for i in taken] == [1, 2]
    assert [rows[i].contact_id for i in again] == [3]  # contact 1's next waits for its first
    assert min(i for i in rows if rows[i].contact_id == 1) == taken[0]


def deliver_in_thread(app, message_id: int, worker: str) -> None:
    with app.app_context():
        mail_worker.deliver(app, message_id, worker)


def test_private_targets_are_refused_and_get_nothing(strict, app, make_site, query):
    site = make_site()
    here, there = Receiver("127.0.0.1"), Receiver("::1")
    try:
        hooks = [add_hook(query, site, url)[0] for url in (
            here.url, there.url, here.url.replace("127.0.0.1", "localhost"))]
        emit(query, site, "contact.created", 1)
        drain(app)
        assert here.got == [] and there.got == []
        errors = [(r.status, r.attempts, r.last_error, r.response_status)
                  for hook in hooks for r in deliveries(query, hook)]
        assert errors == [
            ("failed", 1, "not sent: 127.0.0.1 is a loopback or private address", None),
            ("failed", 1, "not sent: ::1 is a loopback or private address", None),
            ("failed", 1, "not sent: 127.0.0.1 is a loopback or private address", None)]
    finally:
        here.stop()
        there.stop()


@pytest.mark.real_smtp
def test_giving_up_switches_the_endpoint_off_and_tells_the_owner(app, ann, make_site, query,
                                                                  receiver, smtp):
    site = make_site("ann@example.com", name="Ann's blog")
    hook_id, secret = add_hook(query, site, receiver.url)
    receiver.status = lambda n: 500
    emit(query, site, "contact.created", 3)
    drain(app)
    [row] = deliveries(query, hook_id)
    assert (row.status, row.response_status, row.last_error) == (
        "queued", 500, "the endpoint answered HTTP 500")
    # Retried for longer than WEBHOOK_RETRY_HOURS (1 in these tests):
    query(lambda s: (s.execute(update(OutboxMessage).where(OutboxMessage.id == row.id).values(
        created_at=utcnow() - timedelta(hours=1, minutes=1))), s.commit()))
    make_due(query)
    drain(app)
    [row] = deliveries(query, hook_id)
    assert row.status == "failed"
    assert row.last_error == "gave up after 1 hours: the endpoint answered HTTP 500"
    hook = query(lambda s: s.get(Webhook, hook_id))
    assert not hook.enabled and "failed for 1 hours" in hook.disabled_reason
    [mail] = smtp.mailbox.wait(1)
    assert mail["To"].addresses[0].addr_spec == "ann@example.com"
    assert mail["Subject"] == "Ann's blog: a webhook was switched off"
    text = mail.get_body(("plain",)).get_content()
    assert receiver.url in text and "HTTP 500" in text
    assert f"/dashboard/sites/{site}/webhooks/{hook_id}" in text
    assert "List-Unsubscribe" not in mail
    emit(query, site, "contact.updated", 3)  # while off, no new deliveries are queued
    assert len(deliveries(query, hook_id)) == 1
    page = f"/dashboard/sites/{site}/webhooks/{hook_id}"
    assert "Switched off" in ann.get(page).text
    receiver.status = lambda n: 200
    assert csrf_post(ann, page + "/enable", {}, page).status_code == 302
    again = csrf_post(ann, f"{page}/deliveries/{row.id}/again", {}, page)
    assert again.status_code == 302 and "done=again" in again.headers["Location"]
    drain(app)
    assert [r.status for r in deliveries(query, hook_id)] == ["sent"]
    assert receiver.verified(secret)[-1]["type"] == "contact.created"
    assert len(smtp.mailbox.messages) == 1

