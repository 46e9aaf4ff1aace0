"""The one token helper: itsdangerous signatures bound to a purpose (the salt).

A token made for one purpose (say "unsubscribe") never passes as another ("confirm"),
and an expired token still tells whose it was, so the page can offer a fresh link.
"""
from __future__ import annotations

import hashlib

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

PURPOSES = ("confirm", "unsubscribe")


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
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=f"widget.{purpose}")


def sign(purpose: str, value) -> str:
    """A URL-safe token carrying `value` (JSON-serialisable) for `purpose`."""
    return _serializer(purpose).dumps(value)


def unsign(purpose: str, token: str, max_age: int | None = None):
    """The value of a token made by sign(purpose, …), no older than max_age seconds.

    Raises TokenExpired (with the value) or TokenInvalid.
    """
    serializer = _serializer(purpose)
    try:
        return serializer.loads(token, max_age=max_age)
    except SignatureExpired:
        try:
            return_value = serializer.loads(token)  # the signature itself is good
        except BadSignature:
            raise TokenInvalid() from None
        raise TokenExpired(return_value) from None
    except BadSignature:
        raise TokenInvalid() from None


def subscriber_value(subscriber_id: int, email_normalized: str) -> list:
    """What a subscriber's tokens carry: the row's id and a short digest of its address,
    so a token never applies to another person who later gets the same id (SQLite reuses
    the ids of deleted rows) and the address itself never appears in a URL."""
    digest = hashlib.sha256(email_normalized.encode()).hexdigest()[:12]
    return [subscriber_id, digest]
