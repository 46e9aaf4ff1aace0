"""A person's rights over what a site holds about them (GDPR articles 15, 17 and 20):
everything in one JSON document, and erasure.

Erasure is one definition of "this person's data, everywhere", set-based over a list of
contacts so one person, a bulk delete and the clean-up of never-confirmed sign-ups all
use it: the contact row and what cascades from it (consents, status history, tags,
referrals they were part of, milestone rewards), the address, subject and body of every
e-mail to them (the outbox keeps an anonymous row, so counts of mail sent stay true),
their stories (matched by address), and on the gift ledger the link to them, the page
and their comment (a grant stays as an anonymous "given" and its links stop working).
Events about them go once delivered; a contact.erased event (id and address) tells
webhooks and e-mail services to erase them too.
Anonymous counters stay: widget counters, a gift's given count, a referrer's friends."""
from __future__ import annotations

from sqlalchemy import case, delete, exists, func, or_, select, update
from sqlalchemy.orm import Session

from widget.core import events, export, outbox
from widget.core.rawsql import Tx
from widget.models import (Consent, ContactTag, Event, Gift, Grant, OutboxMessage,
                           Referral, StatusChange, Story, Subscriber, utcnow)

CHUNK = 500  # ids per statement: well under SQLite's bound-parameter limit


def erase(session: Session, site_id: str, ids: list[int], stories: bool = True) -> int:
    """Erase these contacts of the site (ids of other sites are ignored) in the
    session's transaction; the caller commits. Returns how many were erased.
    `stories=False` leaves the stories sent with their addresses: the clean-up of
    never-confirmed sign-ups erases a sign-up, not a story told with its own consent."""
    erased = 0
    for start in range(0, len(ids), CHUNK):
        erased += _erase_chunk(session, site_id, ids[start:start + CHUNK], stories)
    return erased


def _erase_chunk(session: Session, site_id: str, ids: list[int], stories: bool) -> int:
    people = session.execute(select(Subscriber.id, Subscriber.email_normalized).where(
        Subscriber.site_id == site_id, Subscriber.id.in_(ids))).all()
    if not people:
        return 0
    ids = [person_id for person_id, _ in people]
    addresses = [address for _, address in people]
    # Events about them that every receiver has had go; ones still to deliver stay
    # until delivered (the last being contact.erased itself).
    waiting = exists().where(OutboxMessage.event_id == Event.id,
                             OutboxMessage.status.in_(("queued", "sending")))
    session.execute(delete(Event).where(Event.site_id == site_id, Event.contact_id.in_(ids),
                                        ~waiting).execution_options(synchronize_session=False))
    tx = Tx.on_session(session)
    for person_id, address in people:  # receivers erase them too: who, and which address
        events.emit(tx, site_id, "contact.erased",
                    {"contact": {"id": person_id, "email": address}}, person_id)
    story_ids = list(session.scalars(select(Story.id).where(
        Story.site_id == site_id, func.lower(Story.email).in_(addresses)))) if stories else []
    now = utcnow()
    mail = [OutboxMessage.subscriber_id.in_(ids)]
    if story_ids:
        mail.append(OutboxMessage.story_id.in_(story_ids))
    session.execute(
        update(OutboxMessage).where(OutboxMessage.site_id == site_id, or_(*mail))
        .values(mailbox="", subject=None, raw=None, body=None, last_error=None,
                subscriber_id=None, story_id=None,
                # nobody to send to any more: what was waiting is skipped
                status=case((OutboxMessage.status.in_(("queued", "sending")), "skipped"),
                            else_=OutboxMessage.status))
        .execution_options(synchronize_session=False))
    if story_ids:
        session.execute(delete(Story).where(Story.id.in_(story_ids))
                        .execution_options(synchronize_session=False))
    session.execute(
        update(Grant).where(Grant.site_id == site_id, Grant.subscriber_id.in_(ids))
        .values(subscriber_id=None, page_url=None, comment=None,
                revoked_at=func.coalesce(Grant.revoked_at, now))
        .execution_options(synchronize_session=False))
    session.execute(delete(Subscriber).where(Subscriber.id.in_(ids))
                    .execution_options(synchronize_session=False))
    return len(ids)


def everything(session: Session, person: Subscriber) -> dict:
    """All the site holds about one contact, as one JSON-ready document (article 15's
    copy, article 20's portable form). Friends they brought and who brought them are
    other people: they are counted and dated, not named."""
    def rows(query):
        return session.execute(query).all()

    consents = rows(select(Consent).where(Consent.subscriber_id == person.id)
                    .order_by(Consent.created_at, Consent.id))
    history = rows(select(StatusChange).where(StatusChange.subscriber_id == person.id)
                   .order_by(StatusChange.created_at, StatusChange.id))
    mails = rows(select(OutboxMessage).where(OutboxMessage.subscriber_id == person.id,
                                             OutboxMessage.site_id == person.site_id,
                                             OutboxMessage.kind.not_in(outbox.NOT_MAIL))
                 .order_by(OutboxMessage.created_at, OutboxMessage.id))
    gifts = rows(select(Grant, Gift.title).join(Gift, Gift.id == Grant.gift_id)
                 .where(Grant.subscriber_id == person.id)
                 .order_by(Grant.created_at, Grant.id))
    stories = rows(select(Story).where(Story.site_id == person.site_id,
                                       func.lower(Story.email) == person.email_normalized)
                   .order_by(Story.created_at, Story.id))
    brought = rows(select(Referral).where(Referral.referrer_id == person.id)
                   .order_by(Referral.created_at, Referral.id))
    brought_by = session.scalar(select(Referral).where(Referral.referred_id == person.id))
    tags = session.scalars(select(ContactTag.tag).where(ContactTag.subscriber_id == person.id)
                           .order_by(ContactTag.tag))

    def iso(moment):
        return export.iso(moment) or None

    return {
        "contact": {"email": person.email, "name": person.name, "status": person.status,
                    "status_since": iso(person.status_at), "language": person.lang,
                    "tags": list(tags), "signed_up": iso(person.created_at),
                    "page": person.page_url, "widget": person.widget_id,
                    "referral_code": person.ref_code},
        "consents": [{"given": c.given, "basis": c.basis, "text": c.text, "lang": c.lang,
                      "page": c.page_url, "ip": c.ip, "user_agent": c.user_agent,
                      "at": iso(c.created_at)} for (c,) in consents],
        "status_history": [{"status": h.status, "via": h.via, "at": iso(h.created_at)}
                           for (h,) in history],
        "emails": [{"kind": m.kind, "subject": m.subject, "status": m.status,
                    "queued": iso(m.created_at), "sent": iso(m.sent_at)} for (m,) in mails],
        "gifts": [{"gift": title, "given": iso(g.created_at), "page": g.page_url,
                   "downloads": g.downloads, "rating": g.rating, "comment": g.comment,
                   "rated": iso(g.rated_at)} for g, title in gifts],
        "referrals": {"friends_counted": person.ref_count, "link_visits": person.ref_visits,
                      "share_clicks": person.share_clicks,
                      "friends_brought": [{"status": r.status, "at": iso(r.created_at)}
                                          for (r,) in brought],
                      "brought_by_a_friend": brought_by is not None},
        "stories": [{"name": s.name, "email": s.email, "text": s.text, "rating": s.rating,
                     "may_publish": s.consent_publish, "status": s.status,
                     "reply": s.reply, "at": iso(s.created_at)} for (s,) in stories],
    }

