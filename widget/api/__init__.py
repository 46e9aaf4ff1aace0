"""The public embed API under /api/v1: widget config and sign-ups, CORS per site."""
from __future__ import annotations

from flask import Blueprint, Response, current_app, g, jsonify, redirect, render_template, request

from widget.api.body import json_body
from widget.api.widget_json import config_headers, gift_success, site_config
from widget.core import i18n
from widget.core.errors import FORM_TYPES, ApiError
from widget.gifts import claim, grants
from widget.giveback import stories as giveback_stories
from widget.insight import counters
from widget.sites import origins
from widget.sites.checks import Caller, find_site
from widget.subscribers.signup import subscribe

bp = Blueprint("api", __name__, url_prefix="/api/v1")


@bp.before_request
def _limit_body():
    request.max_content_length = current_app.config["MAX_BODY"]


@bp.after_request
def _cors(resp: Response) -> Response:
    return origins.add_cors(resp, g.get("site"))


def _site(site_id: str):
    g.site = find_site(site_id)
    return g.site


@bp.get("/sites/<site_id>/widgets")
def widgets(site_id: str):
    """The live widgets of a site for one page, with UI strings in the page's language."""
    site = _site(site_id)
    url = request.args.get("url", "")
    if len(url) > 2048:
        raise ApiError(422, "too_long", "'url' is longer than 2048 characters.", field="url")
    body, etag = site_config(site, request.args.get("lang"))
    headers = config_headers(etag, current_app.config["SITE_CACHE_SECONDS"])
    if request.if_none_match.contains(etag):
        return Response(status=304, headers=headers)
    return Response(body, mimetype="application/json", headers=headers)


@bp.route("/sites/<site_id>/subscriptions", methods=["OPTIONS"])
@bp.route("/sites/<site_id>/events", methods=["OPTIONS"])
@bp.route("/sites/<site_id>/grants", methods=["OPTIONS"])
@bp.route("/sites/<site_id>/stories", methods=["OPTIONS"])
def preflight(site_id: str):
    """CORS preflight for JSON sign-ups and events sent with fetch (the widget itself
    sends text/plain and beacons, which need none); only the site's origins get it."""
    _site(site_id)
    return Response(status=204)


@bp.post("/sites/<site_id>/subscriptions")
def subscriptions(site_id: str):
    """Sign up an e-mail address: JSON in, JSON out; a plain HTML form gets a page."""
    site = _site(site_id)
    if request.mimetype in FORM_TYPES:
        return _thanks_page(subscribe(site, request.form.to_dict(), is_form=True))
    subscribe(site, json_body())
    resp = jsonify(ok=True)
    resp.headers["Cache-Control"] = "no-store"
    return resp


@bp.post("/sites/<site_id>/grants")
def give(site_id: str):
    """Give a gift-first widget's gift at once (201, JSON in and out); a plain HTML form
    is sent on to the gift's page."""
    site = _site(site_id)
    if request.mimetype in FORM_TYPES:
        claimed = claim.give_first(site, request.form.to_dict())
        token = grants.token_of(claimed.given.grant_id, claimed.gift.id, None,
                                claimed.given.nonce)
        return redirect(grants.page_url(token), 303)
    resp = jsonify(grant=claim.as_json(claim.give_first(site, json_body())))
    resp.status_code = 201
    resp.headers["Cache-Control"] = "no-store"
    return resp


@bp.post("/sites/<site_id>/stories")
def stories(site_id: str):
    """Tell a story: JSON in, JSON out (201); a plain HTML form gets a thank-you page."""
    site = _site(site_id)
    if request.mimetype in FORM_TYPES:
        told = giveback_stories.tell(site, request.form.to_dict(), is_form=True)
        back = told.page_url if told.page_url and origins.is_allowed(site, told.page_url) \
            else None
        resp = Response(render_template("public/thanks.html", lang=told.lang, back=back,
                                        message=i18n.text("story.thanks", told.lang),
                                        t=i18n.translator(told.lang)))
    else:
        giveback_stories.tell(site, json_body())
        resp = jsonify(ok=True)
        resp.status_code = 201
    resp.headers["Cache-Control"] = "no-store"
    return resp


@bp.get("/sites/<site_id>/gifts/<gift_id>")
def gift_left(site_id: str, gift_id: str):
    """How many of a gift are left right now, for a widget that shows the true number."""
    site = _site(site_id)
    if site.gift(gift_id) is None:
        raise ApiError(404, "not_found")
    resp = jsonify(left=claim.left_now(gift_id))
    resp.headers["Cache-Control"] = "no-store"
    return resp


@bp.post("/sites/<site_id>/events")
def events(site_id: str):
    """A page view's batch of widget events, added to the day's counters (204)."""
    counters.accept(_site(site_id), Caller.of_request(), json_body)
    return Response(status=204, headers={"Cache-Control": "no-store"})


def _thanks_page(result):
    lang = result.lang
    widget = result.widget
    back = result.page_url if result.page_url and origins.is_allowed(
        result.site, result.page_url) else None
    message = (widget.success_message if widget and widget.success_message
               else gift_success(result.gift, result.site.double_opt_in, lang) if result.gift
               else i18n.success_text(result.site.double_opt_in, lang))
    resp = Response(render_template("public/thanks.html", lang=lang, message=message,
                                    back=back, t=i18n.translator(lang)))
    resp.headers["Cache-Control"] = "no-store"
    return resp
