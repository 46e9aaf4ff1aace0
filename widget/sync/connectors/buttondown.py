"""Buttondown, through its API v1 (https://docs.buttondown.com/api-subscribers-create).

A subscriber is addressed by their address in the path (/v1/subscribers/{id_or_email}):
looked up, then created with type "regular" (no second opt-in: they confirmed here) or
updated, their metadata and tags merged with ours. Buttondown has no name or language
field: both go to the subscriber's metadata ("name", "language"). Tags are sent by
name; Buttondown makes a missing one (on plans with tags). An unsubscribe sets type
"unsubscribed", except for a paying subscriber, whose paid subscription that would
cancel: that delivery fails with the reason, for the owner to decide there. An erasure
deletes the subscriber. Auth: "Authorization: Token …".

Creating subscribers through the API is capped per day on some plans; Buttondown then
answers 400 "rate_limited", which pauses the connector until the cap resets (its
X-RateLimit-Reset, else the next midnight UTC) instead of failing the contact."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from urllib.parse import quote

from flask_babel import gettext, lazy_gettext

from widget.sync.connectors.base import (
    Answer, Conn, Contact, Field, Permanent, Retry, Service, classify)

# Types a subscriber pays or is paid for: unsubscribing them would cancel the payment.
PAID = ("premium", "gifted", "trialed", "churning", "past_due", "paused", "upcoming")
# Types a confirmation here may turn back into "regular" (the only free type one can set).
REVIVABLE = ("unsubscribed", "unactivated")


class Buttondown(Service):
    name = "buttondown"
    label = "Buttondown"
    docs = "https://docs.buttondown.com/api-subscribers-create"
    default_base_url = "https://api.buttondown.com"
    fields = (
        Field("api_key", lazy_gettext("API key"),
              lazy_gettext("Buttondown → Settings → Programming → API key.")),
    )

    def auth_headers(self, conn: Conn) -> dict:
        # "Authorization: Token <key>" (API reference → Authentication)
        return {"Authorization": f"Token {conn.key}"}

    def message(self, answer: Answer) -> str | None:
        data = answer.data  # {"code", "detail"}, or a 422's {"detail": [{"msg", "loc"}]}
        if isinstance(data, dict) and isinstance(data.get("detail"), list):
            return "; ".join(str(d.get("msg", d)) if isinstance(d, dict) else str(d)
                             for d in data["detail"]) or None
        return super().message(answer)

    def _path(self, contact: Contact) -> str:
        return f"/v1/subscribers/{quote(contact.email, safe='@')}"

    def test(self, conn: Conn) -> str:
        # GET /v1/newsletters (Newsletters → List): the key's newsletter
        got = conn.call("GET", "/v1/newsletters")
        if not got.get("results"):
            raise Permanent("Buttondown lists no newsletter for this API key.", got.status)
        return gettext("Connected to the Buttondown newsletter “%(name)s”.",
                       name=got.get("results", 0, "name"))

    def _find(self, conn: Conn, contact: Contact) -> dict | None:
        # GET /v1/subscribers/{id_or_email} (Subscribers → Retrieve): 404 if nobody
        got = conn.call("GET", self._path(contact), ok=(404,))
        return None if got.status == 404 else got.data if isinstance(got.data, dict) else {}

    def upsert(self, conn: Conn, contact: Contact) -> None:
        ours = {"language": contact.lang, **({"name": contact.name} if contact.name else {})}
        found = self._find(conn, contact)
        if found is None:
            # POST /v1/subscribers (Subscribers → Create): 201; type "regular" skips
            # Buttondown's double opt-in. 400 with a code for an address it refuses, one
            # that exists (made meanwhile: updated below), or the daily cap.
            got = conn.call("POST", "/v1/subscribers", {
                "email_address": contact.email, "type": "regular",
                "tags": list(contact.tags), "metadata": ours}, ok=(400,))
            if got.status != 400:
                return
            code = got.data.get("code") if isinstance(got.data, dict) else None
            if code == "rate_limited":
                raise Retry(f"Buttondown answered 400: {self.message(got) or code} (its "
                            f"daily cap on new subscribers)", until_reset(got.headers), 400)
            if code not in ("email_already_exists", "subscriber_already_exists"):
                raise classify(self, got, "")
            found = self._find(conn, contact) or {}
        # PATCH /v1/subscribers/{id_or_email} (Subscribers → Update): metadata and tags
        # are replaced whole, so theirs are kept and ours added. The type goes back to
        # "regular" only when they confirmed here just now, and never for a paying one.
        body = {"metadata": {**(found.get("metadata") or {}), **ours},
                "tags": list(dict.fromkeys([*(found.get("tags") or []), *contact.tags]))}
        if contact.resubscribe and found.get("type") in REVIVABLE:
            body["type"] = "regular"
        conn.call("PATCH", self._path(contact), body)

    def unsubscribe(self, conn: Conn, contact: Contact) -> None:
        found = self._find(conn, contact)
        if found is None or found.get("type") == "unsubscribed":
            return  # nobody there, or unsubscribed already
        if found.get("type") in PAID:
            raise Permanent(f"{contact.email} is a paying subscriber ({found['type']}) in "
                            f"Buttondown, where unsubscribing cancels their payment: "
                            f"unsubscribe them there if they should be.")
        # PATCH /v1/subscribers/{id_or_email} with type "unsubscribed" (Subscribers → Update)
        conn.call("PATCH", self._path(contact), {"type": "unsubscribed"})

    def erase(self, conn: Conn, contact: Contact) -> None:
        # DELETE /v1/subscribers/{id_or_email} (Subscribers → Delete): 204; 404 if nobody
        conn.call("DELETE", self._path(contact), ok=(404,))


def until_reset(headers: dict, now: datetime | None = None) -> int:
    """Seconds until the daily cap resets: X-RateLimit-Reset (a Unix time, API reference →
    Rate limits), else the next midnight UTC; at least 1."""
    now = now or datetime.now(timezone.utc)
    value = next((v for k, v in headers.items() if k.lower() == "x-ratelimit-reset"), "")
    if value.strip().isdigit():
        return max(1, int(value) - int(now.timestamp()))
    midnight = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return max(1, int((midnight - now).total_seconds()))


SERVICE = Buttondown()
