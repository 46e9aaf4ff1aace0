"""Signed webhooks over real HTTP, SQLite and PostgreSQL alike: a receiver in this
process (a threaded http.server on loopback, which the test app may reach:
WEBHOOK_ALLOW_PRIVATE) checks every delivery with the `standardwebhooks` library, not
with our signing code. Faults: the receiver down (503, then its port closed) and up
again, a worker stuck mid-delivery and taken over, private targets refused, the
give-up that switches an endpoint off and e-mails its owner (a real SMTP server). The
address guard is tested on addresses, never by connecting: no packet leaves loopback."""
from __future__ import annotations

import re
import socket
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import standardwebhooks
from sqlalchemy import select, update

from widget.core import db, events, outbound, outbox
from widget.core.rawsql import Tx
from widget.mail import worker as mail_worker
from widget.models import OutboxMessage, Webhook, utcnow
from widget.sites import keys
from widget.sync import webhooks

from .helpers.api import assert_error
from .helpers.giveback import member
from .helpers.http import csrf_post
from .helpers.waiting import wait_until


@pytest.fixture
def app_config(app_config):
    app_config.update(WEBHOOK_ALLOW_PRIVATE=True, OUTBOX_RETRY_SECONDS=0.05,
                      WEBHOOK_RETRY_HOURS=1, MAIL_FROM="news@blog.example")
    return app_config


@pytest.fixture
def strict(app_config):
    """The production default: loopback and private targets refused."""
    app_config["WEBHOOK_ALLOW_PRIVATE"] = False


