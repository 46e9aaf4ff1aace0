"""The funnel's counters summed per site and whole month (insight/months.py): what the
views of long ranges read instead of every widget's every day."""
from __future__ import annotations

from datetime import date

from sqlalchemy import Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from widget.models.base import Base


class StatMonth(Base):
    """A site's counters for one page path, language or device class over one month of
    its days, its widgets and variants summed. Made once the month is over; made again
    when a widget's counters are deleted with it."""
    __tablename__ = "stat_months"
    __table_args__ = (UniqueConstraint("site_id", "dim", "month", "key", name="uq_stat_months"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    month: Mapped[date] = mapped_column(Date)  # its first day
    dim: Mapped[str] = mapped_column(String(8))  # page, lang or device
    key: Mapped[str] = mapped_column(String(200))
    shown: Mapped[int] = mapped_column(Integer)
    opened: Mapped[int] = mapped_column(Integer)
    closed: Mapped[int] = mapped_column(Integer)
    signed_up: Mapped[int] = mapped_column(Integer)
    confirmed: Mapped[int] = mapped_column(Integer)
    downloaded: Mapped[int] = mapped_column(Integer)
    referred: Mapped[int] = mapped_column(Integer)
    stories: Mapped[int] = mapped_column(Integer)


class StatMonthDone(Base):
    """A site's month whose StatMonth rows are made: a quiet month has none, and must
    not be summed again on every view."""
    __tablename__ = "stat_months_done"
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"),
                                         primary_key=True)
    month: Mapped[date] = mapped_column(Date, primary_key=True)
