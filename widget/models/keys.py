"""Owners' API keys: per site, read or write, stored only as a hash."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from widget.models.base import Base, utcnow


class ApiKey(Base):
    """A key an owner's own tools send as `Authorization: Bearer …` to the owner API.
    The key itself is shown once; only its SHA-256 and its first characters are kept."""
    __tablename__ = "api_keys"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))  # the owner's label
    scope: Mapped[str] = mapped_column(String(8))  # 'read' or 'write'
    prefix: Mapped[str] = mapped_column(String(16))  # shown in lists, to tell keys apart
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
