"""The gift ledger and its e-mails with a real SMTP server (aiosmtpd), the real outbox
worker and real databases: gated gifts released by the confirmation, gift e-mails in
the subscriber's language, coupon codes, the follow-up and its ratings, and a gift
given first joining the ledger of the person who signs up later."""
from __future__ import annotations

from datetime import timedelta
from html import escape

import pytest

from widget.core.rawsql import as_datetime
from widget.models import utcnow

from .helpers.gifts import (TITLE, age_grant, assert_page, claimed, code_of, drain_due,
                            file_gift, forms, gift_link, gift_row, gift_signup, grant_row,
                            grants_of, html_part, make_due, make_gift, make_widget, only_grant,
                            outbox, page_of, pdf, plain, rating_link, set_grant, sign, ticket)
from .helpers.mail import flip, link, path_of, subscriber
from .helpers.smtp import links_in

pytestmark = pytest.mark.real_smtp  # the app sends its e-mail to the `smtp` fixture's server

# What a reader sees in each language: the confirmation's promise, the gift page while
# waiting, the welcome e-mail's subject and its button, the gift page's first line.
WORDS = {
    "en": (f"As soon as you confirm, “{TITLE}” is yours.", "Confirm your address first",
           "Welcome to Blog 🎉", "Download your gift", "A gift from Blog"),
    "nb": (f"Så snart du bekrefter, får du «{TITLE}».", "Bekreft adressen først",
           "Velkommen til Blog 🎉", "Last ned gaven", "En gave fra Blog"),
    "de": (f"Sobald Sie bestätigen, gehört „{TITLE}“ Ihnen.",
           "Bitte zuerst die Adresse bestätigen", "Willkommen bei Blog 🎉",
           "Geschenk herunterladen", "Ein Geschenk von Blog"),
    "nl": (f"Zodra je bevestigt, is “{TITLE}” van jou.", "Bevestig eerst je adres",
           "Welkom bij Blog 🎉", "Download je cadeau", "Een cadeau van Blog"),
}


def _kinds(query) -> list[tuple[str, str]]:
    return [(m.kind, m.status) for m in outbox(query)]


@pytest.mark.parametrize("lang", list(WORDS))
def test_a_gated_gift_waits_for_the_confirmation(app, client, make_site, query, smtp, worker,
                                                 lang):
    promise, waiting, welcome_subject, button, from_line = WORDS[lang]
    site = make_site()
    data = pdf()
    gift, widget = file_gift(query, site, mode="gated", data=data)
    assert gift_signup(client, site, "reader@example.com", widget, lang=lang).status_code == 200
    grant = only_grant(query, gift)
    assert grant.released_at is None and grant.expires_at is None
    assert grant.subscriber_id == subscriber(query, "reader@example.com").id

    confirm_mail = smtp.mailbox.wait(1)[0]
    assert promise in plain(confirm_mail) and promise in html_part(confirm_mail)
    assert not [l for l in links_in(confirm_mail) if "/gift/" in l]  # nothing to take yet
    page = page_of(app, query, grant.id)
    for method in ("GET", "POST"):
        resp = client.request(method, page)
        assert_page(resp, 403, waiting)
        assert forms(resp.text) == [] and "Location" not in resp.headers

    confirm = link(confirm_mail, "confirm")
    assert client.get(confirm).status_code == 200
    assert grant_row(query, grant.id).released_at is None  # the GET changes nothing
    assert client.post(confirm).status_code == 200
    released = grant_row(query, grant.id)
    assert released.released_at is not None
    assert abs(as_datetime(released.expires_at) - as_datetime(released.released_at)
               - timedelta(days=7)) < timedelta(seconds=1)

    welcome = smtp.mailbox.wait(2)[1]
    assert welcome["Subject"] == welcome_subject
    assert button in plain(welcome) and button in html_part(welcome)
    assert TITLE in plain(welcome)
    gift_page = gift_link(welcome)
    assert_page(client.get(gift_page), 200, TITLE, from_line)
    assert client.get(ticket(client, gift_page)).content == data
    assert grant_row(query, grant.id).downloads == 1
    drain_due(query)
    assert _kinds(query) == [("confirm", "sent"), ("welcome", "sent")]
    assert len(smtp.mailbox.messages) == 2


