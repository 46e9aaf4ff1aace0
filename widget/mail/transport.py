"""Delivery to an SMTP server (smtplib), or to the dev outbox when none is configured."""
from __future__ import annotations

import base64
import smtplib
import ssl
from dataclasses import dataclass
from functools import cache
from urllib.parse import parse_qs, unquote, urlsplit

TIMEOUT = 30  # seconds for connect and each SMTP command


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


def send_smtp(settings: SmtpSettings, sender: str, recipient: str, raw: bytes) -> None:
    """Hand one message to the server for exactly one recipient.

    The envelope names the recipient explicitly, so nothing in the headers can add
    another. Raises PermanentError or TransientError.
    """
    context = _tls_context()
    try:
        if settings.implicit_tls:
            smtp = smtplib.SMTP_SSL(settings.host, settings.port, timeout=TIMEOUT,
                                    context=context)
        else:
            smtp = smtplib.SMTP(settings.host, settings.port, timeout=TIMEOUT)
        with smtp:
            smtp.ehlo()
            if not settings.implicit_tls:
                if smtp.has_extn("starttls"):
                    smtp.starttls(context=context)
                    smtp.ehlo()
                elif settings.require_starttls:
                    raise PermanentError("the server does not offer STARTTLS, and "
                                         "WIDGET_SMTP_URL requires it")
            if settings.username:
                _login(smtp, settings.username, settings.password or "")
            smtp.sendmail(sender, [recipient], raw)
    except smtplib.SMTPAuthenticationError as exc:
        # The operator's settings, not this message, are at fault: keep it for a retry.
        raise TransientError(f"log-in refused: {exc.smtp_code}") from None
    except smtplib.SMTPRecipientsRefused as exc:
        code, message = next(iter(exc.recipients.values()))
        raise _classify(code, message) from None
    except smtplib.SMTPResponseException as exc:
        raise _classify(exc.smtp_code, exc.smtp_error) from None
    except (smtplib.SMTPException, OSError) as exc:
        raise TransientError(f"{type(exc).__name__}: {exc}") from None


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
