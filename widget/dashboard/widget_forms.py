"""The widget form (Flask-WTF: it carries its CSRF token): copy, layout, triggers,
targeting, caps and colours; the layouts and the trigger fields the A/B test form shares."""
from __future__ import annotations

from flask_babel import gettext, lazy_gettext
from flask_wtf import FlaskForm
from wtforms import (BooleanField, ColorField, IntegerField, SelectField, SelectMultipleField,
                     StringField, TextAreaField)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from widget.dashboard.forms import LANG_CHOICES, tag_list
from widget.sites import colors
from widget.sites.honesty import no_thanks_problems

LAYOUTS = [SelectChoice("modal", lazy_gettext("Modal in the middle of the window")),
           SelectChoice("slide_in", lazy_gettext("Slide-in in the bottom corner")),
           SelectChoice("bar_top", lazy_gettext("Bar across the top")),
           SelectChoice("bar_bottom", lazy_gettext("Bar across the bottom")),
           SelectChoice("inline", lazy_gettext("Inline, where the page has "
                                               "<div data-widget-inline=\"ID\">"))]
# Form field -> trigger kind; the value is the trigger's number (None for exit intent).
TRIGGER_FIELDS = {"trigger_exit": "exit_intent", "trigger_time": "time",
                  "trigger_scroll": "scroll", "trigger_idle": "idle"}


