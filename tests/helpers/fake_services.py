"""Local stand-ins for the e-mail services the connectors call, each a threaded HTTP
server on 127.0.0.1 written from that service's public API reference (the paths, the
auth header, the bodies and the status codes the connectors rely on), holding its
members in memory. On demand they answer 429 with Retry-After (`throttle`) or refuse
an address as invalid (`reject`), and every request is logged with its time.

Here: the Fake every stand-in builds on, its server, and Mailchimp (Marketing API 3.0:
https://mailchimp.com/developer/marketing/api/); Kit and listmonk are in
fake_kit_listmonk.py, and each further service's stand-in in a file of its own."""
from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
import time
from dataclasses import dataclass, field
from typing import ClassVar
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


class Answer(Exception):
    """Raised by a route to answer with `status` and a JSON body."""

    def __init__(self, status: int, body=None, headers: dict | None = None):
        super().__init__(status)
        self.status, self.body, self.headers = status, body, headers or {}


@dataclass
class Seen:
    at: float  # time.monotonic()
    method: str
    path: str
    body: object
    status: int = 0


@dataclass
class Fake:
    """One service: its routes (method, path pattern, handler) and its state."""
    key: str
    name: str = ""
    routes: list = field(default_factory=list)
    seen: list[Seen] = field(default_factory=list)
    rejected: set = field(default_factory=set)
    throttled: int = 0
    retry_after: int = 1
    lock: threading.Lock = field(default_factory=threading.Lock)

    def throttle(self, times: int = 1, after: int = 1) -> None:
        """Answer the next `times` requests 429 with Retry-After: `after`."""
        self.throttled, self.retry_after = times, after

    def reject(self, email: str) -> None:
        """Refuse this address as invalid from now on."""
        self.rejected.add(email.lower())

    def route(self, method: str, pattern: str):
        def add(handler):
            self.routes.append((method, re.compile(pattern + "$"), handler))
            return handler
        return add

    def authorized(self, headers) -> bool:
        raise NotImplementedError

    def refusal(self) -> Answer:
        raise NotImplementedError

    def handle(self, method: str, path: str, query: dict, body, headers) -> Answer:
        with self.lock:
            if self.throttled:
                self.throttled -= 1
                return Answer(429, self.too_many(), {"Retry-After": str(self.retry_after)})
            if not self.authorized(headers):
                return self.refusal()
            for want, pattern, handler in self.routes:
                match = pattern.match(path)
                if match and want == method:
                    try:
                        return Answer(*handler(query, body, *match.groups()))
                    except Answer as answer:
                        return answer
            return Answer(404, self.not_found())

    def too_many(self):
        return {"message": "Too many requests"}

    def not_found(self):
        return {"message": "Not found"}

    def person(self, email: str) -> dict | None:
        """The address as the service holds it, in common words: status (subscribed,
        unsubscribed), name, lang and tags; None when it holds nobody of that address."""
        raise NotImplementedError

    # The add-or-update request: method, path pattern, the body's address field (a class
    # attribute, no dataclass field: each service sets its own).
    UPSERT: ClassVar[tuple[str, str, str]] = ("", "", "")

    def upserted(self) -> list[str]:
        """The addresses of the add-or-update requests it accepted, in order."""
        method, pattern, key = self.UPSERT
        return [s.body[key] for s in self.seen if s.method == method
                and re.fullmatch(pattern, s.path) and 200 <= s.status < 300]


def need(condition: bool, message: str, status: int = 400):
    if not condition:
        raise Answer(status, {"message": message})


class Server:
    """A fake on a real socket: `url`, `fake`, close()."""

    def __init__(self, fake: Fake):
        self.fake = fake
        served = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive: every answer has a Content-Length
            disable_nagle_algorithm = True  # the body is not held back behind the headers

            def log_message(self, *args):
                pass

            def _any(self):
                parts = urlsplit(self.path)
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                try:
                    body = json.loads(raw) if raw else None
                except ValueError:
                    body = "<not JSON>"
                if raw and not self.headers.get("Content-Type", "").startswith(
                        "application/json"):
                    body = "<not JSON>"
                seen = Seen(time.monotonic(), self.command, parts.path, body)
                served.fake.seen.append(seen)
                if body == "<not JSON>":
                    answer = Answer(400, {"message": "the body is not JSON"})
                else:
                    answer = served.fake.handle(self.command, parts.path, parse_qs(parts.query),
                                                body, self.headers)
                seen.status = answer.status
                data = b"" if answer.body is None else json.dumps(answer.body).encode()
                self.send_response(answer.status)
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                if data:
                    self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _any

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


# --- Mailchimp ---------------------------------------------------------------------------

