"""Property-based tests (Hypothesis) of what the public writes, over real HTTP to the
real app on SQLite and PostgreSQL: sign-ups (JSON and forms), gifts given first, stories
and widget events, with valid-shaped bodies carrying hostile values, raw bodies no client
should send, wrong content types, allowed, foreign and absent origins, and the honeypot.

Every property claims, for every request it sends: never a 5xx; a refusal is a 4xx with
a code docs/api.md documents for that status (a page for a plain form) and leaves every
table as it was; an acceptance leaves exactly the rows docs/api.md promises. The examples
of one property share one app and database, so rows are compared before and after each
request. The profile (tests/helpers/fuzz.py) runs the same examples on every run.

The inputs the fuzzing found answering 500 (deep nesting, a page address urlsplit
refuses, lone surrogates, ratings in other digits, event types of other JSON types) are
kept at the end as plain regression tests."""
from __future__ import annotations

import json
from collections import Counter
from urllib.parse import urlencode

import pytest
from email_validator import EmailNotValidError, validate_email
from hypothesis import event, given, note
from hypothesis import strategies as st
from sqlalchemy import func, select

from widget.core.outbox import mailbox_of
from widget.models import Consent, OutboxMessage, StatusChange, Story, Subscriber, Widget

from .helpers.fuzz import (ABSENT, CONTROL, FUZZ, JSON_LIKE, ORIGINS, assert_refusal, changes,
                           content_type, emails, field, honeypot, hostile_text,
                           is_form, json_bytes, mangled_email, mimetype, mostly, mutated,
                           near_limit, origin_header, raw_json, snapshot, urls, wrong_type)
from .helpers.gifts import file_gift, make_gift, make_widget
from .helpers.giveback import add_widget

ORIGIN = "https://blog.example"
PAGE = f"{ORIGIN}/post"
FOREIGN = {o for o in ORIGINS if o not in (ORIGIN, "", "HTTPS://BLOG.EXAMPLE:443")}
EVENT_TYPES = {"impression": "shown", "open": "opened", "close": "closed",
               "submit": "signed_up"}
MAX_EVENTS = 50


# --- set-up -------------------------------------------------------------------------------

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


def clean_text(value: str) -> bool:
    """A story keeps line breaks and tabs, no other C0 control (the story check's rule;
    DEL and C1 controls pass it, unlike a name's)."""
    return not any(ord(c) < 32 and c not in "\n\t" for c in value)


def parsed(raw: bytes):
    """The body as the app reads it (JSON), or None."""
    try:
        return json.loads(raw or b"null")
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None


# --- sign-ups -----------------------------------------------------------------------------

class Signups:
    """What the accepted sign-ups so far promise: per subscriber, as many consent rows
    as sign-ups accepted for it; one subscriber per address and site."""

    def __init__(self):
        self.accepted: Counter = Counter()
        self.subscriber_of: dict = {}


def signup_body(signup_sites: dict, site: str, form: bool):
    """A sign-up with up to three hostile fields (the site's own widget, another site's,
    none or junk), the friend's code and a gift given first among them."""
    other = next(w for s, w in signup_sites.items() if s != site)
    good = {"email": st.one_of(st.sampled_from(["reader@example.com", "Reader@Example.COM",
                                                "reader+news@example.com"]), st.emails()),
            "consent": st.just("on" if form else True),
            "name": st.one_of(st.just(ABSENT), st.just("Kari"), hostile_text(20)),
            "widget": st.sampled_from([ABSENT, signup_sites[site]]),
            "lang": st.sampled_from([ABSENT, "nb", "de-CH", "xx"]),
            "page_url": st.sampled_from([ABSENT, PAGE])}
    fields = {"email": field(emails(), 254, extra=mangled_email()),
              "name": field(st.just("Kari"), 100),
              "consent": field(st.booleans(), extra=st.sampled_from(
                  ["yes", "on", "1", "true", "false", "", "0"])),
              "widget": field(st.sampled_from([signup_sites[site], other, "w_nope"]), 64),
              "lang": field(st.sampled_from(["nb", "de-CH", "zz"]), 16),
              "page_url": field(urls(), 2048),
              "ref": field(st.text(st.sampled_from("abc23XYZé"), min_size=1, max_size=41), 40),
              "grant": field(st.just("eyJ.x.y"), 300),
              "gift": field(st.booleans())}
    return mutated(good, fields, form=form)


