"""What works: a site's funnel over a range of its own days, beside the period of equal
length just before, and one view of the counters (by day, week, month, widget, variant,
page, language or device) as a table and as a CSV. Counters only (insight/stats.py):
nothing here is about one visitor."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from babel.dates import format_date, format_skeleton
from babel.core import Locale
from flask import Response, render_template, request
from flask_babel import (format_number, format_percent, get_locale, gettext, lazy_gettext,
                         ngettext)
from flask_login import login_required
from sqlalchemy import select

from widget.core import db, export
from widget.core.errors import ApiError
from widget.dashboard import charts
from widget.dashboard.blueprint import bp
from widget.dashboard.forms import LANG_NAMES
from widget.dashboard.owned import owned_site
from widget.insight import counters, stats
from widget.models import STAT_COUNTERS, Site, Widget, WidgetTest, WidgetVariant, utcnow

STEPS = {"shown": lazy_gettext("Shown"), "opened": lazy_gettext("Opened"),
         "closed": lazy_gettext("Closed"), "signed_up": lazy_gettext("Signed up"),
         "confirmed": lazy_gettext("Confirmed"), "downloaded": lazy_gettext("Gift downloaded"),
         "referred": lazy_gettext("Friends referred"), "stories": lazy_gettext("Stories")}
VIEWS = {"day": lazy_gettext("Day"), "week": lazy_gettext("Week"),
         "month": lazy_gettext("Month"), "widget": lazy_gettext("Widget"),
         "variant": lazy_gettext("Variant"), "page": lazy_gettext("Page"),
         "lang": lazy_gettext("Language"), "device": lazy_gettext("Device")}
# The view table's caption.
CAPTIONS = {"day": lazy_gettext("By day"), "week": lazy_gettext("By week"),
            "month": lazy_gettext("By month"), "widget": lazy_gettext("By widget"),
            "variant": lazy_gettext("By variant"),
            "page": lazy_gettext("By page (the 20 pages shown most)"),
            "lang": lazy_gettext("By language"), "device": lazy_gettext("By device")}
# The first column's heading in the table, and its name in the CSV.
KEY_HEADINGS = {**VIEWS, "week": lazy_gettext("Week from")}
CSV_KEYS = {**{by: by for by in stats.BY}, "lang": "language"}
DEVICES = {"mobile": lazy_gettext("Mobile"), "tablet": lazy_gettext("Tablet"),
           "desktop": lazy_gettext("Desktop")}
# Query names -> the fields' labels. "Until", not "To": the catalogue's "To" is an
# e-mail's recipient (German "An").
LABELS = {"from": lazy_gettext("From"), "to": lazy_gettext("Until")}
MINUS = "\u2212"


@dataclass
class Query:
    """What the form asks for: the range (None when its dates are wrong), the view, the
    widget ("" for all), and a message per field it could not take."""
    rng: stats.Range | None
    by: str
    widget: str
    errors: dict[str, str] = field(default_factory=dict)

    def args(self) -> dict[str, str]:
        """The query string of this view, for its CSV link."""
        found = {"from": self.rng.start.isoformat(), "to": self.rng.end.isoformat(),
                 "by": self.by}
        return {**found, "widget": self.widget} if self.widget else found


def read_query(site: Site) -> Query:
    """The form's values, checked by insight/stats (parse_range, check_by) and against the
    site's widgets; the range defaults to the last 30 days up to the site's today."""
    args, errors = request.args, {}
    try:
        rng = stats.parse_range(args.get("from"), args.get("to"),
                                counters.local_day(utcnow(), site.time_zone))
    except ApiError as exc:
        rng = None
        errors[exc.field or "from"] = _in_words(exc.message)
    try:
        by = stats.check_by(args.get("by"))
    except ApiError:
        by, errors["by"] = "day", gettext("Choose one of the views in the list.")
    widget = args.get("widget", "")
    if widget and widget not in {w.id for w in site.widgets}:
        errors["widget"] = gettext("Choose one of this site's widgets, or all of them.")
    return Query(rng, by, widget, errors)


def _in_words(message: str) -> str:
    """insight/stats' message (English, as the API answers) in the page's language, its
    query names as the form's labels; one this page does not know, in English."""
    if message == "'from' is after 'to'.":
        return gettext("“%(from)s” is after “%(to)s”.", **{"from": LABELS["from"],
                                                         "to": LABELS["to"]})
    if message == f"A range spans at most {stats.MAX_DAYS} days.":
        return gettext("A range spans at most %(n)s days.", n=stats.MAX_DAYS)
    for name, label in LABELS.items():
        if message == (f"'{name}' must be a date as YYYY-MM-DD, from {stats.EARLIEST} to "
                       f"{stats.LATEST}."):
            return gettext("“%(field)s” must be a date as YYYY-MM-DD, from %(earliest)s to "
                           "%(latest)s.", field=label, earliest=stats.EARLIEST,
                           latest=stats.LATEST)
        message = message.replace(f"'{name}'", f"“{label}”")
    return message


