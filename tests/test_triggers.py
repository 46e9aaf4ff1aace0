"""Each trigger in a real Chromium, on a host page of another origin: it fires when it
should and not before; any/all combine; one pop-up per page view; touch screens.

"Not yet" is checked once the loader has checked its triggers since (a pop-up it decided
on has asked for the UI by then); time triggers run on the page's clock, which these
tests move on themselves."""
from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from .helpers.browser import Loader, exit_intent, host_page, scroll_to
from .helpers.demo import add_widget

pytestmark = pytest.mark.browser


def test_time_on_page(page: Page, demo, host):
    loader = Loader(page, paused=True)
    wid = add_widget(demo, [["time", 2]])
    host_page(page, demo, host, wid)
    dialog = page.get_by_role("dialog")
    loader.ready()
    page.clock.run_for(1500)  # three checks, all before the two seconds are up
    expect(dialog).to_have_count(0)
    assert not loader.asked_for_ui()
    page.clock.run_for(500)
    expect(dialog).to_have_accessible_name(f"Widget {wid}", timeout=4000)


def test_scroll_depth(page: Page, demo, host):
    loader = Loader(page)
    wid = add_widget(demo, [["scroll", 60]])
    host_page(page, demo, host, wid)
    dialog = page.get_by_role("dialog")
    page.mouse.wheel(0, 600)
    page.wait_for_function("scrollY >= 600")
    loader.checked()
    expect(dialog).to_have_count(0)
    assert not loader.asked_for_ui()
    page.evaluate("scrollTo(0, document.documentElement.scrollHeight * 0.7)")
    expect(dialog).to_be_visible()


def test_inactivity(page: Page, demo, host):
    loader = Loader(page, paused=True)
    wid = add_widget(demo, [["idle", 2]])
    host_page(page, demo, host, wid)
    dialog = page.get_by_role("dialog")
    loader.ready()
    for x in range(6):  # an active reader: no pop-up
        page.mouse.move(100 + 50 * x, 200)
        page.clock.run_for(400)
    expect(dialog).to_have_count(0)
    assert not loader.asked_for_ui()
    page.clock.run_for(2000)
    expect(dialog).to_be_visible(timeout=4000)  # then still for two seconds


def test_all_means_every_trigger(page: Page, demo, host):
    loader = Loader(page, paused=True)
    wid = add_widget(demo, [["time", 1], ["scroll", 50]], match="all")
    host_page(page, demo, host, wid)
    dialog = page.get_by_role("dialog")
    loader.ready()
    page.clock.run_for(1500)
    expect(dialog).to_have_count(0)  # time passed, no scrolling yet
    assert not loader.asked_for_ui()
    page.evaluate("scrollTo(0, document.documentElement.scrollHeight * 0.6)")
    page.clock.run_for(500)  # the next check
    expect(dialog).to_be_visible()


def test_any_means_the_first_that_happens(page: Page, demo, host):
    wid = add_widget(demo, [["time", 30], ["exit_intent", None]])
    host_page(page, demo, host, wid)
    exit_intent(page)
    expect(page.get_by_role("dialog")).to_be_visible()


def test_one_pop_up_per_page_view(page: Page, demo, host):
    loader = Loader(page)
    first, second = add_widget(demo, [["time", 1]]), add_widget(demo, [["time", 1]])
    host_page(page, demo, host, first, second)
    expect(page.get_by_role("dialog")).to_be_visible()
    loader.checked()  # the UI is here: a second pop-up would be drawn at once
    expect(page.get_by_role("dialog")).to_have_count(1)


def test_click_only_widget_never_opens_by_itself(page: Page, demo, host):
    loader = Loader(page)
    wid = add_widget(demo, [])
    host_page(page, demo, host, wid)
    exit_intent(page)
    loader.checked()
    expect(page.get_by_role("dialog")).to_have_count(0)
    assert not loader.asked_for_ui()
    page.evaluate(f"widget('open', '{wid}')")
    expect(page.get_by_role("dialog")).to_have_accessible_name(f"Widget {wid}")


def test_desktop_scrolling_back_up_is_not_an_exit(page: Page, demo, host):
    loader = Loader(page)
    wid = add_widget(demo, [["exit_intent", None]])
    host_page(page, demo, host, wid)
    scroll_to(page, 3000)
    scroll_to(page, 1500)
    loader.checked()
    expect(page.get_by_role("dialog")).to_have_count(0)
    assert not loader.asked_for_ui()


@pytest.fixture
def phone(browser, playwright):
    context = browser.new_context(**playwright.devices["Pixel 7"])
    yield context.new_page()
    context.close()


def test_touch_exit_intent_is_a_quick_scroll_back_up(phone: Page, demo, host):
    loader = Loader(phone)
    wid = add_widget(demo, [["exit_intent", None]])
    host_page(phone, demo, host, wid)
    assert phone.evaluate("matchMedia('(pointer:coarse)').matches")
    dialog = phone.get_by_role("dialog")
    scroll_to(phone, 200)  # near the top: not yet a reader
    scroll_to(phone, 0)
    loader.checked()
    expect(dialog).to_have_count(0)
    assert not loader.asked_for_ui()
    scroll_to(phone, 3000)
    scroll_to(phone, 2000)  # a flick back up after reading
    expect(dialog).to_be_visible()
    box = dialog.bounding_box()
    assert box["width"] <= phone.viewport_size["width"]
