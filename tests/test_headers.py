"""Every response carries the security headers of its kind, whichever route answered and
however: a page, an error, a redirect, JSON, a script, a CSV, a file, a 204, a 304, or
the config fast path in front of Flask. One walk requests every rule of the URL map
over real HTTP, with real values (a real site, real signed links, the owner logged in)
and junk ones, so answers and refusals alike are seen; a new route without the headers
fails it, and so does a rule the walk does not reach. On SQLite and PostgreSQL. A link
gift's form-action, over HTTP and in Chromium, is tests/test_headers_link_gift.py's.

What each kind carries (one rule decides it: widget/core/pages.py:security_headers):
- every response: nosniff; Referrer-Policy no-referrer under the link paths, whose URLs
  hold tokens, strict-origin-when-cross-origin elsewhere; HSTS exactly when BASE_URL is
  https (these requests are plain HTTP, as from a TLS-terminating proxy); never
  Cross-Origin-Resource-Policy: same-origin (host pages load the API and the assets).
- an HTML page: our own sources only, no inline code, frame-ancestors 'none',
  base-uri 'none', form-action 'self', X-Frame-Options: DENY. The e-mail HTML the
  dashboard shows is sandboxed instead, and the editor's preview may be framed by us.
- anything else: default-src 'none'; frame-ancestors 'none' (the gift file its own
  sandbox). A 304 gets no policy from the app: a cache keeps the stored answer's.
"""
from __future__ import annotations

import re
from collections import Counter
from urllib.parse import quote, urlsplit

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from widget.core import db, events, tokens, vault
from widget.core.rawsql import Tx
from widget.gifts import grants
from widget.letters import feeds
from widget.models import (FeedItem, Grant, Letter, OutboxMessage, Referral, Site, Story,
                           Webhook, Widget)
from widget.sites import abtests, accounts, keys, members

from .helpers.gifts import claimed, file_gift, only_grant, sign
from .helpers.giveback import add_milestone, confirm_path, row, share_path, unsubscribe_path
from .helpers.headers import check
from .helpers.http import PASSWORD
from .helpers.waiting import wait_until

BASES = {"http": "http://127.0.0.1:5000", "https": "https://widgets.example"}
ORIGIN = "https://blog.example"  # the sites' allowed origin (make_site's default)
ARGUMENT = re.compile(r"<(?:(\w+):)?(\w+)>")
# Real answers that change what later requests need come last, in this order: the walk
# revokes, withdraws, deletes and unsubscribes only once every other rule has been seen, and logs
# the owner out at the very end.
LAST = ("dashboard.revoke_key", "dashboard.withdraw_grant", "dashboard.delete_milestone",
        "dashboard.delete_widget",
        "dashboard.delete_gift", "dashboard.discard_import", "dashboard.reset_signups",
        "subscription.unsubscribe",
        "subscription.resubscribe", "dashboard.member_role", "dashboard.logout")
# Rules the walk does not request, each with the reason: none.
NOT_WALKED: frozenset[str] = frozenset()


def path_for(rule, values: dict | None) -> str:
    """The rule's path with real values, or with junk ones (values=None)."""
    def fill(match) -> str:
        converter, name = match.groups()
        if values is None:
            return {"int": "999999", "path": "nope.css"}.get(converter, "nope")
        key = (rule.endpoint, name) if (rule.endpoint, name) in values else name
        assert key in values, f"no real value for <{name}> of {rule.rule}: add one to world()"
        return quote(str(values[key]), safe="/" if converter == "path" else "")
    return ARGUMENT.sub(fill, rule.rule)


