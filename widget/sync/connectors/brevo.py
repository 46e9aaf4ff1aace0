"""Brevo (formerly Sendinblue), through its API v3
(https://developers.brevo.com/reference/create-contact).

A contact is upserted by address into the connection's list with "updateEnabled"; the
name goes to the standard attribute FIRSTNAME, the language to LANGUAGE and the tags,
comma-separated, to TAGS: custom text attributes the owner creates, sent only when the
account has them (Brevo refuses attributes it does not know). An unsubscribe unlinks
the contact from our list only, as listmonk's does; an erasure deletes the contact.
Auth: the "api-key" header. A 429 may name its wait in x-sib-ratelimit-reset rather
than Retry-After; either is honoured."""
from __future__ import annotations

import hashlib
import time
from urllib.parse import quote

from flask_babel import format_number, gettext, lazy_gettext

from widget.core.said import stored
from widget.sync.connectors.base import (
    ANSWERED, Answer, Conn, Contact, Field, Invalid, Permanent, Retry, Service, retry_after)

FIRSTNAME, LANGUAGE, TAGS = "FIRSTNAME", "LANGUAGE", "TAGS"
CUSTOM = {LANGUAGE: "language", TAGS: "tags"}  # the attributes owners create (docs)
ATTRIBUTES_TTL = 300  # seconds an account's attribute names are trusted before asking again
_attributes: dict[tuple[str, str], tuple[float, frozenset[str]]] = {}


# What this module stores in English, shown translated in the dashboard (core/said.py)
TOO_MANY_REQUESTS = stored("too many requests")


class Brevo(Service):
    name = "brevo"
    label = "Brevo"
    docs = "https://developers.brevo.com/reference/create-contact"
    default_base_url = "https://api.brevo.com"
    fields = (
        Field("api_key", lazy_gettext("API key"), lazy_gettext(
            "Brevo → your name → SMTP & API → API keys: generate a key (xkeysib-…).")),
        Field("list_id", lazy_gettext("List ID"),
              lazy_gettext("Contacts → Lists: the number in the ID column.")),
    )

    def clean(self, key: str, settings: dict) -> dict:
        cleaned = super().clean(key, settings)
        if key.strip().startswith("xsmtpsib-"):
            raise Invalid("api_key", gettext("That is an SMTP key: generate an API key "
                                             "(xkeysib-…) on the same page."))
        if not cleaned["list_id"].isdigit() or len(cleaned["list_id"]) > 12:
            raise Invalid("list_id", gettext("A Brevo list ID is a number, like 7."))
        return cleaned

    def auth_headers(self, conn: Conn) -> dict:
        # "Include your API key in the api-key header for every request" (Key concepts)
        return {"api-key": conn.key}

    def _call(self, conn: Conn, method: str, path: str, body: object = None,
              ok: tuple[int, ...] = ()) -> Answer:
        """conn.call, with a 429's wait read from Retry-After or else from
        x-sib-ratelimit-reset, the seconds until the window resets (Rate limit headers)."""
        got = conn.call(method, path, body, ok=(*ok, 429))
        if got.status != 429:
            return got
        reset = next((v for k, v in got.headers.items()
                      if k.lower() == "x-sib-ratelimit-reset"), "")
        wait = retry_after(got.headers, default=int(reset) if reset.isdigit() else 60)
        said = self.message(got) or TOO_MANY_REQUESTS
        raise Retry(ANSWERED % {"service": self.label, "status": 429, "said": said},
                    max(1, wait))

    def _list(self, conn: Conn) -> int:
        return int(conn.settings["list_id"])

    def _contact(self, contact: Contact) -> str:
        return f"/v3/contacts/{quote(contact.email, safe='')}"  # "Email (urlencoded)"

    def _known(self, conn: Conn, fresh: bool = False) -> frozenset[str]:
        """The account's attribute names, asked at most every ATTRIBUTES_TTL seconds."""
        which = (conn.base_url, hashlib.sha256(conn.key.encode()).hexdigest())
        known = _attributes.get(which)
        if fresh or known is None or known[0] < time.monotonic() - ATTRIBUTES_TTL:
            # GET /v3/contacts/attributes (Attributes → List all attributes)
            got = self._call(conn, "GET", "/v3/contacts/attributes")
            known = (time.monotonic(), frozenset(
                str(a.get("name", "")).upper() for a in got.get("attributes")
                if isinstance(a, dict)))
            _attributes[which] = known
        return known[1]

    def test(self, conn: Conn) -> str:
        # GET /v3/contacts/lists/{listId} (Lists → Get a list's details)
        got = self._call(conn, "GET", f"/v3/contacts/lists/{self._list(conn)}")
        count = got.data.get("totalSubscribers") if isinstance(got.data, dict) else None
        said = gettext("Connected to the Brevo list “%(name)s” (%(n)s subscribed).",
                       name=got.get("name"), n=format_number(count)) if isinstance(count, int) \
            else gettext("Connected to the Brevo list “%(name)s”.", name=got.get("name"))
        missing = [a for a in CUSTOM if a not in self._known(conn, fresh=True)]
        if len(missing) == 2:
            said += " " + gettext(
                "To receive each contact's language and tags, create the text attributes "
                "%(first)s and %(second)s in Brevo (Contacts → Settings → Contact "
                "attributes).", first=missing[0], second=missing[1])
        elif missing == [LANGUAGE]:
            said += " " + gettext(
                "To receive each contact's language, create the text attribute %(name)s in "
                "Brevo (Contacts → Settings → Contact attributes).", name=LANGUAGE)
        elif missing:
            said += " " + gettext(
                "To receive each contact's tags, create the text attribute %(name)s in "
                "Brevo (Contacts → Settings → Contact attributes).", name=TAGS)
        return said

    def upsert(self, conn: Conn, contact: Contact) -> None:
        ours = {FIRSTNAME: contact.name, LANGUAGE: contact.lang,
                TAGS: ",".join(contact.tags)}
        known = self._known(conn)
        # POST /v3/contacts (Contacts → Create a contact) with updateEnabled: 201 created,
        # 204 updated; listIds adds to our list and keeps their others; 400
        # invalid_parameter for an address it refuses. The blocklist is lifted only when
        # they confirmed here just now: else an unsubscribe at Brevo stays.
        body = {"email": contact.email, "updateEnabled": True, "listIds": [self._list(conn)],
                "attributes": {k: v for k, v in ours.items() if k in known and v}}
        if contact.resubscribe:
            body["emailBlacklisted"] = False
        self._call(conn, "POST", "/v3/contacts", body)

    def unsubscribe(self, conn: Conn, contact: Contact) -> None:
        # PUT /v3/contacts/{identifier} (Contacts → Update a contact): 204; unlinkListIds
        # takes them off our list only. 404: nobody there, nothing to unsubscribe.
        self._call(conn, "PUT", self._contact(contact),
                   {"unlinkListIds": [self._list(conn)]}, ok=(404,))

    def erase(self, conn: Conn, contact: Contact) -> None:
        # DELETE /v3/contacts/{identifier} (Contacts → Delete a contact): 204; 404 when
        # nobody is there
        try:
            self._call(conn, "DELETE", self._contact(contact))
        except Permanent as exc:
            if exc.status != 404:
                raise


SERVICE = Brevo()
