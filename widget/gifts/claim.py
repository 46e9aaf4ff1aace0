"""Gift-first: a visitor takes a gift at once, no e-mail asked; the widget then invites,
without pressure, to subscribe or share. The JSON API and the no-JavaScript form both
end here, with checks in a fixed order (site, origin, honeypot, rate, types, widget,
gift) like a sign-up's."""
from __future__ import annotations

from dataclasses import dataclass

from widget.core import db, i18n
from widget.core.errors import ApiError
from widget.core.rawsql import write
from widget.gifts import bonus, grants, ledger
from widget.models import Gift, utcnow
from widget.sites.checks import admit
from widget.sites.snapshot import GiftView, SiteView, WidgetView, free_codes, left


@dataclass(frozen=True)
class Claimed:
    widget: WidgetView
    gift: GiftView
    lang: str
    given: ledger.Given


def give_first(site: SiteView, data: dict) -> Claimed:
    """Give the gift of a gift-first widget to a visitor, committed before returning.
    Raises ApiError: 409 gift_gone when none is left, 422 unknown_widget for a widget
    that gives nothing first (or is paused)."""
    first = admit(site, data, "gift")
    if first.trapped:
        raise ApiError(400, "bad_request")
    widget = site.widget(first.widget_id) if first.widget_id else None
    widget = widget.as_variant(data.get("variant")) if widget else None  # as the browser saw it
    gift = site.offer(widget)
    if gift is None or widget.gift_mode != "first" or not widget.is_live:
        raise ApiError(422, "unknown_widget", field="widget")  # a paused one gives nothing
    if gift.out:
        raise ApiError(409, "gift_gone")
    terms = ledger.Terms(gift.id, gift.kind, gift.link_days, gift.download_limit)
    try:
        given = write(db.engine(), lambda tx: ledger.give(
            tx, terms, site_id=site.id, subscriber_id=None, widget_id=widget.id,
            page_url=first.page_url, release=True, now=utcnow()))
    except ledger.GiftGone:
        raise ApiError(409, "gift_gone") from None
    lang = i18n.best_lang(widget.lang, first.lang_hint, site.default_lang)
    return Claimed(widget, gift, lang, given)


def left_now(gift_id: str) -> int | None:
    """How many of a gift are left right now, counted in the database (None: no limit)."""
    gift = db.session().get(Gift, gift_id)
    if gift is None or not gift.is_active:
        return 0
    return left(gift, free_codes(db.session(), [gift.id]).get(gift.id, 0))


def as_json(claimed: Claimed) -> dict:
    """What the widget shows once the gift is given: its page, and per kind a download
    ticket, the coupon code or the bonus text; the true number left when shown."""
    gift, given = claimed.gift, claimed.given
    token = grants.token_of(given.grant_id, gift.id, None, given.nonce)
    body = {"title": gift.title, "kind": gift.kind, "page": grants.page_url(token),
            "token": token, "left": left_now(gift.id) if gift.show_left else None}
    if gift.kind in ("file", "link"):
        body["download"] = grants.download_url(given.grant_id, given.nonce)
    elif gift.kind == "coupon":
        body["code"] = given.code
    else:
        body["bonus"] = bonus.clean(gift.bonus_html or "")
    return body

