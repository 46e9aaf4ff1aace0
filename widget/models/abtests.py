"""A/B tests of a widget: its variants, and what each changes of it."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from widget.models.base import Base, utcnow

# What a variant may change of its widget. Targeting, kind and gift stay the widget's:
# a test compares ways of asking the same people for the same thing.
VARIANT_FIELDS = ("title", "description", "button_label", "success_message",
                  "no_thanks_label", "layout", "triggers", "trigger_match", "color_bg",
                  "color_fg", "color_accent", "gift_mode")


class WidgetTest(Base):
    """One test of a widget: running from started_at until ended_at, when the owner made
    a variant the widget (winner_id) or stopped it. Ended tests stay as its history."""
    __tablename__ = "widget_tests"
    __table_args__ = (Index("ix_widget_tests_widget", "widget_id", "started_at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    widget_id: Mapped[str] = mapped_column(ForeignKey("widgets.id", ondelete="CASCADE"))
    # The sample each variant must be shown to before any winner is declared, set before
    # the start and never changed: no peeking.
    min_shown: Mapped[int] = mapped_column(Integer)
    # Which two digits of a browser's first-visit time (counted in powers of ten from
    # the end) pick its variant: tests running side by side use different ones.
    digit: Mapped[int] = mapped_column(Integer, default=2)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    winner_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    variants: Mapped[list["WidgetVariant"]] = relationship(
        back_populates="test", cascade="all, delete-orphan",
        order_by="WidgetVariant.position")


class WidgetVariant(Base):
    """One variant of a test; position 0 is the widget as it was (the control). Its id
    is what the browser reports and what the counters and sign-ups keep."""
    __tablename__ = "widget_variants"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    test_id: Mapped[int] = mapped_column(ForeignKey("widget_tests.id", ondelete="CASCADE"),
                                         index=True)
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(100))
    changes: Mapped[dict] = mapped_column(JSON, default=dict)  # {field: value}, VARIANT_FIELDS
    test: Mapped[WidgetTest] = relationship(back_populates="variants")
