"""The clean-up of sign-ups never confirmed (subscribers/retention.py), on SQLite and
PostgreSQL: a contact pending longer than the site's unconfirmed_days is erased with the
address, subject and text of the e-mails sent to it (through a real SMTP server), its
consent, history and tags; younger ones, confirmed and unsubscribed contacts stay; a
contact that came back counts from when it became pending again; the site's audit log
gets one entry per sweep with the count; batches, two sweeps at once and the worker's
sweep at start count every contact once. And the site setting validates."""
from __future__ import annotations

import html
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from widget.core import db, outbox
from widget.mail import worker as mail_worker
from widget.models import (AuditEntry, Consent, ContactTag, OutboxMessage, Site,
                           StatusChange, Subscriber, utcnow)
from widget.subscribers import retention

from .helpers.dashboard import SETTINGS
from .helpers.giveback import add_widget, confirm, join, row, unsubscribe_path
from .helpers.http import csrf_post
from .helpers.mail import drain
from .helpers.waiting import wait_until

pytestmark = pytest.mark.real_smtp  # the confirmations go to the `smtp` fixture's server


def age(query, emails, days: float, **only) -> None:
    """Move these contacts' times `days` into the past (all of them, or those named)."""
    past = utcnow() - timedelta(days=days)
    values = only or {"created_at": past, "status_at": past, "confirm_sent_at": past}
    values = {name: past for name in values}

    def run(s):
        s.execute(update(Subscriber).where(Subscriber.email.in_(emails)).values(**values))
        s.commit()
    query(run)


def emails(query, site: str) -> set[str]:
    return set(query(lambda s: s.scalars(select(Subscriber.email)
                                         .where(Subscriber.site_id == site))))


def sweep(query) -> dict[str, int]:
    return query(lambda s: retention.sweep(s))


def entries(query, site: str) -> list[tuple[str, str, int]]:
    return query(lambda s: s.execute(select(AuditEntry.actor, AuditEntry.action,
                                            AuditEntry.count)
                                     .where(AuditEntry.site_id == site)
                                     .order_by(AuditEntry.id)).all())


def make_pending(query, site: str, count: int, days: float, prefix: str = "p") -> None:
    """`count` pending contacts made straight in the database, pending for `days`."""
    past = utcnow() - timedelta(days=days)

    def run(s):
        s.add_all(Subscriber(site_id=site, email=f"{prefix}{n}@example.com",
                             email_normalized=f"{prefix}{n}@example.com", status="pending",
                             status_at=past, created_at=past) for n in range(count))
        s.commit()
    query(run)


def test_a_sign_up_never_confirmed_goes_with_its_mail_and_the_others_stay(
        app, make_site, make_client, query, smtp, worker):
    site = make_site("ann@example.com")
    widget = add_widget(query, site, "newsletter", tags="checklist-gift")
    visitor = make_client()
    people = ["old@example.com", "young@example.com", "kept@example.com", "left@example.com"]
    for email in people:
        assert join(visitor, site, email, widget=widget).status_code == 200
    smtp.mailbox.wait(4)
    confirm(app, visitor, query, "kept@example.com")
    assert visitor.post(unsubscribe_path(app, row(query, "left@example.com"))).status_code == 200
    drain(query)
    old = row(query, "old@example.com").id
    mail_to_old = query(lambda s: s.scalars(select(OutboxMessage.id).where(
        OutboxMessage.subscriber_id == old)).all())
    assert mail_to_old and query(lambda s: s.get(OutboxMessage, mail_to_old[0]).raw)
    age(query, ["old@example.com", "kept@example.com", "left@example.com"], 31)
    age(query, ["young@example.com"], 29)

    assert sweep(query) == {site: 1}
    assert emails(query, site) == {"young@example.com", "kept@example.com", "left@example.com"}
    for model in (Consent, StatusChange, ContactTag):
        assert query(lambda s: s.scalar(select(func.count()).select_from(model).where(
            model.subscriber_id == old))) == 0, model
    for message in query(lambda s: [s.get(OutboxMessage, i) for i in mail_to_old]):
        assert (message.mailbox, message.subject, message.raw, message.body,
                message.subscriber_id, message.status) == ("", None, None, None, None, "sent")
    kept = query(lambda s: s.execute(select(OutboxMessage.mailbox, OutboxMessage.raw).where(
        OutboxMessage.subscriber_id.is_not(None))).all())
    assert len(kept) == 4 and all(mailbox and raw for mailbox, raw in kept)  # 3 + a welcome
    assert entries(query, site) == [("automatic clean-up", "sweep", 1)]
    assert query(lambda s: s.scalar(select(func.count(ContactTag.id)))) == 3

    assert sweep(query) == {}  # nothing left: no second entry
    assert entries(query, site) == [("automatic clean-up", "sweep", 1)]


