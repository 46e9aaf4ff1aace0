"""Connectors to MailerLite, Brevo and Buttondown, each against a local stand-in written
from the service's public API reference (helpers/fake_more_services.py): a sign-up
confirmed here arrives there with name, language and tags, an unsubscribe and an erasure
follow; a backfill of 500 contacts arrives whole and in order; a 429 is honoured to its
wait (Brevo's own header included); a refused address fails alone; "test connection"
names the group, list or newsletter, says which custom field is missing, or says clearly
that the key was refused. An unsubscribe made at the service outlives a backfill, and a
confirmation here lifts it; Buttondown's daily cap on new subscribers pauses the
connector instead of failing contacts, and a paying Buttondown subscriber is not
unsubscribed behind the owner's back. Over real HTTP, with the real outbox worker, on
SQLite and PostgreSQL."""
from __future__ import annotations

from html import unescape

import pytest
from sqlalchemy import select

from widget.mail import worker as mail_worker
from widget.models import Connector, ContactTag, Event, OutboxMessage, Subscriber

from .helpers.fake_more_services import Brevo, Buttondown, MailerLite
from .helpers.fake_services import Server
from .helpers.giveback import add_widget, confirm, join, row, unsubscribe_path
from .helpers.http import csrf_post
from .helpers.mail import drain, worker_passed
from .helpers.waiting import wait_until

FAKES = {"mailerlite": MailerLite, "brevo": Brevo, "buttondown": Buttondown}
KEYS = {"mailerlite": "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.ml-7d2a",
        "brevo": "xkeysib-0123456789abcdef-Ab1Cd2Ef", "buttondown": "bd-4f1c0ffee-92aa"}
FORM = {"mailerlite": {"group_id": MailerLite.GROUP_ID}, "brevo": {"list_id": "7"},
        "buttondown": {}}
FOUND = {"mailerlite": "Connected to the MailerLite group “Blog readers” (0 active).",
         "brevo": "Connected to the Brevo list “Newsletter” (0 subscribed).",
         "buttondown": "Connected to the Buttondown newsletter “Kari's Kitchen”."}
REFUSED = {"mailerlite": "MailerLite refused the API key (401): Unauthenticated.",
           "brevo": "Brevo refused the API key (401): Key not found",
           "buttondown": "Buttondown refused the API key (401): Invalid token."}
REJECTED = {"mailerlite": (422, "The email must be a valid email address."),
            "brevo": (400, "Invalid email address"),
            "buttondown": (400, "The email address provided is not valid.")}


@pytest.fixture(autouse=True)
def _settings(app_config):
    app_config.update(OUTBOX_RETRY_SECONDS=0.2)


@pytest.fixture(params=sorted(FAKES))
def service(request) -> str:
    return request.param


@pytest.fixture
def fake(service):
    server = Server(FAKES[service](KEYS[service]))
    yield server
    server.close()


def page(site: str, service: str, suffix: str = "") -> str:
    return f"/dashboard/sites/{site}/connectors/{service}{suffix}"


def connect(ann, query, site: str, service: str, url: str, key: str | None = None, **form):
    """Connect through the dashboard's form, then point the vendor's host at the stand-in
    as an operator would (the base_url setting no form shows: docs/connectors.md)."""
    data = {"api_key": KEYS[service] if key is None else key, "tag_mode": "all", "tags": "",
            **FORM[service], **form}
    resp = csrf_post(ann, page(site, service), data)
    assert resp.status_code == 302, unescape(resp.text)[:2000]

    def point(s):
        found = s.scalar(select(Connector).where(Connector.site_id == site))
        found.settings = {**found.settings, "base_url": url}
        s.commit()
    query(point)


def press_test(ann, site: str, service: str) -> str:
    resp = csrf_post(ann, page(site, service, "/test"), {}, page=page(site, service))
    assert resp.status_code == 200
    return unescape(resp.text)


