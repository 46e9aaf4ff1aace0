"""Gifts, their files (in chunks) and coupon codes, and the ledger of what was given."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (BigInteger, Boolean, DateTime, ForeignKey, Index, Integer, LargeBinary,
                        String, Text, UniqueConstraint)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from widget.models.base import Base, public_id, utcnow
from widget.models.core import Site, Subscriber, Widget


class GiftFile(Base):
    """An uploaded gift file's facts; its bytes are in gift_file_chunks, so every app
    instance reads them from the database and no visitor can name a path."""
    __tablename__ = "gift_files"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))  # the download name, made safe on upload
    content_type: Mapped[str] = mapped_column(String(100))  # from the content, not the name
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class GiftFileChunk(Base):
    """One piece (CHUNK bytes, the last one shorter) of a gift file, so a download streams
    and a Range request reads only the pieces it needs."""
    __tablename__ = "gift_file_chunks"
    file_id: Mapped[int] = mapped_column(ForeignKey("gift_files.id", ondelete="CASCADE"),
                                         primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class Gift(Base):
    """Something of value an owner gives: a file, a link, unique coupon codes, or a bonus
    text shown on the thank-you page."""
    __tablename__ = "gifts"
    id: Mapped[str] = mapped_column(String(64), primary_key=True,
                                    default=lambda: public_id("g"))
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # file, link, coupon, bonus
    title: Mapped[str] = mapped_column(String(200))  # what visitors read
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    file_id: Mapped[int | None] = mapped_column(
        ForeignKey("gift_files.id", ondelete="SET NULL"), nullable=True)
    url: Mapped[str | None] = mapped_column(String(2048), nullable=True)
    bonus_html: Mapped[str | None] = mapped_column(Text, nullable=True)  # sanitised on save
    # Real scarcity: at most `quantity` are ever given (None: no cap); given_count is
    # raised by one conditional UPDATE per grant, so the cap holds under concurrency.
    quantity: Mapped[int | None] = mapped_column(Integer, nullable=True)
    given_count: Mapped[int] = mapped_column(Integer, default=0)
    show_left: Mapped[bool] = mapped_column(Boolean, default=False)
    # Each grant's link: valid for link_days after it is released, download_limit downloads.
    link_days: Mapped[int] = mapped_column(Integer, default=7)
    download_limit: Mapped[int] = mapped_column(Integer, default=5)
    # "How did you like it?" this many days after the gift; None: no follow-up.
    followup_days: Mapped[int | None] = mapped_column(Integer, nullable=True)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow,
                                                 onupdate=utcnow)
    site: Mapped[Site] = relationship(back_populates="gifts", foreign_keys=[site_id])
    file: Mapped[GiftFile | None] = relationship()


class Grant(Base):
    """The gift ledger: one gift given to one person (or, gift-first, to a visitor not yet
    known), through which widget, when, how often downloaded, and what they thought."""
    __tablename__ = "gift_grants"
    __table_args__ = (UniqueConstraint("gift_id", "subscriber_id"),
                      Index("ix_gift_grants_site_created", "site_id", "created_at"),
                      Index("ix_gift_grants_gift_created", "gift_id", "created_at"),
                      Index("ix_gift_grants_subscriber", "subscriber_id"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    gift_id: Mapped[str] = mapped_column(ForeignKey("gifts.id", ondelete="CASCADE"))
    subscriber_id: Mapped[int | None] = mapped_column(
        ForeignKey("subscribers.id", ondelete="SET NULL"), nullable=True)
    widget_id: Mapped[str | None] = mapped_column(
        ForeignKey("widgets.id", ondelete="SET NULL"), nullable=True)
    page_url: Mapped[str | None] = mapped_column(String(2048), nullable=True)
    # In every link to this grant; a fresh link gets a new one, so older links stop working.
    nonce: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # None while a gated gift waits for the address to be confirmed.
    released_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    valid_days: Mapped[int] = mapped_column(Integer)
    download_limit: Mapped[int] = mapped_column(Integer)
    downloads: Mapped[int] = mapped_column(Integer, default=0)
    last_download_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True),
                                                              nullable=True)
    # The download ticket counted last: its Range and resumed requests count no more.
    last_ticket: Mapped[str | None] = mapped_column(String(32), nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # When an e-mail with this grant's link was last queued (fresh links wait a while).
    mailed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    followup_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    rating: Mapped[int | None] = mapped_column(Integer, nullable=True)  # 1 to 5
    comment: Mapped[str | None] = mapped_column(Text, nullable=True)
    rated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    gift: Mapped[Gift] = relationship()
    subscriber: Mapped[Subscriber | None] = relationship()
    widget: Mapped[Widget | None] = relationship()


class Coupon(Base):
    """One unique code of a coupon gift. given_at is set, once, when it is given; it stays
    set even if the grant is ever deleted, so a code never goes out twice."""
    __tablename__ = "gift_coupons"
    __table_args__ = (UniqueConstraint("gift_id", "code"),
                      Index("ix_gift_coupons_free", "gift_id", "given_at"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    gift_id: Mapped[str] = mapped_column(ForeignKey("gifts.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(100))
    grant_id: Mapped[int | None] = mapped_column(
        ForeignKey("gift_grants.id", ondelete="SET NULL"), nullable=True, unique=True)
    given_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
