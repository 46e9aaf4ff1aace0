"""The JSON shapes of /api/v1 as JSON Schema (2020-12, as OpenAPI 3.1 takes it): the
building blocks, each error status's codes, and the components every operation of the
document (widget/api/openapi.py) refers to. Objects list exactly their fields
(additionalProperties false), so a field added to an answer must be added here."""
from __future__ import annotations

from widget.core.events import TYPES
from widget.insight.stats import BY, FUNNEL

# The codes each error status carries on /api/v1 (docs/api.md "Errors" lists them all;
# csrf_failed is the dashboard's, 405 and 500 never answer a documented operation).
ERROR_CODES = {
    400: ("invalid_json", "invalid_type", "bad_request"),
    401: ("unauthorized",),
    403: ("origin_not_allowed", "forbidden_scope"),
    404: ("site_not_found", "not_found"),
    409: ("gift_gone", "contact_exists", "too_many_webhooks"),
    413: ("payload_too_large",),
    415: ("unsupported_media_type",),
    422: ("missing_field", "invalid_email", "email_unsupported", "too_long",
          "invalid_characters", "consent_required", "unknown_widget", "invalid_url",
          "invalid_event", "missing_name", "missing_story", "invalid_rating", "invalid_tags"),
    429: ("rate_limited",),
}
ERROR_WHEN = {
    400: "Not JSON, a field of the wrong type, or a query argument not understood.",
    401: "No key, or an unknown or revoked one.",
    403: "An origin the site does not allow, or a read key on a write endpoint.",
    404: "No such site (or another site's key), or no such row of the site.",
    409: "Not now: none of the gift is left, the address is already a contact, or the "
         "site has as many webhooks as it may.",
    413: "The body is too large.",
    415: "A content type the endpoint does not take.",
    422: "A field's value is refused; `field` names it.",
    429: "Too many requests; try again in `Retry-After` seconds.",
}


# --- schema building blocks -------------------------------------------------------------

def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def obj(properties: dict, optional: tuple[str, ...] = (), **extra) -> dict:
    """An object with exactly these properties, all required but the `optional` ones."""
    return {"type": "object", "required": [k for k in properties if k not in optional],
            "properties": properties, "additionalProperties": False, **extra}


def text(description: str = "", *types: str, **extra) -> dict:
    """A string property (or `types` besides, e.g. "null")."""
    schema = {"type": ["string", *types] if types else "string", **extra}
    return {**schema, "description": description} if description else schema


def integer(description: str = "", *types: str, **extra) -> dict:
    schema = {"type": ["integer", *types] if types else "integer", **extra}
    return {**schema, "description": description} if description else schema


def flag(description: str = "") -> dict:
    return {"type": "boolean", "description": description} if description else {
        "type": "boolean"}


def array(items: dict, description: str = "", **extra) -> dict:
    schema = {"type": "array", "items": items, **extra}
    return {**schema, "description": description} if description else schema


def one_of(*values: str, description: str = "") -> dict:
    schema = {"type": "string", "enum": list(values)}
    return {**schema, "description": description} if description else schema


def time(description: str = "", nullable: bool = True) -> dict:
    """ISO 8601 in UTC to the second (`2026-12-01T09:30:00Z`); null when there is none."""
    return text(description, *(("null",) if nullable else ()), format="date-time")


NULL_TEXT = {"type": ["string", "null"]}
LANG = one_of("en", "nb", "de", "nl")
CONTACT_STATUS = one_of("pending", "confirmed", "unsubscribed", "bounced")


def error_schema(codes: tuple[str, ...] | None = None) -> dict:
    """The one error body; `codes`: the codes its status may carry."""
    code = one_of(*codes) if codes else text(pattern="^[a-z_]+$")
    return obj({"error": obj({
        "code": {**code, "description": "Stable: programs branch on it."},
        "message": text("For people, in English; the widget shows its own text per code."),
        "field": text("The field or query argument at fault, when there is one.")},
        optional=("field",))})


