"""A site's team: its owners invite people by e-mail with a role, change roles, remove
members; an invited person joins from the e-mail's link with the account of that
address, or makes one there."""
from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext, lazy_gettext
from flask_login import current_user, login_required, login_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import EmailField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from widget.core import db, outbox
from widget.core.pages import visitor_lang
from widget.dashboard.account_forms import NewPasswordForm
from widget.dashboard.blueprint import bp
from widget.dashboard.owned import owned, owned_site
from widget.models import SiteMember
from widget.sites import accounts, members
from widget.sites.accounts import N_, AccountError

ROLE_CHOICES = [
    SelectChoice("viewer", lazy_gettext("Viewer: sees everything, changes nothing")),
    SelectChoice("editor", lazy_gettext("Editor: also changes widgets, gifts, texts and stories")),
    SelectChoice("owner", lazy_gettext("Owner: also members, keys, services, exports and erasure"))]
# A role as the pages name it (the value stays the stored key).
ROLE_NAMES = {"viewer": lazy_gettext("viewer"), "editor": lazy_gettext("editor"),
              "owner": lazy_gettext("owner")}


class InviteForm(FlaskForm):
    email = EmailField(lazy_gettext("Their e-mail address"),
                       validators=[DataRequired(), Length(max=254)])
    role = SelectField(lazy_gettext("Role"), choices=ROLE_CHOICES, default="editor")


@bp.route("/sites/<site_id>/members", methods=["GET", "POST"])
@login_required
def site_members(site_id: str):
    """The team: who is on it with which role, pending invitations, and the invite form."""
    site = owned_site(site_id)
    form = InviteForm()
    if form.validate_on_submit():
        try:
            members.invite(db.session(), site, form.email.data, form.role.data, current_user,
                           visitor_lang(site.default_lang), current_app.config["MAIL_FROM"])
        except AccountError as exc:
            db.session().rollback()
            form.email.errors.append(str(exc))
        else:
            db.session().commit()
            outbox.wake_event(current_app).set()
            flash(gettext("Invitation sent to %(email)s.", email=form.email.data.strip()))
            return redirect(url_for("dashboard.site_members", site_id=site.id))
    team = db.session().scalars(select(SiteMember).where(SiteMember.site_id == site.id)
                                .order_by(SiteMember.created_at)).all()
    return render_template("dashboard/members.html", site=site, form=form, team=team,
                           roles=ROLE_CHOICES, role_names=ROLE_NAMES), \
        422 if form.errors else 200


@bp.post("/sites/<site_id>/members/<int:member_id>")
@login_required
def member_role(site_id: str, member_id: int):
    """Give a member another role, or remove them (or withdraw an invitation)."""
    site = owned_site(site_id)
    member = owned(site, SiteMember, member_id)
    role = request.form.get("role") or None
    try:
        members.change(db.session(), member, role, current_user)
    except AccountError as exc:
        flash(str(exc))
    else:
        db.session().commit()
        flash(gettext("%(email)s is now %(role)s.", email=member.email,
                      role=ROLE_NAMES.get(role, role)) if role else
              gettext("%(email)s is off the team.", email=member.email))
    return redirect(url_for("dashboard.site_members", site_id=site.id))


@bp.post("/sites/<site_id>/members/<int:member_id>/handover")
@login_required
def hand_over(site_id: str, member_id: int):
    """Hand the site over: a member who joined becomes its owner of record; the one who
    was stays an owner on the team."""
    site = owned_site(site_id)
    member = owned(site, SiteMember, member_id)
    email = member.email
    try:
        members.hand_over(db.session(), site, member, current_user)
    except AccountError as exc:
        flash(str(exc))
    else:
        db.session().commit()
        flash(gettext("%(site)s is now %(email)s's; you stay on the team as an owner.",
                      site=site.name, email=email))
    return redirect(url_for("dashboard.site_members", site_id=site.id))


@bp.route("/join/<token>", methods=["GET", "POST"])
def join(token: str):
    """An invitation's page: GET shows it; POST joins with the account logged in (of the
    invited address), or makes that account with a new password and joins."""
    try:
        member = members.invitation(db.session(), token)
    except AccountError as exc:
        return render_template("dashboard/join.html", problem=str(exc), member=None), 400
    site = member.site
    has_account = accounts.find_owner(db.session(), member.email) is not None
    form = NewPasswordForm()
    if request.method == "POST":
        try:
            if current_user.is_authenticated:
                members.accept(db.session(), member, current_user)
            elif has_account:
                raise AccountError(N_("Log in as %(email)s first, then open the link "
                                      "again."), email=member.email)
            elif form.validate_on_submit():
                owner = accounts.create_owner(db.session(), member.email, form.password.data)
                members.accept(db.session(), member, owner)
                login_user(owner)
            else:
                raise AccountError(N_("Choose a password for your new account."))
        except AccountError as exc:
            db.session().rollback()
            return render_template("dashboard/join.html", problem=None, member=member,
                                   site=site, form=form, has_account=has_account,
                                   error=str(exc), role_names=ROLE_NAMES), 422
        db.session().commit()
        flash(gettext("Welcome to %(site)s's team.", site=site.name))
        return redirect(url_for("dashboard.site", site_id=site.id))
    return render_template("dashboard/join.html", problem=None, member=member, site=site,
                           form=form, has_account=has_account, error=None,
                           role_names=ROLE_NAMES)
