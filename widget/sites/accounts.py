"""Owners and their sites: the one place the CLI, the demo and the dashboard create them."""
from __future__ import annotations

import hashlib
import hmac

from email_validator import EmailNotValidError, validate_email
from flask import has_request_context
from flask_babel import gettext
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from widget.core import headers, i18n, outbox, said, tokens
from widget.models import Owner, Site, SiteOrigin, Widget
from widget.sites.origins import normalize_origin

MIN_PASSWORD = 10


def N_(message: str) -> str:
    """Marks a message for the dashboard's catalogue (babel's keyword) without translating
    it here: AccountError translates it when it is shown."""
    return message


class AccountError(ValueError):
    """Input an owner must correct; the message says how: in the dashboard's language
    during a request (English on the API's and public paths, which Babel leaves in
    English), in English in the CLI, which has no request."""

    def __init__(self, message: str, **values) -> None:
        super().__init__(message % values if values else message)
        self.message, self.values = message, values

    def __str__(self) -> str:
        if has_request_context():  # a value may be a library's words (email-validator's)
            return gettext(self.message, **{name: said.shown(value) if isinstance(value, str)
                                            else value for name, value in self.values.items()})
        return self.args[0]


def normalize_owner_email(email: str) -> str:
    try:
        return validate_email(email.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise AccountError(N_("Not a valid e-mail address: %(reason)s"),
                           reason=str(exc)) from None


def find_owner(session: Session, email: str) -> Owner | None:
    """The owner with this e-mail (any case), or None."""
    try:
        email = normalize_owner_email(email)
    except AccountError:
        return None
    return session.scalar(select(Owner).where(func.lower(Owner.email) == email))


def create_owner(session: Session, email: str, password: str) -> Owner:
    """Add an owner with a scrypt-hashed password; AccountError if taken or too weak."""
    email = normalize_owner_email(email)
    if len(password) < MIN_PASSWORD:
        raise AccountError(N_("The password needs at least %(min)d characters."),
                           min=MIN_PASSWORD)
    if find_owner(session, email):
        raise AccountError(N_("An owner with the e-mail %(email)s already exists."),
                           email=email)
    owner = Owner(email=email, password_hash=generate_password_hash(password))
    session.add(owner)
    session.commit()
    return owner


def check_login(session: Session, email: str, password: str) -> Owner | None:
    """The owner if the password matches, else None (same work either way)."""
    owner = find_owner(session, email)
    if owner is None:
        check_password_hash(DUMMY_HASH, password)  # equal timing for unknown addresses
        return None
    return owner if check_password_hash(owner.password_hash, password) else None


DUMMY_HASH = generate_password_hash("not-a-real-password")

RESET_SECONDS = 3600  # a reset link's life
RESETS_PER_HOUR = 3  # reset e-mails to one owner an hour: no one can flood an inbox


def set_password(owner: Owner, password: str) -> None:
    """A new password for `owner`, ending every other session (the log-in version goes
    up); AccountError when too short. The caller commits."""
    if len(password) < MIN_PASSWORD:
        raise AccountError(N_("The password needs at least %(min)d characters."),
                           min=MIN_PASSWORD)
    owner.password_hash = generate_password_hash(password)
    owner.login_version += 1


def _stamp(owner: Owner) -> str:
    """Changes with the password and the log-in version: a reset link works once, and
    not after the password changed some other way."""
    return hashlib.sha256(f"{owner.password_hash}:{owner.login_version}".encode()).hexdigest()[:20]


def reset_token(owner: Owner) -> str:
    """The token of a password reset link (tokens purpose "reset")."""
    return tokens.sign("reset", [owner.id, _stamp(owner)])


def owner_to_reset(session: Session, token: str) -> Owner:
    """The owner a reset link is for; AccountError when it is broken, older than an
    hour, or used already."""
    try:
        owner_id, stamp = tokens.unsign("reset", token, max_age=RESET_SECONDS)
        owner = session.get(Owner, int(owner_id))
    except (tokens.TokenInvalid, tokens.TokenExpired, TypeError, ValueError):
        owner = stamp = None
    if owner is None or not isinstance(stamp, str) or not hmac.compare_digest(
            stamp, _stamp(owner)):
        raise AccountError(N_("This link has expired or has been used. Ask for a new one: "
                              "it works for an hour, once."))
    return owner


EMAIL_CHANGE_SECONDS = 24 * 3600


def request_email_change(session: Session, owner: Owner, new_email: str, lang: str,
                         mail_from: str) -> str:
    """Queue the link that confirms `new_email` as the owner's address, sent to it; the
    address as normalized. AccountError when it is not one, is theirs already, belongs
    to another owner, or too many links went out this hour. The caller commits."""
    email = normalize_owner_email(new_email)
    if email == owner.email.lower():
        raise AccountError(N_("That is your address already."))
    if find_owner(session, email) is not None:
        raise AccountError(N_("Another account uses that address."))
    if outbox.sent_since(session, email, "email_change", hours=1) >= RESETS_PER_HOUR:
        raise AccountError(N_("Several links went to that address this hour: look for "
                              "them there, or try again later."))
    outbox.add_for_owner(session, "email_change", owner, lang, mail_from, to=email)
    return email


def email_change_token(owner: Owner, new_email: str) -> str:
    """The token of the link that confirms `new_email` (bound to the current address)."""
    return tokens.sign("email_change", [owner.id, new_email, owner.email])


def change_email(session: Session, token: str) -> tuple[Owner, str]:
    """The owner and new address of a confirmation link, the address changed (the
    caller commits); AccountError when the link is broken, older than a day, the
    address changed since, or another owner took it meanwhile."""
    try:
        owner_id, email, old = tokens.unsign("email_change", token,
                                             max_age=EMAIL_CHANGE_SECONDS)
        owner = session.get(Owner, int(owner_id))
    except (tokens.TokenInvalid, tokens.TokenExpired, TypeError, ValueError):
        owner = None
    if owner is None or owner.email != old:
        raise AccountError(N_("This link has expired or has been used. Ask for a new one "
                              "on your account page."))
    other = find_owner(session, email)
    if other is not None and other.id != owner.id:
        raise AccountError(N_("Another account uses that address now."))
    owner.email = email
    return owner, email


def request_reset(session: Session, email: str, lang: str, mail_from: str) -> bool:
    """Queue a password reset e-mail when an owner has this address (and has not had
    RESETS_PER_HOUR of them this hour); whether one was queued. The caller commits and
    answers the same either way, so the form tells no one who has an account."""
    owner = find_owner(session, email)
    if owner is None or outbox.sent_since(session, owner.email.lower(), "password_reset",
                                          hours=1) >= RESETS_PER_HOUR:
        return False
    outbox.add_for_owner(session, "password_reset", owner, lang, mail_from)
    return True


def parse_origins(values: list[str]) -> list[str]:
    """Normalised, de-duplicated origins; AccountError naming the first bad one."""
    result = []
    for value in values:
        if not value.strip():
            continue
        try:
            origin = normalize_origin(value)
        except ValueError as exc:
            raise AccountError(str(exc)) from None
        if origin not in result:
            result.append(origin)
    if not result:
        raise AccountError(N_("Give at least one origin, e.g. https://blog.example"))
    return result


def default_widget(widget_id: str | None = None) -> Widget:
    """The live 'Before you go…' newsletter modal every new site starts with; its copy is
    the built-in text in each visitor's language until the owner writes their own."""
    widget = Widget(name="Before you go")  # the column defaults are that modal
    if widget_id:
        widget.id = widget_id
    return widget


def create_site(session: Session, owner: Owner, name: str, origins: list[str],
                default_lang: str = "en", site_id: str | None = None,
                widget_id: str | None = None) -> Site:
    """Create a site with its allowed origins and the default widget, and commit."""
    name = " ".join(name.split())
    if not name or len(name) > 200:
        raise AccountError(N_("A site needs a name of 1 to 200 characters."))
    if reason := headers.problem(name):  # the name is the sender's name and in subjects
        raise AccountError(N_("The site's name: %(reason)s"), reason=reason)
    lang = i18n.best_lang(default_lang)
    site = Site(owner=owner, name=name, default_lang=lang,
                origins=[SiteOrigin(origin=o) for o in parse_origins(origins)],
                widgets=[default_widget(widget_id)])
    if site_id:
        site.id = site_id
    session.add(site)
    session.commit()
    return site


def delete_site(session: Session, site_id: str) -> None:
    """Erase a site and everything of it (widgets, contacts and their consents, gifts and
    their files, counters, queued e-mail and events, keys, webhooks, connectors, tests,
    the audit log): one statement, the database's cascades doing the rest, committed."""
    session.execute(delete(Site).where(Site.id == site_id))
    session.commit()


def set_origins(site: Site, origins: list[str]) -> None:
    """Replace the site's allowed origins (caller commits)."""
    wanted = parse_origins(origins)
    site.origins = [o for o in site.origins if o.origin in wanted] + [
        SiteOrigin(origin=o) for o in wanted if o not in {x.origin for x in site.origins}]