def world(app, query, make_site, owner, visitor) -> dict:
    """A site with a bit of everything, its owner logged in, and the real value of every
    rule argument."""
    site = make_site("ann@example.com")
    assert owner.login("ann@example.com").status_code == 302
    gift, widget = file_gift(query, site)
    given = claimed(visitor, site, widget)
    grant = only_grant(query, gift)
    ticket = visitor.post(urlsplit(given["page"]).path).headers["Location"]
    with app.app_context():
        rating = urlsplit(grants.rating_url(query(lambda s: s.get(Grant, grant.id)), 5))
    signup = {"email": "walker@example.com", "consent": True}
    for email in ("pending@example.com", "reader@example.com"):
        assert visitor.post(f"/api/v1/sites/{site}/subscriptions",
                            json={**signup, "email": email}).status_code == 200
    pending = row(query, "pending@example.com")
    assert visitor.post(confirm_path(app, row(query, "reader@example.com"))).status_code == 200
    reader = row(query, "reader@example.com")
    assert visitor.post(f"/api/v1/sites/{site}/subscriptions", json={
        **signup, "email": "friend@example.com", "ref": reader.ref_code}).status_code == 200
    story = {"name": "Kari", "text": "The sourdough guide saved my weekend bakes.",
             "consent": True}
    assert visitor.post(f"/api/v1/sites/{site}/stories", json=story).status_code == 201
    sent = wait_until(lambda: query(lambda s: s.scalar(select(OutboxMessage.id).where(
        OutboxMessage.status == "sent"))), "the dev outbox to send a confirmation")
    bodies = {  # the API's JSON bodies: one it takes, one it refuses
        "api.subscriptions": (signup, {**signup, "email": "nope"}),
        "api.give": ({"widget": widget}, {"widget": "nope"}),
        "api.stories": (story, {**story, "text": ""}),
        "api.events": ({"events": [{"widget": widget, "type": "impression"}]},
                       {"events": [{"widget": widget, "type": "nope"}]}),
        "owner_api.create_contact": ({"email": "added@example.com", "basis": "Asked us"},
                                     {"email": "nope", "basis": "Asked us"}),
        "owner_api.edit_contact": ({"name": "Kari"}, {"nmae": "Kari"}),
        "owner_api.create_webhook": ({"url": "https://hooks.example/in"}, {"url": "ftp://x"})}
    stale = sign(app, "confirm", tokens.subscriber_value(pending.id, pending.email_normalized),
                 seconds_ago=400 * 86400)
    last = {"confirm": confirm_path(app, pending), "unsubscribe": unsubscribe_path(app, reader),
            "share": share_path(app, reader), "gift": given["page"], "ticket": ticket,
            "rating": rating.path}
    token = {name: urlsplit(link).path.rsplit("/", 1)[1] for name, link in last.items()}
    values = {
        "site_id": site, "gift_id": gift, "widget_id": widget, "grant_id": grant.id,
        "subscriber_id": reader.id, "message_id": sent, "name": "css/ui.css",
        "network": "whatsapp", "code": reader.ref_code,
        "referral_id": query(lambda s: s.scalar(select(Referral.id))),
        "story_id": query(lambda s: s.scalar(select(Story.id))),
        "milestone_id": add_milestone(query, site, 3, gift),
        "service_name": "kit",  # an e-mail service (not connected: its buttons answer 404)
        ("subscription.confirm", "token"): token["confirm"],
        ("subscription.resend", "token"): token["confirm"],
        ("subscription.unsubscribe", "token"): token["unsubscribe"],
        ("subscription.resubscribe", "token"): token["unsubscribe"],
        ("gifts.gift_page", "token"): token["gift"],
        ("gifts.fresh_link", "token"): token["gift"],
        ("gifts.download", "ticket"): token["ticket"],
        ("gifts.rate", "token"): token["rating"],
        ("giveback.share_page", "token"): token["share"],
        ("giveback.share_click", "token"): token["share"],
        **account_tokens(app), **an_invitation(app, site),
        "test_id": a_test(query, widget)}
    assert None not in values.values(), values
    made = query(lambda s: keys.create(s, site, "read", "walk"))
    values["key_id"] = made.row.id
    values["webhook_id"], values["delivery_id"] = query(lambda s: a_delivery(s, site))
    values["feed_id"] = query(lambda s: a_feed(s, site))
    values["letter_id"] = query(lambda s: a_letter(s, site, values["feed_id"]))
    values[("letter_pages.web_version", "token")] = sign(app, "letter", values["letter_id"])
    values["service_name"] = "mailchimp"
    upload = owner.post(f"/dashboard/sites/{site}/imports",
                        data={"csrf_token": owner.csrf(f"/dashboard/sites/{site}/imports")},
                        files={"csv_file": ("list.csv", b"email\nkari@example.com\n")})
    values["import_id"] = int(upload.headers["Location"].rsplit("/", 1)[1])
    return {**values, "bodies": bodies, "api_key": made.key,
            "csrf": owner.csrf("/dashboard/sites/new"),
            # A confirm link older than the site allows: 410, with a fresh one offered.
            "extra": {"subscription.confirm": {("subscription.confirm", "token"): stale}}}


