"""The owner API's webhooks, on the owner blueprint: add one (its secret in the answer,
this once), list them (never the secret), delete one. The same checks as the
dashboard's form (sync/webhooks.py), committed before the answer."""
from __future__ import annotations

from flask import Response, jsonify

from widget.api.owner import _object, authorize, bp
from widget.core import db, export
from widget.core.errors import ApiError
from widget.models import MAX_ID, Webhook
from widget.sync import webhooks

FIELDS = ("url", "events", "description")


@bp.get("/sites/<site_id>/webhooks")
def list_webhooks(site_id: str):
    """The site's webhooks, oldest first (a site has a handful at most: no pages)."""
    authorize(site_id)
    return jsonify(webhooks=[_hook(h) for h in webhooks.listed(db.session(), site_id)])


@bp.post("/sites/<site_id>/webhooks")
def create_webhook(site_id: str):
    """Add a webhook: {"url", "events"?: [types] (none: all), "description"?}. The
    answer carries its signing secret, which is never shown again."""
    authorize(site_id, "write")
    data = _object(FIELDS)
    try:
        made = webhooks.create(db.session(), site_id, data.get("url"), data.get("events"),
                               data.get("description"))
    except webhooks.Invalid as exc:
        raise ApiError(exc.status, exc.code, str(exc), field=exc.field) from None
    resp = jsonify({**_hook(made.row), "secret": made.secret})
    resp.status_code = 201
    return resp


@bp.delete("/sites/<site_id>/webhooks/<int:webhook_id>")
def delete_webhook(site_id: str, webhook_id: int):
    """Delete a webhook and its deliveries; nothing more is sent to it."""
    authorize(site_id, "write")
    hook = db.session().get(Webhook, webhook_id) if 0 < webhook_id <= MAX_ID else None
    if hook is None or hook.site_id != site_id:
        raise ApiError(404, "not_found")
    webhooks.delete(db.session(), hook)
    return Response(status=204)


def _hook(hook: Webhook) -> dict:
    return {"id": hook.id, "url": hook.url, "events": webhooks.types_of(hook),
            "description": hook.description, "enabled": hook.enabled,
            "disabled_reason": hook.disabled_reason, "created_at": export.iso(hook.created_at)}
