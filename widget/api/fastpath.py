"""The public requests every host page makes, answered in front of Flask.

Every page view asks for its site's widget config. When this process holds a fresh
snapshot with that page language already rendered, the answer is a few cached bytes,
and Flask's request machinery would cost more than everything else. Anything else (an
unknown or expired site, a language not yet rendered, an over-long URL) goes on to the
Flask route, which renders, caches and answers errors.

A sign-up sent as JSON (what the widget sends) runs the one sign-up path,
signup.subscribe, and a page view's beacon of events the one beacon path,
counters.accept, in an app context but without a request context, routing, sessions or
response objects: about a third of a sign-up's time on SQLite was Flask's. The answers,
refusals included, are the bytes and headers the Flask routes would send (a test
compares them). A form post, a body without a length or over the limit, and every other
request go on to Flask.
"""
from __future__ import annotations

import io
import logging
import re
from urllib.parse import parse_qs

from flask import Flask
from werkzeug.http import HTTP_STATUS_CODES, parse_etags

from widget.api.body import JSON_TYPES, parse
from widget.api.widget_json import config_headers
from widget.core import errors, i18n, pages
from widget.core.errors import ApiError
from widget.insight import counters
from widget.sites import snapshot
from widget.sites.checks import Caller, find_site
from widget.sites.origins import cors_headers
from widget.subscribers import signup

CONFIG = re.compile(r"/api/v1/sites/([^/]{1,64})/widgets")
# The writes every host page makes: a sign-up, and a page view's beacon of events.
WRITE = re.compile(r"/api/v1/sites/([^/]{1,64})/(subscriptions|events)")
NO_STORE = [("Cache-Control", "no-store"), ("Vary", "Origin")]
log = logging.getLogger(__name__)


class FastPath:
    """WSGI middleware answering cached config GETs and JSON sign-ups; everything else
    passes through to Flask."""

    def __init__(self, wsgi_app, app: Flask):
        self.wsgi_app, self.app = wsgi_app, app
        # The headers Flask's route would get: decided once, by the app's one rule.
        base_url = app.config["BASE_URL"]
        self.security = {status: pages.security_headers(base_url, "/api/v1/", mimetype, status)
                         for status, mimetype in ((200, "application/json"), (304, None))}
        # A beacon's 204 as Flask sends it (its default type, no policy of a page).
        self.no_content = [("Content-Type", "text/html; charset=utf-8"),
                           *pages.security_headers(base_url, "/api/v1/", "text/html", 204)]
        with app.app_context():  # Flask's JSON, byte for byte (key order, newline)
            self.ok = app.json.response(ok=True).get_data()

    def __call__(self, environ, start_response):
        method, path = environ["REQUEST_METHOD"], environ.get("PATH_INFO", "")
        if method == "GET":
            match = CONFIG.fullmatch(path)
            site = match and snapshot.peek(self.app, match.group(1))
            if site:
                query = parse_qs(environ.get("QUERY_STRING", ""))
                # As the route reads them: the first value of each parameter.
                lang = i18n.best_lang(query.get("lang", [None])[0], site.default_lang)
                rendered = site.rendered.get(lang)
                if rendered and len(query.get("url", [""])[0]) <= 2048:
                    return self._config(environ, start_response, site, *rendered,
                                        self.app.config["SITE_CACHE_SECONDS"])
        elif method == "POST":
            match = WRITE.fullmatch(path)
            length = environ.get("CONTENT_LENGTH") or "0"
            mimetype = environ.get("CONTENT_TYPE", "").partition(";")[0].strip().lower()
            if (match and mimetype in JSON_TYPES and length.isdigit()
                    and int(length) <= self.app.config["MAX_BODY"]
                    and "chunked" not in environ.get("HTTP_TRANSFER_ENCODING", "").lower()):
                raw = environ["wsgi.input"].read(int(length))
                if len(raw) == int(length):  # else the client left: Flask answers that
                    return self._write(environ, start_response, *match.groups(), raw)
                environ["wsgi.input"] = io.BytesIO(raw)  # what came, for Flask to read
        return self.wsgi_app(environ, start_response)

    def _config(self, environ, start_response, site, body: bytes, etag: str,
                snapshot_seconds: int):
        headers = config_headers(etag, snapshot_seconds) + [("Vary", "Origin")]
        headers += cors_headers(site, environ.get("HTTP_ORIGIN"), "GET")
        if parse_etags(environ.get("HTTP_IF_NONE_MATCH")).contains(etag):
            start_response("304 NOT MODIFIED", headers + self.security[304])
            return [b""]
        headers += [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
        start_response("200 OK", headers + self.security[200])
        return [body]

    def _write(self, environ, start_response, site_id: str, what: str, raw: bytes):
        caller = Caller.of_environ(environ)
        site, status, body, extra = None, 200, self.ok, []
        with self.app.app_context():
            try:
                site = find_site(site_id)
                if what == "subscriptions":
                    signup.subscribe(site, parse(raw), caller=caller)
                else:
                    counters.accept(site, caller, lambda: parse(raw))
                    status = 204
            except ApiError as err:
                status, body = err.status, self.app.json.response(errors.as_json(err)).get_data()
                if err.retry_after:
                    extra = [("Retry-After", str(err.retry_after))]
            except Exception:  # as errors.init_app's handler: logged, a JSON 500
                log.exception("unhandled error on POST %s", environ.get("PATH_INFO"))
                err = ApiError(500, "internal_error")
                status, body = 500, self.app.json.response(errors.as_json(err)).get_data()
        cors = cors_headers(site, caller.origin, "POST")
        if status == 204:
            start_response("204 NO CONTENT", [*self.no_content, *NO_STORE, *cors])
            return [b""]
        headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body))),
                   *extra, *NO_STORE, *cors, *self.security[200]]
        start_response(f"{status} {HTTP_STATUS_CODES[status].upper()}", headers)
        return [body]


