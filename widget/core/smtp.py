"""Delivery to an SMTP server (smtplib), and what it can deliver to: every address's
domain goes out IDNA-encoded (xn--); an address with letters beyond ASCII before the @
needs a server that offers SMTPUTF8 (RFC 6531), which sign-ups ask before they accept
one (`carries_utf8`), so no row waits for a server that can never take it.

In core, not in mail/, because the sign-up checks (sites/) ask it too."""
from __future__ import annotations

import base64
import re
import smtplib
import ssl
import threading
import time
from dataclasses import dataclass
from functools import cache, lru_cache
from urllib.parse import parse_qs, unquote, urlsplit

from email_validator import EmailNotValidError, validate_email

from widget.core.said import stored

TIMEOUT = 30  # seconds for connect and each SMTP command
PROBE_TIMEOUT = 5  # a sign-up waits at most this long for the answer, once in a while
PROBE_SECONDS = 600  # how long a server's answer is believed


# What this module stores in English, shown translated in the dashboard (core/said.py)
NO_STARTTLS = stored("the server does not offer STARTTLS, and WIDGET_SMTP_URL requires it")
NO_SMTPUTF8 = stored("the mail server does not offer SMTPUTF8, so it cannot take an address with "
                     "letters beyond ASCII before the @")
LOGIN_REFUSED = stored("log-in refused: %(code)s")
UNSENDABLE = stored("the address cannot be sent: %(reason)s")


class PermanentError(Exception):
    """The server refused for good (5xx): retrying cannot help."""


class TransientError(Exception):
    """Try again later: the server is down, busy (4xx) or the connection broke."""


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    implicit_tls: bool
    require_starttls: bool
    username: str | None
    password: str | None

    @classmethod
    def parse(cls, url: str) -> "SmtpSettings":
        """Read smtp://user:pass@host:587[?starttls=require] or smtps://user:pass@host:465."""
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps"):
            raise ValueError(f"use smtp:// or smtps://, not {parts.scheme or 'no scheme'}://")
        if not parts.hostname:
            raise ValueError("the URL names no host")
        try:
            port = parts.port
        except ValueError:
            raise ValueError("the port is not a number") from None
        query = parse_qs(parts.query)
        starttls = query.get("starttls", ["auto"])[-1]
        if starttls not in ("auto", "require"):
            raise ValueError("starttls may be 'auto' or 'require'")
        implicit = parts.scheme == "smtps"
        return cls(parts.hostname, port or (465 if implicit else 587), implicit,
                   starttls == "require", unquote(parts.username) if parts.username else None,
                   unquote(parts.password) if parts.password else None)


@cache
def _tls_context() -> ssl.SSLContext:
    """One verifying TLS context per process: building one loads the system's CA
    certificates, which cost more than the rest of a send."""
    return ssl.create_default_context()


@dataclass(frozen=True)
class Mailbox:
    address: str  # for the envelope and the To header: the domain in ASCII (xn--)
    utf8: bool  # letters beyond ASCII before the @: SMTPUTF8 all the way


SIMPLE = re.compile(r"[a-z0-9._+-]+@[a-z0-9.-]+")  # lower-case ASCII, no quoting


@lru_cache(maxsize=1024)  # asked when a message is written and again when it is sent
def mailbox(address: str) -> Mailbox:
    """How `address` goes out. An address that no longer validates (stored by an older
    version) goes as it is, and the server's answer decides."""
    if SIMPLE.fullmatch(address):
        # What validate_email would give either way (it keeps an ASCII local part and
        # lower-cases the domain; an invalid one goes as it is), without its 0.1 ms:
        # a letter to 100,000 readers asks for 100,000 different addresses.
        return Mailbox(address, False)
    try:
        checked = validate_email(address, check_deliverability=False)
    except EmailNotValidError:
        return Mailbox(address, not address.isascii())
    if checked.ascii_email:
        return Mailbox(checked.ascii_email, False)
    return Mailbox(f"{checked.local_part}@{checked.ascii_domain}", True)


def _connect(settings: SmtpSettings, timeout: float) -> smtplib.SMTP:
    """A session past EHLO (and STARTTLS where offered or required)."""
    context = _tls_context()
    if settings.implicit_tls:
        smtp = smtplib.SMTP_SSL(settings.host, settings.port, timeout=timeout,
                                context=context)
    else:
        smtp = smtplib.SMTP(settings.host, settings.port, timeout=timeout)
    try:
        smtp.ehlo()
        if not settings.implicit_tls:
            if smtp.has_extn("starttls"):
                smtp.starttls(context=context)
                smtp.ehlo()
            elif settings.require_starttls:
                raise PermanentError(NO_STARTTLS)
    except BaseException:
        smtp.close()
        raise
    return smtp


_probe_lock = threading.Lock()


def carries_utf8(config, seen: dict) -> bool:
    """Whether the app's mail (its `config`) can carry an address with letters beyond
    ASCII before the @: always with the dev outbox (no SMTP_URL); else what the operator
    declared (WIDGET_SMTPUTF8 on or off), or, with auto, whether the server offers
    SMTPUTF8, asked at most every ten minutes and remembered in `seen` (one dict per
    app). A server that cannot be reached gets the benefit of the doubt: its answer at
    sending time decides, at once."""
    smtp_url, declared = config["SMTP_URL"], config["SMTPUTF8"]
    if not smtp_url or declared == "on":
        return True
    if declared == "off":
        return False
    with _probe_lock:
        asked_at, offered = seen.get(smtp_url, (None, None))
        if asked_at is not None and time.monotonic() - asked_at < PROBE_SECONDS:
            return offered
        try:
            with _connect(SmtpSettings.parse(smtp_url), PROBE_TIMEOUT) as smtp:
                offered = smtp.has_extn("smtputf8")
        except (smtplib.SMTPException, OSError, PermanentError):
            return True
        seen[smtp_url] = (time.monotonic(), offered)
        return offered