def test_without_double_opt_in_the_gift_comes_at_once_and_once(client, make_site, query,
                                                               smtp, worker):
    site = make_site(double_opt_in=False)
    data = pdf()
    gift, widget = file_gift(query, site, mode="gated", data=data)
    assert gift_signup(client, site, "reader@example.com", widget).status_code == 200
    grant = only_grant(query, gift)
    assert grant.released_at is not None
    welcome = smtp.mailbox.wait(1)[0]
    assert welcome["Subject"] == "Welcome to Blog 🎉" and "Download your gift" in plain(welcome)
    assert client.get(ticket(client, gift_link(welcome))).content == data

    for _ in range(3):  # the same person, the same widget, again and again
        assert gift_signup(client, site, "reader@example.com", widget).status_code == 200
    drain_due(query)
    assert len(grants_of(query, gift)) == 1 and gift_row(query, gift).given_count == 1
    assert len(smtp.mailbox.messages) == 1  # the welcome just sent is enough

    age_grant(query, grant.id, 1 / 24)  # an hour later: a lost e-mail may be sent again
    for _ in range(3):
        assert gift_signup(client, site, "reader@example.com", widget).status_code == 200
    again = smtp.mailbox.wait(2)[1]
    drain_due(query)
    assert len(smtp.mailbox.messages) == 2
    assert again["Subject"] == f"Your gift from Blog: {TITLE}"
    # The same grant and nonce (only the signing time differs): nothing was renewed.
    assert gift_link(again).split(".")[0] == gift_link(welcome).split(".")[0]
    assert_page(client.get(gift_link(welcome)), 200, TITLE)
    assert [m.kind for m in outbox(query)] == ["welcome", "gift"]
    assert len(grants_of(query, gift)) == 1 and gift_row(query, gift).given_count == 1


def test_a_second_gift_for_a_confirmed_subscriber_comes_by_email(client, make_site, query,
                                                                 smtp, worker):
    site = make_site()
    first, widget_1 = file_gift(query, site, mode="gated")
    data = pdf()
    second, widget_2 = file_gift(query, site, mode="gated", data=data,
                                 title="Sourdough in 7 days")
    assert gift_signup(client, site, "reader@example.com", widget_1).status_code == 200
    assert client.post(link(smtp.mailbox.wait(1)[0], "confirm")).status_code == 200
    smtp.mailbox.wait(2)

    assert gift_signup(client, site, "reader@example.com", widget_2).status_code == 200
    mail = smtp.mailbox.wait(3)[2]
    assert mail["Subject"] == "Your gift from Blog: Sourdough in 7 days"
    assert "Sourdough in 7 days" in plain(mail) and "Download your gift" in plain(mail)
    assert client.get(ticket(client, gift_link(mail))).content == data
    reader = subscriber(query, "reader@example.com")
    assert [g.subscriber_id for g in grants_of(query, first) + grants_of(query, second)] == \
        [reader.id, reader.id]
    assert only_grant(query, second).released_at is not None
    drain_due(query)
    assert [m.kind for m in outbox(query)] == ["confirm", "welcome", "gift"]


def test_a_coupon_code_is_in_the_email_on_the_page_and_in_the_ledger(client, make_site, query,
                                                                      smtp, worker):
    site = make_site(double_opt_in=False)
    gift = make_gift(query, site, "coupon", title="10 % off your first loaf",
                     codes=["BREAD-2345", "BREAD-6789"])
    widget = make_widget(query, site, gift, "gated")
    for n, address in enumerate(("ann@example.com", "bob@example.com"), start=1):
        assert gift_signup(client, site, address, widget).status_code == 200
        smtp.mailbox.wait(n)
    for address in ("ann@example.com", "bob@example.com"):
        [mail] = smtp.mailbox.to(address)
        grant = [g for g in grants_of(query, gift)
                 if g.subscriber_id == subscriber(query, address).id][0]
        code = code_of(query, grant.id)
        assert code in ("BREAD-2345", "BREAD-6789")
        assert f"Your code: {code}" in plain(mail) and f"Your code: {code}" in html_part(mail)
        page = gift_link(mail)
        resp = client.get(page)
        assert_page(resp, 200, "10 % off your first loaf", "Your code", code)
        assert forms(resp.text) == []  # a code, not a download
        age_grant(query, grant.id, 30)
        assert_page(client.get(page), 200, code)  # a code stays readable
    assert {code_of(query, g.id) for g in grants_of(query, gift)} == {"BREAD-2345",
                                                                      "BREAD-6789"}


def test_the_follow_up_asks_later_and_records_the_rating(client, make_site, query, smtp,
                                                         worker):
    site = make_site()
    gift, widget = file_gift(query, site, mode="gated", followup_days=3)
    assert gift_signup(client, site, "reader@example.com", widget).status_code == 200
    assert client.post(link(smtp.mailbox.wait(1)[0], "confirm")).status_code == 200
    smtp.mailbox.wait(2)
    drain_due(query)
    grant = only_grant(query, gift)
    [followup] = [m for m in outbox(query) if m.kind == "followup"]
    due = as_datetime(followup.next_attempt_at)
    assert abs(due - as_datetime(grant.released_at) - timedelta(days=3)) < timedelta(minutes=1)
    assert followup.status == "queued" and followup.grant_id == grant.id
    assert as_datetime(grant.followup_at) == due
    assert len(smtp.mailbox.messages) == 2  # nothing now

    make_due(query, followup.id)
    mail = smtp.mailbox.wait(3)[2]
    assert mail["Subject"] == f"How did you like “{TITLE}”?"
    rates = [path_of(l) for l in links_in(mail) if "/rate/" in l]
    assert [r.rsplit("?", 1)[1] for r in rates] == [f"r={n}" for n in range(1, 6)]
    for method in ("GET", "HEAD", "GET"):  # a scanner following every link records nothing
        assert client.request(method, rates[3]).status_code == 200
    form = client.get(rates[3])
    assert_page(form, 200, f"How did you like “{TITLE}”?")
    assert 'value="4" checked' in form.text
    assert grant_row(query, grant.id).rating is None

    comment = "Loved it <script>alert(1)</script> 🍞🔥\nThanks!"
    action = forms(form.text)[0]
    assert_page(client.post(action, data={"rating": "9", "comment": "x"}), 422,
                "Please pick a number from 1 to 5.")
    assert grant_row(query, grant.id).rating is None
    done = client.post(action, data={"rating": "4", "comment": comment})
    assert_page(done, 200, "Thank you! 💛", "Blog reads every answer")
    rated = grant_row(query, grant.id)
    assert (rated.rating, rated.comment) == (4, comment) and rated.rated_at is not None
    shown = client.get(rates[0]).text  # the form again: the comment as text, not markup
    assert escape("<script>alert(1)</script>", quote=False) in shown
    assert "<script>alert(1)" not in shown and "🍞🔥" in shown
    drain_due(query)
    assert len(smtp.mailbox.messages) == 3


