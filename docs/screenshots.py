"""The screenshots in the README and docs/, taken from a fresh `widget demo`.

    widget demo    # in an empty folder, so its ./instance starts clean
    python docs/screenshots.py [SERVICE_URL] [EXAMPLES_URL]

Needs Playwright (installed with '.[test]') and Chromium: /usr/bin/chromium when present
(CHROMIUM_PATH overrides), else Playwright's own. The demo's widget titles carry an emoji:
install an emoji font (Debian: fonts-noto-color-emoji) or it shows as a box. It adds a few
sign-ups and widget events through the public API, so the dashboard shows numbers.
"""
import json
import os
import re
import sys
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

APP = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:5000"
PAGES = sys.argv[2] if len(sys.argv) > 2 else "http://127.0.0.1:5001"
OUT = Path(__file__).resolve().parent / "img"
CHROMIUM = os.environ.get("CHROMIUM_PATH") or (
    "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)


def post(path: str, body: dict) -> None:
    urllib.request.urlopen(urllib.request.Request(
        f"{APP}/api/v1/sites/demo-blog/{path}", data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"}))


def seed() -> None:
    for email, name, lang in [("ingrid.baker@example.com", "Ingrid", "en"),
                              ("tom@example.org", "Tom", "en"),
                              ("lars@example.no", "Lars", "nb"),
                              ("mia@example.de", "Mia", "de"),
                              ("sanne@example.nl", "Sanne", "nl")]:
        post("subscriptions", {"email": email, "name": name, "consent": True, "lang": lang,
                               "widget": "w_demo", "page_url": f"{PAGES}/blog-post.html"})
    for i in range(40):  # 40 page views: 11 started on the form, 5 signed up
        events = [{"widget": "w_demo", "type": "impression"},
                  {"widget": "w_demo_inline", "type": "impression"}]
        events += [{"widget": "w_demo", "type": "open"}] if i < 11 else []
        events += [{"widget": "w_demo", "type": "submit" if i < 5 else "close"}] if i < 20 else []
        post("events", {"events": events})


def shoot() -> None:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            "--disable-background-networking"])
        page = browser.new_page(viewport={"width": 1200, "height": 750})
        page.goto(f"{PAGES}/blog-post.html", wait_until="networkidle")
        page.mouse.move(640, 300)  # then out through the top: exit intent
        page.wait_for_timeout(300)
        page.mouse.move(640, -10)
        page.get_by_role("dialog").wait_for()
        page.wait_for_timeout(500)  # the pop-up's entrance
        page.screenshot(path=OUT / "widget.png")

        page.goto(f"{APP}/dashboard/login")
        page.fill("input[name=email]", "demo@example.com")
        page.fill("input[name=password]", "demo-password")
        page.click("button[type=submit], input[type=submit]")
        page.get_by_role("link", name="Demo blog").click()
        page.wait_for_load_state("networkidle")
        # The site's heading, its snippet and its first widgets with their counts.
        bottom = page.locator("tr", has_text="Readers' stories").bounding_box()["y"] + 1
        page.screenshot(path=OUT / "dashboard.png", full_page=True,
                        clip={"x": 0, "y": 0, "width": 1200, "height": bottom})

        # What works: the funnel's chart and table over the last 30 days.
        page.get_by_role("link", name="What works →").click()
        page.wait_for_load_state("networkidle")
        funnel = page.get_by_role("table", name="The funnel").bounding_box()
        page.screenshot(path=OUT / "what-works.png", full_page=True, clip={
            "x": 0, "y": 0, "width": 1200, "height": funnel["y"] + funnel["height"] + 24})

        # An A/B test of the pop-up, just started: the numbers, no winner before the sample.
        page.goto(f"{APP}/dashboard/sites/demo-blog/widgets/w_demo/tests")
        group = page.get_by_role("group", name="Variant B")
        group.get_by_label("Name").fill("Shorter")
        group.get_by_label("Title").fill("Two minutes of bread, every Friday 🍞")
        group.get_by_label("Button text").fill("Yes, every Friday")
        page.get_by_role("button", name="Start the test").click()
        page.wait_for_load_state("networkidle")
        page.screenshot(path=OUT / "ab-test.png", full_page=True)

        # A confirm page, which belongs to its site: the link from a sign-up's e-mail in
        # the dev outbox (the demo sends nothing), opened as the reader would.
        page.goto(f"{APP}/dashboard/sites/demo-blog/outbox")
        page.locator("a[href*='/outbox/']").first.click()
        link = re.search(r"https?://\S+/confirm/[\w.-]+", page.locator("pre.mail").inner_text())
        page.goto(link.group(0))
        page.wait_for_load_state("networkidle")
        page.screenshot(path=OUT / "confirm.png", clip={"x": 0, "y": 0, "width": 1200,
                                                         "height": 360})
        browser.close()


if __name__ == "__main__":
    seed()
    shoot()
    for name in ("widget.png", "dashboard.png", "what-works.png", "ab-test.png", "confirm.png"):
        print(OUT / name, (OUT / name).stat().st_size // 1024, "KB")
