"""Every dashboard page on a 390 px phone: nothing wider than the screen, so no page
scrolls sideways (a table too wide for it scrolls inside its own box)."""
from __future__ import annotations

import pytest
from playwright.sync_api import Page

from .helpers.browser import DASHBOARD_PAGES as PAGES, log_in

pytestmark = pytest.mark.browser


def test_no_dashboard_page_scrolls_sideways_on_a_phone(page: Page, demo):
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, demo)
    wide = {}
    for path in PAGES:
        resp = page.goto(demo["base"] + path)
        assert resp.status == 200, (path, resp.status)
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > 390:
            wide[path] = (width, page.evaluate("""() => [...document.querySelectorAll('body *')]
                .filter(e => e.getBoundingClientRect().right > 391)
                .slice(0, 3).map(e => e.tagName + '.' + e.className)"""))
    assert wide == {}
