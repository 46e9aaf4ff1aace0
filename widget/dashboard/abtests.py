"""A widget's A/B tests: start one, follow each variant's sign-up and confirmation rates
with their 95 % intervals and the chance each beats the original, then make a variant the
widget or stop; ended tests stay below as history."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import format_number, gettext, lazy_gettext
from flask_login import login_required

from widget.core import db
from widget.dashboard.abtest_forms import LETTERS, TestForm
from widget.dashboard.blueprint import bp
from widget.dashboard.owned import owned, owned_site
from widget.dashboard.widgets import trigger_words
from widget.insight import abstats, stats
from widget.models import Site, Widget, WidgetTest, WidgetVariant
from widget.sites import abtests, snapshot

# What a variant changes, as the results table names it (other fields: their own name).
CHANGED = {"title": lazy_gettext("title"), "description": lazy_gettext("description"),
           "button_label": lazy_gettext("button"),
           "no_thanks_label": lazy_gettext("“No thanks”"),
           "success_message": lazy_gettext("success message"),
           "layout": lazy_gettext("layout"), "triggers": lazy_gettext("triggers"),
           "color_bg": lazy_gettext("background"), "color_fg": lazy_gettext("text colour"),
           "color_accent": lazy_gettext("button colour"), "gift_mode": lazy_gettext("gift given")}
GIFT_MODES = {"first": lazy_gettext("first"), "gated": lazy_gettext("after the sign-up")}


def explain(test: WidgetTest, verdict: abstats.Verdict, rows: list[dict]) -> str:
    """The verdict of a running test in words."""
    if verdict.reason == "collecting":
        return gettext("Collecting: no winner is named until every variant has been shown "
                       "%(n)s times, the sample set at the start.",
                       n=format_number(test.min_shown))
    if verdict.reason == "winner":
        return gettext("%(name)s does better than the original, in sign-ups and in "
                       "confirmed sign-ups (at least 95 %% likely for both).",
                       name=rows[verdict.winner]["variant"].name)
    if verdict.reason == "control_holds":
        return gettext("The original does better: no variant is even 5 % likely to beat "
                       "it in confirmed sign-ups.")
    return gettext("No clear winner yet: the variants are too close to call. More views "
                   "may tell them apart, or they may simply be alike.")


def results(site: Site, test: WidgetTest) -> tuple[abstats.Verdict, list[dict]]:
    """The test's verdict, and one row a variant: its name, changes and numbers."""
    counts = stats.by_variant(db.session(), site.id, [v.id for v in test.variants])
    found = abstats.verdict([abstats.Arm(counts[v.id]["shown"], counts[v.id]["signed_up"],
                                         counts[v.id]["confirmed"]) for v in test.variants],
                            test.min_shown)
    rows = [{"variant": v, "changes": _described(v.changes), **row}
            for v, row in zip(test.variants, found.rows)]
    return found, rows


def _described(changes: dict) -> list[str]:
    return [f"{CHANGED.get(k, k.replace('_', ' '))}: {_value(v)}"
            for k, v in changes.items() if k != "trigger_match"]


def _value(value) -> str:
    if isinstance(value, list):  # triggers
        return ", ".join(trigger_words(kind, n) for kind, n in value)
    return str(GIFT_MODES.get(value, value))


@bp.route("/sites/<site_id>/widgets/<widget_id>/tests", methods=["GET", "POST"])
@login_required
def widget_tests(site_id: str, widget_id: str):
    """The widget's running test with its results, or the form to start one; then the
    tests it has had."""
    site = owned_site(site_id)
    widget = owned(site, Widget, widget_id)
    tests = abtests.history(db.session(), widget.id)
    current = tests[0] if tests and tests[0].ended_at is None else None
    form = TestForm()
    if current is None and form.validate_on_submit():
        proposed = form.proposed(widget)
        if proposed:
            try:
                abtests.start(db.session(), widget, proposed, form.min_shown.data)
            except abtests.TestRefused as refused:
                form.form_errors.extend(refused.problems)
            else:
                db.session().commit()
                snapshot.invalidate(site.id)
                flash(gettext("The test is running: each visitor keeps one variant on "
                              "every page."))
                return redirect(url_for("dashboard.widget_tests", site_id=site.id,
                                        widget_id=widget.id))
        elif not form.form_errors and not any(form[x].errors for x in LETTERS):
            form.form_errors.append(gettext("Name at least one variant (B) to test "
                                            "against the original."))
    shown = [(t, *results(site, t)) for t in tests]
    return render_template("dashboard/abtests.html", site=site, widget=widget, form=form,
                           current=current, shown=shown, explain=explain, letters=LETTERS)


@bp.post("/sites/<site_id>/widgets/<widget_id>/tests/<int:test_id>/end")
@login_required
def end_test(site_id: str, widget_id: str, test_id: int):
    """End the running test: keep the widget as it is, or (once the sample is reached)
    make one variant the widget."""
    site = owned_site(site_id)
    widget = owned(site, Widget, widget_id)
    test = owned(site, WidgetTest, test_id, widget_id=widget.id)
    form = TestForm()  # its CSRF token only
    back = redirect(url_for("dashboard.widget_tests", site_id=site.id, widget_id=widget.id))
    form.validate()
    if form.csrf_token.errors or test.ended_at:
        flash(gettext("This test has ended already.") if test.ended_at else
              gettext("The form had expired; please try again."))
        return back
    winner = _chosen(test)
    if winner is not None and winner.position and not results(site, test)[0].reached:
        flash(gettext("No variant can become the widget before every variant has reached "
                      "the sample you set; you can stop the test and keep the widget as it "
                      "is."))
        return back
    abtests.end(widget, test, winner if winner and winner.position else None)
    db.session().commit()
    snapshot.invalidate(site.id)
    flash(gettext("%(name)s is now the widget; the test is kept below.", name=winner.name)
          if winner and winner.position else
          gettext("The test has ended; the widget stays as it was."))
    return back


def _chosen(test: WidgetTest) -> WidgetVariant | None:
    """The variant the button named, if it is one of this test's."""
    value = request.form.get("winner", "")
    return next((v for v in test.variants if str(v.id) == value), None)
