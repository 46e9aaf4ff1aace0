"""Dashboard forms (Flask-WTF: each carries its CSRF token)."""
from __future__ import annotations

import re

from email_validator import EmailNotValidError, validate_email
from flask_wtf import FlaskForm
from wtforms import (BooleanField, ColorField, EmailField, IntegerField, PasswordField,
                     SelectField, SelectMultipleField, StringField, TextAreaField)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError

from .. import colors
from ..i18n import LANGS, PLACEHOLDER

LANG_NAMES = {"en": "English", "nb": "Norsk (bokmål)", "de": "Deutsch", "nl": "Nederlands"}
LANG_CHOICES = [SelectChoice(code, LANG_NAMES[code]) for code in LANGS]


LINE_BREAK = re.compile(r"[\r\n]")
CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def one_line(form, field) -> None:
    """Header values: a line break would start a header of the visitor's choosing."""
    if field.data and CONTROL.search(field.data):
        raise ValidationError("Keep it on one line.")


def mail_address(form, field) -> None:
    """An address for a From or Reply-To header: one address, nothing that could smuggle
    in a second header or recipient; stored normalized (and ASCII: header encoding would
    garble an internationalized address, so IDN domains are kept in their xn-- form)."""
    value = (field.data or "").strip()
    if not value:
        field.data = None
        return
    if CONTROL.search(value) or "," in value or ";" in value:
        raise ValidationError("One address only, without commas or line breaks.")
    try:
        checked = validate_email(value, check_deliverability=False)
    except EmailNotValidError as exc:
        raise ValidationError(f"Not a valid e-mail address: {exc}") from None
    if checked.ascii_email is None:
        raise ValidationError("Use an address without accents or other non-ASCII "
                              "letters before the @: not every mail server accepts them.")
    field.data = checked.ascii_email


class LoginForm(FlaskForm):
    email = EmailField("E-mail", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=1000)])


class SiteForm(FlaskForm):
    name = StringField("Site name", validators=[DataRequired(), Length(max=200)])
    origins = TextAreaField(
        "Allowed origins", validators=[DataRequired(), Length(max=4000)],
        description="One per line, e.g. https://blog.example. Only pages on these "
                    "origins can show your widgets and send sign-ups.")
    default_lang = SelectField("Default language", choices=LANG_CHOICES, default="en")
    require_consent = BooleanField(
        "Ask for explicit consent with a checkbox", default=True)
    consent_text = TextAreaField(
        "Consent text", validators=[Optional(), Length(max=500)],
        description="Leave empty for the built-in text in the visitor's language.")
    popup_cap = IntegerField(
        "Pop-ups per visit", default=1, validators=[NumberRange(1, 10)],
        description="How many pop-ups one browser may see in 30 minutes, across all your "
                    "widgets. Inline widgets and buttons on your pages don't count.")
    double_opt_in = BooleanField(
        "Double opt-in: ask new subscribers to confirm their address", default=True,
        description="Each sign-up gets an e-mail with a button to confirm; only then are "
                    "they on your list. It keeps typos and other people's addresses off "
                    "it, and is how you can show consent. Off: sign-ups count at once and "
                    "get the thank-you e-mail.")
    confirm_days = IntegerField(
        "Confirmation links work for this many days", default=7,
        validators=[NumberRange(1, 90)],
        description="After that the link offers to send a fresh one.")
    sender_name = StringField(
        "Sender name", validators=[Optional(), Length(max=100), one_line],
        description="Shown as the sender of your e-mails. Empty: the site's name.")
    sender_email = EmailField(
        "Sender e-mail", validators=[Length(max=254), mail_address],
        description="Your mail server must be allowed to send from this address, or "
                    "messages may be refused or land in spam.")
    reply_to = EmailField(
        "Replies go to", validators=[Length(max=254), mail_address],
        description="Where answers to your e-mails land. Empty: the sender address.")


