"""Stories and social proof over real HTTP, a real SMTP server and the real outbox worker,
on SQLite and PostgreSQL: a story is checked and kept for moderation, its teller thanked
once (a few times a day at most per mailbox), markup always comes back as text, only
approved stories whose teller allowed it are ever shown, and the subscriber count is
exact or absent."""
from __future__ import annotations

from html import unescape

import pytest
import requests

from widget.giveback import stories as giveback
from widget.models import Story

from .helpers.gifts import assert_page, at_once, code_of, drain_due, gift_link, make_gift, plain
from .helpers.giveback import (ORIGIN, add_widget, config, confirm, grants_for, join, mails_to,
                               member, outbox_rows, row, set_site, stories, tell,
                               unsubscribe_path)

pytestmark = pytest.mark.real_smtp  # the app sends its e-mail to the `smtp` fixture's server

THANKS_SUBJECT = "Thank you for your story 💛"
LONG = ("The sourdough guide saved my weekend bakes and my family now asks for bread "
        "every single Sunday morning")
FIRST_WORDS = "“The sourdough guide saved my weekend bakes and my family now asks…”"
SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"


def _error(resp) -> tuple:
    return resp.status_code, resp.json()["error"]["code"]


def _decide(query, story_id: int, status: str) -> None:
    query(lambda s: giveback.decide(s, s.get(Story, story_id), status))


def _raw_html(mail) -> str:
    return mail.get_body(("html",)).get_content()


# --- the API ---------------------------------------------------------------------------------

def test_a_story_is_kept_for_moderation(client, make_site, query):
    site = make_site()
    widget = add_widget(query, site, "story")
    resp = tell(client, site, widget=widget, rating=5, lang="nb", email="kari@example.com",
                page_url=f"{ORIGIN}/bread", headers={"Origin": ORIGIN})
    assert resp.status_code == 201 and resp.json() == {"ok": True}
    assert resp.headers["Cache-Control"] == "no-store"
    assert resp.headers["Access-Control-Allow-Origin"] == ORIGIN
    (story,) = stories(query, site)
    assert (story.status, story.name, story.rating, story.consent_publish, story.widget_id,
            story.lang, story.email) == ("pending", "Kari", 5, True, widget, "nb",
                                         "kari@example.com")
    assert story.consent_text == "Dere kan vise historien min og fornavnet mitt på nettstedet."
    assert tell(client, site, text="Two\nlines\twith a tab", rating="3").status_code == 201
    assert tell(client, site, text="x" * 5000, rating=None, consent=False).status_code == 201
    assert [s.rating for s in stories(query, site)] == [5, 3, None]


def test_bad_stories_are_refused_and_nothing_is_kept(client, make_site, query):
    site = make_site()
    newsletter = add_widget(query, site, "newsletter")
    proof = add_widget(query, site, "proof")
    refused = [
        ({"name": ""}, 422, "missing_name"), ({"name": None}, 422, "missing_name"),
        ({"name": "   "}, 422, "missing_name"), ({"text": ""}, 422, "missing_story"),
        ({"text": " \n "}, 422, "missing_story"), ({"text": None}, 422, "missing_story"),
        ({"rating": 0}, 422, "invalid_rating"), ({"rating": 6}, 422, "invalid_rating"),
        ({"rating": "x"}, 422, "invalid_rating"), ({"rating": True}, 422, "invalid_rating"),
        ({"rating": -1}, 422, "invalid_rating"), ({"rating": [5]}, 422, "invalid_rating"),
        ({"email": "not-an-address"}, 422, "invalid_email"),
        ({"email": "kari@"}, 422, "invalid_email"),
        ({"text": "x" * 5001}, 422, "too_long"), ({"name": "K" * 101}, 422, "too_long"),
        ({"name": "Kari\x00"}, 422, "invalid_characters"),
        ({"name": "Kari\r\nBcc: x@example.com"}, 422, "invalid_characters"),
        ({"text": "bad \x07 bell"}, 422, "invalid_characters"),
        ({"text": "bad \x1b[31m escape"}, 422, "invalid_characters"),
        ({"widget": newsletter}, 422, "unknown_widget"), ({"widget": proof}, 422, "unknown_widget"),
        ({"widget": "w_nope"}, 422, "unknown_widget"),
        ({"consent": "yes"}, 400, "invalid_type"), ({"text": 5}, 400, "invalid_type"),
    ]
    for body, status, code in refused:
        resp = tell(client, site, **body)
        assert _error(resp) == (status, code), (body, resp.status_code, resp.text)
    evil = tell(client, site, headers={"Origin": "https://evil.example"})
    assert _error(evil) == (403, "origin_not_allowed")
    assert "Access-Control-Allow-Origin" not in evil.headers
    trapped = tell(client, site, website="http://spam.example", email="kari@example.com")
    assert trapped.status_code == 201 and trapped.json() == {"ok": True}  # the honeypot
    assert stories(query, site) == [] and outbox_rows(query) == []


