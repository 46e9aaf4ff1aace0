"""A site's contacts found by the owner's filters: one Filters parsed from query
arguments, one query builder for the contacts page, the exports and the owner API,
keyset pages newest first with an opaque cursor, and the export's rows in batches.

Keyset, not OFFSET: a page is `WHERE (created_at, id) < cursor ORDER BY created_at
DESC, id DESC LIMIT n`, which the (site_id, created_at) index answers as fast on page
2,000 as on page 1. Everything here is ORM, so SQLAlchemy writes each database's SQL."""
from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone

from flask_babel import gettext
from sqlalchemy import bindparam, exists, func, select
from sqlalchemy.orm import Session

from widget.core import export, keyset
from widget.core.i18n import LANGS
from widget.core.rawsql import as_datetime
from widget.core.said import listed, stored
from widget.models import (Consent, ContactTag, Gift, Grant, Referral, StatusChange,
                           Subscriber, Widget)
from widget.models.contacts import TAG_LENGTH
from widget.subscribers import search, tags

PAGE_SIZE = 50
EXPORT_BATCH = 1000
STATUSES = ("pending", "confirmed", "unsubscribed", "bounced")
YES_NO = ("yes", "no")
DAY = re.compile(r"\d{4}-\d\d-\d\d")
MAX_SEARCH = 254  # the longest address; a longer search finds nothing anyway
# The orders a list can be read in (?sort=; none is "newest"), each served by an index
# of the site's rows: (site_id, created_at) and the unique (site_id, email_normalized).
SORTS = {"newest": keyset.NEWEST,
         "oldest": keyset.Order("created_at", descending=False),
         "email": keyset.Order("email_normalized", descending=False, text=True),
         "email_desc": keyset.Order("email_normalized", descending=True, text=True)}
SORT_LABELS = {"newest": "Newest first", "oldest": "Oldest first",
               "email": "Address A to Z", "email_desc": "Address Z to A"}
# The export's columns, in order: the CSV header and the JSON Lines keys.
COLUMNS = ("email", "name", "status", "language", "tags", "signed_up", "confirmed", "unsubscribed",
           "widget", "page", "consent_text", "consent_at", "referral_code",
           "friends_counted", "gifts")


