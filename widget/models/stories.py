"""Stories visitors send, waiting for the owner's moderation."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from widget.models.base import Base, utcnow


class Story(Base):
    """What a visitor told, and whether they allowed it to be shown (consent_publish,
    in the words they saw). pending, approved (shown only with consent), rejected."""
    __tablename__ = "stories"
    __table_args__ = (Index("ix_stories_site_status", "site_id", "status", "created_at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    widget_id: Mapped[str | None] = mapped_column(
        ForeignKey("widgets.id", ondelete="SET NULL"), nullable=True)
    name: Mapped[str] = mapped_column(String(100))
    email: Mapped[str | None] = mapped_column(String(254), nullable=True)  # for the thanks
    text: Mapped[str] = mapped_column(Text)
    rating: Mapped[int | None] = mapped_column(Integer, nullable=True)  # 1 to 5
    consent_publish: Mapped[bool] = mapped_column(Boolean)
    consent_text: Mapped[str] = mapped_column(Text)
    lang: Mapped[str] = mapped_column(String(8))
    page_url: Mapped[str | None] = mapped_column(String(2048), nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    reply: Mapped[str | None] = mapped_column(Text, nullable=True)  # the owner's answer
    grant_id: Mapped[int | None] = mapped_column(
        ForeignKey("gift_grants.id", ondelete="SET NULL"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
