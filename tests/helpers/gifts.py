"""Helpers shared by the gift test modules: gifts, files, coupon codes and gift widgets
written straight into the database (set-up only), claims and sign-ups over real HTTP,
tokens minted as the app mints them, many requests at once, and moving time (a grant's
dates, a follow-up's due time). Visitors only ever act through real HTTP."""
from __future__ import annotations

import http.client
import os
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from html import unescape
from io import BytesIO

import requests
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import and_, func, or_, select, update
from werkzeug.datastructures import FileStorage

from widget.core import tokens
from widget.gifts import coupons, files, grants
from widget.models import Coupon, Gift, Grant, OutboxMessage, Widget, utcnow

from .http import BASE
from .mail import path_of
from .smtp import links_in
from .waiting import wait_until

TITLE = "The starter log"
CHUNK = files.CHUNK
NOT_ON_DISK = (b"WIDGET_SECRET_KEY", b"root:x:0:0", b"import ")  # widget/settings.py, passwd


# --- set-up straight in the database ---------------------------------------------------

def pdf(size: int = 4000) -> bytes:
    """A PDF by its magic number, with random bytes so two files never look alike."""
    return b"%PDF-1.4\n" + os.urandom(size)


def make_file(query, site: str, data: bytes, filename: str = "log.pdf") -> int:
    """An uploaded gift file, stored as the dashboard stores it (raises FileRefused)."""
    def run(s):
        row = files.store(s, site, FileStorage(BytesIO(data), filename=filename), 10 << 20)
        s.commit()
        return row.id
    return query(run)


def make_gift(query, site: str, kind: str = "file", title: str = TITLE, codes=(),
              **attrs) -> str:
    def run(s):
        gift = Gift(site_id=site, kind=kind, title=title, **attrs)
        s.add(gift)
        s.flush()
        if codes:
            coupons.add(s, gift.id, list(codes))
        s.commit()
        return gift.id
    return query(run)


def make_widget(query, site: str, gift_id: str, mode: str = "first", **attrs) -> str:
    def run(s):
        widget = Widget(site_id=site, name=f"gift {mode}", kind="gift", gift_id=gift_id,
                        gift_mode=mode, layout="inline", triggers=[], **attrs)
        s.add(widget)
        s.commit()
        return widget.id
    return query(run)


def file_gift(query, site: str, mode: str = "first", data: bytes | None = None,
              filename: str = "log.pdf", **attrs) -> tuple[str, str]:
    """A file gift and a gift widget giving it in `mode`: (gift id, widget id)."""
    file_id = make_file(query, site, data if data is not None else pdf(), filename)
    gift = make_gift(query, site, "file", file_id=file_id, **attrs)
    return gift, make_widget(query, site, gift, mode)


# --- visitors, over real HTTP ----------------------------------------------------------

def claim(client, site: str, widget: str, **body):
    return client.post(f"/api/v1/sites/{site}/grants", json={"widget": widget, **body})


def claimed(client, site: str, widget: str, **body) -> dict:
    """A gift-first claim that must succeed: the grant part of the 201."""
    resp = claim(client, site, widget, **body)
    assert resp.status_code == 201, resp.text
    return resp.json()["grant"]


def gift_signup(client, site: str, email: str, widget: str | None = None, **body):
    data = {"email": email, "consent": True, **body}
    if widget:
        data["widget"] = widget
    return client.post(f"/api/v1/sites/{site}/subscriptions", json=data)


def subscriber_grant(client, query, site: str, gift: str, widget: str,
                     email: str = "reader@example.com") -> Grant:
    """A confirmed subscriber's gated gift, on a site without double opt-in: its row."""
    assert gift_signup(client, site, email, widget).status_code == 200
    grant = only_grant(query, gift)
    assert grant.released_at is not None and grant.subscriber_id is not None
    return grant


def ticket(client, page: str) -> str:
    """Press the gift page's button: the path of the download ticket it 303s to."""
    resp = client.post(page)
    assert resp.status_code == 303, (resp.status_code, resp.text[:300])
    assert resp.headers["Location"].startswith(BASE + "/gift/get/")
    return path_of(resp.headers["Location"])


def at_once(fn, items: list) -> list:
    """fn(item) for every item, each in its own thread and connection, all released
    together by a barrier: as concurrent as real HTTP clients get."""
    barrier = threading.Barrier(len(items))

    def run(item):
        barrier.wait(10)
        return fn(item)
    with ThreadPoolExecutor(len(items)) as pool:
        return list(pool.map(run, items))


def post_json(url: str, body: dict) -> requests.Response:
    """One POST on a connection of its own (requests' sessions are not thread-safe)."""
    return requests.post(url, json=body, timeout=60)


