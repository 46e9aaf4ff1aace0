"""The pages behind gift links: /gift/<token> (the gift, with its button), the download
ticket /gift/get/<ticket>, a fresh link by e-mail, and /rate/<token> (the follow-up).

GET only shows; the POST from a page's button acts, so mail scanners that open every
link spend no download and record no rating. The signed link is the credential, so
CSRF tokens do not apply (as on the confirm pages). Every bad link gets a page that
says what happened and what can be done, never a stack trace.
"""
from __future__ import annotations

import hmac
import re

from flask import Blueprint, Response, redirect, request
from sqlalchemy import select
from werkzeug.utils import send_file
from werkzeug.wsgi import FileWrapper

from widget.core import db, i18n, tokens
from widget.core.pages import allow_form_target, belongs_to, invalid, render, visitor_lang
from widget.core.rawsql import as_datetime
from widget.gifts import bonus, files, grants
from widget.models import Coupon, Grant, Site
from widget.sites import origins, snapshot

bp = Blueprint("gifts", __name__)
STATUS = {"waiting": 403, "revoked": 410, "expired": 410, "spent": 410, "replaced": 410}
MAX_COMMENT = 2000
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")  # all but tab and line feed


def _lang(grant: Grant | None) -> str:
    """The subscriber's language, else the visitor's browser's, else the site's; and
    the page is the grant's site's (belongs_to)."""
    site = db.session().get(Site, grant.site_id) if grant is not None else None
    if site is not None:
        belongs_to(site)
    if grant is not None and grant.subscriber is not None:
        return grant.subscriber.lang
    return visitor_lang(site.default_lang if site else None)


def _values(grant: Grant) -> dict[str, str]:
    site = db.session().get(Site, grant.site_id)
    return {"site": site.name, "gift": grant.gift.title, "days": str(grant.valid_days),
            "n": str(grant.download_limit)}


def _state_page(grant: Grant, token: str, state: str) -> Response:
    """Why this link can't be used now, and the way on: a fresh link by e-mail for a
    subscriber, or the page where a gift given first can be taken again."""
    lang, values = _lang(grant), _values(grant)
    t = i18n.translator(lang)
    form = link = None
    texts = [i18n.fill(t(f"page.gift.{state}.text"), values)]
    if state in ("expired", "spent", "replaced", "revoked") and grants.may_renew(grant):
        texts.append(t("page.gift.fresh_offer"))
        form = {"action": f"/gift/{token}/fresh", "button": t("page.expired.button")}
    elif state in ("expired", "spent") and grant.subscriber_id is None:
        view = snapshot.get(grant.site_id)
        if grant.page_url and view and origins.is_allowed(view, grant.page_url):
            texts.append(t("page.gift.again"))
            link = {"url": grant.page_url, "label": t("back")}
    return render("public/gift.html", lang, STATUS[state],
                   title=i18n.fill(t(f"page.gift.{state}.title"), values),
                   text=" ".join(texts), form=form, link=link)


def describe(grant: Grant, token: str, lang: str) -> dict:
    """A usable gift as public/_gift.html shows it: its button (file, link), its code
    (coupon) or its text (bonus), and the link's terms."""
    gift, t = grant.gift, i18n.translator(lang)
    context = {"title": gift.title, "text": gift.description}
    if gift.kind in ("file", "link"):
        label = t("gift.download" if gift.kind == "file" else "gift.open")
        if gift.kind == "file" and gift.file is not None:
            kind = gift.file.name.rsplit(".", 1)[-1].upper()
            label = f"{label} ({kind}, {files.size_words(gift.file.size, lang)})"
        context["form"] = {"action": f"/gift/{token}", "button": label}
        if gift.kind == "link" and gift.url:
            allow_form_target(gift.url)  # the button's POST is redirected on to it
        context["note"] = i18n.fill(t("page.gift.terms"), {
            "date": as_datetime(grant.expires_at).strftime("%Y-%m-%d"),
            "n": str(max(0, grant.download_limit - grant.downloads))})
    elif gift.kind == "coupon":
        context["code"] = db.session().scalar(select(Coupon.code).where(
            Coupon.grant_id == grant.id))
    else:
        context["bonus"] = bonus.markup(gift.bonus_html)
    return context


def _show(grant: Grant, token: str) -> Response:
    """The gift page of a usable grant."""
    lang = _lang(grant)
    return render("public/gift.html", lang, **describe(grant, token, lang),
                   from_line=i18n.fill(i18n.text("page.gift.from", lang), _values(grant)))


@bp.route("/gift/<token>", methods=["GET", "POST"])
def gift_page(token: str):
    """GET: the gift and its button. POST (the button): a download ticket, followed at
    once; the download counts when the ticket is first fetched."""
    try:
        grant = grants.from_token(db.session(), token)
    except tokens.TokenInvalid:
        return invalid()
    except grants.Replaced as exc:
        return _state_page(exc.grant, token, "replaced")
    state = grants.state(grant)
    if state != "ok":
        return _state_page(grant, token, state)
    if request.method == "POST" and grant.gift.kind in ("file", "link"):
        return redirect(grants.download_url(grant.id, grant.nonce), 303)
    return _show(grant, token)


