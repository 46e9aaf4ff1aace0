"""Contact import forms (Flask-WTF: each carries its CSRF token): the upload, and how the
file is read and imported (its columns, the consent, extra tags, the pace)."""
from __future__ import annotations

from flask_babel import gettext, lazy_gettext
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, ValidationError

from widget.dashboard.contact_forms import in_owner_language
from widget.models import ContactImport
from widget.subscribers import tags
from widget.subscribers.imports import TARGETS

# Labels are lazy: the forms are built at import time, and each request reads them in
# its own language.
CONSENT_WORDS = {"stated": lazy_gettext("They agreed to receive my e-mails. I state the basis:"),
                 "confirm": lazy_gettext("Send each new contact a confirmation e-mail")}
# Confirmations an hour → how the owner reads it.
PACES = {60: lazy_gettext("60 an hour (one a minute)"),
         600: lazy_gettext("600 an hour (one every 6 seconds)"),
         3600: lazy_gettext("3,600 an hour (one a second)")}
# The fields a column can fill (subscribers/imports.py TARGETS), as the owner reads them.
TARGET_WORDS = {"email": lazy_gettext("E-mail"), "name": lazy_gettext("Name (or first name)"),
                "last_name": lazy_gettext("Last name"), "lang": lazy_gettext("Language"),
                "tags": lazy_gettext("Tags")}
MAX_BASIS = 1000


class ImportUploadForm(FlaskForm):
    csv_file = FileField(lazy_gettext("CSV file"))


def extra_tags(form, field) -> None:
    """Tags for every row: the one tag rule, stored clean and comma-separated."""
    try:
        field.data = ",".join(tags.parse(field.data or "")) or None
    except tags.BadTags as exc:
        raise ValidationError(in_owner_language("invalid_tags", str(exc))) from None


class ImportMappingForm(FlaskForm):
    header = BooleanField(lazy_gettext("The first line holds column names"))
    email = SelectField(TARGET_WORDS["email"], validate_choice=False)
    name = SelectField(TARGET_WORDS["name"], validate_choice=False)
    last_name = SelectField(TARGET_WORDS["last_name"], validate_choice=False,
                            description=lazy_gettext("Added after the name, when your "
                                                     "file keeps it apart."))
    lang = SelectField(TARGET_WORDS["lang"], validate_choice=False,
                       description=lazy_gettext(
                           "en, nb, de or nl (or English, Norsk, Deutsch, Nederlands). Empty "
                           "or another language: new contacts get the site's language, "
                           "others keep theirs."))
    tags = SelectField(TARGET_WORDS["tags"], validate_choice=False,
                       description=lazy_gettext("Several tags in one cell are separated "
                                                "by commas."))
    consent = RadioField(lazy_gettext("How they agreed"), default="confirm",
                         choices=[SelectChoice(k, v) for k, v in CONSENT_WORDS.items()])
    basis = TextAreaField(
        lazy_gettext("The basis"), validators=[Length(max=MAX_BASIS)], render_kw={"rows": 3},
        description=lazy_gettext("Where and how each of them agreed, e.g. “Ticked ‘Send me "
                                 "the newsletter’ when ordering in our shop, 2023–2025”. It "
                                 "is kept with each contact as their consent."))
    pace = SelectField(lazy_gettext("Confirmation e-mails are sent at most"), coerce=int,
                       choices=[SelectChoice(n, words) for n, words in PACES.items()],
                       default=600)
    extra = StringField(lazy_gettext("Tags for every contact in the file"),
                        validators=[Length(max=300), extra_tags],
                        description=lazy_gettext("Comma-separated, e.g. “shop customers, "
                                                 "2025 import”."))

    def columns(self, names: list[str]) -> None:
        """Offer the file's columns (by position) to each field."""
        choices = [SelectChoice("", gettext("— not imported —"))] + [
            SelectChoice(str(i), f"{i + 1}: {name[:60]}") for i, name in enumerate(names)]
        for target in TARGETS:
            getattr(self, target).choices = choices
        self.width = len(names)

    def fill(self, row: ContactImport) -> None:
        """Start from what the import holds: the guess, or what was chosen before."""
        mapping = row.mapping
        self.header.data = mapping["header"]
        for target in TARGETS:
            index = mapping.get(target)
            getattr(self, target).data = "" if index is None else str(index)
        self.consent.data = "stated" if row.basis else "confirm"
        self.basis.data, self.pace.data, self.extra.data = row.basis, row.pace, row.tags

    def validate(self, extra_validators=None) -> bool:
        """Field checks, then: an e-mail column, no column for two fields, a basis when
        one is stated."""
        ok = super().validate(extra_validators)
        chosen = {}
        for target in TARGETS:
            value = getattr(self, target).data or ""
            if value and not (value.isdigit() and int(value) < self.width):
                getattr(self, target).errors.append(gettext("Choose one of the file's columns."))
                ok = False
            elif value in chosen:
                getattr(self, target).errors.append(gettext(
                    "That column goes to “%(field)s” already.",
                    field=TARGET_WORDS[chosen[value]]))
                ok = False
            elif value:
                chosen[value] = target
        if not self.email.data:
            self.email.errors.append(gettext("Choose the column with the e-mail addresses."))
            ok = False
        self.basis.data = (self.basis.data or "").replace("\r\n", "\n").strip() or None
        if self.consent.data == "stated" and not self.basis.data:
            self.basis.errors.append(gettext("Say where and how they agreed, or choose to "
                                             "send confirmation e-mails."))
            ok = False
        return ok

    def mapping(self) -> dict[str, int | None]:
        """The chosen column of each field (None: not imported), and the header choice."""
        return {"header": bool(self.header.data), **{
            target: int(getattr(self, target).data) if getattr(self, target).data else None
            for target in TARGETS}}
