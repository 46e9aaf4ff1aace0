"""Local stand-ins for Kit and listmonk (see fake_services.py for the Fake they build on
and for Mailchimp's), written from their public API references:

- Kit API v4: https://developers.kit.com/api-reference
- listmonk: https://listmonk.app/docs/apis/subscribers/"""
from __future__ import annotations

import base64
import re

from .fake_services import Answer, Fake, need


# --- Kit ---------------------------------------------------------------------------------

class Kit(Fake):
    """An account whose subscribers are one audience, tagged by tag id; a custom field
    "language" exists (others are ignored, as Kit ignores unknown fields)."""
    FIELDS = ("language",)
    UPSERT = ("POST", "/v4/subscribers", "email_address")

    def person(self, email: str) -> dict | None:
        found = self.by_email(email)
        return found and {"status": {"active": "subscribed", "cancelled": "unsubscribed"}.get(
            found["state"], found["state"]), "name": found["first_name"],
            "lang": found["fields"].get("language"), "tags": self.tags_of(email)}

    def __init__(self, key: str):
        super().__init__(key, "kit")
        self.subscribers: dict[int, dict] = {}
        self.tag_ids: dict[str, int] = {}
        self.tagged: set[tuple[int, int]] = set()
        self.route("GET", "/v4/account")(lambda q, b: (200, {
            "user": {"email": "kari@example.com"},
            "account": {"id": 31474, "name": "Kari's Kitchen", "plan_type": "creator"}}))
        self.route("POST", "/v4/subscribers")(self.create)
        self.route("GET", "/v4/subscribers")(self.listed)
        self.route("POST", "/v4/tags")(self.make_tag)
        self.route("POST", r"/v4/tags/(\d+)/subscribers/(\d+)")(self.tag)
        self.route("POST", r"/v4/subscribers/(\d+)/unsubscribe")(self.unsubscribe)

    def authorized(self, headers) -> bool:
        return headers.get("X-Kit-Api-Key") == self.key

    def refusal(self) -> Answer:
        return Answer(401, {"errors": ["The access token is invalid"]})

    def too_many(self):
        return {"errors": ["Too many requests"]}

    def not_found(self):
        return {"errors": ["Not Found"]}

    def by_email(self, email: str) -> dict | None:
        return next((s for s in self.subscribers.values()
                     if s["email_address"].lower() == email.lower()), None)

    def tags_of(self, email: str) -> list[str]:
        found = self.by_email(email)
        return sorted(name for name, tag_id in self.tag_ids.items()
                      if found and (tag_id, found["id"]) in self.tagged)

    def create(self, query, body):
        email = body.get("email_address") if isinstance(body, dict) else None
        if not isinstance(email, str) or "@" not in email or email.lower() in self.rejected:
            raise Answer(422, {"errors": ["Email address is invalid"]})
        fields = {k: v for k, v in (body.get("fields") or {}).items() if k in self.FIELDS}
        found = self.by_email(email)
        if found is not None:  # an upsert: the first name and fields, never the state
            found["first_name"] = body.get("first_name")
            found["fields"].update(fields)
            return 200, {"subscriber": found}
        made = {"id": 1000 + len(self.subscribers), "email_address": email,
                "first_name": body.get("first_name"), "state": body.get("state") or "active",
                "fields": fields, "created_at": "2026-12-07T10:00:00Z"}
        self.subscribers[made["id"]] = made
        return 201, {"subscriber": made}

    def listed(self, query, body):
        status = query.get("status", ["active"])[0]
        email = query.get("email_address", [None])[0]
        found = [s for s in self.subscribers.values()
                 if (email is None or s["email_address"].lower() == email.lower())
                 and (status == "all" or s["state"] == status)]
        return 200, {"subscribers": found, "pagination": {"has_next_page": False}}

    def make_tag(self, query, body):
        name = body.get("name") if isinstance(body, dict) else None
        need(isinstance(name, str) and name != "", "name is required", 422)
        if name in self.tag_ids:
            return 200, {"tag": {"id": self.tag_ids[name], "name": name}}
        self.tag_ids[name] = 500 + len(self.tag_ids)
        return 201, {"tag": {"id": self.tag_ids[name], "name": name}}

    def tag(self, query, body, tag_id, subscriber_id):
        tag_id, subscriber_id = int(tag_id), int(subscriber_id)
        if tag_id not in self.tag_ids.values() or subscriber_id not in self.subscribers:
            raise Answer(404, self.not_found())
        had = (tag_id, subscriber_id) in self.tagged
        self.tagged.add((tag_id, subscriber_id))
        return (200 if had else 201), {"subscriber": self.subscribers[subscriber_id]}

    def unsubscribe(self, query, body, subscriber_id):
        found = self.subscribers.get(int(subscriber_id))
        if found is None:
            raise Answer(404, self.not_found())
        found["state"] = "cancelled"
        return 204, None


# --- listmonk ----------------------------------------------------------------------------

