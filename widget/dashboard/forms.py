"""Dashboard forms (Flask-WTF: each carries its CSRF token)."""
from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import available_timezones

from email_validator import EmailNotValidError, validate_email
from flask_babel import gettext, lazy_gettext
from flask_wtf import FlaskForm
from wtforms import (BooleanField, EmailField, IntegerField, PasswordField, SelectField,
                     StringField, TextAreaField)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError

from widget.core import headers, said
from widget.core.i18n import LANGS
from widget.models import Widget
from widget.sites.accounts import AccountError, parse_origins
from widget.sites.origins import normalize_origin
from widget.subscribers.tags import BadTags, parse as parse_tags

LANG_NAMES = {"en": "English", "nb": "Norsk (bokmål)", "de": "Deutsch", "nl": "Nederlands"}
LANG_CHOICES = [SelectChoice(code, LANG_NAMES[code]) for code in LANGS]
# The IANA time zones this machine knows, A to Z; "localtime" (whatever the server's own
# zone is) and "Factory" (no zone at all) are no owner's days.
TIME_ZONES = sorted((available_timezones() | {"UTC"}) - {"localtime", "Factory"})
KNOWN_ZONES = frozenset(TIME_ZONES)


CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# core/headers' reasons in the owner's language (it answers in English, for every caller).
HEADER_PROBLEMS = {
    headers.ONE_LINE: lazy_gettext("Keep it on one line."),
    headers.HIDDEN_BREAK: lazy_gettext("Write the text as it should read: this encoded word "
                                       "(=?…?=) hides a line break.")}


def one_line(form, field) -> None:
    """Text that reaches a header: the one rule of core/headers (a line break, even one
    hidden in an encoded word, would start a header of someone else's choosing)."""
    if reason := headers.problem(field.data):
        raise ValidationError(HEADER_PROBLEMS.get(reason, reason))


