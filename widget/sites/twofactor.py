"""Optional two-step log-in for owners: a TOTP app's six-digit code (RFC 6238, pyotp)
after the password, or one of ten one-time recovery codes when the phone is gone.

The secret is kept sealed (core/vault), recovery codes only as hashes; a code already
used in its 30-second window is refused, so a code seen over a shoulder cannot be
replayed. Setting up asks for a code first, so nobody turns it on with a secret their
app never took.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timezone

import pyotp
import segno
from flask_babel import gettext

from widget.core import vault
from widget.models import Owner

ISSUER = "Reciprocity widgets"
RECOVERY_CODES = 10


def new_secret() -> str:
    """A fresh base32 secret for the owner's app (not yet stored)."""
    return pyotp.random_base32()


def qr_svg(owner: Owner, secret: str) -> str:
    """The otpauth:// link as an inline SVG QR code for the app to scan."""
    uri = pyotp.TOTP(secret).provisioning_uri(name=owner.email, issuer_name=ISSUER)
    return segno.make(uri, error="m").svg_inline(scale=4, title=gettext("QR code for your app"))


def _digits(code: str) -> str:
    return "".join(ch for ch in code if ch.isalnum()).lower()


def _hash(code: str) -> str:
    return hashlib.sha256(_digits(code).encode()).hexdigest()


def code_fits(secret: str, code: str) -> bool:
    """Whether `code` is the secret's code now (or 30 seconds either side, for clocks)."""
    code = _digits(code)
    return len(code) == 6 and code.isdigit() and pyotp.TOTP(secret).verify(code, valid_window=1)


def turn_on(owner: Owner, secret: str, code: str) -> list[str] | None:
    """Turn two-step log-in on when `code` shows the app took `secret`: the recovery
    codes to show once (None: the code did not fit). The caller commits."""
    if not code_fits(secret, code):
        return None
    owner.totp_secret = vault.seal(secret)
    owner.totp_last = pyotp.TOTP(secret).timecode(datetime.now(timezone.utc))
    codes = [f"{secrets.token_hex(3)}-{secrets.token_hex(3)}" for _ in range(RECOVERY_CODES)]
    owner.recovery_codes = [_hash(c) for c in codes]
    return codes


def turn_off(owner: Owner) -> None:
    """Back to the password alone. The caller commits."""
    owner.totp_secret = owner.totp_last = owner.recovery_codes = None


def check(owner: Owner, code: str) -> str | None:
    """Log-in's second step: "code" for the app's code (once per 30-second window),
    "recovery" for a recovery code (used up), None when neither fits. The caller commits."""
    secret = vault.open_(owner.totp_secret)
    totp = pyotp.TOTP(secret)
    digits = _digits(code)
    if len(digits) == 6 and digits.isdigit():
        now = totp.timecode(datetime.now(timezone.utc))
        for step in (now - 1, now, now + 1):
            if step > (owner.totp_last or 0) and hmac.compare_digest(
                    totp.generate_otp(step), digits):
                owner.totp_last = step
                return "code"
        return None
    wanted = _hash(code)
    left = list(owner.recovery_codes or [])
    for stored in left:
        if hmac.compare_digest(stored, wanted):
            left.remove(stored)
            owner.recovery_codes = left
            return "recovery"
    return None
