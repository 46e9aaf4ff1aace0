"""Gift forms (Flask-WTF: each carries its CSRF token): a gift and its coupon codes, and
the words the gift pages use."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask_babel import gettext, lazy_gettext
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from werkzeug.datastructures import FileStorage
from wtforms import BooleanField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError

from widget.dashboard.forms import CONTROL, one_line
from widget.gifts import coupons
from widget.gifts.coupons import MAX_CODES, MAX_LEN



def N_(text: str) -> str:
    """Marks a message for the catalogue and leaves it English: translated where it is
    shown (gettext), kept as it is where it is data (the ledger CSV's status column)."""
    return text


# Lazy: read in each request's language (the owner's).
KIND_WORDS = {"file": lazy_gettext("A file to download"), "link": lazy_gettext("A link"),
              "coupon": lazy_gettext("Coupon codes"), "bonus": lazy_gettext("A bonus text")}
KIND_HELP = {
    "file": lazy_gettext("A PDF, e-book, image, audio or other file: each person gets their "
                         "own link, which works for a few days and a few downloads."),
    "link": lazy_gettext("A page elsewhere (a video, a course, a shared folder): each person "
                         "gets their own link to it, which works for a few days."),
    "coupon": lazy_gettext("Unique codes, one per person, imported from a list or generated."),
    "bonus": lazy_gettext("A text shown at once on the thank-you page: a recipe, a tip, a "
                          "secret link."),
}
MAX_BONUS = 20_000
# English in the ledger CSV (and bench/ledger.py); the dashboard shows gettext(word).
STATE_WORDS = {"waiting": N_("Waiting for confirmation"), "ok": N_("Active"),
               "expired": N_("Expired"), "spent": N_("All downloads used"),
               "revoked": N_("Withdrawn")}
NOTICES = {"withdrawn": lazy_gettext("The link was withdrawn: it and every older link to "
                                     "this gift stop working."),
           "renewed": lazy_gettext("A fresh link is on its way by e-mail; older links stop "
                                   "working."),
           "not_renewed": lazy_gettext("No fresh link was sent: only subscribers who "
                                       "confirmed their address can get one.")}


def web_address(form, field) -> None:
    """Only http(s) addresses with a host: no javascript:, data: or typo'd schemes."""
    value = (field.data or "").strip()
    field.data = value
    if not value:
        return
    try:
        parts = urlsplit(value)
        fine = parts.scheme.lower() in ("http", "https") and bool(parts.hostname) \
            and parts.port != 0  # reading the port checks it
    except ValueError:  # a broken [IPv6] host or port
        fine = False
    if not fine or CONTROL.search(value) or " " in value:
        raise ValidationError(gettext("An address starting with https:// or http://."))


class GiftForm(FlaskForm):
    kind = SelectField(lazy_gettext("What you give"),
                       choices=[SelectChoice(k, v) for k, v in KIND_WORDS.items()])
    title = StringField(lazy_gettext("Title"),
                        validators=[DataRequired(), Length(max=200), one_line],
                        description=lazy_gettext("What visitors read, e.g. “The sourdough "
                                                 "checklist”."))
    description = TextAreaField(lazy_gettext("Description"),
                                validators=[Optional(), Length(max=1000)],
                                description=lazy_gettext("A sentence or two about what they "
                                                         "get."))
    upload = FileField(lazy_gettext("File"))
    url = StringField(lazy_gettext("Link"),
                      validators=[Optional(), Length(max=2048), web_address],
                      description=lazy_gettext("Visitors never see it: they get a link of "
                                               "their own that leads there while it is "
                                               "valid."))
    bonus_html = TextAreaField(
        lazy_gettext("Bonus text"), validators=[Optional(), Length(max=MAX_BONUS)],
        render_kw={"rows": 10},
        description=lazy_gettext("Plain text, or HTML: only simple formatting (bold, "
                                 "italics, lists, headings, quotes) and http(s) links are "
                                 "kept."))
    quantity = IntegerField(
        lazy_gettext("At most this many are ever given"),
        validators=[Optional(), NumberRange(min=1)],
        description=lazy_gettext("Empty: no limit. When they are gone, widgets offer the "
                                 "newsletter instead."))
    show_left = BooleanField(lazy_gettext("Show visitors the true number left"),
                             description=lazy_gettext("Only with a limit or coupon codes; "
                                                      "never a made-up number."))
    link_days = IntegerField(lazy_gettext("Each link works for this many days"), default=7,
                             validators=[NumberRange(1, 365)])
    download_limit = IntegerField(lazy_gettext("Downloads per link"), default=5,
                                  validators=[NumberRange(1, 1000)])
    followup_days = IntegerField(
        lazy_gettext("Ask “how did you like it?” this many days after giving it"),
        validators=[Optional(), NumberRange(1, 365)],
        description=lazy_gettext("Empty: no follow-up. Only subscribers who confirmed their "
                                 "address get it."))
    is_active = BooleanField(lazy_gettext("Active: widgets may give it"), default=True)

    def validate(self, extra_validators=None) -> bool:
        """Field checks, then what the kind needs: a link's address, a bonus's text."""
        ok = super().validate(extra_validators)
        needed = {"link": self.url, "bonus": self.bonus_html}.get(self.kind.data)
        if needed is not None and not (needed.data or "").strip():
            needed.errors = [*needed.errors, gettext("This field is required.")]
            ok = False
        return ok


class CouponImportForm(FlaskForm):
    codes = TextAreaField(
        lazy_gettext("Paste codes"),
        validators=[Optional(), Length(max=MAX_CODES * (MAX_LEN + 2))], render_kw={"rows": 6},
        description=lazy_gettext("One code per line, or the first column of a CSV; a header "
                                 "named “code” is skipped, and codes you already have are "
                                 "left out."))
    csv_file = FileField(lazy_gettext("…or upload a .csv file"))

    def codes_given(self) -> list[str]:
        """The codes of the textarea and of the file, each read as its own CSV (each may
        start with a header row). Raises coupons.CodesRefused."""
        texts = []
        if (self.codes.data or "").strip():
            texts.append((False, self.codes.data))
        if isinstance(self.csv_file.data, FileStorage):
            try:
                texts.append((True, self.csv_file.data.read().decode("utf-8-sig")))
            except UnicodeDecodeError:
                raise coupons.CodesRefused(gettext("The file must be UTF-8 text: in Excel, "
                                                   "save it as “CSV UTF-8”.")) from None
        if not texts:
            raise coupons.CodesRefused(gettext("Paste codes, or choose a .csv file."))
        codes = []
        for in_file, text in texts:
            try:
                codes.extend(coupons.parse_csv(text))
            except coupons.CodesRefused as exc:
                if not in_file:
                    raise
                raise coupons.CodesRefused(gettext("In the file: %(problem)s",
                                                   problem=str(exc))) from None
        return list(dict.fromkeys(codes))


class CouponGenerateForm(FlaskForm):
    pattern = StringField(lazy_gettext("Pattern"), default="GIFT-####",
                          validators=[DataRequired(), Length(max=MAX_LEN), one_line],
                          description=lazy_gettext("# a digit, ? a letter, * either: "
                                                   "BREAD-#### gives codes like "
                                                   "BREAD-4827."))
    count = IntegerField(lazy_gettext("How many"), default=100,
                         validators=[DataRequired(), NumberRange(1, MAX_CODES)])
