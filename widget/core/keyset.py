"""Keyset pages over (a column, id), newest first unless an Order says otherwise: the same
page costs the same at row 50 as at row 100,000 (no OFFSET), and rows added meanwhile
never shift a page. The cursor is opaque to clients: base64 of the last row's value (a
UTC time, or text marked "s:") and id. Exports read their batches the same way
(batches), and counts stop at CAP."""
from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import Integer, and_, bindparam, func, or_, select

from widget.core.rawsql import as_datetime
from widget.models import MAX_ID

CAP = 10_000  # a count stops here ("10,000+"): counting millions is a scan of millions
MAX_CURSOR = 400  # characters: a time's cursor is about 50, an address's up to 350
TEXT = "s:"  # a text value's mark, which no ISO time starts with


@dataclass(frozen=True)
class Order:
    """A keyset order: the model's `column` (a time or text), then id, both descending or
    both ascending. The column must be indexed with the rows' site for pages to seek."""
    column: str = "created_at"
    descending: bool = True
    text: bool = False  # the column holds text, not times


NEWEST = Order()


def cursor_of(value: datetime | str, row_id: int) -> str:
    """The cursor after a row whose order column holds `value`."""
    if isinstance(value, str):
        shown = TEXT + value
    else:
        shown = as_datetime(value).astimezone(timezone.utc).isoformat()
    return base64.urlsafe_b64encode(f"{shown}|{row_id}".encode()).decode().rstrip("=")


def read_cursor(cursor: str | None, order: Order = NEWEST) -> tuple[datetime | str, int] | None:
    """The (value, id) a cursor holds; None for none, or for one we did not make or made
    for another kind of order (the caller decides: the first page, or a 400)."""
    if not cursor or len(cursor) > MAX_CURSOR:
        return None
    try:
        shown, _, number = base64.urlsafe_b64decode(
            cursor + "=" * (-len(cursor) % 4)).decode().rpartition("|")
        row_id = int(number)
        if order.text:
            if not shown.startswith(TEXT):
                return None
            value = shown[len(TEXT):]
        else:
            value = datetime.fromisoformat(shown)
            if value.tzinfo is None:
                return None
            value = value.astimezone(timezone.utc)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None
    if not 0 < row_id <= MAX_ID:
        return None
    return value, row_id


def count_to_cap(session, ids) -> int:
    """How many rows the select `ids` finds, counting no further than CAP + 1."""
    return session.scalar(select(func.count()).select_from(
        ids.order_by(None).limit(CAP + 1).subquery()))


def counted(number: int) -> str:
    """A count_to_cap as the English dashboard shows it: "10,000+" beyond CAP (the
    benchmarks check their pages with it)."""
    return f"{CAP:,}+" if number > CAP else f"{number:,}"


def reverse(order: Order) -> Order:
    """The same order the other way round (a table read from its last page back)."""
    return Order(order.column, not order.descending, order.text)


def ordered(model, order: Order = NEWEST) -> tuple:
    """The ORDER BY terms of `order`."""
    column = getattr(model, order.column)
    if order.descending:
        return column.desc(), model.id.desc()
    return column.asc(), model.id.asc()


def newest_first(model) -> tuple:
    """The order keyset pages walk by default."""
    return ordered(model, NEWEST)


def after(model, position: tuple | None, order: Order = NEWEST) -> list:
    """The conditions for the rows after `position` in `order`.

    The OR alone names the same rows, but is checked row by row from the first, so each
    page cost more than the one before it; the `<=` (or `>=`) is a bound the (site_id,
    column) index seeks to."""
    if position is None:
        return []
    value, number = position
    column = getattr(model, order.column)
    if order.descending:
        return [column <= value,
                or_(column < value, and_(column == value, model.id < number))]
    return [column >= value, or_(column > value, and_(column == value, model.id > number))]


def batches(session, query, model, shape: Callable[[list], list]) -> Iterator[list]:
    """An export's rows, batch after batch: `query` selects the model's id and created_at
    first, newest first, with the batch size as its LIMIT; each batch seeks to where the
    last one ended (after(), built once). `shape` turns a batch's rows into the values to
    write, with the batch's transaction still open (for look-ups of its own); then the
    transaction ends before the batch is yielded, so none is held while a client reads."""
    later = query.where(*after(model, (bindparam("moment", type_=model.created_at.type),
                                       bindparam("number", type_=Integer))))
    try:
        found = session.connection().execute(query).all()
        while found:
            rows = shape(found)
            position = {"moment": found[-1][1], "number": found[-1][0]}
            session.rollback()
            yield rows
            found = session.connection().execute(later, position).all()
    finally:
        # The last (empty) batch's transaction, or one a closed download left: the
        # request's teardown has dropped this session, so nothing else would end it and
        # its pooled connection would stay checked out (found by schemathesis).
        session.rollback()
