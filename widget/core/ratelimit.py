"""Per-IP, per-address and per-API-key limits, on the `limits` library's counters."""
from __future__ import annotations

import math
import time

from flask import Flask, current_app
from limits import parse_many
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter

from widget.core.errors import ApiError


def init_app(app: Flask) -> None:
    """Create the limiter from config, or none when WIDGET_RATE_LIMITS=off."""
    if not app.config["RATE_LIMITS"]:
        app.extensions["widget.limiter"] = None
        return
    storage = storage_from_string(app.config["RATE_LIMIT_STORAGE"])
    app.extensions["widget.limiter"] = FixedWindowRateLimiter(storage)
    app.extensions["widget.limits"] = {
        "ip": parse_many(app.config["RATE_LIMIT_IP"]),
        "email": parse_many(app.config["RATE_LIMIT_EMAIL"]),
        "login": parse_many(app.config["RATE_LIMIT_LOGIN"]),
        "events": parse_many(app.config["RATE_LIMIT_EVENTS"]),
        "gift": parse_many(app.config["RATE_LIMIT_GIFT"]),
        "story": parse_many(app.config["RATE_LIMIT_STORY"]),
        "key": parse_many(app.config["RATE_LIMIT_KEY"]),
    }


def hit(kind: str, key: str) -> None:
    """Count one attempt under `kind` ('ip', 'email', 'login', 'events', 'gift',
    'story', 'key': an owner API key's id); 429 past a limit."""
    limiter = current_app.extensions["widget.limiter"]
    if limiter is None:
        return
    for item in current_app.extensions["widget.limits"][kind]:
        if not limiter.hit(item, kind, key):
            reset_at = limiter.get_window_stats(item, kind, key).reset_time
            raise ApiError(429, "rate_limited",
                           retry_after=max(1, math.ceil(reset_at - time.time())))
