"""A site's public pages wear its colours (issue 17, part 6): /site/<id>/colors.css
carries the owner's widget colours (the oldest widget with an accent colour), only
'#rrggbb' ever reaches it, a site without colours gets the default theme, and the confirm
page links it; in Chromium a confirm page's background is the site's, and axe finds
nothing on it."""
from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path

import pytest
import requests
from axe_playwright_python.sync_playwright import Axe
from flask import Flask
from playwright.sync_api import Page, expect
from sqlalchemy import create_engine, make_url, select
from sqlalchemy.orm import Session

from widget.core import tokens
from widget.models import Subscriber, Widget
from widget.models.core import utcnow

from .helpers.giveback import add_widget, confirm_path, row
from .helpers.mail import signup

DARK = {"color_bg": "#1b2a3a", "color_fg": "#f4f1e8", "color_accent": "#ffb347"}


def css(client, site: str) -> str:
    resp = client.get(f"/site/{site}/colors.css")
    assert resp.status_code == 200, resp.status_code
    assert resp.headers["Content-Type"].startswith("text/css")
    return resp.text


def test_the_stylesheet_carries_exactly_the_sites_colours(client, make_site, query):
    site = make_site()
    # The oldest widget with an accent colour decides; a newer one does not.
    add_widget(query, site, "newsletter", **DARK)
    add_widget(query, site, "story", color_bg="#ffffff", color_fg="#000000",
               color_accent="#00ff00")
    body = css(client, site)
    assert body.splitlines()[0] == ":root{--bg:#1b2a3a;--fg:#f4f1e8;--accent:#ffb347}"
    assert "#00ff00" not in body and "#000000" not in body
    # The card and plain buttons take the site's background, grey text its text colour.
    assert ".public .card,.public .button:not(.primary){background:var(--bg)}" in body
    # Our red for errors is 2.2:1 on #1b2a3a: errors take the text colour too.
    assert ".public{--muted:var(--fg);--err:var(--fg)}" in body
    # #fff on #ffb347 is 1.9:1: the button wears the site's text and background instead.
    assert ".public .primary{background:#f4f1e8;border-color:#f4f1e8;color:#1b2a3a}" in body


def test_an_accent_only_site_keeps_our_text_and_a_readable_button(client, make_site, query):
    site = make_site()
    add_widget(query, site, "newsletter", color_accent="#0B6E4F")
    body = css(client, site)
    assert body == ":root{--accent:#0b6e4f}\n"  # white on it is 6.4:1: nothing else needed


def test_a_light_accent_leaves_links_in_the_text_colour(client, make_site, query):
    site = make_site()
    add_widget(query, site, "newsletter", color_accent="#ffd700")
    body = css(client, site)
    assert ".public a,.public .button:not(.primary){color:var(--fg);border-color:var(--fg)}" \
        in body
    assert ".public .primary{background:#1d232b;border-color:#1d232b;color:#ffffff}" in body


def test_a_site_without_colours_gets_the_default_theme(client, make_site, query):
    site = make_site()
    assert css(client, site) == ""
    add_widget(query, site, "newsletter", color_bg="#000000", color_fg="#ffffff")  # no accent
    assert css(client, site) == ""


def test_a_bad_stored_value_never_reaches_the_css(client, make_site, query):
    site = make_site()
    add_widget(query, site, "newsletter", color_bg="red;}x", color_fg="#12345g",
               color_accent="#0b6e4f")
    assert css(client, site) == ":root{--accent:#0b6e4f}\n"
    other = make_site(name="Other")
    add_widget(query, other, "newsletter", color_accent="}*{x:y")
    assert css(client, other) == ""
    # Text that would not read on the background (entry refuses it; an old row may not).
    third = make_site(name="Third")
    add_widget(query, third, "newsletter", color_bg="#777777", color_fg="#888888",
               color_accent="#0b6e4f")
    assert css(client, third) == ""


def test_an_unknown_site_is_404(client):
    resp = client.get("/site/nope/colors.css")
    assert resp.status_code == 404
    assert resp.headers["Content-Type"].startswith("text/css")


def test_it_is_cached_briefly_with_an_etag(client, make_site, query):
    site = make_site()
    add_widget(query, site, "newsletter", color_accent="#0b6e4f")
    first = client.get(f"/site/{site}/colors.css")
    assert first.headers["Cache-Control"] == "public, max-age=300"
    assert "Cookie" not in first.headers.get("Vary", "")
    again = client.get(f"/site/{site}/colors.css",
                       headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304


def test_the_confirm_page_links_the_stylesheet(app, client, make_site, query):
    site = make_site()
    assert signup(client, site, "reader@example.com").status_code == 200
    page = client.get(confirm_path(app, row(query, "reader@example.com")))
    assert page.status_code == 200
    assert f'<link rel="stylesheet" href="/site/{site}/colors.css">' in page.text
    assert page.text.index("dashboard") < page.text.index("colors.css")


def demo_confirm_url(demo) -> str:
    """A pending sign-up on the demo site and its confirm link, signed with the demo's own
    key (the instance's secret_key file, beside its SQLite database)."""
    email = f"col-{uuid.uuid4().hex[:8]}@example.com"
    resp = requests.post(f"{demo['base']}/api/v1/sites/demo-blog/subscriptions",
                         json={"email": email, "consent": True},
                         headers={"Origin": demo["pages"]}, timeout=10)
    assert resp.status_code == 200, resp.text
    engine = create_engine(demo["db"])
    with Session(engine) as session:
        sub = session.scalar(select(Subscriber).where(Subscriber.email_normalized == email))
    engine.dispose()
    keyed = Flask("demo")
    keyed.config["SECRET_KEY"] = (
        Path(make_url(demo["db"]).database).parent / "secret_key").read_text().strip()
    with keyed.app_context():
        return demo["base"] + "/confirm/" + tokens.sign(
            "confirm", tokens.subscriber_value(sub.id, sub.email_normalized))


@pytest.mark.browser
def test_chromium_shows_a_confirm_page_in_the_sites_colours(page: Page, demo):
    engine = create_engine(demo["db"])
    with Session(engine) as session:
        # Older than any of the demo's widgets: this one's colours are the site's.
        session.add(Widget(site_id="demo-blog", name=f"w{uuid.uuid4().hex[:8]}",
                           kind="newsletter", layout="inline", triggers=[], is_live=False,
                           created_at=utcnow() - timedelta(days=3650), **DARK))
        session.commit()
    engine.dispose()
    page.goto(demo_confirm_url(demo))
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    card = page.evaluate("getComputedStyle(document.querySelector('main')).backgroundColor")
    assert background == card == "rgb(27, 42, 58)"  # #1b2a3a
    assert violations(page) == []
    # The thank-you page it leads to, with its links and buttons, in the same colours.
    page.get_by_role("button").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("You're subscribed 🎉")
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(27, 42, 58)"
    assert violations(page) == []


def violations(page: Page) -> list:
    """axe-core's findings on the whole page: (rule, how many nodes)."""
    return [(v["id"], len(v["nodes"])) for v in Axe().run(page).response["violations"]]