def test_a_contact_that_came_back_counts_from_when_it_became_pending_again(
        app, make_site, make_client, query):
    site = make_site("ann@example.com")
    visitor = make_client()
    assert join(visitor, site, "back@example.com").status_code == 200
    confirm(app, visitor, query, "back@example.com")
    assert visitor.post(unsubscribe_path(app, row(query, "back@example.com"))).status_code == 200
    age(query, ["back@example.com"], 60)
    assert join(visitor, site, "back@example.com").status_code == 200  # pending again
    assert row(query, "back@example.com").status == "pending"
    assert sweep(query) == {}

    age(query, ["back@example.com"], 31, status_at=True, created_at=True)  # a fresh link
    assert sweep(query) == {}  # was sent just now
    age(query, ["back@example.com"], 31, confirm_sent_at=True)
    assert sweep(query) == {site: 1}
    assert emails(query, site) == set()


def test_each_site_keeps_its_own_number_of_days(make_site, query):
    quick = make_site("ann@example.com", unconfirmed_days=1)
    patient = make_site("bob@example.com", unconfirmed_days=90)
    for site in (quick, patient):
        make_pending(query, site, 2, days=2, prefix=f"{site}-")
    assert sweep(query) == {quick: 2}
    assert emails(query, quick) == set() and len(emails(query, patient)) == 2
    assert entries(query, patient) == []


def test_batches_count_every_contact_once_in_one_entry(make_site, query):
    site = make_site("ann@example.com")
    make_pending(query, site, 2 * retention.BATCH + 1, days=31)
    make_pending(query, site, 3, days=40, prefix="c")
    query(lambda s: (s.execute(update(Subscriber).where(Subscriber.email.like("c%"))
                               .values(status="confirmed")), s.commit()))
    assert sweep(query) == {site: 2 * retention.BATCH + 1}
    assert entries(query, site) == [("automatic clean-up", "sweep", 2 * retention.BATCH + 1)]
    assert emails(query, site) == {"c0@example.com", "c1@example.com", "c2@example.com"}


def test_two_sweeps_at_once_erase_and_count_each_contact_once(app, make_site, query):
    sites = [make_site("ann@example.com"), make_site("bob@example.com")]
    for site in sites:
        make_pending(query, site, 700, days=31, prefix=f"{site}-")
    results, errors = [], []

    def run():
        try:
            with app.app_context():
                results.append(retention.sweep(db.session()))
        except Exception as exc:  # reported below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    for site in sites:
        assert sum(found.get(site, 0) for found in results) == 700
        assert sum(count for _, _, count in entries(query, site)) == 700
        assert emails(query, site) == set()


def test_the_worker_sweeps_when_it_starts(app, make_site, query):
    site = make_site("ann@example.com")
    make_pending(query, site, 3, days=31)
    make_pending(query, site, 1, days=1, prefix="young")
    thread, stop = mail_worker.start(app, poll=0.05)
    try:
        wait_until(lambda: emails(query, site) == {"young0@example.com"}, "the sweep")
        assert entries(query, site) == [("automatic clean-up", "sweep", 3)]
    finally:
        stop.set()
        outbox.wake_event(app).set()
        thread.join(10)


@pytest.mark.parametrize("value, message", [
    ("0", "A number of days from 1 to 365."), ("366", "A number of days from 1 to 365."),
    ("", "A number of days from 1 to 365."), ("ten", "Not a valid integer value."),
])
def test_the_setting_is_explained_when_it_is_not_a_number_of_days(ann, make_site, query,
                                                                   value, message):
    site = make_site("ann@example.com")
    path = f"/dashboard/sites/{site}/settings"
    resp = csrf_post(ann, path, {**SETTINGS, "name": "Renamed", "unconfirmed_days": value})
    assert resp.status_code == 422 and html.escape(message) in resp.text
    assert query(lambda s: (lambda x: (x.name, x.unconfirmed_days))(s.get(Site, site))) == (
        "Blog", 30)


def test_the_setting_is_saved_and_shown(ann, make_site, query):
    site = make_site("ann@example.com")
    path = f"/dashboard/sites/{site}/settings"
    page = ann.get(path).text
    assert 'name="unconfirmed_days"' in page and 'value="30"' in page
    assert "Confirmed and unsubscribed contacts are never touched" in page
    assert csrf_post(ann, path, {**SETTINGS, "unconfirmed_days": "90"}).status_code == 302
    assert query(lambda s: s.get(Site, site).unconfirmed_days) == 90
    assert 'value="90"' in ann.get(path).text
