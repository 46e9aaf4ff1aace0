"""Add, edit and delete widgets: layout, triggers, copy, language, live state, quiet days."""
from __future__ import annotations

from babel.lists import format_list
from flask import flash, redirect, render_template, request, url_for
from flask_babel import get_locale, gettext, lazy_gettext
from flask_login import login_required

from widget.core import assets, db, i18n
from widget.core.said import stored
from widget.dashboard.blueprint import bp
from widget.dashboard.widget_forms import TRIGGER_FIELDS, WidgetForm
from widget.insight import months
from widget.models import Site, Widget
from widget.sites import colors, snapshot

from widget.dashboard.owned import logged, owned, owned_site

GIFT_KINDS = {"file": lazy_gettext("a file"), "link": lazy_gettext("a link"),
              "coupon": lazy_gettext("coupon codes"), "bonus": lazy_gettext("a bonus text")}

# the audit log's detail for a widget switched on or paused (core/said.py)
LIVE = stored("%(name)s: live")
PAUSED = stored("%(name)s: paused")


@bp.route("/sites/<site_id>/widgets/new", methods=["GET", "POST"])
@login_required
def new_widget(site_id: str):
    """Add a widget to a site; it starts paused, so nothing shows before the owner is ready."""
    site = owned_site(site_id)
    return _widget_form(site, Widget(site_id=site.id, name=gettext("New widget"), is_live=False,
                                     layout="modal", triggers=[["exit_intent", None]],
                                     trigger_match="any", device="any", visitor="any",
                                     quiet_days_after_close=14,
                                     quiet_days_after_signup=365, kind="newsletter",
                                     gift_mode="first"))


@bp.route("/sites/<site_id>/widgets/<widget_id>", methods=["GET", "POST"])
@login_required
def edit_widget(site_id: str, widget_id: str):
    """The widget form; changes reach visitors within the widgets endpoint's cache time."""
    return _widget_form(*_owned_widget(site_id, widget_id))


@bp.post("/sites/<site_id>/widgets/<widget_id>/delete")
@login_required
def delete_widget(site_id: str, widget_id: str):
    """Delete a widget and its counters; sign-ups it brought stay, without the link."""
    site, widget = _owned_widget(site_id, widget_id)
    db.session().delete(widget)
    months.forget(db.session(), site.id)  # its counters go with it: sum the months again
    logged(site, "widget_delete", widget.name)
    db.session().commit()
    snapshot.invalidate(site.id)
    flash(gettext("“%(name)s” is deleted.", name=widget.name))
    return redirect(url_for("dashboard.site", site_id=site.id))


@bp.post("/sites/<site_id>/widgets/<widget_id>/live")
@login_required
def toggle_widget(site_id: str, widget_id: str):
    """Pause a live widget or switch a paused one on, from the site's widget list."""
    site, widget = _owned_widget(site_id, widget_id)
    widget.is_live = not widget.is_live
    logged(site, "widget", (LIVE if widget.is_live else PAUSED) % {"name": widget.name})
    db.session().commit()
    snapshot.invalidate(site.id)
    flash(gettext("“%(name)s” is live.", name=widget.name) if widget.is_live else
          gettext("“%(name)s” is paused.", name=widget.name))
    return redirect(url_for("dashboard.site", site_id=site.id))


def _owned_widget(site_id: str, widget_id: str) -> tuple[Site, Widget]:
    site = owned_site(site_id)
    return site, owned(site, Widget, widget_id)


