"""The widget config served straight from the site snapshot, in front of Flask.

Every page view of every host page asks for its site's config. When this process holds
a fresh snapshot with that page language already rendered, the answer is a few cached
bytes, and Flask's request machinery would cost more than everything else. Anything
else (another path or method, an unknown or expired site, a language not yet rendered,
an over-long URL) goes on to the Flask route, which renders, caches and answers errors.
"""
from __future__ import annotations

import re
from urllib.parse import parse_qs

from flask import Flask
from werkzeug.http import parse_etags

from widget.api.widget_json import config_headers
from widget.core import i18n, pages
from widget.sites import snapshot
from widget.sites.origins import cors_headers

PATH = re.compile(r"/api/v1/sites/([^/]{1,64})/widgets")


class ConfigFastPath:
    """WSGI middleware answering cached config GETs; everything else passes through."""

    def __init__(self, wsgi_app, app: Flask):
        self.wsgi_app, self.app = wsgi_app, app
        # The headers Flask's route would get: decided once, by the app's one rule.
        base_url = app.config["BASE_URL"]
        self.security = {status: pages.security_headers(base_url, "/api/v1/", mimetype, status)
                         for status, mimetype in ((200, "application/json"), (304, None))}

    def __call__(self, environ, start_response):
        match = environ["REQUEST_METHOD"] == "GET" and PATH.fullmatch(
            environ.get("PATH_INFO", ""))
        site = match and snapshot.peek(self.app, match.group(1))
        if site:
            query = parse_qs(environ.get("QUERY_STRING", ""))
            # As the route reads them: the first value of each parameter.
            lang = i18n.best_lang(query.get("lang", [None])[0], site.default_lang)
            rendered = site.rendered.get(lang)
            if rendered and len(query.get("url", [""])[0]) <= 2048:
                return self._answer(environ, start_response, site, *rendered,
                                    self.app.config["SITE_CACHE_SECONDS"])
        return self.wsgi_app(environ, start_response)

    def _answer(self, environ, start_response, site, body: bytes, etag: str,
                snapshot_seconds: int):
        headers = config_headers(etag, snapshot_seconds) + [("Vary", "Origin")]
        headers += cors_headers(site, environ.get("HTTP_ORIGIN"), "GET")
        if parse_etags(environ.get("HTTP_IF_NONE_MATCH")).contains(etag):
            start_response("304 NOT MODIFIED", headers + self.security[304])
            return [b""]
        headers += [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
        start_response("200 OK", headers + self.security[200])
        return [body]
