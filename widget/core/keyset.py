"""Keyset pages, newest first, over (created_at, id): the same page costs the same at
row 50 as at row 100,000 (no OFFSET), and rows added meanwhile never shift a page. The
cursor is opaque to clients: base64 of the last row's UTC time and id."""
from __future__ import annotations

import base64
import binascii
from datetime import datetime, timezone

from sqlalchemy import and_, or_

from widget.core.rawsql import as_datetime
from widget.models import MAX_ID

MAX_CURSOR = 100  # characters: a cursor we made is about 50


def cursor_of(created_at: datetime, row_id: int) -> str:
    """The cursor after this row."""
    moment = as_datetime(created_at).astimezone(timezone.utc).isoformat()
    return base64.urlsafe_b64encode(f"{moment}|{row_id}".encode()).decode().rstrip("=")


def read_cursor(cursor: str | None) -> tuple[datetime, int] | None:
    """The (time, id) a cursor holds; None for none, or for one we did not make (the
    caller decides: the first page, or a 400)."""
    if not cursor or len(cursor) > MAX_CURSOR:
        return None
    try:
        moment, _, number = base64.urlsafe_b64decode(
            cursor + "=" * (-len(cursor) % 4)).decode().partition("|")
        found = datetime.fromisoformat(moment), int(number)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None
    if found[0].tzinfo is None or not 0 < found[1] <= MAX_ID:
        return None
    return found[0].astimezone(timezone.utc), found[1]


def newest_first(model) -> tuple:
    """The order keyset pages walk."""
    return model.created_at.desc(), model.id.desc()


def after(model, position: tuple[datetime, int] | None) -> list:
    """The conditions for the rows after `position` in newest_first order.

    The OR alone names the same rows, but is checked row by row from the newest, so each
    page cost more than the one before it; `created_at <= moment` is a bound the
    (site_id, created_at) index seeks to."""
    if position is None:
        return []
    moment, number = position
    return [model.created_at <= moment,
            or_(model.created_at < moment, and_(model.created_at == moment, model.id < number))]
