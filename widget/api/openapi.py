"""The OpenAPI 3.1 document of /api/v1, the public and the owner API, as Python data,
served at GET /api/v1/openapi.json. docs/api-reference.md is written from it by
`python -m widget.api.reference`; tests/test_openapi.py keeps both true (every route
under /api/v1 is here, and schemathesis checks the real answers against it)."""
from __future__ import annotations

import hashlib
import json
from functools import lru_cache

from flask import Blueprint, Response, current_app, request

from widget.api.openapi_schemas import (CONTACT_STATUS, ERROR_CODES, ERROR_WHEN, LANG, SCHEMAS,
                                        array, error_schema, flag, integer, obj, one_of, ref,
                                        text)
from widget.insight.stats import BY, MAX_DAYS

bp = Blueprint("openapi", __name__, url_prefix="/api/v1")
MAX_AGE = 300  # seconds: the document changes only with a new release


def param(name: str, where: str, schema: dict, description: str, required: bool = False):
    return {"name": name, "in": where, "required": required or where == "path",
            "description": description, "schema": schema}


PARAMETERS = {
    "site": param("site", "path", text(maxLength=64), "The site's id, as in its snippet."),
    "gift": param("gift", "path", text(maxLength=64), "A gift's id."),
    "contact": param("id", "path", integer(minimum=1), "A contact's id."),
    "webhook": param("webhook", "path", integer(minimum=1), "A webhook's id."),
    "limit": param("limit", "query", integer(minimum=1, maximum=100, default=50),
                   "Rows a page."),
    "cursor": param("cursor", "query", text(), "The `next` of the page before."),
}
FILTERS = [
    param("q", "query", text(), "Searches address and name."),
    param("status", "query", CONTACT_STATUS, "Contacts in this status."),
    param("widget", "query", text(maxLength=64), "Signed up with this widget (its id)."),
    param("lang", "query", LANG, "Contacts in this language."),
    param("tag", "query", text(maxLength=64), "Contacts with this tag."),
    param("gift", "query", one_of("yes", "no"), "A gift was given to them, or not."),
    param("referred", "query", one_of("yes", "no"), "A friend's link brought them, or not."),
    param("from", "query", text(format="date"), "Signed up on or after this day (UTC)."),
    param("to", "query", text(format="date"), "Signed up on or before this day (UTC)."),
]
SORT = param("sort", "query", one_of("newest", "oldest", "email", "email_desc"),
             "The order: newest (the default) or oldest sign-up first, or by address, "
             "A to Z (email) or Z to A (email_desc). A cursor is for the order it came with.")
STATS = [
    param("from", "query", text(format="date"), "The first day, in the site's time zone "
          "(default: 29 days before `to`)."),
    param("to", "query", text(format="date"), "The last day, included (default: the site's "
          f"today, or 29 days after `from`). At most {MAX_DAYS:,} days in all."),
    param("by", "query", {**one_of(*BY), "default": "day"}, "Rows by day, week (from "
          "Monday), month, widget, variant, page path (the 20 shown most), language or "
          "device class."),
    param("widget", "query", text(maxLength=64), "One of the site's widgets only (its id)."),
]
SITE = {"$ref": "#/components/parameters/site"}
PAGE = [{"$ref": "#/components/parameters/limit"}, {"$ref": "#/components/parameters/cursor"}]
HEADERS = {
    401: {"WWW-Authenticate": {"required": True, "schema": text(pattern="^Bearer ")}},
    429: {"Retry-After": {"required": True, "description": "Seconds to wait.",
                          "schema": integer(minimum=1)}},
}
CACHED = {"ETag": {"required": True, "schema": text(pattern='^"[0-9a-f]+"$')},
          "Cache-Control": {"required": True, "schema": text(pattern="^public, max-age=")}}
NOT_MODIFIED = {"description": "Not modified (If-None-Match): send the ETag back."}
PAGE_BODY = {"text/html": {"schema": text("A page, when the body was sent as a form.")}}


def error_response(status: int, page: bool = False) -> dict:
    """The answer for an error status: JSON, or also a page for a form's request."""
    content = {"application/json": {"schema": error_schema(ERROR_CODES[status])}}
    return {"description": ERROR_WHEN[status], **(
        {"headers": HEADERS[status]} if status in HEADERS else {}),
        "content": {**content, **(PAGE_BODY if page else {})}}


