"""Dashboard forms (Flask-WTF: each carries its CSRF token)."""
from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import available_timezones

from email_validator import EmailNotValidError, validate_email
from flask_wtf import FlaskForm
from wtforms import (BooleanField, ColorField, EmailField, IntegerField, PasswordField,
                     SelectField, SelectMultipleField, StringField, TextAreaField)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError

from widget.core import headers
from widget.core.i18n import LANGS
from widget.models import Widget
from widget.sites import colors
from widget.sites.accounts import AccountError, parse_origins
from widget.sites.honesty import no_thanks_problems
from widget.sites.origins import normalize_origin
from widget.subscribers.tags import BadTags, parse as parse_tags

LANG_NAMES = {"en": "English", "nb": "Norsk (bokmål)", "de": "Deutsch", "nl": "Nederlands"}
LANG_CHOICES = [SelectChoice(code, LANG_NAMES[code]) for code in LANGS]
# The IANA time zones this machine knows, A to Z; "localtime" (whatever the server's own
# zone is) and "Factory" (no zone at all) are no owner's days.
TIME_ZONES = sorted((available_timezones() | {"UTC"}) - {"localtime", "Factory"})
KNOWN_ZONES = frozenset(TIME_ZONES)


CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def one_line(form, field) -> None:
    """Text that reaches a header: the one rule of core/headers (a line break, even one
    hidden in an encoded word, would start a header of someone else's choosing)."""
    if reason := headers.problem(field.data):
        raise ValidationError(reason)


def header_warnings(values: dict[str, str | None]) -> list[str]:
    """What the owner should fix among values stored before one_line's rule (label ->
    value): e-mails still go out, each break folded into a space (core/headers.clean)."""
    return [f"{label} holds a line break (perhaps hidden in an encoded word, =?…?=): "
            f"e-mails are sent with it replaced by a space. Save it again to fix it."
            for label, value in values.items() if headers.problem(value)]


def mail_address(form, field) -> None:
    """An address for a From or Reply-To header: one address, nothing that could smuggle
    in a second header or recipient; stored normalized (and ASCII: header encoding would
    garble an internationalized address, so IDN domains are kept in their xn-- form)."""
    value = (field.data or "").strip()
    if not value:
        field.data = None
        return
    if headers.problem(value) or "," in value or ";" in value:
        raise ValidationError("One address only, without commas or line breaks.")
    try:
        checked = validate_email(value, check_deliverability=False)
    except EmailNotValidError as exc:
        raise ValidationError(f"Not a valid e-mail address: {exc}") from None
    if checked.ascii_email is None:
        raise ValidationError("Use an address without accents or other non-ASCII "
                              "letters before the @: not every mail server accepts them.")
    field.data = checked.ascii_email


def known_zone(form, field) -> None:
    """A time zone of TIME_ZONES (a name this machine's time zone data has)."""
    if field.data not in KNOWN_ZONES:
        raise ValidationError("Choose a time zone from the list, such as Europe/Oslo or UTC.")


WIDGET_TAGS_LENGTH = Widget.__table__.c.tags.type.length


def tag_list(form, field) -> None:
    """Comma-separated tags, through the one rule of subscribers/tags: stored clean and
    joined by bare commas (None for none), as the sign-up path splits them."""
    try:
        found = ",".join(parse_tags(field.data or ""))
    except BadTags as exc:
        raise ValidationError(str(exc)) from None
    if len(found) > WIDGET_TAGS_LENGTH:
        raise ValidationError(f"A widget's tags fit in {WIDGET_TAGS_LENGTH} characters "
                              f"together: use fewer or shorter ones.")
    field.data = found or None


DOMAIN = re.compile(r"(?:[^\s@/:\\.]+\.)+[^\s@/:\\.]+")  # labels with dots between


def domain_lines(form, field) -> None:
    """Disposable domains, one per line: each a domain name (a leading @ is dropped),
    stored lower-case, one per line, without repeats."""
    found = []
    for item in (field.data or "").replace(",", " ").split():
        domain = item.lstrip("@").lower().rstrip(".")
        if not DOMAIN.fullmatch(domain):
            raise ValidationError(f"“{item[:100]}” is not a domain like tempmail.example.")
        if domain not in found:
            found.append(domain)
    field.data = "\n".join(found) or None


class LoginForm(FlaskForm):
    email = EmailField("E-mail", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=1000)])


class DeleteSiteForm(FlaskForm):
    name = StringField("Type the site's name to confirm", validators=[DataRequired(),
                                                                      Length(max=200)])


