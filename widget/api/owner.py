"""The owner API under /api/v1/sites/<site>/…: for the owner's own servers, not browsers.

Every request names a key (`Authorization: Bearer …`) that must belong to the URL's site;
writes need a key with the write scope. The answers carry no CORS headers and no cookies,
and are never cached. Lists are newest first, a page at a time, with an opaque cursor
over (created_at, id). Writes check their fields as the dashboard's forms do
(subscribers/manage.py) and are committed before the answer."""
from __future__ import annotations

from datetime import datetime

from flask import Blueprint, Response, g, jsonify, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from widget.api.body import json_body
from widget.core import db, export, keyset, ratelimit
from widget.core.errors import ApiError
from widget.models import (MAX_ID, ApiKey, Consent, Gift, Grant, Referral, Site, StatusChange,
                           Story, Subscriber)
from widget.sites import audit, keys
from widget.subscribers import contacts as found
from widget.subscribers import manage, privacy

bp = Blueprint("owner_api", __name__, url_prefix="/api/v1")
DEFAULT_LIMIT, MAX_LIMIT = 50, 100
NEW_FIELDS = ("email", "name", "lang", "tags", "basis", "confirm")
EDIT_FIELDS = ("name", "lang", "tags")
REFERRAL_STATUSES = ("pending", "waiting", "held", "counted", "rejected")


@bp.after_request
def _owner_answers(resp: Response) -> Response:
    resp.headers["Cache-Control"] = "no-store"
    if resp.status_code == 401:  # RFC 6750: say which scheme, and whether a key was sent
        resp.headers["WWW-Authenticate"] = 'Bearer realm="owner API"' + (
            ', error="invalid_token"' if g.get("key_sent") else "")
    return resp


def authorize(site_id: str, scope: str = "read") -> ApiKey:
    """The key the request sends, if it may use `scope` on `site_id`: else 401
    `unauthorized` (no, unknown or revoked key), 404 `site_not_found` (another site's
    key: whether that site exists stays unsaid) or 403 `forbidden_scope`. Each use is
    counted against the key's rate limit and marks it used."""
    kind, _, key = request.headers.get("Authorization", "").partition(" ")
    g.key_sent = bool(key.strip())
    session = db.session()
    row = keys.find(session, key.strip()) if kind.lower() == "bearer" and g.key_sent else None
    if row is None:
        raise ApiError(401, "unauthorized")
    ratelimit.hit("key", str(row.id))
    if row.site_id != site_id:
        raise ApiError(404, "site_not_found")
    if scope == "write" and row.scope != "write":
        raise ApiError(403, "forbidden_scope")
    keys.touch(session, row)
    return row


# The public POST and preflight of this path are the api blueprint's: no OPTIONS here.
@bp.get("/sites/<site_id>/stories", provide_automatic_options=False)
def stories(site_id: str):
    """The site's stories, newest first: `?status=pending|approved|rejected` to filter."""
    authorize(site_id)
    status = request.args.get("status")
    query = select(Story).where(Story.site_id == site_id)
    if status is not None:
        if status not in ("pending", "approved", "rejected"):
            raise ApiError(400, "bad_request", "'status' must be pending, approved or "
                           "rejected.", field="status")
        query = query.where(Story.status == status)
    rows, after = _page(query, Story)
    return jsonify(stories=[_story(s) for s in rows], next=after)


@bp.get("/sites/<site_id>/gifts/<gift_id>/grants")
def grants(site_id: str, gift_id: str):
    """A gift's ledger, newest first: who got it, when, their downloads and rating."""
    authorize(site_id)
    gift = db.session().get(Gift, gift_id) if len(gift_id) <= 64 else None
    if gift is None or gift.site_id != site_id:
        raise ApiError(404, "not_found")
    rows, after = _page(select(Grant).where(Grant.gift_id == gift.id)
                        .options(selectinload(Grant.subscriber)), Grant)
    return jsonify(grants=[_grant(r) for r in rows], next=after)


@bp.get("/sites/<site_id>/contacts")
def contacts(site_id: str):
    """The site's contacts newest first (or in `sort`'s order), narrowed by the contacts
    page's filters (q, status, widget, lang, gift, referred, from, to); one not
    understood is 400."""
    authorize(site_id)
    filters = _filters()
    rows, after = _page(select(Subscriber).where(*found.conditions(site_id, filters)),
                        Subscriber, filters.order)
    return jsonify(contacts=_contacts(rows), next=after)


