"""Static files (the embeddable script, its UI, the dashboard CSS, the favicon), served
pre-compressed.

Flask's static route neither compresses nor versions; these few files are read once at
start-up, JavaScript minified (rjsmin: comments and white space only, names stay),
compressed once with Brotli (quality 11) and gzip, and served with an ETag per encoding,
so the bytes a host page pays for are the compressed ones and a changed file gets a new
URL. Brotli makes the loader about a tenth smaller than gzip does.
"""
from __future__ import annotations

import gzip
import hashlib
from dataclasses import dataclass
from pathlib import Path

import brotli
import rjsmin
from flask import Flask, Response, abort, current_app, request

MIMETYPES = {".js": "text/javascript", ".css": "text/css",  # RFC 9239 for JavaScript
             ".svg": "image/svg+xml"}  # the favicon: a page that names none gets a 404 logged


@dataclass(frozen=True)
class Asset:
    body: bytes
    gzipped: bytes
    brotli: bytes
    mimetype: str
    version: str


def load(folder: Path) -> dict[str, Asset]:
    """Read every .js, .css and .svg file under `folder`, keyed by its path relative to it."""
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
            body, gzip.compress(body, 9, mtime=0),
            brotli.compress(body, mode=brotli.MODE_TEXT, quality=11), mimetype,
            hashlib.sha256(body).hexdigest()[:12])
    return assets


def init_app(app: Flask, folder: Path) -> None:
    """Load the assets of `folder` into the app."""
    app.extensions["widget.assets"] = load(folder)


def url(name: str) -> str:
    """The versioned path of an asset, e.g. /static/js/ui.js?v=1a2b3c."""
    return f"/static/{name}?v={current_app.extensions['widget.assets'][name].version}"


def accepted(header: str) -> dict[str, float]:
    """The codings of an Accept-Encoding header with their q-values (RFC 9110 12.5.3);
    a malformed q counts as 0, so a garbled header never turns a refusal into a yes."""
    codings = {}
    for item in header.split(","):
        name, *params = (part.strip() for part in item.split(";"))
        if not name:
            continue
        q = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    q = min(max(float(value.strip()), 0.0), 1.0)
                except ValueError:
                    q = 0.0
        codings[name.lower()] = q
    return codings


def encoding(header: str) -> str | None:
    """"br", "gzip" or None (identity) for an Accept-Encoding header: the coding with the
    higher q, Brotli on a tie; a coding not named takes the q of "*", and none at all
    (or no header) means identity, which every client reads."""
    codings = accepted(header)
    wildcard = codings.get("*", 0.0)
    br = codings.get("br", wildcard)
    gz = codings.get("gzip", codings.get("x-gzip", wildcard))
    if br > 0 and br >= gz:
        return "br"
    return "gzip" if gz > 0 else None


def send(name: str, max_age: int) -> Response:
    """Serve one asset, Brotli or gzip as the client accepts, readable from any origin."""
    asset = current_app.extensions["widget.assets"].get(name)
    if asset is None:
        abort(404)
    coding = encoding(request.headers.get("Accept-Encoding", ""))
    body = {"br": asset.brotli, "gzip": asset.gzipped, None: asset.body}[coding]
    resp = Response(body, mimetype=asset.mimetype)
    if coding:
        resp.headers["Content-Encoding"] = coding
    resp.vary.add("Accept-Encoding")
    # A strong ETag names bytes, so each encoding has its own: a cache holding the gzip
    # bytes never answers a Brotli request's If-None-Match with a 304.
    resp.set_etag(asset.version + {"br": "-br", "gzip": "-gz", None: ""}[coding])
    resp.headers["Cache-Control"] = f"public, max-age={max_age}"
    # Public files: the UI is loaded as a module from the host page's origin.
    resp.headers["Access-Control-Allow-Origin"] = "*"
    return resp.make_conditional(request)
