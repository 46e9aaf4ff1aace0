"""Contact import over real HTTP, on SQLite and PostgreSQL: the upload and its guessed
mapping, files refused with the reason, the dry run's counts and problem lines, a file
unreadable past its first megabyte, the 50 MB cap, another owner's import, discarding an
import not started, and in Chromium an import from upload to its end. Running imports
(bases, pacing, duplicates, workers, formulas) is tests/test_imports_run.py's."""
from __future__ import annotations

import re
from html import unescape

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from widget.models import ContactImport, ImportChunk, Subscriber
from widget.subscribers import imports

from .helpers import imports as shared
from .helpers.browser import log_in
from .helpers.giveback import join, row, unsubscribe_path
from .helpers.http import csrf_post
from .helpers.imports import (MAPPING, base, check, imported, people, table, the_import, upload,
                              uploaded, work)

pytestmark = pytest.mark.real_smtp  # confirmations go to the `smtp` fixture's server
site = shared.site  # a site of Ann's in Norwegian (a fixture)


def test_the_mapping_is_guessed_from_headers_in_four_languages_or_from_addresses():
    assert imports.guess(["E-post", "Fornavn", "Etternavn", "Språk", "Stikkord"], []) == {
        "email": 0, "name": 1, "last_name": 2, "lang": 3, "tags": 4}
    assert imports.guess(["Vorname", "Nachname", "E-Mail-Adresse", "Sprache"], []) == {
        "email": 2, "name": 0, "last_name": 1, "lang": 3, "tags": None}
    assert imports.guess(["Naam", "Taal", "E-mailadres", "Etiketten"], []) == {
        "email": 2, "name": 0, "last_name": None, "lang": 1, "tags": 3}
    assert imports.guess(["Email Address", "First Name", "Last Name", "TAGS"], []) == {
        "email": 0, "name": 1, "last_name": 2, "lang": None, "tags": 3}
    assert imports.guess([], [["Kari", "kari@example.com"], ["Ola", "ola@example.com"]])[
        "email"] == 1
    assert [imports.language(v) for v in ("nb-NO", "no", "Norsk", " DE ", "fr", "")] == [
        "nb", "nb", "nb", "de", None, None]


def test_the_upload_shows_a_preview_with_the_guessed_columns(ann, site, query):
    content = "E-post;Navn;Språk\r\nkari@example.com;Kari Ærlig;nb\r\nola@example.com;Ola;\r\n"
    resp = upload(ann, site, content.encode("cp1252"), "kunder.csv")
    assert resp.status_code == 302
    page = ann.get(resp.headers["Location"])
    assert page.status_code == 200
    assert "read as Windows-1252 text, columns separated by semicolon" in page.text
    assert "<td>Kari Ærlig</td>" in page.text and "3: Språk</th>" in page.text
    for target, column in (("email", "0"), ("name", "1"), ("lang", "2")):
        assert re.search(rf'<select[^>]*name="{target}".*?<option selected value="{column}"',
                         page.text, re.S) or re.search(
            rf'<select[^>]*name="{target}".*?<option value="{column}" selected', page.text,
            re.S), target
    row_ = query(lambda s: s.scalars(select(ContactImport)).one())
    assert row_.mapping == {"encoding": "cp1252", "delimiter": ";", "header": True,
                            "email": 0, "name": 1, "last_name": None, "lang": 2, "tags": None}
    assert row_.actor == "ann@example.com" and row_.status == "uploaded"
    assert query(lambda s: s.scalar(select(func.count()).select_from(ImportChunk))) == 1


@pytest.mark.parametrize("content, says", [
    (b"", "The file is empty."),
    (b"PK\x03\x04\x14\x00\x06\x00", "not a CSV file: in Excel or Numbers"),
    (b"email\x00\x01\x02", "it holds binary data"),
    (b"email,name\n", "The file has no rows below its header."),
    (b"email\n\x81\x8d\x8f\x90\n", "neither UTF-8 nor Windows-1252"),
])
def test_files_that_cant_be_imported_are_refused_with_the_reason(ann, site, query, content,
                                                                 says):
    resp = upload(ann, site, content)
    assert resp.status_code == 422 and says in unescape(resp.text)
    assert query(lambda s: s.scalar(select(func.count()).select_from(ContactImport))) == 0
    assert query(lambda s: s.scalar(select(func.count()).select_from(ImportChunk))) == 0


