"""The A/B test form: the sample, and up to three variants of a widget, each a name and
only the fields it changes (an empty field keeps the widget's own)."""
from __future__ import annotations

from flask_babel import gettext, lazy_gettext
from flask_wtf import FlaskForm
from wtforms import Form, FormField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, NumberRange, Optional

from widget.dashboard.forms import one_line
from widget.dashboard.widget_forms import LAYOUTS
from widget.models import Widget
from widget.sites import abtests

SAME = SelectChoice("", lazy_gettext("As the widget"))
TRIGGERS = [SAME, SelectChoice("exit_intent", lazy_gettext("When the visitor is about to leave")),
            SelectChoice("time", lazy_gettext("After some seconds on the page")),
            SelectChoice("scroll", lazy_gettext("After scrolling some % of the page")),
            SelectChoice("idle", lazy_gettext("After some seconds without activity"))]
LETTERS = ("b", "c", "d")  # the variants beside the original (A)


class VariantForm(Form):  # inside TestForm, whose one CSRF token covers it
    name = StringField(lazy_gettext("Name"),
                       validators=[Optional(), Length(max=abtests.NAME_MAX), one_line],
                       description=lazy_gettext("Empty: this variant is not in the test."))
    title = StringField(lazy_gettext("Title"),
                        validators=[Optional(), Length(max=200), one_line])
    description = TextAreaField(lazy_gettext("Description"),
                                validators=[Optional(), Length(max=2000)])
    button_label = StringField(lazy_gettext("Button text"),
                               validators=[Optional(), Length(max=80), one_line])
    no_thanks_label = StringField(lazy_gettext("“No thanks” text"),
                                  validators=[Optional(), Length(max=80), one_line])
    success_message = TextAreaField(lazy_gettext("Success message"),
                                    validators=[Optional(), Length(max=1000)])
    layout = SelectField(lazy_gettext("Layout"), choices=[SAME] + LAYOUTS, default="")
    trigger = SelectField(lazy_gettext("Trigger"), choices=TRIGGERS, default="",
                          description=lazy_gettext("One trigger in place of the widget's "
                                                   "own."))
    trigger_value = IntegerField(lazy_gettext("Seconds or %"),
                                 validators=[Optional(), NumberRange(1, 3600)])
    color_bg = StringField(lazy_gettext("Background colour"),
                           validators=[Optional(), Length(max=7)],
                           description=lazy_gettext("Like #ffffff; empty: the widget's."))
    color_fg = StringField(lazy_gettext("Text colour"), validators=[Optional(), Length(max=7)])
    color_accent = StringField(lazy_gettext("Button colour"),
                               validators=[Optional(), Length(max=7)])
    gift_mode = SelectField(lazy_gettext("How the gift is given"), default="", choices=[
        SAME, SelectChoice("first", lazy_gettext("Gift first, at once")),
        SelectChoice("gated", lazy_gettext("After the sign-up"))],
        description=lazy_gettext("Gift widgets only."))

    def changes(self) -> dict:
        """What this variant changes of the widget: only the fields filled in."""
        found = {name: self[name].data.strip() for name in (
            "title", "description", "button_label", "no_thanks_label", "success_message",
            "layout", "color_bg", "color_fg", "color_accent", "gift_mode")
            if (self[name].data or "").strip()}
        for name in ("color_bg", "color_fg", "color_accent"):
            if name in found:
                found[name] = found[name].lower()
        if self.trigger.data:
            value = None if self.trigger.data == "exit_intent" else self.trigger_value.data
            found["triggers"] = [[self.trigger.data, value]]
            found["trigger_match"] = "any"
        return found


class TestForm(FlaskForm):
    min_shown = IntegerField(
        lazy_gettext("Views each variant needs before a winner is named"),
        validators=[NumberRange(abtests.MIN_SAMPLE, abtests.MAX_SAMPLE)], default=1000,
        description=lazy_gettext(
            "Set it now; it cannot change while the test runs. Until every variant has been "
            "shown this often, the results show the numbers but name no winner: deciding "
            "early on a lucky streak is how tests mislead. About 1,000 views finds a "
            "difference of a few points; small differences need many thousands."))
    b = FormField(VariantForm, label=lazy_gettext("Variant %(name)s", name="B"))
    c = FormField(VariantForm, label=lazy_gettext("Variant %(name)s", name="C"))
    d = FormField(VariantForm, label=lazy_gettext("Variant %(name)s", name="D"))

    def proposed(self, widget: Widget) -> list[abtests.Proposed]:
        """The variants filled in, in order; a trigger without its number is an error
        on its field (returned as none, with the error set)."""
        found = []
        for letter in LETTERS:
            sub = self[letter].form
            if not (sub.name.data or "").strip():
                continue
            if sub.trigger.data not in ("", "exit_intent") and not sub.trigger_value.data:
                sub.trigger_value.errors = [gettext("This trigger needs its number.")]
                return []
            found.append(abtests.Proposed(sub.name.data.strip(), sub.changes()))
        return found
