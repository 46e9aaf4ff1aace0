"""Stories in a real Chromium through the demo, on host pages of a third origin: a
visitor sends a story (kept pending, with their consent as given); errors speak the
page's language next to their field; the story form works as a pop-up; the dashboard's
preview draws story and proof widgets. Proof widgets on host pages are
tests/test_browser_proof.py's."""
from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from widget.models import StatDay, Story

from .helpers import stories as shared
from .helpers.browser import host_page, log_in, settled, violations
from .helpers.demo import add_widget
from .helpers.stories import THANKS, in_db, page_in, slot
from .helpers.waiting import wait_until

pytestmark = pytest.mark.browser
story_widget = shared.story_widget  # the demo's story widget (a module fixture)


def test_visitor_sends_a_story_from_another_origin(page: Page, demo, host, story_widget):
    host_page(page, demo, host, story_widget, top=slot(story_widget))
    region = page.get_by_role("region", name="Tell us about your bread")
    expect(region.get_by_role("group", name="Your rating (optional)")).to_be_visible()
    expect(region.get_by_role("radio", name="No rating")).to_be_checked()
    expect(region.get_by_role("checkbox")).not_to_be_checked()  # showing it is opt-in
    assert region.get_by_label("Your story").get_attribute("maxlength") == "5000"
    assert region.get_by_label("Your e-mail, for our thank-you (optional)") \
        .get_attribute("type") == "email"
    text = f"Fed it twice a day and it doubled. 🍞 {uuid.uuid4().hex[:6]}\nLine two."
    region.get_by_label("Your name").fill("Solveig")
    region.get_by_label("Your story").fill(text)
    # The rating from the keyboard: arrow keys move through the radios.
    region.get_by_role("radio", name="No rating").focus()
    for _ in range(4):
        page.keyboard.press("ArrowRight")
    expect(region.get_by_role("radio", name="4 of 5 stars")).to_be_checked()
    region.get_by_label("Your e-mail, for our thank-you (optional)").fill("solveig@example.com")
    region.get_by_role("checkbox", name="You may show my story and first name on this website.") \
        .check()
    with page.expect_response(lambda r: r.url.endswith("/stories")) as sent:
        region.get_by_role("button", name="Send my story").click()
    assert sent.value.status == 201
    assert sent.value.request.headers["content-type"].startswith("text/plain")
    status = region.get_by_role("status")
    expect(status).to_have_text(THANKS)
    expect(status).to_be_focused()  # the button it replaced is gone
    expect(region.locator("form")).to_have_count(0)

    story = in_db(demo, lambda s: s.scalars(select(Story).where(Story.text == text.strip()))
                  .one())
    assert story.status == "pending" and story.consent_publish is True
    assert (story.name, story.rating, story.email, story.widget_id, story.lang) == \
        ("Solveig", 4, "solveig@example.com", story_widget, "en")
    assert story.page_url.startswith(host["origin"] + "/")
    assert story.consent_text == "You may show my story and first name on this website."

    # "open" on the first input and "submit" on success reach the owner's counters.
    page.goto("about:blank")  # leaving the page sends the batch as a beacon

    def counted():
        day = in_db(demo, lambda s: s.scalars(select(StatDay).where(
            StatDay.widget_id == story_widget, StatDay.dim == "all")).first())
        return day if day and day.signed_up else None
    day = wait_until(counted, "the beacon's events in the widget's counters", 10)
    assert (day.shown, day.opened, day.signed_up) == (1, 1, 1)


