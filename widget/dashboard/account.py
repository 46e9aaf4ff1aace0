"""An owner's account: a forgotten password reset by e-mail (one hour, once, the same
answer for any address), the password changed (either ends every other session), and
two-step log-in turned on (a code first, then recovery codes shown once) or off, and the
dashboard's language and time zone."""
from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext, refresh
from flask_login import current_user, login_required, login_user

from widget.core import db, outbox, ratelimit
from widget.core.pages import visitor_lang
from widget.dashboard.account_forms import (ChangePasswordForm, CodeForm, EmailForm,
                                            ForgotForm, LanguageForm, NewPasswordForm,
                                            TurnOffForm)
from widget.dashboard.blueprint import bp
from widget.dashboard.language import time_zones
from widget.sites import accounts, twofactor
from widget.sites.accounts import AccountError


@bp.route("/forgot", methods=["GET", "POST"])
def forgot_password():
    """Ask for a reset link; the answer is the same whether the address has an account."""
    form = ForgotForm()
    sent = None
    if form.validate_on_submit():
        ratelimit.hit("login", request.remote_addr or "-")
        lang = visitor_lang("en")
        if accounts.request_reset(db.session(), form.email.data, lang,
                                  current_app.config["MAIL_FROM"]):
            db.session().commit()
            outbox.wake_event(current_app).set()
        else:
            db.session().rollback()
        sent = gettext("If an account uses %(email)s, we have sent it a link to choose a "
                       "new password. It works for an hour, once. Nothing there? Look in "
                       "the spam folder, or ask again in a few minutes.",
                       email=form.email.data.strip())
    return render_template("dashboard/forgot.html", form=form, sent=sent)


@bp.route("/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    """A reset link's page: GET shows the form (link scanners change nothing), POST sets
    the new password, ends every other session and logs in."""
    try:
        owner = accounts.owner_to_reset(db.session(), token)
    except AccountError as exc:
        return render_template("dashboard/reset.html", form=None, problem=str(exc)), 400
    form = NewPasswordForm()
    if form.validate_on_submit():
        accounts.set_password(owner, form.password.data)
        db.session().commit()
        login_user(owner)
        flash(gettext("Your new password is set, and every other session has ended."))
        return redirect(url_for("dashboard.sites"))
    return render_template("dashboard/reset.html", form=form, problem=None,
                           email=owner.email), 422 if form.errors else 200


@bp.route("/account", methods=["GET", "POST"])
@login_required
def account():
    """Change the password: the current one first; other sessions end, this one stays."""
    form = ChangePasswordForm()
    if _proved(form):
        try:
            accounts.set_password(current_user, form.password.data)
        except AccountError as exc:
            form.password.errors.append(str(exc))
        else:
            db.session().commit()
            # This session carries the new log-in version. The owner itself, not the
            # proxy: current_user would otherwise resolve to itself (gettext reads it).
            login_user(current_user._get_current_object())
            flash(gettext("Your password is changed, and every other session has ended."))
            return redirect(url_for("dashboard.account"))
    return _account_page(form, EmailForm(prefix="mail"))


def _proved(form) -> bool:
    """A valid submission whose `current` password is the person's (a message at the
    field otherwise); each try counts toward the log-in limit."""
    if not form.validate_on_submit():
        return False
    ratelimit.hit("login", request.remote_addr or "-")
    if accounts.check_login(db.session(), current_user.email, form.current.data):
        return True
    form.current.errors.append(gettext("That is not your current password."))
    return False


def _account_page(form, email_form, lang_form=None):
    """The account page with the forms given (one of them refused, perhaps) and the rest
    fresh; the language form shows the owner's current choice."""
    if lang_form is None:
        lang_form = LanguageForm(prefix="lang", formdata=None, lang=current_user.lang or "",
                                 time_zone=current_user.time_zone)
    errors = form.errors or email_form.errors or lang_form.errors
    return render_template("dashboard/account.html", form=form, email_form=email_form,
                           off=TurnOffForm(prefix="off"), lang_form=lang_form,
                           zones=sorted(time_zones().values())), 422 if errors else 200


@bp.post("/account/language")
@login_required
def change_language():
    """The dashboard's language (None: the browser's) and time zone; the flash that says
    so is already in the new language."""
    form = LanguageForm(prefix="lang")
    if form.validate_on_submit():
        current_user.lang = form.lang.data or None
        current_user.time_zone = form.time_zone.data
        db.session().commit()
        refresh()  # this request chose its locale before the change
        flash(gettext("Saved."))
        return redirect(url_for("dashboard.account"))
    return _account_page(ChangePasswordForm(formdata=None), EmailForm(prefix="mail",
                                                                      formdata=None), form)


@bp.post("/account/email")
@login_required
def change_email():
    """Ask to change the address: the current password, then a link to the new address;
    nothing changes until it is opened."""
    form = EmailForm(prefix="mail")
    if _proved(form):
        try:
            email = accounts.request_email_change(db.session(), current_user, form.email.data,
                                                  visitor_lang("en"),
                                                  current_app.config["MAIL_FROM"])
        except AccountError as exc:
            db.session().rollback()
            form.email.errors.append(str(exc))
        else:
            db.session().commit()
            outbox.wake_event(current_app).set()
            flash(gettext("We sent a link to %(email)s: your address changes when you "
                          "open it (within a day).", email=email))
            return redirect(url_for("dashboard.account"))
    return _account_page(ChangePasswordForm(formdata=None), form)


@bp.route("/email/<token>", methods=["GET", "POST"])
def confirm_email(token: str):
    """The new address's link: GET shows a button (link scanners change nothing), POST
    makes it the account's address."""
    if request.method == "GET":
        return render_template("dashboard/email_change.html", problem=None, done=None)
    try:
        owner, email = accounts.change_email(db.session(), token)
    except AccountError as exc:
        db.session().rollback()
        return render_template("dashboard/email_change.html", problem=str(exc),
                               done=None), 400
    db.session().commit()
    return render_template("dashboard/email_change.html", problem=None, done=email)


@bp.route("/account/two-step", methods=["GET", "POST"])
@login_required
def two_step():
    """Set up two-step log-in: scan the secret, prove it with a code, get recovery codes."""
    if current_user.totp_secret:
        return redirect(url_for("dashboard.account"))
    secret = session.get("totp_setup") or twofactor.new_secret()
    session["totp_setup"] = secret  # the owner's own secret, until a code proves it
    form = CodeForm()
    if form.validate_on_submit():
        codes = twofactor.turn_on(current_user, secret, form.code.data)
        if codes:
            db.session().commit()
            session.pop("totp_setup", None)
            return render_template("dashboard/two_step.html", codes=codes)
        form.code.errors.append(gettext("That code does not fit: check the app shows this "
                                        "account, and type the code it shows now."))
    return render_template("dashboard/two_step.html", form=form, secret=secret, codes=None,
                           qr=twofactor.qr_svg(current_user, secret)), \
        422 if form.errors else 200


@bp.post("/account/two-step/off")
@login_required
def two_step_off():
    """Back to the password alone, after the current password."""
    form = TurnOffForm(prefix="off")
    if _proved(form):  # a guess counts toward the log-in limit, as every password does
        twofactor.turn_off(current_user)
        db.session().commit()
        flash(gettext("Two-step log-in is off: your password alone logs you in."))
    else:
        flash(gettext("Two-step log-in is still on: that was not your current password."))
    return redirect(url_for("dashboard.account"))