@dataclass(frozen=True)
class Filters:
    """What the owner looks for; an empty field filters nothing. `errors` says, in the
    owner's words, which arguments were not understood (they filter nothing either), and
    `fields` names those arguments, in the same order."""
    q: str = ""
    status: str = ""
    widget: str = ""
    lang: str = ""
    tag: str = ""
    gift: str = ""  # yes / no: a gift was given to them (gift_grants)
    referred: str = ""  # yes / no: a friend's link brought them (referrals)
    since: date | None = None  # signed up on or after this UTC day
    until: date | None = None  # signed up on or before this UTC day
    sort: str = ""  # a key of SORTS other than "newest" (which is the default, "")
    errors: tuple[str, ...] = field(default=(), compare=False)
    fields: tuple[str, ...] = field(default=(), compare=False)

    @classmethod
    def parse(cls, args: Mapping[str, str]) -> "Filters":
        """The filters in query arguments (q, status, widget, lang, tag, gift, referred,
        from, to; dates as YYYY-MM-DD) and the order (sort); anything else is ignored.
        The errors are in the dashboard's language on its pages (English on the API)."""
        errors, fields = [], []

        def arg(name: str) -> str:
            # PostgreSQL text holds no NUL: dropped, as a search can't mean it.
            return (args.get(name) or "").replace("\0", "").strip()

        def choice(name: str, allowed: tuple[str, ...], what: str) -> str:
            value = arg(name)
            if value and value not in allowed:
                errors.append(gettext("Unknown %(what)s “%(value)s”: choose one from the list.",
                                      what=what, value=value[:40]))
                fields.append(name)
                return ""
            return value

        def day(name: str, what: str) -> date | None:
            value = arg(name)
            if not value:
                return None
            try:
                if DAY.fullmatch(value):
                    return date.fromisoformat(value)
            except ValueError:
                pass  # 2025-02-30: the form, but no day
            errors.append(gettext("“%(value)s” is no date for %(what)s: write it as YYYY-MM-DD.",
                                  what=what, value=value[:40]))
            fields.append(name)
            return None

        widget = arg("widget")
        if len(widget) > 64:  # no widget id is longer
            errors.append(gettext("Unknown widget: choose one from the list."))
            fields.append("widget")
            widget = ""
        sort = choice("sort", tuple(SORTS), gettext("order"))
        return cls(q=arg("q")[:MAX_SEARCH],
                   status=choice("status", STATUSES, gettext("status")), widget=widget,
                   lang=choice("lang", LANGS, gettext("language")),
                   tag=tags.clean(arg("tag"))[:TAG_LENGTH],
                   gift=choice("gift", YES_NO, gettext("gift choice")),
                   referred=choice("referred", YES_NO, gettext("referral choice")),
                   since=day("from", gettext("“signed up from”")),
                   until=day("to", gettext("“signed up to”")),
                   sort="" if sort == "newest" else sort,
                   errors=tuple(errors), fields=tuple(fields))

    def args(self) -> dict[str, str]:
        """The filters as query arguments (only those set): for links that keep the view."""
        found = {"q": self.q, "status": self.status, "widget": self.widget, "lang": self.lang,
                 "tag": self.tag, "gift": self.gift, "referred": self.referred,
                 "from": self.since.isoformat() if self.since else "",
                 "to": self.until.isoformat() if self.until else "", "sort": self.sort}
        return {name: value for name, value in found.items() if value}

    @property
    def order(self) -> keyset.Order:
        """The keyset order the list is read in."""
        return SORTS[self.sort or "newest"]

    @property
    def any(self) -> bool:
        """Whether anything narrows the list (the order narrows nothing)."""
        return any(value for name, value in self.args().items() if name != "sort")


# How a selection is put in words: stored so in the audit log, in English, and shown in
# the owner's language there and on the bulk-action page (core/said.py). Each ends with
# its value, so a part read too greedily is split again when its value is shown.
NAMED = {"q": stored("search: %(value)s"), "status": stored("status: %(value)s"),
         "widget": stored("widget %(value)s"), "lang": stored("language: %(value)s"),
         "tag": stored("tag: %(value)s"), "from": stored("signed up from %(value)s"),
         "to": stored("signed up until %(value)s")}
CHOSEN = {("gift", "yes"): stored("got a gift"), ("gift", "no"): stored("got no gift"),
          ("referred", "yes"): stored("came through a friend"),
          ("referred", "no"): stored("came on their own")}
# the values of "status: %(value)s"
STATUS_WORDS = (stored("pending"), stored("confirmed"), stored("unsubscribed"),
                stored("bounced"))
ALL = stored("all contacts")
TAGGED = stored("tag “%(tag)s” for %(selection)s")


def describe(filters: Filters, tag: str | None = None) -> str:
    """A selection in words, in English (core/said.py shows it translated): its
    filters, or "all contacts"; with `tag`, the tag a bulk action adds or removes."""
    parts = [CHOSEN[name, value] if (name, value) in CHOSEN else NAMED[name] % {"value": value}
             for name, value in filters.args().items() if name != "sort"]
    words = listed(parts) if parts else ALL
    return TAGGED % {"tag": tag, "selection": words} if tag else words


