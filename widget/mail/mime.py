"""The bytes of our e-mails: multipart/alternative, a plain-text and an HTML part.

Written here rather than through `email.message.EmailMessage`, for speed: building and
serialising one message with the email package took about 1.8 ms on the machine the
benchmarks run on, four times what sending it over an open SMTP session takes, and the
worker has to keep pace with that session (issue 15: at least 0.6x of a plain smtplib
loop; a Friday letter goes to every reader). What needs the email package's care still
gets it: headers made of people's words (From with the site's name, Subject) are folded
and RFC 2047-encoded by it, once per distinct value. The rest is ASCII this program makes
(the date, the Message-ID, its own URLs) or an address `core/smtp.mailbox` checked, and
each body is quoted-printable (binascii, in C), so every line is 7-bit and short whatever
the text says. tests/test_mail_mime.py reads what this writes back with the email package.
"""
from __future__ import annotations

import binascii
import re
import secrets
from email.message import EmailMessage
from email.policy import SMTP, SMTPUTF8
from email.utils import format_datetime

from widget.models import utcnow

# An address that can go into a header as it is: dot-atoms of ASCII letters, digits and
# the specials RFC 5322 allows unquoted, and an ASCII (IDNA) domain. Others (a UTF-8
# local part, a row an older version stored) go through the email package.
PLAIN_ADDRESS = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@[A-Za-z0-9.-]+")
CRLF = "\r\n"


def _policy(utf8: bool):
    return SMTPUTF8 if utf8 else SMTP


def header(name: str, value, utf8: bool = False) -> str:
    """One header as the email package writes it: folded, words beyond ASCII encoded
    (raw UTF-8 under SMTPUTF8), ending in CRLF. `value`: a str or an Address."""
    message = EmailMessage(policy=_policy(utf8))
    message[name] = value
    return message.as_string().removesuffix(CRLF)  # no body: the header, then a blank line


_HEADS: dict[tuple, str] = {}  # header block → its lines: a few per site, kind and language
_HEADS_MAX = 4096


def fixed_head(items: tuple[tuple[str, str], ...], utf8: bool) -> str:
    """The header lines that are the same for every reader of one site's kind of message
    in one language (From, Reply-To, Subject …), written once and kept."""
    key = (items, utf8)
    lines = _HEADS.get(key)
    if lines is None:
        if len(_HEADS) >= _HEADS_MAX:  # owners' edits make new ones: never grow for ever
            _HEADS.clear()
        lines = _HEADS[key] = "".join(header(name, value, utf8) for name, value in items)
    return lines


def _body(text: str) -> str:
    # Quoted-printable with CRLF line ends: = and bytes beyond ASCII as =XX, lines longer
    # than 76 broken with soft breaks, trailing spaces kept as =20.
    encoded = binascii.b2a_qp(text.encode(), istext=True).decode("ascii")
    return encoded.replace("\r\n", "\n").replace("\n", CRLF)


def _part(subtype: str, text: str) -> str:
    # The line break before a boundary belongs to the boundary (RFC 2046): one more, so
    # the text keeps its own last one.
    return (f'Content-Type: text/{subtype}; charset="utf-8"{CRLF}'
            f"Content-Transfer-Encoding: quoted-printable{CRLF}{CRLF}{_body(text)}{CRLF}")


def write(head: tuple[tuple[str, str], ...], *, to: str, utf8: bool, message_id: str,
          list_unsubscribe: str | None, lang: str, text: str, html: str) -> str:
    """A whole message as a string with CRLF line ends: `head`'s fixed headers, then To
    (the bare address), Date, Message-ID, List-Unsubscribe (an https URL of ours) and the
    two parts. `utf8`: the address needs SMTPUTF8 (letters beyond ASCII before the @)."""
    to_line = (f"To: {to}{CRLF}" if not utf8 and PLAIN_ADDRESS.fullmatch(to)
               else header("To", to, utf8))
    boundary = f"=_{secrets.token_hex(12)}"  # never in a quoted-printable body (no "=_")
    lines = [fixed_head(head, utf8), to_line, f"Date: {format_datetime(utcnow())}{CRLF}",
             f"Message-ID: {message_id}{CRLF}"]
    if list_unsubscribe:
        lines.append(f"List-Unsubscribe: <{list_unsubscribe}>{CRLF}")
    lines += [f"Content-Language: {lang}{CRLF}", f"MIME-Version: 1.0{CRLF}",
              f'Content-Type: multipart/alternative; boundary="{boundary}"{CRLF}{CRLF}',
              f"--{boundary}{CRLF}", _part("plain", text), f"--{boundary}{CRLF}",
              _part("html", html), f"--{boundary}--{CRLF}"]
    return "".join(lines)
