"""E-mail services of a site (Mailchimp, Kit, listmonk, …: whatever sync/connectors
registers): the list, connect or change one (its key is never shown again), test the
connection, send the existing confirmed contacts with a progress bar
(static/js/import.js), disconnect; and each service's state on a contact's page."""
from __future__ import annotations

from flask import abort, current_app, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext, lazy_gettext
from flask_login import login_required
from flask_wtf import FlaskForm
from wtforms import PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, ValidationError

from widget.core import db, outbox
from widget.dashboard.blueprint import bp
from widget.dashboard.owned import back, owned_site
from widget.models import Connector, Site
from widget.subscribers.tags import BadTags, parse as parse_tags
from widget.sync import connections, sync
from widget.sync.connectors import SERVICES
from widget.sync.connectors.base import Invalid, Service

# Lazy: read in each request's language (the owner's).
NOTICES = {
    "saved": lazy_gettext("Saved. Test the connection to see that the service takes the key."),
    "disconnected": lazy_gettext("Disconnected: nothing more goes to the service, and its key "
                                 "is deleted."),
    "backfill": lazy_gettext("The existing confirmed contacts are on their way."),
    "running": lazy_gettext("A backfill is under way already: it goes on below."),
}
TAG_MODES = (SelectChoice("all", lazy_gettext("All their tags")),
             SelectChoice("none", lazy_gettext("No tags")),
             SelectChoice("some", lazy_gettext("Only the tags listed below")))


def _tag_list(form, field) -> None:
    try:
        field.data = list(parse_tags(field.data or ""))
    except BadTags as exc:
        raise ValidationError(str(exc)) from None
    if form.tag_mode.data == "some" and not field.data:
        raise ValidationError(gettext("List the tags that go over, or choose all or none."))


_forms: dict[str, type[FlaskForm]] = {}


def connect_form(service: Service, **kwargs) -> FlaskForm:
    """The connect form of a service: its fields, then which tags go over."""
    if service.name not in _forms:
        fields = {f.name: (PasswordField if f.name == "api_key" else StringField)(
            f.label, description=f.help, validators=[Length(max=2048)])
            for f in service.fields}
        fields["tag_mode"] = SelectField(lazy_gettext("Tags that go over"), choices=TAG_MODES,
                                         default="all")
        fields["tags"] = StringField(lazy_gettext("The tags (comma-separated)"),
                                     validators=[_tag_list],
                                     description=lazy_gettext("Used with “Only the tags "
                                                              "listed below”."))
        _forms[service.name] = type(f"{service.name.title()}Form", (FlaskForm,), fields)
    return _forms[service.name](**kwargs)


def _service(name: str) -> Service:
    service = SERVICES.get(name)
    if service is None:
        abort(404)
    return service


def _connected(site: Site, service: Service) -> Connector:
    row = connections.listed(db.session(), site.id).get(service.name)
    if row is None:
        abort(404)
    return row


@bp.get("/sites/<site_id>/connectors")
@login_required
def connectors(site_id: str):
    """The services a site can send its contacts to, and how each one is doing."""
    site = owned_site(site_id)
    rows = connections.listed(db.session(), site.id)
    return render_template("dashboard/connectors.html", site=site, services=SERVICES,
                           rows=rows)


@bp.route("/sites/<site_id>/connectors/<service_name>", methods=["GET", "POST"])
@login_required
def connector(site_id: str, service_name: str):
    """One service: connect or change it; once connected, test, backfill, disconnect."""
    site, service = owned_site(site_id), _service(service_name)
    row = connections.listed(db.session(), site.id).get(service.name)
    if request.method == "GET":
        form = connect_form(service, formdata=None, data=_shown(row))
        return _page(site, service, row, form)
    form = connect_form(service)
    if form.validate_on_submit():
        typed = {f.name: form[f.name].data for f in service.fields if f.name != "api_key"}
        tags = {"all": None, "none": []}.get(form.tag_mode.data, form.tags.data)
        try:
            connections.save(db.session(), site.id, service, form.api_key.data or "", typed,
                             tags)
            return redirect(url_for("dashboard.connector", site_id=site.id,
                                    service_name=service.name, done="saved"))
        except Invalid as exc:
            db.session().rollback()
            form[exc.field].errors = [exc.message]
    return _page(site, service, row, form), 422


def _shown(row: Connector | None) -> dict:
    """The form's values for a saved connection (the key never goes back)."""
    if row is None:
        return {}
    settings = dict(row.settings or {})
    chosen = settings.pop("tags", None)
    mode = "all" if chosen is None else "some" if chosen else "none"
    return {**settings, "tag_mode": mode, "tags": ", ".join(chosen or [])}


def _page(site: Site, service: Service, row: Connector | None, form: FlaskForm,
          tested: tuple[bool, str] | None = None):
    if row is not None:
        form.api_key.description = gettext("Saved, and kept encrypted: leave empty to keep "
                                           "it.")
    shown = connections.progress(db.session(), row) if row is not None else None
    return render_template("dashboard/connector.html", site=site, service=service, row=row,
                           form=form, progress=shown, tested=tested,
                           notice=str(NOTICES.get(request.args.get("done"), "")))


@bp.post("/sites/<site_id>/connectors/<service_name>/test")
@login_required
def test_connector(site_id: str, service_name: str):
    """Ask the service for the list the connection names, with the saved key."""
    site, service = owned_site(site_id), _service(service_name)
    row = _connected(site, service)
    tested = sync.try_connection(row, current_app.config["WEBHOOK_ALLOW_PRIVATE"])
    form = connect_form(service, formdata=None, data=_shown(row))
    return _page(site, service, row, form, tested)


@bp.post("/sites/<site_id>/connectors/<service_name>/disconnect")
@login_required
def disconnect_connector(site_id: str, service_name: str):
    """Stop sending to the service and delete its key."""
    site, service = owned_site(site_id), _service(service_name)
    connections.disconnect(db.session(), _connected(site, service))
    return back("dashboard.connectors", "disconnected", site_id=site.id)


@bp.post("/sites/<site_id>/connectors/<service_name>/backfill")
@login_required
def backfill_connector(site_id: str, service_name: str):
    """Send every confirmed contact the site has now (one at a time, in order)."""
    site, service = owned_site(site_id), _service(service_name)
    started = connections.backfill(db.session(), _connected(site, service))
    outbox.wake_event(current_app).set()
    return redirect(url_for("dashboard.connector", site_id=site.id, service_name=service.name,
                            done="backfill" if started else "running"))


@bp.get("/sites/<site_id>/connectors/<service_name>/backfill")
@login_required
def backfill_progress(site_id: str, service_name: str):
    """Where the backfill is, for the progress bar (static/js/import.js)."""
    site, service = owned_site(site_id), _service(service_name)
    shown = connections.progress(db.session(), _connected(site, service))
    return jsonify(status="running" if shown.running else "done", rows=shown.total,
                   done=shown.done)


@bp.app_template_global("sync_state")
def sync_state(site_id: str, contact_id: int) -> list[connections.State]:
    """Each connected service's last delivery about a contact (the contact page)."""
    return connections.contact_state(db.session(), site_id, contact_id)
