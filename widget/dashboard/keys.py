"""API keys of a site: the list, a new key (shown once, on the answer to its POST, never
in a URL), and revoking one."""
from __future__ import annotations

from flask import render_template, request
from flask_babel import lazy_gettext
from flask_login import login_required
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional

from widget.core import db
from widget.dashboard.blueprint import bp
from widget.dashboard.owned import back, owned, owned_site
from widget.models import ApiKey, Site
from widget.sites import keys

NOTICES = {"revoked": lazy_gettext("The key is revoked: requests with it are refused from "
                                    "now on."),
           "unchanged": lazy_gettext("Nothing changed: that key was revoked already.")}


class KeyForm(FlaskForm):
    name = StringField(lazy_gettext("Name (only you see it)"),
                       validators=[Optional(), Length(max=100)],
                       description=lazy_gettext("E.g. the tool or server that will use the key."))
    scope = SelectField(lazy_gettext("Scope"), default="read", choices=[
        SelectChoice("read", lazy_gettext("Read: lists of stories and the gift ledger")),
        SelectChoice("write", lazy_gettext("Read and write"))])


@bp.route("/sites/<site_id>/keys", methods=["GET", "POST"])
@login_required
def api_keys(site_id: str):
    """The site's keys, newest first; a POST makes one and shows it this once."""
    site = owned_site(site_id)
    form = KeyForm()
    if request.method == "GET" or not form.validate_on_submit():
        return _page(site, form), 422 if form.errors else 200
    made = keys.create(db.session(), site.id, form.scope.data, form.name.data or "")
    return _page(site, KeyForm(formdata=None), made)


@bp.post("/sites/<site_id>/keys/<int:key_id>/revoke")
@login_required
def revoke_key(site_id: str, key_id: int):
    """Revoke a key for good."""
    site = owned_site(site_id)
    done = keys.revoke(db.session(), owned(site, ApiKey, key_id))
    return back("dashboard.api_keys", "revoked" if done else "unchanged", site_id=site.id)


def _page(site: Site, form: KeyForm, made: keys.MadeKey | None = None):
    rows = db.session().scalars(select(ApiKey).where(ApiKey.site_id == site.id)
                                .order_by(ApiKey.created_at.desc(), ApiKey.id.desc()))
    return render_template("dashboard/keys.html", site=site, form=form, keys=list(rows),
                           made=made, notice=NOTICES.get(request.args.get("done", "")))