@bp.post("/gift/<token>/fresh")
def fresh_link(token: str):
    """E-mail a fresh link to a subscriber's gift (expired, spent or replaced links are
    welcome here); the answer is the same whether or not one was sent."""
    session = db.session()
    try:
        grant = grants.from_token(session, token)
    except tokens.TokenInvalid:
        return invalid()
    except grants.Replaced as exc:
        grant = exc.grant
    grants.renew(session, grant, by_owner=False)
    lang = _lang(grant)
    return render("public/message.html", lang, title=i18n.text("page.resent.title", lang),
                   text=i18n.text("page.gift.fresh_sent", lang), form=None)


@bp.route("/gift/get/<ticket>", methods=["GET"])  # Flask answers HEAD through this too
def download(ticket: str):
    """The file (or the link's redirect) behind a ticket from the gift page's button."""
    session = db.session()
    try:
        grant, ticket_id = grants.from_ticket(session, ticket)
    except tokens.TokenExpired as exc:
        return _timed_out(exc.value)
    except tokens.TokenInvalid:
        return invalid()
    except grants.Replaced as exc:
        return _state_page(exc.grant, grants.token(exc.grant), "replaced")
    resp = _serve(grant, ticket_id, head=request.method == "HEAD")
    if resp is not None:
        return resp
    state = grants.state(grant)
    return _state_page(grant, grants.token(grant), "spent" if state == "ok" else state)


def _serve(grant: Grant, ticket: str, head: bool) -> Response | None:
    """The gift behind a ticket: the file as an attachment (Range and HEAD supported), or
    a redirect to the link. None when the link may not be used."""
    if not grants.admit_download(grant, ticket, head):
        return None
    gift = grant.gift
    if gift.kind == "link":
        return redirect(gift.url, 303)
    file = gift.file
    if file is None:
        return None
    reader = files.ChunkReader(db.engine(), file.id, file.size)
    resp = send_file(reader, request.environ, mimetype=file.content_type, as_attachment=True,
                     download_name=file.name, conditional=False, etag=False)
    # send_file hands the file to the server's wrapper, and gunicorn's cannot seek, so a
    # Range would read from the start; werkzeug's seeks, and moves whole chunks.
    resp.response = FileWrapper(reader, files.CHUNK)
    resp.content_length = file.size
    resp.set_etag(file.sha256)
    resp.headers["Cache-Control"] = "private, no-store"
    resp.headers["Content-Security-Policy"] = (
        "sandbox; default-src 'none'; frame-ancestors 'none'")
    return resp.make_conditional(request.environ, accept_ranges=True,
                                 complete_length=file.size)


def _timed_out(value) -> Response:
    """An hour-old ticket: back to the gift page, where the button makes a new one."""
    grant = None
    if isinstance(value, list) and len(value) == 3 and isinstance(value[0], int):
        grant = db.session().get(Grant, value[0])
        if grant is not None and not hmac.compare_digest(grant.nonce, str(value[1])):
            grant = None
    lang = _lang(grant)
    link = ({"url": f"/gift/{grants.token(grant)}", "label": i18n.text("page.gift.back", lang)}
            if grant is not None else None)
    return render("public/gift.html", lang, 410,
                   title=i18n.text("page.gift.timeout.title", lang),
                   text=i18n.text("page.gift.timeout.text", lang), link=link)


@bp.route("/rate/<token>", methods=["GET", "POST"])
def rate(token: str):
    """GET: the 1-5 form, with the rating clicked in the e-mail chosen. POST: record the
    rating and the optional comment (changing an earlier one), and thank them."""
    session = db.session()
    try:
        grant = grants.from_rating_token(session, token)
    except tokens.TokenInvalid:
        return invalid()
    lang, values = _lang(grant), _values(grant)
    t = i18n.translator(lang)
    chosen = request.values.get("r" if request.method == "GET" else "rating", type=int)
    comment = (request.form.get("comment") or "").replace("\r\n", "\n").strip()
    error = None
    if request.method == "POST":
        if chosen not in range(1, 6):
            error = t("page.rate.missing")
        elif len(comment) > MAX_COMMENT or CONTROL.search(comment):
            error = t("error.too_long" if len(comment) > MAX_COMMENT
                      else "error.invalid_characters")
        else:
            grants.rate(session, grant, chosen, comment)
            return render("public/message.html", lang, title=t("page.rated.title"),
                           text=i18n.fill(t("page.rated.text"), values), form=None)
    return render("public/rate.html", lang, 422 if error else 200,
                   title=i18n.fill(t("page.rate.title"), values), action=f"/rate/{token}",
                   chosen=chosen if chosen in range(1, 6) else grant.rating, error=error,
                   comment=comment or (grant.comment if request.method == "GET" else ""))
