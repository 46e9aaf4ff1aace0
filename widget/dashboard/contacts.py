"""The contacts: the list with search, filters and keyset pages, its CSV and JSON Lines
exports (each logged), and a contact's page (status and since when, how it changed,
consents, tags, gifts, friends referred and e-mails, and what the owner can do)."""
from __future__ import annotations

from flask import Response, render_template, request
from flask_babel import format_number, gettext, lazy_gettext, ngettext
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

# Words an owner reads, lazy: each request reads them in its owner's language.
STATUS_WORDS = {"pending": lazy_gettext("Waiting for confirmation"),
                "confirmed": lazy_gettext("Subscribed"),
                "unsubscribed": lazy_gettext("Unsubscribed"),
                "bounced": lazy_gettext("Bounced: no more e-mails")}
VIA_WORDS = {"signup": lazy_gettext("signed up on your site"),
             "confirm_page": lazy_gettext("pressed the confirm button from the e-mail"),
             "one_click": lazy_gettext("unsubscribed with one click in their mail program"),
             "unsubscribe_page": lazy_gettext("unsubscribed on the page linked from an e-mail"),
             "resubscribe_page": lazy_gettext("subscribed again from the unsubscribe page"),
             "owner": lazy_gettext("changed by you in the dashboard"),
             "api": lazy_gettext("changed through the API"), "import": lazy_gettext("imported"),
             "bounce": lazy_gettext("their mail server refused our e-mail"),
             "complaint": lazy_gettext("marked our e-mail as spam")}
NOTICES = {"saved": lazy_gettext("Saved."),
           "unsubscribed": lazy_gettext("Unsubscribed: no more e-mails go to them."),
           "already": lazy_gettext("Nothing changed: they were unsubscribed already."),
           "resent": lazy_gettext("A fresh confirmation e-mail is on its way."),
           "not_resent": lazy_gettext("No e-mail sent: one went out a moment ago, they are "
                                      "no longer waiting, or this address reached today's "
                                      "limit."),
           "added": lazy_gettext("Contact added.")}
# found.SORT_LABELS's orders in the owner's language.
SORT_WORDS = {"newest": lazy_gettext("Newest first"), "oldest": lazy_gettext("Oldest first"),
              "email": lazy_gettext("Address A to Z"), "email_desc": lazy_gettext("Address Z to A")}


def _done() -> str:
    """The notice after an erase or a bulk change (?done=…&changed=n), counted."""
    done, changed = request.args.get("done", ""), request.args.get("changed", 0, type=int)
    # %(n)s: the count in the page's language (ngettext's own num would be a bare int)
    n = format_number(changed)
    if done == "erased":
        return gettext("Erased: nothing about them is kept.")
    if done == "tag":
        return ngettext("%(n)s contact tagged.", "%(n)s contacts tagged.", changed, n=n)
    if done == "untag":
        return ngettext("The tag was taken off %(n)s contact.",
                        "The tag was taken off %(n)s contacts.", changed, n=n)
    if done == "unsubscribe":
        return ngettext("%(n)s contact unsubscribed.", "%(n)s contacts unsubscribed.",
                        changed, n=n)
    if done == "delete":
        return ngettext("%(n)s contact deleted and erased.",
                        "%(n)s contacts deleted and erased.", changed, n=n)
    return ""


@bp.app_template_filter("status_label")
def status_label(status: str) -> str:
    return str(STATUS_WORDS.get(status, status))


@bp.app_template_filter("via_label")
def via_label(via: str) -> str:
    return str(VIA_WORDS.get(via, via.replace("_", " ")))


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
    return render_template(
        "dashboard/contacts.html", site=site, filters=filters, shown=shown,
        statuses=found.STATUSES, langs=LANG_NAMES, first=bool(request.args.get("after")),
        tags=found.tags_of(session, [p.id for p, _ in shown.rows]) if shown else {},
        site_tags=found.site_tags(session, site.id), actions=BULK_ACTIONS, done=_done(),
        sorts={key: SORT_WORDS.get(key, words)
               for key, words in found.SORT_LABELS.items()})


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
                 found.count(session, site.id, filters), audit.AS_FORMAT % {
                     "format": kind.upper(), "selection": found.describe(filters)})
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
