"""The one sign-up path: the JSON API and the no-JavaScript form both end here.

Checks run in a fixed order so the same input always gets the same answer: the site
(found by the route), then sites.checks.admit (a JSON object, origin, widget, language and
page fields, honeypot, the per-IP rate, the page's address), then name, e-mail, consent's
type, widget, consent, gift, and the per-address rate.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import current_app

from widget.core import db, i18n, outbox, ratelimit
from widget.core.errors import ApiError
from widget.gifts import grants, ledger
from widget.sites.checks import Caller, admit, checked_email, consent_value, text_field
from widget.sites.snapshot import GiftView, SiteView, WidgetView
from widget.subscribers import store


@dataclass
class SignupResult:
    site: SiteView
    widget: WidgetView | None
    lang: str
    page_url: str | None
    mail_queued: bool = False
    gift: GiftView | None = None  # the gated gift this sign-up claimed


def subscribe(site: SiteView, data: dict, *, is_form: bool = False,
              caller: Caller | None = None) -> SignupResult:
    """Validate one sign-up for `site` (from find_site) and commit it (subscriber,
    consent, and the confirmation or welcome e-mail in the outbox) before returning.

    A repeat sign-up of a known address updates that row and returns the same result,
    so the caller's answer never reveals who is subscribed. Raises ApiError on refusal.
    `caller`: the current Flask request's unless given (the fast path gives its own).
    """
    caller = caller or Caller.of_request()
    first = admit(site, data, "ip", caller)
    if first.trapped:
        lang = i18n.best_lang(first.lang_hint, site.default_lang)
        return SignupResult(site, None, lang, first.page_url)
    name = text_field(data, "name")
    email, normalized = checked_email(text_field(data, "email"))
    consent = consent_value(data, is_form)
    widget = site.widget(first.widget_id) if first.widget_id else None
    if first.widget_id and widget is None:
        raise ApiError(422, "unknown_widget", field="widget")
    # The variant the browser saw decides how a gift is given; one no longer running
    # (a test ended a moment ago) is the widget itself.
    widget = widget.as_variant(data.get("variant")) if widget else None
    if site.require_consent and not consent:
        raise ApiError(422, "consent_required", field="consent")
    gift = gated_gift(site, widget, data)
    given_first = grants.given_first(text_field(data, "grant"))
    ref = data.get("ref")  # a mangled or wrong code is ignored: it must never cost a sign-up
    ref = ref if isinstance(ref, str) and 0 < len(ref) <= 40 and ref.isalnum() else None
    lang = i18n.best_lang(widget.lang if widget else None, first.lang_hint, site.default_lang)
    ratelimit.hit("email", f"{site.id}:{normalized}")
    cfg = current_app.config
    signup = store.Signup(
        site_id=site.id, email=email, email_normalized=normalized, name=name, lang=lang,
        widget_id=widget.id if widget else None, page_url=first.page_url,
        consent_given=consent or not site.require_consent,
        consent_text=site.consent_text or i18n.text("consent", lang),
        ip=caller.ip, user_agent=caller.user_agent[:255],
        rules=store.MailRules(site.double_opt_in, cfg["MAIL_FROM"],
                              cfg["CONFIRM_RESEND_MINUTES"], cfg["MAIL_PER_ADDRESS_DAY"]),
        gift=ledger.Terms(gift.id, gift.kind, gift.link_days, gift.download_limit)
        if gift else None,
        given_first=given_first, ref=ref, tags=widget.tags if widget else (),
        variant=widget.variant or None if widget else None)
    try:
        queued = store.write(db.engine(), signup)
    except ledger.GiftGone:
        raise ApiError(409, "gift_gone") from None
    if queued:
        outbox.wake_event(current_app).set()
    return SignupResult(site, widget, lang, first.page_url, queued, gift)


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
