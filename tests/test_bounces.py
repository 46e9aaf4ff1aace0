"""Bounces and complaints (issue 18, part 5): a real RFC 3464 report delivered to the
listener (aiosmtpd) or read from an IMAP folder marks the contact bounced, counts a soft
bounce or, for an ARF complaint, unsubscribes; the next letter skips them, the contact
page, list and export show it, and mail to any other address is refused. Real databases
(SQLite and PostgreSQL). The return paths and DKIM signatures e-mail leaves with are
tests/test_bounces_sending.py's."""
from __future__ import annotations

import smtplib
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select, update

from widget.cli import main
from widget.core import db, outbox, vault
from widget.mail import bounces, verp
from widget.subscribers import lifecycle
from widget.models import Event, OutboxMessage, Site, StatusChange, Subscriber, Webhook, utcnow

from .helpers import bounces as shared
from .helpers.bounces import READERS, drain, new_post, reader, return_path
from .helpers.imap import ImapServer
from .helpers.mail import signup
from .helpers.smtp import free_port

pytestmark = pytest.mark.real_smtp
DATA = Path(__file__).parent / "data"
site = shared.site  # a site with three confirmed readers (a fixture)
UNKNOWN = "550 5.1.1 <{0}>: Recipient address rejected: User unknown in virtual mailbox table"


def dsn(to: str, recipient: str, status: str = "5.1.1", action: str = "failed",
        diagnostic: str | None = None) -> bytes:
    """A Postfix-style delivery status notification (multipart/report, RFC 3464)."""
    text = (DATA / "dsn.eml").read_bytes().decode()
    return text.format(to=to, recipient=recipient, action=action, status=status,
                       diagnostic=diagnostic or UNKNOWN.format(recipient)).encode()


def arf(to: str, recipient: str, return_path: str) -> bytes:
    """An abuse report of a feedback loop (ARF, RFC 5965)."""
    text = (DATA / "arf.eml").read_bytes().decode()
    return text.format(to=to, recipient=recipient, return_path=return_path).encode()


@pytest.fixture
def listener(app):
    controller = bounces.listen(app, "127.0.0.1", free_port())
    yield controller
    controller.stop()


def deliver(controller, rcpt: str, raw: bytes) -> None:
    with smtplib.SMTP(controller.hostname, controller.port, timeout=10) as client:
        client.sendmail("", [rcpt], raw)


def test_a_dsn_to_the_listener_bounces_the_contact_and_the_next_letter_skips_them(
        app, site, query, smtp, listener):
    new_post(app, query, site, 1)
    drain(app)
    smtp.mailbox.wait(3)
    ann = READERS[0]
    deliver(listener, return_path(smtp, ann), dsn(return_path(smtp, ann), ann))
    person = reader(query, ann)
    assert person.status == "bounced"
    assert person.bounce_note.startswith("550 5.1.1 <ann@reader.example>: Recipient address")
    assert len(person.bounce_note) <= bounces.NOTE_LENGTH
    history = query(lambda s: [(c.status, c.via) for c in s.scalars(
        select(StatusChange).where(StatusChange.subscriber_id == person.id))])
    assert history == [("bounced", "bounce")]
    sent = query(lambda s: s.scalar(select(OutboxMessage).where(
        OutboxMessage.subscriber_id == person.id)))
    assert sent.bounce == "hard" and sent.status == "sent" and "5.1.1" in sent.last_error
    assert {reader(query, e).status for e in READERS[1:]} == {"confirmed"}

    new_post(app, query, site, 2)
    drain(app)
    smtp.mailbox.wait(5)
    second = [to[0] for _, to in smtp.mailbox.envelopes[3:]]
    assert sorted(second) == sorted(READERS[1:])
    assert query(lambda s: s.scalar(select(OutboxMessage.id).where(
        OutboxMessage.subscriber_id == person.id, OutboxMessage.letter_id.is_not(None))
        .order_by(OutboxMessage.id.desc()))) == sent.id  # no second letter row for ann


