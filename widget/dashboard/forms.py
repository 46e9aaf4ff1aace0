"""Dashboard forms (Flask-WTF: each carries its CSRF token)."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (BooleanField, EmailField, IntegerField, PasswordField, SelectField,
                     StringField, TextAreaField)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from ..i18n import LANGS

LANG_NAMES = {"en": "English", "nb": "Norsk (bokmål)", "de": "Deutsch", "nl": "Nederlands"}
LANG_CHOICES = [SelectChoice(code, LANG_NAMES[code]) for code in LANGS]


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


class WidgetForm(FlaskForm):
    name = StringField("Name (only you see it)", validators=[DataRequired(), Length(max=200)])
    is_live = BooleanField("Live")
    lang = SelectField("Language", choices=[SelectChoice("", "The page's language")] + LANG_CHOICES)
    title = StringField("Title", validators=[Optional(), Length(max=200)],
                        description="Empty: 'Before you go…' in the visitor's language.")
    description = TextAreaField("Description", validators=[Optional(), Length(max=2000)],
                                description="Empty: the built-in invitation in the "
                                            "visitor's language.")
    button_label = StringField("Button text", validators=[Optional(), Length(max=80)],
                               description="Empty: 'Subscribe' in the visitor's language.")
    success_message = TextAreaField("Success message",
                                    validators=[Optional(), Length(max=1000)])
    quiet_days_after_close = IntegerField(
        "Days of quiet after a visitor closes it", validators=[NumberRange(0, 3650)], default=14)
    quiet_days_after_signup = IntegerField(
        "Days of quiet after a visitor signs up", validators=[NumberRange(0, 3650)], default=365)
