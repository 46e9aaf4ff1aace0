"""A link gift's page and its button under the pages' security headers: browsers check
form-action at every hop of a form's redirects, so the page of a link gift names the
link's origin, and only that page does. Over real HTTP on SQLite and PostgreSQL, and in
Chromium against `widget demo` with a host page on a third origin (nothing refused, and
the button reaches the owner's link). What every other answer carries is
tests/test_headers.py's."""
from __future__ import annotations

import uuid
from urllib.parse import urlsplit

import pytest
import requests
from playwright.sync_api import Page
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from widget.models import Gift, Widget

from .helpers.gifts import claimed, make_gift, make_widget
from .helpers.headers import check, policy


def test_a_link_gifts_button_may_lead_on_to_its_link(client, make_site, query):
    """Browsers check form-action at every hop of a form's redirects: the page of a link
    gift names the link's origin, and only that page does."""
    site = make_site()
    link = "https://gifts.example:8443/checklist"
    gift = make_gift(query, site, "link", url=link)
    page = urlsplit(claimed(client, site, make_widget(query, site, gift))["page"]).path
    resp = client.get(page)
    assert policy(resp.headers["Content-Security-Policy"])["form-action"] == [
        "'self'", "https://gifts.example:8443"]
    hop = client.post(page)
    assert client.get(urlsplit(hop.headers["Location"]).path).headers["Location"] == link
    check(client.get("/gift/nope"), "/gift/nope", "gifts.gift_page", https=False)


@pytest.mark.browser
def test_chromium_follows_a_link_gifts_button_to_the_link(page: Page, demo, host):
    """The pages' policy in a real browser: nothing refused on a gift page, and its button
    reaches the owner's link on another origin."""
    (host["root"] / "checklist.html").write_text("<!doctype html><title>Checklist</title>")
    link = f"{host['origin']}/checklist.html"
    engine = create_engine(demo["db"])
    with Session(engine) as session:
        gift = Gift(site_id="demo-blog", kind="link", title="The checklist", url=link)
        session.add(gift)
        session.flush()
        widget = Widget(site_id="demo-blog", name=f"w{uuid.uuid4().hex[:8]}", kind="gift",
                        gift_id=gift.id, gift_mode="first", layout="inline", triggers=[])
        session.add(widget)
        session.commit()
        widget_id = widget.id
    engine.dispose()
    given = requests.post(f"{demo['base']}/api/v1/sites/demo-blog/grants",
                          json={"widget": widget_id}, timeout=10).json()["grant"]
    refused = []
    page.on("console", lambda m: refused.append(m.text) if "Security Policy" in m.text
            else None)
    page.goto(given["page"])
    page.locator("form button").click()
    page.wait_for_url(link, timeout=10000)
    assert refused == []
