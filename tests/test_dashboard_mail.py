"""The owner's side of e-mail over real HTTP, without a mail server (the dev outbox):
settings, the outbox and its messages, the copy editor and its preview, one contact."""
from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import func, select

from widget.models import MailTemplate, OutboxMessage, Site, Subscriber

from .helpers.dashboard import SETTINGS, sign_up
from .helpers.http import BASE, csrf_post
from .helpers.waiting import wait_until

SANDBOX = "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src https: data:"


@pytest.fixture
def app_config(app_config):
    app_config["SMTP_URL"] = None  # whatever the environment says: the dev outbox
    return app_config


def test_email_settings_are_saved_normalized(ann, make_site, query):
    assert re.search(r'<input checked id="double_opt_in"', ann.get("/dashboard/sites/new").text)
    site = make_site("ann@example.com")
    path = f"/dashboard/sites/{site}/settings"
    page = ann.get(path).text
    assert "<legend>E-mail</legend>" in page and "confirmation" in page.lower()
    assert 'value="7"' in page  # the link lifetime's default
    resp = csrf_post(ann, path, {**SETTINGS, "double_opt_in": "", "confirm_days": "30",
                                 "sender_name": "  Åse  from  Bakeriet 🍞 ",
                                 "sender_email": " Ann.Hansen@Bakeriet.EXAMPLE ",
                                 "reply_to": "hei@bücher.example"})
    assert resp.status_code == 302
    saved = query(lambda s: (lambda x: (x.double_opt_in, x.confirm_days, x.sender_name,
                                        x.sender_email, x.reply_to))(s.get(Site, site)))
    assert saved == (False, 30, "Åse from Bakeriet 🍞", "Ann.Hansen@bakeriet.example",
                     "hei@xn--bcher-kva.example")
    page = ann.get(path).text
    assert 'value="Ann.Hansen@bakeriet.example"' in page and "Åse from Bakeriet 🍞" in page
    assert not re.search(r'<input checked id="double_opt_in"', page)
    # Emptied again: back to WIDGET_MAIL_FROM and the site's name.
    assert csrf_post(ann, path, SETTINGS).status_code == 302
    assert query(lambda s: (lambda x: (x.double_opt_in, x.sender_name, x.sender_email,
                                       x.reply_to))(s.get(Site, site))) == (True, None, None, None)


@pytest.mark.parametrize("field, value, message", [
    ("sender_email", "not an address", "Not a valid e-mail address"),
    ("sender_email", "a@x.example, b@y.example", "One address only"),
    ("reply_to", "a@x.example\r\nBcc: victim@y.example", "One address only"),
    ("reply_to", "ø@x.example", "non-ASCII"),
    ("sender_name", "Ann\r\nBcc: victim@y.example", "Keep it on one line."),
    ("sender_name", "x" * 101, "Field cannot be longer than 100 characters."),
    ("confirm_days", "0", "Number must be between 1 and 90."),
    ("confirm_days", "91", "Number must be between 1 and 90."),
])
def test_bad_email_settings_are_explained_and_nothing_saved(ann, make_site, query, field,
                                                            value, message):
    site = make_site("ann@example.com")
    path = f"/dashboard/sites/{site}/settings"
    resp = csrf_post(ann, path, {**SETTINGS, "name": "Renamed", field: value})
    assert resp.status_code == 422 and html.escape(message) in resp.text
    assert query(lambda s: (lambda x: (x.name, x.confirm_days, x.sender_name, x.sender_email,
                                       x.reply_to))(s.get(Site, site))) == (
        "Blog", 7, None, None, None)


def test_double_opt_in_off_confirms_sign_ups_at_once(app, ann, make_site, make_client, query,
                                                     worker):
    app.config["SITE_CACHE_SECONDS"] = 300  # the setting must drop the cached snapshot
    site = make_site("ann@example.com")
    sign_up(make_client, site, "first@example.com")
    assert csrf_post(ann, f"/dashboard/sites/{site}/settings",
                     {**SETTINGS, "double_opt_in": ""}).status_code == 302
    sign_up(make_client, site, "second@example.com")
    statuses = query(lambda s: dict(s.execute(select(Subscriber.email,
                                                     Subscriber.status)).all()))
    assert statuses == {"first@example.com": "pending", "second@example.com": "confirmed"}
    kinds = query(lambda s: s.scalars(select(OutboxMessage.kind).order_by(OutboxMessage.id)).all())
    assert kinds == ["confirm", "welcome"]
    page = ann.get(f"/dashboard/sites/{site}").text
    assert "Waiting for confirmation" in page and "Subscribed" in page and "since" in page


