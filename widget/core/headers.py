"""The one rule for text that reaches an e-mail header: owners' site and sender names,
subjects, gift titles, from and reply-to addresses.

A header ends at a line break, and a mail program decodes RFC 2047 encoded words
(`=?utf-8?q?…?=`) before it reads one, so a value is judged as written *and* as decoded,
with every Unicode line separator (U+0085, U+2028, U+2029, vertical tab, form feed…)
counted as a line break. Forms refuse a bad value (`problem`); building a message
folds one stored by an older version (`clean`), so a message always goes out.
"""
from __future__ import annotations

import re
from email.errors import HeaderParseError
from email.header import decode_header, make_header

# Cc and Zl/Zp: every character str.splitlines() breaks on, and every other control.
BREAKING = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
ENCODED_WORD = re.compile(r"=\?[^?\s]*\?[bBqQ]\?[^?\s]*\?=")
# Why a value may not go into a header, in English: dashboard/forms.one_line shows each
# in the owner's language.
ONE_LINE = "Keep it on one line."
HIDDEN_BREAK = "Write the text as it should read: this encoded word (=?…?=) hides a line break."


def decoded(value: str) -> str:
    """`value` as a mail program shows it: its encoded words decoded (an undecodable one
    stays as written)."""
    if not ENCODED_WORD.search(value):
        return value
    try:
        return str(make_header(decode_header(value)))
    except (HeaderParseError, LookupError, UnicodeDecodeError, ValueError):
        return value


def problem(value: str | None) -> str | None:
    """Why `value` may not go into a header, in the owner's words; None when it may."""
    if not value:
        return None
    if BREAKING.search(value):
        return ONE_LINE
    if BREAKING.search(decoded(value)):
        return HIDDEN_BREAK
    return None


def clean(value: str) -> str:
    """`value` made safe for a header whatever it holds: decoded, each run of line breaks
    and controls a space, and no encoded word left for a mail program to decode again."""
    text = " ".join(BREAKING.sub(" ", decoded(value)).split())
    return ENCODED_WORD.sub(lambda m: m.group(0).replace("=?", "= ?"), text)