@bp.get("/sites/<site_id>/stats")
@login_required
def stats_page(site_id: str):
    """The funnel of the range against the period before, and the chosen view's table;
    a value the form can't take is explained next to its field (422)."""
    site = owned_site(site_id)
    query = read_query(site)
    if query.errors:
        return render_template("dashboard/stats.html", site=site, query=query,
                               views=VIEWS), 422
    session, widget = db.session(), query.widget or None
    now = stats.totals(session, site.id, query.rng, widget)
    before = stats.totals(session, site.id, query.rng.previous(), widget)
    rows = stats.rows(session, site.id, query.rng, query.by, widget)
    steps = funnel(now, before)
    bars = charts.bars([(step["step"], step["count"]) for step in steps])
    return render_template(
        "dashboard/stats.html", site=site, query=query, views=VIEWS, captions=CAPTIONS,
        funnel=steps, rows=[_shown(site, query.by, row) for row in rows],
        trends=trends(site, query, rows), bars=bars, bars_height=charts.bars_height(bars),
        key_heading=KEY_HEADINGS[query.by], counters=[STEPS[c] for c in STAT_COUNTERS],
        period=period(query.rng), previous=period(query.rng.previous()))


@bp.get("/sites/<site_id>/stats.csv")
@login_required
def stats_csv(site_id: str):
    """The view's rows as a spreadsheet (core/export.py: UTF-8 with a BOM, no formula
    cells): the key, each counter, and the sign-up rate as a fraction of shown."""
    site = owned_site(site_id)
    query = read_query(site)
    if query.errors:
        return Response(" ".join(query.errors.values()), 422,
                        content_type="text/plain; charset=utf-8")
    session = db.session()
    found = stats.rows(session, site.id, query.rng, query.by, query.widget or None)
    session.rollback()  # read: no transaction stays open while the client reads
    header = (CSV_KEYS[query.by], *STAT_COUNTERS, "signup_rate")
    cells = [(_csv_key(site, query.by, row["key"]), *(row[c] for c in STAT_COUNTERS),
              _fraction(stats.rates(row)["signed_up_of_shown"])) for row in found]
    return export.download(export.lines(header, [cells]),
                           f"what-works-{site.id}-{query.by}-{query.rng.start}-"
                           f"{query.rng.end}.csv")


def trends(site: Site, query: Query, rows: list[dict]) -> list[charts.Trend]:
    """Views and sign-ups over the range: from a time view's own rows, else by day (week
    beyond three months, month beyond two years), so the chart never needs hundreds of
    points to say what a dozen do."""
    by = query.by
    if by not in stats.TIME:
        by = "day" if query.rng.days <= 92 else "week" if query.rng.days <= 731 else "month"
        rows = stats.rows(db.session(), site.id, query.rng, by, query.widget or None)
    label = lambda key: key_label(site, by, key)  # noqa: E731
    found = [charts.trend(rows, {name: STEPS[name] for name in ("shown", "opened")}, label),
             charts.trend(rows, {name: STEPS[name] for name in ("signed_up", "confirmed")},
                          label)]
    return [chart for chart in found if chart]


def funnel(now: dict[str, int], before: dict[str, int]) -> list[dict]:
    """Each step with its count, its rate and what that is a share of (stats.BASE), the
    previous period's count and the change from it, as the page shows them."""
    rates = stats.rates(now)
    return [{"step": STEPS[step], "count": now[step], "rate": _rate(step, rates),
             "before": before[step], "change": change(now[step], before[step])}
            for step in stats.FUNNEL]


