"""The JSON body of an API request, read once for the public and the owner API: its
media type, how deep it nests, and whether it parses."""
from __future__ import annotations

import json

from flask import request

from widget.core.errors import ApiError

JSON_TYPES = ("application/json", "text/plain")  # text/plain: CORS-simple, no preflight
MAX_DEPTH = 32  # our bodies nest two levels; anything far deeper is not ours


def json_body():
    """The request body as JSON (sent as application/json or text/plain), or a 400/415."""
    if request.mimetype not in JSON_TYPES:
        raise ApiError(415, "unsupported_media_type")
    return parse(request.get_data())


def parse(raw: bytes):
    """A body's bytes as JSON (an empty body is null), or a 400 invalid_json."""
    raw = raw or b"null"
    # No body can nest deeper than it has brackets: counting them runs in C, and only
    # a body with that many is walked byte by byte (a beacon's 9 us, otherwise).
    if raw.count(b"[") + raw.count(b"{") > MAX_DEPTH and depth(raw) > MAX_DEPTH:
        raise ApiError(400, "invalid_json", "The JSON is nested too deeply.")
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise ApiError(400, "invalid_json") from None


def depth(raw: bytes) -> int:
    """How deep arrays and objects nest (strings skipped), counted before parsing: json
    would recurse once a level (a RecursionError past ~1,000, in 2 KB), and no body of
    ours nests more than two."""
    depth = deepest = 0
    in_string = escaped = False
    for byte in raw:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in b"[{":
            depth += 1
            deepest = max(deepest, depth)
        elif byte in b"]}":
            depth -= 1
    return deepest