def raw_request(client, method: str, path: str) -> tuple[int, bytes, dict]:
    """A request whose path goes out exactly as written (requests would remove '..')."""
    host, port = client.url.rsplit("//", 1)[1].split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        conn.putrequest(method, path, skip_accept_encoding=True)
        conn.putheader("Content-Length", "0")
        conn.endheaders()
        resp = conn.getresponse()
        return resp.status, resp.read(), dict(resp.getheaders())
    finally:
        conn.close()


# --- pages ------------------------------------------------------------------------------

def forms(html: str) -> list[str]:
    """The actions of the page's POST forms."""
    return re.findall(r'<form method="post" action="([^"]+)"', html)


def hrefs(html: str) -> list[str]:
    """The page's own links: the way back to its site at the top (test_public_home.py)
    aside."""
    html = re.sub(r'<header class="site-home">.*?</header>', "", html)
    return [unescape(h) for h in re.findall(r'<a href="([^"]+)"', html)]


def assert_page(resp, status: int, *texts: str) -> str:
    """A friendly HTML page with this status and these texts, never cached, no trace of
    the code; returns its text."""
    assert resp.status_code == status, (resp.request.method, resp.url, resp.status_code,
                                        resp.text[:500])
    assert resp.headers["Content-Type"].startswith("text/html")
    assert resp.headers["Cache-Control"] == "no-store"
    text = unescape(resp.text)
    for wanted in texts:
        assert wanted in text, (wanted, text)
    assert "Traceback" not in text and 'File "' not in text
    return text


# --- tokens, as the app mints them -------------------------------------------------------

def sign(app, purpose: str, value, seconds_ago: float = 0) -> str:
    """A genuine token for `purpose` carrying `value`, signed `seconds_ago` seconds ago."""
    class Then(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time() - seconds_ago)
    with app.app_context():
        tokens.sign(purpose, value)  # the purpose is one the app knows
        return URLSafeTimedSerializer(app.config["SECRET_KEY"], salt=f"widget.{purpose}",
                                      signer=Then).dumps(value)


def page_of(app, query, grant_id: int) -> str:
    """The path of a grant's page, as the app links it (e.g. from an e-mail)."""
    def run(s):
        with app.app_context():
            return path_of(grants.page_url(grants.token(s.get(Grant, grant_id))))
    return query(run)


def rating_link(app, query, grant_id: int, stars: int) -> str:
    def run(s):
        with app.app_context():
            return path_of(grants.rating_url(s.get(Grant, grant_id), stars))
    return query(run)


# --- rows ------------------------------------------------------------------------------

def grants_of(query, gift_id: str) -> list[Grant]:
    return query(lambda s: s.scalars(select(Grant).where(Grant.gift_id == gift_id)
                                     .order_by(Grant.id)).all())


def only_grant(query, gift_id: str) -> Grant:
    found = grants_of(query, gift_id)
    assert len(found) == 1, found
    return found[0]


def grant_row(query, grant_id: int) -> Grant:
    return query(lambda s: s.get(Grant, grant_id))


def gift_row(query, gift_id: str) -> Gift:
    return query(lambda s: s.get(Gift, gift_id))


def code_of(query, grant_id: int) -> str | None:
    return query(lambda s: s.scalar(select(Coupon.code).where(Coupon.grant_id == grant_id)))


def set_grant(query, grant_id: int, **values) -> None:
    def run(s):
        s.execute(update(Grant).where(Grant.id == grant_id).values(**values))
        s.commit()
    query(run)


def age_grant(query, grant_id: int, days: float) -> None:
    """Move a grant `days` into the past: given, released, mailed and expiring earlier."""
    def run(s):
        row = s.get(Grant, grant_id)
        for name in ("created_at", "released_at", "expires_at", "mailed_at"):
            if getattr(row, name) is not None:
                setattr(row, name, getattr(row, name) - timedelta(days=days))
        s.commit()
    query(run)


def outbox(query) -> list[OutboxMessage]:
    return query(lambda s: s.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all())


def drain_due(query, timeout: float = 15.0) -> None:
    """Wait until the worker handled every message due now (follow-ups wait for days)."""
    def busy(s):
        now = utcnow()
        return s.scalar(select(func.count(OutboxMessage.id)).where(or_(
            and_(OutboxMessage.status == "queued", OutboxMessage.next_attempt_at <= now),
            OutboxMessage.status == "sending")))
    wait_until(lambda: query(busy) == 0, "the due outbox to drain", timeout)


def make_due(query, message_id: int) -> None:
    def run(s):
        s.execute(update(OutboxMessage).where(OutboxMessage.id == message_id)
                  .values(next_attempt_at=utcnow()))
        s.commit()
    query(run)


def gift_link(mail) -> str:
    """The path of the gift page link in a message."""
    found = [path_of(l) for l in links_in(mail) if l.startswith(BASE + "/gift/")]
    assert len(found) == 1, links_in(mail)
    return found[0]


def plain(mail) -> str:
    return mail.get_body(("plain",)).get_content()


def html_part(mail) -> str:
    return unescape(mail.get_body(("html",)).get_content())
