"""A feed's bytes to its entries: RSS and Atom through feedparser, JSON Feed through the
json module (feedparser 6.0 does not read it).

feedparser is only ever given the bytes we fetched, wrapped in a stream: given a URL it
would fetch it itself (past our address guard), and given plain bytes it tries them as a
file name first, so a feed whose whole body was "/etc/passwd" would be read from disk."""
from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass
from datetime import datetime, timezone
from urllib.parse import urljoin, urlsplit

import feedparser

from widget.core.said import stored

MAX_ENTRIES = 500  # a feed's first this many entries are read (blogs list 10 to 50)
MAX_TITLE = 500
MAX_LINK = 2048
MAX_SUMMARY = 20_000
JSON_FEED = "https://jsonfeed.org/version/"


# What this module stores in English, shown translated in the dashboard (core/said.py)
NOT_A_FEED = stored("What the address gives is not an RSS, Atom or JSON feed.")
WEB_PAGE = stored("The address gives a web page, not a feed: use the blog's feed address (often "
                  "ending in /feed, /rss or /atom.xml).")
NOT_JSON_FEED = stored("What the address gives is JSON but not a JSON Feed (jsonfeed.org).")
BAD_JSON = stored("What the address gives is JSON that does not parse, not a feed.")


class NotAFeed(ValueError):
    """The bytes are no RSS, Atom or JSON Feed; the message says so in the owner's words."""


@dataclass(frozen=True)
class Entry:
    """One post as a feed lists it."""
    key: str  # SHA-256 (hex) of the entry's id or guid, else of its link
    title: str
    link: str | None
    summary: str
    published_at: datetime | None


def key_of(ident: str) -> str:
    """The stable key of an entry's id, guid or link: one length whatever it is."""
    return hashlib.sha256(ident.encode("utf-8", "surrogatepass")).hexdigest()


def entries(body: bytes, content_type: str, url: str) -> list[Entry]:
    """The entries of the feed `body` fetched from `url`, each key once, in the feed's
    order. Raises NotAFeed."""
    if "json" in content_type.lower() or body.lstrip()[:1] == b"{":
        found = _json_feed(body, url)
    else:
        found = _xml_feed(body, content_type, url)
    seen, kept = set(), []
    for entry in found:
        if entry.key not in seen:
            seen.add(entry.key)
            kept.append(entry)
    return kept


def _entry(ident, link, title, summary, published, base: str) -> Entry | None:
    link = urljoin(base, link.strip()) if isinstance(link, str) and link.strip() else None
    if link and (urlsplit(link).scheme not in ("http", "https") or len(link) > MAX_LINK):
        link = None  # a letter links only to web pages
    ident = str(ident).strip() if ident not in (None, "") else (link or "")
    if not ident:
        return None  # nothing stable to know it by next time
    return Entry(key_of(ident), (title if isinstance(title, str) else "").strip()[:MAX_TITLE],
                 link, (summary if isinstance(summary, str) else "")[:MAX_SUMMARY], published)


def _xml_feed(body: bytes, content_type: str, url: str) -> list[Entry]:
    parsed = feedparser.parse(io.BytesIO(body), response_headers={
        "content-location": url, "content-type": content_type or "application/xml"})
    if not parsed.get("version"):
        head = body[:512].lstrip().lower()
        if head.startswith((b"<!doctype html", b"<html")):
            raise NotAFeed(WEB_PAGE)
        raise NotAFeed(NOT_A_FEED)
    found = []
    for item in parsed.entries[:MAX_ENTRIES]:
        stamp = item.get("published_parsed") or item.get("updated_parsed")
        when = datetime(*stamp[:6], tzinfo=timezone.utc) if stamp else None
        entry = _entry(item.get("id"), item.get("link"), item.get("title"),
                       item.get("summary"), when, url)
        if entry:
            found.append(entry)
    return found


def _json_feed(body: bytes, url: str) -> list[Entry]:
    try:
        doc = json.loads(body)
    except ValueError:  # also a UnicodeDecodeError
        raise NotAFeed(BAD_JSON) from None
    if not (isinstance(doc, dict) and str(doc.get("version", "")).startswith(JSON_FEED)
            and isinstance(doc.get("items"), list)):
        raise NotAFeed(NOT_JSON_FEED)
    found = []
    for item in doc["items"][:MAX_ENTRIES]:
        if not isinstance(item, dict):
            continue
        summary = next((item[k] for k in ("summary", "content_html", "content_text")
                        if isinstance(item.get(k), str) and item[k]), "")
        entry = _entry(item.get("id"), item.get("url"), item.get("title"), summary,
                       _iso_time(item.get("date_published") or item.get("date_modified")),
                       url)
        if entry:
            found.append(entry)
    return found


def _iso_time(value) -> datetime | None:
    """An RFC 3339 time as JSON Feed gives it, in UTC; None when there is none or it is
    not one (a post without a date is still a post)."""
    if not isinstance(value, str):
        return None
    try:
        when = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return (when if when.tzinfo else when.replace(tzinfo=timezone.utc)).astimezone(
        timezone.utc)
