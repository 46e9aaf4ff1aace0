"""A site's blog feeds: set one (the address checked), and poll the due ones politely.

A poll is a conditional GET (If-None-Match / If-Modified-Since from the last full
answer) through core/outbound's guarded session, the address checked at connect time as
webhooks' are, within TIMEOUT seconds in all and at most MAX_FEED bytes, at most every
WIDGET_FEED_POLL_MINUTES (15 or more) per feed. The first poll that reads a feed keeps
every entry in it as already published, never mailed; later polls add only entries not
seen before. A 304 changes nothing but the poll's times. A broken feed keeps its error
in the owner's words until a poll succeeds.

A poll claims its feed first (one conditional UPDATE moves its next poll on), so two
workers, the command line and the dashboard's "Check now" never fetch one feed twice;
no transaction is open while the blog answers."""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from http import HTTPStatus
from urllib.parse import urljoin, urlsplit

import requests
from flask import Flask
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from widget.core import db, i18n, outbound
from widget.core.said import stored
from widget.letters import parse
from widget.models import Feed, FeedItem, utcnow

log = logging.getLogger(__name__)

MAX_FEED = 2 << 20  # bytes: blogs' feeds run to a few hundred kB
TIMEOUT = 10.0  # seconds for a whole poll, redirects included
MAX_REDIRECTS = 3
FLOOR_MINUTES = 15  # never more often, whatever the setting says
PER_TURN = 2  # feeds the worker polls between two batches of mail
MAX_URL = 2048
ACCEPT = ("application/rss+xml, application/atom+xml, application/feed+json, "
          "application/json;q=0.9, application/xml;q=0.8, text/xml;q=0.8, */*;q=0.5")


# What this module stores in English, shown translated in the dashboard (core/said.py)
BREAKS_READER = stored("The feed could not be read (it breaks our feed reader).")
REDIRECTS_TOO_OFTEN = stored("The feed's address redirects more than %(n)s times.")
REDIRECTS_ELSEWHERE = stored("The feed's address redirects to something other than a web address.")
HTTP_ERROR = stored("The blog answered HTTP %(status)s instead of the feed.")
NOT_FETCHED = stored("Could not fetch the feed from %(host)s.")
NOT_REACHABLE = stored("The feed's address may not be reached from here: %(reason)s. The operator "
                       "allows private addresses with WIDGET_WEBHOOK_ALLOW_PRIVATE=on.")
TOO_LARGE = stored("The feed is larger than %(mb)s MB; it was not read.")
TIMED_OUT = stored("%(host)s did not send the whole feed within %(seconds)s seconds.")
NO_CONNECTION = stored("Could not connect to %(host)s (is the address right, and the blog up?).")


class Invalid(ValueError):
    """A feed setting that cannot be kept; the message is for the owner."""


@dataclass(frozen=True)
class Outcome:
    """What one poll of one feed did: status is "first" (the entries there kept as
    already published), "new", "unchanged" (304, or nothing new) or "error"."""
    feed_id: int
    site_id: str
    lang: str
    url: str
    status: str
    new: int = 0
    error: str | None = None

    def describe(self) -> str:
        """One line for the command line and the dashboard's notice."""
        if self.status == "error":
            return f"broken: {self.error}"
        if self.status == "first":
            return (f"first look: {self.new} post(s) there already, kept as published "
                    "(never mailed)")
        if self.status == "new":
            return f"{self.new} new post(s)"
        return "no new posts"


def clean_url(value) -> str:
    """A feed's address: http(s), a host, no user name or password, at most MAX_URL
    characters. Whether it may be reached is checked when it is fetched."""
    url = value.strip() if isinstance(value, str) else ""
    if not url:
        raise Invalid("Give the address of the blog's feed.")
    if len(url) > MAX_URL:
        raise Invalid(f"The address is longer than {MAX_URL} characters.")
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in url):
        raise Invalid("The address holds a space or a control character.")
    try:
        parts = urlsplit(url)
        parts.port  # a port that is no number raises ValueError here
    except ValueError:
        raise Invalid("That is not a web address.") from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise Invalid("Use an https:// (or http://) address with a host name.")
    if parts.username is not None or parts.password is not None:
        raise Invalid("Leave user names and passwords out of the address: a feed is public.")
    return url


def clean_lang(value) -> str:
    """'' (one feed for every reader) or one of the languages subscribers have."""
    lang = (value or "").strip().lower() if isinstance(value, str) or value is None else None
    if lang not in ("", *i18n.LANGS):
        raise Invalid(f"The language must be one of {', '.join(i18n.LANGS)}, or none.")
    return lang


