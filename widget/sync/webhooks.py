"""Signed webhooks: endpoints of the owner's that receive the site's events. This module
checks and keeps them (the URL, the event types, the secret sealed), queues a test
event or a failed delivery again, and signs per Standard Webhooks
(https://www.standardwebhooks.com/): the headers webhook-id (the event's msg_… id, the
same on every attempt, for de-duplication), webhook-timestamp (of the attempt, in
seconds) and webhook-signature ("v1," + base64 HMAC-SHA256 of "{id}.{timestamp}.{body}"
keyed with the secret after "whsec_", base64-decoded). sync/webhook_send.py delivers.

"Send a test event" queues an event of type webhook.test for one endpoint only (it is
no site event, so not in events.TYPES, and emit() never fans it out); "send again"
queues a failed delivery again with a fresh retry window (WEBHOOK_RETRY_HOURS counts
from when a delivery was queued)."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from urllib.parse import urlsplit

from flask_babel import format_number, gettext
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from widget.core import events, outbox, vault
from widget.models import Event, OutboxMessage, Webhook, utcnow

SECRET_PREFIX = "whsec_"
MAX_URL = 2048
MAX_DESCRIPTION = 200
MAX_PER_SITE = 10  # each event is one row per endpoint: keep the fan-out small
TEST_TYPE = "webhook.test"
USER_AGENT = "reciprocity-widgets-webhooks/1"


class Invalid(ValueError):
    """What the owner typed cannot make a webhook: `code` and `field` for the API's
    error, the message for people (in the dashboard's language on a dashboard page; the
    API's locale is English)."""

    def __init__(self, code: str, field: str | None, message: str, status: int = 422):
        super().__init__(message)
        self.code, self.field, self.status = code, field, status


@dataclass(frozen=True)
class Made:
    """A new webhook and its secret in clear, shown this once."""
    row: Webhook
    secret: str


def clean_url(value) -> str:
    """An endpoint URL: http(s), a host, no user or password in it, at most 2048
    characters. Whether its address may be reached is checked when sending."""
    url = value.strip() if isinstance(value, str) else ""
    if not url:
        raise Invalid("missing_field", "url", gettext("Give the URL that should receive events."))
    if len(url) > MAX_URL:
        raise Invalid("too_long", "url", gettext("The URL is longer than %(max)s characters.",
                                                 max=format_number(MAX_URL)))
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in url):
        raise Invalid("invalid_url", "url",
                      gettext("The URL holds a space or a control character."))
    try:
        parts = urlsplit(url)
        parts.port  # a port that is no number raises ValueError here
    except ValueError:
        raise Invalid("invalid_url", "url", gettext("That is not a URL.")) from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise Invalid("invalid_url", "url",
                      gettext("Use an http:// or https:// URL with a host."))
    if parts.username is not None or parts.password is not None:
        raise Invalid("invalid_url", "url", gettext("Leave user names and passwords out of "
                                                    "the URL: the signature proves each "
                                                    "request is ours."))
    return url


def clean_events(value) -> str:
    """The event types a webhook takes as stored: a comma list in TYPES' order, '' for
    all of them (None or an empty list)."""
    if value is None:
        return ""
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise Invalid("invalid_type", "events", "'events' must be a list of event types.",
                      status=400)
    unknown = [v for v in value if v not in events.TYPES]
    if unknown:
        raise Invalid("invalid_event", "events", f"Unknown event type '{unknown[0][:40]}': "
                      f"use {', '.join(events.TYPES)}.")
    return ",".join(t for t in events.TYPES if t in value)


def types_of(hook: Webhook) -> list[str]:
    """The event types a webhook takes; an empty list means all of them."""
    return hook.events.split(",") if hook.events else []