def test_errors_speak_the_pages_language_next_to_their_field(page: Page, demo, host):
    wid = add_widget(demo, [], kind="story", layout="inline", title=None)
    posts = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
    page_in(page, demo, host, "nb", slot(wid))
    region = page.get_by_role("region", name="Fortell oss historien din")
    send = region.get_by_role("button", name="Send historien")
    send.click()
    name = region.get_by_label("Navnet ditt")
    alert = region.get_by_role("alert")
    expect(alert).to_have_text("Skriv inn navnet ditt.")
    expect(name).to_be_focused()
    expect(name).to_have_attribute("aria-invalid", "true")
    assert alert.evaluate("(e) => e.previousElementSibling.id") == "rw-name"
    name.fill("Kari")
    send.click()  # a name, but no story
    story = region.get_by_label("Historien din")
    expect(alert).to_have_text("Skriv historien din først.")
    expect(story).to_be_focused()
    assert alert.evaluate("(e) => e.previousElementSibling.id") == "rw-text"
    expect(name).not_to_have_attribute("aria-invalid", "true")
    story.fill("   ")  # white space is no story either
    send.click()
    expect(alert).to_have_text("Skriv historien din først.")
    assert posts == []  # all caught before anything was sent
    assert violations(page) == []  # with an error shown

    # The server's own check, shown by its code, at the field it names.
    story.fill("Brødet hevet endelig!")
    email = region.get_by_label("E-posten din, så vi kan takke deg (valgfritt)")
    email.fill("kari@nordmann")  # looks like an address here; the server knows better
    with page.expect_response(lambda r: r.url.endswith("/stories")) as sent:
        send.click()
    assert sent.value.status == 422
    expect(alert).to_have_text("Det ser ikke ut som en e-postadresse.")
    expect(email).to_be_focused()
    assert alert.evaluate("(e) => e.previousElementSibling.id") == "rw-email"
    assert in_db(demo, lambda s: s.scalar(select(func.count(Story.id)).where(
        Story.name == "Kari"))) == 0


def test_story_form_works_as_a_pop_up(page: Page, demo, host):
    wid = add_widget(demo, [], kind="story", layout="modal", title="Your story?")
    host_page(page, demo, host, wid, top=f'<button data-widget-open="{wid}">Tell us</button>')
    page.get_by_role("button", name="Tell us").click()
    dialog = page.get_by_role("dialog", name="Your story?")
    expect(dialog.get_by_label("Your name")).to_be_focused()
    settled(page)  # past the entry animation, for the contrast check
    assert violations(page) == []
    for _ in range(14):  # focus stays inside, textarea and radios included
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.tagName") == "RECIPROCITY-WIDGET"
    dialog.get_by_role("button", name="Send my story").click()
    expect(dialog.get_by_role("alert")).to_have_text("Please tell us your name.")
    page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)
    expect(page.get_by_role("button", name="Tell us")).to_be_focused()


def test_dashboard_preview_draws_story_and_proof_widgets(page: Page, demo):
    posts = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" and "/api/" in r.url
            else None)
    log_in(page, demo)
    page.goto(f"{demo['base']}/dashboard/sites/demo-blog/widgets/w_demo_inline")
    pane = page.locator("#preview")
    kind = page.get_by_label("It offers")
    page.get_by_label("Title", exact=True).fill("")  # the built-in copy, then
    page.get_by_label("Language", exact=True).select_option("nb")
    kind.select_option("story")
    region = pane.get_by_role("region", name="Fortell oss historien din")
    expect(region.get_by_label("Historien din")).to_be_visible()
    expect(region.get_by_role("button", name="Send historien")).to_be_visible()
    # A picture of the widget, not a form to fill in: the pane is inert (no Tab stops).
    expect(pane).to_have_attribute("inert", "")

    kind.select_option("proof")
    region = pane.get_by_role("region", name="Hva leserne sier")
    expect(region.locator("figure")).to_have_count(2)
    expect(region.locator("figcaption").first).to_have_text("Ingrid")
    expect(region.locator("figcaption").last).to_have_text("Lars")
    page.get_by_label("How the stories show").select_option("carousel")
    expect(region.locator("figure")).to_have_count(1)
    expect(region.locator("figcaption")).to_have_text("Ingrid")
    expect(region.get_by_role("button", name="Neste")).to_be_visible()
    page.get_by_label("Layout").select_option("modal")  # saved as inline whatever is chosen
    expect(region.locator("figcaption")).to_have_text("Ingrid")
    expect(pane.get_by_role("dialog")).to_have_count(0)
    page.goto("about:blank")
    assert posts == []  # the preview sends nothing
