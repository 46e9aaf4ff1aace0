"""Static files (the embeddable script, its UI, the dashboard CSS), served pre-gzipped.

Flask's static route neither compresses nor versions; these few files are read once at
start-up, JavaScript minified (rjsmin: comments and white space only, names stay),
gzipped once, and served with an ETag, so the bytes a host page pays for are the
gzipped ones and a changed file gets a new URL.
"""
from __future__ import annotations

import gzip
import hashlib
from dataclasses import dataclass
from pathlib import Path

import rjsmin
from flask import Flask, Response, abort, current_app, request

MIMETYPES = {".js": "text/javascript", ".css": "text/css"}  # RFC 9239 for JavaScript


@dataclass(frozen=True)
class Asset:
    body: bytes
    gzipped: bytes
    mimetype: str
    version: str


def load(folder: Path) -> dict[str, Asset]:
    """Read every .js and .css file under `folder`, keyed by its path relative to it."""
    assets = {}
    for path in sorted(folder.rglob("*")):
        parts = path.relative_to(folder).parts
        if path.suffix not in MIMETYPES or "src" in parts or parts[0].startswith("."):
            continue
        body = path.read_bytes()
        if path.suffix == ".js":  # comments and white space cost every page view
            body = rjsmin.jsmin(body.decode()).encode()
        mimetype = MIMETYPES[path.suffix]
        assets[path.relative_to(folder).as_posix()] = Asset(
            body, gzip.compress(body, 9, mtime=0), mimetype,
            hashlib.sha256(body).hexdigest()[:12])
    return assets


def init_app(app: Flask, folder: Path) -> None:
    """Load the assets of `folder` into the app."""
    app.extensions["widget.assets"] = load(folder)


def url(name: str) -> str:
    """The versioned path of an asset, e.g. /static/js/ui.js?v=1a2b3c."""
    return f"/static/{name}?v={current_app.extensions['widget.assets'][name].version}"


def send(name: str, max_age: int) -> Response:
    """Serve one asset, gzipped when the client accepts it, readable from any origin."""
    asset = current_app.extensions["widget.assets"].get(name)
    if asset is None:
        abort(404)
    use_gzip = "gzip" in request.headers.get("Accept-Encoding", "")
    resp = Response(asset.gzipped if use_gzip else asset.body, mimetype=asset.mimetype)
    if use_gzip:
        resp.headers["Content-Encoding"] = "gzip"
    resp.vary.add("Accept-Encoding")
    resp.set_etag(asset.version + ("-gz" if use_gzip else ""))
    resp.headers["Cache-Control"] = f"public, max-age={max_age}"
    # Public files: the UI is loaded as a module from the host page's origin.
    resp.headers["Access-Control-Allow-Origin"] = "*"
    return resp.make_conditional(request)
