"""What an owner does to contacts: add one by hand, edit, unsubscribe on their behalf,
re-send a confirmation, download all we hold about them, erase them, and bulk changes
on the contacts page's filtered selection. Every change is a POST; the steps that cannot
be undone (erase, bulk) first show a page that says what will happen and to how many.
The checks are subscribers/manage.py's, shared with the owner API."""
from __future__ import annotations

import json

from flask import Response, redirect, render_template, request, url_for
from flask_babel import lazy_gettext
from flask_login import current_user, login_required
from flask_wtf import FlaskForm

from widget.core import db, said
from widget.core.errors import ApiError
from widget.dashboard.blueprint import bp
from widget.dashboard.contact_forms import ContactForm, EditForm, owner_message
from widget.dashboard.contacts import contact_page
from widget.dashboard.owned import back, owned, owned_site
from widget.models import Subscriber
from widget.sites import audit
from widget.subscribers import contacts as found
from widget.subscribers import lifecycle, manage, privacy

BULK_WORDS = {"tag": lazy_gettext("Add the tag"), "untag": lazy_gettext("Remove the tag"),
              "unsubscribe": lazy_gettext("Unsubscribe"),
              "delete": lazy_gettext("Delete and erase")}


def _actor() -> str:
    return audit.actor_of_owner(current_user)


def _show_error(form: FlaskForm, err: ApiError) -> None:
    field = getattr(form, err.field or "", None) or next(iter(form))
    field.errors = [*field.errors, owner_message(err)]


@bp.route("/sites/<site_id>/contacts/new", methods=["GET", "POST"])
@login_required
def add_contact(site_id: str):
    """Add a contact by hand, with the basis of their consent."""
    site = owned_site(site_id)
    form = ContactForm(lang=site.default_lang)
    if request.method == "POST" and form.validate_on_submit():
        try:
            person = manage.add(db.session(), site, manage.NewContact(
                email=form.email.data, name=form.name.data or None, lang=form.lang.data,
                tags=form.tags.data, basis=form.basis.data,
                confirm=form.confirm.data != "now"), _actor(), "owner")
        except ApiError as err:
            _show_error(form, err)
        else:
            return redirect(url_for("dashboard.contact", site_id=site.id,
                                    subscriber_id=person.id, done="added"))
    status = 422 if request.method == "POST" else 200
    return render_template("dashboard/contact_new.html", site=site, form=form), status


@bp.post("/sites/<site_id>/contacts/<int:subscriber_id>/edit")
@login_required
def edit_contact(site_id: str, subscriber_id: int):
    """Save a contact's name, language and tags."""
    site = owned_site(site_id)
    person = owned(site, Subscriber, subscriber_id)
    form = EditForm()
    if form.validate_on_submit():
        try:
            manage.edit(db.session(), person, {"name": form.name.data, "lang": form.lang.data,
                                               "tags": form.tags.data})
        except ApiError as err:
            _show_error(form, err)
            return contact_page(site, person, form), 422
    return back("dashboard.contact", "saved", site_id=site.id, subscriber_id=person.id)


@bp.post("/sites/<site_id>/contacts/<int:subscriber_id>/unsubscribe")
@login_required
def unsubscribe_contact(site_id: str, subscriber_id: int):
    """Unsubscribe on the person's behalf (e.g. they asked by reply)."""
    site = owned_site(site_id)
    person = owned(site, Subscriber, subscriber_id)
    moved = manage.unsubscribe(db.session(), person, "owner")
    return back("dashboard.contact", "unsubscribed" if moved else "already", site_id=site.id,
                subscriber_id=person.id)


@bp.post("/sites/<site_id>/contacts/<int:subscriber_id>/resend")
@login_required
def resend_contact(site_id: str, subscriber_id: int):
    """A fresh confirmation e-mail to a contact still waiting to confirm."""
    site = owned_site(site_id)
    person = owned(site, Subscriber, subscriber_id)
    sent = lifecycle.resend_confirmation(db.session(), person)
    return back("dashboard.contact", "resent" if sent else "not_resent", site_id=site.id,
                subscriber_id=person.id)


@bp.get("/sites/<site_id>/contacts/<int:subscriber_id>/data.json")
@login_required
def contact_data(site_id: str, subscriber_id: int):
    """Everything held about the person, as one JSON file to hand them (logged)."""
    site = owned_site(site_id)
    session = db.session()
    person = owned(site, Subscriber, subscriber_id)
    body = json.dumps(privacy.everything(session, person), ensure_ascii=False, indent=2)
    audit.record(session, site.id, _actor(), "export", 1, audit.ONE_CONTACT)
    session.commit()
    return Response(body, content_type="application/json; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="contact-{subscriber_id}.json"'})


@bp.route("/sites/<site_id>/contacts/<int:subscriber_id>/erase", methods=["GET", "POST"])
@login_required
def erase_contact(site_id: str, subscriber_id: int):
    """GET: what erasing will remove, and that it cannot be undone. POST: erase."""
    site = owned_site(site_id)
    person = owned(site, Subscriber, subscriber_id)
    if request.method == "GET":
        return render_template("dashboard/contact_erase.html", site=site, person=person)
    manage.erase(db.session(), person, _actor())
    return redirect(url_for("dashboard.contacts", site_id=site.id, done="erased"))


@bp.route("/sites/<site_id>/contacts/bulk", methods=["GET", "POST"])
@login_required
def bulk_contacts(site_id: str):
    """GET: the confirm step, saying what will happen to how many contacts (the view's
    filters, the action and its bulk_tag come in the query). POST: do it, then back to
    the same view."""
    site = owned_site(site_id)
    source = request.form if request.method == "POST" else request.args
    filters = found.Filters.parse(source)
    # "bulk_tag", not "tag": "tag" is the filter of the view
    action, tag = source.get("action", ""), source.get("bulk_tag", "")
    if filters.errors or action not in manage.BULK_ACTIONS:
        return redirect(url_for("dashboard.contacts", site_id=site.id, **filters.args()))
    session = db.session()
    error = None
    if request.method == "POST":
        try:
            changed = manage.bulk(session, site.id, filters, action, tag, _actor())
        except ApiError as err:
            error = owner_message(err)
        else:
            return redirect(url_for("dashboard.contacts", site_id=site.id, done=action,
                                    changed=changed, **filters.args()))
    return render_template("dashboard/contacts_bulk.html", site=site, filters=filters,
                           action=action, tag=tag, words=BULK_WORDS, error=error,
                           count=found.count(session, site.id, filters),
                           describe=said.shown(found.describe(filters))), 422 if error else 200