def errors(*statuses: int, page: bool = False) -> dict:
    """Error answers by status: shared components, or inline with the page variant."""
    return {str(s): error_response(s, page=True) if page else
            {"$ref": f"#/components/responses/Error{s}"} for s in statuses}


def json_answer(description: str, schema: dict, **extra) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}},
            **extra}


def operation(op_id: str, summary: str, responses: dict, *, scope: str | None = None,
              params: list | tuple = (), body: dict | None = None,
              description: str = "") -> dict:
    """One operation; an owner one (`scope` read or write) gets the key's answers."""
    if scope:
        responses = {**responses, **errors(*((401, 403) if scope == "write" else (401,)),
                                           404, 429)}
    op = {"operationId": op_id, "summary": summary, "tags": ["owner" if scope else "public"],
          **({"description": description} if description else {}),
          "security": [{"bearerAuth": []}] if scope else [],
          "parameters": [SITE, *params] if params is not None else [],
          "responses": dict(sorted(responses.items()))}
    if body:
        op["requestBody"] = {"required": True, "content": body}
    return op


def bodies(fields: dict, required: tuple[str, ...], form: bool = True) -> dict:
    """A public write's body: JSON (also sent as text/plain, which needs no CORS
    preflight) and, when `form`, a plain HTML form's fields, all strings."""
    schema = {"type": "object", "required": list(required), "properties": fields}
    found = {"application/json": {"schema": schema}, "text/plain": {"schema": schema}}
    if form:
        found["application/x-www-form-urlencoded"] = {"schema": {
            **schema, "properties": {k: text(v.get("description", "")) for k, v in
                                     fields.items()}}}
    return found


COMMON = {"widget": text("The widget's id (w_…).", maxLength=64),
          "page_url": text("The page it was sent from.", maxLength=2048),
          "lang": text("The visitor's language (en, nb, de, nl; others fall back).",
                       maxLength=16)}
VARIANT = {"variant": integer("The A/B test variant the visitor saw (its `v`); left out, "
                              "or not running: the widget itself.")}
SIGNUP = bodies({"email": text(maxLength=254, format="email"), "name": text(maxLength=100),
                 "consent": flag("Required when the site asks for consent."),
                 "gift": flag("false: the newsletter alone, on a gated gift widget."),
                 "grant": text("A gift taken first, to put on the new subscriber's ledger."),
                 "ref": text("The code of the friend whose link brought them."), **COMMON,
                 **VARIANT}, ("email",))
GIVE = bodies({**COMMON, **VARIANT}, ("widget",))
TELL = bodies({"name": text(maxLength=100), "text": text(maxLength=5000),
               "rating": integer(minimum=1, maximum=5),
               "consent": flag("May it be shown."),
               "email": text("For the thank-you.", maxLength=254, format="email"), **COMMON},
              ("name", "text"))
EVENTS = bodies({"events": array(obj({
    "widget": text(maxLength=64), "type": one_of("impression", "open", "close", "submit"),
    **VARIANT}, optional=("variant",)), maxItems=50)}, ("events",), form=False)
NO_CONTENT = {"description": "Done; no body."}
PUBLIC_WRITE_ERRORS = (400, 403, 404, 413, 415, 422, 429)


def preflight(name: str) -> dict:
    return operation(f"{name}_preflight", "CORS preflight, for the site's origins only", {
        "204": {"description": "Allowed origins get the Access-Control-Allow-* headers."},
        **errors(404)})


def owner_body(schema: str) -> dict:
    return {"application/json": {"schema": ref(schema)}}


