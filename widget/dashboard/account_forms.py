"""The account's forms: forgot password, a new password from a reset link, change it,
change the address, and two-step log-in's code and turning it off."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from widget.sites.accounts import MIN_PASSWORD

NEW = f"At least {MIN_PASSWORD} characters. A few unrelated words are easy to remember " \
      "and hard to guess; a password manager is better still."


class ForgotForm(FlaskForm):
    email = EmailField("Your account's e-mail", validators=[DataRequired(), Length(max=254)])


class NewPasswordForm(FlaskForm):
    password = PasswordField("New password", description=NEW, validators=[
        DataRequired(), Length(min=MIN_PASSWORD, max=1000,
                               message=f"Use at least {MIN_PASSWORD} characters.")],
        render_kw={"autocomplete": "new-password"})
    again = PasswordField("The new password again", validators=[
        DataRequired(), EqualTo("password", "The two passwords differ.")],
        render_kw={"autocomplete": "new-password"})


class CodeForm(FlaskForm):
    code = StringField("The six digits from your app, or a recovery code",
                       validators=[DataRequired(), Length(max=40)],
                       render_kw={"autocomplete": "one-time-code", "inputmode": "text",
                                  "spellcheck": "false"})


class EmailForm(FlaskForm):
    email = EmailField("New e-mail address", validators=[DataRequired(), Length(max=254)],
                       render_kw={"autocomplete": "email"})
    current = PasswordField("Current password", validators=[DataRequired(), Length(max=1000)],
                            render_kw={"autocomplete": "current-password"})


class TurnOffForm(FlaskForm):
    current = PasswordField("Current password", validators=[DataRequired(), Length(max=1000)],
                            render_kw={"autocomplete": "current-password"})


class ChangePasswordForm(NewPasswordForm):
    current = PasswordField("Current password", validators=[DataRequired(), Length(max=1000)],
                            render_kw={"autocomplete": "current-password"})
