"""Log in (with the second step when the owner turned it on) and out."""
from __future__ import annotations

import time

from flask import flash, redirect, render_template, request, session, url_for
from flask_babel import gettext
from flask_login import current_user, login_required, login_user, logout_user

from widget.core import db, ratelimit
from widget.dashboard.blueprint import bp
from widget.dashboard.account_forms import CodeForm
from widget.dashboard.forms import LoginForm
from widget.models import Owner
from widget.sites import twofactor
from widget.sites.accounts import check_login

SECOND_STEP_SECONDS = 300  # from the password to the code


def _safe_next(target: str | None) -> str:
    """Follow ?next= only to a dashboard path on this host."""
    if target and target.startswith("/dashboard") and "//" not in target and "\\" not in target:
        return target
    return url_for("dashboard.sites")


@bp.route("/login", methods=["GET", "POST"])
def login():
    """The login form; a wrong password says so without revealing which part was wrong."""
    if current_user.is_authenticated:
        return redirect(url_for("dashboard.sites"))
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        ratelimit.hit("login", request.remote_addr or "-")
        owner = check_login(db.session(), form.email.data, form.password.data)
        if owner and owner.totp_secret:
            # The password was right; the session remembers only that, for a few minutes.
            session["second_step"] = [owner.id, owner.login_version, time.time()]
            return redirect(url_for("dashboard.login_code", next=request.args.get("next")))
        if owner:
            login_user(owner)
            return redirect(_safe_next(request.args.get("next")))
        error = gettext("Wrong e-mail or password.")
    return render_template("dashboard/login.html", form=form, error=error), 401 if error else 200


@bp.route("/login/code", methods=["GET", "POST"])
def login_code():
    """Log-in's second step: the app's code or a recovery code, after the password."""
    pending = session.get("second_step") or [0, 0, 0]
    owner = db.session().get(Owner, pending[0]) if pending[0] else None
    if (owner is None or owner.login_version != pending[1] or not owner.totp_secret
            or time.time() - pending[2] > SECOND_STEP_SECONDS):
        session.pop("second_step", None)
        return redirect(url_for("dashboard.login"))
    form = CodeForm()
    error = None
    if form.validate_on_submit():
        ratelimit.hit("login", request.remote_addr or "-")
        used = twofactor.check(owner, form.code.data)
        if used:
            db.session().commit()
            session.pop("second_step", None)
            login_user(owner)
            if used == "recovery":
                left = len(owner.recovery_codes or [])
                flash(gettext("You logged in with a recovery code; %(left)s left. If your "
                              "phone is gone, turn two-step log-in off and on again on "
                              "your account page.", left=left))
            return redirect(_safe_next(request.args.get("next")))
        error = gettext("That code does not fit. Codes change every 30 seconds; a recovery "
                        "code works once.")
    return render_template("dashboard/login_code.html", form=form, error=error), \
        401 if error else 200


@bp.post("/logout")
@login_required
def logout():
    """Log out; POST with the CSRF token (CSRFProtect checks it), so a link cannot."""
    logout_user()
    return redirect(url_for("dashboard.login"))