def check_signup(query, app, site: str, body: dict, resp, form: bool, origin,
                 before: Counter, after: Counter, model: Signups, double_opt_in: bool) -> str:
    """A refused sign-up leaves nothing; an accepted one (200) leaves one more consent
    row, for the subscriber of that address on that site (new: one more subscriber and
    status change), a status change for its status, and the e-mail it is owed: with
    double opt-in at most one confirmation per subscriber and the day's few per mailbox,
    without it one welcome for a new subscriber. A bot's (honeypot) leaves nothing."""
    if answer(resp, origin, form, before, after) == "refused":
        return "refused"
    delta = changes(before, after)
    assert resp.status_code == 200, resp.status_code
    if form:
        assert resp.headers["Content-Type"].startswith("text/html")
    else:
        assert resp.json() == {"ok": True}
    if honeypot(body):
        assert delta == {}, delta
        return "trapped"
    assert delta.get("consents") == 1, delta
    # stat_days: a sign-up that needs no confirmation is counted as confirmed at once.
    assert set(delta) <= {"subscribers", "consents", "status_changes", "outbox",
                          "subscribers_updated", "stat_days"}, delta
    assert delta.get("stat_days", 0) <= 3 * delta.get("subscribers", 0), delta  # all, page, lang

    def read(s):
        consent = s.scalar(select(Consent).order_by(Consent.id.desc()).limit(1))
        sub = s.get(Subscriber, consent.subscriber_id)
        per_sub = lambda model, *w: s.scalar(  # noqa: E731
            select(func.count()).select_from(model).where(*w))
        last = s.scalar(select(StatusChange.status).where(StatusChange.subscriber_id == sub.id)
                        .order_by(StatusChange.id.desc()).limit(1))
        confirms = per_sub(OutboxMessage, OutboxMessage.subscriber_id == sub.id,
                           OutboxMessage.kind == "confirm")
        mailbox = per_sub(OutboxMessage, OutboxMessage.mailbox == mailbox_of(
            sub.email_normalized), OutboxMessage.kind == "confirm")
        kinds = s.scalars(select(OutboxMessage.kind).order_by(OutboxMessage.id.desc())
                          .limit(delta.get("outbox", 0))).all()
        return (sub, per_sub(Consent, Consent.subscriber_id == sub.id), last, confirms,
                mailbox, kinds)
    sub, consents, last, confirms, mailbox, kinds = query(read)
    new = sub.id not in model.accepted
    model.accepted[sub.id] += 1
    assert sub.site_id == site
    assert consents == model.accepted[sub.id], (consents, model.accepted[sub.id])
    assert delta.get("subscribers", 0) == delta.get("status_changes", 0) == int(new), delta
    assert last == sub.status, (last, sub.status)
    assert clean(sub.email) and clean(sub.name) and clean(sub.page_url), sub.__dict__
    try:  # the same address (as e-mail matches it) is always the same subscriber
        key = validate_email(body["email"].strip(), check_deliverability=False)
        key = (site, key.normalized.lower())
    except (EmailNotValidError, KeyError, AttributeError):
        key = None
    if key is not None:
        assert model.subscriber_of.setdefault(key, sub.id) == sub.id, key
    cap = app.config["MAIL_PER_ADDRESS_DAY"]
    if double_opt_in:
        assert sub.status == "pending" and confirms <= 1 and mailbox <= cap
        assert kinds in ([], ["confirm"]), kinds
        if new:
            assert kinds == ["confirm"] or mailbox == cap, (kinds, mailbox)
    else:
        assert sub.status == "confirmed" and confirms == 0
        assert kinds == (["welcome"] if new else []), kinds
    return "subscribed"


@pytest.mark.parametrize("encoding", ["json", "form"])
def test_signups_never_fail_and_never_half_write(client, app, query, signup_sites, encoding):
    """Sign-ups on a double opt-in site and a plain one, as JSON (application/json and the
    widget's text/plain) or as a form (urlencoded and multipart): never a 5xx, every
    refusal documented and without a trace, every acceptance exactly its rows."""
    model, seen = Signups(), Counter()
    doi = next(iter(signup_sites))
    form = encoding == "form"

    @FUZZ
    @given(data=st.data(), site=st.sampled_from(sorted(signup_sites)), origin=origin_header(),
           ctype=st.sampled_from(["application/json", "text/plain", "text/plain;charset=UTF-8"]),
           multipart=st.booleans())
    def prop(data, site, origin, ctype, multipart):
        body = data.draw(signup_body(signup_sites, site, form), "body")
        raw = body if form else data.draw(json_bytes(body), "raw")
        before = snapshot(query)
        resp = post(client, f"/api/v1/sites/{site}/subscriptions", raw, ctype, origin,
                    multipart)
        seen[check_signup(query, app, site, body, resp, form, origin, before,
                          snapshot(query), model, double_opt_in=site == doi)] += 1

    prop()
    # The strategies must reach both sides, or the property says little.
    assert seen["refused"] and seen["subscribed"], seen


