"""Property-based tests (Hypothesis) of what the public writes, over real HTTP to the
real app on SQLite and PostgreSQL: sign-ups (JSON and forms) and gifts given first, with
valid-shaped bodies carrying hostile values, wrong content types, allowed, foreign and
absent origins, and the honeypot. Stories and widget events are
tests/test_fuzz_public_stories_events.py's, raw bodies no client should send
tests/test_fuzz_public_raw.py's.

Every property claims, for every request it sends: never a 5xx; a refusal is a 4xx with
a code docs/api.md documents for that status (a page for a plain form) and leaves every
table as it was; an acceptance leaves exactly the rows docs/api.md promises. The examples
of one property share one app and database, so rows are compared before and after each
request. The profile (tests/helpers/fuzz.py) runs the same examples on every run."""
from __future__ import annotations

from collections import Counter

import pytest
from email_validator import EmailNotValidError, validate_email
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select

from widget.core.outbox import mailbox_of
from widget.models import Consent, OutboxMessage, StatusChange, Subscriber

from .helpers import fuzz_public as shared
from .helpers.fuzz import (ABSENT, FUZZ, changes, emails, field, honeypot, hostile_text, json_bytes,
                           mangled_email, mutated, origin_header, snapshot, urls)
from .helpers.fuzz_public import PAGE, answer, clean, drawn_post, post

signup_sites, gift_site = shared.signup_sites, shared.gift_site  # the sites written to (fixtures)


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


