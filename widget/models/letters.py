"""New posts by e-mail: a site's blog feeds (one a language, polled by the worker) and the
entries found in them. An entry present at a feed's first successful poll is kept as
seen and never mailed; the letters that mail new entries set `queued_at`."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (Boolean, DateTime, ForeignKey, Index, Integer, String, Text,
                        UniqueConstraint)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from widget.models.base import Base, utcnow

FEED_MODES = ("each", "digest")  # a letter per new post, or the new posts together


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
    mode: Mapped[str] = mapped_column(String(8), default="each")
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
                      Index("ix_feed_items_feed_queued", "feed_id", "queued_at", "seen_at"))
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
    queued_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
