"""The e-mail outbox and the owners' own e-mail copy."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint,
                        literal_column)
from sqlalchemy.orm import Mapped, mapped_column

from widget.models.base import Base, utcnow


def _partial(name: str, column: str, *more: str) -> Index:
    """An index of the rows whose `column` is set (what its look-ups ask for: equality
    implies IS NOT NULL, on both databases)."""
    where = literal_column(f"{column} IS NOT NULL")
    return Index(name, column, *more, sqlite_where=where, postgresql_where=where)


class OutboxMessage(Base):
    """An e-mail to send, written in the same transaction as the change that caused it.

    The worker claims rows (queued, or sending with an expired lease), renders the
    message once into `raw` with a stable Message-ID, and sends it with retries.
    """
    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "status", "next_attempt_at"),
                      Index("ix_outbox_mailbox_created", "mailbox", "created_at"),
                      Index("ix_outbox_site_created", "site_id", "created_at"),
                      Index("ix_outbox_site_status", "site_id", "status"),
                      # Partial: an e-mail has no webhook, connector, story, referral or
                      # (a webhook's row) subscriber; unindexed NULLs cost a sign-up's
                      # commit nothing, where each index was one more page written.
                      _partial("ix_outbox_webhook_created", "webhook_id", "created_at"),
                      # a receiver's deliveries about one contact go out in order
                      _partial("ix_outbox_webhook_contact", "webhook_id", "contact_id", "id"),
                      _partial("ix_outbox_connector_contact", "connector_id", "contact_id",
                               "id"),
                      # erasing a contact (or a story, a referral, a grant) finds its rows
                      _partial("ix_outbox_subscriber", "subscriber_id"),
                      _partial("ix_outbox_story", "story_id"),
                      _partial("ix_outbox_referral", "referral_id"),
                      _partial("ix_outbox_grant", "grant_id"),
                      # a letter's idempotency key: one e-mail a reader, whatever crashes
                      Index("ux_outbox_letter_subscriber", "letter_id", "subscriber_id",
                            unique=True, sqlite_where=literal_column("letter_id IS NOT NULL"),
                            postgresql_where=literal_column("letter_id IS NOT NULL")))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # None only for an e-mail to an owner about their account (owner_id), not a site.
    site_id: Mapped[str | None] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"),
                                                nullable=True)
    owner_id: Mapped[int | None] = mapped_column(
        ForeignKey("owners.id", ondelete="CASCADE"), nullable=True)
    subscriber_id: Mapped[int | None] = mapped_column(
        ForeignKey("subscribers.id", ondelete="SET NULL"), nullable=True)
    # confirm, welcome, gift, followup, reward, story_thanks, story_reply, referral
    kind: Mapped[str] = mapped_column(String(32))
    # The gift a message names or delivers (confirm, welcome, gift, followup).
    grant_id: Mapped[int | None] = mapped_column(
        ForeignKey("gift_grants.id", ondelete="SET NULL"), nullable=True)
    # A story's thank-you or the owner's reply goes to the story's address (no
    # subscriber); a "referral" row is no e-mail: the due time of a referral's waiting
    # period, settled by the worker.
    story_id: Mapped[int | None] = mapped_column(
        ForeignKey("stories.id", ondelete="SET NULL"), nullable=True)
    referral_id: Mapped[int | None] = mapped_column(
        ForeignKey("referrals.id", ondelete="SET NULL"), nullable=True)
    # A letter of new posts (kind "letter") to one reader, or a test of it to an owner
    # (kind "letter_test"). A plain number, as subscribers.variant_id: adding a reference
    # on SQLite would copy the table; a letter goes only with its site, and its rows too.
    letter_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # kind "webhook" / "sync": the event and the endpoint or connector it goes to, and
    # the contact it is about (kept when the contact is erased: see models/hooks.py).
    event_id: Mapped[int | None] = mapped_column(
        ForeignKey("events.id", ondelete="CASCADE"), nullable=True)
    webhook_id: Mapped[int | None] = mapped_column(
        ForeignKey("webhooks.id", ondelete="CASCADE"), nullable=True)
    connector_id: Mapped[int | None] = mapped_column(
        ForeignKey("connectors.id", ondelete="CASCADE"), nullable=True)
    contact_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # The receiver's answer to the last attempt: its status and the start of its body.
    response_status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    response: Mapped[str | None] = mapped_column(Text, nullable=True)
    # Words of the owner's that this message carries (a reply to a story), as they were
    # when it was queued.
    body: Mapped[str | None] = mapped_column(Text, nullable=True)
    # The recipient's address without any +tag: the list-bomb guard counts per mailbox.
    mailbox: Mapped[str] = mapped_column(String(254))
    lang: Mapped[str] = mapped_column(String(8))
    # queued, sending (claimed until lease_until), sent, failed, skipped (nobody should
    # get it any more: unsubscribed, already confirmed, deleted)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    claimed_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    message_id: Mapped[str] = mapped_column(String(255))
    subject: Mapped[str | None] = mapped_column(String(998), nullable=True)
    raw: Mapped[str | None] = mapped_column(Text, nullable=True)  # the rendered message
    transport: Mapped[str | None] = mapped_column(String(8), nullable=True)  # smtp or dev
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    # What came back after it was sent (mail/bounces.py): soft, hard or complaint; a
    # message's repeated "still trying" reports count once.
    bounce: Mapped[str | None] = mapped_column(String(16), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class MailTemplate(Base):
    """The owner's own copy for one kind of e-mail in one language; absent: the built-in."""
    __tablename__ = "mail_templates"
    __table_args__ = (UniqueConstraint("site_id", "kind", "lang"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    lang: Mapped[str] = mapped_column(String(8))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow,
                                                 onupdate=utcnow)
