"""Every dashboard page on a 390 px phone, a contact's page included: nothing wider than
the screen, so no page scrolls sideways, and axe finds nothing at this width either (a
section scrolling inside itself, out of a keyboard's reach, would be one)."""
from __future__ import annotations

import pytest
import requests
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page

from .helpers.browser import DASHBOARD_PAGES as PAGES, log_in

pytestmark = pytest.mark.browser


def test_no_dashboard_page_scrolls_sideways_on_a_phone(page: Page, demo):
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, demo)
    wide, axe = {}, {}
    signed = requests.post(f"{demo['base']}/api/v1/sites/demo-blog/subscriptions", timeout=10,
                           headers={"Origin": demo["pages"]},
                           json={"email": "narrow-screen@example.com", "consent": True})
    assert signed.status_code == 200, signed.text
    page.goto(demo["base"] + "/dashboard/sites/demo-blog/contacts")
    contact = page.locator("a[href*='/contacts/']").filter(has_text="@").first
    for path in PAGES + [contact.get_attribute("href")]:
        resp = page.goto(demo["base"] + path)
        assert resp.status == 200, (path, resp.status)
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > 390:
            wide[path] = (width, page.evaluate("""() => [...document.querySelectorAll('body *')]
                .filter(e => e.getBoundingClientRect().right > 391)
                .slice(0, 3).map(e => e.tagName + '.' + e.className)"""))
        found = Axe().run(page).response["violations"]
        if found:
            axe[path] = [(v["id"], len(v["nodes"])) for v in found]
    assert wide == {} and axe == {}
