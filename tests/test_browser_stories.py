"""Stories and social proof in a real Chromium through the demo, on host pages of a third
origin: a visitor sends a story (kept pending, with their consent as given); errors speak
the page's language next to their field; approved stories whose tellers allowed it show
in proof widgets, always as text, as a list or one at a time from the keyboard; private
and pending ones never show; the subscriber count is the exact number or nothing."""
from __future__ import annotations

import json
import urllib.request
import uuid

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import create_engine, func, select, update
from sqlalchemy.orm import Session

from widget.models import Site, StatDay, Story, Subscriber

from .helpers.browser import ARTICLE, Loader, host_page, log_in, settled, violations
from .helpers.demo import add_widget
from .helpers.waiting import wait_until

pytestmark = pytest.mark.browser

THANKS = "Thank you for your story! 💛 We read every one."


def in_db(demo, work):
    """Run `work(session)` on the demo's database and commit; returns what it returns."""
    engine = create_engine(demo["db"])
    try:
        with Session(engine, expire_on_commit=False) as session:
            result = work(session)
            session.commit()
            return result
    finally:
        engine.dispose()


def add_story(demo, name, text, status="approved", consent=True, rating=None) -> int:
    def work(s):
        story = Story(site_id="demo-blog", name=name, text=text, rating=rating,
                      consent_publish=consent, consent_text="You may show my story.",
                      lang="en", status=status)
        s.add(story)
        s.flush()
        return story.id
    return in_db(demo, work)


def set_story(demo, story_id: int, **values):
    in_db(demo, lambda s: s.execute(update(Story).where(Story.id == story_id).values(**values)))


def set_threshold(demo, value):
    in_db(demo, lambda s: s.execute(update(Site).where(Site.id == "demo-blog")
                                    .values(count_threshold=value)))


def config(demo, lang="en") -> dict:
    with urllib.request.urlopen(f"{demo['base']}/api/v1/sites/demo-blog/widgets?lang={lang}",
                                timeout=10) as resp:
        return json.load(resp)


def visitor(new_context) -> Page:
    """A new visitor's page: a browser keeps a config for up to a minute (its
    Cache-Control), so a change in the database shows to the next visitor at once."""
    return new_context().new_page()


def slot(wid: str) -> str:
    return f'<div data-widget-inline="{wid}"></div>'


def page_in(page: Page, demo, host, lang: str, top: str):
    """A host page in `lang` (its <html lang>), with `top` before the article."""
    name = f"t-{uuid.uuid4().hex[:8]}.html"
    (host["root"] / name).write_text(
        f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
        f'<title>Brød</title><script async src="{demo["base"]}/embed.js" '
        f'data-site="demo-blog"></script></head><body>{top}<main><h1>Brød</h1>{ARTICLE}'
        f'</main></body></html>', encoding="utf-8")
    with page.expect_response(lambda r: "/widgets?" in r.url and r.status == 200):
        page.goto(f"{host['origin']}/{name}")


@pytest.fixture(scope="module")
def stories(demo):
    """Stories of every kind, straight in the database: two to show, one private (no
    consent), one pending, one rejected."""
    tag = uuid.uuid4().hex[:6]
    made = {"shown": add_story(demo, "Astrid", f"My rye rose at last ({tag}).", rating=5),
            "shown2": add_story(demo, "Bjørn", f"Two loaves a week now ({tag}).", rating=3),
            "private": add_story(demo, "Cecilie", f"Private: only for you ({tag}).",
                                 consent=False),
            "pending": add_story(demo, "Dag", f"Pending: not read yet ({tag}).",
                                 status="pending"),
            "rejected": add_story(demo, "Eirik", f"Rejected: spam ({tag}).",
                                  status="rejected")}
    return {k: in_db(demo, lambda s, i=i: s.get(Story, i).text) for k, i in made.items()}


@pytest.fixture(scope="module")
def story_widget(demo):
    return add_widget(demo, [], kind="story", layout="inline", title="Tell us about your bread")


@pytest.fixture(scope="module")
def proof_widgets(demo):
    return {"list": add_widget(demo, [], kind="proof", layout="inline", style=None,
                               title="Readers say (list)"),
            "carousel": add_widget(demo, [], kind="proof", layout="inline", style="carousel",
                                   title="Readers say (one at a time)")}


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


