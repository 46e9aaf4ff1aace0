"""What reaches a header, and which addresses can be mailed: the edges an outside attack
run found (issue 12). Over real HTTP, a real database and real SMTP servers (aiosmtpd),
one that offers SMTPUTF8 and one that does not."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from widget.mail import verp
from widget.models import MailTemplate, OutboxMessage, Site, Subscriber

from .helpers.http import csrf_post
from .helpers.mail import drain
from .helpers.smtp import SmtpServer

ORIGIN = {"Origin": "https://blog.example"}
INJECTED = "=?utf-8?q?Alice=0D=0ABcc:_x@example.com?="  # a line break, RFC 2047-encoded
INJECTED_B = "=?utf-8?b?QWxpY2UNClgtSW5qZWN0ZWQ6IHllcw==?="  # "Alice\r\nX-Injected: yes"


@pytest.fixture(params=[False])
def server(request):
    """The real SMTP server the app sends through; `True` as param: it offers SMTPUTF8."""
    smtp = SmtpServer(utf8=request.param).start()
    yield smtp
    smtp.stop()


@pytest.fixture
def app_config(request, app_config, server):
    """This module's apps send through `server`, asking it what it offers (a test may
    declare it instead, with an indirect parameter)."""
    return {**app_config, "SMTP_URL": server.url, "MAIL_FROM": "news@blog.example",
            "OUTBOX_RETRY_SECONDS": 0.2, "SMTPUTF8": "auto", **getattr(request, "param", {})}


def sign_up(make_client, site: str, email: str):
    return make_client().post(f"/api/v1/sites/{site}/subscriptions", headers=ORIGIN,
                              json={"email": email, "consent": True})


def rows(query) -> tuple[int, int]:
    return query(lambda s: (s.scalar(select(func.count(Subscriber.id))),
                            s.scalar(select(func.count(OutboxMessage.id)))))


def header_lines(message) -> list[str]:
    return [name.lower() for name in message.keys()]


# --- one rule for what reaches a header ------------------------------------------------

@pytest.mark.parametrize("value", [INJECTED, INJECTED_B, "Alice\u2028Bcc: x@example.com",
                                   "Alice\u0085X", "Alice\u2029X", "Alice\rBcc: x"])
def test_owner_names_that_hide_a_line_break_are_refused(ann, make_site, query, value):
    site = make_site("ann@example.com", name="Crumb")
    page = f"/dashboard/sites/{site}/settings"
    form = {"name": "Crumb", "origins": "https://blog.example", "sender_name": value,
            "double_opt_in": "y", "require_consent": "y", "confirm_days": "7",
            "referral_wait_days": "0", "referral_burst": "3"}
    resp = csrf_post(ann, page, form)
    assert resp.status_code == 422 and "on one line" in resp.text or "hides a line break" in resp.text
    resp = csrf_post(ann, page, {**form, "sender_name": "", "name": value})
    assert resp.status_code == 422
    assert query(lambda s: (s.get(Site, site).name, s.get(Site, site).sender_name)) == (
        "Crumb", None)


@pytest.mark.parametrize("value", [INJECTED, "Welcome\u2028Bcc: x@example.com"])
def test_subjects_that_hide_a_line_break_are_refused(ann, make_site, query, value):
    site = make_site("ann@example.com")
    resp = csrf_post(ann, f"/dashboard/sites/{site}/emails?kind=confirm&lang=en",
                     {"subject": value, "body": "Please confirm."})
    assert resp.status_code == 422
    assert query(lambda s: s.scalar(select(func.count(MailTemplate.id)))) == 0


def test_bad_values_stored_by_an_older_version_are_folded_and_sent(
        app, ann, make_site, make_client, query, server, worker):
    """Data saved before this rule existed: the message still goes out, with no header
    of anyone's choosing, and the dashboard warns instead of failing."""
    site = make_site("ann@example.com", name="Crumb")

    def plant(s):
        found = s.get(Site, site)
        found.sender_name = INJECTED
        found.reply_to = INJECTED_B + "@example.com"
        s.add(MailTemplate(site_id=site, kind="confirm", lang="en",
                           subject="Confirm\u2028Bcc: x@example.com " + INJECTED_B,
                           body="Please confirm, {name}."))
        s.commit()
    query(plant)
    assert sign_up(make_client, site, "reader@example.com").status_code == 200
    (message,) = server.mailbox.wait(1)
    assert server.mailbox.envelopes[0][1] == ["reader@example.com"]
    lines = header_lines(message)
    assert "bcc" not in lines and "x-injected" not in lines and "reply-to" not in lines
    assert lines.count("from") == 1 and lines.count("subject") == 1
    assert message["Subject"] == "Confirm Bcc: x@example.com Alice X-Injected: yes"
    assert message["From"].addresses[0].display_name == "Alice Bcc: x@example.com"
    page = ann.get(f"/dashboard/sites/{site}/emails?kind=confirm&lang=en")
    assert page.status_code == 200 and "sent with it replaced by a space" in page.text
    settings = ann.get(f"/dashboard/sites/{site}/settings")
    assert settings.status_code == 200 and "sent with it replaced by a space" in settings.text


