"""mail/mime.py writes our e-mails by hand (for speed); the email package must read back
exactly what was meant: every header, both bodies character for character, no defects,
7-bit short lines (raw UTF-8 only in an SMTPUTF8 message's headers)."""
from __future__ import annotations

from email import message_from_string
from email.policy import default

import pytest
from email_validator import EmailNotValidError, validate_email
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from widget.core import smtp
from widget.mail import mime

HEAD = (("From", '"Blåbær & Co. 🫐" <news@blog.example>'), ("Subject", "Velkommen, =?ok?= 🎉"),
        ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"))


def _content(message, kind: str) -> str:
    # Text parts travel with CRLF line ends (RFC 5322); a reader's text has them too.
    return message.get_body((kind,)).get_content().replace("\r\n", "\n")


def _read(raw: str):
    message = message_from_string(raw, policy=default)
    assert not message.defects, message.defects
    for part in message.walk():
        assert not part.defects, part.defects
    return message


def _write(text: str, html: str, to: str = "reader@example.com", utf8: bool = False) -> str:
    return mime.write(HEAD, to=to, utf8=utf8, message_id="<abc123@blog.example>",
                      list_unsubscribe="https://w.example/unsubscribe/tok.en-_1", lang="nb",
                      text=text, html=html)


def test_headers_and_parts_read_back_as_written():
    text = "Hei Åse 👋\n\n.a line that starts with a dot\nFrom the start\ntrailing space \n"
    html = "<p>Hei <b>Åse</b> 👋 &amp; 50% = 100%</p>\n"
    raw = _write(text, html)
    message = _read(raw)
    assert str(message["From"]) == '"Blåbær & Co. 🫐" <news@blog.example>'
    assert message["From"].addresses[0].display_name == "Blåbær & Co. 🫐"
    assert str(message["Subject"]) == "Velkommen, =?ok?= 🎉"  # not decoded a second time
    assert message["To"].addresses[0].addr_spec == "reader@example.com"
    assert message["Message-ID"] == "<abc123@blog.example>"
    assert message["List-Unsubscribe"] == "<https://w.example/unsubscribe/tok.en-_1>"
    assert message["Content-Language"] == "nb" and message["Date"].datetime is not None
    assert message.get_content_type() == "multipart/alternative"
    assert _content(message, "plain") == text
    assert _content(message, "html") == html
    assert raw.isascii()  # headers encoded, bodies quoted-printable
    assert all(len(line) <= 78 for line in raw.split("\r\n"))
    assert "\n" not in raw.replace("\r\n", "")  # CRLF everywhere, no bare LF


def test_long_lines_are_broken_softly_and_come_back_whole():
    url = "https://w.example/gift/" + "x" * 300
    message = _read(_write(f"Your gift:\n{url}\n", f'<a href="{url}">{"ø" * 200}</a>\n'))
    assert url in _content(message, "plain")
    assert _content(message, "html") == f'<a href="{url}">{"ø" * 200}</a>\n'


def test_an_address_beyond_ascii_goes_as_utf8_and_an_odd_one_through_the_email_package():
    message = _read(_write("hi\n", "<p>hi</p>\n", to="åse@eksempel.no", utf8=True))
    assert message["To"].addresses[0].addr_spec == "åse@eksempel.no"
    odd = _read(_write("hi\n", "<p>hi</p>\n", to='"odd person"@example.com'))
    assert odd["To"].addresses[0].addr_spec == '"odd person"@example.com'
    assert len(odd["To"].addresses) == 1


def test_a_crafted_address_cannot_add_a_header():
    # The email package refuses it (the worker then retries and, in the end, fails it).
    with pytest.raises(ValueError):
        _write("hi\n", "<p>hi</p>\n", to="a@example.com\r\nBcc: evil@example.com")


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(text=st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\r"),
                    max_size=400),
       html=st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\r"),
                    max_size=400))
def test_any_text_comes_back_exactly(text, html):
    # Line ends are \n in what the templates give; a part's text ends with one.
    text, html = text + "\n", html + "\n"
    raw = _write(text, html)
    message = _read(raw)
    assert _content(message, "plain") == text
    assert _content(message, "html") == html
    assert raw.isascii() and all(len(line) <= 78 for line in raw.split("\r\n"))



@settings(max_examples=500, deadline=None)
@given(st.text("abcdefghijklmnopqrstuvwxyz0123456789._+-", min_size=1, max_size=24),
       st.text("abcdefghijklmnopqrstuvwxyz0123456789.-", min_size=1, max_size=24))
def test_a_simple_address_goes_out_as_email_validator_would_have_it(local, domain):
    address = f"{local}@{domain}"
    try:
        checked = validate_email(address, check_deliverability=False)
        expected = smtp.Mailbox(checked.ascii_email, False)
    except EmailNotValidError:  # stored by an older version: as it is
        expected = smtp.Mailbox(address, False)
    assert smtp.mailbox.__wrapped__(address) == expected