class Receiver:
    """A webhook endpoint on loopback that records every request and answers with
    `status(request_number)` (which may block); `stop()` closes its port, `start()`
    opens the same port again."""

    def __init__(self, host: str = "127.0.0.1"):
        self.host, self.port, self.got, self.lock = host, 0, [], threading.Lock()
        self.status = lambda n: 200
        self.server = None
        self.start()

    def start(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with receiver.lock:
                    receiver.got.append((dict(self.headers), body))
                    n = len(receiver.got)
                code = receiver.status(n)
                self.send_response(code)
                self.send_header("Content-Type", "text/plain")
                self.end_headers()
                self.wfile.write(f"answer {n}: {code}".encode())

            def log_message(self, *args):
                pass

        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        server_class = type("Server", (ThreadingHTTPServer,), {"address_family": family})
        self.server = server_class((self.host, self.port), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/hooks/widget"

    def verified(self, secret: str) -> list[dict]:
        """Every payload received, each checked by standardwebhooks (raises if not)."""
        check = standardwebhooks.Webhook(secret)
        return [check.verify(body, headers) for headers, body in self.got]


@pytest.fixture
def receiver():
    made = Receiver()
    yield made
    made.stop()


def add_hook(query, site: str, url: str, types=None) -> tuple[int, str]:
    made = query(lambda s: webhooks.create(s, site, url, types))
    return made.row.id, made.secret


def emit(query, site: str, type_: str, contact_id: int | None = None, n: int = 0) -> None:
    """An event written in a transaction, as the change sites write theirs."""
    def run(s):
        events.emit(Tx.on_session(s), site, type_, {"contact": {"id": contact_id}, "n": n},
                    contact_id)
        s.commit()
    query(run)


def drain(app, worker: str = "test-worker") -> None:
    """The worker's loop body until nothing is due: claim, deliver, record."""
    while mail_worker.drain_once(app, worker):
        pass


def make_due(query) -> None:
    """Time passes: every delivery waiting for its back-off is due now."""
    query(lambda s: (s.execute(update(OutboxMessage).where(OutboxMessage.status == "queued")
                               .values(next_attempt_at=utcnow())), s.commit()))


def deliveries(query, hook_id: int) -> list[OutboxMessage]:
    return query(lambda s: list(s.scalars(select(OutboxMessage).where(
        OutboxMessage.webhook_id == hook_id, OutboxMessage.kind == "webhook")
        .order_by(OutboxMessage.id))))


def bearer(query, site: str, scope: str) -> dict:
    key = query(lambda s: keys.create(s, site, scope, "test").key)
    return {"Authorization": f"Bearer {key}"}


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


# --- dashboard ---------------------------------------------------------------------------

def test_the_dashboard_adds_a_webhook_tests_it_and_shows_its_log(app, ann, make_site, query,
                                                                  receiver):
    site = make_site("ann@example.com")
    path = f"/dashboard/sites/{site}/webhooks"
    assert "Webhooks" in ann.get(f"/dashboard/sites/{site}").text
    refused = csrf_post(ann, path, {"url": "ftp://example.com/x"})
    assert refused.status_code == 422 and "Use an http:// or https:// URL" in refused.text
    assert ann.post(path, data={"url": receiver.url}).status_code == 400  # no CSRF token
    made = csrf_post(ann, path, {"url": receiver.url, "description": "Zapier",
                                 "events": ["contact.confirmed", "gift.given"]})
    assert made.status_code == 200
    [secret] = re.findall(r"whsec_[A-Za-z0-9+/=]+", made.text)
    hook = query(lambda s: s.scalar(select(Webhook).where(Webhook.site_id == site)))
    assert hook.events == "contact.confirmed,gift.given" and secret not in hook.secret
    assert secret not in ann.get(path).text  # shown once
    page = f"{path}/{hook.id}"
    assert csrf_post(ann, page + "/test", {}, page).status_code == 302
    drain(app)
    [payload] = receiver.verified(secret)
    assert payload["type"] == "webhook.test"
    assert payload["data"]["webhook"] == {"id": hook.id, "url": receiver.url}
    log = ann.get(page).text
    assert "webhook.test" in log and "HTTP 200" in log and "answer 1: 200" in log
    assert csrf_post(ann, page + "/delete", {}, page).status_code == 302
    assert query(lambda s: s.get(Webhook, hook.id)) is None
    assert ann.get(page).status_code == 404


def test_another_owners_webhook_is_404(ann, make_site, query):
    mine, theirs = make_site("ann@example.com"), make_site("bob@example.com")
    their_hook, _ = add_hook(query, theirs, "https://hooks.example/bob")
    token = ann.csrf(f"/dashboard/sites/{mine}/webhooks")
    for site in (mine, theirs):
        base = f"/dashboard/sites/{site}/webhooks/{their_hook}"
        assert ann.get(base).status_code == 404
        for action in ("test", "enable", "delete"):
            assert ann.post(f"{base}/{action}", data={"csrf_token": token}).status_code == 404
    assert query(lambda s: s.get(Webhook, their_hook)) is not None


# --- owner API ---------------------------------------------------------------------------

def test_the_owner_api_adds_lists_and_deletes_webhooks(client, make_site, query):
    site, other = make_site(), make_site("bob@example.com")
    write, read = bearer(query, site, "write"), bearer(query, site, "read")
    path = f"/api/v1/sites/{site}/webhooks"
    made = client.post(path, headers=write, json={
        "url": "https://hooks.example/a", "events": ["gift.given", "contact.created"],
        "description": "Make"})
    assert made.status_code == 201, made.text
    body = made.json()
    assert body["events"] == ["contact.created", "gift.given"] and body["enabled"] is True
    assert body["secret"].startswith("whsec_") and body["description"] == "Make"
    listed = client.get(path, headers=read).json()["webhooks"]
    assert listed == [{k: v for k, v in body.items() if k != "secret"}]
    assert_error(client.post(path, headers=read, json={"url": "https://x.example"}), 403,
                 "forbidden_scope")
    for data, status, code, field in [
            ({}, 422, "missing_field", "url"),
            ({"url": "javascript:alert(1)"}, 422, "invalid_url", "url"),
            ({"url": "https://user:pw@x.example/"}, 422, "invalid_url", "url"),
            ({"url": "https://x.example/" + "a" * 2048}, 422, "too_long", "url"),
            ({"url": "https://x.example", "events": ["contact.eaten"]}, 422, "invalid_event",
             "events"),
            ({"url": "https://x.example", "events": "gift.given"}, 400, "invalid_type",
             "events"),
            ({"url": "https://x.example", "secret": "mine"}, 400, "bad_request", "secret")]:
        assert_error(client.post(path, headers=write, json=data), status, code, field)
    theirs = client.post(f"/api/v1/sites/{other}/webhooks", json={"url": "https://b.example"},
                         headers=bearer(query, other, "write")).json()["id"]
    assert_error(client.delete(f"{path}/{theirs}", headers=write), 404, "not_found")
    assert_error(client.delete(f"/api/v1/sites/{other}/webhooks/{theirs}", headers=write),
                 404, "site_not_found")
    assert_error(client.delete(f"{path}/{body['id']}", headers=read), 403, "forbidden_scope")
    assert client.delete(f"{path}/{body['id']}", headers=write).status_code == 204
    assert client.get(path, headers=read).json() == {"webhooks": []}
    for n in range(webhooks.MAX_PER_SITE):
        assert client.post(path, headers=write, json={"url": f"https://h.example/{n}"}
                           ).status_code == 201
    assert_error(client.post(path, headers=write, json={"url": "https://h.example/x"}), 409,
                 "too_many_webhooks")
