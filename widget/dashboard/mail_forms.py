"""Dashboard forms for e-mail copy, referral milestones and story replies (Flask-WTF:
each carries its CSRF token), and the e-mail kinds and placeholders they check against."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, ValidationError

from widget.core.i18n import PLACEHOLDER
from widget.dashboard.forms import one_line

MAIL_KINDS = {"confirm": "Confirmation", "welcome": "Thank-you after confirming",
              "gift": "A gift (after the sign-up, or a fresh link)",
              "followup": "“How did you like it?” after a gift",
              "reward": "Thank-you for bringing friends",
              "story_thanks": "Thank-you for a story",
              "story_reply": "Your reply to a story"}
PLACEHOLDERS = ("name", "site", "what", "gift", "friends", "story")
# The placeholders only some kinds can fill: elsewhere they would reach the reader as typed.
KIND_PLACEHOLDERS = {"friends": ("reward",), "story": ("story_thanks", "story_reply")}


def placeholders_of(kind: str | None) -> list[str]:
    """The placeholders an e-mail of `kind` fills (all of them when no kind is known)."""
    return [p for p in PLACEHOLDERS if kind is None or kind in KIND_PLACEHOLDERS.get(p, (kind,))]


def known_placeholders(form, field) -> None:
    """An unknown {placeholder} would reach the reader as typed: say so now."""
    usable = placeholders_of(getattr(form, "mail_kind", None))
    unknown = sorted({m.group(1) for m in PLACEHOLDER.finditer(field.data or "")}
                     - set(usable))
    if unknown:
        names = [f"{{{p}}}" for p in usable]
        raise ValidationError("Unknown placeholder " + ", ".join(f"{{{u}}}" for u in unknown)
                              + f" here: use {', '.join(names[:-1])} or {names[-1]}.")


def no_name(form, field) -> None:
    """Subjects are headers, and nothing a visitor typed goes into a header."""
    if "{name}" in (field.data or ""):
        raise ValidationError("{name} can't go in the subject: nothing a visitor typed "
                              "goes into a header. Use it in the text instead.")


class MailCopyForm(FlaskForm):
    def __init__(self, *args, mail_kind: str | None = None, **kwargs):
        """`mail_kind`: the kind of e-mail edited, which decides the placeholders it fills."""
        super().__init__(*args, **kwargs)
        self.mail_kind = mail_kind

    subject = StringField("Subject", validators=[DataRequired(), Length(max=200), one_line,
                                                 no_name, known_placeholders])
    body = TextAreaField("Text", validators=[DataRequired(), Length(max=5000),
                                             known_placeholders],
                         render_kw={"rows": 12})


class MilestoneForm(FlaskForm):
    friends = IntegerField("Friends", validators=[NumberRange(1, 100_000)],
                           description="How many friends a subscriber brings (counted ones).")
    gift_id = SelectField("Gift", choices=[], validate_choice=False)

    def validate(self, extra_validators=None) -> bool:
        """Field checks, then a gift of this site (the view sets the choices)."""
        if not super().validate(extra_validators):
            return False
        if self.gift_id.data not in {value for value, _label in self.gift_id.choices}:
            self.gift_id.errors.append("Choose the gift for this milestone.")
            return False
        return True


class ReplyForm(FlaskForm):
    text = TextAreaField("Your reply", validators=[DataRequired(), Length(max=5000)],
                         render_kw={"rows": 4, "maxlength": 5000})
