"""An owner's account over real HTTP and a real SMTP server: a forgotten password reset
from the e-mail (the same answer for known and unknown addresses, one hour, once, a GET
that changes nothing), every other session ended by a reset or a change, the change
asking for the current password, and no inbox flooded. On SQLite and PostgreSQL."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from widget.models import OutboxMessage

from .helpers.http import PASSWORD, csrf_post
from .helpers.mail import path_of
from .helpers.smtp import links_in

pytestmark = pytest.mark.real_smtp

NEW = "seven brave loaves at dawn"


def forgot(client, email: str, lang: str = "en"):
    token = client.csrf("/dashboard/forgot")
    return client.post("/dashboard/forgot", data={"email": email, "csrf_token": token},
                       headers={"Accept-Language": lang})


def reset_link(smtp) -> str:
    (mail,) = smtp.mailbox.wait(1)
    return path_of(next(link for link in links_in(mail) if "/dashboard/reset/" in link)), mail


def test_a_forgotten_password_is_reset_from_the_e_mail(ann, make_client, make_site, smtp,
                                                      worker, query):
    make_site("ann@example.com", name="Bäckerei Ørsted")
    visitor = make_client()
    known, unknown = forgot(visitor, "Ann@Example.com", "nb"), forgot(visitor, "x@example.com")
    assert known.status_code == unknown.status_code == 200
    # The page in the browser's language (the dashboard's, with no owner logged in).
    assert "Hvis en konto bruker" in known.text and "If an account uses" in unknown.text
    path, mail = reset_link(smtp)
    assert mail["To"].addresses[0].addr_spec == "ann@example.com"
    assert mail["Subject"] == "Tilbakestill passordet ditt" and mail["Content-Language"] == "nb"
    assert "List-Unsubscribe" not in mail
    assert "Bäckerei Ørsted" in mail.get_body(("plain",)).get_content()
    assert len(smtp.mailbox.messages) == 1  # nothing to the unknown address

    page = visitor.get(path)  # a link scanner's GET: a form, nothing changed
    assert page.status_code == 200 and "Choose a new password" in page.text
    assert make_client().login("ann@example.com").status_code == 302
    resp = csrf_post(visitor, path, {"password": NEW, "again": NEW})
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/dashboard/")
    assert visitor.get("/dashboard/").status_code == 200  # logged in by the reset
    # Ann's older session has ended; the old password no longer works; the new one does.
    assert ann.get("/dashboard/").status_code == 302
    assert make_client().login("ann@example.com").status_code == 401
    assert make_client().login("ann@example.com", NEW).status_code == 302
    # The link worked once.
    again = visitor.get(path)
    assert again.status_code == 400 and "has expired or has been used" in again.text


def test_a_broken_or_short_reset_is_explained(app, make_client, make_owner, smtp, worker):
    make_owner("ann@example.com")
    visitor = make_client()
    forgot(visitor, "ann@example.com")
    path, _mail = reset_link(smtp)
    broken = visitor.get(path[:-3] + "abc")
    assert broken.status_code == 400 and "Ask for a new link" in broken.text
    short = csrf_post(visitor, path, {"password": "short", "again": "short"})
    assert short.status_code == 422 and "Use at least 10 characters." in short.text
    differ = csrf_post(visitor, path, {"password": NEW, "again": NEW + "!"})
    assert "The two passwords differ." in differ.text
    assert make_client().login("ann@example.com").status_code == 302  # unchanged


def test_reset_e_mails_to_one_owner_are_capped(make_client, make_owner, query):
    make_owner("ann@example.com")
    visitor = make_client()
    for _ in range(5):
        assert forgot(visitor, "ann@example.com").status_code == 200
    assert query(lambda s: s.scalar(select(func.count(OutboxMessage.id)).where(
        OutboxMessage.kind == "password_reset"))) == 3


def test_a_changed_password_ends_other_sessions(ann, make_client):
    other = make_client()
    assert other.login("ann@example.com").status_code == 302
    wrong = csrf_post(ann, "/dashboard/account",
                      {"current": "not it at all", "password": NEW, "again": NEW})
    assert wrong.status_code == 422 and "not your current password" in wrong.text
    resp = csrf_post(ann, "/dashboard/account",
                     {"current": PASSWORD, "password": NEW, "again": NEW})
    assert resp.status_code == 302
    assert "every other session has ended" in ann.get("/dashboard/account").text
    assert ann.get("/dashboard/").status_code == 200  # this session stays
    assert other.get("/dashboard/").status_code == 302  # the other one ended
    assert make_client().login("ann@example.com", NEW).status_code == 302


def test_a_new_address_counts_once_its_link_is_opened(ann, make_client, make_owner, smtp,
                                                      worker):
    make_owner("taken@example.com")
    path = "/dashboard/account/email"
    taken = csrf_post(ann, path, {"mail-email": "taken@example.com", "mail-current": PASSWORD},
                      page="/dashboard/account")
    assert taken.status_code == 422 and "Another account uses that address." in taken.text
    wrong = csrf_post(ann, path, {"mail-email": "ny@example.com", "mail-current": "nope"},
                      page="/dashboard/account")
    assert wrong.status_code == 422 and "not your current password" in wrong.text
    sent = csrf_post(ann, path, {"mail-email": "Ny@Example.com", "mail-current": PASSWORD},
                     page="/dashboard/account")
    assert sent.status_code == 302
    (mail,) = smtp.mailbox.wait(1)
    assert mail["To"].addresses[0].addr_spec == "ny@example.com"
    link = path_of(next(x for x in links_in(mail) if "/dashboard/email/" in x))
    visitor = make_client()
    assert visitor.get(link).status_code == 200  # a scanner's GET changes nothing
    assert make_client().login("ann@example.com").status_code == 302
    done = csrf_post(visitor, link, {})
    assert done.status_code == 200 and "you log in with ny@example.com" in done.text
    assert make_client().login("ny@example.com").status_code == 302
    assert make_client().login("ann@example.com").status_code == 401
    again = csrf_post(visitor, link, {})
    assert again.status_code == 400 and "has expired or has been used" in again.text
