"""Owners' API keys: made (the key shown once), found by the key, revoked, and marked used.

Only SHA-256 of a key is stored. A slow password hash (bcrypt, scrypt) defends guessable
secrets against offline guessing; these keys are 256 random bits, so nothing can be
guessed, and a fast hash lets every request find its key by an indexed lookup."""
from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta, timezone

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from widget.models import ApiKey, Site, utcnow
from widget.sites.accounts import AccountError

KEY_START = "rw_live_"  # recognisable in a leaked file or a secret scanner's rules
SCOPES = ("read", "write")
PREFIX_LENGTH = len(KEY_START) + 4
MAX_NAME = 100
TOUCH_EVERY = timedelta(minutes=1)  # last_used_at is written at most this often per key


@dataclass
class MadeKey:
    """A new key's row and the key itself, which is never available again."""
    row: ApiKey
    key: str


def digest(key: str) -> str:
    """The stored form of a key: its SHA-256, in hex."""
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def create(session: Session, site_id: str, scope: str, name: str = "") -> MadeKey:
    """Make a key for the site and commit it; AccountError for an unknown site or scope."""
    if scope not in SCOPES:
        raise AccountError(f"The scope must be read or write, not {scope!r}.")
    if session.get(Site, site_id) is None:
        raise AccountError(f"No site with the id {site_id}.")
    name = " ".join(name.split())[:MAX_NAME] or f"{scope.capitalize()} key"
    key = KEY_START + secrets.token_urlsafe(32)
    row = ApiKey(site_id=site_id, name=name, scope=scope, prefix=key[:PREFIX_LENGTH],
                 key_hash=digest(key))
    session.add(row)
    session.commit()
    return MadeKey(row, key)


def find(session: Session, key: str) -> ApiKey | None:
    """The live key row for a key as sent, or None (unknown, malformed or revoked)."""
    if not key.startswith(KEY_START) or len(key) > 100:
        return None
    wanted = digest(key)
    row = session.scalar(select(ApiKey).where(ApiKey.key_hash == wanted))
    # The lookup already matched; comparing again in constant time keeps the decision
    # itself free of timing differences, whatever the database's comparison does.
    if row is None or row.revoked_at is not None or not hmac.compare_digest(
            row.key_hash, wanted):
        return None
    return row


def revoke(session: Session, row: ApiKey) -> bool:
    """Revoke a key for good and commit; False if it was revoked already."""
    if row.revoked_at is not None:
        return False
    row.revoked_at = utcnow()
    session.commit()
    return True


def touch(session: Session, row: ApiKey) -> None:
    """Record that the key was used now, unless that was recorded within the last minute
    (one conditional UPDATE, so a busy key does not write on every request)."""
    now = utcnow()
    last = row.last_used_at
    if last is not None and (last if last.tzinfo else last.replace(tzinfo=timezone.utc)) \
            > now - TOUCH_EVERY:  # SQLite gives naive datetimes back; all are UTC
        return
    # Conditional, so of several requests racing past the check above one writes.
    done = session.execute(update(ApiKey).where(
        ApiKey.id == row.id,
        or_(ApiKey.last_used_at.is_(None), ApiKey.last_used_at < now - TOUCH_EVERY))
        .values(last_used_at=now).execution_options(synchronize_session=False))
    if done.rowcount:
        session.commit()