def _rate(step: str, rates: dict[str, float | None]) -> str:
    if step not in stats.BASE:
        return ""  # the first step: a share of nothing
    if rates[step] is None:
        return "—"
    rate, base = percent(rates[step]), stats.BASE[step]
    # Whole phrases, not a step's name lower-cased: German keeps its nouns' capitals.
    if base == "opened":
        return gettext("%(rate)s of opened", rate=rate)
    if base == "signed_up":
        return gettext("%(rate)s of signed up", rate=rate)
    return gettext("%(rate)s of shown", rate=rate)


def percent(rate: float | None) -> str:
    """0.125 as "12.5 %", 0.5 as "50 %" (in the page's language: "12,5 %" in nb and de);
    "—" when there is no rate (nothing before)."""
    if rate is None:
        return "—"
    return format_percent(rate, "#,##0.# %")


def change(now: int, before: int) -> str:
    """The change from the previous period in whole per cent ("+12 %", "−3 %", "0 %");
    "—" when the previous period had none, where no per cent means anything."""
    if not before:
        return "—"
    step = round((now - before) * 100 / before)
    sign = "+" if step > 0 else MINUS if step < 0 else ""
    return sign + format_percent(abs(step) / 100, "#,##0 %")


def period(rng: stats.Range) -> str:
    """A range in words: "1 Mar 2025 – 30 Mar 2025 (30 days)"."""
    return ngettext("%(start)s – %(end)s (%(n)s day)", "%(start)s – %(end)s (%(n)s days)",
                    rng.days, start=plain_day(rng.start), end=plain_day(rng.end),
                    n=format_number(rng.days))


def _dates() -> Locale:
    """The locale dates are written in: the page's, and British English for English
    (the day before the month, as this page has always written them)."""
    locale = get_locale() or Locale("en")
    return Locale("en", "GB") if locale.language == "en" else locale


def plain_day(day: date) -> str:
    """"4 Mar 2026" ("4. mars 2026" in nb, "4. März 2026" in de, "4 mrt 2026" in nl)."""
    return format_skeleton("yMMMd", day, locale=_dates())


def key_label(site: Site, by: str, key) -> str:
    """A view's key as the owner reads it: a day, a week's Monday or a month plainly; a
    widget's name; a test's variant by its widget, name and test (0: outside a test); a
    page's path; a language's name."""
    if by in stats.TIME:
        day = date.fromisoformat(key)
        return (f"{format_date(day, 'EEE', locale=_dates())} {plain_day(day)}" if by == "day"
                else plain_day(day) if by == "week"
                else format_skeleton("yMMMM", day, locale=_dates()))
    if by == "widget":
        return next((w.name for w in site.widgets if w.id == key), key)
    if by == "variant":
        return _variant_name(site, key)
    return str({"lang": LANG_NAMES, "device": DEVICES}.get(by, {}).get(key, key))


def _variant_name(site: Site, key: int) -> str:
    """A variant as "widget: variant (test started …)"; 0 is any widget outside a test."""
    found = db.session().execute(
        select(WidgetVariant.name, WidgetTest.started_at, Widget.name)
        .join(WidgetTest, WidgetTest.id == WidgetVariant.test_id)
        .join(Widget, Widget.id == WidgetTest.widget_id)
        .where(WidgetVariant.id == key, WidgetTest.site_id == site.id)).first()
    if found is None:
        return gettext("Outside a test") if key == 0 else gettext("Variant %(name)s",
                                                                  name=key)
    name, started, widget = found
    return gettext("%(widget)s: %(variant)s (test of %(day)s)", widget=widget, variant=name,
                   day=plain_day(started.date()))


def _shown(site: Site, by: str, row: dict) -> dict:
    return {"key": key_label(site, by, row["key"]), "counts": [row[c] for c in STAT_COUNTERS],
            "rate": percent(stats.rates(row)["signed_up_of_shown"])}


def _csv_key(site: Site, by: str, key):
    # Days stay YYYY-MM-DD, which spreadsheets read as dates; the rest as the page says.
    return date.fromisoformat(key) if by in stats.TIME else key_label(site, by, key)


def _fraction(rate: float | None) -> float | None:
    return None if rate is None else round(rate, 4)
