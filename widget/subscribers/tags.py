"""Tags on contacts: what a tag may be, and adding or removing them in plain SQL, so the
sign-up's transaction, the owner's edits, bulk changes and imports share one rule.

A tag is trimmed, its inner spaces collapsed and lower-cased ("Checklist gift" and
"checklist gift" are one tag); it holds no comma (commas separate tags in forms and
the CSV) and is at most 64 characters."""
from __future__ import annotations

import re
from collections.abc import Iterable

from widget.core.rawsql import Tx
from widget.models.contacts import TAG_LENGTH

MAX_TAGS = 20  # on one contact, or in one form field
SPACES = re.compile(r"\s+")

ADD = """
INSERT INTO contact_tags (site_id, subscriber_id, tag) VALUES (:site_id, :subscriber_id, :tag)
ON CONFLICT (subscriber_id, tag) DO NOTHING"""
REMOVE = "DELETE FROM contact_tags WHERE subscriber_id = :subscriber_id AND tag = :tag"


class BadTags(ValueError):
    """Tags that break the rule; the message says which, in the owner's words."""


def clean(tag: str) -> str:
    """One tag as it is stored ('' for one of only spaces)."""
    return SPACES.sub(" ", tag.replace("\0", "")).strip().lower()


def parse(text: str | Iterable[str] | None) -> tuple[str, ...]:
    """Tags from a comma-separated text (or a list of tags, as JSON sends them), cleaned,
    without repeats, in the order given. Raises BadTags for one too long, a comma inside
    a listed tag, or more than MAX_TAGS."""
    if text is None:
        return ()
    parts = text.split(",") if isinstance(text, str) else list(text)
    found: list[str] = []
    for part in parts:
        if not isinstance(part, str):
            raise BadTags("Each tag must be text.")
        if "," in part:
            raise BadTags(f"A tag holds no comma: “{part[:40]}”.")
        tag = clean(part)
        if len(tag) > TAG_LENGTH:
            raise BadTags(f"A tag is at most {TAG_LENGTH} characters: “{tag[:40]}…”.")
        if tag and tag not in found:
            found.append(tag)
    if len(found) > MAX_TAGS:
        raise BadTags(f"At most {MAX_TAGS} tags at once.")
    return tuple(found)


def add(tx: Tx, site_id: str, subscriber_id: int, tags: Iterable[str]) -> None:
    """Put these (clean) tags on a contact; ones it has stay as they are."""
    for tag in tags:
        tx.run(ADD, site_id=site_id, subscriber_id=subscriber_id, tag=tag)


def remove(tx: Tx, subscriber_id: int, tags: Iterable[str]) -> None:
    """Take these tags off a contact."""
    for tag in tags:
        tx.run(REMOVE, subscriber_id=subscriber_id, tag=tag)
