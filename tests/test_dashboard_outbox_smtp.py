"""The owner's side of e-mail with a real SMTP server: a failed message and "Send again",
the owner's own copy and sender in the e-mails that go out, bodies kept private."""
from __future__ import annotations

import html

import pytest
from sqlalchemy import select

from widget.models import OutboxMessage

from .helpers.dashboard import SETTINGS, sign_up
from .helpers.http import csrf_post
from .helpers.waiting import wait_until


@pytest.fixture
def app_config(app_config, smtp):
    app_config.update(SMTP_URL=smtp.url, OUTBOX_RETRY_SECONDS=0.2, OUTBOX_MAX_ATTEMPTS=1,
                      MAIL_FROM="news@blog.example")
    return app_config


def outbox_row(query):
    return query(lambda s: (lambda m: m and (m.id, m.status, m.attempts, m.last_error))(
        s.scalar(select(OutboxMessage).order_by(OutboxMessage.id))))


def test_failed_message_can_be_sent_again(ann, make_site, make_client, query, smtp, worker):
    site = make_site("ann@example.com")
    smtp.stop()  # the mail server is down: one try (OUTBOX_MAX_ATTEMPTS=1), then failed
    sign_up(make_client, site, "reader@example.com")
    message_id, _, attempts, error = wait_until(
        lambda: (row := outbox_row(query)) and row[1] == "failed" and row)
    assert attempts == 1 and error
    assert "1 failed" in ann.get(f"/dashboard/sites/{site}").text  # seen from the site page
    path = f"/dashboard/sites/{site}/outbox"
    listing = ann.get(path).text
    assert ">Failed<" in listing and html.escape(error) in listing
    assert "No mail server is set" not in listing and "Send again" in listing
    retry = f"{path}/{message_id}/retry"
    assert ann.post(retry).status_code == 400  # no CSRF token: nothing happens
    assert outbox_row(query)[1] == "failed"

    smtp.start()  # back, on the same port
    assert csrf_post(ann, retry, {}, page=path).status_code == 302
    (mail,) = smtp.mailbox.wait(1)
    assert mail["To"].addresses[0].addr_spec == "reader@example.com"
    wait_until(lambda: outbox_row(query)[1] == "sent")
    listing = ann.get(path).text
    assert ">Sent<" in listing and "Send again" not in listing
    assert "failed" not in ann.get(f"/dashboard/sites/{site}").text
    # A second "Send again" (a double click, an old tab) sends nothing more: had it queued
    # the message again, the worker would send it before the next sign-up's confirmation.
    assert csrf_post(ann, retry, {}, page=path).status_code == 302
    sign_up(make_client, site, "next@example.com")
    assert [m["To"].addresses[0].addr_spec for m in smtp.mailbox.wait(2)] == [
        "reader@example.com", "next@example.com"]
    assert outbox_row(query)[1:3] == ("sent", 1)


def test_sent_messages_keep_their_links_private(ann, make_site, make_client, query, smtp,
                                                worker):
    site = make_site("ann@example.com")
    sign_up(make_client, site, "private@example.com")
    smtp.mailbox.wait(1)
    message_id = wait_until(lambda: (row := outbox_row(query)) and row[1] == "sent" and row[0])
    path = f"/dashboard/sites/{site}/outbox/{message_id}"
    assert f'href="{path}">Details<' in ann.get(f"/dashboard/sites/{site}/outbox").text
    page = ann.get(path).text
    assert "Please confirm: e-mails from Blog" in page and "private@example.com" in page
    assert "/confirm/" not in page and "/unsubscribe/" not in page
    assert "Open the HTML version" not in page
    assert ann.get(f"{path}/html").status_code == 404


def test_owner_copy_and_sender_reach_the_next_email(ann, make_site, make_client, smtp, worker):
    site = make_site("ann@example.com", name="Bakeriet")
    assert csrf_post(ann, f"/dashboard/sites/{site}/settings", {
        **SETTINGS, "name": "Bakeriet", "sender_name": "Åse i Bakeriet",
        "sender_email": "ase@bakeriet.example", "reply_to": "svar@bakeriet.example",
    }).status_code == 302
    path = f"/dashboard/sites/{site}/emails?kind=confirm&lang=nb"
    copy = {"subject": "Bekreft påmeldingen til {site} 🌻",
            "body": "Hei {name} 🌻,\n\nTrykk på knappen, så er du med i {what}.\n\nHilsen Åse"}
    assert csrf_post(ann, path, {**copy, "action": "save"}).status_code == 302
    preview = ann.get(path).text
    assert "Hei Alex 🌻," in preview and "Åse i Bakeriet" in preview

    sign_up(make_client, site, "nb@example.com", name="Kari", lang="nb")
    sign_up(make_client, site, "anon-nb@example.com", lang="nb")
    sign_up(make_client, site, "en@example.com", name="Kari", lang="en")
    smtp.mailbox.wait(3)
    (kari,) = smtp.mailbox.to("nb@example.com")
    assert kari["Subject"] == "Bekreft påmeldingen til Bakeriet 🌻"
    text = kari.get_body(("plain",)).get_content()
    assert "Hei Kari 🌻," in text and "så er du med i nyhetsbrevet fra Bakeriet." in text
    assert "Hei Kari 🌻," in kari.get_body(("html",)).get_content()
    assert "/confirm/" in text  # the button and link come on top of the owner's words
    assert kari["From"].addresses[0].display_name == "Åse i Bakeriet"
    assert kari["From"].addresses[0].addr_spec == "ase@bakeriet.example"
    assert kari["Reply-To"] == "svar@bakeriet.example"
    (anon,) = smtp.mailbox.to("anon-nb@example.com")
    assert anon.get_body(("plain",)).get_content().startswith("Hei 🌻,")  # {name} left out
    (english,) = smtp.mailbox.to("en@example.com")
    assert english["Subject"] == "Please confirm: e-mails from Bakeriet"
