"""Helpers for the property-based tests of the public API (tests/test_fuzz_public*.py):
the Hypothesis profile, strategies for hostile values and raw bodies, the error codes
docs/api.md documents per status, what an answer must look like, and a snapshot of every
table a public request may write, to compare before and after a request."""
from __future__ import annotations

import json
import os
import re
from collections import Counter
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from widget.models import (Consent, Coupon, Grant, OutboxMessage, Referral, StatusChange, Story,
                           Subscriber, StatDay)

# --- the profile --------------------------------------------------------------------------

# The same examples on every run (derandomize), so CI is deterministic; the database and
# the app are per test function, so the examples of one property share them (the
# properties compare rows before and after each request, never absolute numbers).
settings.register_profile(
    "fuzz", max_examples=50, deadline=None, derandomize=True, database=None,
    print_blob=True, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                            HealthCheck.too_slow, HealthCheck.data_too_large])
# FUZZ_PROFILE=fuzz-deep: many more, random examples, for a run by hand.
settings.register_profile("fuzz-deep", parent=settings.get_profile("fuzz"), max_examples=1000,
                          derandomize=False)
FUZZ = settings.get_profile(os.environ.get("FUZZ_PROFILE", "fuzz"))

# --- the documented errors ----------------------------------------------------------------

API_DOC = Path(__file__).resolve().parents[2] / "docs" / "api.md"


def documented_errors() -> dict[int, set[str]]:
    """{status: codes} from the Errors table of docs/api.md (`| 422 | `a`, `b` … |`)."""
    table = API_DOC.read_text(encoding="utf-8").split("## Errors", 1)[1]
    found: dict[int, set[str]] = {}
    for status, rest in re.findall(r"^\| (\d{3}) \|(.*)$", table, re.M):
        found[int(status)] = set(re.findall(r"`([a-z_]+)`", rest))
    assert found.get(422) and found.get(400), "no error table in docs/api.md"
    return found


ERRORS = documented_errors()
JSON_LIKE = ("application/json", "text/plain")
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")  # Unicode category Cc
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def mimetype(content_type: str | None) -> str:
    return (content_type or "").split(";")[0].strip().lower()


def is_form(content_type: str | None) -> bool:
    return mimetype(content_type) in FORM_TYPES


def assert_refusal(resp, form: bool) -> None:
    """A documented 4xx: for JSON clients `{"error": {"code", "message"[, "field"]}}` with a
    code docs/api.md lists under that status; for a plain form a page, never a trace."""
    status = resp.status_code
    assert 400 <= status < 500 and status in ERRORS, (status, resp.text[:300])
    ctype = resp.headers.get("Content-Type", "")
    if form:
        assert ctype.startswith("text/html"), (status, ctype, resp.text[:300])
        assert "Traceback" not in resp.text and 'File "' not in resp.text
        return
    assert ctype.startswith("application/json"), (status, ctype, resp.text[:300])
    body = resp.json()
    assert set(body) == {"error"}, body
    error = body["error"]
    assert set(error) <= {"code", "message", "field"}, error
    assert error["code"] in ERRORS[status], (status, error)
    assert isinstance(error["message"], str) and error["message"].strip(), error
    assert isinstance(error.get("field", ""), str), error
    if status == 429:
        assert resp.headers.get("Retry-After"), resp.headers


# --- rows ---------------------------------------------------------------------------------

COUNTED = {"subscribers": Subscriber, "consents": Consent, "status_changes": StatusChange,
           "outbox": OutboxMessage, "gift_grants": Grant, "stories": Story,
           "stat_days": StatDay, "referrals": Referral}
COUNTERS = ("shown", "opened", "closed", "signed_up")


def snapshot(query) -> Counter:
    """Row counts of every table a public request may write, coupon codes taken, the
    newest subscriber change, and each widget's event counters summed over its days."""
    def run(s):
        found = Counter({name: s.scalar(select(func.count()).select_from(model))
                         for name, model in COUNTED.items()})
        found["coupons_taken"] = s.scalar(select(func.count()).select_from(Coupon)
                                          .where(Coupon.grant_id.is_not(None)))
        found["subscribers_updated"] = str(s.scalar(select(func.max(Subscriber.updated_at))))
        for row in s.execute(select(StatDay.widget_id, *(
                func.sum(getattr(StatDay, c)) for c in COUNTERS))
                .where(StatDay.dim == "all").group_by(StatDay.widget_id)):
            for column, total in zip(COUNTERS, row[1:]):
                found[(row[0], column)] = int(total)
        return found
    return query(run)


