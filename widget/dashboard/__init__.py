"""The owners' dashboard under /dashboard: session login, CSRF on every form."""
from __future__ import annotations

from flask import Blueprint, Flask, g
from flask_login import LoginManager

from .. import db
from ..models import Owner

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")
login_manager = LoginManager()
login_manager.login_view = "dashboard.login"
login_manager.login_message = None


@login_manager.user_loader
def _load_owner(owner_id: str) -> Owner | None:
    return db.session().get(Owner, int(owner_id)) if owner_id.isdigit() else None


@bp.after_request
def _no_framing(resp):
    """Owner pages are never framed and run only our own scripts and styles.

    A view that serves an e-mail's HTML sets g.csp_override = (policy, X-Frame-Options):
    that content gets a stricter, sandboxed policy instead, which must win over this one.
    """
    policy, frame_options = g.get("csp_override") or (
        "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
        "DENY")
    resp.headers["Content-Security-Policy"] = policy
    resp.headers["X-Frame-Options"] = frame_options
    resp.headers["Cache-Control"] = "no-store"
    return resp


def init_app(app: Flask) -> None:
    """Register the dashboard routes and the login manager."""
    # Each module's routes attach to bp as it is imported.
    from . import auth, gifts, mail, referrals, sites, stories, widgets  # noqa: F401

    login_manager.init_app(app)
    app.register_blueprint(bp)
