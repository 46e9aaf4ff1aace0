"""Kit (formerly ConvertKit), through its API v4 (https://developers.kit.com/api-reference).

Kit has no lists: an account's subscribers are one audience, segmented by tags. A
subscriber is upserted by address, tagged by tag id (a tag is created by name, which
answers the existing one when it is there already), unsubscribed by id. The API has no
way to delete a subscriber, so an erasure here unsubscribes them there and the owner is
told to delete them in Kit by hand; nor can it make an unsubscribed subscriber active
again. The language goes to a custom field "language", which Kit keeps only if the
owner created it (unknown fields are ignored)."""
from __future__ import annotations

from flask_babel import gettext, lazy_gettext

from widget.sync.connectors.base import Answer, Conn, Contact, Field, Service


class Kit(Service):
    name = "kit"
    label = "Kit"
    docs = "https://developers.kit.com/api-reference"
    default_base_url = "https://api.kit.com"
    fields = (
        Field("api_key", lazy_gettext("API key (v4)"),
              lazy_gettext("Kit → Settings → Developer → API keys: add a v4 key.")),
    )
    erase_note = lazy_gettext("Kit's API cannot delete a subscriber: an erased contact is "
                              "unsubscribed in Kit. Delete them there by hand as well.")

    def auth_headers(self, conn: Conn) -> dict:
        return {"X-Kit-Api-Key": conn.key}  # "Authenticate API requests via an API Key"

    def message(self, answer: Answer) -> str | None:
        data = answer.data
        if isinstance(data, dict) and isinstance(data.get("errors"), list):
            return "; ".join(str(e) for e in data["errors"]) or None  # {"errors": [...]}
        return super().message(answer)

    def test(self, conn: Conn) -> str:
        # GET /v4/account (Accounts → Get current account)
        got = conn.call("GET", "/v4/account")
        account = (got.data or {}).get("account") if isinstance(got.data, dict) else None
        name = (account or {}).get("name") or "?"
        return gettext("Connected to the Kit account “%(name)s”.", name=name)

    def _find(self, conn: Conn, contact: Contact) -> int | None:
        # GET /v4/subscribers?email_address=…&status=all (Subscribers → List
        # subscribers; the status filter defaults to active only)
        got = conn.call("GET", "/v4/subscribers",
                        params={"email_address": contact.email, "status": "all"})
        return got.get("subscribers", 0, "id") if got.get("subscribers") else None

    def upsert(self, conn: Conn, contact: Contact) -> None:
        # POST /v4/subscribers (Subscribers → Create a subscriber): "Behaves as an
        # upsert"; 201 created, 200 updated.
        body = {"email_address": contact.email, "first_name": contact.name or None,
                "fields": {"language": contact.lang}}
        got = conn.call("POST", "/v4/subscribers", body)
        subscriber = got.get("subscriber", "id")
        for tag in contact.tags:
            # POST /v4/tags (Tags → Create a tag): 201, or 200 with the existing tag.
            made = conn.call("POST", "/v4/tags", {"name": tag})
            tag_id = made.get("tag", "id")
            # POST /v4/tags/{tag_id}/subscribers/{id} (Tags → Tag a subscriber)
            conn.call("POST", f"/v4/tags/{tag_id}/subscribers/{subscriber}", {})

    def unsubscribe(self, conn: Conn, contact: Contact) -> None:
        subscriber = self._find(conn, contact)
        if subscriber is not None:  # nobody there: nothing to unsubscribe
            # POST /v4/subscribers/{id}/unsubscribe (Subscribers → Unsubscribe subscriber)
            conn.call("POST", f"/v4/subscribers/{subscriber}/unsubscribe", {})

    def erase(self, conn: Conn, contact: Contact) -> None:
        self.unsubscribe(conn, contact)  # the nearest the API allows (erase_note)


SERVICE = Kit()