def set_feed(session: Session, site_id: str, url: str, lang: str = "") -> Feed:
    """Add the site's feed for `lang`, or change its address (the caller commits); when
    its letters go is the site's plan (letters/schedule.py). A new address starts afresh:
    polled at once, its first poll keeping what is there as already published. One feed
    for every language and feeds per language do not mix. Raises Invalid."""
    url, lang = clean_url(url), clean_lang(lang)
    others = {f.lang for f in feeds_of(session, site_id)} - {lang}
    if others and (lang == "" or "" in others):
        raise Invalid("A site has one feed for every language or one a language, not "
                      "both: remove the other feed first.")
    feed = session.scalar(select(Feed).where(Feed.site_id == site_id, Feed.lang == lang))
    if feed is None:
        feed = Feed(site_id=site_id, lang=lang, url=url, next_poll_at=utcnow())
        session.add(feed)
        return feed
    if feed.url != url:
        feed.url, feed.etag, feed.last_modified, feed.primed_at = url, None, None, None
        feed.error, feed.error_at, feed.next_poll_at = None, None, utcnow()
    return feed


def remove_feed(session: Session, feed: Feed) -> None:
    """Delete a feed and the entries found in it (the caller commits)."""
    session.execute(delete(FeedItem).where(FeedItem.feed_id == feed.id))
    session.delete(feed)


def feeds_of(session: Session, site_id: str) -> list[Feed]:
    """The site's feeds, '' (every language) first, then by language."""
    return list(session.scalars(select(Feed).where(Feed.site_id == site_id)
                                .order_by(Feed.lang)))


def newest_items(session: Session, feed_ids: list[int], limit: int = 10) -> list[FeedItem]:
    """The entries last found in these feeds, newest first."""
    if not feed_ids:
        return []
    return list(session.scalars(select(FeedItem).where(FeedItem.feed_id.in_(feed_ids))
                                .order_by(FeedItem.seen_at.desc(), FeedItem.id.desc())
                                .limit(limit)))


def interval(app: Flask) -> timedelta:
    """How long a feed waits between polls: the setting, never under the floor."""
    return timedelta(minutes=max(FLOOR_MINUTES, app.config.get("FEED_POLL_MINUTES",
                                                               FLOOR_MINUTES)))


def poll_due(app: Flask, now: datetime | None = None, limit: int | None = None,
             feed_ids: list[int] | None = None,
             timeout: float = TIMEOUT) -> list[Outcome]:
    """Poll the feeds due by `now` (only those of `feed_ids` when given), the longest
    waiting first, at most `limit`; a feed another poller claimed first is left out."""
    now = now or utcnow()
    with app.app_context():
        engine = db.engine()
        due = select(Feed.id).where(Feed.next_poll_at <= now).order_by(Feed.next_poll_at)
        if feed_ids is not None:
            due = due.where(Feed.id.in_(feed_ids))
        with engine.connect() as conn:
            ids = list(conn.scalars(due.limit(limit)))
        done = []
        for feed_id in ids:
            with engine.begin() as conn:  # the claim: due until this commits
                claimed = conn.execute(update(Feed).where(
                    Feed.id == feed_id, Feed.next_poll_at <= now).values(
                    next_poll_at=now + interval(app))).rowcount
            if claimed:
                done.append(_poll(app, feed_id, now, timeout))
        return done


def _poll(app: Flask, feed_id: int, now: datetime, timeout: float) -> Outcome:
    with Session(db.engine(), expire_on_commit=False) as session:
        feed = session.get(Feed, feed_id)
        session.expunge(feed)
    headers = {"Accept": ACCEPT, "User-Agent": f"Reciprocity widgets feed reader "
                                               f"(+{app.config['BASE_URL']})"}
    if feed.etag:
        headers["If-None-Match"] = feed.etag
    if feed.last_modified:
        headers["If-Modified-Since"] = feed.last_modified
    try:
        answer, final = _fetch(app, feed.url, headers, timeout)
        if answer.status == 304:
            return _record(feed, now, "unchanged", etag=answer.headers.get("ETag"))
        if answer.status != 200:
            return _record(feed, now, "error", error=_http_error(answer.status))
        found = parse.entries(answer.body, answer.headers.get("Content-Type", ""), final)
    except parse.NotAFeed as exc:
        return _record(feed, now, "error", error=str(exc))
    except (outbound.Refused, outbound.TooBig, requests.RequestException) as exc:
        return _record(feed, now, "error", error=_network_error(exc, feed.url, timeout))
    except Exception:  # a feed that breaks the parser must not stop the others
        log.exception("feed %s could not be read", feed.id)
        return _record(feed, now, "error", error=BREAKS_READER)
    return _store(feed, now, found, answer.headers)


