"""What an owner does to contacts, by hand in the dashboard or through the owner API:
add one (with the basis of their consent), edit, unsubscribe on their behalf, erase,
and the same changes in bulk on a filtered selection. The dashboard and the API call the
same functions, which check their input and raise ApiError (a stable code, the field at
fault and a message the dashboard shows as it is)."""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from widget.core import events, outbox
from widget.core.errors import ApiError
from widget.core.i18n import LANGS
from widget.core.rawsql import Tx
from widget.giveback import referrals
from widget.models import Consent, ContactTag, StatusChange, Subscriber, utcnow
from widget.sites import audit
from widget.sites.checks import checked_email, text_field
from widget.subscribers import contacts, lifecycle, privacy, tags

MAX_BASIS = 500
BULK_ACTIONS = ("tag", "untag", "unsubscribe", "delete")
BULK_BATCH = 1000
# Line breaks and tabs may stay in a stated basis (it is a note); other control
# characters and lone surrogates may not.
BAD_IN_NOTE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


@dataclass(frozen=True)
class NewContact:
    """A contact the owner adds: `basis` is their statement of why they may e-mail this
    person; `confirm` asks the person to confirm first (pending, a confirmation e-mail)
    instead of subscribing them at once."""
    email: str | None
    name: str | None = None
    lang: str | None = None
    tags: object = None  # a comma-separated text or a list of tags
    basis: str | None = None
    confirm: bool = False


def checked_tags(value) -> tuple[str, ...]:
    """tags.parse as an ApiError (422 invalid_tags) for the API and the forms."""
    try:
        return tags.parse(value)
    except tags.BadTags as exc:
        raise ApiError(422, "invalid_tags", str(exc), field="tags") from None


def checked_lang(value, default: str) -> str:
    if value is None or value == "":
        return default
    if value not in LANGS:
        raise ApiError(400, "bad_request", f"'lang' must be one of {', '.join(LANGS)}.",
                       field="lang")
    return value


def checked_basis(value) -> str:
    if value is not None and not isinstance(value, str):
        raise ApiError(400, "invalid_type", "'basis' must be a string.", field="basis")
    basis = (value or "").strip()
    if not basis:
        raise ApiError(422, "missing_field", "State the basis: why you may e-mail this "
                       "person (e.g. “signed up at our stand, 3 May”).", field="basis")
    if len(basis) > MAX_BASIS:
        raise ApiError(422, "too_long", f"The basis is at most {MAX_BASIS} characters.",
                       field="basis")
    if BAD_IN_NOTE.search(basis):
        raise ApiError(422, "invalid_characters", field="basis")
    return basis


def add(session: Session, site, new: NewContact, actor: str, via: str) -> Subscriber:
    """Add a contact to `site` and commit: confirmed at once with the owner's basis
    recorded as their consent, or (confirm=True) pending with a confirmation e-mail.
    409 contact_exists for an address the site already has, whatever its status: an
    owner never re-subscribes someone who unsubscribed."""
    name = text_field({"name": new.name}, "name")
    email, normalized = checked_email(text_field({"email": new.email}, "email"))
    lang = checked_lang(new.lang, site.default_lang)
    chosen = checked_tags(new.tags)
    basis = checked_basis(new.basis)
    if not isinstance(new.confirm, bool):
        raise ApiError(400, "invalid_type", "'confirm' must be true or false.", field="confirm")
    if _exists(session, site.id, normalized):
        raise ApiError(409, "contact_exists", field="email")
    now, status = utcnow(), "pending" if new.confirm else "confirmed"
    person = Subscriber(site_id=site.id, email=email, email_normalized=normalized, name=name,
                        lang=lang, status=status, status_at=now, created_at=now,
                        updated_at=now, confirm_sent_at=now if new.confirm else None)
    session.add(person)
    try:
        session.flush()
    except IntegrityError:  # signed up a moment ago
        session.rollback()
        raise ApiError(409, "contact_exists", field="email") from None
    session.add(Consent(subscriber_id=person.id, given=True, basis="owner", text=basis,
                        lang=lang, created_at=now))
    session.add(StatusChange(subscriber_id=person.id, status=status, via=via, created_at=now))
    tx = Tx.on_session(session)
    tags.add(tx, site.id, person.id, chosen)
    events.about_contact(tx, site.id, "contact.created", person.id, now)
    if not new.confirm:
        events.about_contact(tx, site.id, "contact.confirmed", person.id, now)
    mail = new.confirm and outbox.confirmations_since(
        session, normalized) < current_app.config["MAIL_PER_ADDRESS_DAY"]
    if mail:
        outbox.add(session, "confirm", person, current_app.config["MAIL_FROM"])
    elif not new.confirm:
        referrals.give_code(tx, person.id)  # as any confirmed subscriber has
    audit.record(session, site.id, actor, "add", 1)
    session.commit()
    if mail:
        outbox.wake_event(current_app).set()
    session.refresh(person)
    return person


def _exists(session: Session, site_id: str, normalized: str) -> bool:
    return session.scalar(select(Subscriber.id).where(
        Subscriber.site_id == site_id, Subscriber.email_normalized == normalized)) is not None


