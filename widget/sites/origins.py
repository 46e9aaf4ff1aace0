"""Origins a site allows, and the CORS headers that follow from them.

Written here rather than with flask-cors because each site has its own origin list in
the database; flask-cors takes one static list per resource.
"""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Response, request
from flask_babel import gettext

from widget.sites.snapshot import SiteView

DEFAULT_PORTS = {"http": 80, "https": 443}


def normalize_origin(value: str) -> str:
    """'HTTPS://Blog.Example:443/path' -> 'https://blog.example'; ValueError if not a web origin
    (its message in the dashboard's language during a dashboard request, else English)."""
    parts = urlsplit(value.strip())
    if parts.scheme.lower() not in DEFAULT_PORTS or not parts.hostname:
        raise ValueError(gettext("%(value)s is not an http(s) origin such as "
                                 "https://blog.example", value=repr(value)))
    if parts.username or parts.password:
        raise ValueError(gettext("%(value)s must not contain a user name or password",
                                 value=repr(value)))
    scheme, host = parts.scheme.lower(), parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        raise ValueError(gettext("%(value)s has an invalid port", value=repr(value))) from None
    if port and port != DEFAULT_PORTS[scheme]:
        return f"{scheme}://{host}:{port}"
    return f"{scheme}://{host}"


def request_origin() -> str | None:
    """The Origin header of the request, or None when the client sent none."""
    return request.headers.get("Origin") or None


def is_allowed(site: SiteView, origin: str | None) -> bool:
    """True when `origin` (or the origin of a URL) is one of the site's allowed origins."""
    if not origin or origin == "null":
        return False
    if origin in site.origins:  # browsers send origins already normalised
        return True
    try:
        return normalize_origin(origin) in site.origins
    except ValueError:
        return False


def cors_headers(site: SiteView | None, origin: str | None, method: str,
                 methods: str = "GET, POST") -> list[tuple[str, str]]:
    """The CORS headers for a request from `origin`: none unless the site allows it."""
    if site is None or not is_allowed(site, origin):
        return []
    headers = [("Access-Control-Allow-Origin", origin)]
    if method == "OPTIONS":
        headers += [("Access-Control-Allow-Methods", methods),
                    ("Access-Control-Allow-Headers", "Content-Type"),
                    ("Access-Control-Max-Age", "86400")]
    return headers


def add_cors(resp: Response, site: SiteView | None) -> Response:
    """Let the request's origin read `resp` if, and only if, the site allows that origin."""
    if resp.headers.get("Vary"):
        resp.vary.add("Origin")
    else:  # the common case, without parsing a header set
        resp.headers["Vary"] = "Origin"
    for name, value in cors_headers(site, request_origin(), request.method):
        resp.headers[name] = value
    return resp
