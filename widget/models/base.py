"""What every table shares: the declarative base, UTC time and public ids."""
from __future__ import annotations

import secrets
from datetime import datetime, timezone

from sqlalchemy.orm import DeclarativeBase

# Numeric ids are INTEGER columns: a larger id (from a URL or a cursor) is no row of ours,
# and PostgreSQL would refuse to compare with it.
MAX_ID = 2**31 - 1


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def public_id(prefix: str) -> str:
    """A short, unguessable id that is safe to show in URLs and snippets."""
    return f"{prefix}_{secrets.token_urlsafe(9)}"


class Base(DeclarativeBase):
    pass
