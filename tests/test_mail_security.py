"""E-mail security over real HTTP, a real SMTP server and a real database: links that
do not work when changed, cut, reused for another purpose or outlived; no more mail than
the cooldown and the per-mailbox cap allow; nothing a visitor types reaches a header or a
second recipient; links on WIDGET_BASE_URL whatever Host a request names; pages whose
GET and HEAD change nothing; and queued mail that is dropped once its person has left."""
from __future__ import annotations

import re
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from html import unescape

import pytest
import requests
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from markupsafe import escape
from sqlalchemy import delete, func, select

from widget import tokens
from widget.mail.outbox import mailbox_of
from widget.models import OutboxMessage, Site, StatusChange, Subscriber, utcnow

from .conftest import links_in

BASE = "http://127.0.0.1:5000"  # WIDGET_BASE_URL of the test app: every link starts with it
INVALID_TITLE = "This link does not work"
BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


@pytest.fixture
def app_config(app_config, smtp, request):
    """The mail settings of tests/test_mail_flow.py; a test may add more with
    @pytest.mark.parametrize("app_config", [{...}], indirect=True)."""
    app_config.update(SMTP_URL=smtp.url, OUTBOX_RETRY_SECONDS=0.2,
                      MAIL_FROM="news@blog.example")
    app_config.update(getattr(request, "param", {}))
    return app_config


# --- helpers ------------------------------------------------------------------------

def wait_until(check, what: str, timeout: float = 15.0):
    """Poll `check` until it returns something truthy; fail the test after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.02)


def drain(query, timeout: float = 15.0) -> None:
    """Wait until the worker has handled every outbox row (none queued or sending)."""
    wait_until(lambda: query(lambda s: s.scalar(
        select(func.count(OutboxMessage.id))
        .where(OutboxMessage.status.in_(("queued", "sending"))))) == 0,
        "the outbox to drain", timeout)


def signup(client, site: str, email_address: str, name: str | None = None, **kw):
    body = {"email": email_address, "consent": True}
    if name is not None:
        body["name"] = name
    return client.post(f"/api/v1/sites/{site}/subscriptions", json=body, **kw)


def path_of(link: str) -> str:
    assert link.startswith(BASE + "/"), link
    return link[len(BASE):]


def link(mail, kind: str) -> str:
    """The path of the mail's confirm or unsubscribe link."""
    return path_of(next(l for l in links_in(mail) if f"/{kind}/" in l))


def token_of(path: str) -> str:
    return path.rstrip("/").rsplit("/", 1)[1]


def subscriber(query, email_address: str) -> Subscriber:
    found = query(lambda s: s.scalar(select(Subscriber).where(
        Subscriber.email_normalized == email_address.lower())))
    assert found is not None, email_address
    return found


def snapshot(query) -> dict:
    """Everything a link could change: subscribers, their history and the outbox."""
    def read(s):
        return {
            "subscribers": s.execute(select(
                Subscriber.id, Subscriber.status, Subscriber.status_at,
                Subscriber.confirm_sent_at, Subscriber.updated_at)
                .order_by(Subscriber.id)).all(),
            "history": s.execute(select(StatusChange.subscriber_id, StatusChange.status,
                                        StatusChange.via).order_by(StatusChange.id)).all(),
            "outbox": s.execute(select(OutboxMessage.id, OutboxMessage.kind,
                                       OutboxMessage.subscriber_id)
                                .order_by(OutboxMessage.id)).all(),
        }
    return query(read)


def assert_invalid_page(resp) -> None:
    """The friendly 'this link does not work' page: 400, HTML, no trace of the code."""
    assert resp.status_code == 400, (resp.request.method, resp.url, resp.status_code)
    assert resp.headers["Content-Type"].startswith("text/html")
    text = unescape(resp.text)
    assert INVALID_TITLE in text
    assert "Traceback" not in text and "Error" not in text and 'File "' not in text
    assert resp.headers["Cache-Control"] == "no-store"


