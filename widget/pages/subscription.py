"""The pages behind the links in e-mails: /confirm/<token> and /unsubscribe/<token>.

GET only shows a page with a button; the POST from that button makes the change, so
mail scanners that open every link change nothing. One-click unsubscribe (RFC 8058) is
a bare POST to the same URL, with no cookies, so CSRF tokens do not apply here: the
signed link is the credential.
"""
from __future__ import annotations

from flask import Blueprint, request
from sqlalchemy import select

from widget.core import db, tokens
from widget.core.pages import belongs_to, invalid, message
from widget.gifts import grants
from widget.mail.render import share_part
from widget.models import Grant, Site, Subscriber
from widget.pages.gifts import describe
from widget.subscribers.lifecycle import change_status, from_token, resend_confirmation

bp = Blueprint("subscription", __name__)
DAY = 86400


def _values(subscriber: Subscriber) -> tuple[str, dict, Site]:
    site = db.session().get(Site, subscriber.site_id)
    belongs_to(site)
    return subscriber.lang, {"site": site.name, "days": str(site.confirm_days)}, site


@bp.route("/confirm/<token>", methods=["GET", "POST"])
def confirm(token: str):
    """GET: a page with the confirm button. POST: confirm, and say so. A link older than
    the site's lifetime for them confirms nothing and offers a fresh one."""
    session = db.session()
    try:
        subscriber, age = from_token(session, "confirm", token)
    except tokens.TokenInvalid:
        return invalid()
    lang, values, site = _values(subscriber)
    if subscriber.status == "unsubscribed":
        return _unsubscribed_page(subscriber, lang, values)
    if age > site.confirm_days * DAY:
        if subscriber.status == "confirmed":
            return message(lang, "confirmed", values)
        return message(lang, "expired", values, 410,
                     form=(f"/confirm/{token}/resend", "page.expired.button"))
    if request.method == "POST":
        change_status(session, subscriber, "confirmed", "confirm_page")
    if subscriber.status == "confirmed":
        return message(lang, "confirmed", values, gifts=_gifts(subscriber, lang),
                     share=share_part(subscriber, lang, site.name))
    return message(lang, "confirm", values, form=(f"/confirm/{token}", "mail.confirm.button"))


def _gifts(subscriber: Subscriber, lang: str) -> list[dict]:
    """The thank-you page's gifts: what confirming released (and earlier gifts still
    usable), newest first, ready to download, copy or read."""
    found = db.session().scalars(select(Grant).where(
        Grant.subscriber_id == subscriber.id, Grant.released_at.is_not(None),
        Grant.revoked_at.is_(None)).order_by(Grant.id.desc()).limit(5))
    return [describe(g, grants.token(g), lang) for g in found if grants.state(g) == "ok"]


@bp.post("/confirm/<token>/resend")
def resend(token: str):
    """Send a fresh confirmation link (expired tokens are welcome here); the answer is the
    same whether or not one was due, so it tells nothing about the address."""
    session = db.session()
    try:
        subscriber, _age = from_token(session, "confirm", token)  # expired ones welcome
    except tokens.TokenInvalid:
        return invalid()
    resend_confirmation(session, subscriber)
    lang, values, _site = _values(subscriber)
    return message(lang, "resent", values)


@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
def unsubscribe(token: str):
    """GET: a page with the unsubscribe button. POST (the button, or a mail client's
    RFC 8058 one-click request): unsubscribe at once."""
    session = db.session()
    try:
        subscriber, _age = from_token(session, "unsubscribe", token)  # they never expire
    except tokens.TokenInvalid:
        return invalid()
    lang, values, _site = _values(subscriber)
    if request.method == "POST":
        one_click = request.form.get("List-Unsubscribe") == "One-Click"
        change_status(session, subscriber, "unsubscribed",
                      "one_click" if one_click else "unsubscribe_page")
    if subscriber.status == "unsubscribed":
        return _unsubscribed_page(subscriber, lang, values, token)
    return message(lang, "unsubscribe", values,
                 form=(f"/unsubscribe/{token}", "mail.unsubscribe"))


@bp.post("/unsubscribe/<token>/resubscribe")
def resubscribe(token: str):
    """Come back after unsubscribing: the link came by e-mail, so the address is proven."""
    session = db.session()
    try:
        subscriber, _age = from_token(session, "unsubscribe", token)  # they never expire
    except tokens.TokenInvalid:
        return invalid()
    change_status(session, subscriber, "resubscribed", "resubscribe_page")
    lang, values, _site = _values(subscriber)
    if subscriber.status == "pending":  # never unsubscribed, and not on the list yet
        confirm_token = tokens.sign("confirm", tokens.subscriber_value(
            subscriber.id, subscriber.email_normalized))
        return message(lang, "confirm", values,
                     form=(f"/confirm/{confirm_token}", "mail.confirm.button"))
    if subscriber.status == "unsubscribed":  # still out: someone left again meanwhile
        return _unsubscribed_page(subscriber, lang, values, token)
    return message(lang, "resubscribed", values)


def _unsubscribed_page(subscriber: Subscriber, lang: str, values: dict,
                       token: str | None = None):
    token = token or tokens.sign("unsubscribe", tokens.subscriber_value(
        subscriber.id, subscriber.email_normalized))
    return message(lang, "unsubscribed", values,
                 form=(f"/unsubscribe/{token}/resubscribe", "page.resubscribe.button"))
