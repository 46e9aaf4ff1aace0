"""The OpenAPI document at /api/v1/openapi.json stays true, SQLite and PostgreSQL alike.

Every route under /api/v1 is in it and nothing else is; it is valid OpenAPI 3.1; it is
served cacheable with an ETag; its error codes are the ones docs/api.md documents; and
docs/api-reference.md is what `python -m widget.api.reference` writes from it.

Then schemathesis loads the document from the app itself and sends, operation by
operation, what it generates from it to the app (in-process WSGI) on a seeded site:
contacts confirmed, pending and unsubscribed with tags, a referral, a story, a gift given,
a read and a write key, and another site's key. Path values are mostly the real ones (a
real site, gift and contact ids) so the answers come from real rows, sometimes generated
ones. Every answer must be no 5xx, a documented status with a documented content type and
headers, and a body matching its schema; every operation must answer 2xx at least once.
The public and the owner operations each share one app and database (the owner's writes
that take rows away run last)."""
from __future__ import annotations

import itertools
import json
import re
from collections import Counter
from pathlib import Path

import jsonschema_rs
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (content_type_conformance,
                                               response_headers_conformance,
                                               response_schema_conformance,
                                               status_code_conformance)
from sqlalchemy import select

from widget.api import openapi, openapi_schemas, reference
from widget.models import ContactTag, Widget
from widget.sites import keys
from widget.sync import webhooks

from .helpers.fuzz import FUZZ, documented_errors
from .helpers.gifts import claimed, file_gift
from .helpers.giveback import add_widget, join, member, row, tell, unsubscribe_path
from .helpers.http import BASE

ORIGIN = "https://blog.example"
ARGUMENT = re.compile(r"<(?:\w+:)?(\w+)>")
NAMES = {"site_id": "site", "gift_id": "gift", "subscriber_id": "id",  # the route's → ours
         "webhook_id": "webhook"}


def is_owner(method: str, path: str) -> bool:
    return openapi.PATHS[path][method.lower()]["security"] != []


OPERATIONS = [(method.upper(), path) for path, item in openapi.PATHS.items()
              for method in item]
# The owner's writes that take rows away run last, erasing last of all.
LAST = [("PATCH", "/api/v1/sites/{site}/contacts/{id}"),
        ("POST", "/api/v1/sites/{site}/contacts/{id}/unsubscribe"),
        ("DELETE", "/api/v1/sites/{site}/contacts/{id}")]
GROUPS = {group: sorted((op for op in OPERATIONS if is_owner(*op) == (group == "owner")),
                        key=lambda op: LAST.index(op) + 1 if op in LAST else 0)
          for group in ("public", "owner")}
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_headers_conformance, response_schema_conformance]
# Per operation and database: 220 public and 240 owner requests, under half a minute;
# FUZZ_PROFILE=fuzz-deep (tests/helpers/fuzz.py) sends ten times as many, random ones.
EXAMPLES = 20 if FUZZ.derandomize else 200
FRESH = itertools.count()  # new addresses, unique in the process
PROFILE = settings(FUZZ, max_examples=EXAMPLES, suppress_health_check=[
    *FUZZ.suppress_health_check, HealthCheck.filter_too_much])


def routes(app) -> set[tuple[str, str]]:
    """(METHOD, path) of every rule under /api/v1, in the document's spelling; HEAD and
    the OPTIONS Flask adds by itself are left out (a preflight's own OPTIONS stays)."""
    found = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/"):
            continue
        path = ARGUMENT.sub(lambda m: "{" + NAMES.get(m[1], m[1]) + "}", rule.rule)
        automatic = getattr(rule, "provide_automatic_options", False)
        found |= {(m, path) for m in rule.methods - {"HEAD"}
                  if m != "OPTIONS" or not automatic}
    return found


def test_every_api_route_is_in_the_document_and_nothing_else(app):
    assert routes(app) == set(OPERATIONS)


def test_the_document_is_valid_openapi_3_1():
    doc = openapi.document(BASE)
    schemathesis.openapi.from_dict(doc).validate()  # the OpenAPI 3.1 meta-schema
    for name, schema in doc["components"]["schemas"].items():
        assert jsonschema_rs.meta.is_valid(schema), name  # each one valid JSON Schema
    ids = [op["operationId"] for item in doc["paths"].values() for op in item.values()]
    assert len(ids) == len(set(ids))


def test_it_is_served_cacheable_with_an_etag(client):
    resp = client.get("/api/v1/openapi.json")
    assert resp.status_code == 200 and resp.headers["Content-Type"] == "application/json"
    assert resp.json() == json.loads(json.dumps(openapi.document(BASE)))
    assert resp.headers["Cache-Control"] == f"public, max-age={openapi.MAX_AGE}"
    again = client.get("/api/v1/openapi.json", headers={"If-None-Match": resp.headers["ETag"]})
    assert again.status_code == 304 and not again.content


def test_its_error_codes_are_the_documented_ones():
    documented = documented_errors()
    for status, codes in openapi_schemas.ERROR_CODES.items():
        assert set(codes) <= documented[status], status
    listed = {c for codes in openapi_schemas.ERROR_CODES.values() for c in codes}
    everything = {c for codes in documented.values() for c in codes}
    assert everything - listed == {"csrf_failed", "method_not_allowed", "internal_error"}


