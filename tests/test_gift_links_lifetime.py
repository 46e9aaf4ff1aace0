"""A signed gift link's lifetime over real HTTP, a real database (SQLite and PostgreSQL)
and real e-mail: an expired link offers a fresh one or the way back, an hour-old ticket
leads back to the gift page, a withdrawn link stops at once, a used-up link refuses the
next ticket, and a fresh link by e-mail replaces the old one. The page, its file and
malformed links are tests/test_gift_links.py's."""
from __future__ import annotations

import pytest

from widget.models import utcnow

from .helpers.gifts import (TITLE, age_grant, assert_page, claimed, file_gift, forms, gift_link,
                            gift_signup, grant_row, grants_of, hrefs, make_widget, only_grant,
                            outbox, page_of, pdf, set_grant, sign, subscriber_grant, ticket)
from .helpers.mail import drain, path_of

pytestmark = pytest.mark.real_smtp  # the app sends its e-mail to the `smtp` fixture's server

EXPIRED = "This gift link has expired"
FRESH = "Send me a fresh link"


def test_an_expired_link_offers_a_fresh_one_or_the_way_back(app, client, make_site, query):
    site = make_site(double_opt_in=False)
    data = pdf()
    gift, gated = file_gift(query, site, mode="gated", data=data)
    first = make_widget(query, site, gift, "first")
    grant = subscriber_grant(client, query, site, gift, gated)
    page = page_of(app, query, grant.id)
    early = ticket(client, page)  # issued while the link worked, fetched after
    age_grant(query, grant.id, 8)
    for method in ("GET", "POST"):  # the POST makes no ticket either
        resp = client.request(method, page)
        assert_page(resp, 410, EXPIRED, "Gift links work for 7 days.",
                    "We can e-mail you a fresh link.", FRESH)
        assert forms(resp.text) == [f"{page}/fresh"] and "Location" not in resp.headers
    refused = client.get(early)
    assert_page(refused, 410, EXPIRED)
    assert data not in refused.content
    assert grant_row(query, grant.id).downloads == 0

    # Given first: back to the page it came from, only on one of the site's origins.
    for page_url, back in (("https://blog.example/posts/bread?x=1", True),
                           ("https://evil.example/phish", False),
                           ("http://blog.example/posts/bread", False), (None, False)):
        given = claimed(client, site, first, **({"page_url": page_url} if page_url else {}))
        page = path_of(given["page"])
        early = ticket(client, page)
        age_grant(query, grants_of(query, gift)[-1].id, 8)
        resp = client.get(page)
        text = assert_page(resp, 410, EXPIRED)
        assert forms(resp.text) == [] and FRESH not in text
        assert ("Back to the page" in text) is back and ("where you found it" in text) is back
        assert hrefs(resp.text) == ([page_url] if back else [])
        assert_page(client.get(early), 410, EXPIRED)
        assert_page(client.get(path_of(given["download"])), 410, EXPIRED)


def test_an_hour_old_ticket_leads_back_to_the_gift_page(app, client, make_site, query):
    site = make_site()
    data = pdf()
    gift, widget = file_gift(query, site, data=data)
    claimed(client, site, widget)
    grant = only_grant(query, gift)

    old = sign(app, "gift_file", [grant.id, grant.nonce, "0123456789abcdef"], 3601 + 60)
    resp = client.get(f"/gift/get/{old}")
    assert_page(resp, 410, "This download has timed out", "works for an hour",
                "Back to your gift")
    assert data not in resp.content
    [back] = hrefs(resp.text)
    assert back.startswith("/gift/") and "/get/" not in back
    assert_page(client.get(back), 200, TITLE)
    assert client.get(ticket(client, back)).content == data  # its button makes a new one

    wrong = sign(app, "gift_file", [grant.id, "not-the-nonce", "0123456789abcdef"], 4000)
    resp = client.get(f"/gift/get/{wrong}")
    assert_page(resp, 410, "This download has timed out")
    assert hrefs(resp.text) == []  # nobody's gift page
    assert client.request("HEAD", f"/gift/get/{old}").status_code == 410

    recent = sign(app, "gift_file", [grant.id, grant.nonce, "fedcba9876543210"], 3300)
    assert client.get(f"/gift/get/{recent}").content == data  # 55 minutes: still fine
    assert grant_row(query, grant.id).downloads == 2


