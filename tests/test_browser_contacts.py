"""The owner's contacts journey in a real Chromium on the demo (README's `widget demo`):
search, filter, tag a filtered view in bulk behind its confirm step, export that view
and read the downloaded CSV, import a CSV whose dry run reports a bad line, then erase a
contact and find them nowhere: not in search, the export, the gift ledger or the
outbox."""
from __future__ import annotations

import csv
import io
import re
import uuid

import pytest
import requests
from playwright.sync_api import Page, expect

from .helpers.browser import log_in

pytestmark = pytest.mark.browser
SITE = "demo-blog"


def sign_up(demo, email: str, name: str, widget: str | None = None) -> None:
    """A reader signs up on the example pages' origin (the demo site allows it)."""
    body = {"email": email, "name": name, "consent": True, **({"widget": widget} if widget else {})}
    resp = requests.post(f"{demo['base']}/api/v1/sites/{SITE}/subscriptions", json=body,
                         headers={"Origin": demo["pages"]}, timeout=10)
    assert resp.status_code == 200, resp.text


def test_an_owner_finds_tags_exports_imports_and_erases(page: Page, demo, tmp_path):
    run = uuid.uuid4().hex[:6]
    bakers = [f"baker{i}-{run}@example.com" for i in range(3)]
    for address in bakers:
        sign_up(demo, address, f"Baker {run}")
    leaving = f"leaving-{run}@example.com"
    sign_up(demo, leaving, f"Leaving {run}", widget="w_demo_flour")  # a coupon on the ledger
    log_in(page, demo)
    contacts = f"{demo['base']}/dashboard/sites/{SITE}/contacts"
    page.goto(contacts)

    # Search, then narrow by status: every filter lands in the URL.
    page.get_by_label("Address or name contains").fill(f"baker {run}")
    page.get_by_label("Status").select_option("pending")
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(re.compile(rf"/contacts\?q=baker\+{run}&status=pending&"))
    rows = page.locator("table.contacts tbody tr")
    expect(rows).to_have_count(3)
    expect(page.get_by_role("heading", level=1)).to_contain_text("3 contacts")

    # Tag the whole view: the review says how many before anything changes.
    page.get_by_label("Action").select_option("tag")
    page.get_by_label("Tag (to add or remove)").fill("Sourdough club")
    page.get_by_role("button", name="Review…").click()
    expect(page.locator("#bulk-summary")).to_contain_text("This changes 3 contacts")
    page.get_by_role("button", name="Add the tag “sourdough club” · 3 contacts").click()
    expect(page.get_by_role("status")).to_have_text("3 contacts tagged.")
    page.goto(f"{contacts}?tag=sourdough+club")
    expect(rows).to_have_count(3)

    # Export this view: the file is what the view shows.
    with page.expect_download() as download:
        page.get_by_role("link", name="Export this view (CSV)").click()
    raw = download.value.path().read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    exported = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert sorted(r["email"] for r in exported) == sorted(bakers)
    assert {r["tags"] for r in exported} == {"sourdough club"}

    # Import: the dry run names the bad line, and the good ones arrive.
    upload = tmp_path / "shop.csv"
    upload.write_text(f"email,name\nshop1-{run}@example.com,Shop One\nnot-an-address,Bad\n"
                      f"shop2-{run}@example.com,Shop Two\n", encoding="utf-8")
    page.goto(f"{demo['base']}/dashboard/sites/{SITE}/imports")
    page.get_by_label("CSV file").set_input_files(str(upload))
    page.get_by_role("button", name="Upload").click()
    page.get_by_role("button", name="Check (dry run)").click()
    expect(page.get_by_role("heading", name="What the import would do")).to_be_visible(
        timeout=15000)
    problems = page.locator("table.problems").first
    expect(problems).to_contain_text("3")  # the line, counting the header as line 1
    expect(page.locator('#import-counts [data-count="new"]')).to_have_text("2")
    expect(page.locator('#import-counts [data-count="invalid"]')).to_have_text("1")
    page.get_by_role("button", name="Start import").click()
    expect(page.get_by_role("heading", name="What the import did")).to_be_visible(timeout=15000)
    page.goto(f"{contacts}?q=shop")
    expect(page.locator("table.contacts")).to_contain_text(f"shop1-{run}@example.com")
    expect(page.locator("table.contacts")).to_contain_text(f"shop2-{run}@example.com")

    # Erase: a confirm page first, then they are nowhere.
    page.goto(f"{contacts}?q={leaving}")
    page.get_by_role("link", name=leaving).click()
    page.get_by_role("link", name="Erase…").click()
    expect(page.locator("main")).to_contain_text("This cannot be undone.")
    page.get_by_role("button", name=f"Erase {leaving}").click()
    expect(page.get_by_role("status")).to_have_text("Erased: nothing about them is kept.")
    page.goto(f"{contacts}?q={leaving}")
    expect(page.locator("main")).to_contain_text("No contact matches these filters.")
    everything = page.request.get(f"{contacts}.csv").text()
    assert leaving not in everything and bakers[0] in everything
    for path in ("gifts/g_demo_flour", "outbox"):
        page.goto(f"{demo['base']}/dashboard/sites/{SITE}/{path}")
        expect(page.locator("main")).not_to_contain_text(leaving)
    page.goto(f"{demo['base']}/dashboard/sites/{SITE}")
    expect(page.locator("table.audit")).to_contain_text("erased")
