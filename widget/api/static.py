"""Public, unauthenticated routes: the embed script, static assets and the health check."""
from __future__ import annotations

from flask import Blueprint, jsonify
from sqlalchemy import select

from widget.core import assets, db

bp = Blueprint("public", __name__)


@bp.get("/embed.js")
def embed_js():
    """The loader every host page fetches; its URL never changes, so it is cached briefly."""
    return assets.send("js/embed.js", max_age=300)


@bp.get("/static/<path:name>")
def static(name: str):
    """Versioned assets (?v=hash in their URLs), cached for a year."""
    return assets.send(name, max_age=31536000)


@bp.get("/healthz")
def healthz():
    """200 when the app can reach its database."""
    db.session().execute(select(1))
    return jsonify(status="ok")