@bp.get("/sites/<site_id>/contacts/<int:subscriber_id>")
def contact(site_id: str, subscriber_id: int):
    """One contact, with their consents and status history, oldest first."""
    authorize(site_id)
    session = db.session()
    person = _person(site_id, subscriber_id)
    history = session.scalars(select(StatusChange).where(
        StatusChange.subscriber_id == person.id)
        .order_by(StatusChange.created_at, StatusChange.id)).all()
    consents = session.scalars(select(Consent).where(Consent.subscriber_id == person.id)
                               .order_by(Consent.created_at, Consent.id)).all()
    return jsonify({**_contacts([person])[0], "consents": [
        {"given": c.given, "basis": c.basis, "text": c.text, "lang": c.lang,
         "widget": c.widget_id, "page_url": c.page_url, "created_at": _time(c.created_at)}
        for c in consents],
        "history": [{"status": h.status, "via": h.via, "created_at": _time(h.created_at)}
                    for h in history]})


@bp.post("/sites/<site_id>/contacts", provide_automatic_options=False)
def create_contact(site_id: str):
    """Add a contact with the basis of their consent: confirmed at once, or with
    "confirm": true pending until they press the button in a confirmation e-mail."""
    key = authorize(site_id, "write")
    data = _object(NEW_FIELDS)
    session = db.session()
    person = manage.add(session, session.get(Site, site_id), manage.NewContact(
        email=data.get("email"), name=data.get("name"), lang=data.get("lang"),
        tags=_tag_list(data), basis=data.get("basis"), confirm=data.get("confirm", False)),
        audit.actor_of_key(key), "api")
    resp = jsonify(_contacts([person])[0])
    resp.status_code = 201
    resp.headers["Location"] = url_for(".contact", site_id=site_id, subscriber_id=person.id)
    return resp


@bp.patch("/sites/<site_id>/contacts/<int:subscriber_id>")
def edit_contact(site_id: str, subscriber_id: int):
    """Change a contact's name (null clears it), lang or tags (the new set)."""
    authorize(site_id, "write")
    person = _person(site_id, subscriber_id)
    data = _object(EDIT_FIELDS)
    if "tags" in data:
        data["tags"] = _tag_list(data)
    return jsonify(_contacts([manage.edit(db.session(), person, data)])[0])


@bp.delete("/sites/<site_id>/contacts/<int:subscriber_id>")
def erase_contact(site_id: str, subscriber_id: int):
    """Erase the person everywhere (subscribers/privacy.py); it cannot be undone."""
    key = authorize(site_id, "write")
    manage.erase(db.session(), _person(site_id, subscriber_id), audit.actor_of_key(key))
    return Response(status=204)


@bp.post("/sites/<site_id>/contacts/<int:subscriber_id>/unsubscribe")
def unsubscribe_contact(site_id: str, subscriber_id: int):
    """Unsubscribe on the person's behalf; one already unsubscribed stays as they are."""
    authorize(site_id, "write")
    person = _person(site_id, subscriber_id)
    manage.unsubscribe(db.session(), person, "api")
    return jsonify(_contacts([person])[0])


@bp.get("/sites/<site_id>/contacts/<int:subscriber_id>/data")
def contact_data(site_id: str, subscriber_id: int):
    """Everything held about the person, as the dashboard's download (logged)."""
    key = authorize(site_id)
    session = db.session()
    held = privacy.everything(session, _person(site_id, subscriber_id))
    audit.record(session, site_id, audit.actor_of_key(key), "export", 1, audit.ONE_CONTACT)
    session.commit()
    return jsonify(held)


@bp.get("/sites/<site_id>/referrals")
def referrals(site_id: str):
    """The site's referrals, newest first: `?status=` pending, waiting, held, counted
    or rejected."""
    authorize(site_id)
    status = request.args.get("status")
    query = select(Referral).where(Referral.site_id == site_id).options(
        selectinload(Referral.referrer), selectinload(Referral.referred))
    if status is not None:
        if status not in REFERRAL_STATUSES:
            raise ApiError(400, "bad_request", "'status' must be one of "
                           f"{', '.join(REFERRAL_STATUSES)}.", field="status")
        query = query.where(Referral.status == status)
    rows, after = _page(query, Referral)
    return jsonify(referrals=[{
        "id": r.id, "status": r.status, "reason": r.reason,
        "referrer": {"id": r.referrer.id, "email": r.referrer.email},
        "friend": {"id": r.referred.id, "email": r.referred.email},
        "created_at": _time(r.created_at), "confirmed_at": _time(r.confirmed_at),
        "decided_at": _time(r.decided_at)} for r in rows], next=after)


@bp.get("/sites/<site_id>/contacts.csv")
def contacts_csv(site_id: str):
    """The filtered contacts as the dashboard's CSV, streamed."""
    authorize(site_id)
    return found.download(db.session(), site_id, _filters(), "csv")