def seed(query, site: str, count: int, tagged: bool = False) -> list[str]:
    """`count` confirmed contacts straight into the database; their addresses by id."""
    def run(s):
        people = [Subscriber(site_id=site, email=f"reader{i:04}@example.com",
                             email_normalized=f"reader{i:04}@example.com", name=f"Reader {i}",
                             status="confirmed", lang="de") for i in range(count)]
        s.add_all(people)
        s.flush()
        if tagged:
            s.add_all(ContactTag(site_id=site, subscriber_id=p.id, tag="early") for p in people)
        s.commit()
        return [p.email for p in sorted(people, key=lambda p: p.id)]
    return query(run)


def backfill(ann, site: str, service: str) -> None:
    resp = csrf_post(ann, page(site, service, "/backfill"), {}, page=page(site, service))
    assert resp.status_code == 302 and "done=backfill" in resp.headers["Location"]


def deliveries(query) -> list[OutboxMessage]:
    return query(lambda s: list(s.scalars(select(OutboxMessage).where(
        OutboxMessage.kind == "sync").order_by(OutboxMessage.id))))


def last_error(query) -> str:
    return query(lambda s: s.scalar(select(Connector.last_error))) or ""


def test_a_confirmed_signup_arrives_then_unsubscribe_and_erase_follow(
        app, ann, client, make_site, query, fake, service, worker):
    site = make_site("ann@example.com")
    connect(ann, query, site, service, fake.url)
    widget = add_widget(query, site, "newsletter", tags="gift,blog")
    assert join(client, site, "Kari@Example.com", name="Kari Nordmann", lang="nb",
                widget=widget).status_code == 200
    worker_passed(query, site)
    assert fake.fake.person("kari@example.com") is None  # pending: nothing goes over

    kari = confirm(app, client, query, "kari@example.com")
    wait_until(lambda: fake.fake.person("kari@example.com"), "the contact there")
    drain(query)
    assert fake.fake.person("kari@example.com") == {
        "status": "subscribed", "name": "Kari Nordmann", "lang": "nb", "tags": ["blog", "gift"]}
    shown = ann.get(f"/dashboard/sites/{site}/contacts/{kari.id}").text
    assert "E-mail services" in shown and 'badge sent">Sent' in shown

    assert client.post(unsubscribe_path(app, row(query, "kari@example.com"))).status_code == 200
    wait_until(lambda: fake.fake.person("kari@example.com")["status"] == "unsubscribed",
               "the unsubscribe there")

    drain(query)
    told = query(lambda s: s.execute(select(Event.type, OutboxMessage.status).join(
        OutboxMessage, OutboxMessage.event_id == Event.id).order_by(OutboxMessage.id)).all())
    assert [tuple(r) for r in told] == [("contact.created", "skipped"),
                                        ("contact.confirmed", "sent"),
                                        ("contact.unsubscribed", "sent")]
    erase = f"/dashboard/sites/{site}/contacts/{kari.id}/erase"
    assert csrf_post(ann, erase, {}, page=erase).status_code == 302
    drain(query)
    happened = query(lambda s: s.execute(select(Event.type, OutboxMessage.status).join(
        OutboxMessage, OutboxMessage.event_id == Event.id).order_by(OutboxMessage.id)).all())
    # What the erase left: its own event, delivered; the ones before went with them.
    assert [tuple(r) for r in happened] == [("contact.erased", "sent")]
    assert fake.fake.person("kari@example.com") is None
    assert query(lambda s: s.scalar(select(Connector.last_ok_at))) is not None


def test_test_connection_names_what_it_found_or_says_the_key_was_refused(
        ann, make_site, query, fake, service):
    site = make_site("ann@example.com")
    connect(ann, query, site, service, fake.url)
    said = press_test(ann, site, service)
    assert FOUND[service] in said
    assert "Add a text field" not in said and "create the text" not in said  # they exist

    connect(ann, query, site, service, fake.url, key="wrong-0000")
    assert "The test failed: " + REFUSED[service] in press_test(ann, site, service)