def test_dev_outbox_shows_the_confirmation_and_its_link_works(ann, make_site, make_client,
                                                              query, worker):
    site = make_site("ann@example.com")
    sign_up(make_client, site, "reader@example.com", name="<b>x</b>", lang="en")
    message_id = wait_until(lambda: query(lambda s: s.scalar(
        select(OutboxMessage.id).where(OutboxMessage.status == "sent"))))
    listing = ann.get(f"/dashboard/sites/{site}/outbox").text
    assert "No mail server is set (WIDGET_SMTP_URL)" in listing
    assert "reader@example.com" in listing and "Confirmation" in listing
    assert "Please confirm: e-mails from Blog" in listing and ">Sent<" in listing
    view = f"/dashboard/sites/{site}/outbox/{message_id}"
    assert f'href="{view}">View<' in listing and "Send again" not in listing

    page = ann.get(view).text
    assert "Hi &lt;b&gt;x&lt;/b&gt;," in page and "<b>x</b>" not in page
    assert "List-Unsubscribe" in page and f"&lt;{BASE}/unsubscribe/" in page
    confirm = re.search(rf"{re.escape(BASE)}(/confirm/[\w.\-]+)", page).group(1)
    assert f'href="{view}/html">Open the HTML version<' in page

    part = ann.get(f"{view}/html")
    assert part.status_code == 200 and part.headers["Content-Type"].startswith("text/html")
    csp = part.headers["Content-Security-Policy"]
    assert csp.startswith(SANDBOX) and "frame-ancestors 'none'" in csp and "'self'" not in csp
    assert part.headers["X-Frame-Options"] == "DENY"
    assert "Hi &lt;b&gt;x&lt;/b&gt;," in part.text and "<b>x</b>" not in part.text

    # The link in the dev outbox is the real one: the owner can try the whole flow.
    assert ann.post(confirm).status_code == 200
    wait_until(lambda: query(lambda s: s.scalar(select(func.count(OutboxMessage.id)).where(
        OutboxMessage.kind == "welcome", OutboxMessage.status == "sent"))))
    contact_id = query(lambda s: s.scalar(select(Subscriber.id)))
    contact = ann.get(f"/dashboard/sites/{site}/contacts/{contact_id}").text
    assert "&lt;b&gt;x&lt;/b&gt;" in contact and "<b>x</b>" not in contact
    assert "Subscribed" in contact and "since" in contact
    assert "signed up on your site" in contact
    assert "pressed the confirm button from the e-mail" in contact
    assert "Yes, send me e-mails. I can unsubscribe at any time." in contact
    assert "Confirmation" in contact and "Thank-you after confirming" in contact
    assert f'href="/dashboard/sites/{site}/contacts/{contact_id}"' in ann.get(
        f"/dashboard/sites/{site}").text


def test_copy_editor_preview_save_and_reset(ann, make_site, query):
    site = make_site("ann@example.com", name="Bakeriet")
    path = f"/dashboard/sites/{site}/emails?kind=confirm&lang=nb"
    page = ann.get(path).text
    assert 'value="Bekreft: e-post fra {site}"' in page  # the built-in text, to start from
    assert "Hei Alex," in page and f"{BASE}/confirm/example" in page
    assert "{name}" in page and "{site}" in page and "{what}" in page
    frame = re.search(r'<iframe[^>]*\bsandbox\b[^>]*src="([^"]+)"', page).group(1)
    assert html.unescape(frame) == (
        f"/dashboard/sites/{site}/emails/preview.html?kind=confirm&lang=nb")
    assert "“nyhetsbrevet fra Bakeriet”" in page  # {what}, as it reads in this language

    copy = {"subject": "Bekreft påmeldingen til {site} 🌻",
            "body": "Hei {name} 🌻,\r\n\r\n<i>Trykk</i> på knappen, så er du med i {what}."}
    preview = csrf_post(ann, path, {**copy, "action": "preview"})
    assert preview.status_code == 200 and "not saved yet" in preview.text
    assert "Hei Alex 🌻," in preview.text and "Bekreft påmeldingen til Bakeriet 🌻" in preview.text
    assert "&lt;i&gt;Trykk&lt;/i&gt;" in preview.text and "<i>Trykk" not in preview.text
    assert query(lambda s: s.scalar(select(func.count(MailTemplate.id)))) == 0

    saved = csrf_post(ann, path, {**copy, "action": "save"})
    assert saved.status_code == 302
    row = query(lambda s: (lambda m: (m.kind, m.lang, m.subject, m.body))(
        s.scalar(select(MailTemplate))))
    assert row == ("confirm", "nb", copy["subject"],
                   "Hei {name} 🌻,\n\n<i>Trykk</i> på knappen, så er du med i {what}.")
    page = ann.get(saved.headers["Location"]).text
    assert "Saved." in page and "your own text" in page and "Hei Alex 🌻," in page
    assert "så er du med i nyhetsbrevet fra Bakeriet." in page

    frame = ann.get(f"/dashboard/sites/{site}/emails/preview.html?kind=confirm&lang=nb")
    csp = frame.headers["Content-Security-Policy"]
    assert csp.startswith(SANDBOX) and "frame-ancestors 'self'" in csp
    assert frame.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert "Hei Alex 🌻," in frame.text and "&lt;i&gt;Trykk&lt;/i&gt;" in frame.text
    assert "<i>" not in frame.text
    # Other kinds and languages keep the built-in text.
    assert 'value="Please confirm: e-mails from {site}"' in ann.get(
        f"/dashboard/sites/{site}/emails?kind=confirm&lang=en").text

    reset = csrf_post(ann, f"/dashboard/sites/{site}/emails/reset?kind=confirm&lang=nb", {},
                      page=path)
    assert reset.status_code == 302
    assert query(lambda s: s.scalar(select(func.count(MailTemplate.id)))) == 0
    assert "Hei Alex," in ann.get(path).text


