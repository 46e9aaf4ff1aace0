"""Bounces and complaints, read back: a small inbound SMTP listener (aiosmtpd, `widget
bounces --listen`) or an IMAP mailbox (imaplib, `widget bounces --imap`) hands every
message to `handle`, which finds the outbox message it is about, classifies it and
records it on the contact.

Finding the message: its VERP return path (mail/verp.py) wherever the report carries
it (the envelope's recipient, To / Delivered-To, a complaint's Original-Mail-From or the
returned message's Return-Path); else the failed addresses flufl.bounce reads, matched
against the newest e-mail sent to that mailbox.

Classifying: a part of type message/feedback-report (ARF, RFC 5965) is a complaint;
else flufl.bounce's all_failures says permanent or temporary. A "failed" report whose
every status is 4.x.x (a full mailbox given up on) counts as temporary: the mailbox
exists. Anything else is ignored (an out-of-office reply, a stray message).

Recording, in one transaction: a hard bounce makes the contact `bounced`, a complaint
`unsubscribed` (StatusChange via "bounce" / "complaint" and the contact's event, through
subscribers/lifecycle), and a soft bounce counts once per e-mail (a server's repeated
"still trying" reports about one message are one), WIDGET_SOFT_BOUNCE_LIMIT of them
making the contact bounced. The e-mail's outbox row keeps what came back.
"""
from __future__ import annotations

import asyncio
import email
import imaplib
import logging
import re
import ssl
from dataclasses import dataclass
from email.message import Message
from email.parser import HeaderParser
from email.policy import compat32
from email.utils import getaddresses
from urllib.parse import unquote, urlsplit

from flask import Flask
from flufl.bounce import all_failures
from sqlalchemy import select, update

from widget.core import db, outbox
from widget.core.said import stored
from widget.mail import verp
from widget.models import OutboxMessage, Subscriber, utcnow
from widget.subscribers import lifecycle

log = logging.getLogger(__name__)
NOTE_LENGTH = 200  # the mail server's words kept on the contact
MAX_MESSAGE = 10 << 20  # a bounce carries at most our e-mail back: far less than this
ENVELOPE_HEADERS = ("To", "Delivered-To", "X-Original-To", "Envelope-To")
IMAP_TIMEOUT = 60
KINDS = ("hard", "soft", "complaint")
# what the outbox row says once a bounce came back (the mail server's words after it)
AFTER_SENDING = {"hard": stored("hard bounce after sending: %(note)s"),
                 "soft": stored("soft bounce after sending: %(note)s")}


@dataclass(frozen=True)
class Outcome:
    """What one message came to: `kind` hard, soft, complaint or ignored; the contact
    it was about and whether its status changed (bounced, or unsubscribed)."""
    kind: str
    subscriber_id: int | None = None
    changed: bool = False
    why: str = ""


def handle(app: Flask, raw: bytes, recipients: tuple[str, ...] = ()) -> Outcome:
    """Read one incoming message `raw` (sent to `recipients`, when the listener knows the
    envelope) and record what it reports; commits. Raises only when the database does
    (the caller keeps the message, to try again)."""
    msg = email.message_from_bytes(raw, policy=compat32)  # flufl.bounce reads compat32
    kind, failed, note = classify(msg)
    if kind == "ignored":
        return Outcome("ignored", why=note)
    with app.app_context():
        session = db.session()
        row = _by_verp(session, app.config, _return_paths(msg, recipients))
        if row is None:
            row = _by_address(session, failed)
        if row is None or row.subscriber_id is None:
            log.info("a %s bounce about no e-mail of ours: %s", kind, ", ".join(failed))
            return Outcome("ignored", why="about no e-mail of ours")
        return record(session, app.config, row, kind, note)