# --- gifts given first --------------------------------------------------------------------

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


def test_gifts_given_first_never_fail_and_never_half_write(client, query, gift_site):
    """Gift-first claims (JSON, text/plain, forms): never a 5xx; a refusal (a bot gets 400,
    other widgets 422, an exhausted coupon 409) documented and without a trace; a gift
    given is exactly one grant (and one coupon code taken for a coupon), with its link
    in the answer (the JSON's grant, or a 303 to the gift's page)."""
    site, widgets = gift_site
    seen = Counter()
    good = {"widget": st.sampled_from([widgets["file"], widgets["coupon"]]),
            "page_url": st.sampled_from([ABSENT, PAGE]),
            "lang": st.sampled_from([ABSENT, "nb", "de"])}
    fields = {"widget": field(st.sampled_from([*widgets.values(), "w_nope"]), 64),
              "page_url": field(urls(), 2048), "lang": field(st.just("nl"), 16)}

    @FUZZ
    @given(data=st.data(), origin=origin_header(),
           how=st.sampled_from(["application/json", "text/plain", "form", "multipart"]))
    def prop(data, origin, how):
        form = how in ("form", "multipart")
        body, resp, before, after = drawn_post(client, query, data, good, fields, how, origin,
                                               f"/api/v1/sites/{site}/grants")
        if answer(resp, origin, form, before, after) == "refused":
            if resp.status_code == 409:  # only the coupon runs out
                assert body.get("widget") == widgets["coupon"], body
            seen["refused"] += 1
            return
        assert not honeypot(body), "a bot got a gift"
        coupon = body.get("widget") == widgets["coupon"]
        assert changes(before, after) == {"gift_grants": 1, **({"coupons_taken": 1}
                                                               if coupon else {})}
        if form:
            assert resp.status_code == 303 and "/gift/" in resp.headers["Location"]
        else:
            assert resp.status_code == 201
            grant = resp.json()["grant"]
            assert grant["page"] and grant["token"] and (grant.get("code") if coupon
                                                         else grant.get("download"))
        seen["given"] += 1

    prop()
    assert seen["refused"] and seen["given"], seen


# --- stories ------------------------------------------------------------------------------

@pytest.fixture
def story_site(make_site, query):
    """A site with a story widget and its newsletter widget: (site, story, newsletter)."""
    site = make_site(origins=[ORIGIN])
    return site, add_widget(query, site, "story"), widget_of(query, site)


