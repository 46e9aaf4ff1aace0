"""The one token helper: itsdangerous signatures bound to a purpose (the salt).

A token made for one purpose (say "unsubscribe") never passes as another ("confirm"),
and an expired token still tells whose it was, so the page can offer a fresh link.
"""
from __future__ import annotations

import hashlib
from datetime import datetime, timezone
from functools import lru_cache

from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer

# confirm, unsubscribe, share: a subscriber's links (share: their share page). gift: a
# grant's page; gift_file: a short-lived download ticket issued by that page's button;
# rating: a follow-up's 1-5 links; reset: an owner's password reset link; email_change:
# the link that confirms an owner's new address; invite: an invitation to a site's team;
# letter: a letter's web version (the same for every reader).
PURPOSES = ("confirm", "unsubscribe", "share", "gift", "gift_file", "rating", "reset",
            "email_change", "invite", "letter")


class TokenInvalid(Exception):
    """Tampered, truncated, or made for another purpose."""


class TokenExpired(Exception):
    """Genuine but too old; `value` is what it carried."""

    def __init__(self, value):
        super().__init__("expired")
        self.value = value


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    if purpose not in PURPOSES:
        raise ValueError(f"unknown token purpose {purpose!r}")
    return _made(current_app.config["SECRET_KEY"], purpose)


@lru_cache(maxsize=64)
def _made(secret: str, purpose: str) -> URLSafeTimedSerializer:
    # Made once per key and purpose: a letter to 100,000 readers signs 200,000 links.
    return URLSafeTimedSerializer(secret, salt=f"widget.{purpose}")


def sign(purpose: str, value) -> str:
    """A URL-safe token carrying `value` (JSON-serialisable) for `purpose`."""
    return _serializer(purpose).dumps(value)


def read(purpose: str, token: str) -> tuple[object, float]:
    """The value of a token made by sign(purpose, …) and its age in seconds, for callers
    whose time limit depends on the value. Raises TokenInvalid."""
    try:
        value, signed_at = _serializer(purpose).loads(token, return_timestamp=True)
    except BadSignature:
        raise TokenInvalid() from None
    return value, (datetime.now(timezone.utc) - signed_at).total_seconds()


def unsign(purpose: str, token: str, max_age: int | None = None):
    """The value of a token made by sign(purpose, …), no older than max_age seconds.

    Raises TokenExpired (with the value) or TokenInvalid.
    """
    value, age = read(purpose, token)
    if max_age is not None and age > max_age:
        raise TokenExpired(value)
    return value


def subscriber_value(subscriber_id: int, email_normalized: str) -> list:
    """What a subscriber's tokens carry: the row's id and a short digest of its address,
    so a token never applies to another person who later gets the same id (SQLite reuses
    the ids of deleted rows) and the address itself never appears in a URL."""
    digest = hashlib.sha256(email_normalized.encode()).hexdigest()[:12]
    return [subscriber_id, digest]
