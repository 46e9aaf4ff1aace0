"""Sign-up and e-mail safety over real HTTP, a real SMTP server and a real database: no
more mail than the cooldown and the per-mailbox cap allow, answers that never tell who is
subscribed, nothing a visitor types reaches a header or a second recipient, and links on
WIDGET_BASE_URL whatever Host a request names."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from html import unescape

import pytest
from markupsafe import escape
from sqlalchemy import func, select

from widget.core.outbox import mailbox_of
from widget.mail import verp
from widget.models import OutboxMessage, Site, Subscriber

from .helpers.mail import BASE, drain, link, signup, subscriber
from .helpers.smtp import links_in

pytestmark = pytest.mark.real_smtp  # the app sends its e-mail to the `smtp` fixture's server


def test_sign_up_answers_never_tell_who_is_subscribed(client, make_site, smtp, worker,
                                                      query):
    site = make_site()
    # Known addresses in each state: pending, confirmed, unsubscribed.
    for address in ("pending@example.com", "confirmed@example.com", "left@example.com"):
        assert signup(client, site, address).status_code == 200
    mails = smtp.mailbox.wait(3)
    by_to = {m["To"]: m for m in mails}
    assert client.post(link(by_to["confirmed@example.com"], "confirm")).status_code == 200
    assert client.post(link(by_to["left@example.com"], "unsubscribe")).status_code == 200
    drain(query)
    assert [subscriber(query, a).status for a in ("pending@example.com",
            "confirmed@example.com", "left@example.com")] == [
        "pending", "confirmed", "unsubscribed"]

    def answer(address: str, form: bool) -> tuple:
        if form:
            resp = client.post(f"/api/v1/sites/{site}/subscriptions",
                               data={"email": address, "consent": "on"})
        else:
            resp = signup(client, site, address)
        headers = {k: v for k, v in resp.headers.items() if k.lower() != "date"}
        return resp.status_code, headers, resp.content

    for form in (False, True):
        new = answer(f"new-{form}@example.com", form)
        assert new[0] == 200
        for address in ("pending@example.com", "confirmed@example.com", "left@example.com",
                        "PENDING@example.com"):
            assert answer(address, form) == new, (address, form)


# --- 3. list bombing --------------------------------------------------------------------

@pytest.mark.parametrize("at_once", [False, True], ids=["one-by-one", "all-at-once"])
def test_one_mailbox_gets_a_few_confirmations_a_day_whatever_signs_it_up(
        at_once, app, client, make_client, make_site, smtp, worker, query):
    sites = [make_site(name=f"Blog {i}")
             for i in range(6)]
    requests_ = [(site, "victim@example.com") for site in sites]
    requests_ += [(sites[0], address) for address in (
        "victim+1@example.com", "victim+news@example.com", "Victim+2@EXAMPLE.com")]
    if at_once:
        clients = [make_client() for _ in requests_]
        with ThreadPoolExecutor(len(requests_)) as pool:
            answers = list(pool.map(lambda pair: signup(pair[0], *pair[1]),
                                    zip(clients, requests_)))
    else:
        answers = [signup(client, site, address) for site, address in requests_]
    assert [(r.status_code, r.json()) for r in answers] == [(200, {"ok": True})] * 9
    assert query(lambda s: s.scalar(select(func.count(Subscriber.id)))) == 9  # all kept

    drain(query)
    cap = app.config["MAIL_PER_ADDRESS_DAY"]
    assert cap == 3
    assert len(smtp.mailbox.messages) == cap
    for _sender, recipients in smtp.mailbox.envelopes:
        assert len(recipients) == 1 and mailbox_of(recipients[0].lower()) == \
            "victim@example.com"
    assert query(lambda s: s.scalar(select(func.count(OutboxMessage.id)))) == cap

    # Another try tomorrow's worth of sites later still sends nothing today.
    extra = make_site(name="Blog 9")
    assert signup(client, extra, "victim+late@example.com").status_code == 200
    drain(query)
    assert len(smtp.mailbox.messages) == cap


# --- 4. header injection --------------------------------------------------------------

@pytest.mark.parametrize("field,value", [
    ("name", "Ann\r\nBcc: evil@example.com"),
    ("name", "Ann\nBcc: evil@example.com"),
    ("name", "Ann\rBcc: evil@example.com"),
    ("name", "Ann\x00"),
    ("name", "Ann\u0085Bcc: evil@example.com"),
    ("email", "reader@example.com\r\nBcc: evil@example.com"),
    ("email", "reader@example.com\nBcc: evil@example.com"),
])
@pytest.mark.parametrize("as_form", [False, True], ids=["json", "form"])
def test_line_breaks_in_a_sign_up_are_refused(field, value, as_form, client, make_site,
                                              smtp, worker, query):
    site = make_site()
    body = {"email": "reader@example.com", "name": "Ann", field: value}
    if as_form:
        resp = client.post(f"/api/v1/sites/{site}/subscriptions",
                           data={**body, "consent": "on"}, headers={"Accept": "application/json"})
    else:
        resp = client.post(f"/api/v1/sites/{site}/subscriptions", json={**body, "consent": True})
    assert resp.status_code == 422
    if as_form:
        assert resp.headers["Content-Type"].startswith("text/html")
        assert "line breaks" in unescape(resp.text)
    else:
        assert resp.json()["error"]["code"] == "invalid_characters"
        assert resp.json()["error"]["field"] == field
    assert query(lambda s: s.scalar(select(func.count(Subscriber.id)))) == 0
    assert query(lambda s: s.scalar(select(func.count(OutboxMessage.id)))) == 0


def header_block(raw: str) -> str:
    return raw.replace("\r\n", "\n").split("\n\n", 1)[0]


SENT_HEADERS = {"From", "To", "Subject", "Date", "Message-ID", "List-Unsubscribe",
                "List-Unsubscribe-Post", "Auto-Submitted", "MIME-Version", "Content-Type",
                "Content-Language"}


def assert_clean_headers(raw: str) -> None:
    """Every header line is one of ours, or the folded continuation of one."""
    names = []
    for line in header_block(raw).split("\n"):
        if line[:1] in (" ", "\t"):
            continue
        name, colon, _ = line.partition(":")
        assert colon, line
        names.append(name)
    assert set(names) <= SENT_HEADERS, names
    assert len(names) == len(set(names)), names


NAMES = [
    "=?utf-8?b?RXZpbA==?= <evil@example.com>",
    "Evil, <x@evil.example>",
    "\"quoted\" <x@y>",
    "Bcc: evil@example.com",
    "\r\nBcc: evil@example.com",  # outer white space is trimmed: this is the line above
]


def test_names_never_reach_a_header_or_a_recipient(app, client, make_site, smtp, worker,
                                                    query):
    site = make_site(double_opt_in=True)
    addresses = [f"reader{i}@example.com" for i in range(len(NAMES))]
    for address, name in zip(addresses, NAMES):
        resp = signup(client, site, address, name)
        assert resp.status_code == 200, (name, resp.text)
        assert subscriber(query, address).name == name.strip()
    smtp.mailbox.wait(len(NAMES))
    drain(query)
    assert len(smtp.mailbox.messages) == len(NAMES)

    # Confirm them all: the welcome mail greets by name too.
    for mail in list(smtp.mailbox.messages):
        assert client.post(link(mail, "confirm")).status_code == 200
    smtp.mailbox.wait(2 * len(NAMES))
    drain(query)
    assert len(smtp.mailbox.messages) == 2 * len(NAMES)

    raws = dict(query(lambda s: s.execute(select(OutboxMessage.message_id,
                                                 OutboxMessage.raw)).all()))
    for mail, (sender, recipients) in zip(smtp.mailbox.messages, smtp.mailbox.envelopes):
        address = str(mail["To"])
        assert address in addresses
        name = NAMES[addresses.index(address)].strip()
        assert recipients == [address]  # exactly one envelope recipient: the subscriber
        assert verp.decode(app.config, sender) is not None  # its own return path
        assert mail["To"].addresses[0].display_name == ""
        assert "Bcc" not in mail and "Cc" not in mail
        for header, value in mail.items():
            assert "evil" not in str(value).lower(), (header, value)
            assert name not in str(value), (header, value)
        raw = raws[mail["Message-ID"]]
        assert "evil" not in header_block(raw).lower()
        assert "=?utf-8?b?RXZpbA" not in header_block(raw)
        assert_clean_headers(raw)

        text = mail.get_body(("plain",)).get_content()
        html = mail.get_body(("html",)).get_content()
        assert f"Hi {name}," in text
        assert f"Hi {escape(name)}," in html
        assert "<x@" not in html and "<evil@" not in html and '"quoted"' not in html
        assert "&lt;" in html or "<" not in name


def test_an_owners_line_breaks_do_not_make_headers(app, client, make_site, smtp, worker,
                                                   query):
    site = make_site(name="Blog")

    def inject(s):
        row = s.get(Site, site)
        row.name = "Blog\r\nBcc: evil@example.com\r\nX-Injected: yes"
        row.sender_name = "News\r\nBcc: evil2@example.com\nX-Injected: yes"
        s.commit()
    query(inject)
    assert signup(client, site, "reader@example.com", "Ann").status_code == 200
    mail = smtp.mailbox.wait(1)[0]
    drain(query)
    assert len(smtp.mailbox.messages) == 1
    assert [(verp.decode(app.config, sender) is not None, to)
            for sender, to in smtp.mailbox.envelopes] == [(True, ["reader@example.com"])]
    assert "Bcc" not in mail and "X-Injected" not in mail
    subject = str(mail["Subject"])  # unfolded; folding may start it on a new line
    assert "\r" not in subject and "\n" not in subject
    assert subject.strip() == ("Please confirm: e-mails from "
                               "Blog Bcc: evil@example.com X-Injected: yes")
    assert mail["From"].addresses[0].addr_spec == "news@blog.example"
    assert len(mail["From"].addresses) == 1 and len(mail["To"].addresses) == 1
    raw = query(lambda s: s.scalar(select(OutboxMessage.raw)))
    assert_clean_headers(raw)
    for line in header_block(raw).split("\n"):
        assert not line.lower().startswith(("bcc", "x-injected")), line
    # The site's name still reads right in the body, and the welcome mail is as clean.
    assert client.post(link(mail, "confirm")).status_code == 200
    welcome = smtp.mailbox.wait(2)[1]
    drain(query)
    assert "Bcc" not in welcome and "X-Injected" not in welcome
    sender, to = smtp.mailbox.envelopes[1]
    assert verp.decode(app.config, sender) is not None and to == ["reader@example.com"]
    raws = query(lambda s: s.scalars(select(OutboxMessage.raw)).all())
    for raw in raws:
        assert_clean_headers(raw)


# --- 5. links on WIDGET_BASE_URL ------------------------------------------------------

@pytest.mark.parametrize("app_config", [{"PROXY_COUNT": 0}, {"PROXY_COUNT": 1}],
                         indirect=True, ids=["direct", "behind-a-proxy"])
def test_links_use_the_base_url_not_the_host_header(app, client, make_site, smtp, worker,
                                                    query):
    evil = {"Host": "evil.example", "X-Forwarded-Host": "evil.example",
            "X-Forwarded-Proto": "https", "Forwarded": "host=evil.example;proto=https"}
    site = make_site()
    resp = signup(client, site, "reader@example.com", headers=evil)
    assert resp.status_code == 200
    assert resp.request.headers["Host"] == "evil.example"
    mail = smtp.mailbox.wait(1)[0]
    confirm = link(mail, "confirm")
    page = client.get(confirm, headers=evil)
    assert page.status_code == 200 and "evil" not in page.text
    assert client.post(confirm, headers=evil).status_code == 200
    smtp.mailbox.wait(2)
    drain(query)

    base = app.config["BASE_URL"]
    assert base == BASE
    for message in smtp.mailbox.messages:
        found = links_in(message)
        assert any("/unsubscribe/" in l for l in found)
        for url in found:
            assert url.startswith(base + "/"), url
        assert "evil" not in message.as_string().lower()
    assert any("/confirm/" in l for l in links_in(smtp.mailbox.messages[0]))


# --- 6. confirm and unsubscribe pages ----------------------------------------------------
