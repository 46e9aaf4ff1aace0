"""A site's audit log: who exported, imported, erased, added, deleted or bulk-changed
contacts, when, and how many. Written in the session of the change it records, so an
entry exists exactly when the change was committed; an export (which changes nothing)
is recorded when it starts."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from widget.models import ApiKey, AuditEntry

# action → how the site page says it
ACTIONS = {"export": "exported", "import": "imported", "erase": "erased",
           "add": "added by hand", "delete": "deleted", "unsubscribe": "unsubscribed",
           "edit": "edited", "tag": "tagged", "untag": "untagged",
           "sweep": "deleted as never confirmed", "invite": "invited",
           "join": "joined the team", "remove": "removed from the team",
           "role": "gave a new role", "handover": "handed the site over",
           "widget": "changed a widget", "widget_delete": "deleted a widget",
           "settings": "changed the settings", "gift": "changed a gift"}


def actor_of_owner(owner) -> str:
    """How the log names an owner acting in the dashboard."""
    return owner.email


def actor_of_key(key: ApiKey) -> str:
    """How the log names a request made with an API key."""
    return f"API key “{key.name}” ({key.prefix}…)"


def record(session: Session, site_id: str, actor: str, action: str, count: int,
           detail: str | None = None) -> AuditEntry:
    """Add an entry to the session (the caller commits it with the change)."""
    assert action in ACTIONS, action
    entry = AuditEntry(site_id=site_id, actor=actor[:300], action=action, count=count,
                       detail=detail)
    session.add(entry)
    return entry


def recent(session: Session, site_id: str, limit: int = 50) -> list[AuditEntry]:
    """The site's latest entries, newest first."""
    return list(session.scalars(select(AuditEntry).where(AuditEntry.site_id == site_id)
                                .order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())
                                .limit(limit)))
