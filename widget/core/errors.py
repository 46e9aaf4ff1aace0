"""One error helper: JSON with a stable code for the API, a friendly page for a person."""
from __future__ import annotations

import logging

from flask import Flask, jsonify, make_response, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from widget.core import i18n

log = logging.getLogger(__name__)

# Status -> code for errors raised by Flask/Werkzeug rather than by our own checks.
HTTP_CODES = {400: "bad_request", 404: "not_found", 405: "method_not_allowed",
              413: "payload_too_large", 415: "unsupported_media_type", 429: "rate_limited"}


FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


class ApiError(Exception):
    """A refusal with an HTTP status, a stable machine code and the field at fault."""

    def __init__(self, status: int, code: str, message: str | None = None,
                 field: str | None = None, retry_after: int | None = None):
        super().__init__(code)
        self.status, self.code, self.field, self.retry_after = status, code, field, retry_after
        self.message = message or i18n.text(f"error.{code}", "en")


def wants_json() -> bool:
    """API paths and clients that prefer JSON get JSON; browsers posting forms get a page."""
    if request.mimetype in FORM_TYPES:
        return False
    if request.path.startswith("/api/"):
        return True
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return best == "application/json" and request.accept_mimetypes[best] > \
        request.accept_mimetypes["text/html"]


def as_json(err: ApiError) -> dict:
    """What an API client receives for `err`: {"error": {"code", "message", "field"?}}."""
    body = {"code": err.code, "message": err.message}
    if err.field:
        body["field"] = err.field
    return {"error": body}


def error_response(err: ApiError, lang: str | None = None):
    """Render `err` as JSON or as a page, whichever the client asked for."""
    if wants_json():
        resp = jsonify(as_json(err))
    else:
        lang = lang or i18n.best_lang(request.accept_languages.best_match(i18n.LANGS))
        resp = make_response(render_template(
            "public/error.html", err=err, lang=lang, t=i18n.translator(lang),
            message=i18n.text(f"error.{err.code}", lang, default=err.message)))
    resp.status_code = err.status
    if err.retry_after:
        resp.headers["Retry-After"] = str(err.retry_after)
    resp.headers["Cache-Control"] = "no-store"
    return resp


def init_app(app: Flask) -> None:
    """Route every error through error_response, so none leaves as a stack trace."""

    @app.errorhandler(ApiError)
    def _api_error(err: ApiError):
        return error_response(err)

    @app.errorhandler(CSRFError)
    def _csrf_error(_exc: CSRFError):
        return error_response(ApiError(400, "csrf_failed"))

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        code = HTTP_CODES.get(exc.code or 500, "http_error")
        message = i18n.text(f"error.{code}", "en", default=exc.description)
        resp = error_response(ApiError(exc.code or 500, code, message))
        if exc.code == 405 and exc.valid_methods:
            resp.headers["Allow"] = ", ".join(exc.valid_methods)
        return resp

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error_response(ApiError(500, "internal_error"))