CONTACT_PATH = "/api/v1/sites/{site}/contacts/{id}"
PATHS = {
    "/api/v1/openapi.json": {"get": {
        "operationId": "openapi", "summary": "This document", "tags": ["public"],
        "security": [], "parameters": [], "responses": {"200": json_answer(
            "OpenAPI 3.1, cached for five minutes.", {
                "type": "object", "required": ["openapi", "info", "paths", "components"],
                "properties": {"openapi": {"const": "3.1.0"}}}, headers=CACHED),
            "304": NOT_MODIFIED}}},
    "/api/v1/sites/{site}/widgets": {"get": operation(
        "widgets", "Live widgets for a page, with triggers, targeting and UI strings", {
            "200": json_answer("Cacheable for a minute at most.",
                               ref("WidgetConfig"), headers=CACHED),
            "304": NOT_MODIFIED, **errors(404, 422)},
        params=[param("lang", "query", text(), "The page's language."),
                param("url", "query", text(maxLength=2048), "Accepted, not needed.")])},
    "/api/v1/sites/{site}/subscriptions": {"post": operation(
        "subscribe", "Sign up an e-mail address", {
            "200": {"description": "Accepted, the row committed: the same for a first and a "
                    "repeat sign-up.", "content": {"application/json": {"schema": ref("Ok")},
                                                   **PAGE_BODY}},
            **errors(409, *PUBLIC_WRITE_ERRORS, page=True)}, body=SIGNUP,
        description="A filled honeypot field (`website`) is answered as accepted and keeps "
                    "nothing."), "options": preflight("subscribe")},
    "/api/v1/sites/{site}/grants": {"post": operation(
        "give", "Give a gift-first widget's gift at once", {
            "201": json_answer("Given, the grant committed.", ref("GiftGiven")),
            "303": {"description": "A form's request: on to the gift's page.",
                    "headers": {"Location": {"required": True, "schema": text()}}},
            **errors(409, *PUBLIC_WRITE_ERRORS, page=True)}, body=GIVE),
        "options": preflight("give")},
    "/api/v1/sites/{site}/stories": {
        "post": operation("tell", "Tell a story", {
            "201": json_answer("Kept for the owner to approve.", ref("Ok")),
            "200": {"description": "A form's request: a thank-you page.",
                    "content": PAGE_BODY},
            **errors(*PUBLIC_WRITE_ERRORS, page=True)}, body=TELL),
        "options": preflight("tell"),
        "get": operation("stories", "The site's stories, newest first", {
            "200": json_answer("A page of stories.", ref("StoriesPage")), **errors(400)},
            scope="read", params=[param("status", "query", one_of(
                "pending", "approved", "rejected"), "Stories in this status."), *PAGE])},
    "/api/v1/sites/{site}/gifts/{gift}": {"get": operation(
        "gift_left", "How many of a gift are left right now", {
            "200": json_answer("Not cached.", ref("GiftLeft")), **errors(404)},
        params=[{"$ref": "#/components/parameters/gift"}])},
    "/api/v1/sites/{site}/events": {"post": operation(
        "events", "A page view's widget events, added to daily counters", {
            "204": NO_CONTENT, **errors(*PUBLIC_WRITE_ERRORS, page=True)}, body=EVENTS),
        "options": preflight("events")},
    "/api/v1/sites/{site}/gifts/{gift}/grants": {"get": operation(
        "grants", "A gift's ledger, newest first", {
            "200": json_answer("A page of grants.", ref("GrantsPage")), **errors(400)},
        scope="read", params=[{"$ref": "#/components/parameters/gift"}, *PAGE])},
    "/api/v1/sites/{site}/contacts": {
        "get": operation("contacts", "The site's contacts, newest first, filtered", {
            "200": json_answer("A page of contacts.", ref("ContactsPage")), **errors(400)},
            scope="read", params=[*FILTERS, SORT, *PAGE]),
        "post": operation("add_contact", "Add a contact", {
            "201": json_answer("Added, committed.", ref("Contact"), headers={
                "Location": {"required": True, "schema": text()}}),
            **errors(400, 409, 413, 415, 422)}, scope="write", body=owner_body("NewContact"),
            description="The owner states the basis on which they may e-mail the person.")},
    CONTACT_PATH: {
        "get": operation("contact", "One contact, with consents and status history", {
            "200": json_answer("The contact.", ref("ContactDetail"))}, scope="read",
            params=[{"$ref": "#/components/parameters/contact"}]),
        "patch": operation("change_contact", "Change a contact's name, language or tags", {
            "200": json_answer("Changed, committed.", ref("Contact")),
            **errors(400, 413, 415, 422)}, scope="write",
            params=[{"$ref": "#/components/parameters/contact"}],
            body=owner_body("ContactChange")),
        "delete": operation("erase_contact", "Erase the person everywhere", {
            "204": NO_CONTENT}, scope="write",
            params=[{"$ref": "#/components/parameters/contact"}])},
    CONTACT_PATH + "/unsubscribe": {"post": operation(
        "unsubscribe_contact", "Unsubscribe a contact (again: the same answer)", {
            "200": json_answer("Unsubscribed, committed.", ref("Contact"))},
        scope="write", params=[{"$ref": "#/components/parameters/contact"}])},
    CONTACT_PATH + "/data": {"get": operation(
        "contact_data", "Everything held about a contact", {
            "200": json_answer("One object.", ref("ContactData"))}, scope="read",
        params=[{"$ref": "#/components/parameters/contact"}])},
    "/api/v1/sites/{site}/contacts.csv": {"get": operation(
        "contacts_csv", "The filtered contacts as the dashboard's CSV", {
            "200": {"description": "Streamed, UTF-8 with a BOM, no formula cells.",
                    "content": {"text/csv": {"schema": text()}}}, **errors(400)},
        scope="read", params=FILTERS)},
    "/api/v1/sites/{site}/contacts.jsonl": {"get": operation(
        "contacts_jsonl", "The same rows as JSON Lines", {
            "200": {"description": "One object a contact, the CSV's columns as keys.",
                    "content": {"application/x-ndjson": {"schema": text()}}},
            **errors(400)}, scope="read", params=FILTERS)},
    "/api/v1/sites/{site}/referrals": {"get": operation(
        "referrals", "The site's referrals, newest first", {
            "200": json_answer("A page of referrals.", ref("ReferralsPage")), **errors(400)},
        scope="read", params=[param("status", "query", one_of(
            "pending", "waiting", "held", "counted", "rejected"), "In this status."), *PAGE])},
    "/api/v1/sites/{site}/webhooks": {
        "get": operation("webhooks", "The site's webhooks (never their secrets)", {
            "200": json_answer("All of them, oldest first.", ref("WebhooksList"))},
            scope="read"),
        "post": operation("add_webhook", "Add a webhook", {
            "201": json_answer("Added, committed; the secret is in this answer only.",
                               ref("WebhookMade")),
            **errors(400, 409, 413, 415, 422)}, scope="write", body=owner_body("NewWebhook"),
            description="Events are signed per Standard Webhooks with the secret; "
                        "docs/webhooks.md has the payloads.")},
    "/api/v1/sites/{site}/webhooks/{webhook}": {"delete": operation(
        "delete_webhook", "Delete a webhook and its delivery log", {"204": NO_CONTENT},
        scope="write", params=[{"$ref": "#/components/parameters/webhook"}])},
    "/api/v1/sites/{site}/stats": {"get": operation(
        "stats", "The funnel's counters for a range of days, with the period before", {
            "200": json_answer("Counters only: nothing about a visitor.", ref("Stats")),
            **errors(400)}, scope="read", params=STATS,
        description="Days are the site's own, in its time zone. 404 `not_found` for a "
                    "`widget` that is not one of the site's.")},
}


