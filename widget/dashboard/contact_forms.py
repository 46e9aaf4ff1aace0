"""The forms of a contact: adding one by hand, and editing one (Flask-WTF: each carries
its CSRF token). Their fields are checked by subscribers/manage.py, as the API's are; its
refusals reach the owner in the dashboard's language (owner_message)."""
from __future__ import annotations

from flask_babel import get_locale, gettext, lazy_gettext
from flask_wtf import FlaskForm
from wtforms import RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice

from widget.core import i18n
from widget.core.errors import ApiError
from widget.dashboard.forms import LANG_CHOICES
from widget.subscribers.manage import MAX_BASIS

# Labels are lazy: the forms are built at import time, and each request reads them in
# its own language.
TAGS_HELP = lazy_gettext("Separate tags with commas.")


def owner_message(err: ApiError) -> str:
    """manage.py's refusal for the owner's form, in the dashboard's language; the API
    answers with err.message, in English, unchanged."""
    return in_owner_language(err.code, err.message, err.field)


def in_owner_language(code: str, message: str, field: str | None = None) -> str:
    """A refusal a capability wrote in English (`message`, with its API `code`), in the
    dashboard's language: our words for this form's field, else the code's own string in
    that language (core/i18n.py)."""
    if (code, field) == ("missing_field", "basis"):
        return gettext("State the basis: why you may e-mail this person (e.g. “signed up "
                       "at our stand, 3 May”).")
    if (code, field) == ("missing_field", "tag"):
        return gettext("Name the tag.")
    if (code, field) == ("too_long", "basis"):
        return gettext("The basis is at most %(max)s characters.", max=MAX_BASIS)
    lang = str(get_locale())
    if lang == "en":  # the specific English message (a tag named, say) beats the code's
        return message
    return i18n.text(f"error.{code}", lang, default=message)


class ContactForm(FlaskForm):
    email = StringField(lazy_gettext("E-mail address"))
    name = StringField(lazy_gettext("Name (optional)"))
    lang = SelectField(lazy_gettext("Language of their e-mails"), choices=LANG_CHOICES)
    tags = StringField(lazy_gettext("Tags (optional)"), description=TAGS_HELP)
    basis = TextAreaField(
        lazy_gettext("Basis"), description=lazy_gettext(
            "Why you may e-mail this person, in your words: it is recorded as their "
            "consent (e.g. “asked to join at our stand, 3 May”)."))
    confirm = RadioField(lazy_gettext("Subscribe them"), default="ask", choices=[
        SelectChoice("ask", lazy_gettext("Send a confirmation e-mail first (they subscribe "
                                         "when they press its button)")),
        SelectChoice("now", lazy_gettext("Subscribe them now: they agreed already"))])


class EditForm(FlaskForm):
    name = StringField(lazy_gettext("Name"))
    lang = SelectField(lazy_gettext("Language of their e-mails"), choices=LANG_CHOICES)
    tags = StringField(lazy_gettext("Tags"), description=TAGS_HELP)