def conditions(site_id: str, filters: Filters) -> list:
    """The WHERE terms of the site's contacts that match `filters`."""
    if filters.q:
        terms = search.within(site_id, filters.q)
    else:
        terms = [Subscriber.site_id == site_id]
    if filters.status:
        terms.append(Subscriber.status == filters.status)
    if filters.widget:
        terms.append(Subscriber.widget_id == filters.widget)
    if filters.lang:
        terms.append(Subscriber.lang == filters.lang)
    if filters.tag:
        terms.append(exists().where(ContactTag.subscriber_id == Subscriber.id,
                                    ContactTag.site_id == site_id, ContactTag.tag == filters.tag))
    if filters.gift:
        given = exists().where(Grant.subscriber_id == Subscriber.id)
        terms.append(given if filters.gift == "yes" else ~given)
    if filters.referred:
        brought = exists().where(Referral.referred_id == Subscriber.id)
        terms.append(brought if filters.referred == "yes" else ~brought)
    if filters.since:
        terms.append(Subscriber.created_at >= _midnight(filters.since))
    if filters.until and filters.until < date.max:  # no day after 9999-12-31
        terms.append(Subscriber.created_at < _midnight(filters.until + timedelta(days=1)))
    return terms


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=timezone.utc)


def count(session: Session, site_id: str, filters: Filters) -> int:
    """How many contacts match (the whole filtered set, not one page)."""
    return session.scalar(select(func.count(Subscriber.id)).where(
        *conditions(site_id, filters)))


NEWEST_FIRST = keyset.newest_first(Subscriber)


# The page --------------------------------------------------------------------------

@dataclass
class Page:
    """One page of contacts: (Subscriber, widget name) rows, the filtered count (counted
    to keyset.CAP + 1: "10,000+" beyond) and the cursor of the next page (None on the
    last)."""
    rows: list
    total: int
    next: str | None


def page(session: Session, site_id: str, filters: Filters, cursor: str | None = None,
         size: int = PAGE_SIZE) -> Page:
    """The page after `cursor` in the filters' order (the first page for none, or for a
    tampered one or one of another order)."""
    order = filters.order
    found = session.execute(
        select(Subscriber, Widget.name).outerjoin(Widget, Widget.id == Subscriber.widget_id)
        .where(*conditions(site_id, filters),
               *keyset.after(Subscriber, keyset.read_cursor(cursor, order), order))
        .order_by(*keyset.ordered(Subscriber, order)).limit(size + 1)).all()
    rows, more = found[:size], len(found) > size
    last = rows[-1][0] if rows else None
    return Page(rows, keyset.count_to_cap(session, select(Subscriber.id).where(
        *conditions(site_id, filters))),
                keyset.cursor_of(getattr(last, order.column), last.id) if more else None)


# The export ------------------------------------------------------------------------

def _latest_change(status: str):
    return (select(func.max(StatusChange.created_at))
            .where(StatusChange.subscriber_id == Subscriber.id, StatusChange.status == status)
            .scalar_subquery())


def _latest_consent(column):
    return (select(column).where(Consent.subscriber_id == Subscriber.id)
            .order_by(Consent.created_at.desc(), Consent.id.desc()).limit(1).scalar_subquery())


def export_batches(session: Session, site_id: str, filters: Filters,
                   size: int | None = None) -> Iterator[list[tuple]]:
    """The matching contacts newest first, as rows of COLUMNS' values, `size` (by
    default EXPORT_BATCH) at a time, times as export.iso() text: one query for the
    contacts (status times and latest consent as correlated subqueries, times written by
    the database) and one each for the tags and gifts of the batch's range of ids. Each
    batch ends the session's transaction before it is yielded, so no transaction is held
    while the client reads.

    The statements are built once and run with each batch's values, in Core: SQLAlchemy
    makes each one's cache key once, and no ORM layer handles the rows."""
    query = (select(Subscriber.id, Subscriber.created_at, Subscriber.email, Subscriber.name,
                    Subscriber.status, Subscriber.lang, export.utc_iso(Subscriber.created_at),
                    export.utc_iso(_latest_change("confirmed")),
                    export.utc_iso(_latest_change("unsubscribed")), Widget.name,
                    Subscriber.page_url, _latest_consent(Consent.text),
                    export.utc_iso(_latest_consent(Consent.created_at)),
                    Subscriber.ref_code, Subscriber.ref_count)
             .outerjoin(Widget, Widget.id == Subscriber.widget_id)
             .where(*conditions(site_id, filters)).order_by(*NEWEST_FIRST)
             .limit(size or EXPORT_BATCH))

    def shape(found: list) -> list:
        span = {"first": min(row[0] for row in found), "last": max(row[0] for row in found)}
        tagged = _joined(session.connection().execute(TAGS_BETWEEN, span))
        gifts = _joined(session.connection().execute(GIFTS_BETWEEN, span))
        return [(*row[2:6], ", ".join(tagged.get(row[0], ())), *row[6:],
                 "; ".join(gifts.get(row[0], ()))) for row in found]
    return keyset.batches(session, query, Subscriber, shape)