def an_invitation(app, site: str) -> dict:
    """A pending invitation to the site's team: its id and its link's token (the walk
    removes it near the end)."""
    with app.app_context():
        session = db.session()
        row = session.get(Site, site)
        member = members.invite(session, row, "dan@example.com", "viewer", row.owner, "en",
                                "news@blog.example")
        session.commit()
        return {"member_id": member.id,
                ("dashboard.join", "token"): members.invite_token(member)}


def account_tokens(app) -> dict:
    """A password reset link's and a new address's tokens, of another owner than the
    walk's (whose password and address the walk must not change)."""
    with app.app_context():
        other = accounts.create_owner(db.session(), "other@example.com", PASSWORD)
        return {("dashboard.reset_password", "token"): accounts.reset_token(other),
                ("dashboard.confirm_email", "token"):
                    accounts.email_change_token(other, "other-new@example.com")}


def a_test(query, widget: str) -> int:
    """An A/B test of the widget (the walk may end it)."""
    def run(s):
        test = abtests.start(s, s.get(Widget, widget),
                             [abtests.Proposed("B", {"title": "Another title"})], 100)
        s.commit()
        return test.id
    return query(run)


def a_delivery(session, site: str) -> tuple[int, int]:
    """A webhook of the site and one delivery of an event to it: (webhook, delivery).
    The worker may deliver (or give up on) it at once: its id is what the walk needs."""
    hook = Webhook(site_id=site, url="https://hooks.example/in", events="",
                   secret=vault.seal("whsec_dGVzdA=="))
    session.add(hook)
    session.flush()
    events.emit(Tx.on_session(session), site, "story.submitted", {"story": {"id": 1}})
    delivery = session.scalar(select(OutboxMessage.id).where(
        OutboxMessage.webhook_id == hook.id))
    session.commit()
    return hook.id, delivery


def requests_for(rule, method: str, values: dict, owner, visitor):
    """(client, path, requests' arguments) for one method of one rule: real
    values and junk ones, the API's JSON both taken and refused and its plain-form
    answers, the dashboard with and without its owner."""
    real, junk = path_for(rule, values), path_for(rule, None)
    dashboard, api = rule.rule.startswith("/dashboard/"), rule.rule.startswith("/api/")
    origin = {"Origin": ORIGIN}
    if method == "OPTIONS":  # a preflight: the rule's only method
        ask = {"headers": {**origin, "Access-Control-Request-Method": "POST"}}
        yield from ((visitor, path, ask) for path in (real, junk))
    elif method == "GET":
        me = owner if dashboard else visitor
        yield from ((me, path, {}) for path in (real, junk))
        if rule.endpoint.startswith("owner_api."):  # with the owner's key, for real answers
            yield visitor, real, {"headers": {"Authorization": f"Bearer {values['api_key']}"}}
        if dashboard:
            yield visitor, real, {}  # to the log-in page
    elif api:
        # An owner API write without a body of its own (erase, unsubscribe) takes none.
        good, bad = values["bodies"].get(rule.endpoint) or (
            ({}, {"unexpected": True}) if rule.endpoint.startswith("owner_api.") else None)
        yield visitor, real, {"json": good, "headers": origin}
        yield visitor, real, {"json": bad, "headers": origin}
        yield visitor, real, {"data": good}  # a plain HTML form: a page or a 303
        yield visitor, junk, {"json": good, "headers": origin}
    elif dashboard:
        token = {"csrf_token": values["csrf"]}
        yield owner, real, {"data": token}
        yield owner, junk, {"data": token}
        yield visitor, real, {}  # no session, no token
    else:  # a page behind a link: its button (the rating form's field besides)
        yield visitor, real, {"data": {"rating": "5"}}
        yield visitor, junk, {}
    if rule.endpoint in values["extra"]:
        yield visitor, path_for(rule, {**values, **values["extra"][rule.endpoint]}), {}


def a_feed(session: Session, site: str) -> int:
    """A blog feed on a documentation address (its check is refused at once: no network)."""
    feed = feeds.set_feed(session, site, "https://192.0.2.10/feed.xml")
    session.commit()
    return feed.id