def test_proof_shows_approved_public_stories_as_text(page: Page, new_context, demo, host,
                                                     story_widget, proof_widgets, stories):
    alerts = []
    page.on("dialog", lambda d: (alerts.append(d.message), d.dismiss()))
    # A visitor sends a story with markup in it, allowing it to be shown.
    host_page(page, demo, host, story_widget, top=slot(story_widget))
    region = page.get_by_role("region", name="Tell us about your bread")
    markup = f'Great <img src=x onerror=alert(1)> bread <b>{uuid.uuid4().hex[:6]}</b>'
    region.get_by_label("Your name").fill("<i>Mallory</i>")
    region.get_by_label("Your story").fill(markup)
    region.get_by_role("checkbox").check()
    region.get_by_role("button", name="Send my story").click()
    expect(region.get_by_role("status")).to_have_text(THANKS)
    told = in_db(demo, lambda s: s.scalars(select(Story).where(Story.text == markup)).one())
    assert told.status == "pending"

    wid = proof_widgets["list"]
    host_page(page, demo, host, wid, top=slot(wid))
    proof = page.get_by_role("region", name="Readers say (list)")
    expect(proof).to_contain_text(stories["shown"])
    expect(proof).not_to_contain_text(markup)  # not before the owner approved it

    set_story(demo, told.id, status="approved")
    page = visitor(new_context)
    page.on("dialog", lambda d: (alerts.append(d.message), d.dismiss()))
    host_page(page, demo, host, wid, top=slot(wid))
    proof = page.get_by_role("region", name="Readers say (list)")
    expect(proof).to_contain_text(markup)  # the markup itself, as text
    figure = proof.locator("figure").filter(has_text=markup)
    expect(figure.locator("blockquote")).to_have_text(markup)
    expect(figure.locator("figcaption")).to_have_text("<i>Mallory</i>")
    assert proof.locator("img, b, i").count() == 0  # nothing of it became elements
    assert page.locator("reciprocity-widget").evaluate(
        "(h) => h.shadowRoot.querySelectorAll('img, b, i').length") == 0
    # Every story shown once, with its stars and their label; the list has no buttons.
    expect(proof.locator("figure").filter(has_text=stories["shown"])
           .get_by_role("img", name="5 of 5 stars")).to_have_text("★★★★★")
    expect(proof.locator("figure").filter(has_text=stories["shown2"])
           .get_by_role("img", name="3 of 5 stars")).to_have_text("★★★☆☆")
    expect(figure.get_by_role("img")).to_have_count(0)  # no rating given: no stars
    expect(proof.get_by_role("button")).to_have_count(0)
    for never in ("private", "pending", "rejected"):
        expect(proof).not_to_contain_text(stories[never])
    shown = [w for w in config(demo)["widgets"] if w["id"] == wid][0]
    assert shown["style"] == "list"  # no style set: a list
    texts = [s["text"] for s in shown["stories"]]
    assert not {stories[k] for k in ("private", "pending", "rejected")} & set(texts)
    expect(proof.locator("figure")).to_have_count(len(texts))
    assert alerts == []


def test_carousel_one_at_a_time_from_the_keyboard(page: Page, demo, host, proof_widgets,
                                                  stories):
    wid = proof_widgets["carousel"]
    expected = [w for w in config(demo)["widgets"] if w["id"] == wid][0]["stories"]
    assert len(expected) >= 3
    page.clock.install()  # the test moves the page's clock on, below
    host_page(page, demo, host, wid, top=slot(wid))
    proof = page.get_by_role("region", name="Readers say (one at a time)")
    figure = proof.locator("figure")
    live = proof.locator("[aria-live=polite]")
    expect(live.locator("figure")).to_have_count(1)  # one at a time, in a polite region
    expect(figure.locator("blockquote")).to_have_text(expected[0]["text"])
    page.clock.run_for(60_000)  # a minute passes for the page's timers:
    expect(figure.locator("blockquote")).to_have_text(expected[0]["text"])  # no autoplay

    page.locator("h1").click()
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Shift+Tab")
    expect(proof.get_by_role("button", name="Previous")).to_be_focused()
    page.keyboard.press("Enter")  # wraps around to the last
    expect(figure.locator("blockquote")).to_have_text(expected[-1]["text"])
    page.keyboard.press("Tab")
    expect(proof.get_by_role("button", name="Next")).to_be_focused()
    page.keyboard.press("Enter")  # and back to the first
    expect(figure.locator("blockquote")).to_have_text(expected[0]["text"])
    for story in expected[1:] + expected[:1]:  # Space works too, all the way round
        page.keyboard.press(" ")
        expect(figure.locator("blockquote")).to_have_text(story["text"])
        expect(figure.locator("figcaption")).to_have_text(story["name"])
    expect(proof.get_by_role("button", name="Next")).to_be_focused()  # focus stays
    for never in ("private", "pending", "rejected"):
        assert stories[never] not in {s["text"] for s in expected}
    assert violations(page) == []