def _fetch(app: Flask, url: str, headers: dict, timeout: float):
    """The answer at `url`, following up to MAX_REDIRECTS redirects (each hop through
    the guard), within `timeout` in all; with the address it came from."""
    deadline = time.monotonic() + timeout
    with outbound.session(app.config["WEBHOOK_ALLOW_PRIVATE"]) as http:
        for _ in range(MAX_REDIRECTS + 1):
            left = deadline - time.monotonic()
            if left <= 0:
                raise requests.Timeout("redirects took the whole time")
            answer = outbound.get(http, url, headers, MAX_FEED, left)
            location = answer.headers.get("Location")
            if answer.status not in (301, 302, 303, 307, 308) or not location:
                return answer, url
            url = urljoin(url, location)
            if urlsplit(url).scheme not in ("http", "https"):
                raise parse.NotAFeed(REDIRECTS_ELSEWHERE)
    raise parse.NotAFeed(REDIRECTS_TOO_OFTEN % {"n": MAX_REDIRECTS})


def _http_error(status: int) -> str:
    try:
        phrase = f" ({HTTPStatus(status).phrase})"
    except ValueError:
        phrase = ""
    return HTTP_ERROR % {"status": f"{status}{phrase}"}


def _network_error(exc: Exception, url: str, timeout: float) -> str:
    host = urlsplit(url).hostname or url
    if isinstance(exc, outbound.Refused):
        return NOT_REACHABLE % {"reason": exc}
    if isinstance(exc, outbound.TooBig):
        return TOO_LARGE % {"mb": MAX_FEED >> 20}
    if isinstance(exc, requests.Timeout):
        return TIMED_OUT % {"host": host, "seconds": f"{timeout:g}"}
    if isinstance(exc, requests.ConnectionError):
        return NO_CONNECTION % {"host": host}
    return NOT_FETCHED % {"host": host}


def _record(feed: Feed, now: datetime, status: str, error: str | None = None,
            etag: str | None = None) -> Outcome:
    """A poll that stored no entries: a 304 (the error cleared) or a failure."""
    values = {"polled_at": now, "error": error, "error_at": now if error else None}
    if etag and len(etag) <= 512:
        values["etag"] = etag
    with db.engine().begin() as conn:
        conn.execute(update(Feed).where(Feed.id == feed.id, Feed.url == feed.url)
                     .values(**values))
    return Outcome(feed.id, feed.site_id, feed.lang, feed.url, status, error=error)


def _store(feed: Feed, now: datetime, found: list[parse.Entry], headers) -> Outcome:
    """Keep the entries not seen before (all of them as published at the first poll)
    and the answer's validators; a second writer's rows win a race, tried again once."""
    etag, modified = headers.get("ETag"), headers.get("Last-Modified")
    for attempt in (1, 2):
        with Session(db.engine()) as session:
            row = session.get(Feed, feed.id)
            if row is None or row.url != feed.url:  # removed or changed while fetched
                return Outcome(feed.id, feed.site_id, feed.lang, feed.url, "unchanged")
            first = row.primed_at is None
            keys = [e.key for e in found]
            known = set()
            for start in range(0, len(keys), 500):
                known |= set(session.scalars(select(FeedItem.key).where(
                    FeedItem.feed_id == feed.id, FeedItem.key.in_(keys[start:start + 500]))))
            fresh = [e for e in found if e.key not in known]
            # Ids in the order the posts were published (feeds list the newest first;
            # an entry without a date keeps its place, after the dated ones).
            for entry in sorted(reversed(fresh), key=lambda e: (
                    e.published_at is None, e.published_at or now)):
                session.add(FeedItem(feed_id=feed.id, key=entry.key, title=entry.title,
                                     link=entry.link, summary=entry.summary,
                                     published_at=entry.published_at, seen_at=now,
                                     at_first_poll=first,
                                     # an old post is done with: no letter takes it
                                     queued_at=now if first else None))
            row.etag = etag if etag and len(etag) <= 512 else None
            row.last_modified = modified if modified and len(modified) <= 64 else None
            row.polled_at, row.error, row.error_at = now, None, None
            row.primed_at = row.primed_at or now
            try:
                session.commit()
            except IntegrityError:
                if attempt == 2:
                    raise
                continue
            status = "first" if first else ("new" if fresh else "unchanged")
            return Outcome(feed.id, feed.site_id, feed.lang, feed.url, status, len(fresh))
    raise AssertionError("unreachable")
