"""Refer a friend, end to end in a real Chromium against the demo with a real SMTP server:
A signs up and confirms, opens their share page, and friend B opens A's link, lands on
the blog (another origin), signs up and confirms; A's progress shows 1, and A gets the
milestone's thank-you e-mail with its gift, recorded in the gift ledger."""
from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from widget.models import Grant, Subscriber

from .helpers.browser import sign_up_in_widget
from .helpers.smtp import links_in
from .helpers.waiting import wait_until

pytestmark = pytest.mark.browser
REWARD = "Ingrid's overnight baking schedule"  # the demo's milestone at one friend


def sign_up_inline(page: Page, url: str, email: str):
    """Sign up with the blog post's inline widget, as a reader does."""
    with page.expect_response(lambda r: "/widgets?" in r.url and r.status == 200):
        page.goto(url)
    region = page.get_by_role("region", name="Liked this? Get the next one by e-mail")
    sign_up_in_widget(region, email)
    expect(region.get_by_role("status")).to_contain_text("Almost done!")


def confirm(page: Page, smtp, email: str):
    """Open the confirmation e-mail's link and press its button."""
    mail = wait_for(smtp, email, "Please confirm")
    page.goto(next(link for link in links_in(mail) if "/confirm/" in link))
    page.get_by_role("button", name="Yes, subscribe me").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("You're subscribed 🎉")


def wait_for(smtp, email: str, subject: str):
    """The e-mail to `email` whose subject has `subject`, once the demo has sent it."""
    return wait_until(lambda: next((m for m in reversed(smtp.mailbox.to(email))
                                    if subject in str(m["Subject"])), None),
                      f"the e-mail '{subject}' to {email}")


def test_a_friend_brought_by_a_link_counts_and_earns_the_thank_you(
        page: Page, browser: Browser, demo_smtp):
    demo, smtp = demo_smtp
    post = f"{demo['pages']}/blog-post.html"
    a = f"ann-{uuid.uuid4().hex[:8]}@example.com"
    sign_up_inline(page, post, a)
    confirm(page, smtp, a)
    page.get_by_role("link", name="Share with a friend").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Share Demo blog with your friends")
    progress = page.get_by_role("region", name=re.compile("Friends who joined"))
    expect(progress).to_contain_text("Friends who joined through your link: 0")
    expect(progress).to_contain_text(f"1 more for “{REWARD}”.")
    link = page.get_by_label("Your link", exact=True).input_value()
    assert re.fullmatch(rf"{demo['base']}/r/[a-z0-9]{{16}}", link)
    expect(page.get_by_role("link", name="WhatsApp")).to_be_visible()  # plain links

    friend = browser.new_context().new_page()  # another person: their own storage
    with friend.expect_response(lambda r: "/widgets?" in r.url and r.status == 200):
        friend.goto(link)
    assert friend.url.startswith(post) and "ref=" in friend.url  # the blog, another origin
    b = f"ben-{uuid.uuid4().hex[:8]}@example.com"
    sign_up_inline(friend, friend.url, b)
    page.reload()
    expect(progress).to_contain_text("Friends who joined through your link: 0")  # not yet
    confirm(friend, smtp, b)

    page.reload()
    expect(progress).to_contain_text("Friends who joined through your link: 1")
    expect(progress).to_contain_text(f"Reached: “{REWARD}” 🎉")
    reward = wait_for(smtp, a, "Thank you for sharing Demo blog")
    text = reward.get_body(("plain",)).get_content()
    assert "that makes 1 so far" in text and REWARD in text
    gift_link = next(link for link in links_in(reward) if "/gift/" in link)
    friend.goto(gift_link)
    expect(friend.get_by_role("heading", level=1)).to_have_text(REWARD)
    expect(friend.locator(".bonus")).to_contain_text("My overnight schedule")

    engine = create_engine(demo["db"])
    with Session(engine) as session:
        ann = session.scalar(select(Subscriber).where(Subscriber.email == a))
        ledger = session.scalars(select(Grant).where(Grant.subscriber_id == ann.id)).all()
    engine.dispose()
    assert ann.ref_count == 1
    assert [g.gift_id for g in ledger] == ["g_demo_schedule"]