def changes(before: Counter, after: Counter) -> dict:
    """What differs: {key: after - before} for numbers, {key: (before, after)} else."""
    out = {}
    for key in set(before) | set(after):
        old, new = before.get(key, 0), after.get(key, 0)
        if old != new:
            out[key] = new - old if isinstance(new, int) and isinstance(old, int) else (old, new)
    return out


# --- strategies ---------------------------------------------------------------------------

# Characters that have broken text handling elsewhere: line and paragraph separators and
# NEL (not Cc, except U+0085), bidi controls, zero-widths and BOM, NUL and friends, a
# combining mark, emoji with a ZWJ and a variation selector, fullwidth and homoglyphs.
SPECIAL = ("\u2028", "\u2029", "\x85", "\u200f", "\u200e", "\u202e", "\u2066", "\u200b",
           "\u200d", "\ufeff", "\x00", "\r", "\n", "\t", "\x1b", "\x7f", "\u0301", "😀",
           "👩\u200d👩\u200d👧", "❤\ufe0f", "＝", "＠", "ı", "ß", "\ufffd", "<", ">", "\"",
           "'", "&", "%", "\\", "@", "+", " ", "\u00a0", "\u3000")
PIECES = st.one_of(st.characters(codec="utf-8"), st.sampled_from(SPECIAL))


def hostile_text(max_size: int = 40) -> st.SearchStrategy[str]:
    """Any Unicode text without lone surrogates, rich in the pieces above (up to
    `max_size` of them)."""
    return st.lists(PIECES, max_size=max_size).map("".join)


@st.composite
def near_limit(draw, limit: int) -> str:
    """A string of `limit - 2` … `limit + 2` characters (after strip), of one character
    that may take 1 to 4 bytes in UTF-8 and up to 12 as a JSON escape."""
    char = draw(st.sampled_from(["x", "é", "ж", "€", "😀", "\u2028"]))
    return char * draw(st.integers(max(limit - 2, 0), limit + 2))


def wrong_type() -> st.SearchStrategy:
    """Every JSON type but a string, huge and non-finite numbers included (Python's json
    reads NaN and Infinity)."""
    leaf = st.one_of(st.none(), st.booleans(), st.integers(),
                     st.sampled_from([2 ** 63, -(2 ** 63) - 1, 10 ** 40]),
                     st.floats(allow_nan=True, allow_infinity=True))
    return st.one_of(leaf, st.lists(st.one_of(leaf, hostile_text(5)), max_size=3),
                     st.dictionaries(hostile_text(5), st.one_of(leaf, hostile_text(5)),
                                     max_size=3))


LOCALS = ("reader", "Reader", "reader+news", "r.eader", "ñandú", "用户", "\"quoted local\"",
          "a" * 64, "a" * 65, "x" * 70)
DOMAINS = ("example.com", "EXAMPLE.com", "bücher.example", "xn--bcher-kva.example",
           "例え.jp", "[127.0.0.1]", "localhost", "example", "ex_ample.com",
           "e" * 63 + ".example", "e" * 64 + ".example")


@st.composite
def mangled_email(draw) -> str:
    """An address broken the ways people and bots break them."""
    good = draw(st.emails())
    how = draw(st.sampled_from(["no_at", "two_at", "space", "insert", "dots", "trail",
                                "long_total", "strip_domain", "angle"]))
    local, _, domain = good.rpartition("@")
    if how == "no_at":
        return good.replace("@", "")
    if how == "two_at":
        return f"{local}@{local}@{domain}"
    if how == "space":
        return f" {local} @ {domain} "
    if how == "insert":
        at = draw(st.integers(0, len(good)))
        return good[:at] + draw(hostile_text(3)) + good[at:]
    if how == "dots":
        return f".{local}..x@{domain}."
    if how == "trail":
        return good + draw(st.sampled_from(["\n", "\r\nBcc: x@example.com", "\x00", ">",
                                            "\u2028", ",x@example.com"]))
    if how == "long_total":
        return "r@" + ("d" * 60 + ".") * 4 + "example"  # past 254 octets
    if how == "angle":
        return f"Reader <{good}>"
    return local + "@"


