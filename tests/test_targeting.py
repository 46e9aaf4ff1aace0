"""Targeting and frequency in a real Chromium: who sees a pop-up, on which page, and how
often; decided in the browser from the config and the browser's own memory."""
from __future__ import annotations

import time

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import create_engine, update

from widget.models import Site

from .helpers.browser import Loader, host_page, sign_up_in_widget
from .helpers.demo import add_widget

pytestmark = pytest.mark.browser


def shows(page: Page, wid: str, within: int = 5000) -> bool:
    """Whether widget `wid` (triggered after 1 s) pops up within `within` ms."""
    try:
        expect(page.get_by_role("dialog", name=f"Widget {wid}")).to_be_visible(timeout=within)
        return True
    except AssertionError:
        return False


def stays_hidden(loader: Loader, wid: str) -> bool:
    """Whether widget `wid` (triggered after 1 s) is not shown, nor on its way, once the
    loader has checked its triggers twice on this page (so past the 1 s mark)."""
    loader.checked_since_load(2)
    dialog = loader.page.get_by_role("dialog", name=f"Widget {wid}")
    return not loader.asked_for_ui() and dialog.count() == 0


# Each test adds its widgets before its first page load: the browser keeps the config
# for a minute (Cache-Control), as it would for a real visitor.


def test_page_addresses(page: Page, demo, host):
    loader = Loader(page)
    inside = add_widget(demo, [["time", 1]], url_include="/t-*\n/other/*")
    outside = add_widget(demo, [["time", 1]], url_include="/blog/*")
    excluded = add_widget(demo, [["time", 1]], url_exclude="/t-*")
    host_page(page, demo, host, inside)
    assert shows(page, inside)
    page.evaluate("localStorage.clear()")  # below the visit cap again
    host_page(page, demo, host, outside)
    assert stays_hidden(loader, outside)
    host_page(page, demo, host, excluded)
    assert stays_hidden(loader, excluded)


def test_utm_source_and_referrer(page: Page, demo, host):
    loader = Loader(page)
    utm = add_widget(demo, [["time", 1]], utm_source="nyhetsbrev")
    ref = add_widget(demo, [["time", 1]], referrer="news.example")
    host_page(page, demo, host, utm)
    assert stays_hidden(loader, utm)
    host_page(page, demo, host, utm, query="?utm_source=Nyhetsbrev&utm_medium=e-post")
    assert shows(page, utm)
    page.evaluate("localStorage.clear()")  # a new visitor, below the visit cap again
    host_page(page, demo, host, ref)
    assert stays_hidden(loader, ref)
    host_page(page, demo, host, ref, referer="http://news.example/item?id=1")
    assert shows(page, ref)


def test_devices(page: Page, demo, host, browser, playwright):
    loader = Loader(page)
    mobile = add_widget(demo, [["time", 1]], device="mobile")
    host_page(page, demo, host, mobile)
    assert stays_hidden(loader, mobile)
    context = browser.new_context(**playwright.devices["Pixel 7"])
    phone = context.new_page()
    host_page(phone, demo, host, mobile)
    assert shows(phone, mobile)
    context.close()


def test_new_and_returning_visitors(page: Page, demo, host):
    loader = Loader(page)
    returning = add_widget(demo, [["time", 1]], visitor="returning")
    host_page(page, demo, host, returning)
    assert stays_hidden(loader, returning)  # a first visit
    hour_ago = int(time.time() * 1000) - 3_600_000
    page.evaluate(f"localStorage.setItem('rw', JSON.stringify({{v: {hour_ago}}}))")
    host_page(page, demo, host, returning)
    assert shows(page, returning)


def test_visit_cap_and_no_pop_ups_after_a_sign_up_until_the_owner_resets(page: Page, demo,
                                                                        host):
    loader = Loader(page)
    first, second = add_widget(demo, [["time", 1]]), add_widget(demo, [["time", 1]])
    host_page(page, demo, host, first)
    assert shows(page, first)
    page.keyboard.press("Escape")
    host_page(page, demo, host, second)
    assert stays_hidden(loader, second)  # the site's cap: one pop-up per visit
    page.evaluate("localStorage.setItem('rw', JSON.stringify("
                  "{...JSON.parse(localStorage.getItem('rw')), c: [Date.now() - 3600000]}))")
    host_page(page, demo, host, second)
    assert shows(page, second)  # an hour later it is a new visit
    dialog = page.get_by_role("dialog")
    sign_up_in_widget(dialog, "capped@example.com")
    expect(dialog.get_by_role("status")).to_be_visible()
    page.evaluate("localStorage.setItem('rw', JSON.stringify("
                  "{...JSON.parse(localStorage.getItem('rw')), c: [], q: {}}))")
    host_page(page, demo, host, first)
    assert stays_hidden(loader, first)  # signed up: no more pop-ups
    engine = create_engine(demo["db"])
    with engine.begin() as conn:  # what "show pop-ups to them again" does
        conn.execute(update(Site).where(Site.id == "demo-blog")
                     .values(reset_count=Site.reset_count + 1))
    engine.dispose()
    # Visitors get the change once their cached config expires (a minute); skip the wait.
    page.context.new_cdp_session(page).send("Network.clearBrowserCache")
    host_page(page, demo, host, first)
    assert shows(page, first)
