"""The owners' dashboard under /dashboard: session login, CSRF on every form, one module
per page area."""
from __future__ import annotations

from flask import Flask

from widget.dashboard import language
from widget.dashboard.blueprint import bp, csrf, login_manager


def init_app(app: Flask) -> None:
    """Register the dashboard routes, the login manager, CSRF protection and Flask-Babel."""
    # Each module's routes attach to bp as it is imported.
    from widget.dashboard import (abtests, account, auth, connectors,  # noqa: F401
                                  contact_actions, contacts, gifts, imports, keys, ledger,
                                  letters, mail, members, referrals, roles, sites, stats,
                                  stories, webhooks, widgets)

    login_manager.init_app(app)
    csrf.init_app(app)
    language.init_app(app)
    app.register_blueprint(bp)
