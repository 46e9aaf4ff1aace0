"""New posts by e-mail: a site's blog feeds (one a language, polled by the worker), the
entries found in them, the site's plan for letters and the letters themselves. An entry
present at a feed's first successful poll is kept as seen and never mailed; a letter
that takes a new entry sets its `letter_id` and `queued_at`."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (Boolean, DateTime, ForeignKey, Index, Integer, String, Text,
                        UniqueConstraint, literal_column)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from widget.models.base import Base, utcnow

LETTER_MODES = ("each", "digest")  # a letter per new post, or the new posts together
# collecting: a digest gathering new posts until due_at; held: waiting for the owner's
# Send; sending: being queued to the readers (at the plan's pace) and sent; sent: every
# reader's e-mail queued and none left to send; cancelled: the rest was not sent.
LETTER_STATES = ("collecting", "held", "sending", "sent", "cancelled")


class Feed(Base):
    """A blog's RSS, Atom or JSON Feed address for a site, for one language ('' when the
    blog has a single feed for every reader: not NULL, so the unique key holds on both
    databases). The validators of its last full answer make the next GET conditional."""
    __tablename__ = "feeds"
    __table_args__ = (UniqueConstraint("site_id", "lang"),
                      Index("ix_feeds_next_poll_at", "next_poll_at"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    lang: Mapped[str] = mapped_column(String(8), default="")
    url: Mapped[str] = mapped_column(String(2048))
    etag: Mapped[str | None] = mapped_column(String(512), nullable=True)
    last_modified: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # When the first poll that read the feed succeeded (None: its entries so far are old).
    primed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    polled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    next_poll_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)  # in the owner's words
    error_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    site: Mapped["Site"] = relationship()  # noqa: F821 (widget.models names every table)


class FeedItem(Base):
    """An entry of a feed, once: `key` is the SHA-256 (hex) of its id or guid, else of its
    link. `summary` is as the feed gave it (HTML, sanitised when a letter shows it)."""
    __tablename__ = "feed_items"
    __table_args__ = (UniqueConstraint("feed_id", "key"),
                      # the new posts of a feed, oldest first: not old, not yet queued
                      Index("ix_feed_items_feed_queued", "feed_id", "queued_at", "seen_at"),
                      # the posts no letter took yet: few, looked for every worker turn
                      Index("ix_feed_items_untaken", "feed_id",
                            sqlite_where=literal_column("queued_at IS NULL"),
                            postgresql_where=literal_column("queued_at IS NULL")))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    feed_id: Mapped[int] = mapped_column(ForeignKey("feeds.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(500), default="")
    link: Mapped[str | None] = mapped_column(String(2048), nullable=True)
    summary: Mapped[str] = mapped_column(Text, default="")
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True),
                                                          nullable=True)
    seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    at_first_poll: Mapped[bool] = mapped_column(Boolean, default=False)  # old: never mailed
    # The letter that carries it, from when it was taken (None: not yet, or never).
    letter_id: Mapped[int | None] = mapped_column(
        ForeignKey("letters.id", ondelete="SET NULL"), nullable=True)
    queued_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class LetterPlan(Base):
    """When a site's letters go: a letter per new post at once, or a digest of the new
    posts on `days` (weekday digits, Monday 0) at `at` (HH:MM) in the site's time zone
    (the one its numbers are counted in); `review`
    holds each letter for the owner's Send. `per_hour`: the site's pace (0: the
    operator's WIDGET_LETTERS_PER_HOUR, which also caps it)."""
    __tablename__ = "letter_plans"
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"),
                                         primary_key=True)
    mode: Mapped[str] = mapped_column(String(8), default="each")
    days: Mapped[str] = mapped_column(String(7), default="4")
    at: Mapped[str] = mapped_column(String(5), default="09:00")
    review: Mapped[bool] = mapped_column(Boolean, default=False)
    per_hour: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow,
                                                 onupdate=utcnow)


class Letter(Base):
    """One letter of a site: the new posts it carries (feed_items.letter_id), for the
    readers of `lang` ('' for every reader). Sending queues an outbox row per confirmed
    reader, in subscriber id order from `cursor`, `queued` of them so far; the outbox's
    unique (letter_id, subscriber_id) makes each reader's e-mail one, whatever crashes."""
    __tablename__ = "letters"
    __table_args__ = (Index("ix_letters_status_due", "status", "due_at"),
                      Index("ix_letters_site_created", "site_id", "created_at"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    feed_id: Mapped[int | None] = mapped_column(ForeignKey("feeds.id", ondelete="SET NULL"),
                                                nullable=True)
    lang: Mapped[str] = mapped_column(String(8), default="")
    mode: Mapped[str] = mapped_column(String(8), default="each")
    status: Mapped[str] = mapped_column(String(16), default="collecting")
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True),
                                                         nullable=True)
    cursor: Mapped[int] = mapped_column(Integer, default=0)  # the last reader queued
    queued: Mapped[int] = mapped_column(Integer, default=0)
    all_queued: Mapped[bool] = mapped_column(Boolean, default=False)
    # A sent letter's outcome, kept when it is done (None before: counted from the outbox).
    sent_count: Mapped[int | None] = mapped_column(Integer, nullable=True)
    skipped_count: Mapped[int | None] = mapped_column(Integer, nullable=True)
    failed_count: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
