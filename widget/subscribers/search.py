"""Search of a site's contacts by part of their address or name, answered by an index so
a word found in 20 of 1,000,000 contacts costs what the 20 rows cost, not a scan.

SQLite: an FTS5 table with the trigram tokenizer (`subscriber_search`, external content
kept by triggers; migration 0012) answers a phrase of 3 or more characters as a
case-blind substring. PostgreSQL: GIN trigram indexes (pg_trgm) on email and name answer
the same ILIKE the search always was. Neither database's own LIKE can
use a plain b-tree for a substring, and no Python library searches a table in place, so
this is written here: one construct each database compiles its own way."""
from __future__ import annotations

from sqlalchemy import and_, bindparam, or_
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ColumnElement
from sqlalchemy.sql.visitors import InternalTraversal

from widget.models import Subscriber

TABLE = "subscriber_search"  # SQLite's FTS5 table (and its shadow tables: TABLE_*)
INDEXES = ("ix_subscribers_email_trgm", "ix_subscribers_name_trgm")  # PostgreSQL's
TRIGRAM = 3  # a trigram index finds nothing shorter


def _like(text: str):
    # icontains escapes % and _ (autoescape), so they are searched for as written.
    return or_(Subscriber.email.icontains(text, autoescape=True),
               Subscriber.name.icontains(text, autoescape=True))


class _Found(ColumnElement[bool]):
    """A site's contacts whose address or name holds `text`: on SQLite through the FTS
    table, on every other database as the LIKE it was (which PostgreSQL's trigram indexes
    answer)."""

    # No Boolean type: SQLite would get "(…) = 1", which no index can answer.
    inherit_cache = True
    _traverse_internals = [("site", InternalTraversal.dp_clauseelement),
                           ("phrase", InternalTraversal.dp_clauseelement),
                           ("like", InternalTraversal.dp_clauseelement)]

    def __init__(self, site_id: str, text: str):
        self.site = Subscriber.site_id == site_id
        # An FTS5 phrase in double quotes matches its characters as written: no
        # operators, no wildcards; a quote inside is written twice.
        self.phrase = bindparam("search_phrase", '"' + text.replace('"', '""') + '"',
                                unique=True)
        self.like = and_(self.site, _like(text)).self_group()  # inside the page's ANDs


@compiles(_Found)
def _found_anywhere(element, compiler, **kw):
    return compiler.process(element.like, **kw)


@compiles(_Found, "sqlite")
def _found_sqlite(element, compiler, **kw):
    # The unary + keeps SQLite from walking the site's (site_id, created_at) index and
    # testing every row against the matches (its choice without statistics: 230 ms at
    # 1,000,000 contacts); the matches are looked up by rowid and sorted instead.
    site = compiler.process(element.site.right, **kw)
    return (f"(+{compiler.process(Subscriber.site_id, **kw)} = {site} "
            f"AND {compiler.process(Subscriber.id, **kw)} IN (SELECT rowid FROM {TABLE} "
            f"WHERE {TABLE} MATCH {compiler.process(element.phrase, **kw)}))")


def within(site_id: str, text: str) -> list:
    """The WHERE terms for the site's contacts whose address or name contains `text`,
    ignoring case (the site's term included: on SQLite the two go together)."""
    if len(text) >= TRIGRAM:
        return [_Found(site_id, text)]
    return [Subscriber.site_id == site_id, _like(text)]
