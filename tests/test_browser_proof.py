"""Social proof in a real Chromium through the demo, on host pages of a third origin:
approved stories whose tellers allowed it show in proof widgets, always as text, as a
list or one at a time from the keyboard; private and pending ones never show; one story
has no buttons and none renders nothing; the subscriber count is the exact number or
nothing. Sending stories is tests/test_browser_stories.py's."""
from __future__ import annotations

import json
import urllib.request
import uuid

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import func, select, update

from widget.models import Site, Story, Subscriber

from .helpers import stories as shared
from .helpers.browser import Loader, host_page, violations
from .helpers.demo import add_widget
from .helpers.stories import THANKS, in_db, page_in, slot

pytestmark = pytest.mark.browser
story_widget = shared.story_widget  # the demo's story widget (a module fixture)


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
def proof_widgets(demo):
    return {"list": add_widget(demo, [], kind="proof", layout="inline", style=None,
                               title="Readers say (list)"),
            "carousel": add_widget(demo, [], kind="proof", layout="inline", style="carousel",
                                   title="Readers say (one at a time)")}


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
