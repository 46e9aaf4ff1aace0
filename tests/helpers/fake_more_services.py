"""Local stand-ins for MailerLite, Brevo and Buttondown (see fake_services.py for the Fake
they build on), written from their public API references: the paths, auth header,
bodies and status codes the connectors rely on, strict about what they accept.

- MailerLite: https://developers.mailerlite.com/docs/subscribers.html (and groups, fields)
- Brevo: https://developers.brevo.com/reference/create-contact (update, delete, lists,
  attributes; 429 with x-sib-ratelimit-reset: https://developers.brevo.com/docs/limit-headers)
- Buttondown: https://docs.buttondown.com/api-subscribers-create (update, delete,
  newsletters; the daily creation cap's 400 "rate_limited": /api-rate-limits)"""
from __future__ import annotations

import itertools
import time
from urllib.parse import unquote

from .fake_services import Answer, Fake, need


def _invalid(field: str, message: str) -> Answer:
    """Laravel's 422, as MailerLite answers a body it refuses."""
    return Answer(422, {"message": message, "errors": {field: [message]}})


# --- MailerLite --------------------------------------------------------------------------

class MailerLite(Fake):
    """An account with groups ("Blog readers", ours, and "Customers"), its default fields
    and a custom field "language"; subscribers with a status and their groups."""
    GROUP_ID = "165971156405323676"
    STATUSES = ("active", "unsubscribed", "unconfirmed", "bounced", "junk")
    UPSERT = ("POST", "/api/subscribers", "email")

    def person(self, email: str) -> dict | None:
        found = self.by_email(email)
        return found and {"status": {"active": "subscribed"}.get(
            found["status"], found["status"]), "name": found["fields"].get("name"),
            "lang": found["fields"].get("language"), "tags": sorted(
                self.groups[g]["name"] for g in found["groups"] if g != self.GROUP_ID)}

    def __init__(self, key: str):
        super().__init__(key, "mailerlite")
        self.groups = {g["id"]: g for g in ({"id": self.GROUP_ID, "name": "Blog readers"},
                                            {"id": "100093655191127682", "name": "Customers"})}
        self.field_keys = ["city", "company", "country", "last_name", "name", "phone",
                           "state", "z_i_p", "language"]
        self.subscribers: dict[str, dict] = {}
        self.ids = itertools.count(31897397363737859)
        self.route("GET", "/api/groups")(self.list_groups)
        self.route("POST", "/api/groups")(self.make_group)
        self.route("GET", "/api/fields")(lambda q, b: (200, {"data": [
            {"id": str(i), "name": k.title(), "key": k, "type": "text"}
            for i, k in enumerate(self.field_keys, 1)]}))
        self.route("POST", "/api/subscribers")(self.upsert)
        self.route("GET", "/api/subscribers/([^/]+)")(
            lambda q, b, who: (200, {"data": self.shown(self._get(who))}))
        self.route("PUT", r"/api/subscribers/(\d+)")(self.update)
        self.route("POST", r"/api/subscribers/(\d+)/forget")(self.forget)

    def left_there(self, email: str) -> None:
        """Someone who unsubscribed through MailerLite's own link."""
        made = str(next(self.ids))
        self.subscribers[made] = {"id": made, "email": email, "status": "unsubscribed",
                                  "fields": {}, "groups": [self.GROUP_ID]}

    def authorized(self, headers) -> bool:
        return headers.get("Authorization") == f"Bearer {self.key}"

    def refusal(self) -> Answer:
        return Answer(401, {"message": "Unauthenticated."})  # Getting started → Authentication

    def too_many(self):
        return {"message": "Too Many Attempts."}

    def not_found(self):
        return {"message": "No query results for model [App\\Models\\Subscriber\\Subscriber]."}

    def by_email(self, email: str) -> dict | None:
        return next((s for s in self.subscribers.values()
                     if s["email"].lower() == email.lower()), None)

    def shown_group(self, group: dict) -> dict:
        active = sum(group["id"] in s["groups"] and s["status"] == "active"
                     for s in self.subscribers.values())
        return {**group, "active_count": active}

    def list_groups(self, query, body):
        name = query.get("filter[name]", [""])[0].lower()
        limit, page = int(query.get("limit", ["25"])[0]), int(query.get("page", ["1"])[0])
        found = [self.shown_group(g) for g in self.groups.values() if name in g["name"].lower()]
        last = max(1, -(-len(found) // limit))
        return 200, {"data": found[(page - 1) * limit:page * limit],
                     "meta": {"current_page": page, "last_page": last}}

    def make_group(self, query, body):
        name = body.get("name") if isinstance(body, dict) else None
        if not isinstance(name, str) or not 0 < len(name) <= 255:
            raise _invalid("name", "The name field is required.")
        if any(g["name"].lower() == name.lower() for g in self.groups.values()):
            raise _invalid("name", "The name has already been taken.")
        made = {"id": str(next(self.ids)), "name": name}
        self.groups[made["id"]] = made
        return 201, {"data": self.shown_group(made)}

    def shown(self, sub: dict) -> dict:
        return {**sub, "groups": [self.shown_group(self.groups[g]) for g in sub["groups"]]}

    def _checked(self, body: dict) -> None:
        fields = body.get("fields", {})
        if not isinstance(fields, dict) or any(k not in self.field_keys for k in fields):
            raise _invalid("fields", "The fields must correspond to existing field keys.")
        groups = body.get("groups", [])
        if not isinstance(groups, list) or any(g not in self.groups for g in groups):
            raise _invalid("groups", "The selected groups is invalid.")
        if "status" in body and body["status"] not in self.STATUSES:
            raise _invalid("status", "The selected status is invalid.")

    def upsert(self, query, body):
        email = body.get("email") if isinstance(body, dict) else None
        if not isinstance(email, str) or "@" not in email or email.lower() in self.rejected:
            raise _invalid("email", "The email must be a valid email address.")
        self._checked(body)
        found, status = self.by_email(email), 200
        if found is None:
            status, made = 201, str(next(self.ids))
            found = self.subscribers[made] = {"id": made, "email": email, "status": "active",
                                              "fields": {}, "groups": []}
        wanted = body.get("status")
        # an unsubscribed, bounced or junk one is reactivated only with "resubscribe"
        if wanted and (found["status"] not in ("unsubscribed", "bounced", "junk")
                       or wanted != "active" or body.get("resubscribe") is True):
            found["status"] = wanted
        found["fields"].update(body.get("fields", {}))
        found["groups"] += [g for g in body.get("groups", []) if g not in found["groups"]]
        return status, {"data": self.shown(found)}

    def _get(self, id_or_email: str) -> dict:
        id_or_email = unquote(id_or_email)
        found = self.subscribers.get(id_or_email) or self.by_email(id_or_email)
        if found is None:
            raise Answer(404, self.not_found())
        return found

    def update(self, query, body, subscriber_id):
        found = self._get(subscriber_id)
        need(isinstance(body, dict), "invalid body", 422)
        self._checked(body)
        if body.get("status"):
            found["status"] = body["status"]
        found["fields"].update(body.get("fields", {}))
        if "groups" in body:  # "Subscriber will be removed from unlisted groups"
            found["groups"] = list(body["groups"])
        return 200, {"data": self.shown(found)}

    def forget(self, query, body, subscriber_id):
        found = self.subscribers.pop(self._get(subscriber_id)["id"])
        return 200, {"message": "Subscriber data will be completely deleted and forgotten "
                                "within 30 days.", "data": self.shown(found)}


# --- Brevo -------------------------------------------------------------------------------

class Brevo(Fake):
    """An account with lists 7 ("Newsletter", ours) and 8, the standard attributes and
    the custom text attributes LANGUAGE and TAGS; contacts with their lists and whether
    they are blocklisted for e-mail."""
    LIST_ID = 7
    UPSERT = ("POST", "/v3/contacts", "email")

    def person(self, email: str) -> dict | None:
        found = self.by_email(email)
        return found and {"status": "subscribed" if self.LIST_ID in found["lists"]
                          and not found["blacklisted"] else "unsubscribed",
                          "name": found["attributes"].get("FIRSTNAME"),
                          "lang": found["attributes"].get("LANGUAGE"), "tags": sorted(
                              t for t in found["attributes"].get("TAGS", "").split(",") if t)}

    def __init__(self, key: str):
        super().__init__(key, "brevo")
        self.lists = {7: "Newsletter", 8: "Customers"}
        self.attributes = ["EMAIL", "FIRSTNAME", "LASTNAME", "SMS", "LANGUAGE", "TAGS"]
        self.contacts: dict[int, dict] = {}
        self.ids = itertools.count(21)
        self.route("GET", r"/v3/contacts/lists/(\d+)")(self.get_list)
        self.route("GET", "/v3/contacts/attributes")(lambda q, b: (200, {"attributes": [
            {"name": a, "category": "normal", "type": "text"} for a in self.attributes]}))
        self.route("POST", "/v3/contacts")(self.create)
        self.route("PUT", "/v3/contacts/([^/]+)")(self.update)
        self.route("DELETE", "/v3/contacts/([^/]+)")(self.delete)

    def handle(self, method, path, query, body, headers) -> Answer:
        answer = super().handle(method, path, query, body, headers)
        if answer.status == 429:  # Brevo names the wait in its own header, not Retry-After
            answer.headers = {"x-sib-ratelimit-limit": "10", "x-sib-ratelimit-remaining": "0",
                              "x-sib-ratelimit-reset": str(self.retry_after)}
        return answer

    def left_there(self, email: str) -> None:
        """Someone who unsubscribed through Brevo's own link (blocklisted for e-mail)."""
        made = next(self.ids)
        self.contacts[made] = {"id": made, "email": email, "attributes": {},
                               "lists": {self.LIST_ID}, "blacklisted": True}

    def authorized(self, headers) -> bool:
        return headers.get("api-key") == self.key

    def refusal(self) -> Answer:
        return Answer(401, {"code": "unauthorized", "message": "Key not found"})

    def too_many(self):
        return {"code": "too_many_requests", "message": "The expected rate limit is exceeded."}

    def not_found(self):
        return {"code": "document_not_found", "message": "Contact does not exist"}

    def by_email(self, email: str) -> dict | None:
        return next((c for c in self.contacts.values()
                     if c["email"].lower() == email.lower()), None)

    def get_list(self, query, body, list_id):
        if int(list_id) not in self.lists:
            raise Answer(404, {"code": "document_not_found", "message": "List ID does not exist"})
        members = [c for c in self.contacts.values() if int(list_id) in c["lists"]]
        return 200, {"id": int(list_id), "name": self.lists[int(list_id)], "folderId": 1,
                     "totalSubscribers": sum(not c["blacklisted"] for c in members),
                     "totalBlacklisted": sum(c["blacklisted"] for c in members),
                     "uniqueSubscribers": len(members)}

    def _checked(self, body) -> dict:
        need(isinstance(body, dict), "Input must be a JSON object")
        attributes = body.get("attributes", {})
        need(isinstance(attributes, dict), "attributes should be an object")
        for name in attributes:
            need(name in self.attributes, f"Attribute {name} does not exist")
        for key in ("listIds", "unlinkListIds"):
            ids = body.get(key, [])
            need(isinstance(ids, list) and all(isinstance(i, int) for i in ids),
                 f"{key} should be an array of integers")
            if any(i not in self.lists for i in ids):
                raise Answer(404, {"code": "document_not_found",
                                   "message": "List ID does not exist"})
        for key in ("updateEnabled", "emailBlacklisted"):
            need(isinstance(body.get(key, False), bool), f"{key} should be a boolean")
        return body

    def _apply(self, found: dict, body: dict) -> None:
        found["attributes"].update(body.get("attributes", {}))
        found["lists"] |= set(body.get("listIds", []))
        found["lists"] -= set(body.get("unlinkListIds", []))
        if "emailBlacklisted" in body:
            found["blacklisted"] = body["emailBlacklisted"]

    def create(self, query, body):
        body = self._checked(body)
        email = body.get("email")
        if not isinstance(email, str) or "@" not in email or email.lower() in self.rejected:
            raise Answer(400, {"code": "invalid_parameter", "message": "Invalid email address"})
        found = self.by_email(email)
        if found is not None:
            if not body.get("updateEnabled"):
                raise Answer(400, {"code": "duplicate_parameter",
                                   "message": "Contact already exist"})
            self._apply(found, body)
            return 204, None
        made = {"id": next(self.ids), "email": email, "attributes": {},
                "lists": set(), "blacklisted": False}
        self._apply(made, body)
        self.contacts[made["id"]] = made
        return 201, {"id": made["id"]}

    def _get(self, identifier: str) -> dict:
        identifier = unquote(identifier)
        found = (self.contacts.get(int(identifier)) if identifier.isdigit()
                 else self.by_email(identifier))
        if found is None:
            raise Answer(404, self.not_found())
        return found

    def update(self, query, body, identifier):
        self._apply(self._get(identifier), self._checked(body))
        return 204, None

    def delete(self, query, body, identifier):
        del self.contacts[self._get(identifier)["id"]]
        return 204, None


# --- Buttondown --------------------------------------------------------------------------

class Buttondown(Fake):
    """One newsletter; subscribers with a type, metadata and tags (by name). The daily
    cap on creating subscribers is off until `cap` sets it."""
    SETTABLE = ("regular", "unsubscribed", "gifted", "unpaid")  # "only types that can be set"
    CREATE = {"email_address", "notes", "metadata", "tags", "referrer_url", "utm_campaign",
              "utm_medium", "utm_source", "referring_subscriber_id", "type", "ip_address"}
    UPDATE = {"email_address", "notes", "metadata", "tags", "referrer_url", "type",
              "unsubscription_reason", "commenting_disabled"}
    UPSERT = ("POST", "/v1/subscribers", "email_address")

    def upserted(self) -> list[str]:
        """Addresses created (POST) or updated with metadata (PATCH), in order."""
        return [s.body["email_address"] if s.method == "POST" else unquote(s.path.rsplit(
            "/", 1)[1]) for s in self.seen if 200 <= s.status < 300 and (
            (s.method == "POST" and s.path == "/v1/subscribers")
            or (s.method == "PATCH" and "metadata" in (s.body or {})))]

    def person(self, email: str) -> dict | None:
        found = self.by_email(email)
        return found and {"status": {"regular": "subscribed"}.get(found["type"], found["type"]),
                          "name": found["metadata"].get("name"),
                          "lang": found["metadata"].get("language"),
                          "tags": sorted(found["tags"])}

    def __init__(self, key: str):
        super().__init__(key, "buttondown")
        self.subscribers: dict[str, dict] = {}
        self.ids = itertools.count(1)
        self.left: int | None = None  # creations left today; None: no cap
        self.resets_at = 0.0
        self.route("GET", "/v1/newsletters")(lambda q, b: (200, {"results": [{
            "id": "nl_4f1c", "username": "karis-kitchen", "name": "Kari's Kitchen"}],
            "count": 1, "next": None, "previous": None}))
        self.route("POST", "/v1/subscribers")(self.create)
        self.route("GET", "/v1/subscribers/([^/]+)")(lambda q, b, who: (200, self._get(who)))
        self.route("PATCH", "/v1/subscribers/([^/]+)")(self.update)
        self.route("DELETE", "/v1/subscribers/([^/]+)")(self.delete)

    def cap(self, creations: int, resets_in: int) -> None:
        """Allow `creations` more today; the cap lifts `resets_in` seconds from now."""
        self.left, self.resets_at = creations, time.time() + resets_in

    def _add(self, email: str, type_: str, metadata: dict | None = None, tags=()) -> dict:
        made = f"sub_{next(self.ids):04}"
        self.subscribers[made] = {"id": made, "email_address": email, "type": type_,
                                  "metadata": metadata or {}, "tags": list(tags)}
        return self.subscribers[made]

    def left_there(self, email: str) -> None:
        """Someone who unsubscribed through Buttondown's own link."""
        self._add(email, "unsubscribed")

    def paying(self, email: str) -> None:
        """A paying (premium) subscriber."""
        self._add(email, "premium")

    def authorized(self, headers) -> bool:
        return headers.get("Authorization") == f"Token {self.key}"

    def refusal(self) -> Answer:
        return Answer(401, {"detail": "Invalid token."})

    def too_many(self):
        return {"code": "rate_limited", "detail": "Request was throttled."}

    def not_found(self):
        return {"code": "not_found", "detail": "Not found."}

    def by_email(self, email: str) -> dict | None:
        return next((s for s in self.subscribers.values()
                     if s["email_address"].lower() == email.lower()), None)

    def _get(self, id_or_email: str) -> dict:
        id_or_email = unquote(id_or_email)
        found = self.subscribers.get(id_or_email) or self.by_email(id_or_email)
        if found is None:
            raise Answer(404, self.not_found())
        return found

    def _checked(self, body, allowed: set) -> dict:
        if not isinstance(body, dict) or set(body) - allowed:
            extra = sorted(set(body) - allowed) if isinstance(body, dict) else ["body"]
            raise Answer(422, {"detail": [{"type": "extra_forbidden", "loc": ["body", e],
                                           "msg": "Extra inputs are not permitted"}
                                          for e in extra]})
        need(isinstance(body.get("metadata", {}), dict), "metadata must be an object")
        need(isinstance(body.get("tags", []), list) and all(
            isinstance(t, str) and t for t in body.get("tags", [])), "tags must be names")
        if "type" in body and body["type"] not in self.SETTABLE:
            raise Answer(400, {"code": "subscriber_type_invalid",
                               "detail": f"The type {body['type']} cannot be set."})
        return body

    def create(self, query, body):
        body = self._checked(body, self.CREATE)
        email = body.get("email_address")
        if not isinstance(email, str) or "@" not in email or email.lower() in self.rejected:
            raise Answer(400, {"code": "email_invalid",
                               "detail": "The email address provided is not valid."})
        if self.by_email(email):
            raise Answer(400, {"code": "email_already_exists",
                               "detail": f"That email address ({email}) is already subscribed."})
        if self.left is not None and time.time() < self.resets_at:
            if self.left <= 0:
                raise Answer(400, {"code": "rate_limited", "detail": "You have created too "
                                   "many subscribers today: use POST /v1/imports instead."},
                             {"X-RateLimit-Reset": str(int(self.resets_at + 0.999))})
            self.left -= 1
        return 201, self._add(email, body.get("type") or "unactivated", body.get("metadata"),
                              body.get("tags", []))

    def update(self, query, body, id_or_email):
        found, body = self._get(id_or_email), self._checked(body, self.UPDATE)
        for name in ("metadata", "tags", "type"):  # each replaced whole
            if name in body:
                found[name] = body[name]
        return 200, found

    def delete(self, query, body, id_or_email):
        del self.subscribers[self._get(id_or_email)["id"]]
        return 204, None