@bp.get("/sites/<site_id>/contacts.jsonl")
def contacts_jsonl(site_id: str):
    """The same rows as JSON Lines, as the dashboard's."""
    authorize(site_id)
    return found.download(db.session(), site_id, _filters(), "jsonl")


def _person(site_id: str, subscriber_id: int) -> Subscriber:
    """The site's contact with this id, or 404 not_found."""
    person = db.session().get(Subscriber, subscriber_id) if 0 < subscriber_id <= MAX_ID \
        else None
    if person is None or person.site_id != site_id:
        raise ApiError(404, "not_found")
    return person


def _object(fields: tuple[str, ...]) -> dict:
    """The JSON object of a write, naming only `fields` (a misspelt field is an error,
    not a change quietly skipped)."""
    data = json_body()
    if not isinstance(data, dict):
        raise ApiError(400, "invalid_json", "The body must be a JSON object.")
    for name in data:
        if name not in fields:
            raise ApiError(400, "bad_request", f"Unknown field '{name[:40]}': use "
                           f"{', '.join(fields)}.", field=name[:40])
    return data


def _tag_list(data: dict) -> list | None:
    tags = data.get("tags")
    if tags is not None and not isinstance(tags, list):
        raise ApiError(400, "invalid_type", "'tags' must be a list of strings.", field="tags")
    return tags


def _filters() -> found.Filters:
    """The contacts page's filters in the query; the first not understood is 400."""
    filters = found.Filters.parse(request.args)
    if filters.errors:
        raise ApiError(400, "bad_request", filters.errors[0], field=filters.fields[0])
    return filters


def _page(query, model, order: keyset.Order = keyset.NEWEST) -> tuple[list, str | None]:
    """One page of `query` in `order` (newest first unless said) after the request's
    cursor, and the next cursor (None on the last page)."""
    limit = request.args.get("limit", DEFAULT_LIMIT)
    if not str(limit).isdigit() or not 1 <= int(limit) <= MAX_LIMIT:
        raise ApiError(400, "bad_request", f"'limit' must be 1 to {MAX_LIMIT}.", field="limit")
    limit = int(limit)
    cursor = request.args.get("cursor")
    position = keyset.read_cursor(cursor, order)
    if cursor is not None and position is None:
        raise ApiError(400, "bad_request", "'cursor' is not one this API gave.",
                       field="cursor")
    rows = list(db.session().scalars(query.where(*keyset.after(model, position, order))
                                     .order_by(*keyset.ordered(model, order)).limit(limit + 1)))
    if len(rows) <= limit:
        return rows, None
    last = rows[limit - 1]
    return rows[:limit], keyset.cursor_of(getattr(last, order.column), last.id)


def _time(moment: datetime | None) -> str | None:
    """ISO 8601 in UTC with a Z, as every export writes it; null when there is none."""
    return export.iso(moment) or None


def _story(story: Story) -> dict:
    return {"id": story.id, "status": story.status, "name": story.name,
            "email": story.email, "text": story.text, "rating": story.rating,
            "consent_publish": story.consent_publish, "consent_text": story.consent_text,
            "lang": story.lang, "page_url": story.page_url, "widget": story.widget_id,
            "reply": story.reply, "created_at": _time(story.created_at),
            "decided_at": _time(story.decided_at)}


def _contacts(people: list[Subscriber]) -> list[dict]:
    """Contacts as the owner API shows them (their tags and status times read in one
    query each)."""
    ids = [person.id for person in people]
    session = db.session()
    times, tags = found.status_times(session, ids), found.tags_of(session, ids)
    return [_contact(p, times.get(p.id, {}), tags.get(p.id, [])) for p in people]


def _contact(person: Subscriber, times: dict, tags: list[str]) -> dict:
    return {"id": person.id, "email": person.email, "name": person.name,
            "status": person.status, "lang": person.lang, "tags": tags,
            "widget": person.widget_id,
            "page_url": person.page_url, "created_at": _time(person.created_at),
            "confirmed_at": _time(times.get("confirmed")),
            "unsubscribed_at": _time(times.get("unsubscribed")),
            "ref_code": person.ref_code, "ref_count": person.ref_count}


def _grant(grant: Grant) -> dict:
    person = grant.subscriber
    return {"id": grant.id, "email": person.email if person else None,
            "name": person.name if person else None, "widget": grant.widget_id,
            "page_url": grant.page_url, "created_at": _time(grant.created_at),
            "released_at": _time(grant.released_at),
            "expires_at": _time(grant.expires_at),
            "revoked_at": _time(grant.revoked_at), "downloads": grant.downloads,
            "download_limit": grant.download_limit,
            "last_download_at": _time(grant.last_download_at), "rating": grant.rating,
            "comment": grant.comment, "rated_at": _time(grant.rated_at)}
