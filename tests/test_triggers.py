"""Each trigger in a real Chromium, on a host page of another origin: it fires when it
should and not before; any/all combine; one pop-up per page view; touch screens."""
from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from .helpers.browser import exit_intent, host_page
from .helpers.demo import add_widget

pytestmark = pytest.mark.browser


def test_time_on_page(page: Page, demo, host):
    wid = add_widget(demo, [["time", 2]])
    host_page(page, demo, host, wid)
    dialog = page.get_by_role("dialog")
    page.wait_for_timeout(800)
    expect(dialog).to_have_count(0)
    expect(dialog).to_have_accessible_name(f"Widget {wid}", timeout=4000)


def test_scroll_depth(page: Page, demo, host):
    wid = add_widget(demo, [["scroll", 60]])
    host_page(page, demo, host, wid)
    dialog = page.get_by_role("dialog")
    page.mouse.wheel(0, 600)
    page.wait_for_timeout(1200)
    expect(dialog).to_have_count(0)
    page.evaluate("scrollTo(0, document.documentElement.scrollHeight * 0.7)")
    expect(dialog).to_be_visible()


def test_inactivity(page: Page, demo, host):
    wid = add_widget(demo, [["idle", 2]])
    host_page(page, demo, host, wid)
    dialog = page.get_by_role("dialog")
    for x in range(6):  # an active reader: no pop-up
        page.mouse.move(100 + 50 * x, 200)
        page.wait_for_timeout(400)
    expect(dialog).to_have_count(0)
    expect(dialog).to_be_visible(timeout=4000)  # then still for two seconds


def test_all_means_every_trigger(page: Page, demo, host):
    wid = add_widget(demo, [["time", 1], ["scroll", 50]], match="all")
    host_page(page, demo, host, wid)
    dialog = page.get_by_role("dialog")
    page.wait_for_timeout(1800)
    expect(dialog).to_have_count(0)  # time passed, no scrolling yet
    page.evaluate("scrollTo(0, document.documentElement.scrollHeight * 0.6)")
    expect(dialog).to_be_visible()


def test_any_means_the_first_that_happens(page: Page, demo, host):
    wid = add_widget(demo, [["time", 30], ["exit_intent", None]])
    host_page(page, demo, host, wid)
    exit_intent(page)
    expect(page.get_by_role("dialog")).to_be_visible()


def test_one_pop_up_per_page_view(page: Page, demo, host):
    first, second = add_widget(demo, [["time", 1]]), add_widget(demo, [["time", 1]])
    host_page(page, demo, host, first, second)
    expect(page.get_by_role("dialog")).to_be_visible()
    page.wait_for_timeout(1200)
    expect(page.get_by_role("dialog")).to_have_count(1)


def test_click_only_widget_never_opens_by_itself(page: Page, demo, host):
    wid = add_widget(demo, [])
    host_page(page, demo, host, wid)
    exit_intent(page)
    page.wait_for_timeout(800)
    expect(page.get_by_role("dialog")).to_have_count(0)
    page.evaluate(f"widget('open', '{wid}')")
    expect(page.get_by_role("dialog")).to_have_accessible_name(f"Widget {wid}")


def test_desktop_scrolling_back_up_is_not_an_exit(page: Page, demo, host):
    wid = add_widget(demo, [["exit_intent", None]])
    host_page(page, demo, host, wid)
    page.evaluate("scrollTo(0, 3000)")
    page.wait_for_timeout(200)
    page.evaluate("scrollTo(0, 1500)")
    page.wait_for_timeout(800)
    expect(page.get_by_role("dialog")).to_have_count(0)


@pytest.fixture
def phone(browser, playwright):
    context = browser.new_context(**playwright.devices["Pixel 7"])
    yield context.new_page()
    context.close()


def test_touch_exit_intent_is_a_quick_scroll_back_up(phone: Page, demo, host):
    wid = add_widget(demo, [["exit_intent", None]])
    host_page(phone, demo, host, wid)
    assert phone.evaluate("matchMedia('(pointer:coarse)').matches")
    dialog = phone.get_by_role("dialog")
    phone.evaluate("scrollTo(0, 200)")  # near the top: not yet a reader
    phone.evaluate("scrollTo(0, 0)")
    phone.wait_for_timeout(600)
    expect(dialog).to_have_count(0)
    phone.evaluate("scrollTo(0, 3000)")
    phone.wait_for_timeout(200)
    phone.evaluate("scrollTo(0, 2000)")  # a flick back up after reading
    expect(dialog).to_be_visible()
    box = dialog.bounding_box()
    assert box["width"] <= phone.viewport_size["width"]
