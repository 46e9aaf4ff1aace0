"""Secrets the app must use again later (a webhook's signing secret, an e-mail
service's API key), kept encrypted at rest with Fernet (AES-128-CBC + HMAC-SHA256,
from `cryptography`). The key is derived from WIDGET_SECRET_KEY for this one purpose,
so a database copy alone reveals none of them."""
from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken
from flask import current_app

PURPOSE = b"reciprocity-widgets/vault/v1"


class Unreadable(Exception):
    """The stored secret was made with another WIDGET_SECRET_KEY, or was altered."""


def _fernet() -> Fernet:
    secret = current_app.config["SECRET_KEY"]
    key = hashlib.sha256(PURPOSE + b"\0" + secret.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def seal(plain: str) -> str:
    """The encrypted form of `plain`, to store."""
    return _fernet().encrypt(plain.encode()).decode()


def open_(sealed: str) -> str:
    """The secret a `seal` made; Unreadable if the key changed or it was altered."""
    try:
        return _fernet().decrypt(sealed.encode()).decode()
    except InvalidToken:
        raise Unreadable() from None
