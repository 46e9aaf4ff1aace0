"""The dashboard's blueprint, log-in manager and CSRF protection, which every page module
attaches to; kept apart from the package's __init__ so no module imports its own package."""
from __future__ import annotations

from flask import Blueprint, g
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect

from widget.core import db
from widget.models import Owner

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")
csrf = CSRFProtect()  # every POST of the app; the public blueprints are exempted by the factory
login_manager = LoginManager()
login_manager.login_view = "dashboard.login"
login_manager.login_message = None


@login_manager.user_loader
def _load_owner(key: str) -> Owner | None:
    """The session's owner while its log-in version is the owner's: a password change or
    reset raises it, which ends every session that began before."""
    owner_id, _, version = key.partition(".")
    if not (owner_id.isdigit() and version.isdigit()):
        return None
    owner = db.session().get(Owner, int(owner_id))
    return owner if owner is not None and owner.login_version == int(version) else None


@bp.after_request
def _owner_pages(resp):
    """Owner pages are never cached; their policy is every page's (core/pages.py: never
    framed, only our own scripts and styles), which the app adds after this.

    A view that serves an e-mail's HTML sets g.csp_override = (policy, X-Frame-Options):
    that content gets a stricter, sandboxed policy instead, which must win over the
    pages' one (and the e-mail editor's preview lets our own pages frame it).
    """
    override = g.get("csp_override")
    if override:
        resp.headers["Content-Security-Policy"], resp.headers["X-Frame-Options"] = override
    resp.headers["Cache-Control"] = "no-store"
    return resp