def test_one_story_has_no_buttons_and_none_renders_nothing(page: Page, new_context, demo,
                                                           host, proof_widgets, stories):
    wid = proof_widgets["carousel"]
    approved = in_db(demo, lambda s: s.scalars(select(Story.id).where(
        Story.site_id == "demo-blog", Story.status == "approved",
        Story.consent_publish.is_(True)).order_by(Story.id)).all())
    try:
        for story_id in approved[:-1]:
            set_story(demo, story_id, status="pending")
        host_page(page, demo, host, wid, top=slot(wid))
        proof = page.get_by_role("region", name="Readers say (one at a time)")
        expect(proof.locator("figure")).to_have_count(1)
        expect(proof.get_by_role("button")).to_have_count(0)

        set_story(demo, approved[-1], status="pending")
        page = visitor(new_context)
        loader = Loader(page)
        with page.expect_response(lambda r: "/widgets?" in r.url) as got:
            host_page(page, demo, host, wid, top=slot(wid))
        assert [w["stories"] for w in got.value.json()["widgets"] if w["id"] == wid] == [[]]
        loader.ui_ran()  # the UI has had the widget to draw,
        assert not loader.asked_for_stylesheet()  # and did not start to
        expect(page.locator("reciprocity-widget")).to_have_count(0)
        expect(page.get_by_role("region")).to_have_count(0)
        assert page.locator(f'[data-widget-inline="{wid}"]').bounding_box()["height"] == 0
    finally:
        for story_id in approved:
            set_story(demo, story_id, status="approved")


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


def test_count_is_the_exact_number_or_nothing(page: Page, new_context, demo, host,
                                              story_widget, proof_widgets):
    news = add_widget(demo, [], layout="inline", title="Get the next one")
    proof = proof_widgets["list"]
    top = slot(news) + slot(proof) + slot(story_widget) + slot("w_demo_gift")

    def subscribers(n, status="confirmed"):
        in_db(demo, lambda s: s.add_all(
            Subscriber(site_id="demo-blog", email=f"{x}@count.example",
                       email_normalized=f"{x}@count.example", status=status)
            for x in (uuid.uuid4().hex for _ in range(n))))

    confirmed = in_db(demo, lambda s: s.scalar(select(func.count(Subscriber.id)).where(
        Subscriber.site_id == "demo-blog", Subscriber.status == "confirmed")))
    assert confirmed <= 3
    subscribers(3 - confirmed)
    subscribers(2, "pending")  # not counted: only confirmed readers are
    try:
        set_threshold(demo, 4)  # below the owner's threshold: nothing at all
        host_page(page, demo, host, news, top=top)
        region = page.get_by_role("region", name="Get the next one")
        expect(region).to_be_visible()
        expect(page.get_by_role("region", name="Readers say (list)")).to_be_visible()
        expect(page.get_by_role("region", name="Free: the printable starter log 🍞")) \
            .to_be_visible()
        assert config(demo)["count"] is None
        expect(page.locator("reciprocity-widget .count")).to_have_count(0)

        set_threshold(demo, 3)
        page = visitor(new_context)
        host_page(page, demo, host, news, top=top)
        region = page.get_by_role("region", name="Get the next one")
        expect(region.locator(".count")).to_have_text("Join 3 readers")
        # Under the description (newsletter, gift), under the title (proof).
        assert region.locator(".count").evaluate(
            "(e) => e.previousElementSibling.id") == "rw-desc"
        gift = page.get_by_role("region", name="Free: the printable starter log 🍞")
        expect(gift.locator(".count")).to_have_text("Join 3 readers")
        readers = page.get_by_role("region", name="Readers say (list)")
        expect(readers.locator(".count")).to_have_text("Join 3 readers")
        assert readers.locator(".count").evaluate(
            "(e) => e.previousElementSibling.tagName") == "H2"
        expect(page.get_by_role("region", name="Tell us about your bread").locator(".count")) \
            .to_have_count(0)  # a story form asks for something else
        assert violations(page) == []

        # The exact number, in the page's own way of writing it, never rounded.
        subscribers(1231)
        page = visitor(new_context)
        host_page(page, demo, host, news, top=top)
        region = page.get_by_role("region", name="Get the next one")
        expect(region.locator(".count")).to_have_text("Join 1,234 readers")
        page_in(page, demo, host, "de", slot(news))
        expect(page.get_by_role("region", name="Get the next one").locator(".count")) \
            .to_have_text("1.234 Leser sind schon dabei")
        page_in(page, demo, host, "nb", slot(news))
        expect(page.get_by_role("region", name="Get the next one").locator(".count")) \
            .to_have_text("Bli med blant 1\u00a0234 lesere")
    finally:
        set_threshold(demo, None)


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
