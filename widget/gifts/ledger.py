"""The gift ledger's writes, in plain SQL inside the caller's transaction (a Tx): giving
a gift (the quantity cap, one unique coupon code, the grant row), releasing gated gifts
when an address is confirmed, counting downloads, fresh links, and the e-mails that
deliver gifts and later ask how they were liked. And its export: a gift's grants as
driver rows, streamed in batches (export_batches).

Every limit is one conditional UPDATE, so it holds however many requests race: the
cap (given_count < quantity), a coupon code (given_at IS NULL, SKIP LOCKED on
PostgreSQL), a download (downloads < download_limit), a fresh link (its cooldown).
"""
from __future__ import annotations

import inspect
import secrets
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from itertools import islice

from sqlalchemy import Integer, bindparam, case, null, select
from sqlalchemy.orm import Session

from widget.core import events, export, keyset, outbox
from widget.core.outbox import Recipient
from widget.core.rawsql import Tx, as_datetime
from widget.insight import counters
from widget.models import Coupon, Grant, Subscriber, Widget, utcnow

EXPORT_COLUMNS = ("email", "name", "given_at", "widget", "status", "downloads",
                  "last_download_at", "code", "rating", "comment")


class GiftGone(Exception):
    """None left to give: the cap is reached, every coupon code is given, or the owner
    switched the gift off."""


@dataclass(frozen=True)
class Terms:
    """What a new grant takes from its gift."""
    gift_id: str
    kind: str
    valid_days: int
    download_limit: int


@dataclass(frozen=True)
class Given:
    grant_id: int
    nonce: str
    new: bool  # False: this person had this gift already
    released: bool
    code: str | None  # the coupon code given with it


def new_nonce() -> str:
    """The secret every link of a grant carries (96 random bits)."""
    return secrets.token_urlsafe(12)


INSERT_GRANT = """
INSERT INTO gift_grants (site_id, gift_id, subscriber_id, widget_id, page_url, nonce,
                         created_at, released_at, expires_at, valid_days, download_limit,
                         downloads)
VALUES (:site_id, :gift_id, :subscriber_id, :widget_id, :page_url, :nonce, :now,
        :released_at, :expires_at, :valid_days, :download_limit, 0)
ON CONFLICT (gift_id, subscriber_id) DO NOTHING
RETURNING id"""

EXISTING = """
SELECT id, nonce, released_at FROM gift_grants
WHERE gift_id = :gift_id AND subscriber_id = :subscriber_id"""

TAKE = """
UPDATE gifts SET given_count = given_count + 1
WHERE id = :gift_id AND is_active = :yes AND (quantity IS NULL OR given_count < quantity)"""

# The outer "given_at IS NULL" re-checks the row after any wait for its lock.
COUPON = """
UPDATE gift_coupons SET grant_id = :grant_id, given_at = :now
WHERE id = (SELECT id FROM gift_coupons WHERE gift_id = :gift_id AND given_at IS NULL
            ORDER BY id LIMIT 1{lock}) AND given_at IS NULL
RETURNING code"""
COUPON_SQL = {"sqlite": COUPON.format(lock=""),  # SQLite runs one writer at a time
              "postgresql": COUPON.format(lock=" FOR UPDATE SKIP LOCKED")}


def give(tx: Tx, terms: Terms, *, site_id: str, subscriber_id: int | None,
         widget_id: str | None, page_url: str | None, release: bool, now: datetime) -> Given:
    """Give the gift once to this subscriber (or, with None, to a visitor not yet known):
    a grant row, one more counted against the cap, and a coupon code for coupon gifts.
    A subscriber who had it already gets their grant back, and nothing is counted.
    `release`: usable at once (else it waits for the address to be confirmed).
    Raises GiftGone; the caller then rolls the transaction back."""
    nonce = new_nonce()
    row = tx.one(INSERT_GRANT, site_id=site_id, gift_id=terms.gift_id,
                 subscriber_id=subscriber_id, widget_id=widget_id, page_url=page_url,
                 nonce=nonce, now=now, released_at=now if release else None,
                 expires_at=now + timedelta(days=terms.valid_days) if release else None,
                 valid_days=terms.valid_days, download_limit=terms.download_limit)
    if row is None:
        grant_id, nonce, released_at = tx.one(EXISTING, gift_id=terms.gift_id,
                                              subscriber_id=subscriber_id)
        return Given(grant_id, nonce, False, released_at is not None, None)
    if tx.run(TAKE, gift_id=terms.gift_id, yes=True).rowcount != 1:
        raise GiftGone()
    code = None
    if terms.kind == "coupon":
        found = tx.one(COUPON_SQL[tx.dialect], grant_id=row[0], gift_id=terms.gift_id, now=now)
        if found is None:
            raise GiftGone()
        code = found[0]
    events.emit(tx, site_id, "gift.given", lambda: {
        "gift": _gift(tx, terms.gift_id), "grant_id": row[0],
        "contact": events.contact(tx, subscriber_id) if subscriber_id else None},
        subscriber_id, now)
    return Given(row[0], nonce, True, release, code)


