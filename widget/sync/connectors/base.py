"""The interface every connector to an e-mail service implements, and the one HTTP helper
they share.

A connector module (mailchimp.py, kit.py, listmonk.py, …) defines a subclass of Service
and one instance of it named SERVICE; connectors/__init__.py lists the modules and
registers each SERVICE in SERVICES by its `name` (the value of connectors.service, at
most 16 characters). The dashboard's connect form is built from `fields`, `clean`
checks what the owner typed, and `test` is its "test connection" button. The delivery side
(widget/sync/sync.py) maps each contact event to one call:

    contact.confirmed (resubscribe=True)                -> upsert(conn, contact)
    contact.updated of a confirmed contact              -> upsert(conn, contact)
    contact.updated of one not confirmed                -> nothing (skipped)
    contact.created                                     -> nothing (one added confirmed
                                                           also gets contact.confirmed)
    contact.unsubscribed                                -> unsubscribe(conn, contact)
    contact.erased                                      -> erase(conn, contact)
    a backfill row (no event): the contact as now, if confirmed -> upsert

A contact that was never confirmed here never reaches a service.

Every call gets a Conn (the connector with its key opened and an HTTP session) and
a Contact (already filtered by the connector's tag mapping), returns None on success,
and raises one of:

    Retry(reason, after_seconds)  the service said 429 / Retry-After: try again then
    Transient(reason)             network error, timeout, 5xx, a refused key: back off
    Permanent(reason)             this contact's delivery can never succeed (a 400 for a
                                  rejected address): it fails, the connector keeps going

Conn.call() does the HTTP and raises those for you: use it for every request, so the
outbox row records the service's last answer (status and an excerpt) and a base URL
override works. A service answering 404 to unsubscribe or erase means "nobody there":
catch Permanent with .status == 404 and return.

The service's host is fixed (api.mailchimp.com, api.kit.com, …) except where the owner
types it (listmonk); every service takes a `base_url` setting that overrides the host,
for tests against a local fake and for operators behind a gateway (docs/connectors.md).
Owner-typed hosts (`Service.owner_host`) go through core/outbound.py's guarded session.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from urllib.parse import urlencode

import requests
from flask_babel import gettext

from widget.core import outbound
from widget.core.said import stored

EXCERPT = 500  # characters of a service's answer kept on the outbox row
USER_AGENT = "reciprocity-widgets-connector/1"


# What this module stores in English, shown translated in the dashboard (core/said.py)
MISSING_FIELD = stored("an answer without %(path)s (HTTP %(status)s)")
NOT_REACHABLE = stored("%(service)s at %(url)s may not be reached: %(reason)s")
UNREACHABLE = stored("%(service)s could not be reached (%(error)s)")
NO_MESSAGE = stored("no message")
KEY_REFUSED = stored("%(service)s refused the API key (%(status)s): %(said)s")


class SyncError(Exception):
    """A call to a service did not succeed; `reason` is shown to the owner, `status`
    is the HTTP status when the service answered."""

    def __init__(self, reason: str, status: int | None = None):
        super().__init__(reason)
        self.reason, self.status = reason, status


class Retry(SyncError):
    """The service asked us to wait (429, or 503 with Retry-After) `after_seconds`."""

    def __init__(self, reason: str, after_seconds: int, status: int | None = 429):
        super().__init__(reason, status)
        self.after_seconds = after_seconds


class Transient(SyncError):
    """Worth trying again later with back-off: network, timeout, 5xx, a refused key."""


class Permanent(SyncError):
    """This delivery can never succeed as it is (the service rejected the address)."""


class Invalid(ValueError):
    """A connection setting the owner typed is wrong; `field` names it for the form."""

    def __init__(self, field_name: str, message: str):
        super().__init__(message)
        self.field, self.message = field_name, message


@dataclass(frozen=True)
class Field:
    """A setting the connect form asks for. `name` "api_key" is the secret (sealed in
    connectors.secret); any other name is a key of connectors.settings."""
    name: str
    label: str
    help: str = ""
    required: bool = True


@dataclass(frozen=True)
class Contact:
    """A contact as a service gets it. `tags` are those the connector sends (its
    mapping applied). `resubscribe`: they confirmed here just now, so a service may
    subscribe them again even if they had left its list; false for updates and the
    backfill, where someone who unsubscribed at the service must stay unsubscribed."""
    id: int
    email: str
    name: str | None = None
    lang: str = "en"
    tags: tuple[str, ...] = ()
    resubscribe: bool = False


@dataclass(frozen=True)
class Answer:
    """A service's answer: status, headers and the body parsed as JSON (None if not)."""
    status: int
    headers: dict
    data: object

    def get(self, *path: str | int):
        """The value at `path` in the JSON body (keys and list indexes); Transient when
        the answer lacks it (a service, or a proxy before it, answering otherwise)."""
        value = self.data
        for step in path:
            try:
                value = value[step]
            except (KeyError, IndexError, TypeError):
                raise Transient(MISSING_FIELD % {
                    "path": "/".join(map(str, path)), "status": self.status},
                    self.status) from None
        return value