def test_stories_never_fail_and_never_half_write(client, query, story_site):
    """Stories (JSON, text/plain, forms): never a 5xx; a refusal documented and without a
    trace; a story kept is one pending row, its name and text within their limits (the
    name without control characters, the text without C0 ones but line breaks and tabs),
    plus at most one thank-you when it gave an address; a bot's (honeypot) keeps
    nothing."""
    site, story_widget, newsletter = story_site
    seen = Counter()
    digits = st.text(st.characters(categories=("Nd", "No")), min_size=1, max_size=3)
    good = {"name": st.one_of(st.just("Kari"), hostile_text(20)),
            "text": st.one_of(st.just("Lovely bread."), hostile_text(200)),
            "consent": st.booleans(),
            "rating": st.sampled_from([ABSENT, 1, 5, "4"]),
            "email": st.sampled_from([ABSENT, "kari@example.com"]),
            "widget": st.sampled_from([ABSENT, story_widget]),
            "lang": st.sampled_from([ABSENT, "nb"]),
            "page_url": st.sampled_from([ABSENT, PAGE])}
    fields = {"name": field(st.just("Kari"), 100),
              "text": field(st.just("Two\nlines\twith a tab"), 5000),
              "consent": field(st.booleans(), extra=st.sampled_from(["on", "no", ""])),
              "rating": field(st.integers(-1, 7), extra=st.one_of(digits, st.sampled_from(
                  ["2.5", " 3 ", "5\n", "05", "+4"]))),
              "email": field(emails(), 254),
              "widget": field(st.sampled_from([story_widget, newsletter, "w_nope"]), 64),
              "lang": field(st.just("de"), 16), "page_url": field(urls(), 2048)}

    @FUZZ
    @given(data=st.data(), origin=origin_header(),
           how=st.sampled_from(["application/json", "text/plain", "form", "multipart"]))
    def prop(data, origin, how):
        form = how in ("form", "multipart")
        body, resp, before, after = drawn_post(client, query, data, good, fields, how, origin,
                                               f"/api/v1/sites/{site}/stories")
        if answer(resp, origin, form, before, after) == "refused":
            seen["refused"] += 1
            return
        delta = changes(before, after)
        if form:
            assert resp.status_code == 200 and resp.headers["Content-Type"].startswith(
                "text/html")
        else:
            assert resp.status_code == 201 and resp.json() == {"ok": True}
        if honeypot(body):
            assert delta == {}, delta
            seen["trapped"] += 1
            return
        # stat_days: the story widget's count of stories (all, page, language).
        assert delta.get("stories") == 1 and set(delta) <= {"stories", "outbox", "stat_days"}, delta
        assert delta.get("outbox", 0) <= (1 if body.get("email") else 0), delta
        story = query(lambda s: s.scalar(select(Story).order_by(Story.id.desc()).limit(1)))
        assert story.site_id == site and story.status == "pending"
        assert story.text.strip() and len(story.text) <= 5000 and clean_text(story.text)
        assert story.name and len(story.name) <= 100 and clean(story.name)
        assert story.rating in (None, 1, 2, 3, 4, 5)
        seen["kept"] += 1

    prop()
    assert seen["refused"] and seen["kept"], seen


# --- events -------------------------------------------------------------------------------

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


def expected_events(body, own: list[str], origin, ctype: str | None) -> tuple[int, str | None]:
    """The answer docs/api.md promises for an events request: (status, code)."""
    if foreign(origin):
        return 403, "origin_not_allowed"
    if (ctype or "").split(";")[0].strip().lower() not in ("application/json", "text/plain"):
        return 415, "unsupported_media_type"
    events = body.get("events") if isinstance(body, dict) else None
    if not isinstance(events, list):
        return 400, "invalid_type"
    if len(events) > MAX_EVENTS:
        return 413, "payload_too_large"
    for e in events:
        if not isinstance(e, dict) or not isinstance(e.get("widget"), str):
            return 400, "invalid_type"
        if not isinstance(e.get("type"), str) or e["type"] not in EVENT_TYPES:
            return 422, "invalid_event"
        if e["widget"] not in own:
            return 422, "unknown_widget"
    return 204, None


def test_events_are_all_or_nothing_and_only_ever_add(client, query, event_site):
    """Event batches: never a 5xx; exactly the answer docs/api.md promises (the origin, the
    content type, then the batch); a refused batch is refused whole and changes no
    counter; an accepted one (204) raises each widget's counters by exactly the batch's
    counts and touches nothing else."""
    site, own, other = event_site
    seen = Counter()
    good_event = st.fixed_dictionaries({"widget": st.sampled_from(own),
                                        "type": st.sampled_from(sorted(EVENT_TYPES))})
    bad_event = mostly(  # a good event with one key changed, or gone, or no event at all
        st.builds(lambda e, key, value: {**e, key: value}, good_event,
                  st.sampled_from(["widget", "type"]),
                  st.one_of(hostile_text(10), wrong_type(), near_limit(64), st.sampled_from(
                      [other, "w_nope", "", "Open", "open ", "hover"]))),
        st.one_of(good_event.map(lambda e: {"widget": e["widget"]}), wrong_type(),
                  hostile_text(10)), 2)
    goods = st.lists(good_event, max_size=3)
    batch = st.one_of(st.lists(good_event, max_size=8),
                      st.builds(lambda pre, bad, post: pre + [bad] + post, goods, bad_event,
                                goods),
                      st.builds(lambda e, n: [e] * n, good_event, st.integers(48, 53)))
    body = mostly(st.builds(lambda b: {"events": b}, batch), st.one_of(
        st.builds(lambda b, x: {"events": b, "extra": x}, batch, hostile_text(5)),
        batch, st.fixed_dictionaries({"events": wrong_type()}), wrong_type()))
    ctypes = mostly(st.sampled_from(["text/plain;charset=UTF-8", "application/json"]),
                    content_type())
    origins = mostly(st.sampled_from(["", ORIGIN, None]),
                     st.sampled_from(["https://evil.example", "null"]))

    @FUZZ
    @given(data=st.data(), body=body, origin=origins, ctype=ctypes)
    def prop(data, body, origin, ctype):
        raw = data.draw(json_bytes(body), "raw")
        before = snapshot(query)
        resp = post(client, f"/api/v1/sites/{site}/events", raw, ctype, origin)
        after = snapshot(query)
        outcome = answer(resp, origin, is_form(ctype), before, after)
        status, code = expected_events(body, own, origin, ctype)
        assert resp.status_code == status, (status, resp.status_code, resp.text[:300])
        if outcome == "refused":
            if not is_form(ctype):  # a form's refusal is a page (docs/api.md)
                assert resp.json()["error"]["code"] == code, (code, resp.text[:300])
            seen["refused"] += 1
            return
        counts = Counter((e["widget"], EVENT_TYPES[e["type"]]) for e in body["events"])
        delta = changes(before, after)
        assert {k: v for k, v in delta.items() if k != "stat_days"} == dict(counts), delta
        assert delta.get("stat_days", 0) <= len({w for w, _ in counts})
        seen["counted"] += 1

    prop()
    assert seen["refused"] and seen["counted"], seen


