"""Messages a background job stores in English (a feed's error, a webhook delivery's, an
import's, an audit log entry's detail) and the dashboard shows in the owner's language;
also the few reasons of a library (email-validator) that owners meet often.

Each such message is declared once with `stored("… %(name)s …")`, which marks it for the
dashboard's catalogue (a babel keyword, widget/catalog.py) and remembers its shape. The
stored text stays English: the API, the CLI and the logs read it as it is. `shown(text)`
finds a stored text's message and values again, translates the message and shows each
value as shown() would (so a message quoting another is translated whole). A text no
message matches (one stored before its message was declared, or an outside server's
words) is shown as stored.

Written by hand because gettext translates a message id, not a text made from one, and
storing ids and values instead would change what the API and older rows say.
"""
from __future__ import annotations

import re
from functools import lru_cache

from flask_babel import get_locale, gettext

_PLACEHOLDER = re.compile(r"%\((\w+)\)s")
# message → (its pattern, how many characters it has besides its values)
_KNOWN: dict[str, tuple[re.Pattern, int]] = {}


def stored(message: str) -> str:
    """Declare `message` (with %(name)s placeholders only, and words besides them) as one
    a job may store; returns it unchanged, to be filled with `%`."""
    parts = _PLACEHOLDER.split(message)
    # parts alternate: text, name, text, name, … text
    pattern = "".join(re.escape(part) if i % 2 == 0 else f"(?P<{part}>.+?)"
                      for i, part in enumerate(parts))
    assert any(parts[::2]) and "%(" not in "".join(parts[::2]), message
    _KNOWN[message] = (re.compile(pattern + r"\Z", re.S), len("".join(parts[::2])))
    return message


# lists of stored parts, each shown on its own (`listed`): of phrases, and of words
AND = stored("%(first)s; %(rest)s")
COMMA = stored("%(first)s, %(rest)s")


def listed(parts: list[str], joined: str = AND) -> str:
    """`parts` as one stored text ("a; b; c", or with COMMA "a, b, c"), which shown()
    translates part by part."""
    words = parts[-1]
    for part in reversed(parts[:-1]):
        words = joined % {"first": part, "rest": words}
    return words


def shown(text: str | None) -> str:
    """`text` as stored, in the dashboard's language when declared messages made it."""
    if not text:
        return text or ""
    return _shown(text, str(get_locale()))


@lru_cache(maxsize=4096)  # a table repeats its errors; a long selection takes ~1 ms to read
def _shown(text: str, locale: str) -> str:
    return _read(text, {})[1]


def _read(text: str, seen: dict) -> tuple[int, str]:
    """The reading of `text` that finds the most of the messages' own words in it (so
    "%(reason)s (contact %(id)s)" around "Kit answered %(status)s: …" is read as both),
    as (words found, the text translated); (0, text) when no message made it."""
    if text in seen:
        return seen[text]
    best = (0, text)
    for message, (pattern, words) in _KNOWN.items():
        found = pattern.match(text)
        if found is None:
            continue
        values = {name: _read(value, seen) for name, value in found.groupdict().items()}
        score = words + sum(n for n, _ in values.values())
        if score > best[0]:
            best = (score, gettext(message, **{name: value for name, (_, value)
                                               in values.items()}))
    seen[text] = best
    return best