def edit(session: Session, person: Subscriber, changes: Mapping) -> Subscriber:
    """Change any of name (None clears it), lang and tags (the new set) and commit."""
    values = {}
    if "name" in changes:
        values["name"] = text_field(changes, "name")
    if "lang" in changes:
        if not isinstance(changes["lang"], str) or not changes["lang"]:
            raise ApiError(400, "bad_request", f"'lang' must be one of {', '.join(LANGS)}.",
                           field="lang")
        values["lang"] = checked_lang(changes["lang"], person.lang)
    chosen = checked_tags(changes["tags"]) if "tags" in changes else None
    if values:
        values["updated_at"] = utcnow()
        session.execute(update(Subscriber).where(Subscriber.id == person.id).values(**values)
                        .execution_options(synchronize_session=False))
    tx = Tx.on_session(session)
    if chosen is not None:
        had = set(session.scalars(select(ContactTag.tag).where(
            ContactTag.subscriber_id == person.id)))
        tags.remove(tx, person.id, had - set(chosen))
        tags.add(tx, person.site_id, person.id, [t for t in chosen if t not in had])
    if values or chosen is not None:
        events.about_contact(tx, person.site_id, "contact.updated", person.id)
    session.commit()
    session.refresh(person)
    return person


def unsubscribe(session: Session, person: Subscriber, via: str) -> bool:
    """Unsubscribe on the person's behalf (their mail still queued is then skipped);
    returns whether it changed anything (False: already unsubscribed)."""
    return lifecycle.change_status(session, person, "unsubscribed", via)


def erase(session: Session, person: Subscriber, actor: str) -> None:
    """Erase the person everywhere (subscribers/privacy.py) and log it; commit."""
    privacy.erase(session, person.site_id, [person.id])
    audit.record(session, person.site_id, actor, "erase", 1)
    session.commit()


def bulk(session: Session, site_id: str, filters: contacts.Filters, action: str,
         tag: str, actor: str) -> int:
    """Apply `action` (tag, untag, unsubscribe, delete) to every contact matching
    `filters`, a batch of ids at a time, each batch in its own transaction (so a big
    list never holds one long write lock; each change can simply be run again); log
    it. Returns how many contacts it changed."""
    assert action in BULK_ACTIONS, action
    if action in ("tag", "untag"):
        tag = tags.clean(tag)
        if not tag:
            raise ApiError(422, "missing_field", "Name the tag.", field="tag")
        checked_tags([tag])
    query = (select(Subscriber.id).where(*contacts.conditions(site_id, filters))
             .order_by(Subscriber.id).limit(BULK_BATCH))
    changed, last = 0, 0
    while ids := list(session.scalars(query.where(Subscriber.id > last))):
        last = ids[-1]
        changed += _apply(session, site_id, ids, action, tag)
        session.commit()
    audit.record(session, site_id, actor, "delete" if action == "delete" else action,
                 changed, contacts.describe(filters, tag if action in ("tag", "untag") else None))
    session.commit()
    return changed


def _apply(session: Session, site_id: str, ids: list[int], action: str, tag: str) -> int:
    if action == "delete":
        return privacy.erase(session, site_id, ids)
    tx = Tx.on_session(session)
    if action == "untag":
        had = list(session.scalars(select(ContactTag.subscriber_id).where(
            ContactTag.subscriber_id.in_(ids), ContactTag.tag == tag)))
        session.execute(delete(ContactTag).where(
            ContactTag.subscriber_id.in_(had), ContactTag.tag == tag)
            .execution_options(synchronize_session=False))
        _tell(tx, site_id, "contact.updated", had)
        return len(had)
    if action == "tag":
        had = set(session.scalars(select(ContactTag.subscriber_id).where(
            ContactTag.subscriber_id.in_(ids), ContactTag.tag == tag)))
        fresh = [i for i in ids if i not in had]
        for subscriber_id in fresh:  # ON CONFLICT: one tagged meanwhile stays as it is
            tags.add(tx, site_id, subscriber_id, [tag])
        _tell(tx, site_id, "contact.updated", fresh)
        return len(fresh)
    now = utcnow()
    moving = list(session.scalars(select(Subscriber.id).where(
        Subscriber.id.in_(ids), Subscriber.status.in_(lifecycle.FROM["unsubscribed"]))))
    if moving:
        session.execute(update(Subscriber).where(
            Subscriber.id.in_(moving), Subscriber.status.in_(lifecycle.FROM["unsubscribed"]))
                        .values(status="unsubscribed", status_at=now, updated_at=now)
                        .execution_options(synchronize_session=False))
        session.execute(insert(StatusChange), [
            {"subscriber_id": i, "status": "unsubscribed", "via": "owner", "created_at": now}
            for i in moving])
        _tell(tx, site_id, "contact.unsubscribed", moving)
    return len(moving)


def _tell(tx: Tx, site_id: str, type_: str, ids: list[int]) -> None:
    """The event of a bulk change, one per contact it changed."""
    for subscriber_id in ids:
        events.about_contact(tx, site_id, type_, subscriber_id)