def test_the_mapping_form_explains_what_is_missing(ann, site):
    import_id = uploaded(ann, site, b"email,name\nkari@example.com,Kari\n")
    resp = check(ann, site, import_id, email="")
    assert resp.status_code == 422 and "Choose the column with the e-mail addresses." in resp.text
    resp = check(ann, site, import_id, consent="stated", basis="  ")
    assert resp.status_code == 422 and "Say where and how they agreed" in resp.text
    resp = check(ann, site, import_id, name="0")
    assert resp.status_code == 422 and "That column goes to “E-mail” already." in unescape(
        resp.text)
    resp = check(ann, site, import_id, extra="x" * 70)
    assert resp.status_code == 422 and "A tag is at most 64 characters" in unescape(resp.text)


def test_the_dry_run_counts_every_row_and_reports_bad_lines_writing_nothing(
        app, ann, make_client, site, query):
    visitor = make_client()
    for email, name in (("same@example.com", "Same"), ("renamed@example.com", "Old"),
                        ("gone@example.com", "Gone")):
        assert join(visitor, site, email, name=name).status_code == 200
    assert visitor.post(unsubscribe_path(app, row(query, "gone@example.com"))).status_code == 200
    before = people(query)
    content = ("email,name\n"
               "new@example.com,New\n"  # line 2
               "same@example.com,Same\n"
               "renamed@example.com,New name\n"
               "not-an-address,Nobody\n"  # line 5
               "gone@example.com,Gone\n"
               "NEW@Example.com,Again\n"  # line 7: the address of line 2
               "\n"
               ",No address\n")  # line 9
    import_id = uploaded(ann, site, content.encode())
    assert check(ann, site, import_id).status_code == 302
    assert the_import(ann, site, import_id).status == "checking"
    work(app)
    done = the_import(ann, site, import_id)
    assert (done.status, done.rows, done.done) == ("checked", 7, 7)
    assert (done.new, done.updated, done.unchanged, done.invalid) == (1, 1, 2, 3)
    page = ann.get(f"{base(site)}/{import_id}")
    assert ("5", "An email address must have an @-sign.") in \
        table(page)
    assert ("7", "Same address as line 2: this line is left out.") in table(page)
    assert ("9", "No e-mail address.") in table(page)
    assert ("6", "Unsubscribed earlier: stays unsubscribed, and gets no e-mail.") in table(page)
    assert "Start import" in page.text
    after = people(query)
    assert after.keys() == before.keys()
    assert [(p.name, p.status) for p in after.values()] == [
        (p.name, p.status) for p in before.values()]


def test_a_file_unreadable_past_its_first_megabyte_stops_the_check_with_the_line(
        app, ann, site, query):
    rows = "".join(f"person{n}@example.com,Person {n}\n" for n in range(40_000))  # > 1 MiB
    content = f"email,name\n{rows}late@example.com,\"{'x' * 200_000}\"\n".encode()
    import_id = uploaded(ann, site, content)
    assert check(ann, site, import_id).status_code == 302
    work(app)
    stopped = the_import(ann, site, import_id)
    assert stopped.status == "failed" and stopped.error.startswith(
        "Line 40002: the file can't be read from here on (field larger than field limit")
    page = ann.get(f"{base(site)}/{import_id}")
    assert "The check stopped" in page.text and "Start import" not in page.text
    assert query(lambda s: s.scalar(select(func.count()).select_from(ImportChunk))) == 0
    assert query(lambda s: s.scalar(select(func.count()).select_from(Subscriber))) == 0