def classify(msg: Message) -> tuple[str, list[str], str]:
    """(kind, the addresses it names as failed, a short note): kind is hard, soft,
    complaint or ignored."""
    reports = [part for part in msg.walk()
               if part.get_content_type() == "message/feedback-report"]
    if reports:
        fields = _fields(reports[0])
        named = [a for _, a in getaddresses(fields.get_all("Original-Rcpt-To", []))]
        who = fields.get("User-Agent") or fields.get("Reporting-MTA") or ""
        note = f"complaint ({fields.get('Feedback-Type', 'abuse').strip()})"
        return "complaint", named, _short(f"{note} {who}")
    try:
        temporary, permanent = all_failures(msg)
    except Exception:  # a detector tripped on odd input: no reason to refuse the message
        log.exception("flufl.bounce could not read a message")
        return "ignored", [], "not readable as a bounce"
    statuses = [(block.get("Status", "").strip(), block.get("Diagnostic-Code", ""))
                for part in msg.walk() if part.get_content_type() == "message/delivery-status"
                for block in (part.get_payload() if part.is_multipart() else [])]
    note = next((_short(_said(status, why)) for status, why in statuses if status or why), "")
    failed = [a.decode("ascii", "replace") for a in (*permanent, *temporary)]
    if permanent and not all(status.startswith("4") for status, _ in statuses if status):
        return "hard", failed, note or "permanent failure"
    if permanent or temporary:
        return "soft", failed, note or "temporary failure"
    return "ignored", [], "not a bounce report"


def _said(status: str, diagnostic: str) -> str:
    """What the remote server said ("smtp; 550 5.1.1 …" without its type), with the
    status code when the words lack it."""
    words = (diagnostic.partition(";")[2] or diagnostic).strip()
    return words if status in words else f"{status} {words}".strip()


def _fields(part: Message) -> Message:
    """A message/feedback-report part's fields (the email package may have parsed them
    as a message inside, or left them as text)."""
    payload = part.get_payload()
    if isinstance(payload, list):
        return payload[0] if payload else Message()
    return HeaderParser(policy=compat32).parsestr(payload or "", headersonly=True)


def _short(text: str) -> str:
    text = re.sub(r"\s+", " ", text).strip()
    return text if len(text) <= NOTE_LENGTH else text[:NOTE_LENGTH - 1] + "…"


def _return_paths(msg: Message, recipients: tuple[str, ...]) -> list[str]:
    """Where a VERP code may be: the envelope, the report's own addressing, a
    complaint's Original-Mail-From, and the Return-Path of the message it returns."""
    found = list(recipients)
    for name in ENVELOPE_HEADERS:
        found += [a for _, a in getaddresses(msg.get_all(name, []))]
    for part in msg.walk():
        kind = part.get_content_type()
        if kind == "message/feedback-report":
            found += [a for _, a in getaddresses(_fields(part).get_all("Original-Mail-From",
                                                                       []))]
        elif kind in ("message/rfc822", "text/rfc822-headers"):
            returned = _fields(part)
            found += [a for _, a in getaddresses(returned.get_all("Return-Path", []))]
    return found


def _by_verp(session, config, addresses: list[str]) -> OutboxMessage | None:
    for address in addresses:
        message_id = verp.decode(config, address)
        if message_id is not None:
            row = session.get(OutboxMessage, message_id)
            if row is not None:  # else cleaned up since: the addresses may still tell
                return row
    return None


def _by_address(session, addresses: list[str]) -> OutboxMessage | None:
    """The newest e-mail sent to a subscriber at one of `addresses`' mailboxes."""
    for address in addresses:
        row = session.scalar(select(OutboxMessage).where(
            OutboxMessage.mailbox == outbox.mailbox_of(address.strip().lower()),
            OutboxMessage.subscriber_id.is_not(None), OutboxMessage.status == "sent",
            OutboxMessage.kind.not_in(outbox.NOT_MAIL))
            .order_by(OutboxMessage.id.desc()).limit(1))
        if row is not None:
            return row
    return None


def record(session, config, row: OutboxMessage, kind: str, note: str) -> Outcome:
    """Record a bounce (`kind` hard or soft) or a complaint about the e-mail `row` on
    its contact; commits."""
    assert kind in KINDS, kind
    person = session.get(Subscriber, row.subscriber_id)
    if person is None:  # erased meanwhile
        return Outcome("ignored", why="the contact was erased")
    first = row.bounce is None  # a soft bounce counts once per e-mail
    now = utcnow()
    session.execute(update(OutboxMessage).where(OutboxMessage.id == row.id).values(
        bounce=kind if first or kind != "soft" else row.bounce,
        last_error=_short(AFTER_SENDING[kind] % {"note": note} if kind in AFTER_SENDING
                          else note)))
    values = {"bounced_at": now, "bounce_note": note}
    if kind == "soft" and first:
        values["soft_bounces"] = Subscriber.soft_bounces + 1
    session.execute(update(Subscriber).where(Subscriber.id == person.id).values(**values)
                    .execution_options(synchronize_session=False))
    session.flush()
    session.refresh(person)
    to = {"hard": "bounced", "complaint": "unsubscribed"}.get(kind)
    if kind == "soft" and person.soft_bounces >= config["SOFT_BOUNCE_LIMIT"]:
        to = "bounced"
    if to is None:
        session.commit()
        return Outcome(kind, person.id)
    moved = lifecycle.change_status(session, person, to,
                                    "complaint" if kind == "complaint" else "bounce")
    return Outcome(kind, person.id, moved)