class SiteForm(FlaskForm):
    name = StringField("Site name", validators=[DataRequired(), Length(max=200), one_line])
    origins = TextAreaField(
        "Allowed origins", validators=[DataRequired(), Length(max=4000)],
        # From a site (obj=), the field would hold its SiteOrigin rows: one a line instead.
        filters=[lambda v: v if isinstance(v, str) or v is None
                 else "\n".join(o.origin for o in v)],
        description="One per line, e.g. https://blog.example. Only pages on these "
                    "origins can show your widgets and send sign-ups.")
    default_lang = SelectField("Default language", choices=LANG_CHOICES, default="en")
    time_zone = SelectField(
        "Time zone", choices=TIME_ZONES, default="UTC", validate_choice=False,
        validators=[known_zone],
        description="The days “What works” counts in. Counts made before a change keep "
                    "the day they were counted on.")
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
    unconfirmed_days = IntegerField(
        "Delete sign-ups never confirmed after this many days", default=30,
        validators=[NumberRange(1, 365, message="A number of days from 1 to 365.")],
        description="Only double opt-in leaves sign-ups unconfirmed. One still waiting "
                    "for its confirmation after this many days is deleted, and everything "
                    "kept about that person goes with it: consent, e-mails, tags, their "
                    "place on the gift ledger. Confirmed and unsubscribed contacts are "
                    "never touched.")
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
    referral_wait_days = IntegerField(
        "Days before a referral counts", default=0, validators=[NumberRange(0, 90)],
        description="A referral counts after the friend stayed subscribed this many days "
                    "(0: at once, when they confirm).")
    referral_burst = IntegerField(
        "Friends from one network within an hour", default=3,
        validators=[NumberRange(1, 100)],
        description="More than this many friends of one person from one network within "
                    "an hour wait for your approval.")
    hold_disposable = BooleanField(
        "Friends with a disposable address wait for your approval", default=True)
    disposable_domains = TextAreaField(
        "More disposable domains", validators=[Optional(), Length(max=10_000),
                                               domain_lines],
        description="Extra disposable domains, one per line (for example "
                    "tempmail.example), besides the built-in list of the common ones.")
    ref_landing = StringField(
        "Where referral links lead", validators=[Optional(), Length(max=2048)],
        description="Where /r/ links send friends; must be on one of your allowed origins. "
                    "Empty: the page the subscriber signed up on.")
    count_threshold = IntegerField(
        "Show how many readers you have from", validators=[Optional(), NumberRange(min=1)],
        description="Show “Join N readers” once you have this many confirmed "
                    "subscribers. Empty: never.")
    story_gift_id = SelectField(
        "A thank-you gift for stories", choices=[], validate_choice=False,
        description="A thank-you gift for each story sent with an e-mail address, given "
                    "with the thank-you e-mail.")

    def validate(self, extra_validators=None) -> bool:
        """Field checks, then the referral landing page: on one of the origins saved."""
        if not super().validate(extra_validators):
            return False
        gifts = {value for value, _label in self.story_gift_id.choices}
        if self.story_gift_id.data and self.story_gift_id.data not in gifts:
            self.story_gift_id.errors.append("Choose one of this site's gifts, or none.")
            return False
        if not self.ref_landing.data:
            return True
        try:
            allowed = parse_origins(self.origins.data.splitlines())
        except AccountError as exc:
            self.origins.errors.append(str(exc))
            return False
        landing, problem = landing_page(self.ref_landing.data.strip(), allowed)
        if problem:
            self.ref_landing.errors.append(problem)
            return False
        self.ref_landing.data = landing
        return True


def landing_page(value: str, allowed: list[str]) -> tuple[str, str | None]:
    """A referral landing page as stored (its origin normalized, no #fragment), or why it
    can't be one: /r/ links lead only to the site's own origins, never anywhere else."""
    if CONTROL.search(value) or any(c in value for c in "\\ "):
        return value, "An address without spaces, backslashes or line breaks."
    try:
        parts = urlsplit(value)
        origin = normalize_origin(f"{parts.scheme}://{parts.netloc}")
    except ValueError:  # not http(s), no host, a user name or a bad port
        return value, "An address starting with https:// or http://, such as " \
                      f"{allowed[0]}/welcome."
    if origin not in allowed:
        return value, "Use a page on one of your allowed origins: " + ", ".join(allowed) + "."
    return origin + urlunsplit(("", "", parts.path or "/", parts.query, "")), None


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
        SelectChoice("gift", "A gift"),
        SelectChoice("story", "A story form"),
        SelectChoice("proof", "Stories from readers (social proof)")])
    style = SelectField("How the stories show", default="list", validate_choice=False,
                        choices=[SelectChoice("list", "List"),
                                 SelectChoice("carousel", "Carousel, one at a time")],
                        description="For stories from readers: the stories you approved "
                                    "whose tellers allowed it, newest first.")
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
                    "that makes nobody feel bad for taking it. Guilt trips (“I'd rather pay "
                    "full price”) and text with nothing to read are refused.")
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
    tags = StringField(
        "Tags for its sign-ups", validators=[Length(max=2000), tag_list],
        description="Comma-separated, e.g. checklist-gift, spring-sale: every sign-up "
                    "through this widget gets them, to find them on the Contacts page "
                    "and in its export. Tags are stored in lower case.")
    quiet_days_after_close = IntegerField(
        "Days of quiet after a visitor closes it", validators=[NumberRange(0, 3650)], default=14)
    quiet_days_after_signup = IntegerField(
        "Days of quiet after a visitor signs up (or takes the gift)", validators=[NumberRange(0, 3650)], default=365)

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
            self.gift_id.errors.append("Choose the gift this widget gives." if gifts else
                                       "This site has no gifts yet: add one first.")
            return False
        if self.kind.data == "proof" and (self.style.data or "list") not in ("list",
                                                                            "carousel"):
            self.style.errors.append("Choose a list or a carousel.")
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
