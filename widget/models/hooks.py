"""Where a site's events go: the events themselves (written with the change that causes
them), webhook endpoints and connectors to e-mail services. Each delivery of an event
to an endpoint or a connector is an outbox row (kind "webhook" or "sync"), so one queue
with one claim, lease and back-off carries e-mail and events alike."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (JSON, Boolean, DateTime, ForeignKey, Index, Integer, String, Text,
                        UniqueConstraint)
from sqlalchemy.orm import Mapped, mapped_column

from widget.models.base import Base, utcnow


class Event(Base):
    """Something that happened on a site, as its receivers get it. `contact_id` is the
    contact it is about (no foreign key: a contact.erased event outlives its contact),
    and keeps each receiver's deliveries about one contact in order."""
    __tablename__ = "events"
    __table_args__ = (Index("ix_events_site_created", "site_id", "created_at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(40), unique=True)  # msg_…: webhook-id
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    type: Mapped[str] = mapped_column(String(32))
    contact_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    payload: Mapped[str] = mapped_column(Text)  # the JSON body, as signed and sent
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Webhook(Base):
    """An endpoint of the owner's that receives the site's events, signed per Standard
    Webhooks with its own secret (kept encrypted)."""
    __tablename__ = "webhooks"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"),
                                         index=True)
    url: Mapped[str] = mapped_column(String(2048))
    # The event types it receives, comma-separated; empty: all of them.
    events: Mapped[str] = mapped_column(Text, default="")
    description: Mapped[str | None] = mapped_column(String(200), nullable=True)
    secret: Mapped[str] = mapped_column(Text)  # Fernet token of "whsec_…"
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    disabled_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Connector(Base):
    """A site's link to an e-mail service (Mailchimp, Kit, MailerLite, Brevo, Buttondown,
    listmonk): its key (kept encrypted), the list chosen there and how tags map."""
    __tablename__ = "connectors"
    __table_args__ = (UniqueConstraint("site_id", "service"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    service: Mapped[str] = mapped_column(String(16))
    secret: Mapped[str] = mapped_column(Text)  # Fernet token of the API key
    settings: Mapped[dict] = mapped_column(JSON, default=dict)  # list id, base URL, tags
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    last_ok_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    backfill_total: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
