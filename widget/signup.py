"""The one sign-up path: the JSON API and the no-JavaScript form both end here.

Checks run in a fixed order (site, origin, honeypot, rate, types, lengths, e-mail,
widget, consent) so the same input always gets the same answer.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from email_validator import EmailNotValidError, validate_email
from flask import current_app, request

from . import db, i18n, origins, ratelimit, signup_store, siteview
from .mail import outbox
from .errors import ApiError
from .siteview import SiteView, WidgetView

HONEYPOT = "website"  # a field people never see or fill; bots that fill every field do
MAX_LEN = {"email": 254, "name": 100, "page_url": 2048, "widget": 64, "lang": 16}
TRUE_WORDS = {"1", "on", "true", "yes"}
CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f-\x9f]")  # Unicode category Cc


@dataclass
class SignupResult:
    site: SiteView
    widget: WidgetView | None
    lang: str
    page_url: str | None
    mail_queued: bool = False


def find_site(site_id: str) -> SiteView:
    """The site with this public id, or a 404 `site_not_found`."""
    site = siteview.get(site_id)
    if site is None:
        raise ApiError(404, "site_not_found")
    return site


def check_origin(site: SiteView) -> None:
    """Refuse browsers on origins the site did not allow; clients without Origin pass."""
    origin = origins.request_origin()
    if origin is not None and not origins.is_allowed(site, origin):
        raise ApiError(403, "origin_not_allowed")


def _field(data: dict, name: str) -> str | None:
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


def _consent(data: dict, is_form: bool) -> bool:
    value = data.get("consent", False)
    if is_form and isinstance(value, str):
        return value.strip().lower() in TRUE_WORDS
    if not isinstance(value, bool):
        raise ApiError(400, "invalid_type", "'consent' must be true or false.", field="consent")
    return value


def _email(raw: str | None) -> tuple[str, str]:
    if not raw:
        raise ApiError(422, "missing_field", field="email")
    try:
        checked = validate_email(raw, check_deliverability=False)
    except EmailNotValidError as exc:
        raise ApiError(422, "invalid_email", str(exc), field="email") from None
    return checked.normalized, checked.normalized.lower()


def _page_url(raw: str | None) -> str | None:
    if raw is not None and (urlsplit(raw).scheme not in ("http", "https") or
                            not urlsplit(raw).netloc):
        raise ApiError(422, "invalid_url", field="page_url")
    return raw


def subscribe(site: SiteView, data: dict, *, is_form: bool = False) -> SignupResult:
    """Validate one sign-up for `site` (from find_site) and commit it (subscriber,
    consent, and the confirmation or welcome e-mail in the outbox) before returning.

    A repeat sign-up of a known address updates that row and returns the same result,
    so the caller's answer never reveals who is subscribed. Raises ApiError on refusal.
    """
    if not isinstance(data, dict):
        raise ApiError(400, "invalid_json", "The body must be a JSON object.")
    check_origin(site)
    widget_id = _field(data, "widget")
    lang_hint = _field(data, "lang")
    page_url = _field(data, "page_url")
    if data.get(HONEYPOT):
        return SignupResult(site, None, i18n.best_lang(lang_hint, site.default_lang), page_url)
    ratelimit.hit("ip", request.remote_addr or "-")
    name = _field(data, "name")
    email, normalized = _email(_field(data, "email"))
    consent = _consent(data, is_form)
    widget = site.widget(widget_id) if widget_id else None
    if widget_id and widget is None:
        raise ApiError(422, "unknown_widget", field="widget")
    if site.require_consent and not consent:
        raise ApiError(422, "consent_required", field="consent")
    page_url = _page_url(page_url)
    lang = i18n.best_lang(widget.lang if widget else None, lang_hint, site.default_lang)
    ratelimit.hit("email", f"{site.id}:{normalized}")
    queued = _store(site, widget, email, normalized, name, lang, page_url, consent)
    if queued:
        outbox.wake_event(current_app).set()
    return SignupResult(site, widget, lang, page_url, queued)


def _store(site, widget, email, normalized, name, lang, page_url, consent) -> bool:
    """Commit the subscriber, the consent given with this sign-up and its e-mail."""
    widget_id = widget.id if widget else None
    cfg = current_app.config
    rules = signup_store.MailRules(site.double_opt_in, cfg["MAIL_FROM"],
                                   cfg["CONFIRM_RESEND_MINUTES"], cfg["MAIL_PER_ADDRESS_DAY"])
    return signup_store.write(db.engine(), {
        "site_id": site.id, "email": email, "email_normalized": normalized, "name": name,
        "lang": lang, "widget_id": widget_id, "page_url": page_url,
    }, {
        "given": consent or not site.require_consent,
        "text": site.consent_text or i18n.text("consent", lang), "lang": lang,
        "widget_id": widget_id, "page_url": page_url, "ip": request.remote_addr,
        "user_agent": (request.user_agent.string or "")[:255],
    }, rules)
