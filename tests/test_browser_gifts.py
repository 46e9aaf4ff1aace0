"""Gifts in a real Chromium through the demo, on its example page (another origin):
gift-first hands over the PDF with no e-mail asked and then invites to subscribe; a gated
coupon is released only by the confirm page's POST; a gift that is all given away says so
and offers the newsletter instead."""
from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import create_engine, select, update
from sqlalchemy.orm import Session

from widget.models import Coupon, Grant, Subscriber, utcnow

from .helpers.browser import log_in, open_example, sign_up_in_widget, violations

pytestmark = pytest.mark.browser


def rows(demo, statement):
    engine = create_engine(demo["db"])
    with Session(engine) as session:
        found = session.execute(statement).all()
    engine.dispose()
    return found


def write(demo, statement):
    engine = create_engine(demo["db"])
    with Session(engine) as session:
        session.execute(statement)
        session.commit()
    engine.dispose()


def dev_mail(owner: Page, demo, email: str, subject: str) -> str:
    """The text of the dev-outbox e-mail to `email` whose subject has `subject`."""
    owner.goto(f"{demo['base']}/dashboard/sites/demo-blog/outbox")
    row = owner.get_by_role("row").filter(has_text=email).filter(has_text=subject)
    expect(row).to_contain_text("Sent", timeout=10000)
    row.get_by_role("link", name="View").click()
    return owner.locator("pre.mail").inner_text()


def test_gift_first_gives_the_pdf_without_an_email_then_invites(page: Page, demo):
    open_example(page, demo, "free-gift.html")
    region = page.get_by_role("region", name="Free: the printable starter log 🍞")
    expect(region).to_contain_text("A one-page feeding log")
    expect(region.get_by_label("Your e-mail")).to_have_count(0)  # nothing asked first
    assert violations(page) == []
    region.get_by_role("button", name="Get the gift").click()
    expect(region.get_by_role("status")).to_contain_text("Here's your gift")
    with page.expect_download() as download:
        region.get_by_role("link", name="Download").click()
    assert download.value.suggested_filename == "starter-log.pdf"
    assert Path(download.value.path()).read_bytes().startswith(b"%PDF-1.4")
    (grant,) = rows(demo, select(Grant).where(Grant.gift_id == "g_demo_log")
                    .order_by(Grant.id.desc()).limit(1))
    assert grant[0].subscriber_id is None and grant[0].downloads == 1

    # Afterwards, and only now, the gentle invitation: subscribe or share.
    expect(region).to_contain_text("we can send the next one by e-mail")
    expect(region.get_by_role("button", name="Share this page")).to_be_visible()
    assert violations(page) == []
    email = f"giver-{uuid.uuid4().hex[:8]}@example.com"
    sign_up_in_widget(region, email)
    expect(region.locator(".ok")).to_have_text(
        "Almost done! Check your inbox and confirm your address. 📬")
    # The gift taken first is now on the new subscriber's ledger.
    (linked,) = rows(demo, select(Grant.subscriber_id).where(Grant.id == grant[0].id))
    (person,) = rows(demo, select(Subscriber.id).where(Subscriber.email == email))
    assert linked[0] == person[0]


def test_gated_coupon_is_released_only_by_the_confirm_post(page: Page, demo):
    open_example(page, demo, "free-gift.html")
    page.get_by_role("button", name="Get 10 % off flour").click()
    dialog = page.get_by_role("dialog", name="10 % off your next bag of flour")
    expect(dialog.locator(".left")).to_have_text(re.compile(r"^\d+ left$"))  # counted live
    email = f"baker-{uuid.uuid4().hex[:8]}@example.com"
    sign_up_in_widget(dialog, email, button="Send me the gift")
    expect(dialog.get_by_role("status")).to_have_text(
        "Almost done! Confirm your address in the e-mail we just sent, and “10 % off your "
        "next bag of flour” is yours. 📬")
    ((grant_id, released),) = rows(demo, select(Grant.id, Grant.released_at).join(
        Subscriber, Subscriber.id == Grant.subscriber_id).where(Subscriber.email == email))
    assert released is None
    ((code,),) = rows(demo, select(Coupon.code).where(Coupon.grant_id == grant_id))

    owner = page.context.new_page()
    log_in(owner, demo)
    confirmation = dev_mail(owner, demo, email, "Please confirm")
    assert "As soon as you confirm, “10 % off your next bag of flour” is yours." in confirmation
    assert code not in confirmation  # the code waits for the confirmation
    confirm = re.search(r"https?://\S+/confirm/\S+", confirmation).group(0)

    reader = page.context.new_page()
    reader.goto(confirm)  # a mail scanner opening the link releases nothing
    expect(reader.get_by_role("heading", level=1)).to_have_text("Confirm your subscription")
    expect(reader.locator("main")).not_to_contain_text(code)
    assert rows(demo, select(Grant.released_at).where(Grant.id == grant_id))[0][0] is None
    reader.get_by_role("button", name="Yes, subscribe me").click()
    expect(reader.get_by_role("heading", level=1)).to_have_text("You're subscribed 🎉")
    gift = reader.get_by_role("region", name="🎁 10 % off your next bag of flour")
    expect(gift).to_contain_text(code)  # the thank-you page delivers it
    assert rows(demo, select(Grant.released_at).where(Grant.id == grant_id))[0][0] is not None
    welcome = dev_mail(owner, demo, email, "Welcome")
    assert f"Your code: {code}" in welcome  # and so does the thank-you e-mail


def test_a_gift_all_given_away_says_so_and_offers_the_newsletter(page: Page, demo):
    write(demo, update(Coupon).where(Coupon.gift_id == "g_demo_flour",
                                     Coupon.given_at.is_(None)).values(given_at=utcnow()))
    open_example(page, demo, "free-gift.html")
    page.get_by_role("button", name="Get 10 % off flour").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("“10 % off your next bag of flour” has all been given "
                                   "away. Thank you for your interest!")
    expect(dialog.locator(".left")).to_have_count(0)  # no "0 left" countdown theatre
    email = f"late-{uuid.uuid4().hex[:8]}@example.com"
    sign_up_in_widget(dialog, email)
    expect(dialog.get_by_role("status")).to_have_text(
        "Almost done! Check your inbox and confirm your address. 📬")
    ((person,),) = rows(demo, select(Subscriber.id).where(Subscriber.email == email))
    assert rows(demo, select(Grant.id).where(Grant.subscriber_id == person)) == []