def test_a_plain_form_gets_a_thank_you_page(client, make_site, query):
    site = make_site()
    widget = add_widget(query, site, "story")
    resp = client.post(f"/api/v1/sites/{site}/stories",
                       data={"name": "Kari", "text": "Lovely bread.", "rating": "4",
                             "consent": "on", "widget": widget, "page_url": f"{ORIGIN}/bread"})
    text = assert_page(resp, 200, "Thank you for your story! 💛 We read every one.")
    assert f'href="{ORIGIN}/bread"' in resp.text and "Traceback" not in text
    (story,) = stories(query, site)
    assert (story.rating, story.consent_publish, story.status) == (4, True, "pending")
    bad = client.post(f"/api/v1/sites/{site}/stories", data={"name": "Kari", "text": ""})
    assert bad.status_code == 422 and bad.headers["Content-Type"].startswith("text/html")
    assert len(stories(query, site)) == 1


# --- the thank-you and the reply ---------------------------------------------------------------

def test_the_thank_you_names_the_story_and_carries_the_gift(client, make_site, query, smtp,
                                                            worker):
    site = make_site()
    gift = make_gift(query, site, "coupon", title="A free loaf", codes=["LOAF-2345"])
    set_site(query, site, story_gift_id=gift)
    assert tell(client, site, text=LONG, email="kari@example.com").status_code == 201
    assert tell(client, site, name="Ola", text="Just for you.", consent=False,
                email="ola@example.com").status_code == 201
    assert tell(client, site, name="Per", text="No address given.").status_code == 201
    smtp.mailbox.wait(2)
    drain_due(query)
    (kari,) = mails_to(smtp, "kari@example.com")
    assert kari["Subject"] == THANKS_SUBJECT and kari["List-Unsubscribe"] is None
    assert kari["List-Unsubscribe-Post"] is None
    body = plain(kari)
    assert "Hi Kari," in body and FIRST_WORDS in body
    assert "You allowed us to show it on Blog: we will, once we have read it." in body
    assert "Your code: LOAF-2345" in body
    assert_page(client.get(gift_link(kari)), 200, "LOAF-2345")
    (grant,) = grants_for(query, None, gift)
    assert code_of(query, grant.id) == "LOAF-2345"
    assert stories(query, site)[0].grant_id == grant.id
    (ola,) = mails_to(smtp, "ola@example.com")  # the code ran out: thanked without it
    assert "Hi Ola," in plain(ola) and "“Just for you.”" in plain(ola)
    assert "You didn't ask us to publish it, so it stays between us." in plain(ola)
    assert "Your code" not in plain(ola) and "/gift/" not in plain(ola)
    assert len(smtp.mailbox.messages) == 2  # Per gave no address: nothing to send
    assert [m.kind for m in outbox_rows(query)] == ["story_thanks"] * 2


def test_a_mailbox_gets_a_few_thank_yous_a_day_at_most(app, client, make_site, query, smtp,
                                                       worker):
    site = make_site()
    other = make_site(name="Shop", origins=("https://shop.example",))
    limit = app.config["MAIL_PER_ADDRESS_DAY"]
    addresses = ["victim@example.com", "victim+1@example.com", "Victim+2@example.com"]
    for n in range(limit + 4):
        resp = tell(client, site if n % 2 else other, email=addresses[n % 3])
        assert resp.status_code == 201  # the same answer: nothing tells the sender
    assert len(stories(query, site)) + len(stories(query, other)) == limit + 4
    drain_due(query)
    assert len(outbox_rows(query, "story_thanks")) == limit
    assert len(smtp.mailbox.messages) == limit


def test_stories_sent_at_once_still_get_a_few_thank_yous_at_most(app, client, make_site,
                                                                 query, smtp, worker):
    site = make_site()
    limit = app.config["MAIL_PER_ADDRESS_DAY"]
    url = f"{client.url}/api/v1/sites/{site}/stories"
    answers = at_once(lambda n: requests.post(url, timeout=60, json={
        "name": "Kari", "text": f"Story {n}", "email": "victim@example.com"}), list(range(20)))
    assert [r.status_code for r in answers] == [201] * 20
    drain_due(query)
    assert len(outbox_rows(query, "story_thanks")) <= limit
    assert len(smtp.mailbox.messages) <= limit


