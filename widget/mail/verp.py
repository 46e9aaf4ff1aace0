"""VERP (variable envelope return path): each e-mail to a subscriber goes out with an
envelope sender of its own, `<local>+b-<code>@<domain>` on WIDGET_BOUNCE_ADDRESS
(default WIDGET_MAIL_FROM), so a bounce names the outbox message it is about by the
address it was sent to, whatever the remote server writes in it.

The code is the message's id in base 32 and 80 bits of an HMAC of it under a key derived
from the secret key for this purpose alone: nobody can make a code that marks someone
else bounced. Everything is lower case (mail servers may lower-case a local part) and
the local part stays within 64 characters (RFC 5321), which settings check at start-up.
"""
from __future__ import annotations

import hashlib
import hmac

ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"  # RFC 4648 base 32, lower case
MAC_BYTES = 10  # 80 bits: 16 base-32 characters
TAG = "+b-"
# The longest code: a 64-bit id (13 characters), "-", the MAC's 16.
LONGEST = 13 + 1 + 16
MAX_LOCAL = 64 - len(TAG) - LONGEST  # of the bounce address itself


def _b32(data: int | bytes) -> str:
    number = data if isinstance(data, int) else int.from_bytes(data, "big")
    width = 0 if isinstance(data, int) else (len(data) * 8 + 4) // 5
    digits = []
    while number or len(digits) < max(width, 1):
        number, digit = divmod(number, 32)
        digits.append(ALPHABET[digit])
    return "".join(reversed(digits))


def _from_b32(text: str) -> int | None:
    number = 0
    for char in text:
        digit = ALPHABET.find(char)
        if digit < 0:
            return None
        number = number * 32 + digit
    return number


def _mac(secret: str, message_id: int) -> str:
    key = hashlib.sha256(b"widget verp\0" + secret.encode()).digest()
    digest = hmac.new(key, b"outbox:%d" % message_id, hashlib.sha256).digest()
    return _b32(digest[:MAC_BYTES])


def bounce_address(config) -> str:
    """Where bounces go (the operator's WIDGET_BOUNCE_ADDRESS, else WIDGET_MAIL_FROM)."""
    return (config.get("BOUNCE_ADDRESS") or config["MAIL_FROM"]).lower()


def check(address: str) -> str | None:
    """What is wrong with `address` as the bounce address (None: nothing)."""
    local, at, domain = address.rpartition("@")
    if not (at and local and domain) or not address.isascii() or " " in address:
        return "must be an ASCII e-mail address (local@domain)"
    if len(local) > MAX_LOCAL:
        return (f"its local part (before the @) may be at most {MAX_LOCAL} characters, so "
                "the per-message return path stays within 64")
    return None


def address(config, message_id: int) -> str:
    """The envelope sender of outbox message `message_id`."""
    local, _, domain = bounce_address(config).rpartition("@")
    code = f"{_b32(message_id)}-{_mac(config['SECRET_KEY'], message_id)}"
    return f"{local}{TAG}{code}@{domain}"


def decode(config, recipient: str) -> int | None:
    """The outbox message id a bounce sent to `recipient` is about; None when it is not
    our VERP form or its code was made up or altered."""
    local, _, domain = bounce_address(config).rpartition("@")
    their_local, at, their_domain = recipient.strip().strip("<>").lower().rpartition("@")
    if not at or their_domain != domain or not their_local.startswith(local + TAG):
        return None
    number, dash, mac = their_local[len(local + TAG):].partition("-")
    message_id = _from_b32(number) if dash and 0 < len(number) <= 13 else None
    if message_id is None or not hmac.compare_digest(mac, _mac(config["SECRET_KEY"],
                                                                message_id)):
        return None
    return message_id
