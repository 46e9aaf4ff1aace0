"""E-mail end to end over real HTTP and a real SMTP server: double opt-in in every
language, GET that changes nothing, POST that confirms, the thank-you, and leaving."""
from __future__ import annotations

from html import unescape

import pytest
from sqlalchemy import select

from widget.models import OutboxMessage, StatusChange, Subscriber

from .helpers.mail import BASE, path_of
from .helpers.smtp import links_in

pytestmark = pytest.mark.real_smtp  # the app sends its e-mail to the `smtp` fixture's server


def status_of(query, email):
    return query(lambda s: s.scalar(select(Subscriber.status).where(Subscriber.email == email)))


CONFIRMED_TITLE = {"en": "You're subscribed 🎉", "nb": "Du er påmeldt 🎉",
                   "de": "Sie sind angemeldet 🎉", "nl": "Je bent aangemeld 🎉"}
WELCOME_SUBJECT = {"en": "Welcome to Bäckerei Ørsted 🎉", "nb": "Velkommen til Bäckerei Ørsted 🎉",
                   "de": "Willkommen bei Bäckerei Ørsted 🎉", "nl": "Welkom bij Bäckerei Ørsted 🎉"}
GREETING = {"en": "Hi Åse 🍞,", "nb": "Hei Åse 🍞,", "de": "Hallo Åse 🍞,", "nl": "Hoi Åse 🍞,"}


@pytest.mark.parametrize("lang", ["en", "nb", "de", "nl"])
def test_double_opt_in_in_each_language(lang, client, make_site, smtp, worker, query):
    site = make_site(name="Bäckerei Ørsted")
    email = f"reader-{lang}@example.com"
    resp = client.post(f"/api/v1/sites/{site}/subscriptions",
                       json={"email": email, "name": "Åse 🍞", "consent": True, "lang": lang})
    assert resp.status_code == 200 and resp.json() == {"ok": True}
    assert status_of(query, email) == "pending"

    (mail,) = smtp.mailbox.wait(1)
    assert mail["To"].addresses[0].addr_spec == email
    assert mail["Content-Language"] == lang
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    text = mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    assert GREETING[lang] in text and "Bäckerei Ørsted" in text
    assert GREETING[lang] in html and f'lang="{lang}"' in html
    confirm = next(link for link in links_in(mail) if "/confirm/" in link)

    page = client.get(path_of(confirm))  # what a person or a scanner sees: a button
    assert page.status_code == 200 and 'method="post"' in page.text
    assert status_of(query, email) == "pending"

    done = client.post(path_of(confirm))
    assert done.status_code == 200 and CONFIRMED_TITLE[lang] in unescape(done.text)
    assert status_of(query, email) == "confirmed"

    welcome = smtp.mailbox.wait(2)[1]
    assert welcome["Subject"] == WELCOME_SUBJECT[lang]
    assert GREETING[lang] in welcome.get_body(("plain",)).get_content()
    assert welcome["Message-ID"] != mail["Message-ID"]
    assert "/confirm/" not in welcome.get_body(("plain",)).get_content()


def test_confirming_twice_sends_one_welcome(client, make_site, smtp, worker, query):
    site = make_site()
    client.post(f"/api/v1/sites/{site}/subscriptions",
                json={"email": "twice@example.com", "consent": True})
    confirm = next(l for l in links_in(smtp.mailbox.wait(1)[0]) if "/confirm/" in l)
    for _ in range(3):
        assert client.post(path_of(confirm)).status_code == 200
    smtp.mailbox.wait(2)
    history = query(lambda s: s.scalars(select(StatusChange.status)
                                        .order_by(StatusChange.id)).all())
    assert history == ["pending", "confirmed"]
    kinds = query(lambda s: s.scalars(select(OutboxMessage.kind).order_by(OutboxMessage.id)).all())
    assert kinds == ["confirm", "welcome"]


def test_scanner_opening_every_link_changes_nothing(client, make_site, smtp, worker, query):
    site = make_site()
    client.post(f"/api/v1/sites/{site}/subscriptions",
                json={"email": "scanned@example.com", "consent": True})
    mail = smtp.mailbox.wait(1)[0]
    links = links_in(mail)
    assert any("/confirm/" in l for l in links) and any("/unsubscribe/" in l for l in links)
    for link in links:
        for _ in range(2):
            assert client.get(path_of(link)).status_code == 200
            assert client.request("HEAD", path_of(link)).status_code == 200
    assert status_of(query, "scanned@example.com") == "pending"
    assert query(lambda s: s.scalars(select(StatusChange.status)).all()) == ["pending"]


