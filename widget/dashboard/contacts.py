"""A contact's page: status and since when, how it changed, consents, gifts, friends
referred and e-mails."""
from __future__ import annotations

from flask import render_template
from flask_login import login_required
from sqlalchemy import select

from widget.core import db
from widget.dashboard.blueprint import bp
from widget.dashboard.forms import LANG_NAMES, MAIL_KINDS
from widget.dashboard.mail import NOT_MAIL, OUTBOX_WORDS
from widget.dashboard.owned import owned, owned_site
from widget.dashboard.referrals import contact_referrals
from widget.models import Consent, Grant, OutboxMessage, StatusChange, Subscriber

STATUS_WORDS = {"pending": "Waiting for confirmation", "confirmed": "Subscribed",
                "unsubscribed": "Unsubscribed"}
VIA_WORDS = {"signup": "signed up on your site",
             "confirm_page": "pressed the confirm button from the e-mail",
             "one_click": "unsubscribed with one click in their mail program",
             "unsubscribe_page": "unsubscribed on the page linked from an e-mail",
             "resubscribe_page": "subscribed again from the unsubscribe page"}


@bp.app_template_filter("status_label")
def status_label(status: str) -> str:
    return STATUS_WORDS.get(status, status)


@bp.app_template_filter("via_label")
def via_label(via: str) -> str:
    return VIA_WORDS.get(via, via.replace("_", " "))


@bp.get("/sites/<site_id>/contacts/<int:subscriber_id>")
@login_required
def contact(site_id: str, subscriber_id: int):
    """One contact: status and since when, how it changed, consents, gifts and e-mails."""
    site = owned_site(site_id)
    session = db.session()
    person = owned(site, Subscriber, subscriber_id)
    history = session.scalars(select(StatusChange).where(
        StatusChange.subscriber_id == person.id)
        .order_by(StatusChange.created_at, StatusChange.id)).all()
    consents = session.scalars(select(Consent).where(Consent.subscriber_id == person.id)
                               .order_by(Consent.created_at, Consent.id)).all()
    messages = session.scalars(select(OutboxMessage).where(
        OutboxMessage.subscriber_id == person.id, OutboxMessage.site_id == site.id,
        OutboxMessage.kind.not_in(NOT_MAIL))
        .order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc())).all()
    given = session.scalars(select(Grant).where(
        Grant.subscriber_id == person.id, Grant.site_id == site.id)
        .order_by(Grant.created_at.desc(), Grant.id.desc())).all()
    return render_template("dashboard/contact.html", site=site, person=person,
                           history=history, consents=consents, messages=messages, grants=given,
                           kinds=MAIL_KINDS, words=OUTBOX_WORDS, langs=LANG_NAMES,
                           referrals=contact_referrals(person))
