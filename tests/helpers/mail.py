"""Helpers shared by the e-mail test modules: sign-ups, links in messages, tokens minted
as the app mints them, rows read back, and waiting for the outbox worker."""
from __future__ import annotations

import time
import uuid
from html import unescape

import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import func, select

from widget.core import tokens
from widget.models import OutboxMessage, StatusChange, Subscriber

from .http import BASE
from .smtp import links_in
from .waiting import wait_until

INVALID_TITLE = "This link does not work"
BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


def drain(query, timeout: float = 15.0) -> None:
    """Wait until the worker has handled every outbox row (none queued or sending)."""
    wait_until(lambda: query(lambda s: s.scalar(
        select(func.count(OutboxMessage.id))
        .where(OutboxMessage.status.in_(("queued", "sending"))))) == 0,
        "the outbox to drain", timeout)


def worker_passed(query, site: str, timeout: float = 15.0) -> None:
    """Wait until the outbox worker has been through the outbox since this moment: queue
    a confirmation to a deleted subscriber, which a worker skips without a word to any
    mail server, and wait until it was skipped. Due now, it comes after every row due
    before it, so all of those were claimed by then; and a worker claims again only once
    it has finished what it was sending. With nothing else due, the worker is idle."""
    def queue(s):
        row = OutboxMessage(site_id=site, subscriber_id=None, kind="confirm",
                            mailbox="deleted@example.com", lang="en",
                            message_id=f"<{uuid.uuid4().hex}@blog.example>")
        s.add(row)
        s.commit()
        return row.id
    canary = query(queue)
    wait_until(lambda: query(lambda s: s.scalar(select(OutboxMessage.status).where(
        OutboxMessage.id == canary))) == "skipped", "the worker to come round", timeout)


def signup(client, site: str, email_address: str, name: str | None = None, **kw):
    body = {"email": email_address, "consent": True}
    if name is not None:
        body["name"] = name
    return client.post(f"/api/v1/sites/{site}/subscriptions", json=body, **kw)


def path_of(link: str) -> str:
    assert link.startswith(BASE + "/"), link
    return link[len(BASE):]


def link(mail, kind: str) -> str:
    """The path of the mail's confirm or unsubscribe link."""
    return path_of(next(l for l in links_in(mail) if f"/{kind}/" in l))


def token_of(path: str) -> str:
    return path.rstrip("/").rsplit("/", 1)[1]


def subscriber(query, email_address: str) -> Subscriber:
    found = query(lambda s: s.scalar(select(Subscriber).where(
        Subscriber.email_normalized == email_address.lower())))
    assert found is not None, email_address
    return found


def snapshot(query) -> dict:
    """Everything a link could change: subscribers, their history and the outbox."""
    def read(s):
        return {
            "subscribers": s.execute(select(
                Subscriber.id, Subscriber.status, Subscriber.status_at,
                Subscriber.confirm_sent_at, Subscriber.updated_at)
                .order_by(Subscriber.id)).all(),
            "history": s.execute(select(StatusChange.subscriber_id, StatusChange.status,
                                        StatusChange.via).order_by(StatusChange.id)).all(),
            "outbox": s.execute(select(OutboxMessage.id, OutboxMessage.kind,
                                       OutboxMessage.subscriber_id)
                                .order_by(OutboxMessage.id)).all(),
        }
    return query(read)


def assert_invalid_page(resp) -> None:
    """The friendly 'this link does not work' page: 400, HTML, no trace of the code."""
    assert resp.status_code == 400, (resp.request.method, resp.url, resp.status_code)
    assert resp.headers["Content-Type"].startswith("text/html")
    text = unescape(resp.text)
    assert INVALID_TITLE in text
    assert "Traceback" not in text and "Error" not in text and 'File "' not in text
    assert resp.headers["Cache-Control"] == "no-store"


def flip(token: str, index: int) -> str:
    """The token with one character changed (never the last of a segment, whose low
    bits base64 may ignore)."""
    char = token[index]
    assert char != "."
    return token[:index] + ("A" if char != "A" else "B") + token[index + 1:]


class _SignedTwoDaysAgo(TimestampSigner):
    def get_timestamp(self) -> int:
        return int(time.time() - 2 * 86400)


def old_confirm_token(app, subscriber_id: int, email_normalized: str) -> str:
    """A genuine confirm token, signed two days ago."""
    with app.app_context():
        serializer = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt="widget.confirm",
                                            signer=_SignedTwoDaysAgo)
        token = serializer.dumps(tokens.subscriber_value(subscriber_id, email_normalized))
        # Genuine, and too old for a one-day link: what the page will find.
        assert tokens.unsign("confirm", token) == [subscriber_id,
                                                   tokens.subscriber_value(0, email_normalized)[1]]
        with pytest.raises(tokens.TokenExpired):
            tokens.unsign("confirm", token, max_age=86400)
    return token


def mint(app, purpose: str, sub: Subscriber) -> str:
    with app.app_context():
        return tokens.sign(purpose, tokens.subscriber_value(sub.id, sub.email_normalized))
