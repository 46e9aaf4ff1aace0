"""Large exports read as a browser downloads them: the streamed body counted and its
ends kept, for the export tests of contacts and of a gift's ledger."""
from __future__ import annotations

from datetime import datetime, timezone

from .http import HttpClient

N = 100_000  # rows in the large exports
START = datetime(2026, 1, 1, tzinfo=timezone.utc)  # person i signed up i seconds later


def read_streamed(client: HttpClient, path: str, **kw) -> tuple[int, bytes, bytes]:
    """(lines, the first 4 KiB, the last 4 KiB) of a download read 64 KiB at a time."""
    lines, head, tail = 0, b"", b""
    with client.http.get(client.url + path, stream=True, timeout=300, **kw) as resp:
        assert resp.status_code == 200, resp.text[:300]
        for chunk in resp.iter_content(1 << 16):
            lines += chunk.count(b"\n")
            head = head or chunk[:4096]
            tail = (tail + chunk)[-4096:]
    return lines, head, tail


def last_line(tail: bytes) -> str:
    return tail.decode("utf-8", "replace").rstrip("\r\n").rsplit("\n", 1)[-1]