def download(session: Session, site_id: str, filters: Filters, kind: str):
    """The streamed export of the matching contacts as a response: `kind` "csv" (the one
    CSV writer) or "jsonl" (JSON Lines, COLUMNS as keys). The dashboard and the owner API
    both answer with this."""
    write, content_type = {"csv": (export.lines, export.CSV),
                           "jsonl": (export.json_lines, export.JSON_LINES)}[kind]
    return export.download(write(COLUMNS, export_batches(session, site_id, filters)),
                           f"contacts-{site_id}.{kind}", content_type)


def status_times(session: Session, ids: list[int]) -> dict[int, dict[str, datetime]]:
    """When each of these contacts last became each status (one query for them all):
    {id: {"confirmed": time, "unsubscribed": time, …}}."""
    found: dict[int, dict[str, datetime]] = {}
    if ids:
        for subscriber_id, status, moment in session.execute(
                select(StatusChange.subscriber_id, StatusChange.status,
                       func.max(StatusChange.created_at))
                .where(StatusChange.subscriber_id.in_(ids))
                .group_by(StatusChange.subscriber_id, StatusChange.status)):
            found.setdefault(subscriber_id, {})[status] = as_datetime(moment)
    return found


def tags_of(session: Session, ids: list[int]) -> dict[int, list[str]]:
    """Each of these contacts' tags, alphabetical (one query for them all)."""
    found: dict[int, list[str]] = {}
    if ids:
        for subscriber_id, tag in session.execute(
                select(ContactTag.subscriber_id, ContactTag.tag)
                .where(ContactTag.subscriber_id.in_(ids)).order_by(ContactTag.tag)):
            found.setdefault(subscriber_id, []).append(tag)
    return found


def site_tags(session: Session, site_id: str, limit: int = 500) -> list[str]:
    """The tags in use on a site's contacts, alphabetical (for the filter's list)."""
    return list(session.scalars(select(ContactTag.tag).where(ContactTag.site_id == site_id)
                                .distinct().order_by(ContactTag.tag).limit(limit)))


# A batch's tags (alphabetical) and gift titles (in the order given) are read by the range
# of its ids, on the subscriber_id indexes. A list of the ids would be a thousand bound
# parameters to render and parse per query (10 ms on PostgreSQL); a join on the batch's
# span of sign-up times has PostgreSQL hash all the tags, and a site_id term has SQLite
# walk all the site's, for each batch. Ids grow with sign-up time, so the ranges of
# successive batches do not overlap: an export reads each row in its contacts' range
# once, those of contacts it leaves out (filtered out, or another site's) too, and looks
# up only its own.
TAGS_BETWEEN = (select(ContactTag.subscriber_id, ContactTag.tag)
                .where(ContactTag.subscriber_id.between(bindparam("first"), bindparam("last")))
                .order_by(ContactTag.tag))
GIFTS_BETWEEN = (select(Grant.subscriber_id, Gift.title).join(Gift, Gift.id == Grant.gift_id)
                 .where(Grant.subscriber_id.between(bindparam("first"), bindparam("last")))
                 .order_by(Grant.created_at, Grant.id))


def _joined(pairs) -> dict[int, list[str]]:
    found: dict[int, list[str]] = {}
    for subscriber_id, text in pairs:
        found.setdefault(subscriber_id, []).append(text)
    return found
