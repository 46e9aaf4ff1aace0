"""A site's webhooks: the list, a new endpoint (its secret shown once, on the answer to
its POST), and per endpoint its delivery log with "send a test event", "send again",
switching it on again and deleting it."""
from __future__ import annotations

from flask import current_app, redirect, render_template, request, url_for
from flask_babel import lazy_gettext
from flask_login import login_required
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from wtforms import SelectMultipleField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from widget.core import db, events, outbox
from widget.dashboard.blueprint import bp
from widget.dashboard.owned import back, owned, owned_site, paged
from widget.models import Event, OutboxMessage, Site, Webhook
from widget.sync import webhooks

# Lazy: read in each request's language (the owner's).
NOTICES = {"deleted": lazy_gettext("The webhook is deleted: it gets no more events."),
           "test": lazy_gettext("A test event is on its way: its delivery shows below in a "
                                "moment."),
           "again": lazy_gettext("The delivery is queued again."),
           "unchanged": lazy_gettext("Nothing changed: it was not a failed delivery any "
                                     "more."),
           "enabled": lazy_gettext("The webhook is switched on again: new events go to it."),
           "on": lazy_gettext("Nothing changed: the webhook was on already.")}
STATUS_WORDS = {"queued": lazy_gettext("Queued"), "sending": lazy_gettext("Sending"),
                "sent": lazy_gettext("Delivered"), "failed": lazy_gettext("Failed"),
                "skipped": lazy_gettext("Not sent")}


class WebhookForm(FlaskForm):
    url = StringField(lazy_gettext("Endpoint URL"),
                      validators=[DataRequired(), Length(max=webhooks.MAX_URL)],
                      description=lazy_gettext("Where we POST each event, e.g. a Zapier, Make "
                                               "or n8n webhook address, or your own "
                                               "server's."))
    description = StringField(lazy_gettext("Description (only you see it)"),
                              validators=[Optional(), Length(max=webhooks.MAX_DESCRIPTION)])
    # The choices are event types as the JSON names them: code, not words.
    events = SelectMultipleField(lazy_gettext("Events"),
                                 choices=[SelectChoice(t, t) for t in events.TYPES],
                                 widget=ListWidget(prefix_label=False),
                                 option_widget=CheckboxInput(),
                                 description=lazy_gettext("None ticked: every event, including "
                                                          "types added later."))

    def validate_url(self, field) -> None:
        try:
            field.data = webhooks.clean_url(field.data)
        except webhooks.Invalid as exc:
            raise ValidationError(str(exc)) from None


@bp.route("/sites/<site_id>/webhooks", methods=["GET", "POST"])
@login_required
def site_webhooks(site_id: str):
    """The site's webhooks; a POST adds one and shows its secret this once."""
    site = owned_site(site_id)
    form = WebhookForm()
    if request.method == "GET" or not form.validate_on_submit():
        return _list(site, form), 422 if form.errors else 200
    try:
        made = webhooks.create(db.session(), site.id, form.url.data, form.events.data,
                               form.description.data)
    except webhooks.Invalid as exc:  # the per-site limit
        form.url.errors = [str(exc)]
        return _list(site, form), 422
    return _list(site, WebhookForm(formdata=None), made)


@bp.get("/sites/<site_id>/webhooks/<int:webhook_id>")
@login_required
def webhook(site_id: str, webhook_id: int):
    """One endpoint and its delivery log, newest first, fifty a page."""
    site = owned_site(site_id)
    hook = owned(site, Webhook, webhook_id)
    mine = (OutboxMessage.webhook_id == hook.id, OutboxMessage.kind == "webhook")
    log = paged(select(OutboxMessage, Event.type, Event.created_at)
                .join(Event, Event.id == OutboxMessage.event_id).where(*mine), OutboxMessage)
    return render_template("dashboard/webhook.html", site=site, hook=hook,
                           types=webhooks.types_of(hook), rows=log.rows, shown=log,
                           words=STATUS_WORDS,
                           notice=str(NOTICES.get(request.args.get("done"), "")))


@bp.post("/sites/<site_id>/webhooks/<int:webhook_id>/test")
@login_required
def test_webhook(site_id: str, webhook_id: int):
    """Queue a webhook.test event for this endpoint alone."""
    site = owned_site(site_id)
    webhooks.send_test(db.session(), owned(site, Webhook, webhook_id))
    outbox.wake_event(current_app).set()
    return _back(site, webhook_id, "test")


@bp.post("/sites/<site_id>/webhooks/<int:webhook_id>/deliveries/<int:delivery_id>/again")
@login_required
def webhook_again(site_id: str, webhook_id: int, delivery_id: int):
    """Queue a failed delivery again."""
    site = owned_site(site_id)
    hook = owned(site, Webhook, webhook_id)
    owned(site, OutboxMessage, delivery_id, webhook_id=hook.id, kind="webhook")
    queued = webhooks.send_again(db.session(), hook, delivery_id)
    if queued:
        outbox.wake_event(current_app).set()
    return _back(site, webhook_id, "again" if queued else "unchanged")


@bp.post("/sites/<site_id>/webhooks/<int:webhook_id>/enable")
@login_required
def enable_webhook(site_id: str, webhook_id: int):
    """Switch an endpoint on again after it was switched off."""
    site = owned_site(site_id)
    done = webhooks.enable(db.session(), owned(site, Webhook, webhook_id))
    return _back(site, webhook_id, "enabled" if done else "on")


@bp.post("/sites/<site_id>/webhooks/<int:webhook_id>/delete")
@login_required
def delete_webhook(site_id: str, webhook_id: int):
    """Delete an endpoint and its delivery log."""
    site = owned_site(site_id)
    webhooks.delete(db.session(), owned(site, Webhook, webhook_id))
    return redirect(url_for("dashboard.site_webhooks", site_id=site.id, done="deleted"))


def _back(site: Site, webhook_id: int, done: str):
    return back("dashboard.webhook", done, site_id=site.id, webhook_id=webhook_id)


def _list(site: Site, form: WebhookForm, made: webhooks.Made | None = None):
    session = db.session()
    failed = dict(session.execute(
        select(OutboxMessage.webhook_id, func.count(OutboxMessage.id))
        .where(OutboxMessage.site_id == site.id, OutboxMessage.kind == "webhook",
               OutboxMessage.status == "failed")
        .group_by(OutboxMessage.webhook_id)).all())
    return render_template("dashboard/webhooks.html", site=site, form=form,
                           hooks=webhooks.listed(session, site.id), failed=failed, made=made,
                           types_of=webhooks.types_of, limit=webhooks.MAX_PER_SITE,
                           notice=str(NOTICES.get(request.args.get("done"), "")))
