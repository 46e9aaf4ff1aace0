"""listmonk, the self-hosted newsletter manager, through its REST API
(https://listmonk.app/docs/apis/subscribers/).

The owner types the address of their instance, so every request goes through the
guarded session of core/outbound.py (a listmonk on the operator's LAN needs
WIDGET_WEBHOOK_ALLOW_PRIVATE=on). Auth is HTTP Basic with an API user and its token
(listmonk ≥ 4; earlier versions took a user name and password the same way). A
subscriber is found by address with a query, created with its list subscription
preconfirmed (it was confirmed here), or updated keeping its other lists; tags and the
language go in its attributes, since listmonk has no subscriber tags."""
from __future__ import annotations

import base64
from urllib.parse import urlsplit

from flask_babel import format_number, gettext, lazy_gettext

from widget.sync.connectors.base import Answer, Conn, Contact, Field, Invalid, Permanent, Service


class Listmonk(Service):
    name = "listmonk"
    label = "listmonk"
    docs = "https://listmonk.app/docs/apis/subscribers/"
    owner_host = True
    fields = (
        Field("base_url", lazy_gettext("Address of your listmonk"),
              lazy_gettext("The URL you open listmonk's admin at, without /admin, "
                           "e.g. https://lists.example.com.")),
        Field("api_user", lazy_gettext("API user"),
              lazy_gettext("Admin → Users → New: an API user.")),
        Field("api_key", lazy_gettext("API token"),
              lazy_gettext("Shown once when you make the API user.")),
        Field("list_id", lazy_gettext("List ID"),
              lazy_gettext("Lists: the number in the ID column.")),
    )

    def clean(self, key: str, settings: dict) -> dict:
        cleaned = super().clean(key, settings)
        url = cleaned["base_url"]
        try:
            parts = urlsplit(url)
            parts.port  # noqa: B018 (a port that is no number raises here)
        except ValueError:
            parts = None
        if (parts is None or parts.scheme not in ("http", "https") or not parts.hostname
                or parts.username or len(url) > 2048 or any(c.isspace() for c in url)):
            raise Invalid("base_url",
                          gettext("Enter the address as https://host (or http://host)."))
        cleaned["base_url"] = url.rstrip("/").removesuffix("/admin")
        if not cleaned["list_id"].isdigit() or len(cleaned["list_id"]) > 9:
            raise Invalid("list_id", gettext("A listmonk list ID is a number, like 3."))
        return cleaned

    def auth_headers(self, conn: Conn) -> dict:
        # "curl -u 'api_username:access_token'" (API → Authentication)
        pair = f"{conn.settings.get('api_user', '')}:{conn.key}".encode()
        return {"Authorization": f"Basic {base64.b64encode(pair).decode()}"}

    def message(self, answer: Answer) -> str | None:
        data = answer.data  # errors are {"message": "…"}
        if isinstance(data, dict) and isinstance(data.get("message"), str):
            return data["message"]
        return None

    def _list(self, conn: Conn) -> int:
        return int(conn.settings["list_id"])

    def test(self, conn: Conn) -> str:
        # GET /api/lists/{list_id} (API → Lists)
        got = conn.call("GET", f"/api/lists/{self._list(conn)}")
        name = got.get("data", "name")
        count = got.data["data"].get("subscriber_count")
        if isinstance(count, int):
            return gettext("Connected to the listmonk list “%(name)s” (%(n)s subscribers).",
                           name=name, n=format_number(count))
        return gettext("Connected to the listmonk list “%(name)s”.", name=name)

    def _find(self, conn: Conn, contact: Contact) -> dict | None:
        # GET /api/subscribers?query=<SQL expression> (API → Subscribers); the address
        # is a string literal in it, its quotes doubled.
        literal = contact.email.lower().replace("'", "''")
        got = conn.call("GET", "/api/subscribers", params={
            "query": f"LOWER(subscribers.email) = '{literal}'", "per_page": "1"})
        results = got.get("data", "results")
        return results[0] if results else None

    def upsert(self, conn: Conn, contact: Contact) -> None:
        ours = {"language": contact.lang, "tags": list(contact.tags)}
        name = contact.name or contact.email.split("@", 1)[0]  # listmonk requires one
        found = self._find(conn, contact)
        if found is None:
            # POST /api/subscribers: created with the list subscription preconfirmed
            # (no opt-in e-mail from listmonk: they confirmed here). 409: it exists.
            got = conn.call("POST", "/api/subscribers", {
                "email": contact.email, "name": name, "status": "enabled",
                "lists": [self._list(conn)], "attribs": ours,
                "preconfirm_subscriptions": True}, ok=(409,))
            if got.status != 409:
                return
            found = self._find(conn, contact)  # made meanwhile by someone else
            if found is None:
                raise Permanent("listmonk said the address exists but does not find it",
                                409)
        # PUT /api/subscribers/{id}: "all parameters must be set", or the subscriber
        # leaves every list not named, so their lists and attributes are kept and ours
        # added. Subscriptions they had keep their status (an unsubscribe there stays).
        lists = sorted({item["id"] for item in found.get("lists") or []} | {self._list(conn)})
        conn.call("PUT", f"/api/subscribers/{found['id']}", {
            "email": found.get("email", contact.email), "name": name,
            "status": found.get("status", "enabled"), "lists": lists,
            "attribs": {**(found.get("attribs") or {}), **ours},
            "preconfirm_subscriptions": True})
        if contact.resubscribe and found.get("status") != "blocklisted":
            # PUT /api/subscribers/lists, action "add" with status "confirmed": they
            # confirmed here just now, so an old unsubscription there is lifted.
            conn.call("PUT", "/api/subscribers/lists", {
                "ids": [found["id"]], "action": "add",
                "target_list_ids": [self._list(conn)], "status": "confirmed"})

    def unsubscribe(self, conn: Conn, contact: Contact) -> None:
        found = self._find(conn, contact)
        if found is not None:
            # PUT /api/subscribers/lists, action "unsubscribe", for our list only
            conn.call("PUT", "/api/subscribers/lists", {
                "ids": [found["id"]], "action": "unsubscribe",
                "target_list_ids": [self._list(conn)]})

    def erase(self, conn: Conn, contact: Contact) -> None:
        found = self._find(conn, contact)
        if found is not None:
            # DELETE /api/subscribers/{id}: the subscriber with every subscription
            try:
                conn.call("DELETE", f"/api/subscribers/{found['id']}")
            except Permanent as exc:
                if exc.status != 404:
                    raise


SERVICE = Listmonk()