class _Listener:
    """aiosmtpd's handler: RCPT only for our VERP addresses (the code checked), DATA
    recorded in a thread (the database must not block the event loop)."""

    def __init__(self, app: Flask):
        self.app = app

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if verp.decode(self.app.config, address) is None:
            return "550 5.1.1 No such bounce address here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        try:
            done = await asyncio.get_running_loop().run_in_executor(
                None, handle, self.app, envelope.content, tuple(envelope.rcpt_tos))
        except Exception:  # the sender keeps it and tries again later
            log.exception("a bounce could not be recorded")
            return "451 4.3.0 Could not record it now; try again later"
        log.info("bounce: %s %s %s", done.kind, done.subscriber_id or "", done.why)
        return "250 OK"


def listen(app: Flask, host: str, port: int):
    """Start the inbound SMTP listener on host:port in a thread of its own; returns its
    aiosmtpd Controller (stop() ends it)."""
    from aiosmtpd.controller import Controller

    controller = Controller(_Listener(app), hostname=host, port=port,
                            data_size_limit=MAX_MESSAGE)
    controller.start()
    return controller


@dataclass(frozen=True)
class ImapSettings:
    host: str
    port: int
    tls: bool  # implicit TLS (imaps://); imap:// uses STARTTLS when offered
    username: str
    password: str
    folder: str

    @classmethod
    def parse(cls, url: str) -> "ImapSettings":
        """Read imaps://user:pass@host[:993]/INBOX (or imap://… on port 143)."""
        parts = urlsplit(url)
        if parts.scheme not in ("imap", "imaps"):
            raise ValueError(f"use imaps:// or imap://, not {parts.scheme or 'no scheme'}://")
        if not parts.hostname or not parts.username:
            raise ValueError("the URL needs a user and a host: imaps://user:pass@host/INBOX")
        try:
            port = parts.port
        except ValueError:
            raise ValueError("the port is not a number") from None
        tls = parts.scheme == "imaps"
        return cls(parts.hostname, port or (993 if tls else 143), tls, unquote(parts.username),
                   unquote(parts.password or ""), unquote(parts.path.lstrip("/")) or "INBOX")


def read_mailbox(app: Flask, url: str) -> list[Outcome]:
    """Read the unseen messages of the IMAP folder in `url` once: each recorded, then
    marked seen (one that could not be recorded stays unseen for the next round)."""
    settings = ImapSettings.parse(url)
    context = ssl.create_default_context()
    client = (imaplib.IMAP4_SSL(settings.host, settings.port, ssl_context=context,
                                timeout=IMAP_TIMEOUT) if settings.tls
              else imaplib.IMAP4(settings.host, settings.port, timeout=IMAP_TIMEOUT))
    done = []
    try:
        if not settings.tls and "STARTTLS" in client.capabilities:
            client.starttls(ssl_context=context)
        client.login(settings.username, settings.password)
        _ok(client.select(_quoted(settings.folder)), "SELECT")
        numbers = _ok(client.search(None, "UNSEEN"), "SEARCH")[0].split()
        for number in numbers:
            # PEEK: the message is marked seen only once it is recorded.
            fetched = _ok(client.fetch(number, "(BODY.PEEK[])"), "FETCH")
            raw = next((item[1] for item in fetched if isinstance(item, tuple)), None)
            if raw is None:
                continue
            try:
                done.append(handle(app, raw))
            except Exception:
                log.exception("IMAP message %s could not be recorded", number.decode())
                continue
            _ok(client.store(number, "+FLAGS", "(\\Seen)"), "STORE")
    finally:
        try:
            client.logout()
        except (imaplib.IMAP4.error, OSError):
            pass
    return done


def _quoted(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _ok(answer, command: str):
    kind, data = answer
    if kind != "OK":
        raise imaplib.IMAP4.error(f"{command} refused: {data!r}")
    return data