@pytest.mark.parametrize("service, form, message", [
    ("mailerlite", {"group_id": "blog"}, "A MailerLite group ID is a number"),
    ("brevo", {"list_id": "news"}, "A Brevo list ID is a number"),
    ("brevo", {"api_key": "xsmtpsib-0123-Ab1"}, "That is an SMTP key"),
    ("buttondown", {"api_key": ""}, "Enter your Buttondown API key."),
])
def test_bad_settings_are_refused_at_their_field(ann, make_site, query, service, form, message):
    site = make_site("ann@example.com")
    data = {"api_key": KEYS[service], "tag_mode": "all", "tags": "", **FORM[service], **form}
    resp = csrf_post(ann, page(site, service), data)
    assert resp.status_code == 422 and message in unescape(resp.text)
    assert query(lambda s: s.scalar(select(Connector.id))) is None


def test_a_group_or_list_that_is_not_there_is_named_in_the_test(ann, make_site, query):
    for service, form, said in (
            ("mailerlite", {"group_id": "999"}, "MailerLite has no group with the ID 999"),
            ("brevo", {"list_id": "99"}, "Brevo answered 404: List ID does not exist")):
        server = Server(FAKES[service](KEYS[service]))
        try:
            site = make_site("ann@example.com", name=f"{service} site")
            connect(ann, query, site, service, server.url, **form)
            assert "The test failed: " + said in press_test(ann, site, service)
        finally:
            server.close()


@pytest.mark.parametrize("service", ["mailerlite", "brevo"])
def test_without_the_custom_fields_the_rest_still_arrives(
        app, ann, client, make_site, query, service, worker):
    server = Server(FAKES[service](KEYS[service]))
    try:
        if service == "mailerlite":
            server.fake.field_keys.remove("language")
            hint = ("Add a text field “language” in MailerLite (Subscribers → Fields) to "
                    "receive each contact's language.")
        else:
            server.fake.attributes[-2:] = []
            hint = ("To receive each contact's language and tags, create the text attributes "
                    "LANGUAGE and TAGS in Brevo (Contacts → Settings → Contact attributes).")
        site = make_site("ann@example.com", double_opt_in=False)
        connect(ann, query, site, service, server.url)
        assert hint in press_test(ann, site, service)
        widget = add_widget(query, site, "newsletter", tags="gift")
        assert join(client, site, "ola@example.com", name="Ola", lang="nb",
                    widget=widget).status_code == 200
        drain(query)
        expected_tags = ["gift"] if service == "mailerlite" else []  # groups need no field
        assert server.fake.person("ola@example.com") == {
            "status": "subscribed", "name": "Ola", "lang": None, "tags": expected_tags}
    finally:
        server.close()


def test_a_backfill_of_500_arrives_in_order(app, ann, make_site, query, fake, service):
    site = make_site("ann@example.com")
    connect(ann, query, site, service, fake.url)
    emails = seed(query, site, 500, tagged=True)
    backfill(ann, site, service)
    assert ann.get(page(site, service, "/backfill")).json() == {
        "status": "running", "rows": 500, "done": 0}
    thread, stop = mail_worker.start(app, poll=0.05)
    try:
        wait_until(lambda: ann.get(page(site, service, "/backfill")).json()["status"] == "done",
                   "the backfill to end", timeout=120)
    finally:
        stop.set()
        thread.join(10)
    assert fake.fake.upserted() == emails  # each once, in the order of the contacts
    assert fake.fake.person(emails[-1]) == {"status": "subscribed", "name": "Reader 499",
                                            "lang": "de", "tags": ["early"]}
    assert [m.status for m in deliveries(query)] == ["sent"] * 500
    assert "Last time 500 of 500 went over" in ann.get(page(site, service)).text


