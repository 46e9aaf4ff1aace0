"""A blog's feed on loopback for tests: RSS 2.0, Atom and JSON Feed bodies, and a threaded
HTTP server that honours If-None-Match and If-Modified-Since."""
from __future__ import annotations

import json
import threading
import time
from datetime import datetime, timezone
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

POSTS = [("p1", "First post", "2026-11-20T09:00:00+00:00"),
         ("p2", "Second post", "2026-11-27T09:00:00+00:00")]
NEW_POST = ("p3", "Third post", "2026-12-04T09:00:00+00:00")


def rss(posts) -> bytes:
    items = "".join(f"<item><guid>https://blog.example/{k}</guid><title>{t}</title>"
                    f"<link>https://blog.example/{k}</link><description>About {t}</description>"
                    f"<pubDate>{format_datetime(datetime.fromisoformat(d))}</pubDate></item>"
                    for k, t, d in posts)
    return (f'<?xml version="1.0"?><rss version="2.0"><channel><title>Blog</title>'
            f"<link>https://blog.example/</link>{items}</channel></rss>").encode()


def atom(posts) -> bytes:
    entries = "".join(f"<entry><id>tag:blog.example,2026:{k}</id><title>{t}</title>"
                      f'<link href="/{k}"/><updated>{d}</updated><summary>About {t}</summary>'
                      f"</entry>" for k, t, d in posts)
    return (f'<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
            f"<title>Blog</title><id>tag:blog.example,2026:feed</id>"
            f"<updated>2026-12-01T00:00:00Z</updated>{entries}</feed>").encode()


def json_feed(posts) -> bytes:
    return json.dumps({"version": "https://jsonfeed.org/version/1.1", "title": "Blog",
                       "items": [{"id": k, "url": f"/{k}", "title": t, "summary": f"About {t}",
                                  "date_published": d} for k, t, d in posts]}).encode()


FORMATS = {"rss": (rss, "application/rss+xml"), "atom": (atom, "application/atom+xml"),
           "json": (json_feed, "application/feed+json")}


class FeedServer:
    """A blog's feed on loopback: ETag and Last-Modified on every 200, a 304 when the
    request's validators match; /old redirects to it; `status`, `delay`, `drip` and `body`
    break it on demand."""

    def __init__(self):
        self.body, self.content_type = b"", "application/rss+xml"
        self.status, self.delay, self.drip, self.etag_on = 200, 0.0, 0.0, True
        self.version, self.requests, self.not_modified = 0, [], 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (the standard library's name)
                outer.requests.append(dict(self.headers))
                if self.path == "/old":  # the feed moved
                    self.send_response(301)
                    self.send_header("Location", "/feed")
                    self.end_headers()
                    return
                time.sleep(outer.delay)
                etag, modified = f'"v{outer.version}"', format_datetime(
                    datetime(2026, 12, 1, outer.version, tzinfo=timezone.utc), usegmt=True)
                fresh = (self.headers.get("If-None-Match") == etag if outer.etag_on
                         else self.headers.get("If-Modified-Since") == modified)
                if outer.status == 200 and fresh:
                    outer.not_modified += 1
                    self.send_response(304)
                    self.end_headers()
                    return
                self.send_response(outer.status)
                self.send_header("Content-Type", outer.content_type)
                self.send_header("Content-Length", str(len(outer.body)))
                if outer.etag_on:
                    self.send_header("ETag", etag)
                self.send_header("Last-Modified", modified)
                self.end_headers()
                for i in range(len(outer.body)) if outer.drip else ():
                    self.wfile.write(outer.body[i:i + 1])
                    self.wfile.flush()
                    time.sleep(outer.drip)
                if not outer.drip:
                    self.wfile.write(outer.body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/feed"
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def serve(self, body: bytes, content_type: str | None = None) -> None:
        """A new version of the feed (a new ETag and Last-Modified)."""
        self.body, self.version = body, self.version + 1
        self.content_type = content_type or self.content_type

    def close(self):
        self.server.shutdown()
        self.server.server_close()
