"""Property-based tests (Hypothesis) of the stories and widget events the public sends,
over real HTTP to the real app on SQLite and PostgreSQL: valid-shaped bodies carrying
hostile values, wrong content types, allowed, foreign and absent origins.

Every property claims, for every request it sends: never a 5xx; a refusal is a 4xx with
a code docs/api.md documents for that status and leaves every table as it was; an
acceptance leaves exactly the rows docs/api.md promises (a story kept pending and
clean; events all or nothing, only ever adding to the counts). The examples of one
property share one app and database, so rows are compared before and after each
request. The profile (tests/helpers/fuzz.py) runs the same examples on every run.
Sign-ups and gifts are tests/test_fuzz_public.py's, raw bodies and the regression tests
tests/test_fuzz_public_raw.py's."""
from __future__ import annotations

from collections import Counter

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from widget.models import Story

from .helpers import fuzz_public as shared
from .helpers.fuzz import (ABSENT, FUZZ, changes, content_type, emails, field, honeypot,
                           hostile_text, is_form, json_bytes, mostly, near_limit, origin_header,
                           snapshot, urls, wrong_type)
from .helpers.fuzz_public import ORIGIN, PAGE, answer, clean, drawn_post, foreign, post

EVENT_TYPES = {"impression": "shown", "open": "opened", "close": "closed",
               "submit": "signed_up"}
MAX_EVENTS = 50
story_site, event_site = shared.story_site, shared.event_site  # the sites written to (fixtures)


def clean_text(value: str) -> bool:
    """A story keeps line breaks and tabs, no other C0 control (the story check's rule;
    DEL and C1 controls pass it, unlike a name's)."""
    return not any(ord(c) < 32 and c not in "\n\t" for c in value)



# --- stories ------------------------------------------------------------------------------


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


