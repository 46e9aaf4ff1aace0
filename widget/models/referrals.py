"""Referrals (a friend brought by a subscriber's link), the owner's milestones and the
rewards given for reaching them."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from widget.models.base import Base, utcnow
from widget.models.core import Subscriber
from widget.models.gifts import Gift


class Referral(Base):
    """A friend who signed up through a subscriber's link: once per friend (the unique
    key), never for oneself. pending (not confirmed yet), waiting (the site's waiting
    period), held (suspicious: the owner decides), counted, rejected."""
    __tablename__ = "referrals"
    __table_args__ = (Index("ix_referrals_referrer", "referrer_id", "status"),
                      Index("ix_referrals_site_status", "site_id", "status", "created_at"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    referrer_id: Mapped[int] = mapped_column(ForeignKey("subscribers.id", ondelete="CASCADE"))
    referred_id: Mapped[int] = mapped_column(
        ForeignKey("subscribers.id", ondelete="CASCADE"), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    reason: Mapped[str | None] = mapped_column(String(32), nullable=True)  # why held
    ip_range: Mapped[str | None] = mapped_column(String(64), nullable=True)  # /24 or /48
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True),
                                                          nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    referrer: Mapped[Subscriber] = relationship(foreign_keys=[referrer_id])
    referred: Mapped[Subscriber] = relationship(foreign_keys=[referred_id])


class Milestone(Base):
    """Bring this many friends, get this gift."""
    __tablename__ = "milestones"
    __table_args__ = (UniqueConstraint("site_id", "friends"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    friends: Mapped[int] = mapped_column(Integer)
    gift_id: Mapped[str] = mapped_column(ForeignKey("gifts.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    gift: Mapped[Gift] = relationship()


class MilestoneReward(Base):
    """A milestone reached by a subscriber: once (the unique key), with the gift given.
    The record outlives the milestone (the owner may delete it): `friends` keeps what
    was reached."""
    __tablename__ = "milestone_rewards"
    __table_args__ = (UniqueConstraint("milestone_id", "subscriber_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    milestone_id: Mapped[int | None] = mapped_column(
        ForeignKey("milestones.id", ondelete="SET NULL"), nullable=True)
    friends: Mapped[int] = mapped_column(Integer)
    subscriber_id: Mapped[int] = mapped_column(
        ForeignKey("subscribers.id", ondelete="CASCADE"), index=True)
    grant_id: Mapped[int | None] = mapped_column(
        ForeignKey("gift_grants.id", ondelete="SET NULL"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
