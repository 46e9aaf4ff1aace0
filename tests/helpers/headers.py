"""Helpers shared by the security-header test modules (tests/test_headers.py and
tests/test_headers_link_gift.py): a Content-Security-Policy read as a dict, and the
headers every kind of answer must carry (one rule decides them in the app:
widget/core/pages.py:security_headers)."""
from __future__ import annotations

import requests

LINK_PATHS = ("/confirm/", "/unsubscribe/", "/gift/", "/rate/", "/r/", "/share/", "/letter/")

# The e-mail HTML the dashboard serves (sandboxed), and who may frame it: the copy
# editor's preview is shown in an iframe on the editor's page; the outbox's is opened.
EMAIL_HTML = {"dashboard.outbox_html": "'none'", "dashboard.mail_copy_preview": "'self'",
              "dashboard.letter_preview_html": "'self'"}


def policy(value: str | None) -> dict[str, list[str]]:
    """A Content-Security-Policy as {directive: sources}."""
    return {d.split()[0]: d.split()[1:] for d in (value or "").split(";") if d.strip()}


def check(resp: requests.Response, path: str, endpoint: str, https: bool,
          stored: str | None = None) -> str:
    """Assert the headers `resp` must carry; returns its kind. `stored`: for a 304, the
    policy of the answer it confirms (a cache keeps that one)."""
    h, status = resp.headers, resp.status_code
    where = (resp.request.method, path, status, h.get("Content-Type"))
    assert h.get("X-Content-Type-Options") == "nosniff", where
    assert h.get("Referrer-Policy") == ("no-referrer" if path.startswith(LINK_PATHS)
                                        else "strict-origin-when-cross-origin"), where
    assert h.get("Strict-Transport-Security") == ("max-age=31536000" if https else None), where
    assert h.get("Cross-Origin-Resource-Policy") in (None, "cross-origin"), where
    csp = policy(h.get("Content-Security-Policy"))
    if status == 304:
        assert h.get("Content-Security-Policy") in (None, stored), where
        assert "X-Frame-Options" not in h, where
        return "not modified"
    mimetype = h.get("Content-Type", "").split(";")[0]
    if mimetype == "text/html" and status != 204:
        if endpoint in EMAIL_HTML and status == 200:
            ancestors = EMAIL_HTML[endpoint]
            assert "sandbox" in csp and csp["default-src"] == ["'none'"], (where, csp)
            assert csp["frame-ancestors"] == [ancestors], (where, csp)
            assert h["X-Frame-Options"] == {"'self'": "SAMEORIGIN", "'none'": "DENY"}[ancestors]
            return "e-mail HTML"
        assert csp["default-src"] == ["'self'"] and csp["frame-ancestors"] == ["'none'"], \
            (where, csp)
        assert csp["base-uri"] == ["'none'"] and csp["form-action"] == ["'self'"], (where, csp)
        assert "'unsafe-" not in h["Content-Security-Policy"], where
        assert h.get("X-Frame-Options") == "DENY", where
        return "page"
    if endpoint == "gifts.download" and status in (200, 206):
        assert "sandbox" in csp and csp["default-src"] == ["'none'"], (where, csp)
        assert csp["frame-ancestors"] == ["'none'"], (where, csp)
        return "file"
    assert csp == {"default-src": ["'none'"], "frame-ancestors": ["'none'"]}, (where, csp)
    return f"resource {mimetype or '(none)'}"