# --- raw bodies ---------------------------------------------------------------------------

def test_raw_bodies_are_refused_cleanly_everywhere(client, app, query, signup_sites,
                                                   gift_site, story_site, event_site):
    """Bodies no client should send, to every public write (random bytes, cut-off and
    padded JSON around the size limit, huge numbers, deep nesting, lone surrogates,
    duplicate keys, UTF-16, a BOM, scalars, nothing), under every content type: never a
    5xx; a refusal documented and without a trace; what is accepted leaves only what
    that endpoint may write."""
    limit = app.config["MAX_BODY"]
    doi = next(iter(signup_sites))
    gift, story, (ev_site, own, _other) = gift_site, story_site, event_site
    endpoints = {
        "subscriptions": (f"/api/v1/sites/{doi}/subscriptions",
                          {"email": "reader@example.com", "consent": True, "name": "Kari",
                           "widget": signup_sites[doi], "page_url": PAGE}),
        "grants": (f"/api/v1/sites/{gift[0]}/grants", {"widget": gift[1]["file"]}),
        "stories": (f"/api/v1/sites/{story[0]}/stories",
                    {"name": "Kari", "text": "Lovely bread.", "consent": True, "rating": 5}),
        "events": (f"/api/v1/sites/{ev_site}/events",
                   {"events": [{"widget": own[0], "type": "open"}]}),
    }
    may_write = {"subscriptions": {"subscribers", "consents", "status_changes", "outbox",
                                   "subscribers_updated", "stat_days"},
                 "grants": {"gift_grants"}, "stories": {"stories", "outbox", "stat_days"},
                 "events": {"stat_days", (own[0], "opened")}}
    seen = Counter()

    @FUZZ
    @given(data=st.data(), name=st.sampled_from(sorted(endpoints)),
           ctype=st.one_of(st.sampled_from(["application/json", "text/plain"]),
                           content_type()),
           origin=st.sampled_from([None, ORIGIN]))
    def prop(data, name, ctype, origin):
        path, good = endpoints[name]
        raw = data.draw(raw_json(json.dumps(good).encode(), limit), "raw")
        before = snapshot(query)
        resp = post(client, path, raw, ctype, origin)
        after = snapshot(query)
        if len(raw) > limit:  # the type is checked first, then the size (docs/api.md)
            typed = mimetype(ctype) in JSON_LIKE or (is_form(ctype) and name != "events")
            assert resp.status_code == (413 if typed else 415), (len(raw), resp.status_code)
        if answer(resp, origin, is_form(ctype), before, after) == "refused":
            seen["refused"] += 1
            return
        assert set(changes(before, after)) <= may_write[name], changes(before, after)
        seen["accepted"] += 1

    prop()
    assert seen["refused"] and seen["accepted"], seen


# --- what the fuzzing found: 500s for bad input (nothing is written) ----------------------
# Each answers 500 internal_error today, on SQLite and PostgreSQL, and keeps no row.
# docs/api.md: "500 internal_error (never for bad input)".

