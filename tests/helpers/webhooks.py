"""Helpers shared by the webhook test modules (tests/test_webhooks.py and
tests/test_webhooks_manage.py): the app's settings for a receiver on loopback (a
fixture), that receiver (a threaded http.server which checks nothing itself; a fixture),
a webhook added straight in the database, the worker's loop run until nothing is due,
and an owner API key's Bearer header."""
from __future__ import annotations

import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import standardwebhooks

from widget.mail import worker as mail_worker
from widget.sites import keys
from widget.sync import webhooks


@pytest.fixture
def app_config(app_config):
    app_config.update(WEBHOOK_ALLOW_PRIVATE=True, OUTBOX_RETRY_SECONDS=0.05,
                      WEBHOOK_RETRY_HOURS=1, MAIL_FROM="news@blog.example")
    return app_config


class Receiver:
    """A webhook endpoint on loopback that records every request and answers with
    `status(request_number)` (which may block); `stop()` closes its port, `start()`
    opens the same port again."""

    def __init__(self, host: str = "127.0.0.1"):
        self.host, self.port, self.got, self.lock = host, 0, [], threading.Lock()
        self.status = lambda n: 200
        self.server = None
        self.start()

    def start(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with receiver.lock:
                    receiver.got.append((dict(self.headers), body))
                    n = len(receiver.got)
                code = receiver.status(n)
                self.send_response(code)
                self.send_header("Content-Type", "text/plain")
                self.end_headers()
                self.wfile.write(f"answer {n}: {code}".encode())

            def log_message(self, *args):
                pass

        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        server_class = type("Server", (ThreadingHTTPServer,), {"address_family": family})
        self.server = server_class((self.host, self.port), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/hooks/widget"

    def verified(self, secret: str) -> list[dict]:
        """Every payload received, each checked by standardwebhooks (raises if not)."""
        check = standardwebhooks.Webhook(secret)
        return [check.verify(body, headers) for headers, body in self.got]


@pytest.fixture
def receiver():
    made = Receiver()
    yield made
    made.stop()


def add_hook(query, site: str, url: str, types=None) -> tuple[int, str]:
    made = query(lambda s: webhooks.create(s, site, url, types))
    return made.row.id, made.secret


def drain(app, worker: str = "test-worker") -> None:
    """The worker's loop body until nothing is due: claim, deliver, record."""
    while mail_worker.drain_once(app, worker):
        pass


def bearer(query, site: str, scope: str) -> dict:
    key = query(lambda s: keys.create(s, site, scope, "test").key)
    return {"Authorization": f"Bearer {key}"}
