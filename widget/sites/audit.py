"""A site's audit log: who exported, imported, erased, added, deleted or bulk-changed
contacts, when, and how many. Written in the session of the change it records, so an
entry exists exactly when the change was committed; an export (which changes nothing)
is recorded when it starts."""
from __future__ import annotations

from flask_babel import lazy_gettext
from sqlalchemy import select
from sqlalchemy.orm import Session

from widget.core.said import stored
from widget.models import ApiKey, AuditEntry

# action (the key stored in the database) → how the site page says it, translated when
# shown in the owner's language
ACTIONS = {"export": lazy_gettext("exported"),
           "import": lazy_gettext("imported"),
           "erase": lazy_gettext("erased"),
           "add": lazy_gettext("added by hand"),
           "delete": lazy_gettext("deleted"),
           "unsubscribe": lazy_gettext("unsubscribed"),
           "edit": lazy_gettext("edited"),
           "tag": lazy_gettext("tagged"),
           "untag": lazy_gettext("untagged"),
           "sweep": lazy_gettext("deleted as never confirmed"),
           "invite": lazy_gettext("invited"),
           "join": lazy_gettext("joined the team"),
           "remove": lazy_gettext("removed from the team"),
           "role": lazy_gettext("gave a new role"),
           "handover": lazy_gettext("handed the site over"),
           "widget": lazy_gettext("changed a widget"),
           "widget_delete": lazy_gettext("deleted a widget"),
           "settings": lazy_gettext("changed the settings"),
           "gift": lazy_gettext("changed a gift"),
           "letter_send": lazy_gettext("sent a letter of new posts"),
           "letter_cancel": lazy_gettext("cancelled the rest of a letter")}


# What an entry's detail says, stored in English and shown in the owner's language
# (core/said.py); the detail of other entries is a name the owner gave (a widget's, a gift's).
INVITED = stored("%(email)s as %(role)s")
NOW = stored("%(email)s is now %(role)s")
HANDED = stored("to %(email)s")
ONE_CONTACT = stored("one contact’s data")
IMPORTED = stored("%(file)s: %(new)s new, %(updated)s updated, %(unchanged)s unchanged, "
                  "%(invalid)s invalid")
AS_FORMAT = stored("as %(format)s: %(selection)s")
KEY = stored("API key “%(name)s” (%(prefix)s…)")
# the role in INVITED, NOW and a join's detail
ROLES = (stored("viewer"), stored("editor"), stored("owner"))


def actor_of_owner(owner) -> str:
    """How the log names an owner acting in the dashboard."""
    return owner.email


def actor_of_key(key: ApiKey) -> str:
    """How the log names a request made with an API key."""
    return KEY % {"name": key.name, "prefix": key.prefix}


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