def a_letter(session: Session, site: str, feed_id: int) -> int:
    """A letter held for the owner's Send, with one post."""
    letter = Letter(site_id=site, feed_id=feed_id, lang="", mode="each", status="held",
                    cursor=0, queued=0, all_queued=False)
    session.add(letter)
    session.flush()
    session.add(FeedItem(feed_id=feed_id, key="k" * 64, title="A new post", summary="<p>Hi</p>",
                         link="https://blog.example/new", letter_id=letter.id,
                         queued_at=letter.created_at))
    session.commit()
    return letter.id


@pytest.mark.parametrize("app_config", [{"BASE_URL": url} for url in BASES.values()],
                         ids=list(BASES), indirect=True)
def test_every_route_answers_with_the_headers_of_its_kind(app, make_client, make_site, query,
                                                          worker):
    https = app.config["BASE_URL"].startswith("https://")
    # These requests are plain HTTP, as a TLS-terminating proxy's are; the session cookie
    # marked Secure for browsers must still come back to the app for the owner's pages.
    app.config["SESSION_COOKIE_SECURE"] = False
    owner, visitor = make_client(), make_client()
    values = world(app, query, make_site, owner, visitor)

    rules = sorted(app.url_map.iter_rules(), key=lambda r: (
        LAST.index(r.endpoint) + 1 if r.endpoint in LAST else 0, r.rule))
    matcher = app.url_map.bind("localhost")
    covered, kinds, statuses = set(), Counter(), Counter()

    def send(client, method, path, endpoint, stored=None, **kw):
        resp = client.request(method, path, **kw)
        kinds[check(resp, path, endpoint, https, stored)] += 1
        statuses[resp.status_code] += 1
        return resp

    for rule in rules:
        methods = sorted(rule.methods - {"HEAD", "OPTIONS"}) or ["OPTIONS"]
        for method in methods:
            # The real values reach this very rule (junk ones may reach a neighbour).
            assert matcher.match(path_for(rule, values), method=method,
                                 return_rule=True)[0] is rule
            for client, path, kw in requests_for(rule, method, values, owner, visitor):
                resp = send(client, method, path, rule.endpoint, **kw)
                if method == "GET" and resp.status_code == 200 and "ETag" in resp.headers:
                    send(client, method, path, rule.endpoint,
                         resp.headers.get("Content-Security-Policy"),
                         headers={"If-None-Match": resp.headers["ETag"]})
        send(visitor, "PUT", path_for(rule, values), rule.endpoint)  # 405: no rule takes PUT
        covered.add(rule.rule + " " + ",".join(sorted(rule.methods)))

    every = {r.rule + " " + ",".join(sorted(r.methods)) for r in app.url_map.iter_rules()}
    assert len(covered) == len(every) - len(NOT_WALKED) and covered == every - NOT_WALKED
    assert {200, 201, 204, 302, 303, 304, 400, 404, 405, 410, 415, 422} <= set(statuses), \
        statuses
    assert 500 not in statuses, statuses  # junk input gets a clear answer, never a 500
    assert {"page", "e-mail HTML", "file", "not modified", "resource application/json",
            "resource text/javascript", "resource text/css", "resource text/csv"} <= set(kinds), \
        kinds


@pytest.mark.parametrize("app_config", [{"BASE_URL": url, "SITE_CACHE_SECONDS": 60}
                                        for url in BASES.values()],
                         ids=list(BASES), indirect=True)
def test_the_fast_path_answers_with_the_same_headers(app, client, make_site):
    https = app.config["BASE_URL"].startswith("https://")
    site = make_site()
    flask_answers = []
    app.before_request(lambda: flask_answers.append(1) and None)
    path = f"/api/v1/sites/{site}/widgets?url=https://blog.example/p&lang=en"
    first = client.get(path, headers={"Origin": ORIGIN})  # Flask renders and caches
    second = client.get(path, headers={"Origin": ORIGIN})  # the fast path answers
    again = client.get(path, headers={"If-None-Match": first.headers["ETag"]})
    assert [r.status_code for r in (first, second, again)] == [200, 200, 304]
    assert flask_answers == [1]  # the second and third never reached Flask
    for resp in (first, second, again):
        check(resp, f"/api/v1/sites/{site}/widgets", "api.widgets", https)


