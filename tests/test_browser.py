"""The whole flow in a real Chromium: `widget demo` serves the service and, on a second
origin, the example pages; a visitor signs up through the pop-up; the owner sees it."""
from __future__ import annotations

import json
import re
import time
import uuid

import pytest
from playwright.sync_api import Page, expect

from .helpers.browser import Loader, exit_intent, log_in, open_example, sign_up_in_widget
from .helpers.http import HttpClient
from .helpers.waiting import wait_until

pytestmark = pytest.mark.browser


def test_demo_prints_what_an_owner_needs(demo):
    assert f"{demo['base']}/dashboard/" in demo["printed"]
    assert "demo@example.com / demo-password" in demo["printed"]
    assert f"{demo['pages']}/blog-post.html" in demo["printed"]


def test_visitor_signs_up_and_owner_sees_it(page: Page, demo):
    with page.expect_response(lambda r: r.url == f"{demo['base']}/embed.js") as loader:
        open_example(page, demo)
    # From the pages' origin to the service's: Chromium takes the loader in Brotli.
    assert loader.value.header_value("content-encoding") == "br"
    dialog = page.get_by_role("dialog")
    expect(dialog).to_have_count(0)
    exit_intent(page)
    expect(dialog).to_be_visible()
    # The per-page copy from the script tag, emoji intact, named by the dialog's title.
    expect(dialog).to_have_accessible_name("Get the printable starter log 🍞")
    expect(dialog).to_contain_text("one-page feeding log")
    # The blog's own styles (Georgia everywhere, its buttons) do not reach inside; the
    # loud ones are hostile.html's (test_isolation.py).
    button = dialog.get_by_role("button", name="Subscribe")
    assert button.evaluate("b => getComputedStyle(b).color") == "rgb(255, 255, 255)"
    assert "Georgia" not in button.evaluate("b => getComputedStyle(b).fontFamily")
    expect(dialog.get_by_role("button", name="No thanks")).to_be_visible()
    email = f"reader-{uuid.uuid4().hex[:8]}@example.com"
    expect(dialog.get_by_label("Your e-mail")).to_be_focused()
    sign_up_in_widget(dialog, email)
    expect(dialog.get_by_role("status")).to_have_text("Almost done! Check your inbox and confirm your address. 📬")

    owner = page.context.new_page()
    log_in(owner, demo)
    owner.get_by_role("link", name="Demo blog").click()
    copy = owner.locator("button[data-copy]")
    expect(copy).to_have_text("Copy snippet")
    copy.click()  # the dashboard's own script runs under its strict CSP
    expect(copy).to_have_text("Copied ✓")
    row = owner.get_by_role("row").filter(has_text=email)
    expect(row).to_contain_text(f"{demo['pages']}/blog-post.html")
    expect(row).to_contain_text("Before you go")


def test_consent_is_asked_and_errors_speak_the_pages_language(page: Page, demo):
    open_example(page, demo, "post-de.html")
    exit_intent(page)
    dialog = page.get_by_role("dialog")
    expect(dialog).to_have_accessible_name("Bevor Sie gehen …")
    german = {"label": "Ihre E-Mail-Adresse", "button": "Abonnieren"}
    sign_up_in_widget(dialog, "kein-at-zeichen", consent=False, **german)
    expect(dialog.get_by_role("alert")).to_have_text(
        "Das sieht nicht wie eine E-Mail-Adresse aus.")
    sign_up_in_widget(dialog, f"leser-{uuid.uuid4().hex[:6]}@example.de", consent=False,
                      **german)
    expect(dialog.get_by_role("alert")).to_contain_text("Häkchen")
    dialog.get_by_role("checkbox", name="Ja, schicken Sie mir E-Mails").check()
    dialog.get_by_role("button", name="Abonnieren").click()
    expect(dialog.get_by_role("status")).to_have_text("Fast geschafft! Bitte bestätigen Sie Ihre Adresse in Ihrem Postfach. 📬")


def test_server_errors_are_shown_in_the_widget(page: Page, demo):
    open_example(page, demo)
    exit_intent(page)
    dialog = page.get_by_role("dialog")
    # Passes the browser's quick check, fails the server's real one.
    sign_up_in_widget(dialog, "a@b..example")
    expect(dialog.get_by_role("alert")).to_have_text("That does not look like an e-mail address.")


def test_escape_closes_and_the_widget_stays_quiet(page: Page, demo):
    loader = Loader(page)
    open_example(page, demo)
    exit_intent(page)
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)
    state = json.loads(page.evaluate("localStorage.getItem('rw')"))
    (until,) = state["q"].values()
    days = (until / 1000 - time.time()) / 86400
    assert 13.9 < days <= 14  # the default quiet period after a close
    open_example(page, demo)
    exit_intent(page)
    loader.checked()  # the loader has looked at its triggers since the exit intent,
    loader.ui_ran()  # and the UI (here for the inline widget) drew what it was given
    expect(dialog).to_have_count(0)
    # Positive control: with the memory cleared the same gesture shows it again.
    page.evaluate("localStorage.clear()")
    open_example(page, demo)
    exit_intent(page)
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="No thanks").click()
    expect(dialog).to_have_count(0)