def flip(token: str, index: int) -> str:
    """The token with one character changed (never the last of a segment, whose low
    bits base64 may ignore)."""
    char = token[index]
    assert char != "."
    return token[:index] + ("A" if char != "A" else "B") + token[index + 1:]


class _SignedTwoDaysAgo(TimestampSigner):
    def get_timestamp(self) -> int:
        return int(time.time() - 2 * 86400)


def old_confirm_token(app, subscriber_id: int, email_normalized: str) -> str:
    """A genuine confirm token, signed two days ago."""
    with app.app_context():
        serializer = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt="widget.confirm",
                                            signer=_SignedTwoDaysAgo)
        token = serializer.dumps(tokens.subscriber_value(subscriber_id, email_normalized))
        # Genuine, and too old for a one-day link: what the page will find.
        assert tokens.unsign("confirm", token) == [subscriber_id,
                                                   tokens.subscriber_value(0, email_normalized)[1]]
        with pytest.raises(tokens.TokenExpired):
            tokens.unsign("confirm", token, max_age=86400)
    return token


def mint(app, purpose: str, sub: Subscriber) -> str:
    with app.app_context():
        return tokens.sign(purpose, tokens.subscriber_value(sub.id, sub.email_normalized))


# --- 1. tokens ------------------------------------------------------------------------

