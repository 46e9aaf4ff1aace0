"""Events are written with the change that causes them, one delivery per receiver that
takes their type, and nothing at all for a site without receivers; a change rolled
back leaves no event. Real HTTP and both databases; delivery itself is
tests/test_webhooks.py's and tests/test_connectors.py's."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import select, update

from widget.core import events, vault
from widget.core.rawsql import Tx
from widget.models import Event, OutboxMessage, Subscriber, Webhook

from .helpers.gifts import file_gift, gift_signup
from .helpers.giveback import confirm_path, unsubscribe_path
from .helpers.mail import signup


def add_webhook(app, query, site: str, types: str = "") -> int:
    def make(s):
        with app.app_context():
            hook = Webhook(site_id=site, url="https://hooks.example/in", events=types,
                           secret=vault.seal("whsec_dGVzdA=="))
        s.add(hook)
        s.commit()
        return hook.id
    return query(make)


def delivered(query) -> list[tuple[str, int | None, str]]:
    """(type, contact id, outbox kind) of every queued delivery, in the order made."""
    return query(lambda s: [(e.type, e.contact_id, m.kind) for m, e in s.execute(
        select(OutboxMessage, Event).join(Event, Event.id == OutboxMessage.event_id)
        .order_by(OutboxMessage.id))])


def test_a_contacts_life_is_told_in_order(app, client, make_site, query):
    site = make_site()
    add_webhook(app, query, site)
    signup(client, site, "ida@example.com", name="Ida")
    ida = query(lambda s: s.scalar(select(Subscriber).where(Subscriber.email == "ida@example.com")))
    assert client.post(confirm_path(app, ida)).status_code == 200
    assert client.post(unsubscribe_path(app, ida)).status_code == 200
    assert delivered(query) == [("contact.created", ida.id, "webhook"),
                                ("contact.confirmed", ida.id, "webhook"),
                                ("contact.unsubscribed", ida.id, "webhook")]
    payloads = query(lambda s: [json.loads(e.payload) for e in s.scalars(
        select(Event).order_by(Event.id))])
    first = payloads[0]
    assert (first["type"], first["version"], first["site"]) == ("contact.created", 1, site)
    assert first["id"].startswith("msg_") and first["timestamp"].endswith("Z")
    assert first["data"]["contact"] == {
        "id": ida.id, "email": "ida@example.com", "name": "Ida", "status": "pending",
        "lang": "en", "tags": [], "created_at": first["data"]["contact"]["created_at"]}
    assert [p["data"]["contact"]["status"] for p in payloads] == \
        ["pending", "confirmed", "unsubscribed"]


def test_a_webhook_gets_only_the_types_it_takes_and_a_quiet_site_stores_nothing(
        app, client, make_site, query):
    quiet, loud = make_site(double_opt_in=False), make_site(double_opt_in=False)
    add_webhook(app, query, loud, "contact.confirmed,story.submitted")
    for site in (quiet, loud):
        signup(client, site, "ola@example.com")
        assert client.post(f"/api/v1/sites/{site}/stories",
                           headers={"Origin": "https://blog.example"},
                           json={"name": "Ola", "text": "Kind words", "consent": True}
                           ).status_code == 201
    assert [t for t, _, _ in delivered(query)] == ["contact.confirmed", "story.submitted"]
    assert query(lambda s: s.scalars(select(Event.site_id)).all()) == [loud, loud]


def test_gifts_and_erasure_are_told(app, ann, client, make_site, query):
    site = make_site("ann@example.com", double_opt_in=False)
    add_webhook(app, query, site, "gift.given,contact.erased")
    gift, widget = file_gift(query, site, mode="gated")
    assert gift_signup(client, site, "mia@example.com", widget).status_code == 200
    mia = query(lambda s: s.scalar(select(Subscriber.id)))
    from .helpers.http import csrf_post
    page = f"/dashboard/sites/{site}/contacts/{mia}/erase"
    assert csrf_post(ann, page, {}).status_code == 302
    assert delivered(query) == [("gift.given", mia, "webhook"),
                                ("contact.erased", mia, "webhook")]
    erased = query(lambda s: json.loads(s.scalars(select(Event.payload).order_by(
        Event.id.desc())).first()))
    assert erased["data"] == {"contact": {"id": mia, "email": "mia@example.com"}}


def test_an_event_is_kept_only_with_its_change(app, make_site, query):
    site = make_site()
    add_webhook(app, query, site)

    def rolled_back(s):
        with app.app_context():
            events.emit(Tx.on_session(s), site, "story.submitted", {"story": {"id": 1}})
        s.rollback()
        return s.scalars(select(Event.id)).all()

    assert query(rolled_back) == []
    assert delivered(query) == []
    with pytest.raises(AssertionError):
        query(lambda s: events.emit(Tx.on_session(s), site, "no.such.type", {}))


def test_erasure_removes_the_events_about_them_that_were_delivered(app, ann, client,
                                                                   make_site, query):
    site = make_site("ann@example.com", double_opt_in=False)
    add_webhook(app, query, site)
    signup(client, site, "eva@example.com", name="Eva")
    signup(client, site, "other@example.com")
    eva = query(lambda s: s.scalar(select(Subscriber.id).where(
        Subscriber.email == "eva@example.com")))

    def delivered_all(s):
        s.execute(update(OutboxMessage).values(status="sent"))
        s.commit()
    query(delivered_all)
    from .helpers.http import csrf_post
    assert csrf_post(ann, f"/dashboard/sites/{site}/contacts/{eva}/erase", {}).status_code == 302
    left = query(lambda s: [(e.type, e.contact_id) for e in s.scalars(
        select(Event).order_by(Event.id))])
    assert ("contact.erased", eva) in left
    assert [t for t, c in left if c == eva] == ["contact.erased"]  # to be delivered still
    assert "eva@example.com" not in query(lambda s: " ".join(
        e.payload for e in s.scalars(select(Event)) if e.type != "contact.erased"))
    assert len([c for _, c in left if c != eva]) == 2  # the other contact's stay
