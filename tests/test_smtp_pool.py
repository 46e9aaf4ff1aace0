"""One SMTP session per batch of the outbox worker (core/smtp.Session), against a real
SMTP server (aiosmtpd) on loopback and a real database: a batch goes over one
connection; a server that drops the session mid-batch loses and duplicates nothing;
a recipient refused for good fails alone, and the rest go on the same session."""
from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import select

from widget.mail import worker as mail_worker
from widget.models import OutboxMessage, Subscriber

from .helpers.smtp import Mailbox, SmtpServer

NO_SUCH_USER = "550 5.1.1 Mailbox unavailable: no such user here"


class PoolMailbox(Mailbox):
    """A Mailbox that can end a session after `per_session` messages (it closes the
    connection when the next MAIL FROM comes, or answers 421 with `say_421`), refuses
    the recipients in `refused`, and counts QUITs and RSETs."""

    def __init__(self, per_session: int | None = None, say_421: bool = False,
                 refused: tuple[str, ...] = ()):
        super().__init__()
        self.per_session, self.say_421, self.refused = per_session, say_421, refused
        # Messages accepted, by aiosmtpd session (the key keeps it alive: no id reused).
        self.carried: Counter = Counter()
        self.quits = self.resets = 0

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        if self.per_session is not None and self.carried[session] >= self.per_session:
            if self.say_421:
                return "421 4.7.0 Too many messages on one connection, closing"
            server.transport.close()  # no answer at all: the connection is gone
            return "250 OK"  # written to a closed transport: never arrives
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refused:
            return NO_SUCH_USER
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        answer = await super().handle_DATA(server, session, envelope)
        if answer.startswith("250"):
            self.carried[session] += 1
        return answer

    async def handle_RSET(self, server, session, envelope):
        self.resets += 1
        return "250 OK"

    async def handle_QUIT(self, server, session, envelope):
        self.quits += 1
        return "221 Bye"


@pytest.fixture
def server():
    """A real SMTP server the app sends to, not yet started: each test sets its mailbox."""
    srv = SmtpServer()
    yield srv
    srv.stop()


@pytest.fixture
def app_config(app_config, server):
    app_config.update(SMTP_URL=server.url, OUTBOX_RETRY_SECONDS=0.1, OUTBOX_MAX_ATTEMPTS=5,
                      MAIL_FROM="news@blog.example")
    return app_config


def queue_confirmations(client, site: str, emails: list[str]) -> None:
    for email in emails:
        resp = client.post(f"/api/v1/sites/{site}/subscriptions",
                           json={"email": email, "consent": True})
        assert resp.status_code == 200, (email, resp.text)


def rows(query) -> dict[str, tuple]:
    """Each outbox row by the subscriber's address: status, attempts, last error."""
    return {email: (status, attempts, error) for email, status, attempts, error in query(
        lambda s: s.execute(select(Subscriber.email, OutboxMessage.status,
                                   OutboxMessage.attempts, OutboxMessage.last_error)
                            .join(Subscriber, Subscriber.id == OutboxMessage.subscriber_id))
        .all())}


def received(server) -> Counter:
    return Counter(m["To"].addresses[0].addr_spec for m in server.mailbox.messages)


def test_a_batch_goes_over_one_connection(app, client, make_site, server, query):
    server.mailbox = PoolMailbox()
    server.start()
    emails = [f"batch-{i}@example.com" for i in range(12)]
    queue_confirmations(client, make_site(), emails)
    before = server.connections

    assert mail_worker.drain_once(app) == 12

    assert server.connections - before == 1
    assert server.mailbox.quits == 1  # closed politely at the end of the batch
    assert received(server) == Counter(emails)
    assert rows(query) == {e: ("sent", 1, None) for e in emails}


@pytest.mark.parametrize("say_421", [False, True], ids=["closed", "421"])
def test_a_session_dropped_mid_batch_loses_and_repeats_nothing(
        say_421, app, client, make_site, server, query):
    """The server takes three messages a connection, then drops it (or answers 421) when
    the fourth begins: that message goes on a fresh session, not counted as a failure."""
    server.mailbox = PoolMailbox(per_session=3, say_421=say_421)
    server.start()
    emails = [f"dropped-{i}@example.com" for i in range(10)]
    queue_confirmations(client, make_site(), emails)
    before = server.connections

    assert mail_worker.drain_once(app) == 10

    assert received(server) == Counter(emails)  # each exactly once
    assert server.mailbox.data_count == 10
    assert server.connections - before == 4  # 3 + 3 + 3 + 1
    assert sorted(server.mailbox.carried.values()) == [1, 3, 3, 3]
    assert rows(query) == {e: ("sent", 1, None) for e in emails}


def test_a_refused_recipient_fails_alone_and_the_rest_follow_on_the_same_session(
        app, client, make_site, server, query):
    emails = [f"reader-{i}@example.com" for i in range(6)]
    refused = emails[2]
    server.mailbox = PoolMailbox(refused=(refused,))
    server.start()
    queue_confirmations(client, make_site(), emails)
    before = server.connections

    assert mail_worker.drain_once(app) == 6

    assert server.connections - before == 1
    assert server.mailbox.resets >= 1  # the refused transaction was reset
    assert received(server) == Counter(e for e in emails if e != refused)
    assert rows(query) == {e: ("failed", 1, NO_SUCH_USER) if e == refused
                           else ("sent", 1, None) for e in emails}


def test_a_server_that_drops_every_fresh_session_is_not_asked_twice(
        app, client, make_site, server, query):
    """A session dropped before it carried anything is the server's answer, not a stale
    connection: the message waits for its retry, as with one connection per message."""
    server.mailbox = PoolMailbox(per_session=0)
    server.start()
    emails = [f"never-{i}@example.com" for i in range(3)]
    queue_confirmations(client, make_site(), emails)
    before = server.connections

    assert mail_worker.drain_once(app) == 3

    assert server.connections - before == 3  # one try each, no second connection
    assert server.mailbox.messages == []
    got = rows(query)
    assert {(status, attempts) for status, attempts, _ in got.values()} == {("queued", 1)}
    assert all("SMTPServerDisconnected" in error for _, _, error in got.values())