CONFIG_WIDGET = obj({
    "id": text(), "kind": one_of("newsletter", "gift", "story", "proof"),
    "layout": one_of("modal", "slide_in", "bar_top", "bar_bottom", "inline"),
    "on": array({"type": "array", "prefixItems": [one_of("x", "t", "s", "i"),
                                                  integer("", "null")], "items": False},
                "Triggers: x exit intent, t seconds, s % scrolled, i idle seconds."),
    "all": flag("Whether every trigger must happen (else any)."),
    "if": array({"type": "array", "prefixItems": [text(), text(), integer()], "items": False},
                "Targeting rules: [what, regular expression, negate]."),
    "lang": LANG, "title": text(), "description": text(), "button": text(),
    "success": text(), "no_thanks": text(), "quiet_days_after_close": integer(),
    "quiet_days_after_signup": integer(),
    "theme": {"type": ["object", "null"], "additionalProperties": {"type": "string"}},
    "gift": obj({"id": text(), "mode": one_of("f", "g"),
                 "kind": one_of("file", "link", "coupon", "bonus"), "name": text(),
                 "out": flag(), "count": flag(), "ok": text()}),
    "style": one_of("list", "carousel"),
    "stories": array(obj({"name": text(), "text": text(), "rating": integer("", "null")})),
    "v": integer("A/B test: the variant's id, to report with its events and sign-ups."),
    "a": text("A/B test: the pattern of the browser's first-visit time (milliseconds, as "
              "decimal text) that gets this variant."),
}, optional=("gift", "style", "stories", "v", "a"))

CONTACT = {
    "id": integer(), "email": text(), "name": text("", "null"), "status": CONTACT_STATUS,
    "lang": LANG, "tags": array(text(), "Alphabetical."),
    "widget": text("The widget they signed up with.", "null"),
    "page_url": text("The page they signed up on.", "null"), "created_at": time(nullable=False),
    "confirmed_at": time("The latest change to confirmed."),
    "unsubscribed_at": time("The latest change to unsubscribed."),
    "ref_code": text("The code in their referral link (given when they confirm).", "null"),
    "ref_count": integer("Friends their link brought that count."),
}
CONSENT = obj({"given": flag(), "basis": one_of("signup", "owner", "import", description=(
                   "How: their own sign-up, added by the owner, or imported.")),
               "text": text("The words they agreed to, or the owner's stated basis."),
               "lang": text(),
               "widget": NULL_TEXT, "page_url": NULL_TEXT, "created_at": time(nullable=False)})
STATUS_CHANGE = obj({"status": CONTACT_STATUS, "via": text("How: signup, confirm_page, "
                     "one_click, unsubscribe_page, resubscribe_page, owner, api, import."),
                     "created_at": time(nullable=False)})
PERSON = obj({"id": integer(), "email": text()})