def test_a_429_is_honoured_to_its_wait_and_the_order_kept(
        app, ann, make_site, query, fake, service, worker):
    site = make_site("ann@example.com")
    connect(ann, query, site, service, fake.url)
    emails = seed(query, site, 4)
    fake.fake.throttle(1, after=2)
    backfill(ann, site, service)
    wait_until(lambda: fake.fake.upserted() == emails, "all four there", timeout=20)
    refused = next(s for s in fake.fake.seen if s.status == 429)
    later = [s.at - refused.at for s in fake.fake.seen if s.at > refused.at]
    assert later and min(later) >= 2.0  # nothing asked before the wait was up
    drain(query)
    assert [m.status for m in deliveries(query)] == ["sent"] * 4
    assert "answered 429" in last_error(query)


def test_a_refused_address_fails_alone(app, ann, make_site, query, fake, service, worker):
    site = make_site("ann@example.com")
    connect(ann, query, site, service, fake.url)
    emails = seed(query, site, 3)
    fake.fake.reject(emails[1])
    backfill(ann, site, service)
    drain(query)
    rows = deliveries(query)
    status, said = REJECTED[service]
    assert [m.status for m in rows] == ["sent", "failed", "sent"]
    assert rows[1].response_status == status and rows[1].attempts == 1
    assert fake.fake.upserted() == [emails[0], emails[2]]
    assert said in last_error(query) and f"contact {rows[1].contact_id}" in last_error(query)
    person = query(lambda s: s.scalar(select(Subscriber.id).where(
        Subscriber.email == emails[1])))
    shown = unescape(ann.get(f"/dashboard/sites/{site}/contacts/{person}").text)
    assert 'badge failed">Failed' in shown and said in shown


def test_an_unsubscribe_there_outlives_a_backfill_and_a_confirmation_here_lifts_it(
        app, ann, client, make_site, query, fake, service, worker):
    site = make_site("ann@example.com")
    connect(ann, query, site, service, fake.url)
    [email] = seed(query, site, 1)
    fake.fake.left_there(email)  # through the service's own unsubscribe link
    backfill(ann, site, service)
    drain(query)
    assert fake.fake.person(email)["status"] == "unsubscribed"
    assert fake.fake.person(email)["name"] == "Reader 0"  # the rest was updated

    assert client.post(unsubscribe_path(app, row(query, email))).status_code == 200
    assert join(client, site, email).status_code == 200
    confirm(app, client, query, email)
    wait_until(lambda: fake.fake.person(email)["status"] == "subscribed",
               "the confirmation here to lift the unsubscribe there")
    drain(query)
    assert [m.status for m in deliveries(query)][-1] == "sent"


def test_buttondowns_daily_cap_pauses_the_connector_instead_of_failing(
        app, ann, make_site, query, worker):
    server = Server(Buttondown(KEYS["buttondown"]))
    try:
        site = make_site("ann@example.com")
        connect(ann, query, site, "buttondown", server.url)
        emails = seed(query, site, 4)
        server.fake.cap(2, resets_in=3)
        backfill(ann, site, "buttondown")
        wait_until(lambda: server.fake.upserted() == emails, "all four there", timeout=25)
        capped = next(s for s in server.fake.seen if s.status == 400)
        later = [s.at - capped.at for s in server.fake.seen if s.at > capped.at]
        assert later and min(later) >= 1.5  # nothing asked until the cap was lifted
        drain(query)
        assert [m.status for m in deliveries(query)] == ["sent"] * 4
        assert "daily cap on new subscribers" in last_error(query)
    finally:
        server.close()


def test_a_paying_buttondown_subscriber_is_not_unsubscribed_there(
        app, ann, client, make_site, query, worker):
    server = Server(Buttondown(KEYS["buttondown"]))
    try:
        site = make_site("ann@example.com")
        connect(ann, query, site, "buttondown", server.url)
        [email] = seed(query, site, 1)
        server.fake.paying(email)
        assert client.post(unsubscribe_path(app, row(query, email))).status_code == 200
        drain(query)
        [sent] = deliveries(query)
        assert sent.status == "failed" and "paying subscriber (premium)" in sent.last_error
        assert server.fake.person(email)["status"] == "premium"
        assert "unsubscribing cancels their payment" in last_error(query)
    finally:
        server.close()