class Mailchimp(Fake):
    """An account with one audience, LIST_ID; members by MD5 of the lower-cased address."""
    LIST_ID = "a1b2c3d4e5"
    STATUSES = ("subscribed", "unsubscribed", "cleaned", "pending", "transactional")
    UPSERT = ("PUT", rf"/3\.0/lists/{LIST_ID}/members/[0-9a-f]{{32}}", "email_address")

    def person(self, email: str) -> dict | None:
        found = self.members.get(hashlib.md5(email.lower().encode()).hexdigest())
        return found and {"status": found["status"], "name": found["merge_fields"].get(
            "FNAME"), "lang": found["language"], "tags": sorted(found["tags"])}

    def __init__(self, key: str):
        super().__init__(key, "mailchimp")
        self.members: dict[str, dict] = {}  # by subscriber_hash
        member = rf"/3\.0/lists/{self.LIST_ID}/members/([0-9a-f]{{32}})"
        self.route("GET", r"/3\.0/lists/([^/]+)")(self.get_list)
        self.route("PUT", member)(self.put_member)
        self.route("PATCH", member)(self.patch_member)
        self.route("POST", member + "/tags")(self.tags)
        self.route("POST", member + "/actions/delete-permanent")(self.delete)

    def authorized(self, headers) -> bool:
        # HTTP Basic, any user name, the key as the password
        value = headers.get("Authorization", "")
        if not value.startswith("Basic "):
            return False
        return base64.b64decode(value[6:]).decode().partition(":")[2] == self.key

    def refusal(self) -> Answer:
        return Answer(401, self.problem(401, "API Key Invalid",
                                        "Your API key may be invalid, or you've attempted "
                                        "to access the wrong datacenter."))

    @staticmethod
    def problem(status: int, title: str, detail: str) -> dict:
        return {"type": "https://mailchimp.com/developer/marketing/docs/errors/",
                "title": title, "status": status, "detail": detail, "instance": ""}

    def too_many(self):
        return self.problem(429, "Too Many Requests", "You have exceeded the limit of 10 "
                                                      "simultaneous connections.")

    def not_found(self):
        return self.problem(404, "Resource Not Found",
                            "The requested resource could not be found.")

    def get_list(self, query, body, list_id):
        if list_id != self.LIST_ID:
            raise Answer(404, self.not_found())
        count = sum(m["status"] == "subscribed" for m in self.members.values())
        return 200, {"id": list_id, "name": "Blog readers", "stats": {"member_count": count}}

    def put_member(self, query, body, digest):
        email = body.get("email_address") if isinstance(body, dict) else None
        if not isinstance(email, str) or hashlib.md5(email.lower().encode()).hexdigest() != digest:
            raise Answer(400, self.problem(400, "Invalid Resource",
                                           "The email_address does not match the hash."))
        if email.lower() in self.rejected:
            raise Answer(400, self.problem(400, "Invalid Resource",
                                           f"{email} looks fake or invalid, please enter a "
                                           f"real email address."))
        member = self.members.get(digest)
        for name in ("status", "status_if_new"):
            if name in body and body[name] not in self.STATUSES:
                raise Answer(400, self.problem(400, "Invalid Resource", f"bad {name}"))
        if member is None:
            if "status_if_new" not in body and "status" not in body:
                raise Answer(400, self.problem(400, "Invalid Resource",
                                               "status_if_new is required for a new member"))
            member = self.members[digest] = {"id": digest, "email_address": email,
                                              "status": body.get("status_if_new",
                                                                 body.get("status")),
                                              "merge_fields": {}, "tags": [], "language": ""}
        elif "status" in body:
            member["status"] = body["status"]
        member["merge_fields"].update(body.get("merge_fields") or {})
        member["language"] = body.get("language", member["language"])
        return 200, member

    def _member(self, digest):
        if digest not in self.members:
            raise Answer(404, self.not_found())
        return self.members[digest]

    def patch_member(self, query, body, digest):
        member = self._member(digest)
        if body.get("status") not in self.STATUSES:
            raise Answer(400, self.problem(400, "Invalid Resource", "bad status"))
        member["status"] = body["status"]
        return 200, member

    def tags(self, query, body, digest):
        member = self._member(digest)
        tags = body.get("tags") if isinstance(body, dict) else None
        need(isinstance(tags, list) and all(
            isinstance(t, dict) and isinstance(t.get("name"), str)
            and t.get("status") in ("active", "inactive") for t in tags), "bad tags")
        for tag in tags:
            if tag["status"] == "active" and tag["name"] not in member["tags"]:
                member["tags"].append(tag["name"])
        return 204, None

    def delete(self, query, body, digest):
        self._member(digest)
        del self.members[digest]
        return 204, None
