"""Every dashboard page a site member may read shows them only what their role can use,
over real HTTP: a viewer and an editor open each readable site route of roles.NEED (a
route without a page here fails), and every form and every link to a site route on it
is one their role may use (roles.need); the owner still sees the forms; a viewer reads
the widget, gift, e-mail text, settings and letter plan forms greyed out. On SQLite and
PostgreSQL; in Chromium, axe finds nothing on the pages a viewer and an editor read."""
from __future__ import annotations

import hashlib
from datetime import timedelta
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page
from sqlalchemy import create_engine, select, update
from sqlalchemy.orm import Session
from werkzeug.exceptions import HTTPException
from werkzeug.routing import RequestRedirect

from widget.dashboard.roles import NEED, need
from widget.mail.worker import drain_once
from widget.models import (Feed, FeedItem, Letter, Owner, OutboxMessage, Referral, Site,
                           SiteMember, Story, Widget, utcnow)
from widget.sites import members
from widget.sites.accounts import create_owner

from .helpers.browser import DASHBOARD_PAGES
from .helpers.dashboard import gift_widget, give, make_gift, sign_up
from .helpers.giveback import add_milestone, row
from .helpers.http import PASSWORD

RANK = members.RANK


class Targets(HTMLParser):
    """The forms (method, action) and the links (href) of a page."""

    def __init__(self):
        super().__init__()
        self.forms: list[tuple[str, str]] = []
        self.links: list[str] = []
        self.disabled = 0  # <fieldset disabled>: a form shown read-only

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.forms.append(((attrs.get("method") or "get").upper(), attrs.get("action") or ""))
        elif tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])
        elif tag == "fieldset" and "disabled" in attrs:
            self.disabled += 1


def site_data(app, ann, make_client, make_site, query) -> dict:
    """A site with something on every page: a widget, a gift given and offered at a
    milestone, contacts (one held as a friend's referral), a failed e-mail, a story, a
    feed and a held letter. The ids the readable pages' addresses need."""
    site = make_site("ann@example.com", name="Bäckerei")
    widget = query(lambda s: s.scalar(select(Widget.id).where(Widget.site_id == site)))
    gift = make_gift(ann, query, site, "link")
    give(make_client, site, gift_widget(query, site, gift))
    add_milestone(query, site, 3, gift)
    for email in ("reader@example.com", "friend@example.com"):
        sign_up(make_client, site, email)
    reader, friend = row(query, "reader@example.com"), row(query, "friend@example.com")
    while drain_once(app):  # the dev outbox writes the confirmations (their HTML too)
        pass
    message = query(lambda s: s.scalar(select(OutboxMessage.id).where(
        OutboxMessage.subscriber_id == reader.id)))

    def add(s):
        now = utcnow()
        s.execute(update(OutboxMessage).where(OutboxMessage.id == message)
                  .values(status="failed", last_error="550 no such mailbox"))
        s.add(Referral(site_id=site, referrer_id=reader.id, referred_id=friend.id,
                       status="held", reason="burst", confirmed_at=now))
        s.add(Story(site_id=site, name="Kari", email="kari@example.com", text="It helped.",
                    consent_publish=True, consent_text="You may show it.", lang="en"))
        feed = Feed(site_id=site, lang="", url="https://blog.example/feed", primed_at=now)
        s.add(feed)
        s.flush()
        letter = Letter(site_id=site, feed_id=feed.id, lang="", mode="digest", status="held",
                        due_at=now + timedelta(days=2), cursor=0, queued=0, all_queued=False,
                        created_at=now)
        s.add(letter)
        s.flush()
        s.add(FeedItem(feed_id=feed.id, key=hashlib.sha256(b"p1").hexdigest(), title="Rye",
                       link="https://blog.example/rye", summary="<p>Rye</p>",
                       letter_id=letter.id, queued_at=now))
        s.commit()
        return letter.id
    letter = query(add)
    return {"site_id": site, "widget_id": widget, "gift_id": gift, "subscriber_id": reader.id,
            "message_id": message, "letter_id": letter}