def test_follow_ups_with_nothing_left_to_ask_are_skipped(app, client, make_site, query, smtp,
                                                         worker):
    site = make_site(double_opt_in=False)
    gift, widget = file_gift(query, site, mode="gated", followup_days=3)
    people = ["rated@example.com", "revoked@example.com", "left@example.com", "kept@example.com"]
    for n, address in enumerate(people, start=1):
        assert gift_signup(client, site, address, widget).status_code == 200
        smtp.mailbox.wait(n)
    drain_due(query)
    grant = {a: g for a in people for g in grants_of(query, gift)
             if g.subscriber_id == subscriber(query, a).id}

    rate = rating_link(app, query, grant["rated@example.com"].id, 5)
    assert client.post(rate.split("?")[0], data={"rating": "5"}).status_code == 200
    set_grant(query, grant["revoked@example.com"].id, revoked_at=utcnow())
    [welcome] = smtp.mailbox.to("left@example.com")
    assert client.post(link(welcome, "unsubscribe")).status_code == 200

    followups = {m.subscriber_id: m for m in outbox(query) if m.kind == "followup"}
    assert len(followups) == 4
    for m in followups.values():
        make_due(query, m.id)
    mail = smtp.mailbox.wait(5)[4]
    drain_due(query)
    assert mail["To"] == "kept@example.com" and len(smtp.mailbox.messages) == 5
    status = {m.subscriber_id: m.status for m in outbox(query) if m.kind == "followup"}
    assert {a: status[subscriber(query, a).id] for a in people} == {
        "rated@example.com": "skipped", "revoked@example.com": "skipped",
        "left@example.com": "skipped", "kept@example.com": "sent"}


def test_a_gift_given_first_joins_the_ledger_of_who_signs_up(app, client, make_site, query,
                                                             smtp, worker):
    site = make_site(double_opt_in=False)
    data = pdf()
    gift, first = file_gift(query, site, data=data)
    other_site = make_site("eve@example.com", "Eve's shop", origins=("https://shop.example",))
    other_gift, other_first = file_gift(query, other_site)
    mine = claimed(client, site, first)
    theirs = claimed(client, other_site, other_first)
    spare = claimed(client, site, first)

    forged = {"changed": flip(mine["token"], 2), "other site": theirs["token"],
              "other purpose": sign(app, "rating", [only_grant(query, other_gift).id, 0]),
              "made up": sign(app, "gift", [grants_of(query, gift)[1].id, gift, 0, "guess"]),
              "garbage": "nonsense"}
    for n, (why, value) in enumerate(forged.items()):
        resp = gift_signup(client, site, f"reader{n}@example.com", grant=value)
        assert resp.status_code == 200 and resp.json() == {"ok": True}, why
    everyone = grants_of(query, gift) + grants_of(query, other_gift)
    assert all(g.subscriber_id is None for g in everyone)

    assert gift_signup(client, site, "ann@example.com", grant=mine["token"]).status_code == 200
    ann = subscriber(query, "ann@example.com")
    joined = [g for g in grants_of(query, gift) if g.subscriber_id == ann.id]
    assert [g.id for g in joined] == [grants_of(query, gift)[0].id]  # the one Ann was given
    assert_page(client.get(path_of(mine["page"])), 200, TITLE)  # the link still works
    assert client.get(path_of(mine["download"])).content == data
    # Someone else sending the same token takes nothing from Ann.
    assert gift_signup(client, site, "bob@example.com", grant=mine["token"]).status_code == 200
    assert grant_row(query, joined[0].id).subscriber_id == ann.id
    # Nor can Ann take a second copy of the same gift onto her ledger.
    assert gift_signup(client, site, "ann@example.com", grant=spare["token"]).status_code == 200
    assert [g.subscriber_id for g in grants_of(query, gift)].count(ann.id) == 1
    assert gift_row(query, gift).given_count == 2 and gift_row(query, other_gift).given_count == 1
    drain_due(query)
    assert {m.kind for m in outbox(query)} == {"welcome"}
