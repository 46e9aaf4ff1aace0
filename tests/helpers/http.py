"""Real HTTP against the app: a client with the dashboard's CSRF and log-in steps, the
app served on a real socket, and a dashboard form posted with its token."""
from __future__ import annotations

import re
import threading

import requests
from werkzeug.serving import make_server

BASE = "http://127.0.0.1:5000"  # the test app's BASE_URL: every link it makes starts with it
PASSWORD = "correct horse battery"  # of every owner the fixtures create


class HttpClient:
    """A requests session against a base URL, with the dashboard's CSRF and log-in steps."""

    def __init__(self, url: str):
        self.url = url
        self.http = requests.Session()

    def request(self, method: str, path: str, **kw) -> requests.Response:
        kw.setdefault("allow_redirects", False)
        kw.setdefault("timeout", 10)
        return self.http.request(method, self.url + path, **kw)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, **kw):
        return self.request("POST", path, **kw)

    def patch(self, path, **kw):
        return self.request("PATCH", path, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    def csrf(self, path: str) -> str:
        """The CSRF token of the form on the page at `path`."""
        page = self.get(path)
        match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text)
        assert match, f"no CSRF token on {path}"
        return match.group(1)

    def login(self, email: str, password: str = PASSWORD) -> requests.Response:
        token = self.csrf("/dashboard/login")
        return self.post("/dashboard/login",
                         data={"email": email, "password": password, "csrf_token": token})


class LiveServer(HttpClient):
    """The app on a real socket, with a client pointed at it."""

    def __init__(self, application):
        self.server = make_server("127.0.0.1", 0, application, threaded=True)
        super().__init__(f"http://127.0.0.1:{self.server.server_port}")
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True)
        self.thread.start()

    def close(self):
        self.http.close()
        self.server.shutdown()
        self.server.server_close()


def csrf_post(client: HttpClient, path: str, data: dict, page: str | None = None):
    """POST a dashboard form with the CSRF token of the form on `page` (default: `path`)."""
    return client.post(path, data={**data, "csrf_token": client.csrf(page or path)})