# --- addresses that can be mailed ------------------------------------------------------

def return_path(app, query) -> str:
    """The envelope sender of the one e-mail sent: its own VERP address (docs/bounces.md)."""
    return verp.address(app.config, query(lambda s: s.scalar(select(OutboxMessage.id))))


@pytest.mark.parametrize("server", [True], indirect=True)
def test_a_server_with_smtputf8_gets_an_international_address_once(
        app, make_site, make_client, query, server, worker):
    site = make_site()
    assert sign_up(make_client, site, "ñandú@bücher.example").status_code == 200
    (message,) = server.mailbox.wait(1)
    drain(query)
    assert server.mailbox.envelopes == [(return_path(app, query),
                                         ["ñandú@xn--bcher-kva.example"])]
    # The headers arrive as UTF-8 (SMTPUTF8); the parser keeps such bytes escaped.
    to = str(message["To"]).encode("utf-8", "surrogateescape").decode("utf-8")
    assert to == "ñandú@xn--bcher-kva.example"
    assert len(server.mailbox.messages) == 1


def test_a_server_without_smtputf8_gets_the_domain_in_xn_form(app, make_site, make_client,
                                                             query, server, worker):
    site = make_site()
    assert sign_up(make_client, site, "user@bücher.example").status_code == 200
    (message,) = server.mailbox.wait(1)
    assert server.mailbox.envelopes == [(return_path(app, query),
                                         ["user@xn--bcher-kva.example"])]
    assert message["To"].addresses[0].addr_spec == "user@xn--bcher-kva.example"


@pytest.mark.parametrize("app_config", [{"SMTPUTF8": "auto"}, {"SMTPUTF8": "off"}],
                         indirect=True, ids=["probed", "declared"])
def test_an_address_the_server_cannot_take_is_refused_at_sign_up(make_site, make_client,
                                                                  query, app_config):
    site = make_site()
    resp = sign_up(make_client, site, "ñandú@example.com")
    assert resp.status_code == 422
    assert resp.json()["error"]["code"] == "email_unsupported"
    assert resp.json()["error"]["field"] == "email"
    assert rows(query) == (0, 0)
    assert sign_up(make_client, site, "nandu@example.com").status_code == 200


@pytest.mark.parametrize("email", ["a" * 65 + "@example.com", "é" * 33 + "@example.com",
                                   "a" * 60 + "@" + ("b" * 60 + ".") * 3 + "example.com"])
def test_addresses_longer_than_smtp_allows_are_refused(make_site, make_client, query, email):
    resp = sign_up(make_client, make_site(), email)
    assert resp.status_code == 422 and resp.json()["error"]["code"] in ("invalid_email",
                                                                         "too_long")
    assert rows(query) == (0, 0)


@pytest.mark.parametrize("app_config", [{"SMTPUTF8": "on"}], indirect=True)
def test_a_row_that_can_never_be_sent_fails_at_once_with_a_reason(make_site, make_client,
                                                                   query, server, worker):
    """The operator declared SMTPUTF8, but the server does not offer it: the message
    fails on its first attempt, saying why, instead of retrying for hours."""
    site = make_site()
    assert sign_up(make_client, site, "ñandú@example.com").status_code == 200
    drain(query)
    status, attempts, error = query(lambda s: s.execute(select(
        OutboxMessage.status, OutboxMessage.attempts, OutboxMessage.last_error)).one())
    assert (status, attempts) == ("failed", 1) and "SMTPUTF8" in error
    assert server.mailbox.messages == []