def header_warnings(values: dict[str, str | None]) -> list[str]:
    """What the owner should fix among values stored before one_line's rule (label ->
    value): e-mails still go out, each break folded into a space (core/headers.clean)."""
    return [gettext("%(label)s holds a line break (perhaps hidden in an encoded word, "
                    "=?…?=): e-mails are sent with it replaced by a space. Save it again "
                    "to fix it.", label=label)
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
        raise ValidationError(gettext("One address only, without commas or line breaks."))
    try:
        checked = validate_email(value, check_deliverability=False)
    except EmailNotValidError as exc:  # email_validator says why, in English
        raise ValidationError(gettext("Not a valid e-mail address: %(reason)s",
                                      reason=said.shown(str(exc)))) from None
    if checked.ascii_email is None:
        raise ValidationError(gettext("Use an address without accents or other non-ASCII "
                                      "letters before the @: not every mail server "
                                      "accepts them."))
    field.data = checked.ascii_email


def known_zone(form, field) -> None:
    """A time zone of TIME_ZONES (a name this machine's time zone data has)."""
    if field.data not in KNOWN_ZONES:
        raise ValidationError(gettext("Choose a time zone from the list, such as "
                                      "Europe/Oslo or UTC."))


WIDGET_TAGS_LENGTH = Widget.__table__.c.tags.type.length


def tag_list(form, field) -> None:
    """Comma-separated tags, through the one rule of subscribers/tags: stored clean and
    joined by bare commas (None for none), as the sign-up path splits them."""
    try:
        found = ",".join(parse_tags(field.data or ""))
    except BadTags as exc:
        raise ValidationError(str(exc)) from None
    if len(found) > WIDGET_TAGS_LENGTH:
        raise ValidationError(gettext("A widget's tags fit in %(max)d characters "
                                      "together: use fewer or shorter ones.",
                                      max=WIDGET_TAGS_LENGTH))
    field.data = found or None


DOMAIN = re.compile(r"(?:[^\s@/:\\.]+\.)+[^\s@/:\\.]+")  # labels with dots between


def domain_lines(form, field) -> None:
    """Disposable domains, one per line: each a domain name (a leading @ is dropped),
    stored lower-case, one per line, without repeats."""
    found = []
    for item in (field.data or "").replace(",", " ").split():
        domain = item.lstrip("@").lower().rstrip(".")
        if not DOMAIN.fullmatch(domain):
            raise ValidationError(gettext("“%(item)s” is not a domain like "
                                          "tempmail.example.", item=item[:100]))
        if domain not in found:
            found.append(domain)
    field.data = "\n".join(found) or None


class LoginForm(FlaskForm):
    email = EmailField(lazy_gettext("E-mail"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(lazy_gettext("Password"),
                             validators=[DataRequired(), Length(max=1000)])


class DeleteSiteForm(FlaskForm):
    name = StringField(lazy_gettext("Type the site's name to confirm"),
                       validators=[DataRequired(), Length(max=200)])


class SiteForm(FlaskForm):
    name = StringField(lazy_gettext("Site name"),
                       validators=[DataRequired(), Length(max=200), one_line])
    origins = TextAreaField(
        lazy_gettext("Allowed origins"), validators=[DataRequired(), Length(max=4000)],
        # From a site (obj=), the field would hold its SiteOrigin rows: one a line instead.
        filters=[lambda v: v if isinstance(v, str) or v is None
                 else "\n".join(o.origin for o in v)],
        description=lazy_gettext("One per line, e.g. https://blog.example. Only pages on "
                                 "these origins can show your widgets and send sign-ups."))
    default_lang = SelectField(lazy_gettext("Default language"), choices=LANG_CHOICES,
                               default="en")
    time_zone = SelectField(
        lazy_gettext("Time zone"), choices=TIME_ZONES, default="UTC", validate_choice=False,
        validators=[known_zone],
        description=lazy_gettext("The days “What works” counts in, and the clock digests "
                                 "of new posts go by. Counts made before a change keep the "
                                 "day they were counted on."))
    require_consent = BooleanField(
        lazy_gettext("Ask for explicit consent with a checkbox"), default=True)
    consent_text = TextAreaField(
        lazy_gettext("Consent text"), validators=[Optional(), Length(max=500)],
        description=lazy_gettext("Leave empty for the built-in text in the visitor's "
                                 "language."))
    popup_cap = IntegerField(
        lazy_gettext("Pop-ups per visit"), default=1, validators=[NumberRange(1, 10)],
        description=lazy_gettext("How many pop-ups one browser may see in 30 minutes, "
                                 "across all your widgets. Inline widgets and buttons on "
                                 "your pages don't count."))
    double_opt_in = BooleanField(
        lazy_gettext("Double opt-in: ask new subscribers to confirm their address"),
        default=True,
        description=lazy_gettext("Each sign-up gets an e-mail with a button to confirm; "
                                 "only then are they on your list. It keeps typos and "
                                 "other people's addresses off it, and is how you can "
                                 "show consent. Off: sign-ups count at once and get the "
                                 "thank-you e-mail."))
    confirm_days = IntegerField(
        lazy_gettext("Confirmation links work for this many days"), default=7,
        validators=[NumberRange(1, 90)],
        description=lazy_gettext("After that the link offers to send a fresh one."))
    unconfirmed_days = IntegerField(
        lazy_gettext("Delete sign-ups never confirmed after this many days"), default=30,
        validators=[NumberRange(1, 365, message=lazy_gettext(
            "A number of days from 1 to 365."))],
        description=lazy_gettext("Only double opt-in leaves sign-ups unconfirmed. One "
                                 "still waiting for its confirmation after this many days "
                                 "is deleted, and everything kept about that person goes "
                                 "with it: consent, e-mails, tags, their place on the "
                                 "gift ledger. Confirmed and unsubscribed contacts are "
                                 "never touched."))
    sender_name = StringField(
        lazy_gettext("Sender name"), validators=[Optional(), Length(max=100), one_line],
        description=lazy_gettext("Shown as the sender of your e-mails. Empty: the site's "
                                 "name."))
    sender_email = EmailField(
        lazy_gettext("Sender e-mail"), validators=[Length(max=254), mail_address],
        description=lazy_gettext("Your mail server must be allowed to send from this "
                                 "address, or messages may be refused or land in spam."))
    reply_to = EmailField(
        lazy_gettext("Replies go to"), validators=[Length(max=254), mail_address],
        description=lazy_gettext("Where answers to your e-mails land. Empty: the sender "
                                 "address."))
    referral_wait_days = IntegerField(
        lazy_gettext("Days before a referral counts"), default=0,
        validators=[NumberRange(0, 90)],
        description=lazy_gettext("A referral counts after the friend stayed subscribed "
                                 "this many days (0: at once, when they confirm)."))
    referral_burst = IntegerField(
        lazy_gettext("Friends from one network within an hour"), default=3,
        validators=[NumberRange(1, 100)],
        description=lazy_gettext("More than this many friends of one person from one "
                                 "network within an hour wait for your approval."))
    hold_disposable = BooleanField(
        lazy_gettext("Friends with a disposable address wait for your approval"),
        default=True)
    disposable_domains = TextAreaField(
        lazy_gettext("More disposable domains"),
        validators=[Optional(), Length(max=10_000), domain_lines],
        description=lazy_gettext("Extra disposable domains, one per line (for example "
                                 "tempmail.example), besides the built-in list of the "
                                 "common ones."))
    ref_landing = StringField(
        lazy_gettext("Where referral links lead"), validators=[Optional(), Length(max=2048)],
        description=lazy_gettext("Where /r/ links send friends; must be on one of your "
                                 "allowed origins. Empty: the page the subscriber signed "
                                 "up on."))
    count_threshold = IntegerField(
        lazy_gettext("Show how many readers you have from"),
        validators=[Optional(), NumberRange(min=1)],
        description=lazy_gettext("Show “Join N readers” once you have this many confirmed "
                                 "subscribers. Empty: never."))
    story_gift_id = SelectField(
        lazy_gettext("A thank-you gift for stories"), choices=[], validate_choice=False,
        description=lazy_gettext("A thank-you gift for each story sent with an e-mail "
                                 "address, given with the thank-you e-mail."))

    def validate(self, extra_validators=None) -> bool:
        """Field checks, then the referral landing page: on one of the origins saved."""
        if not super().validate(extra_validators):
            return False
        gifts = {value for value, _label in self.story_gift_id.choices}
        if self.story_gift_id.data and self.story_gift_id.data not in gifts:
            self.story_gift_id.errors.append(gettext("Choose one of this site's gifts, or "
                                                     "none."))
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
        return value, gettext("An address without spaces, backslashes or line breaks.")
    try:
        parts = urlsplit(value)
        origin = normalize_origin(f"{parts.scheme}://{parts.netloc}")
    except ValueError:  # not http(s), no host, a user name or a bad port
        return value, gettext("An address starting with https:// or http://, such as "
                              "%(example)s/welcome.", example=allowed[0])
    if origin not in allowed:
        return value, gettext("Use a page on one of your allowed origins: %(origins)s.",
                              origins=", ".join(allowed))
    return origin + urlunsplit(("", "", parts.path or "/", parts.query, "")), None
