"""Dashboard forms for e-mail copy, referral milestones and story replies (Flask-WTF:
each carries its CSRF token), and the e-mail kinds and placeholders they check against."""
from __future__ import annotations

from flask_babel import gettext, lazy_gettext
from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, ValidationError

from widget.core.i18n import PLACEHOLDER
from widget.dashboard.forms import one_line

# Labels are lazy: the forms are built at import time, and each request reads them in
# its own language.
MAIL_KINDS = {"confirm": lazy_gettext("Confirmation"),
              "welcome": lazy_gettext("Thank-you after confirming"),
              "gift": lazy_gettext("A gift (after the sign-up, or a fresh link)"),
              "followup": lazy_gettext("“How did you like it?” after a gift"),
              "reward": lazy_gettext("Thank-you for bringing friends"),
              "story_thanks": lazy_gettext("Thank-you for a story"),
              "story_reply": lazy_gettext("Your reply to a story"),
              "letter": lazy_gettext("Letter of new posts")}
PLACEHOLDERS = ("name", "site", "what", "gift", "friends", "story", "posts", "count")
# The placeholders only some kinds can fill: elsewhere they would reach the reader as typed.
KIND_PLACEHOLDERS = {"friends": ("reward",), "story": ("story_thanks", "story_reply"),
                     "posts": ("letter",), "count": ("letter",)}


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
        raise ValidationError(gettext(
            "Unknown placeholder %(unknown)s here: use %(names)s or %(last)s.",
            unknown=", ".join(f"{{{u}}}" for u in unknown), names=", ".join(names[:-1]),
            last=names[-1]))


def no_name(form, field) -> None:
    """Subjects are headers, and nothing a visitor typed goes into a header."""
    if "{name}" in (field.data or ""):
        raise ValidationError(gettext("{name} can't go in the subject: nothing a visitor "
                                      "typed goes into a header. Use it in the text "
                                      "instead."))


class MailCopyForm(FlaskForm):
    def __init__(self, *args, mail_kind: str | None = None, **kwargs):
        """`mail_kind`: the kind of e-mail edited, which decides the placeholders it fills."""
        super().__init__(*args, **kwargs)
        self.mail_kind = mail_kind

    subject = StringField(lazy_gettext("Subject"), validators=[
        DataRequired(), Length(max=200), one_line, no_name, known_placeholders])
    body = TextAreaField(lazy_gettext("Text"), validators=[
        DataRequired(), Length(max=5000), known_placeholders],
                         render_kw={"rows": 12})


class MilestoneForm(FlaskForm):
    friends = IntegerField(lazy_gettext("Friends"), validators=[NumberRange(1, 100_000)],
                           description=lazy_gettext("How many friends a subscriber brings "
                                                    "(counted ones)."))
    gift_id = SelectField(lazy_gettext("Gift"), choices=[], validate_choice=False)

    def validate(self, extra_validators=None) -> bool:
        """Field checks, then a gift of this site (the view sets the choices)."""
        if not super().validate(extra_validators):
            return False
        if self.gift_id.data not in {value for value, _label in self.gift_id.choices}:
            self.gift_id.errors.append(gettext("Choose the gift for this milestone."))
            return False
        return True


class ReplyForm(FlaskForm):
    text = TextAreaField(lazy_gettext("Your reply"), validators=[DataRequired(), Length(max=5000)],
                         render_kw={"rows": 4, "maxlength": 5000})