def test_the_reference_page_is_current():
    page = Path(__file__).resolve().parents[1] / "docs" / "api-reference.md"
    assert page.read_text(encoding="utf-8") == reference.markdown(), \
        "docs/api-reference.md is stale: run python -m widget.api.reference"


# --- schemathesis -------------------------------------------------------------------------

@pytest.fixture
def world(app, client, make_site, query):
    """A site with real rows behind every path, its keys, and another site's key."""
    site = make_site(origins=[ORIGIN], double_opt_in=True, require_consent=False)
    other = make_site("bo@example.com", name="Shop")
    first = member(app, client, query, site, "ann@example.com", name="Ann")
    friend = member(app, client, query, site, "bo@example.com", ref=first.ref_code)
    gone = member(app, client, query, site, "cy@example.com")
    assert client.post(unsubscribe_path(app, gone)).status_code == 200
    assert join(client, site, "dee@example.com", name="Dee").status_code == 200
    newsletter = query(lambda s: s.scalar(select(Widget.id).where(Widget.site_id == site)))
    gift, widget = file_gift(query, site)
    claimed(client, site, widget, page_url=f"{ORIGIN}/post")
    story = add_widget(query, site, "story")
    add_widget(query, site, "proof")
    assert tell(client, site, email="ann@example.com", rating=5).status_code == 201

    def key(site_id: str, scope: str) -> str:
        return query(lambda s: keys.create(s, site_id, scope, "schemathesis").key)

    pending = row(query, "dee@example.com")
    query(lambda s: (s.add_all([ContactTag(site_id=site, subscriber_id=first.id, tag=tag)
                                for tag in ("b", "a")]), s.commit()))
    write = key(site, "write")
    hooks = [query(lambda s: webhooks.create(s, site, f"https://hooks.example/{n}", None).row.id)
             for n in range(2)]
    return {"site": site, "gift": gift, "ids": [first.id, friend.id, gone.id, pending.id],
            "webhooks": hooks,
            "widgets": {"subscriptions": newsletter, "grants": widget, "stories": story},
            # Mostly the write key: answers beyond 401, 403 and 404.
            "keys": [write, write, key(site, "read"), key(other, "write"), None]}


def realistic(case, world: dict):
    """A body's widget, page and new address made the world's, so writes reach rows."""
    body = case.body
    if isinstance(body, dict):
        widget = world["widgets"].get(case.operation.path.rsplit("/", 1)[1],
                                      world["widgets"]["subscriptions"])
        if "widget" in body:
            body["widget"] = widget
        if "page_url" in body:
            body["page_url"] = f"{ORIGIN}/post"
        if "email" in body:  # one no contact has yet
            body["email"] = f"new{next(FRESH)}@example.com"
        if "url" in body:  # a webhook's: one it may take
            body["url"] = f"https://hooks.example/{next(FRESH)}"
        for event in body.get("events") if isinstance(body.get("events"), list) else ():
            if isinstance(event, dict):
                event["widget"] = widget
    return case


def cases(operation, world: dict, owner: bool):
    """Cases for one operation: in 5 of 6, the world's real path values and a key of the
    world's (owners) or an allowed, a foreign or no origin (public), with parameters and
    body as the document allows, or (1 of 6) not (schemathesis' negative mode), and in 3
    of 6 with the world's widget, page and a new address in the body; in 1 of 6 all
    generated."""
    real = {"site": st.just(world["site"]), "gift": st.just(world["gift"]),
            "id": st.sampled_from(world["ids"]), "webhook": st.sampled_from(world["webhooks"])}
    fixed = st.fixed_dictionaries({p.name: real[p.name] for p in operation.path_parameters})
    if owner:
        headers = st.sampled_from(world["keys"]).map(
            lambda k: {"Authorization": f"Bearer {k}"} if k else {})
    else:
        headers = st.sampled_from([{}, {"Origin": ORIGIN}, {"Origin": "https://evil.example"}])

    def built(mode=GenerationMode.POSITIVE):
        return st.tuples(fixed, headers).flatmap(lambda both: operation.as_strategy(
            mode, path_parameters=both[0], headers=both[1]))

    return st.integers(0, 5).flatmap(
        lambda n: operation.as_strategy() if n == 0 else built() if n == 1 else
        built(GenerationMode.NEGATIVE) if n == 2 else
        built().map(lambda case: realistic(case, world)))


@pytest.mark.parametrize("group", list(GROUPS))
def test_every_answer_is_as_documented(app, world, group):
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    seen: Counter = Counter()
    for method, path in GROUPS[group]:
        operation = schema[path][method]

        @PROFILE
        @given(case=cases(operation, world, group == "owner"))
        def answers(case):
            seen[method, path, case.call_and_validate(checks=CHECKS).status_code] += 1

        answers()
    for method, path in GROUPS[group]:  # the real rows were reached, not only refusals
        assert any(m == method and p == path and s < 300 for m, p, s in seen), (method, path)