def test_mail_to_any_other_address_is_refused_at_rcpt(app, site, query, smtp, listener):
    new_post(app, query, site, 1)
    drain(app)
    smtp.mailbox.wait(3)
    path = return_path(smtp, READERS[0])
    altered = path.replace(path.partition("-")[2][:2], "zz", 1)
    for rcpt in ("news@blog.example", "postmaster@blog.example", altered,
                 path.replace("@blog.example", "@elsewhere.example")):
        with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
            deliver(listener, rcpt, dsn(rcpt, READERS[0]))
        assert refused.value.recipients[rcpt][0] == 550
    assert reader(query, READERS[0]).status == "confirmed"


def sent_rows(app, query, site_id: str, email: str, n: int) -> list[str]:
    """`n` e-mails sent to `email` (outbox rows as the worker leaves them); their VERP
    return paths."""
    def add(s):
        person = s.scalar(select(Subscriber).where(Subscriber.email == email))
        rows = [OutboxMessage(**outbox.new_row("welcome", outbox.recipient(person),
                                               app.config["MAIL_FROM"]))
                for _ in range(n)]
        for row in rows:
            row.status, row.sent_at = "sent", utcnow()
        s.add_all(rows)
        s.commit()
        return [verp.address(app.config, row.id) for row in rows]
    return query(add)


def test_soft_bounces_count_once_an_email_and_the_limit_th_bounces(
        app, site, query, listener):
    hooked = add_webhook(app, query, site)
    bob = READERS[1]
    paths = sent_rows(app, query, site, bob, 3)
    full = "452 4.2.2 <bob@reader.example>: Mailbox full"
    for path in (paths[0], paths[0], paths[1]):  # the first e-mail reported twice
        deliver(listener, path, dsn(path, bob, "4.2.2", "delayed", full))
    person = reader(query, bob)
    assert (person.status, person.soft_bounces) == ("confirmed", 2)
    assert person.bounce_note == full
    deliver(listener, paths[2], dsn(paths[2], bob, "4.2.2", "failed", full))
    person = reader(query, bob)
    assert (person.status, person.soft_bounces) == ("bounced", 3)
    assert query(lambda s: [(e.type, e.contact_id) for e in s.scalars(select(Event))]) == [
        ("contact.updated", person.id)]
    assert hooked


def add_webhook(app, query, site_id: str) -> int:
    def make(s):
        with app.app_context():
            hook = Webhook(site_id=site_id, url="https://hooks.example/in", events="",
                           secret=vault.seal("whsec_dGVzdA=="))
        s.add(hook)
        s.commit()
        return hook.id
    return query(make)


def test_an_arf_complaint_unsubscribes(app, site, query, listener):
    add_webhook(app, query, site)
    cy = READERS[2]
    path = sent_rows(app, query, site, cy, 1)[0]
    deliver(listener, path, arf(path, cy, path))
    person = reader(query, cy)
    assert person.status == "unsubscribed"
    assert query(lambda s: s.scalar(select(StatusChange.via).where(
        StatusChange.subscriber_id == person.id))) == "complaint"
    assert query(lambda s: s.scalar(select(Event.type))) == "contact.unsubscribed"


def test_bounces_read_from_an_imap_folder(app, site, query, monkeypatch, tmp_path):
    ann, bob, cy = READERS
    paths = {e: sent_rows(app, query, site, e, 1)[0] for e in READERS}
    server = ImapServer().start()
    try:
        # No VERP code reached the folder: the failed address is matched to the e-mail.
        server.add(dsn("news@blog.example", ann))
        server.add(b"From: someone@reader.example\r\nTo: news@blog.example\r\n"
                   b"Subject: Out of office\r\n\r\nBack on Monday.\r\n")
        server.add(dsn(paths[bob], bob, "4.4.1", "delayed", "451 4.4.1 No answer from host"))
        server.add(arf("fbl@blog.example", cy, paths[cy]))
        monkeypatch.setenv("WIDGET_INSTANCE_PATH", str(tmp_path / "instance"))
        monkeypatch.setenv("DATABASE_URL", app.config["DATABASE_URL"])
        monkeypatch.setenv("WIDGET_MAIL_FROM", "news@blog.example")
        monkeypatch.setenv("WIDGET_SECRET_KEY", app.config["SECRET_KEY"])
        runner = CliRunner()
        done = runner.invoke(main, ["bounces", "--imap", server.url, "--once"])
        assert done.exit_code == 0, done.output
        assert done.output.strip() == "4 read: 1 hard, 1 soft, 1 complaint, 1 ignored"
        assert server.seen() == [True] * 4
        assert [(reader(query, e).status, reader(query, e).soft_bounces) for e in READERS] \
            == [("bounced", 0), ("confirmed", 1), ("unsubscribed", 0)]
        again = runner.invoke(main, ["bounces", "--imap", server.url, "--once"])
        assert again.output.strip() == "0 read: 0 hard, 0 soft, 0 complaint, 0 ignored"
        wrong = runner.invoke(main, ["bounces", "--imap", server.url.replace("s3cret", "x"),
                                     "--once"])
        assert wrong.exit_code == 1 and "IMAP:" in wrong.output
    finally:
        server.stop()


