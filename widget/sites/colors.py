"""Owner colours for a widget, and the contrast rule (WCAG 2: 4.5:1 for text) they must meet."""
from __future__ import annotations

import re

from flask_babel import gettext

HEX = re.compile(r"#[0-9a-fA-F]{6}")
DEFAULT = {"bg": "#ffffff", "fg": "#1d232b", "accent": "#1f5fbf"}
MIN_CONTRAST = 4.5
ERROR_RED = "#b3261e"


def luminance(color: str) -> float:
    """Relative luminance of '#rrggbb' (WCAG 2 definition)."""
    def channel(c: int) -> float:
        c = c / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (int(color[i:i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast(a: str, b: str) -> float:
    """The contrast ratio of two colours, 1 to 21."""
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def problems(bg: str, fg: str) -> list[str]:
    """What is wrong with a theme, in words an owner can act on (in the dashboard's
    language; English outside a request); [] when it is fine. The button needs no check:
    black or white on any colour reaches 4.58:1 at worst."""
    if (ratio := contrast(fg, bg)) < MIN_CONTRAST:
        return [gettext("Text on the background has %(ratio).1f:1 contrast; it needs "
                        "%(needed)s:1 to be readable.", ratio=ratio, needed=MIN_CONTRAST)]
    return []


def theme(bg: str | None, fg: str | None, accent: str | None) -> dict | None:
    """The custom properties the widget's stylesheet reads, or None for the default."""
    # Only '#rrggbb' ever reaches the widget's stylesheet, whatever a row holds.
    bg, fg, accent = (c if c and HEX.fullmatch(c) else None for c in (bg, fg, accent))
    if not (bg or fg or accent):
        return None
    bg, fg, accent = bg or DEFAULT["bg"], fg or DEFAULT["fg"], accent or DEFAULT["accent"]
    on_accent = max(("#ffffff", "#000000"), key=lambda c: contrast(c, accent))
    return {"--rw-bg": bg, "--rw-fg": fg, "--rw-muted": fg, "--rw-accent": accent,
            "--rw-on-accent": on_accent,
            "--rw-err": ERROR_RED if contrast(ERROR_RED, bg) >= MIN_CONTRAST else fg}