class Listmonk(Fake):
    """An instance with lists 1 ("Newsletter", ours) and 2 (another), an API user
    "widgets"; subscribers with subscriptions (list id → status)."""
    USER = "widgets"

    def upserted(self) -> list[str]:
        return [s.body["email"] for s in self.seen if s.method in ("POST", "PUT")
                and re.fullmatch(r"/api/subscribers(/\d+)?", s.path) and s.status == 200]

    def person(self, email: str) -> dict | None:
        found = self.by_email(email)
        return found and {"status": {"confirmed": "subscribed"}.get(
            found["subs"].get(1), found["subs"].get(1)), "name": found["name"],
            "lang": found["attribs"].get("language"),
            "tags": sorted(found["attribs"].get("tags", []))}
    QUERY = re.compile(r"LOWER\(subscribers\.email\) = '((?:[^']|'')*)'")

    def __init__(self, key: str):
        super().__init__(key, "listmonk")
        self.subscribers: dict[int, dict] = {}
        self.route("GET", r"/api/lists/(\d+)")(self.get_list)
        self.route("GET", "/api/subscribers")(self.query)
        self.route("POST", "/api/subscribers")(self.create)
        self.route("PUT", "/api/subscribers/lists")(self.lists)
        self.route("PUT", r"/api/subscribers/(\d+)")(self.update)
        self.route("DELETE", r"/api/subscribers/(\d+)")(self.delete)

    def authorized(self, headers) -> bool:
        value = headers.get("Authorization", "")
        pair = f"{self.USER}:{self.key}"
        return (value == f"token {pair}" or value == "Basic " + base64.b64encode(
            pair.encode()).decode())

    def refusal(self) -> Answer:
        return Answer(403, {"message": "invalid API credentials"})

    def by_email(self, email: str) -> dict | None:
        return next((s for s in self.subscribers.values() if s["email"] == email.lower()),
                    None)

    def shown(self, sub: dict) -> dict:
        return {**{k: v for k, v in sub.items() if k != "subs"},
                "lists": [{"id": i, "subscription_status": s} for i, s in sub["subs"].items()]}

    def get_list(self, query, body, list_id):
        if int(list_id) not in (1, 2):
            raise Answer(404, {"message": "List not found"})
        count = sum(int(list_id) in s["subs"] for s in self.subscribers.values())
        return 200, {"data": {"id": int(list_id), "name": "Newsletter" if list_id == "1"
                              else "Other", "subscriber_count": count}}

    def query(self, query, body):
        match = self.QUERY.fullmatch(query.get("query", [""])[0])
        need(match is not None, "invalid query expression")
        found = self.by_email(match.group(1).replace("''", "'"))
        results = [self.shown(found)] if found else []
        return 200, {"data": {"results": results, "total": len(results), "page": 1}}

    def _checked(self, body) -> dict:
        need(isinstance(body, dict), "invalid body")
        email = body.get("email")
        need(isinstance(email, str) and "@" in email and email.lower() not in self.rejected,
             "invalid email")
        need(isinstance(body.get("name"), str) and body["name"].strip() != "", "invalid name")
        need(body.get("status") in ("enabled", "disabled", "blocklisted"), "invalid status")
        need(isinstance(body.get("lists", []), list) and all(
            isinstance(i, int) and i in (1, 2) for i in body.get("lists", [])), "invalid lists")
        need(isinstance(body.get("attribs", {}), dict), "invalid attribs")
        return body

    def create(self, query, body):
        body = self._checked(body)
        if self.by_email(body["email"]):
            raise Answer(409, {"message": "E-mail already exists."})
        status = "confirmed" if body.get("preconfirm_subscriptions") else "unconfirmed"
        made = {"id": len(self.subscribers) + 1, "email": body["email"].lower(),
                "name": body["name"], "status": body["status"],
                "attribs": body.get("attribs", {}),
                "subs": {i: status for i in body.get("lists", [])}}
        self.subscribers[made["id"]] = made
        return 200, {"data": self.shown(made)}

    def _get(self, subscriber_id) -> dict:
        if int(subscriber_id) not in self.subscribers:
            raise Answer(404, {"message": "Subscriber not found"})
        return self.subscribers[int(subscriber_id)]

    def update(self, query, body, subscriber_id):
        sub, body = self._get(subscriber_id), self._checked(body)
        status = "confirmed" if body.get("preconfirm_subscriptions") else "unconfirmed"
        # every list not named is left; those kept keep their subscription status
        sub["subs"] = {i: sub["subs"].get(i, status) for i in body.get("lists", [])}
        sub.update(email=body["email"].lower(), name=body["name"], status=body["status"],
                   attribs=body.get("attribs", {}))
        return 200, {"data": self.shown(sub)}

    def lists(self, query, body):
        need(isinstance(body, dict) and body.get("action") in ("add", "remove", "unsubscribe"),
             "invalid action")
        need(body["action"] != "add" or body.get("status") in (
            "confirmed", "unconfirmed", "unsubscribed"), "invalid status")
        for subscriber_id in body.get("ids") or []:
            sub = self._get(subscriber_id)
            for list_id in body.get("target_list_ids") or []:
                if body["action"] == "add":
                    sub["subs"][list_id] = body["status"]
                elif body["action"] == "remove":
                    sub["subs"].pop(list_id, None)
                elif list_id in sub["subs"]:
                    sub["subs"][list_id] = "unsubscribed"
        return 200, {"data": True}

    def delete(self, query, body, subscriber_id):
        self.subscribers.pop(int(subscriber_id), None)
        return 200, {"data": True}