@dataclass
class Conn:
    """One connector as a service call sees it: the API key in clear (never logged),
    its settings, the base URL to use and the HTTP session. `last` is the last answer's
    (status, excerpt), which the delivery records on the outbox row."""
    service: "Service"
    key: str
    settings: dict
    base_url: str
    http: requests.Session
    last: tuple[int | None, str] = (None, "")
    headers: dict = field(default_factory=dict)

    def call(self, method: str, path: str, body: object = None, *, params: dict | None = None,
             ok: tuple[int, ...] = ()) -> Answer:
        """Send one request to base_url + path with the service's auth headers; 2xx and
        the statuses in `ok` return an Answer, anything else raises Retry, Transient or
        Permanent (with the service's own message)."""
        headers = {"User-Agent": USER_AGENT, "Accept": "application/json",
                   **self.service.auth_headers(self), **self.headers}
        data = None
        if body is not None:
            data = json.dumps(body, ensure_ascii=False).encode()
            headers["Content-Type"] = "application/json"
        url = self.base_url.rstrip("/") + path
        if params:
            url += "?" + urlencode(params)
        try:
            got = outbound.post(self.http, url, data, headers, method=method)
        except outbound.Refused as exc:
            self.last = (None, f"refused: {exc}")
            raise Permanent(NOT_REACHABLE % {"service": self.service.label,
                                             "url": self.base_url, "reason": exc}) from None
        except requests.RequestException as exc:
            self.last = (None, type(exc).__name__)
            raise Transient(UNREACHABLE % {
                "service": self.service.label, "error": type(exc).__name__}) from None
        text = got.body.decode("utf-8", "replace")
        self.last = (got.status, text[:EXCERPT])
        try:
            parsed = json.loads(text) if text.strip() else None
        except ValueError:
            parsed = None
        answer = Answer(got.status, got.headers, parsed)
        if 200 <= got.status < 300 or got.status in ok:
            return answer
        raise classify(self.service, answer, text)


def retry_after(headers: dict, default: int = 60, now: datetime | None = None) -> int:
    """Seconds a Retry-After header asks for (a number or an HTTP date), at least 1."""
    value = next((v for k, v in headers.items() if k.lower() == "retry-after"), None)
    if value is None:
        return default
    value = value.strip()
    if value.isdigit():
        return max(1, int(value))
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return default
    now = now or datetime.now(timezone.utc)
    return max(1, int((when - now).total_seconds() + 0.999))


# what a service said, as the delivery log and the connector's page show it
ANSWERED = stored("%(service)s answered %(status)s: %(said)s")


def classify(service: "Service", answer: Answer, text: str) -> SyncError:
    """The exception a non-2xx answer means."""
    said = service.message(answer) or text.strip()[:200] or NO_MESSAGE
    where = ANSWERED % {"service": service.label, "status": answer.status, "said": said}
    if answer.status == 429 or (answer.status == 503 and any(
            k.lower() == "retry-after" for k in answer.headers)):
        return Retry(where, retry_after(answer.headers), answer.status)
    if answer.status in (401, 403):
        return Transient(KEY_REFUSED % {
            "service": service.label, "status": answer.status, "said": said}, answer.status)
    if answer.status >= 500 or answer.status in (408, 409, 423, 425):
        return Transient(where, answer.status)
    return Permanent(where, answer.status)


class Service:
    """One e-mail service. Subclasses set the class attributes and implement test,
    upsert, unsubscribe and erase (each raising SyncError subclasses, see the module)."""
    name: str = ""  # registry key and connectors.service
    label: str = ""  # as owners know it
    docs: str = ""  # the public API reference the module follows
    fields: tuple[Field, ...] = ()
    default_base_url: str | None = None  # None: the owner types it (base_url field)
    owner_host = False  # the host comes from the owner: guarded outbound session
    erase_note: str | None = None  # said on the page when erase is not a real deletion

    def clean(self, key: str, settings: dict) -> dict:
        """The settings to store from what the owner typed (the key apart), or Invalid
        naming the field. The default strips strings and checks required fields."""
        cleaned = {}
        for f in self.fields:
            if f.name == "api_key":
                if f.required and not key.strip():
                    raise Invalid("api_key", gettext("Enter your %(service)s API key.",
                                                     service=self.label))
                continue
            value = str(settings.get(f.name) or "").strip()
            if f.required and not value:
                # the label as written: German capitalises its nouns
                raise Invalid(f.name, gettext("Fill in “%(field)s”.", field=f.label))
            if value:
                cleaned[f.name] = value
        return cleaned

    def base_url(self, key: str, settings: dict) -> str:
        """Where the API lives: the `base_url` setting when set, else the default."""
        return (settings.get("base_url") or self.default_base_url or "").rstrip("/")

    def auth_headers(self, conn: Conn) -> dict:
        """The headers that authenticate a request with conn.key."""
        raise NotImplementedError

    def message(self, answer: Answer) -> str | None:
        """The service's own words in an error answer (e.g. Mailchimp's "detail")."""
        data = answer.data
        if isinstance(data, dict):
            for name in ("detail", "message", "error", "title"):
                if isinstance(data.get(name), str):
                    return data[name]
        return None

    def test(self, conn: Conn) -> str:
        """Check the key and the list: returns a sentence naming the list found."""
        raise NotImplementedError

    def upsert(self, conn: Conn, contact: Contact) -> None:
        """Add or update a confirmed contact with name, language and tags."""
        raise NotImplementedError

    def unsubscribe(self, conn: Conn, contact: Contact) -> None:
        """Mark the contact unsubscribed there (nobody there: done)."""
        raise NotImplementedError

    def erase(self, conn: Conn, contact: Contact) -> None:
        """Delete the contact there for good, or as near as the service allows
        (erase_note says what happens instead)."""
        raise NotImplementedError
