"""Helpers shared by the give-back test modules (referrals, referral links, the share
page, stories, social proof): set-up straight in the database (site settings,
milestones, widgets), visitors over real HTTP (sign-ups with a friend's code, the
confirm page's POST, stories), links minted as the app mints them, and rows read back."""
from __future__ import annotations

import re
from html import unescape

from sqlalchemy import func, select, update

from widget.core import tokens
from widget.models import (Grant, Milestone, MilestoneReward, OutboxMessage, Referral, Site, Story,
                           Subscriber, Widget)

CODE = re.compile(r"[abcdefghijkmnpqrstuvwxyz23456789]{16}")
ORIGIN = "https://blog.example"


# --- set-up straight in the database ----------------------------------------------------

def set_site(query, site: str, **values) -> None:
    """Change a site's settings as the dashboard (or a stale/compromised row) would."""
    def run(s):
        s.execute(update(Site).where(Site.id == site).values(**values))
        s.commit()
    query(run)


def set_subscriber(query, subscriber_id: int, **values) -> None:
    def run(s):
        s.execute(update(Subscriber).where(Subscriber.id == subscriber_id).values(**values))
        s.commit()
    query(run)


def add_milestone(query, site: str, friends: int, gift_id: str) -> int:
    def run(s):
        row = Milestone(site_id=site, friends=friends, gift_id=gift_id)
        s.add(row)
        s.commit()
        return row.id
    return query(run)


def add_widget(query, site: str, kind: str, **attrs) -> str:
    """A live widget of `kind` (story, proof, newsletter) on the site."""
    def run(s):
        row = Widget(site_id=site, name=f"{kind} widget", kind=kind, layout="inline",
                     triggers=[], is_live=True, **attrs)
        s.add(row)
        s.commit()
        return row.id
    return query(run)


# --- visitors, over real HTTP ------------------------------------------------------------

def join(client, site: str, email: str, ref: str | None = None, **body):
    """A sign-up through the public API, with a friend's code when given."""
    data = {"email": email, "consent": True, **body}
    if ref is not None:
        data["ref"] = ref
    return client.post(f"/api/v1/sites/{site}/subscriptions", json=data)


def confirm_path(app, sub: Subscriber) -> str:
    """The confirm link's path, minted as the confirmation e-mail mints it."""
    with app.app_context():
        return "/confirm/" + tokens.sign("confirm", tokens.subscriber_value(
            sub.id, sub.email_normalized))


def unsubscribe_path(app, sub: Subscriber) -> str:
    with app.app_context():
        return "/unsubscribe/" + tokens.sign("unsubscribe", tokens.subscriber_value(
            sub.id, sub.email_normalized))


def share_path(app, sub: Subscriber) -> str:
    """The subscriber's share page, as the welcome e-mail and the confirmed page link it."""
    with app.app_context():
        return "/share/" + tokens.sign("share", tokens.subscriber_value(
            sub.id, sub.email_normalized))


def confirm(app, client, query, email: str) -> Subscriber:
    """Press the confirm page's button (a real POST) for a pending address."""
    resp = client.post(confirm_path(app, row(query, email)))
    assert resp.status_code == 200, (resp.status_code, resp.text[:300])
    found = row(query, email)
    assert found.status == "confirmed", found.status
    return found


def member(app, client, query, site: str, email: str, ref: str | None = None,
           **body) -> Subscriber:
    """Sign up (with a friend's code when given) and confirm: the confirmed row."""
    resp = join(client, site, email, ref, **body)
    assert resp.status_code == 200, resp.text
    return confirm(app, client, query, email)


def tell(client, site: str, headers: dict | None = None, **body):
    """A story through the public API (JSON)."""
    data = {"name": "Kari", "text": "The sourdough guide saved my weekend bakes.",
            "consent": True, **body}
    return client.post(f"/api/v1/sites/{site}/stories", json=data, headers=headers)


def config(client, site: str, lang: str = "en") -> dict:
    resp = client.get(f"/api/v1/sites/{site}/widgets?lang={lang}&url={ORIGIN}/")
    assert resp.status_code == 200, resp.text
    return resp.json()


# --- rows --------------------------------------------------------------------------------

def row(query, email: str) -> Subscriber:
    found = query(lambda s: s.scalar(select(Subscriber).where(
        Subscriber.email_normalized == email.lower())))
    assert found is not None, email
    return found


def fresh(query, subscriber_id: int) -> Subscriber:
    return query(lambda s: s.get(Subscriber, subscriber_id))


def referrals(query, referrer_id: int | None = None) -> list[Referral]:
    def run(s):
        stmt = select(Referral).order_by(Referral.id)
        if referrer_id is not None:
            stmt = stmt.where(Referral.referrer_id == referrer_id)
        return s.scalars(stmt).all()
    return query(run)


def referral_of(query, referred_id: int) -> Referral | None:
    return query(lambda s: s.scalar(select(Referral).where(
        Referral.referred_id == referred_id)))


def rewards(query, subscriber_id: int) -> list[MilestoneReward]:
    return query(lambda s: s.scalars(select(MilestoneReward).where(
        MilestoneReward.subscriber_id == subscriber_id).order_by(MilestoneReward.id)).all())


def grants_for(query, subscriber_id: int | None, gift_id: str) -> list[Grant]:
    def run(s):
        who = (Grant.subscriber_id.is_(None) if subscriber_id is None
               else Grant.subscriber_id == subscriber_id)
        return s.scalars(select(Grant).where(who, Grant.gift_id == gift_id)).all()
    return query(run)


def outbox_rows(query, kind: str | None = None) -> list[OutboxMessage]:
    def run(s):
        stmt = select(OutboxMessage).order_by(OutboxMessage.id)
        if kind:
            stmt = stmt.where(OutboxMessage.kind == kind)
        return s.scalars(stmt).all()
    return query(run)


def stories(query, site: str) -> list[Story]:
    return query(lambda s: s.scalars(select(Story).where(Story.site_id == site)
                                     .order_by(Story.id)).all())


def count_of(query, model, *where) -> int:
    return query(lambda s: s.scalar(select(func.count()).select_from(model).where(*where)))


# --- what people read ---------------------------------------------------------------------

def mails_to(smtp, address: str, subject: str | None = None) -> list:
    return [m for m in smtp.mailbox.to(address) if subject is None or m["Subject"] == subject]


def assert_not_found_page(resp) -> None:
    """The friendly 'this link does not work' page with a 404: HTML, never cached, no
    trace of the code."""
    assert resp.status_code == 404, (resp.url, resp.status_code, resp.text[:300])
    assert resp.headers["Content-Type"].startswith("text/html")
    assert "Location" not in resp.headers
    text = unescape(resp.text)
    assert "This link does not work" in text, text[:500]
    assert "Traceback" not in text and 'File "' not in text