class WidgetForm(FlaskForm):
    name = StringField(lazy_gettext("Name (only you see it)"),
                       validators=[DataRequired(), Length(max=200)])
    is_live = BooleanField(lazy_gettext("Live"))
    layout = SelectField(lazy_gettext("Layout"), choices=LAYOUTS, default="modal")
    kind = SelectField(lazy_gettext("It offers"), default="newsletter", choices=[
        SelectChoice("newsletter", lazy_gettext("The newsletter: an e-mail sign-up")),
        SelectChoice("gift", lazy_gettext("A gift")),
        SelectChoice("story", lazy_gettext("A story form")),
        SelectChoice("proof", lazy_gettext("Stories from readers (social proof)"))])
    style = SelectField(
        lazy_gettext("How the stories show"), default="list", validate_choice=False,
        choices=[SelectChoice("list", lazy_gettext("List")),
                 SelectChoice("carousel", lazy_gettext("Carousel, one at a time"))],
        description=lazy_gettext("For stories from readers: the stories you approved whose "
                                 "tellers allowed it, newest first."))
    gift_id = SelectField(lazy_gettext("Gift"), choices=[], validate_choice=False,
                          description=lazy_gettext("Add gifts on the site's page (Gifts → "
                                                   "New gift)."))
    gift_mode = SelectField(lazy_gettext("How the gift is given"), default="first", choices=[
        SelectChoice("first", lazy_gettext("Gift first: at once, no e-mail asked; "
                                           "afterwards a gentle invitation to subscribe or "
                                           "share")),
        SelectChoice("gated", lazy_gettext("After the sign-up: by e-mail, once the address "
                                           "is confirmed (with double opt-in)"))],
        description=lazy_gettext("Giving first builds the most trust. For coupon codes or a "
                                 "limited gift, note that giving first lets anyone take one "
                                 "(a few per visitor and minute, WIDGET_RATE_LIMIT_GIFT); "
                                 "after the sign-up gives one per address."))
    trigger_exit = BooleanField(lazy_gettext(
        "When the visitor is about to leave (desktop: the pointer leaves through the top; "
        "touch screens: a quick scroll back up after reading)"))
    trigger_time = IntegerField(lazy_gettext("After this many seconds on the page"),
                                validators=[Optional(), NumberRange(1, 3600)])
    trigger_scroll = IntegerField(lazy_gettext("After scrolling this % of the page"),
                                  validators=[Optional(), NumberRange(1, 100)])
    trigger_idle = IntegerField(lazy_gettext("After this many seconds without activity"),
                                validators=[Optional(), NumberRange(1, 3600)])
    trigger_match = SelectField(lazy_gettext("Show it when"), default="any", choices=[
        SelectChoice("any", lazy_gettext("any one of these happens")),
        SelectChoice("all", lazy_gettext("all of these have happened"))],
        description=lazy_gettext("With none ticked or filled in, the widget opens only from "
                                 "a data-widget-open button or widget('open', id) on the "
                                 "page."))
    lang = SelectField(lazy_gettext("Language"),
                       choices=[SelectChoice("", lazy_gettext("The page's language"))]
                       + LANG_CHOICES)
    title = StringField(lazy_gettext("Title"), validators=[Optional(), Length(max=200)],
                        description=lazy_gettext("Empty: 'Before you go…' in the visitor's "
                                                 "language; for a gift, the gift's title."))
    description = TextAreaField(
        lazy_gettext("Description"), validators=[Optional(), Length(max=2000)],
        description=lazy_gettext("Empty: the built-in invitation in the visitor's language; "
                                 "for a gift, the gift's description."))
    button_label = StringField(
        lazy_gettext("Button text"), validators=[Optional(), Length(max=80)],
        description=lazy_gettext("Empty: 'Subscribe' in the visitor's language; for a gift, "
                                 "'Get the gift' or 'Send me the gift'."))
    success_message = TextAreaField(lazy_gettext("Success message"),
                                    validators=[Optional(), Length(max=1000)])
    no_thanks_label = StringField(
        lazy_gettext("“No thanks” text"), validators=[Optional(), Length(max=80)],
        description=lazy_gettext("Empty: 'No thanks' in the visitor's language. Keep it "
                                 "kind: a way out that makes nobody feel bad for taking it. "
                                 "Guilt trips (“I'd rather pay full price”) and text with "
                                 "nothing to read are refused."))
    url_include = TextAreaField(
        lazy_gettext("Only on these pages"), validators=[Optional(), Length(max=2000)],
        description=lazy_gettext("One per line, * for anything: /blog/* or "
                                 "https://shop.example/sale/*. Empty: every page."))
    url_exclude = TextAreaField(lazy_gettext("Never on these pages"),
                                validators=[Optional(), Length(max=2000)])
    device = SelectField(lazy_gettext("Devices"), default="any", choices=[
        SelectChoice("any", lazy_gettext("Every device")),
        SelectChoice("desktop", lazy_gettext("Desktops only")),
        SelectChoice("mobile", lazy_gettext("Touch screens only"))])
    visitor = SelectField(lazy_gettext("Visitors"), default="any", choices=[
        SelectChoice("any", lazy_gettext("Everyone")),
        SelectChoice("new", lazy_gettext("New visitors (first 30 minutes on the site)")),
        SelectChoice("returning", lazy_gettext("Returning visitors"))])
    referrer = StringField(
        lazy_gettext("Only when they came from (part of an address)"),
        validators=[Optional(), Length(max=200)],
        description=lazy_gettext("For example news.ycombinator.com. Empty: from anywhere."))
    utm_source = StringField(lazy_gettext("Only with this utm_source in the page address"),
                             validators=[Optional(), Length(max=100)])
    page_langs = SelectMultipleField(
        lazy_gettext("Only on pages in these languages"), choices=LANG_CHOICES,
        description=lazy_gettext("None chosen: every language."))
    own_colors = BooleanField(lazy_gettext("Use my own colours (otherwise the default, "
                                           "tested theme)"))
    color_bg = ColorField(lazy_gettext("Background"), default=colors.DEFAULT["bg"])
    color_fg = ColorField(lazy_gettext("Text"), default=colors.DEFAULT["fg"])
    color_accent = ColorField(lazy_gettext("Button"), default=colors.DEFAULT["accent"],
                              description=lazy_gettext("The button's text turns white or "
                                                       "black, whichever reads better."))
    tags = StringField(
        lazy_gettext("Tags for its sign-ups"), validators=[Length(max=2000), tag_list],
        description=lazy_gettext("Comma-separated, e.g. checklist-gift, spring-sale: every "
                                 "sign-up through this widget gets them, to find them on the "
                                 "Contacts page and in its export. Tags are stored in lower "
                                 "case."))
    quiet_days_after_close = IntegerField(
        lazy_gettext("Days of quiet after a visitor closes it"),
        validators=[NumberRange(0, 3650)], default=14)
    quiet_days_after_signup = IntegerField(
        lazy_gettext("Days of quiet after a visitor signs up (or takes the gift)"),
        validators=[NumberRange(0, 3650)], default=365)

    def validate(self, extra_validators=None) -> bool:
        """Field checks, a kind and visible "No thanks" (sites/honesty), a gift for a gift
        widget, then the colours: proper hex, and readable together."""
        if not super().validate(extra_validators):
            return False
        if found := no_thanks_problems(self.no_thanks_label.data):
            self.no_thanks_label.errors.extend(found)
            return False
        gifts = {value for value, _label in self.gift_id.choices}
        if self.kind.data == "gift" and self.gift_id.data not in gifts:
            self.gift_id.errors.append(gettext("Choose the gift this widget gives.") if gifts
                                       else gettext("This site has no gifts yet: add one "
                                                    "first."))
            return False
        if self.kind.data == "proof" and (self.style.data or "list") not in ("list",
                                                                            "carousel"):
            self.style.errors.append(gettext("Choose a list or a carousel."))
            return False
        if not self.own_colors.data:
            return True
        fields = (self.color_bg, self.color_fg, self.color_accent)
        for field in fields:
            if not colors.HEX.fullmatch(field.data or ""):
                field.errors.append(gettext("A colour like #1f5fbf."))
                return False
        found = colors.problems(self.color_bg.data, self.color_fg.data)
        self.own_colors.errors.extend(found)
        return not found
