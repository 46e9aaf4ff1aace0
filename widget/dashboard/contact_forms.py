"""The forms of a contact: adding one by hand, and editing one (Flask-WTF: each carries
its CSRF token). Their fields are checked by subscribers/manage.py, as the API's are."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice

from widget.dashboard.forms import LANG_CHOICES


class ContactForm(FlaskForm):
    email = StringField("E-mail address")
    name = StringField("Name (optional)")
    lang = SelectField("Language of their e-mails", choices=LANG_CHOICES)
    tags = StringField("Tags (optional)", description="Separate tags with commas.")
    basis = TextAreaField(
        "Basis", description="Why you may e-mail this person, in your words: it is "
        "recorded as their consent (e.g. “asked to join at our stand, 3 May”).")
    confirm = RadioField("Subscribe them", default="ask", choices=[
        SelectChoice("ask", "Send a confirmation e-mail first (they subscribe when "
                            "they press its button)"),
        SelectChoice("now", "Subscribe them now: they agreed already")])


class EditForm(FlaskForm):
    name = StringField("Name")
    lang = SelectField("Language of their e-mails", choices=LANG_CHOICES)
    tags = StringField("Tags", description="Separate tags with commas.")