GIFT = "SELECT id, title, kind FROM gifts WHERE id = :id"


def _gift(tx: Tx, gift_id: str) -> dict:
    found = tx.one(GIFT, id=gift_id)
    return {"id": found[0], "title": found[1], "kind": found[2]}


WAITING = """
SELECT id, valid_days FROM gift_grants
WHERE subscriber_id = :subscriber_id AND released_at IS NULL AND revoked_at IS NULL
ORDER BY id DESC"""

RELEASE = """
UPDATE gift_grants SET released_at = :now, expires_at = :expires_at, mailed_at = :now
WHERE id = :id AND released_at IS NULL"""


def on_confirmed(tx: Tx, to: Recipient, now: datetime, mail_from: str) -> None:
    """The address was just confirmed (or needed no confirmation): release the gifts that
    waited for it, queue the thank-you e-mail naming the newest of them, a gift e-mail
    for each other one, and every follow-up that is now due to be planned."""
    released = []
    for grant_id, valid_days in tx.run(WAITING, subscriber_id=to.subscriber_id).fetchall():
        if tx.run(RELEASE, id=grant_id, now=now,
                  expires_at=now + timedelta(days=valid_days)).rowcount == 1:
            released.append(grant_id)
    outbox.queue(tx, "welcome", to, mail_from, grant_id=released[0] if released else None)
    for grant_id in released[1:]:
        outbox.queue(tx, "gift", to, mail_from, grant_id=grant_id)
    plan_followups(tx, to, now, mail_from)


CLAIM_MAIL = """
UPDATE gift_grants SET mailed_at = :now
WHERE id = :id AND released_at IS NOT NULL AND revoked_at IS NULL
  AND (mailed_at IS NULL OR mailed_at < :cooldown)"""


def deliver(tx: Tx, to: Recipient, grant_id: int, now: datetime, mail_from: str,
            cooldown_minutes: int) -> bool:
    """E-mail a released gift to a confirmed subscriber, at most once per cooldown (a
    repeated claim re-sends a lost e-mail, but never floods the inbox); plan its
    follow-up. Returns whether an e-mail was queued."""
    claimed = tx.run(CLAIM_MAIL, id=grant_id, now=now,
                     cooldown=now - timedelta(minutes=cooldown_minutes)).rowcount == 1
    if claimed:
        outbox.queue(tx, "gift", to, mail_from, grant_id=grant_id)
    plan_followups(tx, to, now, mail_from)
    return claimed


UNPLANNED = """
SELECT gg.id, gg.released_at, g.followup_days FROM gift_grants gg
JOIN gifts g ON g.id = gg.gift_id
WHERE gg.subscriber_id = :subscriber_id AND gg.released_at IS NOT NULL
  AND gg.revoked_at IS NULL AND gg.followup_at IS NULL AND g.followup_days IS NOT NULL"""

PLAN = "UPDATE gift_grants SET followup_at = :due WHERE id = :id AND followup_at IS NULL"


def plan_followups(tx: Tx, to: Recipient, now: datetime, mail_from: str) -> None:
    """Queue "how did you like it?" for each released gift of a confirmed subscriber
    whose gift asks for one and that has none yet, due N days after it was given. The
    outbox holds it until then."""
    for grant_id, released_at, days in tx.run(
            UNPLANNED, subscriber_id=to.subscriber_id).fetchall():
        due = max(now, as_datetime(released_at) + timedelta(days=days))
        if tx.run(PLAN, id=grant_id, due=due).rowcount == 1:
            outbox.queue(tx, "followup", to, mail_from, grant_id=grant_id, due=due)