@pytest.mark.parametrize("subject, body, message", [
    ("Hei {name}", "Tekst", "{name} can&#39;t go in the subject"),
    ("Hei\r\nBcc: x@y.example", "Tekst", "Keep it on one line."),
    ("Hei", "Hei {navn}", "Unknown placeholder {navn}"),
    ("", "Tekst", "This field is required."),
    ("Hei", "x" * 5001, "Field cannot be longer than 5000 characters."),
])
def test_copy_editor_refuses_bad_copy(ann, make_site, query, subject, body, message):
    site = make_site("ann@example.com")
    path = f"/dashboard/sites/{site}/emails?kind=welcome&lang=nb"
    resp = csrf_post(ann, path, {"subject": subject, "body": body, "action": "save"})
    assert resp.status_code == 422 and message in resp.text
    assert query(lambda s: s.scalar(select(func.count(MailTemplate.id)))) == 0


def test_unknown_kind_or_language_is_404(ann, make_site):
    site = make_site("ann@example.com")
    for args in ("kind=newsletter&lang=en", "kind=confirm&lang=sv"):
        assert ann.get(f"/dashboard/sites/{site}/emails?{args}").status_code == 404
        assert ann.get(f"/dashboard/sites/{site}/emails/preview.html?{args}").status_code == 404


def test_other_owners_get_404_everywhere(ann, make_site, make_client, query, worker):
    theirs = make_site("bob@example.com", name="Bob's shop")
    mine = make_site("ann@example.com")
    sign_up(make_client, theirs, "bobs-reader@example.com")
    message_id = wait_until(lambda: query(lambda s: s.scalar(
        select(OutboxMessage.id).where(OutboxMessage.status == "sent"))))
    person = query(lambda s: s.scalar(select(Subscriber.id)))
    base = f"/dashboard/sites/{theirs}"
    for path in (f"{base}/outbox", f"{base}/outbox/{message_id}",
                 f"{base}/outbox/{message_id}/html", f"{base}/emails",
                 f"{base}/emails/preview.html", f"{base}/contacts/{person}",
                 # Their ids under my own site are no way in either.
                 f"/dashboard/sites/{mine}/outbox/{message_id}",
                 f"/dashboard/sites/{mine}/outbox/{message_id}/html",
                 f"/dashboard/sites/{mine}/contacts/{person}"):
        assert ann.get(path).status_code == 404, path
    token = ann.csrf(f"/dashboard/sites/{mine}/emails")
    for path in (f"{base}/outbox/{message_id}/retry", f"{base}/emails?kind=confirm&lang=en",
                 f"{base}/emails/reset?kind=confirm&lang=en",
                 f"/dashboard/sites/{mine}/outbox/{message_id}/retry"):
        resp = ann.post(path, data={"csrf_token": token, "subject": "Mine", "body": "Mine"})
        assert resp.status_code == 404, path
    assert query(lambda s: s.scalar(select(func.count(MailTemplate.id)))) == 0
    assert query(lambda s: s.get(OutboxMessage, message_id).status) == "sent"
    assert "bobs-reader@example.com" not in ann.get(f"/dashboard/sites/{mine}/outbox").text


def test_posts_without_csrf_token_are_refused(ann, make_site, query):
    site = make_site("ann@example.com")
    base = f"/dashboard/sites/{site}"
    with_copy = {"subject": "Sneaky", "body": "Sneaky", "action": "save"}
    for path, data in ((f"{base}/settings", {**SETTINGS, "sender_email": "x@evil.example"}),
                       (f"{base}/outbox/1/retry", {}),
                       (f"{base}/emails?kind=confirm&lang=en", with_copy),
                       (f"{base}/emails?kind=confirm&lang=en", {**with_copy, "action": "preview"}),
                       (f"{base}/emails/reset?kind=confirm&lang=en", {})):
        resp = ann.post(path, data=data)
        assert resp.status_code == 400 and "form expired" in resp.text, path
    assert query(lambda s: s.get(Site, site).sender_email) is None
    assert query(lambda s: s.scalar(select(func.count(MailTemplate.id)))) == 0
