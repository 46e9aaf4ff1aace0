"""What every table shares: the declarative base, UTC time and public ids."""
from __future__ import annotations

import secrets
from datetime import datetime, timezone

from sqlalchemy.orm import DeclarativeBase


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def public_id(prefix: str) -> str:
    """A short, unguessable id that is safe to show in URLs and snippets."""
    return f"{prefix}_{secrets.token_urlsafe(9)}"


class Base(DeclarativeBase):
    pass