LINK = """
UPDATE gift_grants SET subscriber_id = :subscriber_id
WHERE id = :id AND nonce = :nonce AND site_id = :site_id AND subscriber_id IS NULL
  AND NOT EXISTS (SELECT 1 FROM gift_grants other WHERE other.gift_id = gift_grants.gift_id
                  AND other.subscriber_id = :subscriber_id)"""


def link(tx: Tx, grant_id: int, nonce: str, site_id: str, subscriber_id: int) -> bool:
    """Put a gift given first (to a visitor not yet known) on the ledger of the
    subscriber they became; nothing if it is someone else's or they have it already."""
    return tx.run(LINK, id=grant_id, nonce=nonce, site_id=site_id,
                  subscriber_id=subscriber_id).rowcount == 1


COUNT_DOWNLOAD = """
UPDATE gift_grants SET downloads = downloads + 1, last_download_at = :now,
                       last_ticket = :ticket
WHERE id = :id AND nonce = :nonce AND revoked_at IS NULL AND released_at IS NOT NULL
  AND expires_at > :now AND downloads < download_limit
  AND (last_ticket IS NULL OR last_ticket <> :ticket)"""


def count_download(tx: Tx, grant_id: int, nonce: str, ticket: str, now: datetime) -> bool:
    """Count one download under a new ticket, within the link's expiry and limit. False
    when it was not counted: the ticket was counted before (a resumed or ranged request),
    or the link is spent, expired or revoked; the caller tells which."""
    if tx.run(COUNT_DOWNLOAD, id=grant_id, nonce=nonce, ticket=ticket, now=now).rowcount != 1:
        return False
    site_id, gift_id, subscriber_id, downloads, widget_id, page_url = tx.one(GRANT, id=grant_id)
    if downloads == 1:  # the funnel counts people who downloaded, not downloads
        counters.count(tx, site_id, widget_id, "downloaded", page_url=page_url, now=now)
    events.emit(tx, site_id, "gift.downloaded", lambda: {
        "gift": _gift(tx, gift_id), "grant_id": grant_id, "downloads": downloads,
        "contact": events.contact(tx, subscriber_id) if subscriber_id else None},
        subscriber_id, now)
    return True


GRANT = """
SELECT site_id, gift_id, subscriber_id, downloads, widget_id, page_url FROM gift_grants
WHERE id = :id"""


RENEW = """
UPDATE gift_grants SET nonce = :nonce, downloads = 0, last_ticket = NULL,
                       expires_at = :expires_at, mailed_at = :now, revoked_at = NULL
WHERE id = :id AND released_at IS NOT NULL AND subscriber_id IS NOT NULL
  AND (:by_owner OR mailed_at IS NULL OR mailed_at < :cooldown)"""


def renew(tx: Tx, grant_id: int, valid_days: int, now: datetime, *, by_owner: bool,
          cooldown_minutes: int) -> bool:
    """A fresh link for a subscriber's gift: a new nonce (older links stop working), the
    full download allowance and a new expiry. A withdrawn link is one that leaked; the
    fresh one goes only to the subscriber's inbox. A visitor may ask once per cooldown,
    the owner always. Returns whether it was renewed; the caller queues the e-mail."""
    return tx.run(RENEW, id=grant_id, nonce=new_nonce(), now=now, by_owner=by_owner,
                  expires_at=now + timedelta(days=valid_days),
                  cooldown=now - timedelta(minutes=cooldown_minutes)).rowcount == 1


# How long an export may keep one read open while its client takes the batches. Rows
# stream from one statement, not from a query planned and seeked anew for each batch (on
# PostgreSQL a transaction, a ping and round trips each); after this long the next batch
# starts a new read where the last one ended, so a slow client holds no snapshot (nor a
# lock a migration would queue behind) for much longer.
HOLD_SECONDS = 2.0


