"""What owners do with their contacts: tags, imports (the uploaded file kept in chunks
until the job is done) and the audit log of list-wide actions."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (JSON, BigInteger, DateTime, ForeignKey, Index, Integer, LargeBinary,
                        String, Text, UniqueConstraint)
from sqlalchemy.orm import Mapped, mapped_column

from widget.models.base import Base, utcnow

TAG_LENGTH = 64


class ContactTag(Base):
    """One tag on one contact. The site is repeated so a site's tags, and its contacts
    with a tag, are read from one index without touching the subscribers."""
    __tablename__ = "contact_tags"
    __table_args__ = (UniqueConstraint("subscriber_id", "tag"),
                      Index("ix_contact_tags_site_tag", "site_id", "tag", "subscriber_id"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    subscriber_id: Mapped[int] = mapped_column(
        ForeignKey("subscribers.id", ondelete="CASCADE"))
    tag: Mapped[str] = mapped_column(String(TAG_LENGTH))


class AuditEntry(Base):
    """Who did what to a site's list, when, and to how many: exports, imports, erasures,
    bulk changes, contacts added or deleted by hand. No addresses: the log outlives
    the people it counts."""
    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_site_created", "site_id", "created_at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    actor: Mapped[str] = mapped_column(String(300))  # "owner@example.com" or "API key …"
    action: Mapped[str] = mapped_column(String(32))
    count: Mapped[int] = mapped_column(Integer, default=0)
    detail: Mapped[str | None] = mapped_column(Text, nullable=True)  # e.g. the filters used
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ContactImport(Base):
    """One CSV import: uploaded, mapped, checked by a dry run, then run in batches by the
    worker, which records its progress with each batch (so a reload, or a worker that
    died, picks up where the last committed batch ended)."""
    __tablename__ = "contact_imports"
    __table_args__ = (Index("ix_contact_imports_site_created", "site_id", "created_at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    actor: Mapped[str] = mapped_column(String(300))
    filename: Mapped[str] = mapped_column(String(200))
    size: Mapped[int] = mapped_column(BigInteger)
    # uploaded → checking (the dry run, in the worker) → checked → queued → running →
    # done | failed
    status: Mapped[str] = mapped_column(String(16), default="uploaded")
    # {"email": column index, "name": …, "last_name": …, "lang": …, "tags": …, and the
    # file's "encoding", "delimiter" and "header"}, set at upload
    mapping: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    # The owner's statement of consent; None: imported as pending, confirmations sent.
    basis: Mapped[str | None] = mapped_column(Text, nullable=True)
    tags: Mapped[str | None] = mapped_column(String(300), nullable=True)  # added to every row
    pace: Mapped[int] = mapped_column(Integer, default=100)  # confirmations per hour
    rows: Mapped[int] = mapped_column(Integer, default=0)  # data rows in the file
    done: Mapped[int] = mapped_column(Integer, default=0)  # rows handled so far
    new: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    invalid: Mapped[int] = mapped_column(Integer, default=0)
    # [[line, reason, kind], …]: kind "invalid" (left out) or "note" (unsubscribed
    # earlier); the first few hundred
    problems: Mapped[list | None] = mapped_column(JSON, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    claimed_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class ImportChunk(Base):
    """A piece of an uploaded import file (1 MiB), deleted when the import ends."""
    __tablename__ = "contact_import_chunks"
    import_id: Mapped[int] = mapped_column(
        ForeignKey("contact_imports.id", ondelete="CASCADE"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)
