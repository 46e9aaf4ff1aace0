"""Reciprocity widgets: pop-ups and gift widgets that give first. Entry: create_app()."""
from __future__ import annotations

from pathlib import Path

from flask import Flask, g, request
from flask.sessions import SecureCookieSessionInterface
from werkzeug.middleware.proxy_fix import ProxyFix

from widget import settings
from widget.api.fastpath import FastPath
from widget.core import assets, db, errors, ratelimit
from widget.core.pages import LINK_PATHS, security_headers

HERE = Path(__file__).resolve().parent


def _shipped(name: str) -> Path:
    """templates/ and static/ live at the repo top and inside the installed package."""
    inside = HERE / name
    return inside if inside.is_dir() else HERE.parent / name



class PublicAwareSessions(SecureCookieSessionInterface):
    """No session on the public API and assets: their answers stay cacheable by anyone
    (Flask-Login reads the session after every request, which would add Vary: Cookie),
    and host pages' requests skip the cookie's signature check."""

    def open_session(self, app, request):
        if request.path.startswith(("/api/", "/static/", "/site/", "/embed.js", "/healthz",
                                    *LINK_PATHS)):
            return None  # Flask substitutes a read-only null session and saves nothing
        return super().open_session(app, request)


def create_app(test_config: dict | None = None) -> Flask:
    """Build the app from environment settings, overridden by `test_config` when given."""
    values = settings.load()
    if test_config:
        values.update(test_config)
    app = Flask(__name__, instance_path=values["INSTANCE_PATH"],
                template_folder=str(_shipped("templates")), static_folder=None)
    app.config.from_mapping(values)
    secure = app.config["BASE_URL"].startswith("https://")  # cookies follow the public URL
    app.config.update(SESSION_COOKIE_SECURE=secure, REMEMBER_COOKIE_SECURE=secure)
    app.session_interface = PublicAwareSessions()

    db.init_app(app)
    errors.init_app(app)
    ratelimit.init_app(app)
    assets.init_app(app, _shipped("static"))
    app.jinja_env.globals["asset"] = assets.url
    app.jinja_env.add_extension("jinja2.ext.do")  # the error summary gathers a form's problems

    from widget.api import bp as api_bp
    from widget.api.openapi import bp as openapi_bp
    from widget.api.owner import bp as owner_api_bp
    from widget.api import owner_hooks  # noqa: F401 (its routes join owner_api_bp)
    from widget.api import owner_stats  # noqa: F401 (likewise)
    from widget.api.static import bp as public_bp
    from widget.dashboard import csrf
    from widget.dashboard import init_app as init_dashboard
    from widget.pages.colors import bp as site_colors_bp
    from widget.pages.gifts import bp as gift_pages_bp
    from widget.pages.giveback import bp as giveback_bp
    from widget.pages.letters import bp as letter_pages_bp
    from widget.pages.subscription import bp as subscription_bp

    csrf.exempt(api_bp)  # cross-origin and cookie-less: guarded by per-site origins instead
    csrf.exempt(owner_api_bp)  # cookie-less: the Bearer key is the credential
    csrf.exempt(subscription_bp)  # the signed link is the credential (RFC 8058 one-click)
    csrf.exempt(gift_pages_bp)  # likewise: the gift and rating links
    app.register_blueprint(public_bp)
    app.register_blueprint(subscription_bp)
    app.register_blueprint(gift_pages_bp)
    app.register_blueprint(giveback_bp)
    app.register_blueprint(letter_pages_bp)
    app.register_blueprint(site_colors_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(owner_api_bp)
    app.register_blueprint(openapi_bp)
    init_dashboard(app)

    @app.after_request  # runs after the blueprints' own, for errors and redirects too
    def _security_headers(resp):
        for name, value in security_headers(
                app.config["BASE_URL"], request.path, resp.mimetype, resp.status_code,
                g.get("form_targets", ())):
            resp.headers.setdefault(name, value)  # a page's own, stricter choice stays
        return resp

    app.wsgi_app = FastPath(app.wsgi_app, app)

    if app.config["PROXY_COUNT"]:
        n = app.config["PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)
    return app
