"""Edit a widget's copy, language, live state and quiet periods."""
from __future__ import annotations

from flask import abort, redirect, render_template, request, url_for
from flask_login import login_required

from .. import db, siteview
from ..models import Widget
from . import bp
from .forms import TRIGGER_FIELDS, WidgetForm
from .sites import owned_site


@bp.route("/sites/<site_id>/widgets/<widget_id>", methods=["GET", "POST"])
@login_required
def edit_widget(site_id: str, widget_id: str):
    """The widget form; changes reach visitors within the widgets endpoint's cache time."""
    site = owned_site(site_id)
    widget = db.session().get(Widget, widget_id)
    if widget is None or widget.site_id != site.id:
        abort(404)
    form = WidgetForm(obj=widget)
    if request.method == "GET":
        current = dict(widget.triggers)
        for field, kind in TRIGGER_FIELDS.items():
            form[field].data = kind in current if kind == "exit_intent" else current.get(kind)
    if form.validate_on_submit():
        widget.triggers = [[kind, None if kind == "exit_intent" else form[field].data]
                           for field, kind in TRIGGER_FIELDS.items() if form[field].data]
        for field in TRIGGER_FIELDS:
            del form[field]  # not columns: the list above holds them
        form.populate_obj(widget)
        widget.lang = widget.lang or None
        for attr in ("title", "description", "button_label", "success_message"):
            setattr(widget, attr, (getattr(widget, attr) or "").strip() or None)
        db.session().commit()
        siteview.invalidate(site.id)
        return redirect(url_for("dashboard.site", site_id=site.id))
    return render_template("dashboard/widget_form.html", form=form, site=site, widget=widget), \
        422 if form.errors else 200


@bp.app_template_filter("trigger_summary")
def trigger_summary(widget: Widget) -> str:
    """'exit intent or time 20 s', as the owner reads it in the widget list."""
    parts = [kind.replace("_", " ") + ("" if value is None else
                                       f" {value}%" if kind == "scroll" else f" {value} s")
             for kind, value in widget.triggers]
    joiner = " and " if widget.trigger_match == "all" else " or "
    return joiner.join(parts) or "on click only"
