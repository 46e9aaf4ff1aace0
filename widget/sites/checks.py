"""The checks every public request passes first (sign-ups, gifts given first, stories),
in one fixed order, so the same input always gets the same answer; and the field
checks they share."""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlsplit

from email_validator import EmailNotValidError, validate_email
from email_validator.rfc_constants import CASE_INSENSITIVE_MAILBOX_NAMES
from flask import current_app, request

from widget.core import ratelimit, smtp
from widget.core.errors import ApiError
from widget.core.said import stored
from widget.sites import origins, snapshot
from widget.sites.snapshot import SiteView

HONEYPOT = "website"  # a field people never see or fill; bots that fill every field do
MAX_LEN = {"email": 254, "name": 100, "page_url": 2048, "widget": 64, "lang": 16,
           "grant": 300}
TRUE_WORDS = {"1", "on", "true", "yes"}
# Unicode category Cc, and lone surrogates (a JSON \\u escape can carry one; no
# database or signature can take it).
CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
# A dot-atom of these characters is a local part validate_email keeps exactly as given.
PLAIN_LOCAL = re.compile(r"[A-Za-z0-9_+-]+(?:\.[A-Za-z0-9_+-]+)*")



@dataclass(frozen=True)
class Admitted:
    """What every public form sends besides its own fields."""
    widget_id: str | None
    lang_hint: str | None
    page_url: str | None
    trapped: bool  # the honeypot was filled: a bot, answered as the caller chooses


@dataclass(frozen=True)
class Caller:
    """Who sent a public request, as the checks read it: from Flask's request, or from
    the WSGI environ on the sign-up fast path (api/fastpath.py), which answers without
    Flask."""
    ip: str | None
    origin: str | None  # None when the client sent no Origin
    user_agent: str

    @classmethod
    def of_request(cls) -> Caller:
        """The caller of the current Flask request."""
        return cls(request.remote_addr, origins.request_origin(),
                   request.user_agent.string or "")

    @classmethod
    def of_environ(cls, environ: dict) -> Caller:
        """The caller of a WSGI request (after ProxyFix, like Flask's request)."""
        return cls(environ.get("REMOTE_ADDR"), environ.get("HTTP_ORIGIN") or None,
                   environ.get("HTTP_USER_AGENT", ""))


def find_site(site_id: str) -> SiteView:
    """The site with this public id, or a 404 `site_not_found`."""
    site = snapshot.get(site_id)
    if site is None:
        raise ApiError(404, "site_not_found")
    return site


def check_origin(site: SiteView, origin: str | None) -> None:
    """Refuse browsers on origins the site did not allow; clients without Origin pass."""
    if origin is not None and not origins.is_allowed(site, origin):
        raise ApiError(403, "origin_not_allowed")


def text_field(data: dict, name: str) -> str | None:
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ApiError(400, "invalid_type", f"'{name}' must be a string.", field=name)
    value = value.strip()
    if CONTROL_CHARS.search(value):
        # Control characters (CR, LF, NUL, ...) have no place in a name or an address.
        raise ApiError(422, "invalid_characters", field=name)
    if len(value) > MAX_LEN[name]:
        raise ApiError(422, "too_long", f"'{name}' is longer than {MAX_LEN[name]} characters.",
                       field=name)
    return value or None


def consent_value(data: dict, is_form: bool) -> bool:
    """The 'consent' field: true or false in JSON, a ticked box (on, yes, …) in a form."""
    value = data.get("consent", False)
    if is_form and isinstance(value, str):
        return value.strip().lower() in TRUE_WORDS
    if not isinstance(value, bool):
        raise ApiError(400, "invalid_type", "'consent' must be true or false.", field="consent")
    return value