def test_changed_cut_and_misused_tokens_get_the_friendly_page(client, make_site, smtp,
                                                              worker, query):
    site = make_site()
    assert signup(client, site, "reader@example.com").status_code == 200
    mail = smtp.mailbox.wait(1)[0]
    confirm, unsubscribe = link(mail, "confirm"), link(mail, "unsubscribe")
    c_token, u_token = token_of(confirm), token_of(unsubscribe)
    payload, stamp, _sig = c_token.split(".")
    drain(query)
    before = snapshot(query)

    bad_confirm = {
        "payload changed": flip(c_token, 1),
        "timestamp changed": flip(c_token, len(payload) + 2),
        "signature changed": flip(c_token, len(payload) + len(stamp) + 6),
        "cut short": c_token[:-5],
        "cut in half": c_token[:len(c_token) // 2],
        "signature missing": c_token.rsplit(".", 1)[0],
        "unsubscribe token": u_token,  # the right person, the wrong purpose
        "garbage": "not-a-token",
    }
    bad_unsubscribe = {
        "payload changed": flip(u_token, 1),
        "signature changed": flip(u_token, len(u_token) - 8),
        "cut short": u_token[:-3],
        "confirm token": c_token,
    }
    for why, token in bad_confirm.items():
        for method in ("GET", "POST"):
            resp = client.request(method, f"/confirm/{token}")
            assert resp.status_code == 400, why
            assert_invalid_page(resp)
        assert_invalid_page(client.post(f"/confirm/{token}/resend"))
    for why, token in bad_unsubscribe.items():
        for method in ("GET", "POST"):
            resp = client.request(method, f"/unsubscribe/{token}")
            assert resp.status_code == 400, why
            assert_invalid_page(resp)
        assert_invalid_page(client.post(f"/unsubscribe/{token}/resubscribe"))

    assert snapshot(query) == before
    drain(query)
    assert len(smtp.mailbox.messages) == 1

    # The genuine links still work: the 400s above came from the changes, not the set-up.
    assert client.post(confirm).status_code == 200
    assert subscriber(query, "reader@example.com").status == "confirmed"
    assert client.post(unsubscribe).status_code == 200
    assert subscriber(query, "reader@example.com").status == "unsubscribed"


def test_links_of_a_deleted_subscriber_do_not_work(app, client, make_site, smtp, worker,
                                                   query):
    site = make_site(confirm_days=1)
    assert signup(client, site, "gone@example.com").status_code == 200
    mail = smtp.mailbox.wait(1)[0]
    confirm, unsubscribe = link(mail, "confirm"), link(mail, "unsubscribe")
    gone = subscriber(query, "gone@example.com")
    expired = old_confirm_token(app, gone.id, gone.email_normalized)
    drain(query)

    def remove(s):
        s.execute(delete(Subscriber).where(Subscriber.id == gone.id))
        s.commit()
    query(remove)
    before = snapshot(query)

    for path in (confirm, unsubscribe):
        for method in ("GET", "HEAD", "POST"):
            resp = client.request(method, path)
            assert resp.status_code == 400, (method, path)
            if method != "HEAD":
                assert_invalid_page(resp)
    for path in (f"/confirm/{expired}", f"/confirm/{expired}/resend",
                 f"{confirm}/resend", f"{unsubscribe}/resubscribe"):
        assert_invalid_page(client.post(path))  # an expired token of nobody: not a 410
    assert_invalid_page(client.get(f"/confirm/{expired}"))
    assert snapshot(query) == before

    # SQLite hands the id of the deleted row to the next subscriber: the old links carry
    # a digest of the old address, so they still do not apply to the newcomer.
    assert signup(client, site, "newcomer@example.com").status_code == 200
    newcomer = subscriber(query, "newcomer@example.com")
    if app.config["DATABASE_URL"].startswith("sqlite"):
        assert newcomer.id == gone.id
    drain(query)
    before = snapshot(query)
    for path in (confirm, unsubscribe, f"/confirm/{expired}"):
        assert_invalid_page(client.post(path))
    assert_invalid_page(client.post(f"{unsubscribe}/resubscribe"))
    assert_invalid_page(client.post(f"/confirm/{expired}/resend"))
    assert snapshot(query) == before
    assert subscriber(query, "newcomer@example.com").status == "pending"
    drain(query)
    assert [m["To"] for m in smtp.mailbox.messages] == ["gone@example.com",
                                                         "newcomer@example.com"]


def test_an_expired_confirm_link_offers_a_fresh_one(app, client, make_site, smtp, worker,
                                                    query):
    site = make_site(confirm_days=1)
    assert signup(client, site, "late@example.com").status_code == 200
    smtp.mailbox.wait(1)
    drain(query)
    late = subscriber(query, "late@example.com")

    def two_days_ago(s):  # the sign-up, its e-mail and its link are all two days old
        then = utcnow() - timedelta(days=2)
        s.get(Subscriber, late.id).confirm_sent_at = then
        for row in s.scalars(select(OutboxMessage)):
            row.created_at = then
        s.commit()
    query(two_days_ago)
    token = old_confirm_token(app, late.id, late.email_normalized)
    before = snapshot(query)

    for method in ("GET", "POST"):  # the POST of the old button does not confirm
        page = client.request(method, f"/confirm/{token}")
        assert page.status_code == 410, method
        text = unescape(page.text)
        assert "This link has expired" in text and "Send me a fresh link" in text
        assert "work for 1 days" in text or "1 day" in text
        assert f'action="/confirm/{token}/resend"' in page.text
        assert "Traceback" not in text
    assert client.request("HEAD", f"/confirm/{token}").status_code == 410
    assert snapshot(query) == before
    assert subscriber(query, "late@example.com").status == "pending"

    resent = client.post(f"/confirm/{token}/resend")
    assert resent.status_code == 200 and "Check your inbox" in unescape(resent.text)
    again = client.post(f"/confirm/{token}/resend")  # a second press within the cooldown
    assert again.status_code == 200 and again.text == resent.text
    fresh = smtp.mailbox.wait(2)[1]
    drain(query)
    assert len(smtp.mailbox.messages) == 2  # one fresh link, not two
    assert fresh["To"] == "late@example.com"
    assert fresh["Subject"] == smtp.mailbox.messages[0]["Subject"]
    kinds = query(lambda s: s.scalars(select(OutboxMessage.kind)
                                      .order_by(OutboxMessage.id)).all())
    assert kinds == ["confirm", "confirm"]

    fresh_confirm = link(fresh, "confirm")
    assert token_of(fresh_confirm) != token
    assert client.get(fresh_confirm).status_code == 200  # the fresh link works
    assert subscriber(query, "late@example.com").status == "pending"
    done = client.post(fresh_confirm)
    assert done.status_code == 200 and "You're subscribed" in unescape(done.text)
    assert subscriber(query, "late@example.com").status == "confirmed"
    welcome = smtp.mailbox.wait(3)[2]
    assert welcome["Subject"].startswith("Welcome")

    # Once confirmed, the old link says so (no offer of a fresh link, no more mail).
    old = client.get(f"/confirm/{token}")
    assert old.status_code == 200 and "You're subscribed" in unescape(old.text)
    assert client.post(f"/confirm/{token}/resend").status_code == 200
    drain(query)
    assert len(smtp.mailbox.messages) == 3


# --- 2. re-sending --------------------------------------------------------------------

def test_repeated_sign_ups_of_a_pending_address_send_one_confirmation(
        client, make_client, make_site, smtp, worker, query):
    site = make_site()
    clients = [make_client() for _ in range(6)]
    # Six at once (each its own connection), then five more in a row.
    with ThreadPoolExecutor(6) as pool:
        answers = list(pool.map(lambda c: signup(c, site, "eager@example.com"), clients))
    answers += [signup(client, site, "eager@example.com") for _ in range(5)]
    assert [r.status_code for r in answers] == [200] * 11
    drain(query)
    assert len(smtp.mailbox.messages) == 1
    assert [e[1] for e in smtp.mailbox.envelopes] == [["eager@example.com"]]
    assert query(lambda s: s.scalars(select(OutboxMessage.kind)).all()) == ["confirm"]
    assert query(lambda s: s.scalar(select(func.count(Subscriber.id)))) == 1
    assert subscriber(query, "eager@example.com").status == "pending"


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


def test_names_never_reach_a_header_or_a_recipient(client, make_site, smtp, worker, query):
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
        assert sender == "news@blog.example"
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


def test_an_owners_line_breaks_do_not_make_headers(client, make_site, smtp, worker, query):
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
    assert smtp.mailbox.envelopes == [("news@blog.example", ["reader@example.com"])]
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
    assert smtp.mailbox.envelopes[1] == ("news@blog.example", ["reader@example.com"])
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

def test_head_and_wrong_methods_change_nothing(client, make_site, smtp, worker, query):
    site = make_site()
    assert signup(client, site, "reader@example.com").status_code == 200
    mail = smtp.mailbox.wait(1)[0]
    confirm, unsubscribe = link(mail, "confirm"), link(mail, "unsubscribe")
    drain(query)
    before = snapshot(query)

    for path in (confirm, unsubscribe):
        for _ in range(2):
            head = client.request("HEAD", path)
            assert head.status_code == 200 and head.content == b""
    for path in (f"{unsubscribe}/resubscribe", f"{confirm}/resend"):
        for method, accept in (("GET", BROWSER_ACCEPT), ("GET", "*/*"), ("HEAD", "*/*"),
                               ("PUT", "*/*"), ("DELETE", "*/*")):
            resp = client.request(method, path, headers={"Accept": accept})
            assert resp.status_code == 405, (method, path)
            assert "POST" in resp.headers["Allow"]
            if method != "HEAD":
                assert resp.headers["Content-Type"].startswith("text/html")
                text = unescape(resp.text)
                assert "That action is not possible here." in text
                assert "Traceback" not in text and 'File "' not in text
    for path in (confirm, unsubscribe):
        for method in ("PUT", "DELETE", "PATCH"):
            assert client.request(method, path).status_code == 405

    assert snapshot(query) == before
    drain(query)
    assert len(smtp.mailbox.messages) == 1


def test_unsubscribe_is_a_bare_post(client, make_site, smtp, worker, query):
    site = make_site(double_opt_in=False)
    assert signup(client, site, "leaver@example.com").status_code == 200
    welcome = smtp.mailbox.wait(1)[0]
    unsubscribe = link(welcome, "unsubscribe")
    # No cookies, no Origin, no Referer, no body, no CSRF token: a plain HTTP client.
    with requests.Session() as bare:
        resp = bare.post(client.url + unsubscribe, allow_redirects=False, timeout=10)
    sent = resp.request.headers
    assert "Cookie" not in sent and "Origin" not in sent and "Referer" not in sent
    assert resp.status_code == 200
    assert "You're unsubscribed" in unescape(resp.text)
    assert "Set-Cookie" not in resp.headers
    assert subscriber(query, "leaver@example.com").status == "unsubscribed"
    vias = query(lambda s: s.scalars(select(StatusChange.via).order_by(StatusChange.id)).all())
    assert vias == ["signup", "unsubscribe_page"]
    # Again: still unsubscribed, and no second history row.
    assert requests.post(client.url + unsubscribe, timeout=10).status_code == 200
    assert query(lambda s: s.scalar(select(func.count(StatusChange.id)))) == 2


@pytest.mark.parametrize("double_opt_in", [True, False], ids=["pending", "confirmed"])
def test_resubscribing_someone_who_never_left_changes_nothing(
        double_opt_in, client, make_site, smtp, worker, query):
    site = make_site(double_opt_in=double_opt_in)
    assert signup(client, site, "stayer@example.com").status_code == 200
    mail = smtp.mailbox.wait(1)[0]
    status = "pending" if double_opt_in else "confirmed"
    drain(query)
    before = snapshot(query)

    for _ in range(2):
        resp = client.post(link(mail, "unsubscribe") + "/resubscribe")
        assert resp.status_code == 200
        text = unescape(resp.text)
        assert "Traceback" not in text
        if status == "pending":  # not on the list yet: the page must not say otherwise
            assert "Welcome back" not in text and "You get e-mails" not in text
            assert "Confirm your subscription" in text
            action = re.search(r'<form method="post" action="([^"]+)"', resp.text).group(1)
            assert action.startswith("/confirm/")
            assert client.get(action).status_code == 200  # its button's page; GET only
        else:
            assert "You get e-mails from Blog" in text
    assert snapshot(query) == before
    assert subscriber(query, "stayer@example.com").status == status
    drain(query)
    assert len(smtp.mailbox.messages) == 1  # no welcome, no confirmation


# --- 7. queued mail for someone who has left ------------------------------------------

@pytest.mark.parametrize("app_config", [{"OUTBOX_MAX_ATTEMPTS": 1000}], indirect=True,
                         ids=["retrying"])
def test_mail_queued_for_someone_who_unsubscribed_is_not_sent(app, client, make_site, smtp,
                                                              worker, query):
    site = make_site()
    smtp.stop()  # the mail server is away: the confirmation waits in the outbox
    assert signup(client, site, "quick@example.com").status_code == 200

    def tried_and_waiting(s):
        row = s.scalar(select(OutboxMessage))
        return row if row.attempts >= 1 and row.status == "queued" and row.last_error \
            else None
    row = wait_until(lambda: query(tried_and_waiting), "a failed first delivery")
    assert row.raw is not None  # rendered, with its links, before the first try

    quick = subscriber(query, "quick@example.com")
    token = mint(app, "unsubscribe", quick)
    assert client.post(f"/unsubscribe/{token}").status_code == 200
    assert subscriber(query, "quick@example.com").status == "unsubscribed"

    smtp.start()  # back on the same port
    skipped = wait_until(lambda: query(lambda s: s.scalar(
        select(OutboxMessage).where(OutboxMessage.status == "skipped"))), "the row to be skipped")
    assert skipped.id == row.id
    assert "unsubscribed" in skipped.last_error
    assert skipped.sent_at is None
    drain(query)
    assert smtp.mailbox.messages == [] and smtp.mailbox.data_count == 0
    assert query(lambda s: s.scalars(select(OutboxMessage.kind)).all()) == ["confirm"]

    # The server is really back: the next person's mail arrives.
    assert signup(client, site, "next@example.com").status_code == 200
    (arrived,) = smtp.mailbox.wait(1)
    assert arrived["To"] == "next@example.com"
    drain(query)
    assert len(smtp.mailbox.messages) == 1
