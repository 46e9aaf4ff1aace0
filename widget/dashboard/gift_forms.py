"""Gift forms (Flask-WTF: each carries its CSRF token): a gift and its coupon codes, and
the words the gift pages use."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from werkzeug.datastructures import FileStorage
from wtforms import BooleanField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError

from widget.dashboard.forms import CONTROL, one_line
from widget.gifts import coupons
from widget.gifts.coupons import MAX_CODES, MAX_LEN

KIND_WORDS = {"file": "A file to download", "link": "A link", "coupon": "Coupon codes",
              "bonus": "A bonus text"}
KIND_HELP = {
    "file": "A PDF, e-book, image, audio or other file: each person gets their own link, "
            "which works for a few days and a few downloads.",
    "link": "A page elsewhere (a video, a course, a shared folder): each person gets their "
            "own link to it, which works for a few days.",
    "coupon": "Unique codes, one per person, imported from a list or generated.",
    "bonus": "A text shown at once on the thank-you page: a recipe, a tip, a secret link.",
}
MAX_BONUS = 20_000
STATE_WORDS = {"waiting": "Waiting for confirmation", "ok": "Active", "expired": "Expired",
               "spent": "All downloads used", "revoked": "Withdrawn"}
NOTICES = {"withdrawn": "The link was withdrawn: it and every older link to this gift stop "
                        "working.",
           "renewed": "A fresh link is on its way by e-mail; older links stop working.",
           "not_renewed": "No fresh link was sent: only subscribers who confirmed their "
                          "address can get one."}


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
        raise ValidationError("An address starting with https:// or http://.")


class GiftForm(FlaskForm):
    kind = SelectField("What you give",
                       choices=[SelectChoice(k, v) for k, v in KIND_WORDS.items()])
    title = StringField("Title", validators=[DataRequired(), Length(max=200), one_line],
                        description="What visitors read, e.g. “The sourdough checklist”.")
    description = TextAreaField("Description", validators=[Optional(), Length(max=1000)],
                                description="A sentence or two about what they get.")
    upload = FileField("File")
    url = StringField("Link", validators=[Optional(), Length(max=2048), web_address],
                      description="Visitors never see it: they get a link of their own "
                                  "that leads there while it is valid.")
    bonus_html = TextAreaField(
        "Bonus text", validators=[Optional(), Length(max=MAX_BONUS)], render_kw={"rows": 10},
        description="Plain text, or HTML: only simple formatting (bold, italics, lists, "
                    "headings, quotes) and http(s) links are kept.")
    quantity = IntegerField(
        "At most this many are ever given", validators=[Optional(), NumberRange(min=1)],
        description="Empty: no limit. When they are gone, widgets offer the newsletter instead.")
    show_left = BooleanField("Show visitors the true number left",
                             description="Only with a limit or coupon codes; never a made-up "
                                         "number.")
    link_days = IntegerField("Each link works for this many days", default=7,
                             validators=[NumberRange(1, 365)])
    download_limit = IntegerField("Downloads per link", default=5,
                                  validators=[NumberRange(1, 1000)])
    followup_days = IntegerField(
        "Ask “how did you like it?” this many days after giving it",
        validators=[Optional(), NumberRange(1, 365)],
        description="Empty: no follow-up. Only subscribers who confirmed their address get it.")
    is_active = BooleanField("Active: widgets may give it", default=True)

    def validate(self, extra_validators=None) -> bool:
        """Field checks, then what the kind needs: a link's address, a bonus's text."""
        ok = super().validate(extra_validators)
        needed = {"link": self.url, "bonus": self.bonus_html}.get(self.kind.data)
        if needed is not None and not (needed.data or "").strip():
            needed.errors = [*needed.errors, "This field is required."]
            ok = False
        return ok


class CouponImportForm(FlaskForm):
    codes = TextAreaField(
        "Paste codes", validators=[Optional(), Length(max=MAX_CODES * (MAX_LEN + 2))],
        render_kw={"rows": 6},
        description="One code per line, or the first column of a CSV; a header named "
                    "“code” is skipped, and codes you already have are left out.")
    csv_file = FileField("…or upload a .csv file")

    def codes_given(self) -> list[str]:
        """The codes of the textarea and of the file, each read as its own CSV (each may
        start with a header row). Raises coupons.CodesRefused."""
        texts = []
        if (self.codes.data or "").strip():
            texts.append(("", self.codes.data))
        if isinstance(self.csv_file.data, FileStorage):
            try:
                texts.append(("In the file: ", self.csv_file.data.read().decode("utf-8-sig")))
            except UnicodeDecodeError:
                raise coupons.CodesRefused("The file must be UTF-8 text: in Excel, save it "
                                           "as “CSV UTF-8”.") from None
        if not texts:
            raise coupons.CodesRefused("Paste codes, or choose a .csv file.")
        codes = []
        for where, text in texts:
            try:
                codes.extend(coupons.parse_csv(text))
            except coupons.CodesRefused as exc:
                raise coupons.CodesRefused(where + str(exc)) from None
        return list(dict.fromkeys(codes))


class CouponGenerateForm(FlaskForm):
    pattern = StringField("Pattern", default="GIFT-####",
                          validators=[DataRequired(), Length(max=MAX_LEN), one_line],
                          description="# a digit, ? a letter, * either: BREAD-#### gives "
                                      "codes like BREAD-4827.")
    count = IntegerField("How many", default=100,
                         validators=[DataRequired(), NumberRange(1, MAX_CODES)])