SCHEMAS = {
    "Error": error_schema(),
    "Ok": obj({"ok": {"const": True}}),
    "WidgetConfig": obj({
        "site": text(), "cap": integer("Pop-ups a visitor sees at most per visit."),
        "reset": integer("Raised by the owner to show widgets again to everyone."),
        "require_consent": flag(), "consent_text": text("", "null"),
        "widgets": array(ref("ConfigWidget"), "The live widgets for this page language."),
        "strings": {"type": "object", "description": "UI strings per language.",
                    "additionalProperties": {"type": "object",
                                             "additionalProperties": {"type": "string"}}},
        "count": integer("Confirmed subscribers, once the owner's threshold is reached.",
                         "null"),
        "ui": text("The UI script's versioned URL."), "css": text("The UI stylesheet's.")}),
    "ConfigWidget": CONFIG_WIDGET,
    "GiftGiven": obj({"grant": obj({
        "title": text(), "kind": one_of("file", "link", "coupon", "bonus"),
        "page": text("The gift's page (a signed link)."), "token": text(
            "Send it as `grant` with a later sign-up to put the gift on their ledger."),
        "left": integer("How many are left, when the gift shows it; else null.", "null"),
        "download": text("A file or link gift: its download ticket."),
        "code": text("A coupon gift: the code."),
        "bonus": text("A bonus gift: its text (sanitised HTML).")},
        optional=("download", "code", "bonus"))}),
    "GiftLeft": obj({"left": integer("null: no limit.", "null")}),
    "Story": obj({
        "id": integer(), "status": one_of("pending", "approved", "rejected"), "name": text(),
        "email": text("", "null"), "text": text(),
        "rating": integer("", "null", minimum=1, maximum=5),
        "consent_publish": flag("May it be shown."), "consent_text": text(), "lang": text(),
        "page_url": NULL_TEXT, "widget": NULL_TEXT, "reply": text("The owner's answer.", "null"),
        "created_at": time(nullable=False), "decided_at": time()}),
    "Contact": obj(CONTACT),
    "ContactDetail": obj({**CONTACT, "consents": array(ref("Consent"), "Oldest first."),
                          "history": array(ref("StatusChange"), "Oldest first.")}),
    "Consent": CONSENT,
    "StatusChange": STATUS_CHANGE,
    "ContactData": obj({
        "contact": obj({"email": text(), "name": NULL_TEXT, "status": CONTACT_STATUS,
                        "status_since": time(nullable=False), "language": LANG,
                        "tags": array(text()), "signed_up": time(nullable=False),
                        "page": NULL_TEXT, "widget": NULL_TEXT, "referral_code": NULL_TEXT}),
        "consents": array(obj({"given": flag(), "basis": one_of("signup", "owner", "import"),
                               "text": text(), "lang": text(), "page": NULL_TEXT,
                               "ip": NULL_TEXT, "user_agent": NULL_TEXT,
                               "at": time(nullable=False)})),
        "status_history": array(obj({"status": CONTACT_STATUS, "via": text(),
                                     "at": time(nullable=False)})),
        "emails": array(obj({"kind": text(), "subject": NULL_TEXT, "status": text(),
                             "queued": time(nullable=False), "sent": time()})),
        "gifts": array(obj({"gift": text("Its title."), "given": time(nullable=False),
                            "page": NULL_TEXT, "downloads": integer(),
                            "rating": integer("", "null"), "comment": NULL_TEXT,
                            "rated": time()})),
        "referrals": obj({"friends_counted": integer(), "link_visits": integer(),
                          "share_clicks": integer(), "brought_by_a_friend": flag(),
                          "friends_brought": array(obj({"status": text(),
                                                        "at": time(nullable=False)}))}),
        "stories": array(obj({"name": text(), "email": NULL_TEXT, "text": text(),
                              "rating": integer("", "null"), "may_publish": flag(),
                              "status": text(), "reply": NULL_TEXT,
                              "at": time(nullable=False)}))},
        description="Everything held about the person. Friends they brought and who "
                    "brought them are counted and dated, not named."),
    "Grant": obj({
        "id": integer(), "email": text("null for a gift given first to someone not yet known.",
                                       "null"),
        "name": NULL_TEXT, "widget": NULL_TEXT, "page_url": NULL_TEXT,
        "created_at": time(nullable=False), "released_at": time(), "expires_at": time(),
        "revoked_at": time(), "downloads": integer(), "download_limit": integer(),
        "last_download_at": time(), "rating": integer("", "null", minimum=1, maximum=5),
        "comment": NULL_TEXT, "rated_at": time()}),
    "Referral": obj({
        "id": integer(), "status": one_of("pending", "waiting", "held", "counted", "rejected"),
        "reason": text("Why it is held.", "null"), "referrer": PERSON, "friend": PERSON,
        "created_at": time(nullable=False), "confirmed_at": time(), "decided_at": time()}),
    "NewContact": obj({
        "email": text(maxLength=254, format="email"),
        "name": text("", "null", maxLength=100),
        "lang": {**LANG, "description": "Default: the site's."},
        "tags": array(text(maxLength=64, pattern="^[^,]*$"), "Each without commas.",
                      maxItems=20),
        "basis": text("Why you may e-mail this person, in your words.", minLength=1,
                      maxLength=500),
        "confirm": flag("true: pending, and a confirmation e-mail is sent; false (default):"
                        " confirmed at once.")}, optional=("name", "lang", "tags", "confirm")),
    "ContactChange": obj({"name": text("", "null", maxLength=100), "lang": LANG,
                          "tags": array(text(maxLength=64, pattern="^[^,]*$"), maxItems=20,
                                        description="Replaces the contact's tags; each "
                                                    "without commas.")},
                         optional=("name", "lang", "tags")),
}
HOOK = {
    "id": integer(), "url": text(),
    "events": array(one_of(*TYPES), "The event types it receives; empty: all of them."),
    "description": text("", "null"), "enabled": flag("false once deliveries failed for "
                                                     "WIDGET_WEBHOOK_RETRY_HOURS."),
    "disabled_reason": text("Why it was switched off.", "null"),
    "created_at": time(nullable=False)}
