"""Helpers shared by the property-based test modules of the public writes
(tests/test_fuzz_public.py, tests/test_fuzz_public_stories_events.py and
tests/test_fuzz_public_raw.py): the allowed origin and a page on it, the sites each
write is sent to (fixtures), a body posted as it is, a body drawn and posted with the
table counts around it, and what every answer must be."""
from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import event, note
from sqlalchemy import select

from widget.models import Widget

from .fuzz import CONTROL, ORIGINS, assert_refusal, changes, json_bytes, mutated, snapshot
from .gifts import file_gift, make_gift, make_widget
from .giveback import add_widget

ORIGIN = "https://blog.example"


PAGE = f"{ORIGIN}/post"


FOREIGN = {o for o in ORIGINS if o not in (ORIGIN, "", "HTTPS://BLOG.EXAMPLE:443")}


def widget_of(query, site: str) -> str:
    """The newsletter widget every new site gets."""
    return query(lambda s: s.scalar(select(Widget.id).where(Widget.site_id == site)))


@pytest.fixture
def signup_sites(make_site, query):
    """A site with double opt-in and required consent (the defaults) and one with
    neither; both allow ORIGIN: {site: its widget}."""
    doi = make_site(origins=[ORIGIN])
    plain = make_site(name="Shop", origins=[ORIGIN], double_opt_in=False,
                      require_consent=False)
    return {doi: widget_of(query, doi), plain: widget_of(query, plain)}


def post(client, path: str, body: bytes | dict, ctype: str | None, origin: str | None,
         multipart: bool = False):
    """POST `body` as it is: bytes with `ctype` (none when None), or a dict as a form."""
    headers = {} if origin is None else {"Origin": origin}
    if isinstance(body, dict) and not body:  # requests would send no body and no type
        body, ctype = b"", ("multipart/form-data; boundary=x" if multipart
                            else "application/x-www-form-urlencoded")
    if isinstance(body, dict):
        if multipart:
            return client.post(path, files={k: (None, v) for k, v in body.items()},
                               headers=headers)
        return client.post(path, data=body, headers=headers)
    if ctype is not None:
        headers["Content-Type"] = ctype
    return client.post(path, data=body, headers=headers)


def foreign(origin: str | None) -> bool:
    return origin in FOREIGN


def drawn_post(client, query, data, good: dict, fields: dict, how: str, origin, path: str):
    """Draw a body from `good` and `fields` (as a form, or as JSON bytes), post it as
    `how`; the body, the answer and the table counts before and after."""
    form = how in ("form", "multipart")
    body = data.draw(mutated(good, fields, form=form), "body")
    raw = body if form else data.draw(json_bytes(body), "raw")
    before = snapshot(query)
    resp = post(client, path, raw, how, origin, multipart=how == "multipart")
    return body, resp, before, snapshot(query)


def answer(resp, origin: str | None, form: bool, before: Counter, after: Counter) -> str:
    """What every answer must be: never a 5xx; to a foreign origin never a 2xx nor CORS
    headers; a refusal documented and without a trace in any table. Returns "refused" or
    "accepted" (its rows are the caller's to check)."""
    note(f"{resp.status_code} {resp.headers.get('Content-Type')} {resp.text[:300]!r}")
    assert resp.status_code < 500, (resp.status_code, resp.text[:500])
    if foreign(origin):
        assert "Access-Control-Allow-Origin" not in resp.headers
        assert resp.status_code >= 400, resp.status_code
    elif origin == ORIGIN:
        assert resp.headers.get("Access-Control-Allow-Origin") == ORIGIN
    if resp.status_code >= 400:
        assert_refusal(resp, form)
        assert changes(before, after) == {}, changes(before, after)
        event(f"refused {resp.status_code}")
        return "refused"
    event(f"accepted {resp.status_code}")
    return "accepted"


def clean(value: str | None) -> bool:
    """No control character (Unicode Cc) is stored in a name, an address or a page."""
    return value is None or not CONTROL.search(value)


@pytest.fixture
def gift_site(make_site, query):
    """A site with gift-first widgets giving a file (no limit) and a coupon (3 codes), a
    gated one, a paused gift-first one and its newsletter widget: (site, {name: widget})."""
    site = make_site(origins=[ORIGIN])
    _gift, file_first = file_gift(query, site, "first")
    coupon = make_gift(query, site, "coupon", title="10 % off", codes=["A-1", "A-2", "A-3"])
    widgets = {"file": file_first, "coupon": make_widget(query, site, coupon, "first"),
               "gated": file_gift(query, site, "gated")[1],
               "paused": make_widget(query, site, coupon, "first", is_live=False),
               "newsletter": widget_of(query, site)}
    return site, widgets


@pytest.fixture
def story_site(make_site, query):
    """A site with a story widget and its newsletter widget: (site, story, newsletter)."""
    site = make_site(origins=[ORIGIN])
    return site, add_widget(query, site, "story"), widget_of(query, site)


@pytest.fixture
def event_site(make_site, query):
    """A site with two widgets (one paused) and another site's widget: (site, own, other)."""
    site = make_site(origins=[ORIGIN])
    paused = add_widget(query, site, "newsletter")

    def pause(s):
        s.get(Widget, paused).is_live = False
        s.commit()
    query(pause)
    other = make_site(name="Shop", origins=["https://shop.example"])
    return site, [widget_of(query, site), paused], widget_of(query, other)