def emails() -> st.SearchStrategy[str]:
    """Valid addresses (Hypothesis' own and a pool that repeats, so repeat sign-ups and
    case variants happen), ones near the SMTP limits, international ones, mangled ones."""
    pool = st.builds(lambda local, domain: f"{local}@{domain}", st.sampled_from(LOCALS),
                     st.sampled_from(DOMAINS))
    return st.one_of(st.sampled_from(["reader@example.com", "Reader@Example.COM",
                                      "reader+news@example.com"]),
                     pool, st.emails(), mangled_email())


BROKEN_URLS = ("http://[", "https://[::1/post", "http://]/", "https://[v1.x]/", "http://[zz]/",
               "https://blog.example:99999/", "https://blog.example:-1/", "//blog.example/p",
               "https://a:b@blog.example/", "javascript:alert(1)", "data:text/html,x",
               "https:///p", "http://\u2028/", "https://blog.example/\x00", "https://ж.example/",
               "HTTPS://BLOG.EXAMPLE/", "https://blog.example/" + "p" * 2030)


@st.composite
def urls(draw) -> str:
    """Page addresses: plausible, of other schemes, and with broken hosts and ports."""
    scheme = draw(st.sampled_from(["https", "http", "HTTPS", "javascript", "data", "ftp", ""]))
    host = draw(st.one_of(st.sampled_from(["blog.example", "[::1]", "[", "]", "[zz]", ""]),
                          st.text(st.sampled_from("ab[]:@.%/?#\\ \u2028\x00ж"), max_size=8)))
    path = draw(st.one_of(st.just("/post"), hostile_text(10)))
    return draw(st.one_of(st.sampled_from(BROKEN_URLS), st.just(f"{scheme}://{host}{path}"),
                          st.just(f"{scheme}:{host}{path}")))


def mostly(good: st.SearchStrategy, bad: st.SearchStrategy, weight: int = 3):
    """`good` about `weight` times as often as `bad`: most requests must get past the
    first checks, or the deeper ones are never reached."""
    # st.one_of picks its branches about evenly, duplicates or not
    return st.integers(0, weight).flatmap(lambda i: bad if i == weight else good)


# Not UTF-8, so never in a form, but JSON can carry them as \\u escapes.
LONE_SURROGATES = st.sampled_from(["\ud800", "Kari\udfff", "\udc80x", "\ud83d"])

# A value strategy may draw ABSENT: the field is left out of the body.
ABSENT = object()


def field(good: st.SearchStrategy, limit: int | None = None, text: bool = True,
          extra: st.SearchStrategy | None = None) -> st.SearchStrategy:
    """A field's hostile values: absent, hostile text, near its length limit, wrong types,
    and `extra` values the field's parser treats specially; `good` ones too."""
    options = [st.just(ABSENT), good, wrong_type()]
    if text:
        options += [hostile_text(), LONE_SURROGATES]
    if limit:
        options.append(near_limit(limit))
    if extra is not None:
        options.append(extra)
    return st.one_of(*options)


@st.composite
def mutated(draw, good: dict, fields: dict, form: bool = False) -> dict:
    """A valid-shaped body, `good` (a dict of strategies), with up to three fields given
    hostile values from `fields`, sometimes an unknown field and the honeypot. In a form
    every value is a string (absent and wrong types become absent)."""
    body = {name: draw(strategy) for name, strategy in good.items()}
    for name in draw(st.lists(st.sampled_from(sorted(fields)), max_size=3, unique=True)):
        body[name] = draw(fields[name])
    if draw(st.integers(0, 9)) == 0:
        body[draw(hostile_text(8))] = draw(st.one_of(hostile_text(), wrong_type()))
    if draw(st.integers(0, 7)) == 0:  # the honeypot: a person never fills it
        body["website"] = draw(st.one_of(st.just("http://spam.example"), st.just(""),
                                         wrong_type()))
    body = {k: v for k, v in body.items() if v is not ABSENT}
    if form:
        body = {k: v for k, v in body.items() if isinstance(k, str) and isinstance(v, str)
                and not has_surrogate(k + v)}
    return body


def honeypot(body) -> bool:
    """Whether the body fills the honeypot (a bot), as docs/api.md describes it."""
    return isinstance(body, dict) and bool(body.get("website"))


def has_surrogate(value) -> bool:
    return isinstance(value, str) and any("\ud800" <= c <= "\udfff" for c in value)