# What email-validator says of the addresses people most often get wrong, declared so
# the dashboard shows its reason in the owner's language (core/said.py); a rarer reason
# stays in its English.
EMAIL_REASONS = (
    stored("An email address must have an @-sign."),
    stored("There must be something before the @-sign."),
    stored("There must be something after the @-sign."),
    stored("The part after the @-sign is not valid. It should have a period."),
    stored("An email address cannot have two periods in a row."),
    stored("An email address cannot start with a period."),
    stored("An email address cannot end with a period."),
    stored("An email address cannot have a period immediately before the @-sign."),
    stored("An email address cannot have a period immediately after the @-sign."),
    stored("An email address cannot have a hyphen immediately after the @-sign."),
    stored("An email address cannot have a period and a hyphen next to each other."),
    stored("The email address contains invalid characters before the @-sign: %(chars)s."),
    stored("The part after the @-sign contains invalid characters: %(chars)s."),
    stored("The part after the @-sign is a special-use or reserved name that cannot be "
           "used with email."),
    stored("The part after the @-sign is not valid. It is not within a valid top-level "
           "domain."),
)


def checked_email(raw: str | None) -> tuple[str, str]:
    """The address as given and in the form it is matched by; 422 when missing, wrong,
    too long for SMTP (64 octets before the @, 254 in all), or one the configured mail
    server cannot carry (letters beyond ASCII before the @ without SMTPUTF8)."""
    if not raw:
        raise ApiError(422, "missing_field", field="email")
    local, _, domain = raw.rpartition("@")
    if (len(raw) <= 254 and len(local) <= 64 and raw.isascii() and PLAIN_LOCAL.fullmatch(local)
            and local.lower() not in CASE_INSENSITIVE_MAILBOX_NAMES):
        # The common address: validate_email would keep it as given, the domain in lower
        # case, so only the domain needs its checks, and a list's addresses share few
        # domains (validate_email took 31 µs of every sign-up).
        kept, refused = _checked_domain(domain)
        if kept == domain.lower():
            return f"{local}@{kept}", f"{local}@{kept}".lower()
        if refused:
            raise ApiError(422, "invalid_email", refused, field="email")
    try:
        checked = validate_email(raw, check_deliverability=False)
    except EmailNotValidError as exc:
        raise ApiError(422, "invalid_email", str(exc), field="email") from None
    if len(checked.local_part.encode()) > 64 or len(checked.normalized.encode()) > 254:
        raise ApiError(422, "invalid_email", "The address is longer than e-mail allows.",
                       field="email")
    seen = current_app.extensions.setdefault("widget.smtp_offers", {})
    if checked.ascii_email is None and not smtp.carries_utf8(current_app.config, seen):
        raise ApiError(422, "email_unsupported", field="email")
    return checked.normalized, checked.normalized.lower()


@lru_cache(maxsize=4096)
def _checked_domain(domain: str) -> tuple[str | None, str | None]:
    """(the domain as validate_email has it in an address, None), or (None, its reason)
    when it refuses the domain, or (None, None) when its refusal may be about more than
    the domain."""
    try:
        return validate_email(f"a@{domain}", check_deliverability=False).domain, None
    except EmailNotValidError as exc:
        # Only a reason naming the part after the @ is the domain's alone; the address's
        # length, say, would differ with another local part.
        return None, (str(exc) if "after the @-sign" in str(exc) else None)


def checked_page_url(raw: str | None) -> str | None:
    """An http(s) page address, or 422 invalid_url."""
    if raw is None:
        return None
    try:
        parts = urlsplit(raw)
    except ValueError:  # e.g. 'http://[': an IPv6 host that never closes
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
        raise ApiError(422, "invalid_url", field="page_url")
    return raw


def admit(site: SiteView, data, limit: str, caller: Caller | None = None) -> Admitted:
    """The first checks of every public request, in this order: a JSON object, the
    origin, the widget, language and page fields, the honeypot (a field only bots fill),
    then the per-IP rate limit named `limit` and the page's address. A trapped request
    stops before the limit, so a bot cannot use up a person's allowance. `caller`: the
    current Flask request's unless given."""
    caller = caller or Caller.of_request()
    if not isinstance(data, dict):
        raise ApiError(400, "invalid_json", "The body must be a JSON object.")
    check_origin(site, caller.origin)
    widget_id, lang_hint, page_url = (text_field(data, name)
                                      for name in ("widget", "lang", "page_url"))
    if data.get(HONEYPOT):
        return Admitted(widget_id, lang_hint, page_url, trapped=True)
    ratelimit.hit(limit, caller.ip or "-")
    return Admitted(widget_id, lang_hint, checked_page_url(page_url), trapped=False)
