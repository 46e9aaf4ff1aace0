"""Targeting rules: what the owner sets per widget, compiled into the short lists the
loader checks in the browser ([what, regex, negate]; what: u page URL, r referrer,
d device, n new or returning visitor). Page language is decided here instead: the
config is already per language."""
from __future__ import annotations

import re
from urllib.parse import quote

DEVICES = ("any", "desktop", "mobile")
VISITORS = ("any", "new", "returning")


def _glob(pattern: str) -> str:
    """A page pattern ('/blog/*' or a full URL, '*' for anything) as a regex body."""
    body = re.escape(pattern.strip()).replace(r"\*", ".*")
    return body if pattern.strip().lower().startswith("http") else "https?://[^/]+" + body


def url_regex(lines: str) -> str | None:
    """One anchored regex for a list of patterns, one per line; None when empty."""
    patterns = [line for line in lines.splitlines() if line.strip()]
    if not patterns:
        return None
    return "^(" + "|".join(_glob(p) for p in patterns) + ")(#.*)?$"


def compile_widget(w) -> tuple[tuple[str, str, int], ...]:
    """The targeting of widget `w` as the loader reads it; () when it shows everywhere."""
    found = []
    if (include := url_regex(w.url_include or "")) is not None:
        found.append(("u", include, 0))
    if (exclude := url_regex(w.url_exclude or "")) is not None:
        found.append(("u", exclude, 1))
    # The loader names devices and visitors by their first letter: m(obile)/d(esktop),
    # n(ew)/r(eturning).
    if w.device and w.device != "any":
        found.append(("d", f"^{w.device[0]}$", 0))
    if w.visitor and w.visitor != "any":
        found.append(("n", f"^{w.visitor[0]}$", 0))
    if w.referrer:
        found.append(("r", re.escape(w.referrer.strip()), 0))
    if w.utm_source:
        found.append(("u", f"[?&]utm_source={re.escape(quote(w.utm_source.strip()))}(&|#|$)", 0))
    return tuple(found)