def export_batches(session: Session, gift_id: str, *, expiring: bool,
                   words: Mapping[str, str], size: int) -> Iterator[list[tuple]]:
    """A gift's grants newest first (given at, then id, as the ledger's page lists them)
    as rows of EXPORT_COLUMNS' values, `size` at a time: the person, the widget and the
    coupon code joined, times as export.iso() text and the status as `words` names
    grants.state()'s answer, both written by the database; downloads only for an
    `expiring` gift (grants.EXPIRING_KINDS). A read stays open while the client takes
    batches, HOLD_SECONDS at most (and the send of the batch then under way); the next
    starts where it ended.

    Driver rows of statements built once (an ORM object a row, with its person and
    widget loaded, made 100,000 rows take 9 s on SQLite and up to 26 s on PostgreSQL;
    SQLAlchemy's rows cost a tenth more than the driver's), in the (gift_id, created_at)
    index's order: ordered by id alone, each new read sorted all the gift's grants."""
    now = bindparam("now", utcnow(), type_=Grant.expires_at.type)
    # grants.state(), in the same order: withdrawn first, even while it waited.
    status = case((Grant.revoked_at.is_not(None), words["revoked"]),
                  (Grant.released_at.is_(None), words["waiting"]),
                  *(((Grant.expires_at <= now, words["expired"]),
                     (Grant.downloads >= Grant.download_limit, words["spent"]))
                    if expiring else ()),
                  else_=words["ok"])
    query = (select(Grant.id, Grant.created_at, Subscriber.email, Subscriber.name,
                    export.utc_iso(Grant.created_at), Widget.name, status,
                    Grant.downloads if expiring else null(),
                    export.utc_iso(Grant.last_download_at), Coupon.code, Grant.rating,
                    Grant.comment)
             .select_from(Grant)
             .outerjoin(Subscriber, Subscriber.id == Grant.subscriber_id)
             .outerjoin(Widget, Widget.id == Grant.widget_id)
             .outerjoin(Coupon, Coupon.grant_id == Grant.id)  # unique: one code a grant
             .where(Grant.gift_id == gift_id).order_by(*keyset.newest_first(Grant)))
    later = query.where(*keyset.after(Grant, (bindparam("moment", type_=Grant.created_at.type),
                                              bindparam("number", type_=Integer))))
    return _streamed(session, query, later, size)


def _streamed(session: Session, first, later, size: int) -> Iterator[list[tuple]]:
    """The rows of `first`, then of `later` from where they stopped, `size` at a time
    without their first two columns (id and created_at, the keyset's position)."""
    statement, position = first, {}
    while True:
        batches, close = _read(session, statement, position, size)
        began = time.monotonic()
        try:
            for found in batches:
                position = {"moment": found[-1][1], "number": found[-1][0]}
                rows = [row[2:] for row in found]
                if time.monotonic() - began >= HOLD_SECONDS:
                    break
                yield rows
            else:
                return
        finally:
            # Also when the client went away: the request's teardown has dropped this
            # session, so nothing else would end its transaction, and its pooled
            # connection would stay checked out. The read first: an SQLite statement
            # not yet reset keeps its snapshot through a rollback.
            try:
                close()
            finally:
                session.rollback()
        yield rows
        statement = later


def _read(session: Session, statement, params: dict, size: int):
    """`statement` (built once, compiled for each read) run on the session's connection:
    (its rows in lists of `size`, what ends the read). The rows are the driver's: the
    columns are text and numbers, and the position's time goes back as the driver gave
    it. On PostgreSQL the server sends the rows without waiting to be asked for each
    batch (TCP's window holds it back), so it works while this process writes."""
    tx = Tx.on_session(session)
    conn = session.connection()
    compiled = statement.compile(dialect=conn.dialect)
    values = compiled.construct_params(params)
    driver = conn.connection.dbapi_connection
    if tx.postgres:
        chunks = {"size": size} if _chunked_rows() else {}  # else a result a row: slower
        rows = driver.cursor().stream(str(compiled), values, **chunks)
        return iter(lambda: list(islice(rows, size)), []), rows.close
    cursor = driver.cursor()
    cursor.execute(str(compiled), [tx.value(values[name]) for name in compiled.positiontup])
    return iter(lambda: cursor.fetchmany(size), []), cursor.close


@cache
def _chunked_rows() -> bool:
    """Whether psycopg streams rows in chunks (psycopg 3.2 on libpq 17 or later)."""
    import psycopg  # here: only PostgreSQL comes this way, and it is an optional extra
    return (psycopg.pq.version() >= 170000
            and "size" in inspect.signature(psycopg.Cursor.stream).parameters)