def refused_cleanly(client, query, path: str, raw: bytes, ctype: str = "application/json"):
    """POST raw bytes: a documented refusal that keeps nothing."""
    before = snapshot(query)
    resp = client.post(path, data=raw, headers={"Content-Type": ctype})
    assert resp.status_code < 500, (resp.status_code, resp.text[:200])
    assert_refusal(resp, is_form(ctype))
    assert changes(before, snapshot(query)) == {}
    return resp


@pytest.mark.parametrize("endpoint", ["subscriptions", "grants", "stories", "events"])
def test_deeply_nested_json_is_invalid_json(client, make_site, query, endpoint):
    site = make_site(origins=[ORIGIN])
    raw = b'{"email": ' + b"[" * 1000 + b"]" * 1000 + b"}"
    resp = refused_cleanly(client, query, f"/api/v1/sites/{site}/{endpoint}", raw)
    assert resp.json()["error"]["code"] == "invalid_json"


@pytest.mark.parametrize("endpoint, body, encoding", [
    ("subscriptions", {"email": "reader@example.com", "consent": True}, "json"),
    ("subscriptions", {"email": "reader@example.com", "consent": "on"}, "form"),
    ("stories", {"name": "Kari", "text": "Lovely bread."}, "json"),
    ("grants", {}, "json"),
], ids=["signup", "signup-form", "story", "gift"])
def test_a_page_url_urlsplit_refuses_is_invalid_url(client, make_site, query, endpoint, body,
                                                    encoding):
    site = make_site(origins=[ORIGIN])
    body = {**body, "page_url": "http://["}
    if encoding == "json":
        raw, ctype = json.dumps(body).encode(), "application/json"
    else:
        raw, ctype = urlencode(body).encode(), "application/x-www-form-urlencoded"
    resp = refused_cleanly(client, query, f"/api/v1/sites/{site}/{endpoint}", raw, ctype)
    assert resp.status_code == 422


@pytest.mark.parametrize("endpoint, body", [
    pytest.param("subscriptions", '{"email": "reader@example.com", "consent": true, '
                 '"name": "\\ud800"}', id="signup-name"),
    pytest.param("subscriptions", '{"email": "reader@example.com", "consent": true, '
                 '"page_url": "https://blog.example/\\udfff"}', id="signup-page_url"),
    pytest.param("subscriptions", '{"email": "reader@example.com", "consent": true, '
                 '"grant": "\\ud800"}', id="signup-grant"),
    pytest.param("stories", '{"name": "Kari\\ud83d", "text": "Lovely bread."}', id="story-name"),
    pytest.param("stories", '{"name": "Kari", "text": "\\udc80"}', id="story-text"),
    pytest.param("stories", '{"name": "Kari", "text": "Lovely.", '
                 '"page_url": "https://blog.example/\\ud800"}', id="story-page_url"),
    pytest.param("grants", '{"widget": "WIDGET", "page_url": "https://blog.example/\\ud800"}',
                 id="gift-page_url"),
])
def test_a_lone_surrogate_is_refused(client, make_site, query, endpoint, body):
    site = make_site(origins=[ORIGIN])
    _gift, widget = file_gift(query, site, "first")
    refused_cleanly(client, query, f"/api/v1/sites/{site}/{endpoint}",
                    body.replace("WIDGET", widget).encode())


@pytest.mark.parametrize("rating, encoding", [("²", "json"), ("፩", "form")],
                         ids=["superscript-json", "ethiopic-form"])
def test_a_rating_of_other_digits_is_invalid(client, make_site, query, rating, encoding):
    site = make_site(origins=[ORIGIN])
    body = {"name": "Kari", "text": "Lovely bread.", "rating": rating}
    if encoding == "json":
        raw, ctype = json.dumps(body).encode(), "application/json"
    else:
        raw, ctype = urlencode(body).encode(), "application/x-www-form-urlencoded"
    resp = refused_cleanly(client, query, f"/api/v1/sites/{site}/stories", raw, ctype)
    assert resp.status_code == 422


@pytest.mark.parametrize("kind", [["open"], {}], ids=["list", "object"])
def test_an_event_type_of_another_json_type_is_refused(client, make_site, query, kind):
    site = make_site(origins=[ORIGIN])
    widget = widget_of(query, site)
    raw = json.dumps({"events": [{"widget": widget, "type": kind}]}).encode()
    resp = refused_cleanly(client, query, f"/api/v1/sites/{site}/events", raw)
    assert resp.json()["error"]["code"] in ("invalid_event", "invalid_type")
