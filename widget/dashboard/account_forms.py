"""The account's forms: forgot password, a new password from a reset link, change it,
change the address, two-step log-in's code and turning it off, and the dashboard's
language and time zone."""
from __future__ import annotations

from flask_babel import gettext, lazy_gettext
from flask_wtf import FlaskForm
from wtforms import (EmailField, PasswordField, SelectChoice, SelectField, StringField,
                     ValidationError)
from wtforms.validators import DataRequired, EqualTo, Length

from widget.dashboard.language import LANGUAGES, time_zones
from widget.sites.accounts import MIN_PASSWORD

# Labels are lazy: the forms are built at import time, and each request reads them in
# its own language.
NEW = lazy_gettext("At least %(min)d characters. A few unrelated words are easy to "
                   "remember and hard to guess; a password manager is better still.",
                   min=MIN_PASSWORD)


def _current():
    return PasswordField(lazy_gettext("Current password"),
                         validators=[DataRequired(), Length(max=1000)],
                         render_kw={"autocomplete": "current-password"})


class ForgotForm(FlaskForm):
    email = EmailField(lazy_gettext("Your account's e-mail"),
                       validators=[DataRequired(), Length(max=254)])


class NewPasswordForm(FlaskForm):
    password = PasswordField(lazy_gettext("New password"), description=NEW, validators=[
        DataRequired(), Length(min=MIN_PASSWORD, max=1000, message=lazy_gettext(
            "Use at least %(min)d characters.", min=MIN_PASSWORD))],
        render_kw={"autocomplete": "new-password"})
    again = PasswordField(lazy_gettext("The new password again"), validators=[
        DataRequired(), EqualTo("password", lazy_gettext("The two passwords differ."))],
        render_kw={"autocomplete": "new-password"})


class CodeForm(FlaskForm):
    code = StringField(lazy_gettext("The six digits from your app, or a recovery code"),
                       validators=[DataRequired(), Length(max=40)],
                       render_kw={"autocomplete": "one-time-code", "inputmode": "text",
                                  "spellcheck": "false"})


class EmailForm(FlaskForm):
    email = EmailField(lazy_gettext("New e-mail address"),
                       validators=[DataRequired(), Length(max=254)],
                       render_kw={"autocomplete": "email"})
    current = _current()


class TurnOffForm(FlaskForm):
    current = _current()


class ChangePasswordForm(NewPasswordForm):
    current = _current()


class LanguageForm(FlaskForm):
    """The dashboard's language (each named in itself; empty: the browser's) and the time
    zone its dates are shown in."""
    lang = SelectField(lazy_gettext("Language"), choices=[
        SelectChoice("", lazy_gettext("Use my browser's language")),
        *(SelectChoice(code, name, {"lang": code}) for code, name in LANGUAGES.items())])
    time_zone = StringField(
        lazy_gettext("Time zone"), validators=[DataRequired(), Length(max=64)],
        description=lazy_gettext("A place's zone, such as Europe/Oslo, Europe/Berlin or "
                                 "America/New_York; UTC for none."),
        render_kw={"list": "time-zones", "autocomplete": "off", "spellcheck": "false"})

    def validate_time_zone(self, field) -> None:
        """A zone we know, in any case; kept in its proper spelling."""
        known = time_zones().get(field.data.strip().lower())
        if known is None:
            raise ValidationError(gettext(
                "We know no time zone called “%(zone)s”: pick one from the list, such as "
                "Europe/Oslo.", zone=field.data.strip()))
        field.data = known