def new_secret() -> str:
    """A signing secret as Standard Webhooks writes them: whsec_ + base64 of 24 bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()


def create(session: Session, site_id: str, url, types, description=None) -> Made:
    """Check and store a new webhook for the site (committed); its secret is kept
    encrypted and returned in clear this once."""
    url, types = clean_url(url), clean_events(types)
    if description is not None and not isinstance(description, str):
        raise Invalid("invalid_type", "description", "'description' must be a string.",
                      status=400)
    description = (description or "").strip() or None
    if description and len(description) > MAX_DESCRIPTION:
        raise Invalid("too_long", "description",
                      gettext("Keep the description under %(max)s characters.",
                              max=format_number(MAX_DESCRIPTION)))
    count = session.scalar(select(func.count(Webhook.id)).where(Webhook.site_id == site_id))
    if count >= MAX_PER_SITE:
        raise Invalid("too_many_webhooks", None, gettext(
            "A site has at most %(max)s webhooks: delete one first.",
            max=format_number(MAX_PER_SITE)), status=409)
    secret = new_secret()
    row = Webhook(site_id=site_id, url=url, events=types, description=description,
                  secret=vault.seal(secret), enabled=True, created_at=utcnow())
    session.add(row)
    session.commit()
    return Made(row, secret)


def listed(session: Session, site_id: str) -> list[Webhook]:
    """The site's webhooks, oldest first."""
    return list(session.scalars(select(Webhook).where(Webhook.site_id == site_id)
                                .order_by(Webhook.created_at, Webhook.id)))


def delete(session: Session, hook: Webhook) -> None:
    """Remove a webhook with its deliveries (committed); its events stay for others."""
    session.delete(hook)
    session.commit()


def enable(session: Session, hook: Webhook) -> bool:
    """Switch an endpoint on again (committed); False if it was on. Deliveries that
    failed meanwhile stay failed: "send again" queues each."""
    if hook.enabled:
        return False
    hook.enabled, hook.disabled_reason = True, None
    session.commit()
    return True


def send_test(session: Session, hook: Webhook) -> OutboxMessage:
    """Queue a webhook.test event for this endpoint alone (committed; wake the worker)."""
    now = utcnow()
    public_id = f"msg_{secrets.token_urlsafe(18)}"
    payload = {"type": TEST_TYPE, "version": events.VERSION, "id": public_id,
               "timestamp": now.strftime("%Y-%m-%dT%H:%M:%SZ"), "site": hook.site_id,
               "data": {"webhook": {"id": hook.id, "url": hook.url}}}
    event = Event(public_id=public_id, site_id=hook.site_id, type=TEST_TYPE,
                  payload=json.dumps(payload, ensure_ascii=False, separators=(",", ":")),
                  created_at=now)
    session.add(event)
    session.flush()
    row = OutboxMessage(site_id=hook.site_id, kind="webhook", mailbox="", lang="",
                        status="queued", attempts=0, next_attempt_at=now, created_at=now,
                        message_id=public_id, event_id=event.id, webhook_id=hook.id)
    session.add(row)
    session.commit()
    return row


def send_again(session: Session, hook: Webhook, delivery_id: int) -> bool:
    """Queue a failed delivery of this endpoint again, due now with a fresh retry
    window (committed); False if it is no failed delivery of this endpoint."""
    mine = (OutboxMessage.id == delivery_id, OutboxMessage.webhook_id == hook.id,
            OutboxMessage.kind == "webhook", OutboxMessage.status == "failed")
    if session.scalar(select(OutboxMessage.id).where(*mine)) is None:
        return False
    # The retry window starts again now; outbox.retry commits this with the re-queue.
    session.execute(update(OutboxMessage).where(*mine).values(created_at=utcnow())
                    .execution_options(synchronize_session=False))
    return outbox.retry(session, delivery_id)


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The webhook-signature header's value for one attempt (Standard Webhooks, v1)."""
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    signed = f"{msg_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def signed_headers(secret: str, msg_id: str, timestamp: int, body: bytes) -> dict:
    """The request headers of one attempt: the three signature headers and the type."""
    return {"webhook-id": msg_id, "webhook-timestamp": str(timestamp),
            "webhook-signature": sign(secret, msg_id, timestamp, body),
            "Content-Type": "application/json", "User-Agent": USER_AGENT}
