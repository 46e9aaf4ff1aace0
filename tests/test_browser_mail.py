"""Double opt-in in a real Chromium through the demo: a Norwegian reader signs up in the
pop-up on the example page (another origin), the owner reads the confirmation in the dev
outbox, the reader opens the link, and only the button's POST confirms."""
from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import Page, expect

from .helpers.browser import exit_intent, log_in, open_example, sign_up_in_widget

pytestmark = pytest.mark.browser


def test_reader_confirms_from_the_dev_outbox(page: Page, demo):
    open_example(page, demo, "post-nb.html")
    exit_intent(page)
    dialog = page.get_by_role("dialog")
    email = f"leser-{uuid.uuid4().hex[:8]}@example.no"
    sign_up_in_widget(dialog, email, label="Din e-post", button="Abonner")
    expect(dialog.get_by_role("status")).to_have_text(
        "Nesten ferdig! Sjekk innboksen og bekreft adressen din. 📬")

    owner = page.context.new_page()
    log_in(owner, demo)
    owner.get_by_role("link", name="Demo blog").click()
    row = owner.get_by_role("row").filter(has_text=email)
    expect(row).to_contain_text("Waiting for confirmation")
    owner.get_by_role("link", name="Outbox").first.click()
    mail_row = owner.get_by_role("row").filter(has_text=email).filter(has_text="Bekreft")
    expect(mail_row).to_contain_text("Sent", timeout=10000)  # the demo's worker rendered it
    mail_row.get_by_role("link", name="View").click()
    text = owner.locator("pre.mail").inner_text()
    assert "Hei," in text and "Demo blog" in text
    confirm = re.search(r"https?://\S+/confirm/\S+", text).group(0)
    assert confirm.startswith(demo["base"])

    reader = page.context.new_page()
    reader.goto(confirm)  # opening the link, as a mail scanner would, changes nothing
    expect(reader.get_by_role("heading")).to_have_text("Bekreft påmeldingen")
    owner.goto(f"{demo['base']}/dashboard/sites/demo-blog")
    expect(owner.get_by_role("row").filter(has_text=email)).to_contain_text(
        "Waiting for confirmation")
    reader.get_by_role("button", name="Ja, meld meg på").click()
    expect(reader.get_by_role("heading")).to_have_text("Du er påmeldt 🎉")
    owner.reload()
    row = owner.get_by_role("row").filter(has_text=email)
    expect(row).to_contain_text("Subscribed")
    row.get_by_role("link", name=email).click()
    expect(owner.locator("main")).to_contain_text("pressed the confirm button from the e-mail")
    owner.goto(f"{demo['base']}/dashboard/sites/demo-blog/outbox")
    expect(owner.get_by_role("row").filter(has_text=email).filter(has_text="Velkommen")) \
        .to_have_count(1, timeout=10000)
