"""Links in e-mails over real HTTP, a real SMTP server and a real database: links that do
not work when changed, cut, reused for another purpose or outlived; a fresh link for an
expired one; pages whose GET and HEAD change nothing; unsubscribing with a bare POST; and
queued mail that is dropped once its person has left."""
from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from html import unescape

import pytest
import requests
from sqlalchemy import delete, func, select

from widget.models import OutboxMessage, StatusChange, Subscriber, utcnow

from .helpers.mail import (BROWSER_ACCEPT, assert_invalid_page, drain, flip, link, mint,
                           old_confirm_token, signup, snapshot, subscriber, token_of)
from .helpers.waiting import wait_until

pytestmark = pytest.mark.real_smtp  # the app sends its e-mail to the `smtp` fixture's server


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