LAYOUTS = [SelectChoice("modal", "Modal in the middle of the window"),
           SelectChoice("slide_in", "Slide-in in the bottom corner"),
           SelectChoice("bar_top", "Bar across the top"),
           SelectChoice("bar_bottom", "Bar across the bottom"),
           SelectChoice("inline", "Inline, where the page has <div data-widget-inline=\"ID\">")]
# Form field -> trigger kind; the value is the trigger's number (None for exit intent).
TRIGGER_FIELDS = {"trigger_exit": "exit_intent", "trigger_time": "time",
                  "trigger_scroll": "scroll", "trigger_idle": "idle"}


class WidgetForm(FlaskForm):
    name = StringField("Name (only you see it)", validators=[DataRequired(), Length(max=200)])
    is_live = BooleanField("Live")
    layout = SelectField("Layout", choices=LAYOUTS, default="modal")
    kind = SelectField("It offers", default="newsletter", choices=[
        SelectChoice("newsletter", "The newsletter: an e-mail sign-up"),
        SelectChoice("gift", "A gift")])
    gift_id = SelectField("Gift", choices=[], validate_choice=False,
                          description="Add gifts on the site's page (Gifts → New gift).")
    gift_mode = SelectField("How the gift is given", default="first", choices=[
        SelectChoice("first", "Gift first: at once, no e-mail asked; afterwards a gentle "
                              "invitation to subscribe or share"),
        SelectChoice("gated", "After the sign-up: by e-mail, once the address is confirmed "
                              "(with double opt-in)")],
        description="Giving first builds the most trust. For coupon codes or a limited "
                    "gift, note that giving first lets anyone take one (a few per "
                    "visitor and minute, WIDGET_RATE_LIMIT_GIFT); after the sign-up "
                    "gives one per address.")
    trigger_exit = BooleanField(
        "When the visitor is about to leave (desktop: the pointer leaves through the top; "
        "touch screens: a quick scroll back up after reading)")
    trigger_time = IntegerField("After this many seconds on the page",
                                validators=[Optional(), NumberRange(1, 3600)])
    trigger_scroll = IntegerField("After scrolling this % of the page",
                                  validators=[Optional(), NumberRange(1, 100)])
    trigger_idle = IntegerField("After this many seconds without activity",
                                validators=[Optional(), NumberRange(1, 3600)])
    trigger_match = SelectField("Show it when", default="any", choices=[
        SelectChoice("any", "any one of these happens"),
        SelectChoice("all", "all of these have happened")],
        description="With none ticked or filled in, the widget opens only from a "
                    "data-widget-open button or widget('open', id) on the page.")
    lang = SelectField("Language", choices=[SelectChoice("", "The page's language")] + LANG_CHOICES)
    title = StringField("Title", validators=[Optional(), Length(max=200)],
                        description="Empty: 'Before you go…' in the visitor's language; "
                                    "for a gift, the gift's title.")
    description = TextAreaField("Description", validators=[Optional(), Length(max=2000)],
                                description="Empty: the built-in invitation in the "
                                            "visitor's language; for a gift, the gift's "
                                            "description.")
    button_label = StringField("Button text", validators=[Optional(), Length(max=80)],
                               description="Empty: 'Subscribe' in the visitor's language; "
                                           "for a gift, 'Get the gift' or 'Send me the "
                                           "gift'.")
    success_message = TextAreaField("Success message",
                                    validators=[Optional(), Length(max=1000)])
    no_thanks_label = StringField(
        "“No thanks” text", validators=[Optional(), Length(max=80)],
        description="Empty: 'No thanks' in the visitor's language. Keep it kind: a way out "
                    "that makes nobody feel bad for taking it.")
    url_include = TextAreaField(
        "Only on these pages", validators=[Optional(), Length(max=2000)],
        description="One per line, * for anything: /blog/* or https://shop.example/sale/*. "
                    "Empty: every page.")
    url_exclude = TextAreaField("Never on these pages",
                                validators=[Optional(), Length(max=2000)])
    device = SelectField("Devices", default="any", choices=[
        SelectChoice("any", "Every device"), SelectChoice("desktop", "Desktops only"),
        SelectChoice("mobile", "Touch screens only")])
    visitor = SelectField("Visitors", default="any", choices=[
        SelectChoice("any", "Everyone"),
        SelectChoice("new", "New visitors (first 30 minutes on the site)"),
        SelectChoice("returning", "Returning visitors")])
    referrer = StringField("Only when they came from (part of an address)",
                           validators=[Optional(), Length(max=200)],
                           description="For example news.ycombinator.com. Empty: from anywhere.")
    utm_source = StringField("Only with this utm_source in the page address",
                             validators=[Optional(), Length(max=100)])
    page_langs = SelectMultipleField(
        "Only on pages in these languages", choices=LANG_CHOICES,
        description="None chosen: every language.")
    own_colors = BooleanField("Use my own colours (otherwise the default, tested theme)")
    color_bg = ColorField("Background", default=colors.DEFAULT["bg"])
    color_fg = ColorField("Text", default=colors.DEFAULT["fg"])
    color_accent = ColorField("Button", default=colors.DEFAULT["accent"],
                              description="The button's text turns white or black, "
                                          "whichever reads better.")
    quiet_days_after_close = IntegerField(
        "Days of quiet after a visitor closes it", validators=[NumberRange(0, 3650)], default=14)
    quiet_days_after_signup = IntegerField(
        "Days of quiet after a visitor signs up (or takes the gift)", validators=[NumberRange(0, 3650)], default=365)

    def validate(self, extra_validators=None) -> bool:
        """Field checks, a gift for a gift widget, then the colours: proper hex, and
        readable together."""
        if not super().validate(extra_validators):
            return False
        gifts = {value for value, _label in self.gift_id.choices}
        if self.kind.data == "gift" and self.gift_id.data not in gifts:
            self.gift_id.errors.append("Choose the gift this widget gives." if gifts else
                                       "This site has no gifts yet: add one first.")
            return False
        if not self.own_colors.data:
            return True
        fields = (self.color_bg, self.color_fg, self.color_accent)
        for field in fields:
            if not colors.HEX.fullmatch(field.data or ""):
                field.errors.append("A colour like #1f5fbf.")
                return False
        found = colors.problems(self.color_bg.data, self.color_fg.data)
        self.own_colors.errors.extend(found)
        return not found


