"""What every dashboard page starts from: the current owner's site and its rows (404 for
anyone else's), one page of a newest-first table, and the way back after a button."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

from flask import abort, redirect, request, url_for
from flask_login import current_user

from widget.core import db
from widget.models import MAX_ID, Site

PAGE_SIZE = 50
Row = TypeVar("Row")


def _get(model: type[Row], row_id: str | int) -> Row | None:
    """The row by primary key, with ids no row could have refused before the database
    sees them (a 65-character string, or an integer PostgreSQL would reject)."""
    if isinstance(row_id, int) and not 0 < row_id <= MAX_ID:
        return None
    if isinstance(row_id, str) and len(row_id) > 64:
        return None
    return db.session().get(model, row_id)


def owned_site(site_id: str) -> Site:
    """The current owner's site, or 404 (never 403, so other owners' ids stay unconfirmed)."""
    site = _get(Site, site_id)
    if site is None or site.owner_id != current_user.id:
        abort(404)
    return site


def owned(site: Site, model: type[Row], row_id: str | int, **also) -> Row:
    """The `model` row `row_id` of `site` (from owned_site), or 404; `also` names further
    columns it must match (e.g. gift_id=gift.id, kind="coupon")."""
    row = _get(model, row_id)
    if row is None or row.site_id != site.id or any(
            getattr(row, name) != value for name, value in also.items()):
        abort(404)
    return row


def back(endpoint: str, done: str, **args):
    """After a button's POST: to the page (and the table's page) it was on, with `done`
    saying what happened."""
    return redirect(url_for(endpoint, done=done, **args,
                            page=max(1, request.form.get("page", 1, type=int) or 1)))


@dataclass
class Page:
    """One page of a newest-first table: its rows, the total, and where we are."""
    rows: list
    total: int
    number: int
    count: int


def paged(select_rows, select_total) -> Page:
    """The page the `page` query argument names (fifty rows a page)."""
    session = db.session()
    number = max(1, request.args.get("page", 1, type=int) or 1)
    total = session.scalar(select_total)
    rows = session.execute(select_rows.limit(PAGE_SIZE).offset((number - 1) * PAGE_SIZE)).all()
    return Page(rows, total, number, max(1, -(-total // PAGE_SIZE)))
