"""What every dashboard page starts from: the current owner's site and its rows (404 for
anyone else's), one keyset page of a newest-first table, and the way back after a button."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

from flask import abort, redirect, request, url_for
from flask_login import current_user

from widget.core import db, keyset
from widget.models import MAX_ID, Site
from widget.sites import audit, members

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


def site_by_id(site_id: str) -> Site | None:
    """A site by id, any owner's (roles.py checks who may see it)."""
    return _get(Site, site_id)


def owned_site(site_id: str) -> Site:
    """A site the current person is on (its owner, or a member: roles.py checked what
    their role allows before the view ran), or 404 (never 403, so other owners' ids
    stay unconfirmed)."""
    site = _get(Site, site_id)
    if site is None or members.role_of(db.session(), site, current_user.id) is None:
        abort(404)
    return site


def logged(site: Site, action: str, detail: str | None = None) -> None:
    """Put what the current person did on the site's audit log (the caller commits it
    with the change): with a team, who changed what matters."""
    audit.record(db.session(), site.id, audit.actor_of_owner(current_user), action, 1, detail)


def owned(site: Site, model: type[Row], row_id: str | int, **also) -> Row:
    """The `model` row `row_id` of `site` (from owned_site), or 404; `also` names further
    columns it must match (e.g. gift_id=gift.id, kind="coupon")."""
    row = _get(model, row_id)
    if row is None or row.site_id != site.id or any(
            getattr(row, name) != value for name, value in also.items()):
        abort(404)
    return row


def back(endpoint: str, done: str | None, **args):
    """After a button's POST: to the page (and the table's page) it was on, with `done`
    saying what happened."""
    return redirect(url_for(endpoint, done=done, **args,
                            **{name: request.form[name] for name in POSITION
                               if request.form.get(name)}))


POSITION = ("after", "before", "last")  # the query arguments that name a table's page


@dataclass
class Page:
    """One page of a table, newest first: its rows, how many there are in all (counted to
    keyset.CAP + 1), the cursors of the pages either side (None at an end), and the
    arguments that name this page, which a button's form sends back so `back` returns to
    it."""
    rows: list
    total: int
    newer: str | None
    older: str | None
    position: dict


def paged(query, model, order: keyset.Order = keyset.NEWEST) -> Page:
    """The page of `query` (rows whose first entity is a `model`, no ORDER BY) that the
    request's `after`, `before` or `last` names, fifty rows, in `order` (newest first).
    Keyset, not OFFSET: the last page of a million rows costs what the first does. A
    cursor we did not make shows the first page."""
    session = db.session()
    after = keyset.read_cursor(request.args.get("after"), order)
    before = None if after else keyset.read_cursor(request.args.get("before"), order)
    backward = before is not None or (after is None and request.args.get("last") == "1")
    walk = keyset.reverse(order) if backward else order
    rows, beyond = _read(session, query, model, walk, before if backward else after)
    if backward and before is not None and not beyond:
        # Back at the newest rows: the first page, full, rather than what was left of it.
        before, backward = None, False
        rows, beyond = _read(session, query, model, order, None)
    if backward:
        rows.reverse()
    has_newer = beyond if backward else after is not None
    has_older = before is not None if backward else beyond
    counted = count_to_cap(query.with_only_columns(model.id))
    position = ({"after": request.args["after"]} if after else
                {"before": request.args["before"]} if before is not None else
                {"last": "1"} if backward else {})
    return Page(rows, counted, _edge(rows[0], order) if rows and has_newer else None,
                _edge(rows[-1], order) if rows and has_older else None, position)


def count_to_cap(ids) -> int:
    """How many rows the select `ids` finds, counting no further than keyset.CAP + 1."""
    return keyset.count_to_cap(db.session(), ids)


def _read(session, query, model, order: keyset.Order, position) -> tuple[list, bool]:
    found = session.execute(query.where(*keyset.after(model, position, order))
                            .order_by(*keyset.ordered(model, order)).limit(PAGE_SIZE + 1)).all()
    return found[:PAGE_SIZE], len(found) > PAGE_SIZE


def _edge(row, order: keyset.Order) -> str:
    return keyset.cursor_of(getattr(row[0], order.column), row[0].id)