def test_signing_up_again_after_a_bounce_asks_for_a_new_confirmation(
        app, client, site, query, smtp, listener):

    path = sent_rows(app, query, site, READERS[0], 1)[0]
    deliver(listener, path, dsn(path, READERS[0]))
    assert reader(query, READERS[0]).status == "bounced"
    def no_double_opt_in(s):  # even then: only a new confirmation proves the mailbox
        s.get(Site, site).double_opt_in = False
        s.execute(update(Subscriber).where(Subscriber.email == READERS[0])
                  .values(soft_bounces=2))
        s.commit()
    query(no_double_opt_in)
    assert signup(client, site, READERS[0]).status_code == 200
    person = reader(query, READERS[0])
    assert person.status == "pending"
    drain(app)
    assert smtp.mailbox.wait(1)[0]["Subject"]
    with app.test_request_context():
        assert lifecycle.change_status(db.session(), db.session().get(Subscriber, person.id),
                                       "confirmed", "confirm_page")
    assert (reader(query, READERS[0]).status, reader(query, READERS[0]).soft_bounces) == (
        "confirmed", 0)


def test_the_contact_page_shows_the_bounce_and_the_list_and_export_filter_by_it(
        app, client, site, query, listener):
    ann, bob = READERS[:2]
    path = sent_rows(app, query, site, ann, 1)[0]
    deliver(listener, path, dsn(path, ann))
    soft = sent_rows(app, query, site, bob, 1)[0]
    deliver(listener, soft, dsn(soft, bob, "4.2.2", "delayed", "452 4.2.2 Mailbox full"))
    assert client.login("owner@example.com").status_code == 302
    person = reader(query, ann)
    page = client.get(f"/dashboard/sites/{site}/contacts/{person.id}").text
    for shown in ("Bounced: no more e-mails", "their mail server refused our e-mail",
                  "Recipient address rejected: User unknown", "hard bounce after sending"):
        assert shown in page, shown
    other = client.get(f"/dashboard/sites/{site}/contacts/{reader(query, bob).id}").text
    assert "1 temporary failure counted" in other and "452 4.2.2 Mailbox full" in other
    listed = client.get(f"/dashboard/sites/{site}/contacts?status=bounced")
    assert listed.status_code == 200 and ann in listed.text and bob not in listed.text
    csv = client.get(f"/dashboard/sites/{site}/contacts.csv?status=bounced").text
    assert [line.split(",")[:3] for line in csv.splitlines()[1:]] == [[ann, "", "bounced"]]


def test_the_command_line_asks_for_one_way_of_reading():
    runner = CliRunner()
    assert "either --listen" in runner.invoke(main, ["bounces"]).output
    both = runner.invoke(main, ["bounces", "--listen", "127.0.0.1:2525", "--imap", "imaps://a@b"])
    assert both.exit_code == 2 and "either --listen" in both.output
    assert "HOST:PORT" in runner.invoke(main, ["bounces", "--listen", "nowhere"]).output
    assert "imaps://" in runner.invoke(main, ["bounces", "--imap", "pop3://a@b"]).output
