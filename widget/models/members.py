"""The people who share a site with its owner, each with a role."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from widget.models.base import Base, utcnow

# What each role may do: viewers read; editors also change widgets, gifts and texts;
# owners also manage members, keys, connectors, webhooks, exports, erasure and the site.
ROLES = ("viewer", "editor", "owner")


class SiteMember(Base):
    """A person invited to a site with a role: pending (owner_id None) until they accept
    the invitation with the account of the invited address. The site's creator is its
    owner through sites.owner_id and needs no row."""
    __tablename__ = "site_members"
    __table_args__ = (UniqueConstraint("site_id", "email"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    email: Mapped[str] = mapped_column(String(254))  # as invited, lower case
    owner_id: Mapped[int | None] = mapped_column(
        ForeignKey("owners.id", ondelete="CASCADE"), nullable=True, index=True)
    role: Mapped[str] = mapped_column(String(8))
    invited_by: Mapped[int | None] = mapped_column(
        ForeignKey("owners.id", ondelete="SET NULL"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    accepted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True),
                                                         nullable=True)
    site: Mapped["Site"] = relationship()  # noqa: F821 (widget.models names every table)