def _widget_form(site, widget: Widget):
    """Show the widget form, or save it (a new widget is added to the site) and go back."""
    form = WidgetForm(obj=widget)
    form.gift_id.choices = [(g.id, f"{g.title} ({GIFT_KINDS[g.kind]})") for g in site.gifts]
    tag = f"<div data-widget-inline=\"{widget.id or 'ID'}\"></div>"
    form.layout.description = gettext("Stories from readers always show inline: put %(tag)s "
                                      "where they belong on your page.", tag=tag)
    if request.method == "GET":
        form.own_colors.data = widget.color_bg is not None
        form.page_langs.data = [c for c in (widget.page_langs or "").split(",") if c]
        form.tags.data = ", ".join((widget.tags or "").split(",")) or None
        for name, default in colors.DEFAULT.items():
            form[f"color_{name}"].data = getattr(widget, f"color_{name}") or default
        current = dict(widget.triggers)
        for field, kind in TRIGGER_FIELDS.items():
            form[field].data = kind in current if kind == "exit_intent" else current.get(kind)
    if form.validate_on_submit():
        widget.triggers = [[kind, None if kind == "exit_intent" else form[field].data]
                           for field, kind in TRIGGER_FIELDS.items() if form[field].data]
        own, langs = form.own_colors.data, form.page_langs.data
        for field in (*TRIGGER_FIELDS, "own_colors", "page_langs"):
            del form[field]  # not columns as they are: set from the values above
        form.populate_obj(widget)
        widget.page_langs = ",".join(langs) or None
        if not own:
            widget.color_bg = widget.color_fg = widget.color_accent = None
        widget.lang = widget.lang or None
        widget.gift_id = widget.gift_id if widget.kind == "gift" else None
        # Approved stories render into the page's placeholder, never as a pop-up.
        widget.style = (widget.style or "list") if widget.kind == "proof" else None
        widget.layout = "inline" if widget.kind == "proof" else widget.layout
        for attr in ("title", "description", "button_label", "success_message", "no_thanks_label",
                     "url_include", "url_exclude", "referrer", "utm_source"):
            setattr(widget, attr, (getattr(widget, attr) or "").strip() or None)
        added = widget.id is None
        if added:
            db.session().add(widget)
        logged(site, "widget", widget.name)
        db.session().commit()
        snapshot.invalidate(site.id)
        flash(gettext("“%(name)s” is added; visitors see the change within a minute.",
                      name=widget.name) if added else
              gettext("“%(name)s” is saved; visitors see the change within a minute.",
                      name=widget.name))
        return redirect(url_for("dashboard.site", site_id=site.id))
    return render_template("dashboard/widget_form.html", form=form, site=site, widget=widget,
                           preview=_preview_data(site, widget)), 422 if form.errors else 200


def _preview_data(site, widget: Widget) -> dict:
    """What the preview script needs to draw the real widget in any language."""
    return {"ui": assets.url("js/ui.js"), "css": assets.url("css/ui.css"),
            "site": site.id, "id": widget.id or "preview", "lang": site.default_lang,
            "require_consent": site.require_consent, "consent_text": site.consent_text,
            "strings": {lang: i18n.client_strings(lang, sorted(i18n.CLIENT_GROUPS))
                        for lang in i18n.LANGS},
            "gifts": {g.id: {"kind": g.kind, "name": g.title,
                             "description": g.description or ""} for g in site.gifts},
            "defaults": {lang: {"title": i18n.text("title", lang),
                                "description": i18n.text("description", lang),
                                "button": i18n.text("submit", lang),
                                "gift_first": i18n.text("gift.get", lang),
                                "gift_gated": i18n.text("gift.send_me", lang),
                                "success": i18n.text("success", lang),
                                "no_thanks": i18n.text("no_thanks", lang)}
                         for lang in i18n.LANGS},
            # Story and proof widgets: their built-in copy, and two made-up stories a
            # proof widget's preview shows (never the site's real ones).
            "giveback": {lang: {"story_title": i18n.text("story.title", lang),
                                "story_description": i18n.text("story.description", lang),
                                "proof_title": i18n.text("proof.title", lang),
                                "stories": [{"name": i18n.text(f"sample.story{i}.name", lang),
                                             "text": i18n.text(f"sample.story{i}.text", lang),
                                             "rating": rating}
                                            for i, rating in ((1, 5), (2, 4))]}
                         for lang in i18n.LANGS}}


def trigger_words(kind: str, value) -> str:
    """One trigger as the owner reads it: 'exit intent', 'time 20 s', 'scroll 50%'."""
    if kind == "exit_intent":
        return gettext("exit intent")
    if kind == "time":
        return gettext("time %(n)s s", n=value)
    if kind == "scroll":
        return gettext("scroll %(n)s%%", n=value)
    if kind == "idle":
        return gettext("idle %(n)s s", n=value)
    return kind.replace("_", " ") + ("" if value is None else f" {value}")


@bp.app_template_filter("trigger_summary")
def trigger_summary(widget: Widget) -> str:
    """'exit intent or time 20 s', as the owner reads it in the widget list (the list in
    the page's language)."""
    parts = [trigger_words(kind, value) for kind, value in widget.triggers]
    if not parts:
        return gettext("on click only")
    return format_list(parts, style="standard" if widget.trigger_match == "all" else "or",
                       locale=get_locale())
