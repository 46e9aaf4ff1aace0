"""Every layout in a real Chromium on a host page of another origin: where it appears,
what it does to focus, and that the page under it does not move."""
from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from .helpers.browser import host_page, sign_up_in_widget
from .helpers.demo import add_widget

pytestmark = pytest.mark.browser


def heading_box(page: Page):
    return page.locator("h1").bounding_box()


@pytest.mark.parametrize("layout", ["slide_in", "bar_top", "bar_bottom"])
def test_non_modal_layouts_overlay_without_shift_or_stolen_focus(page: Page, demo, host,
                                                                 layout):
    wid = add_widget(demo, [["time", 1]], layout=layout)
    host_page(page, demo, host, wid)
    before = heading_box(page)
    page.locator("h1").click()  # the reader is on the page
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    assert dialog.get_attribute("aria-modal") == "false"
    assert heading_box(page) == before  # fixed over the page: nothing moved
    assert page.evaluate("document.activeElement.tagName") == "BODY"  # focus not taken
    box, view = dialog.bounding_box(), page.viewport_size
    if layout == "bar_top":
        assert box["y"] == 0 and box["width"] == view["width"]
    elif layout == "bar_bottom":
        assert abs(box["y"] + box["height"] - view["height"]) < 1
    else:
        assert box["x"] + box["width"] < view["width"] and box["x"] > view["width"] / 2
    # Reachable from the keyboard, and Escape closes it once focus is inside.
    dialog.get_by_label("Your e-mail").focus()
    page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)


def test_inline_renders_in_its_placeholder_without_moving_the_page(page: Page, demo):
    with page.expect_response(lambda r: "/static/js/ui.js" in r.url):
        page.goto(f"{demo['pages']}/blog-post.html")
    region = page.get_by_role("region", name="Liked this? Get the next one by e-mail")
    expect(region).to_be_visible()
    slot = page.locator("[data-widget-inline]").bounding_box()
    assert slot["height"] == 380  # the space the page reserved: later text did not move
    expect(region.get_by_role("button", name="No thanks")).to_have_count(0)
    sign_up_in_widget(region, "inline@example.com")
    expect(region.get_by_role("status")).to_have_text("Almost done! Check your inbox and confirm your address. 📬")
    page.wait_for_timeout(1500)  # past any "time" trigger of 1 s another test could leave
    expect(page.get_by_role("dialog")).to_have_count(0)  # inline is not a pop-up
