"""The give-back pages: /r/<code> (a friend's way in, counted and sent on to the site)
and /share/<token> (a subscriber's own page: their link, plain share links, progress)."""
from __future__ import annotations

import re

from flask import Blueprint, Response, redirect
from markupsafe import escape
from sqlalchemy import select, update

from widget.core import db, i18n, tokens
from widget.core.pages import NO_STORE, invalid, render
from widget.giveback import share
from widget.models import Site, Subscriber
from widget.subscribers.lifecycle import from_token

bp = Blueprint("giveback", __name__)
CODE = re.compile(r"[a-z0-9]{8,32}")


@bp.get("/r/<code>")
def visit(code: str):
    """A friend opens a subscriber's link: count the visit and send them on to the site
    (only ever to one of its allowed origins), carrying the code for the sign-up."""
    session = db.session()
    referrer = session.scalar(select(Subscriber).where(Subscriber.ref_code == code)) \
        if CODE.fullmatch(code) else None
    target = share.landing(session.get(Site, referrer.site_id), referrer, code) \
        if referrer else None
    if target is None:
        return invalid(404)
    session.execute(update(Subscriber).where(Subscriber.id == referrer.id)
                    .values(ref_visits=Subscriber.ref_visits + 1)
                    .execution_options(synchronize_session=False))
    session.commit()
    return _redirect(target)


def _redirect(target: str) -> Response:
    """A redirect nobody caches (each visit is counted) and that names no referrer (as
    every answer under LINK_PATHS)."""
    resp = redirect(target, 302)
    resp.headers.update(NO_STORE)
    return resp


def _sharer(token: str) -> Subscriber | None:
    """The confirmed subscriber a share page belongs to (None: a bad link, or someone
    who left the list)."""
    try:
        subscriber, _age = from_token(db.session(), "share", token)
    except tokens.TokenInvalid:
        return None
    return subscriber if subscriber.status == "confirmed" and subscriber.ref_code else None


@bp.get("/share/<token>")
def share_page(token: str):
    """A subscriber's own share page: their link, share buttons, their progress."""
    subscriber = _sharer(token)
    if subscriber is None:
        return invalid(404)
    site = db.session().get(Site, subscriber.site_id)
    lang, link = subscriber.lang, share.referral_url(subscriber.ref_code)
    t = i18n.translator(lang)
    networks = [(label, f"/share/{token}/go/{key}") for key, (label, _url)
                in share.NETWORKS.items()]
    label = i18n.fill(t("page.share.badge.label"), {"site": site.name})
    badge = f'<a href="{escape(link)}">{escape(label)}</a>'  # HTML others paste as is
    return render(
        "public/share.html", lang, site=site, link=link, networks=networks,
        mailto=share.mailto(link, site.name, lang), progress=share.progress(subscriber),
        badge=badge, message=i18n.fill(t("share.message"), {"site": site.name, "url": link}),
        fill=i18n.fill)


@bp.get("/share/<token>/go/<network>")
def share_click(token: str, network: str):
    """One of the share page's buttons: counted, then on to the network (a plain link:
    none of its scripts ever runs on our pages)."""
    subscriber = _sharer(token) if network in share.NETWORKS else None
    if subscriber is None:
        return invalid(404)
    session = db.session()
    site_name = session.get(Site, subscriber.site_id).name
    session.execute(update(Subscriber).where(Subscriber.id == subscriber.id)
                    .values(share_clicks=Subscriber.share_clicks + 1)
                    .execution_options(synchronize_session=False))
    session.commit()
    return _redirect(share.network_url(network, share.referral_url(subscriber.ref_code),
                                       site_name, subscriber.lang))