def pages(ids: dict) -> dict[str, str]:
    """The address of each readable site page; a new readable route needs one here."""
    base = f"/dashboard/sites/{ids['site_id']}"
    widget, gift = f"{base}/widgets/{ids['widget_id']}", f"{base}/gifts/{ids['gift_id']}"
    outbox = f"{base}/outbox/{ids['message_id']}"
    return {
        "site": base, "stats_page": f"{base}/stats", "stats_csv": f"{base}/stats.csv",
        "site_settings": f"{base}/settings", "new_widget": f"{base}/widgets/new",
        "edit_widget": widget, "widget_tests": f"{widget}/tests",
        "new_gift": f"{base}/gifts/new?kind=link", "gift": gift, "edit_gift": f"{gift}/edit",
        "mail_copy": f"{base}/emails", "mail_copy_preview": f"{base}/emails/preview.html",
        "referrals": f"{base}/referrals", "stories": f"{base}/stories",
        "contacts": f"{base}/contacts", "contact": f"{base}/contacts/{ids['subscriber_id']}",
        "outbox_list": f"{base}/outbox", "outbox_message": outbox,
        "outbox_html": f"{outbox}/html", "letters": f"{base}/letters",
        "letter_preview": f"{base}/letters/preview/{ids['letter_id']}",
        "letter_preview_html": f"{base}/letters/preview/{ids['letter_id']}.html",
        "letter_progress": f"{base}/letters/{ids['letter_id']}/progress",
    }


def readable(app, role: str) -> list[str]:
    """The site routes a role may open: those with a GET whose reading role it has."""
    gets = {r.endpoint.removeprefix("dashboard.") for r in app.url_map.iter_rules()
            if "GET" in r.methods}
    return sorted(e for e, (read, _) in NEED.items() if e in gets and RANK[role] >= RANK[read])


def targets(app, client, path: str) -> list[tuple[str, str, str]]:
    """(endpoint, method, where) of every form and every link on the page at `path` that
    leads to a site's dashboard route."""
    resp = client.get(path)
    assert resp.status_code == 200, (path, resp.status_code, resp.text[:300])
    parsed = Targets()
    parsed.feed(resp.text)
    urls = app.url_map.bind("127.0.0.1:5000")
    found = []
    for method, url in parsed.forms + [("GET", href) for href in parsed.links]:
        full = urlsplit(urljoin("http://127.0.0.1:5000" + path, url))
        if full.scheme not in ("http", "https") or full.netloc != "127.0.0.1:5000":
            continue  # mailto:, a blog's post, a public page's absolute link
        try:
            endpoint, args = urls.match(full.path, method)
        except RequestRedirect:
            continue
        except HTTPException as e:  # a form or link to nowhere is a bug of its own
            raise AssertionError(f"{path}: {method} {url} -> {e}") from None
        if endpoint.startswith("dashboard.") and "site_id" in args:
            found.append((endpoint.removeprefix("dashboard."), method, url))
    return found


def team_member(app, query, make_owner, make_client, site: str, email: str, role: str):
    """A logged-in client of a person invited to the site as `role` who joined."""
    make_owner(email)

    def join(s):
        site_row = s.get(Site, site)
        invited = members.invite(s, site_row, email, role, site_row.owner, "en",
                                 "news@blog.example")
        members.accept(s, invited, s.scalar(select(Owner).where(Owner.email == email)))
        s.commit()
    query(join)
    client = make_client()
    assert client.login(email).status_code == 302
    return client


def test_every_readable_page_has_an_address_here(app):
    routes = pages(dict.fromkeys(("site_id", "widget_id", "gift_id", "subscriber_id",
                                  "message_id", "letter_id"), "1"))
    assert set(readable(app, "editor")) == set(routes)
    assert set(readable(app, "viewer")) < set(routes)