MAIL_KINDS = {"confirm": "Confirmation", "welcome": "Thank-you after confirming",
              "gift": "A gift (after the sign-up, or a fresh link)",
              "followup": "“How did you like it?” after a gift"}
PLACEHOLDERS = ("name", "site", "what", "gift")


def known_placeholders(form, field) -> None:
    """An unknown {placeholder} would reach the reader as typed: say so now."""
    unknown = sorted({m.group(1) for m in PLACEHOLDER.finditer(field.data or "")}
                     - set(PLACEHOLDERS))
    if unknown:
        raise ValidationError("Unknown placeholder " + ", ".join(f"{{{u}}}" for u in unknown)
                              + ": use {name}, {site}, {what} or {gift}.")


def no_name(form, field) -> None:
    """Subjects are headers, and nothing a visitor typed goes into a header."""
    if "{name}" in (field.data or ""):
        raise ValidationError("{name} can't go in the subject: nothing a visitor typed "
                              "goes into a header. Use it in the text instead.")


class MailCopyForm(FlaskForm):
    subject = StringField("Subject", validators=[DataRequired(), Length(max=200), one_line,
                                                 no_name, known_placeholders])
    body = TextAreaField("Text", validators=[DataRequired(), Length(max=5000),
                                             known_placeholders],
                         render_kw={"rows": 12})