SCHEMAS.update({
    "Webhook": obj(HOOK),
    "WebhookMade": obj({**HOOK, "secret": text(
        "whsec_…: the signing secret, in this answer only.", pattern="^whsec_")}),
    "NewWebhook": obj({
        "url": text("http(s), no user or password in it.", maxLength=2048),
        "events": {**array(one_of(*TYPES), "Left out, null or empty: all types."),
                   "type": ["array", "null"]},
        "description": text("Only you see it.", "null", maxLength=200)},
        optional=("events", "description")),
    "WebhooksList": obj({"webhooks": array(ref("Webhook"), "Oldest first.")}),
    "Cursor": text("Pass it as `cursor` for the next page; null on the last.", "null"),
    "StoriesPage": obj({"stories": array(ref("Story")), "next": ref("Cursor")}),
    "ContactsPage": obj({"contacts": array(ref("Contact")), "next": ref("Cursor")}),
    "GrantsPage": obj({"grants": array(ref("Grant")), "next": ref("Cursor")}),
    "ReferralsPage": obj({"referrals": array(ref("Referral")), "next": ref("Cursor")}),
})

# The funnel's counters (widget/insight/stats.py): one count each, as sums over days.
COUNTS = {
    "shown": integer("Times the widget was shown."),
    "opened": integer("Times a visitor started on it (typed in its form, took its gift)."),
    "closed": integer("Times it was closed without a sign-up."),
    "signed_up": integer("Sign-ups the widget saw succeed."),
    "confirmed": integer("Confirmations of sign-ups that came through it."),
    "downloaded": integer("Gifts given through it that were downloaded (once each)."),
    "referred": integer("Friends who signed up through the link of someone who came "
                        "through it."),
    "stories": integer("Stories sent through it.")}
RATE = {"type": ["number", "null"], "minimum": 0}
SCHEMAS.update({
    "StatCounts": obj(COUNTS),
    "StatRow": obj({"key": {"type": ["string", "integer"], "description": (
        "The day (YYYY-MM-DD; a week's Monday, a month's first day), widget id, variant "
        "(0: the widget as it is), page path, language or device class.")}, **COUNTS}),
    "StatTotals": obj({**COUNTS, "rates": obj({
        **{step: {**RATE, "description": f"`{step}` ÷ `{before}`; null when `{before}` is 0."}
           for before, step in zip(FUNNEL, FUNNEL[1:])},
        "signed_up_of_shown": {**RATE, "description": "`signed_up` ÷ `shown`, the sign-up "
                                                      "rate; null when `shown` is 0."}},
        description="Each step of the funnel as a share of the step before it.")}),
    "Stats": obj({
        "from": text("The first day, in the site's time zone.", format="date"),
        "to": text("The last day, included.", format="date"),
        "by": one_of(*BY), "time_zone": text("The IANA zone the days are counted in."),
        "rows": array(ref("StatRow"), "Days, weeks and months in order, quiet ones as "
                      "zeros; widgets and variants by key; the 20 pages, and the languages "
                      "and devices, shown most first."),
        "totals": ref("StatTotals"),
        "previous": obj({"from": text(format="date"), "to": text(format="date"),
                         "totals": ref("StatTotals")},
                        description="The period of equal length just before.")}),
})
