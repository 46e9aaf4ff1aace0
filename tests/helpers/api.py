"""The public API as a host page calls it: its origin, and the shape of an error answer."""
from __future__ import annotations

ORIGIN = "https://blog.example"
H = {"Origin": ORIGIN}


def assert_error(resp, status, code, field=None):
    assert resp.status_code == status, resp.text
    assert resp.headers["Content-Type"].startswith("application/json")
    err = resp.json()["error"]
    assert err["code"] == code and err["message"]
    assert err.get("field") == field
