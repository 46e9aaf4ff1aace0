"""Mailchimp, through its Marketing API 3.0 (https://mailchimp.com/developer/marketing/api/).

A member of an audience (list) is addressed by the MD5 of the lower-cased address, so
one PUT adds or updates them; tags are a second call. The data centre is the key's
suffix ("…-us21" → https://us21.api.mailchimp.com); auth is HTTP Basic with any user
name and the key as the password."""
from __future__ import annotations

import base64
import hashlib
import re

from flask_babel import format_number, gettext, lazy_gettext

from widget.sync.connectors.base import Answer, Conn, Contact, Field, Invalid, Permanent, Service

KEY = re.compile(r"^[0-9A-Za-z]{8,64}-([a-z]{2,4}\d{1,3})$")
# Mailchimp's language codes where they differ from ours (Norwegian Bokmål is "no").
LANGUAGES = {"nb": "no"}


def member_hash(email: str) -> str:
    """The subscriber_hash Mailchimp names a member by: MD5 of the lower-cased address."""
    return hashlib.md5(email.strip().lower().encode()).hexdigest()  # noqa: S324 (their id)


class Mailchimp(Service):
    name = "mailchimp"
    label = "Mailchimp"
    docs = "https://mailchimp.com/developer/marketing/api/list-members/"
    fields = (
        Field("api_key", lazy_gettext("API key"),
              lazy_gettext("Mailchimp → Profile → Extras → API keys. It ends in your data "
                           "centre, like -us21.")),
        Field("list_id", lazy_gettext("Audience ID"), lazy_gettext(
            "Audience → Settings → Audience name and defaults → Audience ID.")),
    )

    def clean(self, key: str, settings: dict) -> dict:
        cleaned = super().clean(key, settings)
        if key.strip() and not KEY.match(key.strip()):
            raise Invalid("api_key", gettext("A Mailchimp API key ends in its data centre, "
                                             "like …-us21: copy the whole key."))
        return cleaned

    def base_url(self, key: str, settings: dict) -> str:
        if settings.get("base_url"):
            return settings["base_url"].rstrip("/")
        match = KEY.match(key.strip())
        # A key clean() let through always matches; "us1" keeps a broken one harmless.
        return f"https://{match.group(1) if match else 'us1'}.api.mailchimp.com"

    def auth_headers(self, conn: Conn) -> dict:
        # "Authenticate with HTTP Basic: any string as the user name, the key as the
        # password" (Marketing API, Authentication).
        token = base64.b64encode(f"widgets:{conn.key}".encode()).decode()
        return {"Authorization": f"Basic {token}"}

    def message(self, answer: Answer) -> str | None:
        data = answer.data
        if isinstance(data, dict):  # problem details: {"title", "status", "detail"}
            parts = [data.get("title"), data.get("detail")]
            words = ": ".join(p for p in parts if isinstance(p, str) and p)
            return words or None
        return None

    def _member(self, conn: Conn, contact: Contact) -> str:
        return f"/3.0/lists/{conn.settings['list_id']}/members/{member_hash(contact.email)}"

    def test(self, conn: Conn) -> str:
        # GET /3.0/lists/{list_id} (Lists/Audiences → Get list info)
        got = conn.call("GET", f"/3.0/lists/{conn.settings['list_id']}",
                        params={"fields": "id,name,stats.member_count"})
        data = got.data if isinstance(got.data, dict) else {}
        count = (data.get("stats") or {}).get("member_count")
        name = data.get("name", "?")
        if isinstance(count, int):
            return gettext("Connected to the Mailchimp audience “%(name)s” (%(n)s subscribed).",
                           name=name, n=format_number(count))
        return gettext("Connected to the Mailchimp audience “%(name)s”.", name=name)

    def upsert(self, conn: Conn, contact: Contact) -> None:
        # PUT /3.0/lists/{list_id}/members/{subscriber_hash} (List members → Add or
        # update list member): status_if_new applies to a new member only; "status"
        # also changes an existing one, so it is sent only when they confirmed here just
        # now (someone who unsubscribed in Mailchimp stays so on a mere update).
        body = {"email_address": contact.email, "status_if_new": "subscribed",
                "language": LANGUAGES.get(contact.lang, contact.lang)}
        if contact.resubscribe:
            body["status"] = "subscribed"
        if contact.name:
            body["merge_fields"] = {"FNAME": contact.name}
        conn.call("PUT", self._member(conn, contact), body)
        if contact.tags:
            # POST …/members/{subscriber_hash}/tags (List member tags → Add or remove
            # member tags): 204; a tag that does not exist yet is created.
            conn.call("POST", self._member(conn, contact) + "/tags",
                      {"tags": [{"name": tag, "status": "active"} for tag in contact.tags]})

    def unsubscribe(self, conn: Conn, contact: Contact) -> None:
        # PATCH …/members/{subscriber_hash} (List members → Update list member)
        try:
            conn.call("PATCH", self._member(conn, contact), {"status": "unsubscribed"})
        except Permanent as exc:
            if exc.status != 404:  # not a member there: nothing to unsubscribe
                raise

    def erase(self, conn: Conn, contact: Contact) -> None:
        # POST …/members/{subscriber_hash}/actions/delete-permanent (List members →
        # Delete list member permanently): 204, and the address cannot be re-imported.
        try:
            conn.call("POST", self._member(conn, contact) + "/actions/delete-permanent")
        except Permanent as exc:
            if exc.status != 404:
                raise


SERVICE = Mailchimp()