def document(base_url: str) -> dict:
    """The OpenAPI 3.1 document, its server the app's public address."""
    return {
        "openapi": "3.1.0",
        "info": {"title": "Reciprocity widgets API", "version": "1",
                 "description": "The public API that host pages and the widget call, and "
                                "the owner API for the owner's own servers (a Bearer key "
                                "per site). Errors are always "
                                "`{\"error\": {\"code\", \"message\", \"field\"?}}`."},
        "servers": [{"url": base_url}],
        "tags": [{"name": "public", "description": "Host pages and the widget: no key."},
                 {"name": "owner", "description": "The owner's servers: a site's key, "
                                                  "never cached, no CORS."}],
        "paths": PATHS,
        "components": {
            "schemas": SCHEMAS,
            "parameters": PARAMETERS,
            "responses": {f"Error{s}": error_response(s) for s in ERROR_CODES},
            "securitySchemes": {"bearerAuth": {
                "type": "http", "scheme": "bearer",
                "description": "A site's key (rw_live_…), read or write scope."}},
        },
    }


@lru_cache(maxsize=4)
def rendered(base_url: str) -> tuple[bytes, str]:
    """The document as JSON bytes and its ETag, made once per process (and address)."""
    body = json.dumps(document(base_url), ensure_ascii=False, indent=1).encode()
    return body, hashlib.sha256(body).hexdigest()[:32]


@bp.get("/openapi.json")
def openapi_json():
    """The document: public, cacheable, and readable from any origin (API tools)."""
    body, etag = rendered(current_app.config["BASE_URL"])
    resp = Response(body, mimetype="application/json")
    resp.set_etag(etag)
    resp.headers["Cache-Control"] = f"public, max-age={MAX_AGE}"
    resp.headers["Access-Control-Allow-Origin"] = "*"
    return resp.make_conditional(request)