def test_one_click_unsubscribe_with_a_bare_post(client, make_site, smtp, worker, query):
    import requests

    site = make_site(double_opt_in=False)
    client.post(f"/api/v1/sites/{site}/subscriptions",
                json={"email": "leaver@example.com", "consent": True})
    welcome = smtp.mailbox.wait(1)[0]
    assert welcome["Subject"].startswith("Welcome")
    assert status_of(query, "leaver@example.com") == "confirmed"
    header = welcome["List-Unsubscribe"]
    assert header.startswith(f"<{BASE}/unsubscribe/") and header.endswith(">")
    # What a mail provider sends (RFC 8058): no cookies, no CSRF token, no Referer.
    resp = requests.post(client.url + path_of(header[1:-1]),
                         data="List-Unsubscribe=One-Click",
                         headers={"Content-Type": "application/x-www-form-urlencoded"},
                         allow_redirects=False, timeout=10)
    assert resp.status_code == 200
    assert "Set-Cookie" not in resp.headers
    assert status_of(query, "leaver@example.com") == "unsubscribed"
    vias = query(lambda s: s.scalars(select(StatusChange.via).order_by(StatusChange.id)).all())
    assert vias == ["signup", "one_click"]

    page = client.get(path_of(header[1:-1]))  # the page offers the way back
    assert "You're unsubscribed" in unescape(page.text) and "/resubscribe" in page.text
    back = client.post(path_of(header[1:-1]) + "/resubscribe")
    assert back.status_code == 200 and "Welcome back" in back.text
    assert status_of(query, "leaver@example.com") == "confirmed"


def test_smtp_url_forms():
    from widget.core.smtp import SmtpSettings

    plain = SmtpSettings.parse("smtp://us%40er:p%3Ass@mail.example")
    assert (plain.host, plain.port, plain.implicit_tls, plain.require_starttls) == \
        ("mail.example", 587, False, False)
    assert (plain.username, plain.password) == ("us@er", "p:ss")
    assert SmtpSettings.parse("smtp://mail.example:2525?starttls=require").require_starttls
    tls = SmtpSettings.parse("smtps://mail.example")
    assert (tls.port, tls.implicit_tls) == (465, True)
    for bad in ("http://mail.example", "smtp://", "smtp://mail.example:x",
                "smtp://mail.example?starttls=maybe"):
        with pytest.raises(ValueError):
            SmtpSettings.parse(bad)


def test_required_starttls_is_never_skipped(app_config, smtp, request):
    """A server without STARTTLS gets nothing in clear when the URL requires it."""
    from widget.mail import worker as mail_worker

    app_config["SMTP_URL"] = smtp.url + "?starttls=require"
    app, client = request.getfixturevalue("app"), request.getfixturevalue("client")
    site = request.getfixturevalue("make_site")()
    client.post(f"/api/v1/sites/{site}/subscriptions",
                json={"email": "clear@example.com", "consent": True})
    assert mail_worker.drain_once(app) == 1
    row = request.getfixturevalue("query")(lambda s: s.scalar(select(OutboxMessage)))
    assert row.status == "failed" and "STARTTLS" in row.last_error
    assert smtp.mailbox.messages == [] and smtp.mailbox.data_count == 0


def test_a_stranger_cannot_rename_a_confirmed_subscriber(client, make_site, smtp, worker,
                                                          query):
    site = make_site(double_opt_in=False)
    client.post(f"/api/v1/sites/{site}/subscriptions",
                json={"email": "kari@example.com", "name": "Kari", "consent": True, "lang": "nb"})
    again = client.post(f"/api/v1/sites/{site}/subscriptions",
                        json={"email": "kari@example.com", "name": "Idiot", "consent": True,
                              "lang": "de"})
    assert again.status_code == 200
    row = query(lambda s: s.execute(select(Subscriber.name, Subscriber.lang)).one())
    assert tuple(row) == ("Kari", "nb")


def test_a_claim_takes_one_batch_at_most(app, client, make_site, query):
    """However PostgreSQL plans the claim, a worker takes one batch and leaves the rest
    for the others (the cap once leaked: one worker took every due row)."""
    from widget.core import db, outbox

    site = make_site()
    for i in range(45):
        client.post(f"/api/v1/sites/{site}/subscriptions",
                    json={"email": f"batch-{i}@example.com", "consent": True})
    with app.app_context():
        first = outbox.claim(db.engine(), "one", 20, 60)
        second = outbox.claim(db.engine(), "two", 20, 60)
        third = outbox.claim(db.engine(), "three", 20, 60)
    assert (len(first), len(second), len(third)) == (20, 20, 5)
    assert not set(first) & set(second)
    holders = query(lambda s: sorted(s.scalars(select(OutboxMessage.claimed_by)).all()))
    assert holders == ["one"] * 20 + ["three"] * 5 + ["two"] * 20