# A form the owner sees on each page: hiding everything would not pass.
OWNER_SEES = {
    "site": {"toggle_widget", "reset_signups"}, "site_settings": {"site_settings"},
    "edit_widget": {"edit_widget", "delete_widget"}, "widget_tests": {"widget_tests"},
    "gift": {"withdraw_grant"}, "edit_gift": {"edit_gift"},
    "mail_copy": {"mail_copy"}, "referrals": {"delete_milestone", "add_milestone",
                                              "approve_referral", "decline_referral"},
    "stories": {"approve_story", "reject_story", "reply_story"},
    "contacts": {"bulk_contacts", "add_contact", "contacts_csv"},
    "contact": {"unsubscribe_contact", "resend_contact", "edit_contact", "erase_contact"},
    "outbox_list": {"outbox_retry"}, "outbox_message": {"outbox_retry"},
    "letters": {"check_feed", "remove_feed", "letter_plan", "send_letter", "cancel_letter",
                "letter_test", "letters"},
    "letter_preview": {"letter_test"},
}
# The forms a viewer reads greyed out, without a button to save them.
READ_ONLY = ("site_settings", "edit_widget", "edit_gift", "mail_copy", "letters")


@pytest.mark.parametrize("role", ["viewer", "editor"])
def test_a_member_sees_only_the_forms_and_links_their_role_can_use(
        app, ann, make_client, make_owner, make_site, query, role):
    ids = site_data(app, ann, make_client, make_site, query)
    routes = pages(ids)
    person = team_member(app, query, make_owner, make_client, ids["site_id"],
                         f"{role}@example.com", role)
    refused, missing = [], {}
    for endpoint in readable(app, role):
        for target, method, url in targets(app, person, routes[endpoint]):
            if RANK[role] < RANK[need(target, method)]:
                refused.append((endpoint, method, url))
        if endpoint in OWNER_SEES:
            seen = {t for t, _, _ in targets(app, ann, routes[endpoint])}
            if lacking := OWNER_SEES[endpoint] - seen:
                missing[endpoint] = lacking
    assert refused == []
    assert missing == {}
    for endpoint in READ_ONLY:
        parsed = Targets()
        parsed.feed(person.get(routes[endpoint]).text)
        greyed = endpoint in ("site_settings", "letters") or role == "viewer"
        assert (parsed.disabled > 0) == greyed, endpoint


@pytest.mark.browser
@pytest.mark.parametrize("role", ["viewer", "editor"])
def test_the_pages_a_member_reads_pass_axe(page: Page, demo, role):
    """The demo's dashboard pages (and a coupon gift's, with its forms) as a member sees
    them: greyed-out forms and their notes included. A page the role may not open is 403."""
    email = f"{role}@example.com"
    engine = create_engine(demo["db"])
    with Session(engine) as session:
        owner = create_owner(session, email, PASSWORD)
        session.add(SiteMember(site_id="demo-blog", email=email, owner_id=owner.id, role=role,
                               accepted_at=utcnow()))
        session.commit()
    engine.dispose()
    page.goto(f"{demo['base']}/dashboard/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/dashboard/")
    gift = "/dashboard/sites/demo-blog/gifts/g_demo_flour"
    found, read = {}, []
    for path in DASHBOARD_PAGES + [gift, f"{gift}/edit"]:
        status = page.goto(demo["base"] + path).status
        if status == 403:
            continue
        assert status == 200, path
        read.append(path)
        results = Axe().run(page).response["violations"]
        if problems := [(v["id"], v["help"], len(v["nodes"])) for v in results]:
            found[path] = problems
    assert found == {}
    assert {"/dashboard/sites/demo-blog/settings", "/dashboard/sites/demo-blog/emails",
            "/dashboard/sites/demo-blog/widgets/w_demo", f"{gift}/edit"} <= set(read)
