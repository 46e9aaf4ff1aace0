"""What every dashboard page starts from: the current owner's site (404 for anyone
else's) and one page of a newest-first table."""
from __future__ import annotations

from dataclasses import dataclass

from flask import abort, request
from flask_login import current_user

from widget.core import db
from widget.models import Site

PAGE_SIZE = 50


def owned_site(site_id: str) -> Site:
    """The current owner's site, or 404 (never 403, so other owners' ids stay unconfirmed)."""
    site = db.session().get(Site, site_id) if len(site_id) <= 64 else None
    if site is None or site.owner_id != current_user.id:
        abort(404)
    return site


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