def test_files_over_50_mb_are_refused_with_a_clear_message(ann, site, query):
    line = b"someone.with.a.long.address@example.com,Some One\n"
    big = b"email,name\n" + line * ((50 << 20) // len(line) + 1)
    resp = upload(ann, site, big)
    assert resp.status_code == 422 and "The file is larger than 50 MB." in resp.text
    assert query(lambda s: s.scalar(select(func.count()).select_from(ContactImport))) == 0
    assert query(lambda s: s.scalar(select(func.count()).select_from(ImportChunk))) == 0
    far = upload(ann, site, big + line * 200_000)  # refused before it is read
    assert far.status_code == 413 and "The file is larger than 50 MB." in far.text


def test_another_owners_import_is_not_found(app, ann, make_client, make_site, site):
    import_id = uploaded(ann, site, b"email\nkari@example.com\n")
    bob = make_client()
    make_site("bob@example.com")
    assert bob.login("bob@example.com").status_code == 302
    token = bob.csrf("/dashboard/sites/new")
    for action in ("", "/status"):
        assert bob.get(f"{base(site)}/{import_id}{action}").status_code == 404
    for action in ("/check", "/start", "/discard"):
        resp = bob.post(f"{base(site)}/{import_id}{action}",
                        data={**MAPPING, "csrf_token": token})
        assert resp.status_code == 404
    assert bob.get(base(site)).status_code == 404
    assert the_import(ann, site, import_id).status == "uploaded"


def test_an_import_not_started_can_be_discarded_with_its_file(app, ann, site, query):
    import_id = uploaded(ann, site, b"email\nkari@example.com\n")
    path = f"{base(site)}/{import_id}"
    resp = csrf_post(ann, f"{path}/discard", {}, page=path)
    assert resp.status_code == 302 and resp.headers["Location"].endswith("?done=discarded")
    assert "The import was discarded, with its file." in ann.get(resp.headers["Location"]).text
    assert query(lambda s: s.scalar(select(func.count()).select_from(ImportChunk))) == 0
    assert ann.get(path).status_code == 404
    done = imported(app, ann, site, b"email\nkari@example.com\n", name="")
    resp = csrf_post(ann, f"{base(site)}/{done.id}/discard", {},
                     page=f"{base(site)}/{done.id}")
    assert resp.status_code == 302 and the_import(ann, site, done.id).status == "done"


def test_the_contacts_page_links_to_the_import(ann, site):
    page = ann.get(f"/dashboard/sites/{site}/contacts")
    assert f'href="{base(site)}">Import' in page.text


@pytest.mark.browser
def test_chromium_follows_an_import_from_upload_to_its_end(page: Page, demo, tmp_path):
    """The pages in a real browser: the bar moves by import.js (no inline script, nothing
    the pages' policy refuses) and the page shows the result once it ends."""
    refused = []  # what the pages' policy refused, and script errors
    page.on("console", lambda m: refused.append(m.text) if "Security Policy" in m.text
            else None)
    page.on("pageerror", lambda error: refused.append(str(error)))
    log_in(page, demo)
    page.goto(f"{demo['base']}/dashboard/sites/demo-blog/contacts")
    page.get_by_role("link", name="Import").click()
    rows = "".join(f"reader{n}@example.com;Reader {n}\n" for n in range(20_000))
    (tmp_path / "lesere.csv").write_text(f"E-post;Navn\n{rows}bad-address;Nobody\n")
    page.get_by_label("CSV file").set_input_files(tmp_path / "lesere.csv")
    page.get_by_role("button", name="Upload").click()
    expect(page.get_by_label("E-mail", exact=True)).to_have_value("0")
    expect(page.get_by_label("Name (or first name)")).to_have_value("1")
    page.get_by_label("They agreed to receive my e-mails. I state the basis:").check()
    page.get_by_role("textbox", name="The basis").fill(
        "Readers of the printed magazine who asked for news.")
    page.get_by_role("button", name="Check (dry run)").click()
    expect(page.locator("#import-progress")).to_be_visible()  # a check takes a while
    expect(page.get_by_role("heading", name="What the import would do")).to_be_visible(
        timeout=30000)  # import.js saw the check end and showed the page afresh
    expect(page.locator("table.problems")).to_contain_text(
        "An email address must have an @-sign.")
    page.get_by_role("button", name="Start import").click()
    expect(page.locator("#import-progress")).to_be_visible()
    expect(page.get_by_role("heading", name="What the import did")).to_be_visible(timeout=60000)
    expect(page.locator("#import-counts")).to_contain_text("20,000")
    assert refused == []