def test_a_withdrawn_link_stops_at_once(client, make_site, query, smtp, worker):
    """Withdrawing kills a leaked link at once; its subscriber may have a fresh one sent
    to their own inbox (commit 81b748d), a gift given first to nobody gets nothing."""
    site = make_site(double_opt_in=False)
    data = pdf()
    gift, widget = file_gift(query, site, mode="gated", data=data)
    first = make_widget(query, site, gift, "first")
    assert gift_signup(client, site, "reader@example.com", widget).status_code == 200
    page = gift_link(smtp.mailbox.wait(1)[0])
    grant = only_grant(query, gift)
    started = ticket(client, page)
    assert client.get(started).content == data  # a download under way …
    unused = ticket(client, page)
    age_grant(query, grant.id, 1)  # the fresh-link cooldown is long over
    set_grant(query, grant.id, revoked_at=utcnow())

    for method in ("GET", "POST"):
        resp = client.request(method, page)
        assert_page(resp, 410, "This gift link was withdrawn", "Blog has withdrawn this link",
                    "We can e-mail you a fresh link.")
        assert forms(resp.text) == [f"{page}/fresh"] and "Location" not in resp.headers
    for path in (started, unused):  # … is not resumed, and a new one does not start
        resp = client.get(path)
        assert_page(resp, 410, "This gift link was withdrawn")
        assert data not in resp.content
        # HEAD answers as GET does: not even the file's name, type or size.
        head = client.request("HEAD", path)
        assert head.status_code == 410 and "Content-Disposition" not in head.headers, path
    assert grant_row(query, grant.id).downloads == 1

    assert_page(client.post(f"{page}/fresh"), 200, "If this gift is yours")
    mail = smtp.mailbox.wait(2)[1]  # only to the subscriber's own inbox
    assert mail["To"] == "reader@example.com"
    fresh = gift_link(mail)
    assert client.get(ticket(client, fresh)).content == data
    for path in (page, started, unused):  # the withdrawn links stay dead
        resp = client.get(path)
        assert resp.status_code == 410 and data not in resp.content

    # Given first, to nobody: withdrawn is the end of it.
    given = claimed(client, site, first, page_url="https://blog.example/p")
    lone = [g for g in grants_of(query, gift) if g.subscriber_id is None][0]
    early = ticket(client, path_of(given["page"]))
    age_grant(query, lone.id, 1)
    set_grant(query, lone.id, revoked_at=utcnow())
    resp = client.get(path_of(given["page"]))
    text = assert_page(resp, 410, "This gift link was withdrawn")
    assert forms(resp.text) == [] and hrefs(resp.text) == [] and FRESH not in text
    assert_page(client.get(early), 410, "This gift link was withdrawn")
    assert_page(client.post(path_of(given["page"]) + "/fresh"), 200, "If this gift is yours")
    drain(query)
    assert len(smtp.mailbox.messages) == 2
    assert grant_row(query, lone.id).revoked_at is not None


def test_a_used_up_link_refuses_the_next_ticket(client, make_site, query):
    site = make_site()
    data = pdf()
    gift, widget = file_gift(query, site, data=data, download_limit=2)
    page = path_of(claimed(client, site, widget, page_url="https://blog.example/p")["page"])
    first, second, third = (ticket(client, page) for _ in range(3))
    assert client.get(first).content == data
    assert client.get(second).content == data
    resp = client.get(third)
    assert_page(resp, 410, "This link's downloads are used up", "allows 2 downloads")
    assert data not in resp.content
    for method in ("GET", "POST"):
        resp = client.request(method, page)
        assert_page(resp, 410, "This link's downloads are used up", "Back to the page")
        assert forms(resp.text) == [] and "Location" not in resp.headers
    assert client.get(second).content == data  # the last download may still be resumed
    assert grant_row(query, only_grant(query, gift).id).downloads == 2


def test_a_fresh_link_by_email_replaces_the_old_one(client, make_site, query, smtp, worker):
    site = make_site(double_opt_in=False)
    data = pdf()
    gift, gated = file_gift(query, site, mode="gated", data=data)
    first = make_widget(query, site, gift, "first")
    assert gift_signup(client, site, "reader@example.com", gated).status_code == 200
    old = gift_link(smtp.mailbox.wait(1)[0])
    grant = only_grant(query, gift)
    old_ticket = ticket(client, old)
    age_grant(query, grant.id, 8)
    assert_page(client.get(old), 410, EXPIRED, FRESH)

    sent = client.post(f"{old}/fresh")
    assert_page(sent, 200, "Check your inbox", "If this gift is yours, a fresh link is on its way")
    mail = smtp.mailbox.wait(2)[1]
    assert mail["To"] == "reader@example.com"
    assert mail["Subject"] == f"Your gift from Blog: {TITLE}"
    new = gift_link(mail)
    assert new != old
    assert_page(client.get(new), 200, TITLE, "for 5 more downloads")
    assert client.get(ticket(client, new)).content == data

    for path in (old, old_ticket):  # every older link now points to the newer one
        resp = client.get(path)
        assert_page(resp, 410, "There is a newer link to this gift",
                    "A fresh link was sent after this one")
        assert data not in resp.content
    again = [client.post(f"{old}/fresh"), client.post(f"{new}/fresh")]  # within the cooldown
    assert [r.text for r in again] == [sent.text, sent.text]
    drain(query)
    assert len(smtp.mailbox.messages) == 2
    assert [m.kind for m in outbox(query)] == ["welcome", "gift"]
    assert_page(client.get(new), 200, TITLE)  # the fresh link was not replaced again

    # A gift given first has nobody to e-mail: the same answer, and nothing happens.
    nobody = claimed(client, site, first)
    lone = [g for g in grants_of(query, gift) if g.subscriber_id is None][0]
    age_grant(query, lone.id, 8)
    answer = client.post(f"{path_of(nobody['page'])}/fresh")
    assert answer.status_code == 200 and answer.text == sent.text
    assert grant_row(query, lone.id).nonce == lone.nonce
    drain(query)
    assert len(smtp.mailbox.messages) == 2