class Session:
    """One SMTP session for many messages (a worker's batch): opened on the first message
    (EHLO, STARTTLS, log-in), kept for the next ones, closed with QUIT by `close()` or at
    the end of a `with` block.

    A message that failed mid-transaction is followed by RSET, so the next one starts
    clean. When a session that had already been used turns out to be dropped (the server
    closed it between messages, or answered 421), the message is tried once more on a
    fresh session before its error counts: a server may close an idle or busy session at
    any time, and that says nothing about the message."""

    def __init__(self, settings: SmtpSettings, timeout: float = TIMEOUT):
        self.settings, self.timeout = settings, timeout
        self._smtp: smtplib.SMTP | None = None

    def __enter__(self) -> "Session":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def send(self, sender: str, recipient: str, raw: bytes) -> None:
        """Hand one message to the server for exactly one recipient.

        The envelope names the recipient explicitly, so nothing in the headers can add
        another. Raises PermanentError or TransientError.
        """
        to = mailbox(recipient)
        try:
            reused = self._smtp is not None
            try:
                self._transaction(sender, to, raw)
            except (smtplib.SMTPException, OSError) as exc:
                if not (reused and _dropped(exc)):
                    raise
                self._discard()
                self._transaction(sender, to, raw)
        except smtplib.SMTPAuthenticationError as exc:
            # The operator's settings, not this message, are at fault: keep it for a retry.
            raise TransientError(LOGIN_REFUSED % {
                "code": exc.smtp_code}) from None
        except smtplib.SMTPRecipientsRefused as exc:
            code, message = next(iter(exc.recipients.values()))
            raise _classify(code, message) from None
        except smtplib.SMTPResponseException as exc:
            raise _classify(exc.smtp_code, exc.smtp_error) from None
        except (smtplib.SMTPException, OSError) as exc:
            raise TransientError(f"{type(exc).__name__}: {exc}") from None
        except UnicodeError as exc:  # an address no server could take: retrying cannot help
            raise PermanentError(UNSENDABLE % {
                "reason": exc}) from None

    def close(self) -> None:
        """End the session politely (QUIT); a session that is already gone just goes."""
        smtp, self._smtp = self._smtp, None
        if smtp is None:
            return
        try:
            smtp.quit()
        except (smtplib.SMTPException, OSError):
            pass
        finally:
            smtp.close()

    def _open(self) -> smtplib.SMTP:
        smtp = _connect(self.settings, self.timeout)
        try:
            if self.settings.username:
                _login(smtp, self.settings.username, self.settings.password or "")
        except BaseException:
            smtp.close()
            raise
        self._smtp = smtp
        return smtp

    def _transaction(self, sender: str, to: Mailbox, raw: bytes) -> None:
        smtp = self._smtp or self._open()
        if to.utf8 and not smtp.has_extn("smtputf8"):
            raise PermanentError(NO_SMTPUTF8)
        # SMTPUTF8 implies 8BITMIME (RFC 6531): the headers carry UTF-8 as it is.
        options = ["SMTPUTF8", "BODY=8BITMIME"] if to.utf8 else []
        try:
            smtp.sendmail(sender, [to.address], raw, mail_options=options)
        except BaseException:
            self._reset()
            raise

    def _reset(self) -> None:
        """After a failed message: RSET if the session is still there (smtplib resets
        after some refusals, not after all, e.g. an address it cannot encode after MAIL
        was accepted); a session that cannot take RSET is dropped."""
        if self._smtp is None:
            return
        if self._smtp.sock is None:  # smtplib closed it (a 421, a broken connection)
            self._discard()
            return
        try:
            code, _ = self._smtp.rset()
        except (smtplib.SMTPException, OSError):
            code = None
        if code != 250:
            self._discard()

    def _discard(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            smtp.close()


def _dropped(exc: Exception) -> bool:
    """Whether `exc` says the session is gone (not that this message was refused)."""
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return True
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return any(code == 421 for code, _ in exc.recipients.values())
    if isinstance(exc, smtplib.SMTPResponseException):
        return exc.smtp_code == 421
    return not isinstance(exc, smtplib.SMTPException)  # a socket error


def _login(smtp: smtplib.SMTP, username: str, password: str) -> None:
    """Log in; smtplib encodes credentials as ASCII only, so a password with "é" in it
    goes as AUTH PLAIN in UTF-8 (RFC 4616), written here."""
    if (username + password).isascii():
        smtp.login(username, password)
        return
    token = base64.b64encode(b"\0" + username.encode() + b"\0" + password.encode())
    code, answer = smtp.docmd("AUTH", "PLAIN " + token.decode("ascii"))
    if code != 235:
        raise smtplib.SMTPAuthenticationError(code, answer)


def _classify(code: int, message) -> Exception:
    text = message.decode(errors="replace") if isinstance(message, bytes) else str(message)
    error = f"{code} {text}"
    return PermanentError(error) if 500 <= code < 600 else TransientError(error)
