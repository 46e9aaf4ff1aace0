"""The letters page's forms (Flask-WTF: each carries its CSRF token): when a site's letters
go (each new post, or a digest on weekdays at a time), held for review, the pace."""
from __future__ import annotations

import re

from flask_babel import gettext, lazy_gettext
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, RadioField, SelectMultipleField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import NumberRange, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from widget.letters.schedule import MAX_PER_HOUR

# Monday is 0, as LetterPlan.days stores the weekdays.
WEEKDAYS = (lazy_gettext("Monday"), lazy_gettext("Tuesday"), lazy_gettext("Wednesday"),
            lazy_gettext("Thursday"), lazy_gettext("Friday"), lazy_gettext("Saturday"),
            lazy_gettext("Sunday"))
TIME = re.compile(r"([01]?\d|2[0-3]):([0-5]\d)")


class PlanForm(FlaskForm):
    """The site's plan for letters; the weekdays count only for a digest."""
    mode = RadioField(lazy_gettext("When letters go"), default="each", choices=[
        SelectChoice("each", lazy_gettext("A letter for each new post, as soon as it is "
                                          "found")),
        SelectChoice("digest", lazy_gettext("A digest of the new posts on the days and at "
                                            "the time below"))])
    days = SelectMultipleField(lazy_gettext("The digest's days"),
                               choices=[SelectChoice(str(n), day) for n, day in
                                        enumerate(WEEKDAYS)],
                               widget=ListWidget(prefix_label=False),
                               option_widget=CheckboxInput())
    at = StringField(lazy_gettext("Time"), render_kw={"type": "time"})
    review = BooleanField(lazy_gettext("Hold each letter for me to review and send"))
    per_hour = IntegerField(lazy_gettext("E-mails an hour"), default=0,
                            validators=[NumberRange(0, MAX_PER_HOUR)],
                            render_kw={"min": 0, "max": MAX_PER_HOUR})

    def validate_days(self, field) -> None:
        if self.mode.data == "digest" and not field.data:
            raise ValidationError(gettext("Choose at least one weekday for the digest."))

    def validate_at(self, field) -> None:
        match = TIME.fullmatch((field.data or "").strip())
        if not match:
            raise ValidationError(gettext("Give the time as HH:MM, e.g. 09:00."))
        field.data = f"{int(match[1]):02d}:{match[2]}"
