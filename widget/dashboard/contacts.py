"""The contacts: the list with search, filters and keyset pages, its CSV and JSON Lines
exports (each logged), and a contact's page (status and since when, how it changed,
consents, tags, gifts, friends referred and e-mails, and what the owner can do)."""
from __future__ import annotations

from flask import Response, render_template, request
from flask_login import current_user, login_required
from sqlalchemy import select

from widget.core import db, outbox
from widget.dashboard.blueprint import bp
from widget.dashboard.contact_forms import EditForm
from widget.dashboard.forms import LANG_NAMES
from widget.dashboard.mail_forms import MAIL_KINDS
from widget.dashboard.mail import OUTBOX_WORDS
from widget.dashboard.owned import owned, owned_site
from widget.dashboard.referrals import contact_referrals
from widget.models import Consent, Grant, OutboxMessage, StatusChange, Subscriber
from widget.sites import audit
from widget.subscribers import contacts as found
from widget.subscribers.manage import BULK_ACTIONS

STATUS_WORDS = {"pending": "Waiting for confirmation", "confirmed": "Subscribed",
                "unsubscribed": "Unsubscribed"}
VIA_WORDS = {"signup": "signed up on your site",
             "confirm_page": "pressed the confirm button from the e-mail",
             "one_click": "unsubscribed with one click in their mail program",
             "unsubscribe_page": "unsubscribed on the page linked from an e-mail",
             "resubscribe_page": "subscribed again from the unsubscribe page",
             "owner": "changed by you in the dashboard", "api": "changed through the API",
             "import": "imported"}
NOTICES = {"saved": "Saved.", "unsubscribed": "Unsubscribed: no more e-mails go to them.",
           "already": "Nothing changed: they were unsubscribed already.",
           "resent": "A fresh confirmation e-mail is on its way.",
           "not_resent": "No e-mail sent: one went out a moment ago, they are no longer "
                         "waiting, or this address reached today's limit.",
           "added": "Contact added."}
DONE = {"erased": "Erased: nothing about them is kept.",
        "tag": "{n} contacts tagged.", "untag": "The tag was taken off {n} contacts.",
        "unsubscribe": "{n} contacts unsubscribed.", "delete": "{n} contacts deleted and erased."}


@bp.app_template_filter("status_label")
def status_label(status: str) -> str:
    return STATUS_WORDS.get(status, status)


@bp.app_template_filter("via_label")
def via_label(via: str) -> str:
    return VIA_WORDS.get(via, via.replace("_", " "))


@bp.get("/sites/<site_id>/contacts")
@login_required
def contacts(site_id: str):
    """The site's contacts newest first, fifty a page, narrowed by the filters in the URL
    (so a view can be bookmarked or shared); a filter not understood is explained (400)."""
    site = owned_site(site_id)
    filters = found.Filters.parse(request.args)
    if filters.errors:
        return _page(site, filters, None), 400
    return _page(site, filters, found.page(db.session(), site.id, filters,
                                           request.args.get("after")))


def _page(site, filters: found.Filters, shown: found.Page | None) -> str:
    session = db.session()
    done = DONE.get(request.args.get("done", ""), "").format(
        n=request.args.get("changed", 0, type=int))
    return render_template(
        "dashboard/contacts.html", site=site, filters=filters, shown=shown,
        statuses=found.STATUSES, langs=LANG_NAMES, first=bool(request.args.get("after")),
        tags=found.tags_of(session, [p.id for p, _ in shown.rows]) if shown else {},
        site_tags=found.site_tags(session, site.id), actions=BULK_ACTIONS, done=done,
        sorts=found.SORT_LABELS)


@bp.get("/sites/<site_id>/contacts.csv")
@login_required
def contacts_csv(site_id: str):
    """The filtered contacts (all of them without filters) as a spreadsheet, read in
    batches as it is sent (core/export.py: UTF-8 with a BOM, no formula cells)."""
    return _export(site_id, "csv")


@bp.get("/sites/<site_id>/contacts.jsonl")
@login_required
def contacts_jsonl(site_id: str):
    """The same rows as JSON Lines: one object a contact, the CSV's columns as keys."""
    return _export(site_id, "jsonl")


def _export(site_id: str, kind: str):
    site = owned_site(site_id)
    filters = found.Filters.parse(request.args)
    if filters.errors:
        return Response(" ".join(filters.errors), 400, content_type="text/plain; charset=utf-8")
    session = db.session()
    audit.record(session, site.id, audit.actor_of_owner(current_user), "export",
                 found.count(session, site.id, filters), f"{kind.upper()} · "
                 + found.describe(filters))
    session.commit()
    return found.download(session, site.id, filters, kind)


@bp.get("/sites/<site_id>/contacts/<int:subscriber_id>")
@login_required
def contact(site_id: str, subscriber_id: int):
    """One contact: status and since when, how it changed, consents, gifts and e-mails."""
    site = owned_site(site_id)
    return contact_page(site, owned(site, Subscriber, subscriber_id))


def contact_page(site, person: Subscriber, form=None) -> str:
    """A contact's page; `form`: the edit form as posted, with its errors."""
    session = db.session()
    tags = found.tags_of(session, [person.id]).get(person.id, [])
    form = form or EditForm(formdata=None, name=person.name, lang=person.lang,
                            tags=", ".join(tags))
    history = session.scalars(select(StatusChange).where(
        StatusChange.subscriber_id == person.id)
        .order_by(StatusChange.created_at, StatusChange.id)).all()
    consents = session.scalars(select(Consent).where(Consent.subscriber_id == person.id)
                               .order_by(Consent.created_at, Consent.id)).all()
    messages = session.scalars(select(OutboxMessage).where(
        OutboxMessage.subscriber_id == person.id, OutboxMessage.site_id == site.id,
        OutboxMessage.kind.not_in(outbox.NOT_MAIL))
        .order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc())).all()
    given = session.scalars(select(Grant).where(
        Grant.subscriber_id == person.id, Grant.site_id == site.id)
        .order_by(Grant.created_at.desc(), Grant.id.desc())).all()
    return render_template("dashboard/contact.html", site=site, person=person,
                           history=history, consents=consents, messages=messages, grants=given,
                           kinds=MAIL_KINDS, words=OUTBOX_WORDS, langs=LANG_NAMES,
                           referrals=contact_referrals(person), tags=tags, form=form,
                           notice=NOTICES.get(request.args.get("done", "")))
