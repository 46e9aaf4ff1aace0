"""MailerLite, through its current API at connect.mailerlite.com
(https://developers.mailerlite.com/docs/subscribers.html).

A subscriber is upserted by address with its groups; the connection's group is one, and
each of the contact's tags is another, a group of the same name (created when missing:
groups are how MailerLite segments, it has no tags). The name goes to the default field
"name", the language to a custom text field "language", sent only when the account has
one (MailerLite wants field keys that exist). An unsubscribe sets the subscriber's
status, account-wide as MailerLite's own unsubscribe link does; an erasure "forgets"
them (removed at once, their data deleted within 30 days). Auth: a Bearer token."""
from __future__ import annotations

import hashlib
import time
from urllib.parse import quote

from flask_babel import format_number, gettext, lazy_gettext

from widget.sync.connectors.base import Answer, Conn, Contact, Field, Invalid, Permanent, Service

LANGUAGE = "language"  # the custom field's key (docs/connectors.md asks owners to add it)
FIELDS_TTL = 300  # seconds an account's field keys are trusted before asking again
_fields: dict[tuple[str, str], tuple[float, frozenset[str]]] = {}


class MailerLite(Service):
    name = "mailerlite"
    label = "MailerLite"
    docs = "https://developers.mailerlite.com/docs/subscribers.html"
    default_base_url = "https://connect.mailerlite.com"
    fields = (
        Field("api_key", lazy_gettext("API token"), lazy_gettext(
            "MailerLite → Integrations → MailerLite API → Generate new token.")),
        Field("group_id", lazy_gettext("Group ID"), lazy_gettext(
            "Subscribers → Groups: open the group; its ID is the number in the address.")),
    )

    def clean(self, key: str, settings: dict) -> dict:
        cleaned = super().clean(key, settings)
        if not cleaned["group_id"].isdigit() or len(cleaned["group_id"]) > 24:
            raise Invalid("group_id", gettext("A MailerLite group ID is a number, like "
                                              "165971156405323676."))
        return cleaned

    def auth_headers(self, conn: Conn) -> dict:
        # "Authorization: Bearer XXX" (Getting started → Authentication)
        return {"Authorization": f"Bearer {conn.key}"}

    def message(self, answer: Answer) -> str | None:
        data = answer.data  # Laravel's {"message": "…", "errors": {"email": ["…"]}}
        if isinstance(data, dict) and isinstance(data.get("errors"), dict):
            said = [m for ms in data["errors"].values() if isinstance(ms, list) for m in ms
                    if isinstance(m, str)]
            if said:
                return " ".join(said)
        return super().message(answer)

    def test(self, conn: Conn) -> str:
        group = self._group(conn)
        count = group.get("active_count")
        name = group.get("name", "?")
        said = gettext("Connected to the MailerLite group “%(name)s” (%(n)s active).",
                       name=name, n=format_number(count)) if isinstance(count, int) \
            else gettext("Connected to the MailerLite group “%(name)s”.", name=name)
        if LANGUAGE not in self._field_keys(conn, fresh=True):
            said += " " + gettext("Add a text field “language” in MailerLite (Subscribers → "
                                  "Fields) to receive each contact's language.")
        return said

    def _group(self, conn: Conn) -> dict:
        # GET /api/groups?limit=&page= (Groups → List all groups): the API has no call for
        # one group, so the pages are searched (an account has at most 250 groups).
        wanted, page = conn.settings["group_id"], 1
        while True:
            got = conn.call("GET", "/api/groups", params={"limit": "100", "page": str(page)})
            for group in got.get("data"):
                if isinstance(group, dict) and str(group.get("id")) == wanted:
                    return group
            last = (got.data.get("meta") or {}).get("last_page")
            if page >= min(last if isinstance(last, int) else page, 10):
                raise Permanent(f"MailerLite has no group with the ID {wanted}: check the "
                                f"group ID.", 404)
            page += 1

    def _field_keys(self, conn: Conn, fresh: bool = False) -> frozenset[str]:
        """The account's field keys, asked at most every FIELDS_TTL seconds per key."""
        which = (conn.base_url, hashlib.sha256(conn.key.encode()).hexdigest())
        known = _fields.get(which)
        if fresh or known is None or known[0] < time.monotonic() - FIELDS_TTL:
            # GET /api/fields (Fields → List all fields): [{"key": "name", …}, …]
            got = conn.call("GET", "/api/fields", params={"limit": "100"})
            known = (time.monotonic(), frozenset(
                str(f.get("key")) for f in got.get("data") if isinstance(f, dict)))
            _fields[which] = known
        return known[1]

    def _tag_groups(self, conn: Conn, tags: tuple[str, ...]) -> list[str]:
        """The ids of the groups named like the tags, each made when missing."""
        ids = []
        for tag in tags:
            # GET /api/groups?filter[name]= (partial matches: the exact name is picked)
            got = conn.call("GET", "/api/groups", params={"filter[name]": tag, "limit": "100"})
            found = next((g.get("id") for g in got.get("data") if isinstance(g, dict)
                          and str(g.get("name", "")).lower() == tag.lower()), None)
            if found is None:
                # POST /api/groups (Groups → Create a group): 201 with the group
                found = conn.call("POST", "/api/groups", {"name": tag}).get("data", "id")
            ids.append(str(found))
        return ids

    def _find(self, conn: Conn, contact: Contact) -> str | None:
        """The subscriber's id there, None when nobody has the address."""
        # GET /api/subscribers/{email} (Subscribers → Fetch a subscriber): 404 if nobody
        got = conn.call("GET", f"/api/subscribers/{quote(contact.email, safe='@')}",
                        ok=(404,))
        return None if got.status == 404 else str(got.get("data", "id"))

    def upsert(self, conn: Conn, contact: Contact) -> None:
        fields = {"name": contact.name} if contact.name else {}
        if LANGUAGE in self._field_keys(conn):
            fields[LANGUAGE] = contact.lang
        groups = [conn.settings["group_id"], *self._tag_groups(conn, contact.tags)]
        # POST /api/subscribers (Subscribers → Create/upsert subscriber): 201 created,
        # 200 updated; fields and groups are only added, never removed by omission; 422
        # for an address it refuses. Status is sent only when they confirmed here just
        # now ("resubscribe": lift an unsubscribe there); else a new subscriber takes the
        # account's default and an unsubscribed one stays so.
        body = {"email": contact.email, "fields": fields, "groups": list(dict.fromkeys(groups))}
        if contact.resubscribe:
            body.update(status="active", resubscribe=True)
        conn.call("POST", "/api/subscribers", body)

    def unsubscribe(self, conn: Conn, contact: Contact) -> None:
        found = self._find(conn, contact)
        if found is not None:  # nobody there: nothing to unsubscribe
            # PUT /api/subscribers/{id} (Subscribers → Update a subscriber), no groups
            # sent so their groups stay
            conn.call("PUT", f"/api/subscribers/{found}", {"status": "unsubscribed"})

    def erase(self, conn: Conn, contact: Contact) -> None:
        found = self._find(conn, contact)
        if found is not None:
            # POST /api/subscribers/{id}/forget (Subscribers → Forget a subscriber): "GDPR
            # compliant", removed now and their data deleted within 30 days
            try:
                conn.call("POST", f"/api/subscribers/{found}/forget")
            except Permanent as exc:
                if exc.status != 404:
                    raise


SERVICE = MailerLite()