def test_leaving_sideways_or_staying_shows_nothing(page: Page, demo):
    loader = Loader(page)
    open_example(page, demo, "post-de.html")  # a page without inline widgets
    page.mouse.move(640, 300)
    page.mouse.move(-10, 300)  # out through the left edge: not an exit
    page.mouse.wheel(0, 2000)
    loader.checked()  # a pop-up due by now would have been asked for
    expect(page.get_by_role("dialog")).to_have_count(0)
    assert not loader.asked_for_ui()  # the UI is not even downloaded until a widget shows


def stored_counts(demo):
    """The widget's counters as the owner's dashboard shows them."""
    owner = HttpClient(demo["base"])
    owner.login("demo@example.com", "demo-password")
    html = owner.get("/dashboard/sites/demo-blog").text
    found = re.search(r"(\d+) shown · (\d+) started · (\d+) sign-ups?\b", html).groups()
    return tuple(map(int, found))


def test_two_step_click_opens_the_widget_and_events_reach_the_owner(page: Page, demo):
    before = stored_counts(demo)
    open_example(page, demo)
    page.get_by_role("button", name="Yes, send me the starter log").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    sign_up_in_widget(dialog, f"two-step-{uuid.uuid4().hex[:6]}@example.com")
    expect(dialog.get_by_role("status")).to_be_visible()
    page.goto("about:blank")  # leaving the page sends the batch as a beacon
    after = wait_until(lambda: (counts := stored_counts(demo)) != before and counts,
                       "the beacon's events on the dashboard", 10)
    assert tuple(a - b for a, b in zip(after, before)) == (1, 1, 1)


def test_host_page_api_works_before_the_script_loads(page: Page, demo):
    # The queue stub an owner puts before the snippet; it runs before the loader.
    page.add_init_script("window.widget = window.widget || function () {"
                         "(widget.q = widget.q || []).push(arguments) };"
                         "widget('open', 'w_demo');")
    open_example(page, demo)
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    page.evaluate("widget('close')")
    expect(dialog).to_have_count(0)


def test_dashboard_preview_draws_the_real_widget_as_the_owner_types(page: Page, demo):
    posts = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" and "/api/" in r.url
            else None)
    log_in(page, demo)
    page.goto(f"{demo['base']}/dashboard/sites/demo-blog/widgets/w_demo")
    pane = page.locator("#preview")
    expect(pane.get_by_role("dialog")).to_have_accessible_name("Before you go…")
    page.get_by_label("Title", exact=True).fill("Vil du ha sjekklisten? ✅")
    page.get_by_label("Language", exact=True).select_option("nb")
    expect(pane.get_by_role("dialog")).to_have_accessible_name("Vil du ha sjekklisten? ✅")
    expect(pane.get_by_role("button", name="Abonner")).to_be_visible()
    page.get_by_label("“No thanks” text").fill("Kanskje senere")
    expect(pane.get_by_role("button", name="Kanskje senere")).to_be_visible()
    page.get_by_label("Layout").select_option("inline")
    region = pane.get_by_role("region", name="Vil du ha sjekklisten? ✅")
    expect(region).to_be_visible()
    page.get_by_label("Use my own colours").check()
    page.get_by_label("Background").fill("#1d232b")
    page.get_by_label("Text", exact=True).fill("#f5f7fa")
    page.get_by_label("Button", exact=True).fill("#f0b429")
    expect(region).to_have_css("background-color", "rgb(29, 35, 43)")
    expect(region.get_by_role("button", name="Abonner")).to_have_css("color", "rgb(0, 0, 0)")
    # Unreadable colours are flagged as they are typed, before a save is refused.
    warning = page.locator("#contrast-warning")
    expect(warning).to_be_hidden()
    page.get_by_label("Text", exact=True).fill("#2a2f36")
    expect(warning).to_have_text("Text on the background has 1.2:1 contrast; it needs 4.5:1 "
                                 "to be readable, so saving would be refused.")
    page.get_by_label("Text", exact=True).fill("#f5f7fa")
    expect(warning).to_be_hidden()
    # Only the fields the kind uses.
    expect(page.get_by_label("Gift", exact=True)).to_be_hidden()
    page.get_by_label("It offers").select_option("gift")
    expect(page.get_by_label("Gift", exact=True)).to_be_visible()
    expect(page.get_by_label("How the gift is given")).to_be_visible()
    page.get_by_label("It offers").select_option("newsletter")
    expect(page.get_by_label("How the gift is given")).to_be_hidden()
    # The preview is a picture, not a form: no Tab stop after Save lands in it.
    page.get_by_role("button", name="Save").focus()
    for _ in range(6):
        page.keyboard.press("Tab")
        assert page.evaluate("!document.getElementById('preview').contains("
                             "document.activeElement) && !document.activeElement.shadowRoot")
    page.goto("about:blank")
    assert posts == []  # the preview signs nobody up and counts nothing
