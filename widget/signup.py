"""The one sign-up path: the JSON API and the no-JavaScript form both end here.

Checks run in a fixed order (site, origin, honeypot, rate, types, lengths, e-mail,
widget, consent, gift) so the same input always gets the same answer.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from email_validator import EmailNotValidError, validate_email
from flask import current_app, request

from . import db, i18n, origins, ratelimit, signup_store, siteview
from .errors import ApiError
from .gifts import grants, ledger
from .mail import outbox
from .siteview import GiftView, SiteView, WidgetView

HONEYPOT = "website"  # a field people never see or fill; bots that fill every field do
MAX_LEN = {"email": 254, "name": 100, "page_url": 2048, "widget": 64, "lang": 16,
           "grant": 300}
TRUE_WORDS = {"1", "on", "true", "yes"}
CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f-\x9f]")  # Unicode category Cc


@dataclass
class SignupResult:
    site: SiteView
    widget: WidgetView | None
    lang: str
    page_url: str | None
    mail_queued: bool = False
    gift: GiftView | None = None  # the gated gift this sign-up claimed


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


def checked_email(raw: str | None) -> tuple[str, str]:
    """The address as given and in the form it is matched by; 422 when missing or wrong."""
    if not raw:
        raise ApiError(422, "missing_field", field="email")
    try:
        checked = validate_email(raw, check_deliverability=False)
    except EmailNotValidError as exc:
        raise ApiError(422, "invalid_email", str(exc), field="email") from None
    return checked.normalized, checked.normalized.lower()


def checked_page_url(raw: str | None) -> str | None:
    if raw is not None and (urlsplit(raw).scheme not in ("http", "https") or
                            not urlsplit(raw).netloc):
        raise ApiError(422, "invalid_url", field="page_url")
    return raw


def first_checks(site: SiteView, data) -> tuple[str | None, str | None, str | None, bool]:
    """What every public form checks first, in this order: a JSON object, the origin,
    the widget, language and page fields; returns them and whether the honeypot (a
    field only bots fill) was filled."""
    if not isinstance(data, dict):
        raise ApiError(400, "invalid_json", "The body must be a JSON object.")
    check_origin(site)
    fields = tuple(text_field(data, name) for name in ("widget", "lang", "page_url"))
    return (*fields, bool(data.get(HONEYPOT)))


def subscribe(site: SiteView, data: dict, *, is_form: bool = False) -> SignupResult:
    """Validate one sign-up for `site` (from find_site) and commit it (subscriber,
    consent, and the confirmation or welcome e-mail in the outbox) before returning.

    A repeat sign-up of a known address updates that row and returns the same result,
    so the caller's answer never reveals who is subscribed. Raises ApiError on refusal.
    """
    widget_id, lang_hint, page_url, trapped = first_checks(site, data)
    if trapped:
        return SignupResult(site, None, i18n.best_lang(lang_hint, site.default_lang), page_url)
    ratelimit.hit("ip", request.remote_addr or "-")
    name = text_field(data, "name")
    email, normalized = checked_email(text_field(data, "email"))
    consent = consent_value(data, is_form)
    widget = site.widget(widget_id) if widget_id else None
    if widget_id and widget is None:
        raise ApiError(422, "unknown_widget", field="widget")
    if site.require_consent and not consent:
        raise ApiError(422, "consent_required", field="consent")
    gift = gated_gift(site, widget, data)
    given_first = grants.given_first(text_field(data, "grant"))
    ref = data.get("ref")  # a mangled or wrong code is ignored: it must never cost a sign-up
    ref = ref if isinstance(ref, str) and 0 < len(ref) <= 40 and ref.isalnum() else None
    page_url = checked_page_url(page_url)
    lang = i18n.best_lang(widget.lang if widget else None, lang_hint, site.default_lang)
    ratelimit.hit("email", f"{site.id}:{normalized}")
    claim = signup_store.GiftClaim(ledger.Terms(gift.id, gift.kind, gift.link_days,
                                                gift.download_limit), widget.id) if gift else None
    try:
        queued = _store(site, widget, email, normalized, name, lang, page_url, consent, claim,
                        given_first, ref)
    except ledger.GiftGone:
        raise ApiError(409, "gift_gone") from None
    if queued:
        outbox.wake_event(current_app).set()
    return SignupResult(site, widget, lang, page_url, queued, gift)


def gated_gift(site: SiteView, widget: WidgetView | None, data: dict) -> GiftView | None:
    """The gift a gated gift widget gives with this sign-up; 409 gift_gone when none is
    left. A body with "gift": false asks for the newsletter alone (what the widget offers
    once a gift is gone)."""
    gift = site.offer(widget)
    if gift is None or widget.gift_mode != "gated" or data.get("gift") is False:
        return None
    if gift.out:
        raise ApiError(409, "gift_gone")
    return gift


def _store(site, widget, email, normalized, name, lang, page_url, consent, claim,
           given_first, ref) -> bool:
    """Commit the subscriber, the consent given with this sign-up, its gift and e-mail."""
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
    }, rules, claim, given_first, ref)