@st.composite
def json_bytes(draw, body) -> bytes:
    """The body as JSON: ASCII with \\u escapes or UTF-8, compact or spaced."""
    ascii_only = draw(st.booleans()) or has_surrogate(json.dumps(body, ensure_ascii=False))
    separators = draw(st.sampled_from([(",", ":"), (", ", ": ")]))
    return json.dumps(body, ensure_ascii=ascii_only, separators=separators).encode()


ORIGINS = ("https://blog.example", "https://evil.example", "https://blog.example.evil.example",
           "http://blog.example", "null", "HTTPS://BLOG.EXAMPLE:443", "https://[", "")


def origin_header() -> st.SearchStrategy[str | None]:
    """Mostly the allowed origin or none (a server, not a browser); else foreign, broken
    or odd ones (any Latin-1 text a header can carry)."""
    return mostly(st.sampled_from([ORIGINS[0], None]), st.one_of(
        st.sampled_from(ORIGINS[1:]),
        st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF,
                              exclude_characters="\x7f"), max_size=30)
        .map(str.strip)))  # requests refuses to send a header with whitespace around it


@st.composite
def raw_json(draw, good: bytes, limit: int) -> bytes:
    """Bodies no client should send: random bytes, a valid body cut short or padded to
    the size limit and one past it, huge numbers, deep nesting (within the limit), lone
    surrogate escapes, duplicate keys, other encodings, a BOM, nothing at all."""
    kind = draw(st.sampled_from(["bytes", "cut", "pad", "number", "nest", "surrogate",
                                 "dupes", "utf16", "bom", "empty", "scalar"]))
    if kind == "bytes":
        return draw(st.binary(max_size=300))
    if kind == "cut":
        return good[:draw(st.integers(0, max(len(good) - 1, 0)))]
    if kind == "pad":  # whitespace is valid JSON padding
        return good + b" " * (limit - len(good) + draw(st.integers(-1, 1)))
    if kind == "number":
        digits = draw(st.integers(1, min(limit - 20, 12000)))
        number = draw(st.sampled_from(["1" + "0" * digits, "-1" + "0" * digits,
                                       f"1e{digits}", f"0.{'0' * digits}1", "1E400",
                                       "-0", "NaN", "-Infinity"]))
        return b'{"email": ' + number.encode() + b', "events": ' + number.encode() + b"}"
    if kind == "nest":  # Python's json recurses once a level
        depth = draw(st.one_of(st.integers(1, 100), st.sampled_from(
            [999, 1000, 1001, 3000, (limit - 40) // 2])))
        opener, closer = draw(st.sampled_from([("[", "]"), ('{"a":', "}")]))
        if opener != "[":
            depth = min(depth, (limit - 40) // 6)
        return (b'{"email": ' + (opener * depth).encode() + b"1" + (closer * depth).encode()
                + b"}")
    if kind == "surrogate":
        escape = draw(st.sampled_from(["\\ud800", "\\udfff", "\\udc80x", "\\ud83d"]))
        text = good.decode("utf-8", "replace")
        name = draw(st.sampled_from(["email", "name", "text", "widget", "lang", "page_url",
                                     "type"]))
        return re.sub(rf'"{name}":\s*"', lambda m: m.group(0) + escape, text, count=1).encode() \
            if f'"{name}"' in text else good[:-1] + f', "{name}": "{escape}"}}'.encode()
    if kind == "dupes":
        return good[:-1] + b', "email": 5, "email": "reader@example.com"}'
    if kind == "utf16":
        return good.decode().encode(draw(st.sampled_from(["utf-16", "utf-16-le", "utf-32"])))
    if kind == "bom":
        return b"\xef\xbb\xbf" + good
    if kind == "scalar":
        return draw(st.sampled_from([b"[]", b"null", b"true", b'"x"', b"1", b"[{}]"]))
    return b""


CONTENT_TYPES = ("application/json", "text/plain", "text/plain;charset=UTF-8",
                 "application/json; charset=utf-16", "application/x-www-form-urlencoded",
                 "multipart/form-data; boundary=xyz", "multipart/form-data", "application/xml",
                 "text/html", "application/json-patch+json", "APPLICATION/JSON", "")


def content_type() -> st.SearchStrategy[str | None]:
    return st.one_of(st.none(), st.sampled_from(CONTENT_TYPES))
