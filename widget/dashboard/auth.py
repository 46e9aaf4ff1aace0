"""Log in and out."""
from __future__ import annotations

from flask import redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user

from widget.core import db, ratelimit
from widget.dashboard.blueprint import bp
from widget.dashboard.forms import LoginForm
from widget.sites.accounts import check_login


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
        if owner:
            login_user(owner)
            return redirect(_safe_next(request.args.get("next")))
        error = "Wrong e-mail or password."
    return render_template("dashboard/login.html", form=form, error=error), 401 if error else 200


@bp.post("/logout")
@login_required
def logout():
    """Log out; POST with the CSRF token (CSRFProtect checks it), so a link cannot."""
    logout_user()
    return redirect(url_for("dashboard.login"))