def test_a_reply_is_mailed_as_text(app, client, make_site, query, smtp, worker):
    site = make_site()
    assert tell(client, site, email="kari@example.com").status_code == 201
    assert tell(client, site, name="Per").status_code == 201  # no address
    kari, per = stories(query, site)
    assert query(lambda s: giveback.reply(s, s.get(Story, kari.id), "Thanks! <b>"))
    assert not query(lambda s: giveback.reply(s, s.get(Story, per.id), "Thanks!"))
    replies = smtp.mailbox.wait(2)
    drain_due(query)
    (mail,) = [m for m in replies if m["Subject"] == "A reply from Blog"]
    assert mail["List-Unsubscribe"] is None
    assert "Thanks! <b>" in plain(mail) and "Hi Kari," in plain(mail)
    html = _raw_html(mail)
    assert "Thanks! &lt;b&gt;" in html and "<b>" not in html
    assert len(smtp.mailbox.messages) == 2


# --- shown only as text, only with consent ---------------------------------------------------

def test_markup_in_a_story_comes_back_as_text(app, client, make_site, query, smtp, worker):
    site = make_site("ann@example.com")
    proof = add_widget(query, site, "proof", style="list")
    name, text = f"Kari {SCRIPT}", f"{IMG} was great {SCRIPT} & more"
    assert tell(client, site, name=name, text=text, rating=4,
                email="kari@example.com").status_code == 201
    (story,) = stories(query, site)
    assert (story.name, story.text) == (name, text)  # kept as typed
    _decide(query, story.id, "approved")

    (shown,) = [w for w in config(client, site)["widgets"] if w["id"] == proof]
    assert shown["stories"] == [{"name": name, "text": text, "rating": 4}]

    (mail,) = smtp.mailbox.wait(1)
    html = _raw_html(mail)
    assert "<script" not in html and "<img" not in html, html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "&lt;img src=x" in html
    assert f"Hi {name}," in plain(mail)

    assert client.login("ann@example.com").status_code == 302
    page = client.get(f"/dashboard/sites/{site}/stories?status=approved")
    if page.status_code != 404:  # the dashboard's stories page is not built yet when 404
        assert page.status_code == 200
        assert "<script>alert" not in page.text and "<img src=x" not in page.text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
        assert text in unescape(page.text)


def test_only_approved_stories_told_with_consent_are_shown(client, make_site, query):
    site = make_site()
    proof = add_widget(query, site, "proof")
    story_widget = add_widget(query, site, "story")
    told = {"shown": (True, "approved"), "private": (False, "approved"),
            "waiting": (True, "pending"), "refused": (True, "rejected"),
            "taken back": (True, "pending")}
    for what, (consent, _status) in told.items():
        assert tell(client, site, text=f"Story {what}.", consent=consent).status_code == 201
    ids = {s.text: s.id for s in stories(query, site)}
    for what, (_consent, status) in told.items():
        if status != "pending":
            _decide(query, ids[f"Story {what}."], status)
    _decide(query, ids["Story taken back."], "approved")
    _decide(query, ids["Story taken back."], "rejected")

    for lang in ("en", "nb"):
        body = config(client, site, lang)
        (shown,) = [w for w in body["widgets"] if w["id"] == proof]
        assert [s["text"] for s in shown["stories"]] == ["Story shown."]
        (form,) = [w for w in body["widgets"] if w["id"] == story_widget]
        assert "stories" not in form
    raw = client.get(f"/api/v1/sites/{site}/widgets?url={ORIGIN}/").text
    for what in ("private", "waiting", "refused", "taken back"):
        assert f"Story {what}." not in raw, what
    other = make_site(name="Shop", origins=("https://shop.example",))
    assert "Story shown." not in client.get(f"/api/v1/sites/{other}/widgets").text


# --- the subscriber count ---------------------------------------------------------------------

def test_the_subscriber_count_is_exact_or_absent(app, client, make_site, query):
    site = make_site()
    set_site(query, site, count_threshold=3)
    member(app, client, query, site, "one@example.com")
    two = member(app, client, query, site, "two@example.com")
    assert join(client, site, "three@example.com").status_code == 200  # pending
    gone = member(app, client, query, site, "gone@example.com")
    assert client.post(unsubscribe_path(app, gone)).status_code == 200
    assert config(client, site)["count"] is None  # 2 confirmed: below the threshold

    confirm(app, client, query, "three@example.com")
    assert config(client, site)["count"] == 3
    assert config(client, site, "nb")["count"] == 3
    assert client.post(unsubscribe_path(app, two)).status_code == 200
    assert config(client, site)["count"] is None
    assert row(query, "two@example.com").status == "unsubscribed"
    set_site(query, site, count_threshold=None)
    member(app, client, query, site, "four@example.com")
    assert config(client, site)["count"] is None  # off: never shown

