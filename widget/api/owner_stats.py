"""The owner API's funnel statistics, on the owner blueprint: the site's counters
(insight/stats.py) for a range of its days, by day, week, month, widget, variant, page
path, language or device class, with the rates and the period just before. Counters
only: nothing here is about a visitor."""
from __future__ import annotations

from flask import jsonify, request
from sqlalchemy import select

from widget.api.owner import authorize, bp
from widget.core import db
from widget.core.errors import ApiError
from widget.insight import counters, stats
from widget.models import Site, Widget, utcnow


@bp.get("/sites/<site_id>/stats")
def site_stats(site_id: str):
    """`?from=&to=` (YYYY-MM-DD, the site's days; default the last 30 up to its today),
    `by=` (day by default) and `widget=` (one of the site's widgets, else 404)."""
    authorize(site_id)
    session = db.session()
    site = session.get(Site, site_id)
    zone = counters.zone(site.time_zone).key  # the zone the days were counted in
    today = counters.local_day(utcnow(), zone)
    rng = stats.parse_range(request.args.get("from"), request.args.get("to"), today)
    by = stats.check_by(request.args.get("by"))
    widget_id = _widget(site_id, request.args.get("widget"))
    before = rng.previous()
    return jsonify({
        "from": rng.start.isoformat(), "to": rng.end.isoformat(), "by": by,
        "time_zone": zone, "rows": stats.rows(session, site_id, rng, by, widget_id),
        "totals": _totals(session, site_id, rng, widget_id),
        "previous": {"from": before.start.isoformat(), "to": before.end.isoformat(),
                     "totals": _totals(session, site_id, before, widget_id)}})


def _widget(site_id: str, widget_id: str | None) -> str | None:
    """The `widget` asked for, if it is one of the site's; None for all of them."""
    if widget_id in (None, ""):
        return None
    found = len(widget_id) <= 64 and db.session().scalar(
        select(Widget.id).where(Widget.id == widget_id, Widget.site_id == site_id))
    if not found:
        raise ApiError(404, "not_found", "No such widget on this site.", field="widget")
    return found


def _totals(session, site_id: str, rng: stats.Range, widget_id: str | None) -> dict:
    """Each counter over the range, and each funnel step's rate."""
    counts = stats.totals(session, site_id, rng, widget_id)
    return {**counts, "rates": stats.rates(counts)}
