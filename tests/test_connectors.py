"""Connectors to e-mail services, each against a local stand-in written from the
service's public API reference (helpers/fake_services.py, fake_kit_listmonk.py): a
sign-up confirmed here arrives there with name, language and tags, an unsubscribe and an
erasure follow; a backfill of 500 contacts arrives whole and in order behind a progress
bar; a 429 is honoured to its Retry-After; a refused address fails alone; the key is kept
sealed; "test connection" names the list, or says clearly why not. Over real HTTP, with
the real outbox worker, on SQLite and PostgreSQL."""
from __future__ import annotations

from html import unescape

import pytest
from sqlalchemy import select, text, update

from widget.core import vault
from widget.mail import worker as mail_worker
from widget.models import Connector, ContactTag, Event, OutboxMessage, Subscriber

from .helpers.fake_kit_listmonk import Kit, Listmonk
from .helpers.fake_services import Mailchimp, Server
from .helpers.giveback import add_widget, confirm, join, row, unsubscribe_path
from .helpers.http import csrf_post
from .helpers.mail import drain, worker_passed
from .helpers.waiting import wait_until

FAKES = {"mailchimp": Mailchimp, "kit": Kit, "listmonk": Listmonk}
KEYS = {"mailchimp": "0123456789abcdef0123456789abcdef-us21", "kit": "kit_4f1c0ffee",
        "listmonk": "lm-token-7d2a"}
# What each service says when it found what the connection names.
FOUND = {"mailchimp": "Connected to the Mailchimp audience “Blog readers”",
         "kit": "Connected to the Kit account “Kari's Kitchen”",
         "listmonk": "Connected to the listmonk list “Newsletter”"}
REFUSED = {"mailchimp": "Mailchimp refused the API key (401): API Key Invalid",
           "kit": "Kit refused the API key (401): The access token is invalid",
           "listmonk": "listmonk refused the API key (403): invalid API credentials"}
LANG = {"mailchimp": "no"}  # Mailchimp's code for Norwegian Bokmål; the others keep ours


@pytest.fixture(autouse=True)
def _settings(app_config):
    # listmonk's stand-in is on 127.0.0.1: the operator allows private targets here.
    app_config.setdefault("WEBHOOK_ALLOW_PRIVATE", True)
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
    """Connect through the dashboard's form; a vendor's host is then pointed at the
    stand-in as an operator would (the setting no form shows: docs/connectors.md)."""
    data = {"api_key": KEYS[service] if key is None else key, "tag_mode": "all", "tags": "", **{
        "mailchimp": {"list_id": Mailchimp.LIST_ID}, "kit": {},
        "listmonk": {"base_url": url, "api_user": Listmonk.USER, "list_id": "1"}}[service]}
    resp = csrf_post(ann, page(site, service), {**data, **form})
    assert resp.status_code == 302, unescape(resp.text)[:2000]
    if service != "listmonk":
        def point(s):
            row_ = s.scalar(select(Connector).where(Connector.site_id == site))
            row_.settings = {**row_.settings, "base_url": url}
            s.commit()
        query(point)


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


def deliveries(query) -> list[OutboxMessage]:
    return query(lambda s: list(s.scalars(select(OutboxMessage).where(
        OutboxMessage.kind == "sync").order_by(OutboxMessage.id))))


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
    drain(query)  # with their tags too
    assert fake.fake.person("kari@example.com") == {"status": "subscribed", "name": "Kari Nordmann",
                       "lang": LANG.get(service, "nb"), "tags": ["blog", "gift"]}
    drain(query)
    contact_page = ann.get(f"/dashboard/sites/{site}/contacts/{kari.id}").text
    assert "E-mail services" in contact_page and 'badge sent">Sent' in contact_page

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
    if service == "kit":  # no delete in Kit's API: unsubscribed there, and the owner told
        assert fake.fake.person("kari@example.com")["status"] == "unsubscribed"
        assert "cannot delete a subscriber" in ann.get(page(site, service)).text
    else:
        assert fake.fake.person("kari@example.com") is None
    assert query(lambda s: s.scalar(select(Connector.last_ok_at))) is not None


def test_the_key_is_kept_sealed_and_the_connection_tested(
        app, ann, make_site, query, fake, service):
    site = make_site("ann@example.com")
    connect(ann, query, site, service, fake.url)
    stored = query(lambda s: s.execute(text("SELECT secret, settings FROM connectors")).one())
    assert KEYS[service] not in str(stored)  # neither the key nor a part of it in clear
    with app.app_context():
        assert vault.open_(stored[0]) == KEYS[service]
    form = ann.get(page(site, service)).text
    assert KEYS[service] not in form and "leave empty to keep it" in form

    tested = csrf_post(ann, page(site, service, "/test"), {}, page=page(site, service))
    assert tested.status_code == 200 and FOUND[service] in unescape(tested.text)

    connect(ann, query, site, service, fake.url, key="0000wrong0000-us21")
    tested = csrf_post(ann, page(site, service, "/test"), {}, page=page(site, service))
    assert "The test failed: " + REFUSED[service] in unescape(tested.text)
    connect(ann, query, site, service, fake.url, key="")  # empty: the stored key stays
    assert query(lambda s: s.scalar(select(Connector.id))) is not None
    with app.app_context():
        secret = query(lambda s: s.scalar(select(Connector.secret)))
        assert vault.open_(secret) == "0000wrong0000-us21"


def test_a_backfill_of_500_arrives_in_order_behind_a_progress_bar(
        app, ann, make_site, query, fake, service):
    site = make_site("ann@example.com")
    connect(ann, query, site, service, fake.url)
    emails = seed(query, site, 500, tagged=True)
    started = csrf_post(ann, page(site, service, "/backfill"), {}, page=page(site, service))
    assert started.status_code == 302 and "done=backfill" in started.headers["Location"]
    shown = ann.get(page(site, service)).text
    assert 'data-live="running"' in shown and "js/import.js" in shown and ">0</span> of" in shown
    assert ann.get(page(site, service, "/backfill")).json() == {
        "status": "running", "rows": 500, "done": 0}
    again = csrf_post(ann, page(site, service, "/backfill"), {}, page=page(site, service))
    assert "done=running" in again.headers["Location"] and len(deliveries(query)) == 500

    thread, stop = mail_worker.start(app, poll=0.05)
    try:
        wait_until(lambda: ann.get(page(site, service, "/backfill")).json()["status"] == "done",
                   "the backfill to end", timeout=300)
    finally:
        stop.set()
        thread.join(10)
    assert ann.get(page(site, service, "/backfill")).json() == {
        "status": "done", "rows": 500, "done": 500}
    assert fake.fake.upserted() == emails  # each once, in the order of the contacts
    assert fake.fake.person(emails[-1]) == {"status": "subscribed", "name": "Reader 499",
                                            "lang": "de", "tags": ["early"]}
    assert "Last time 500 of 500 went over" in ann.get(page(site, service)).text


def test_a_429_is_honoured_to_its_retry_after_and_the_order_kept(
        app, ann, make_site, query, fake, service, worker):
    site = make_site("ann@example.com")
    connect(ann, query, site, service, fake.url)
    emails = seed(query, site, 4)
    fake.fake.throttle(1, after=2)
    csrf_post(ann, page(site, service, "/backfill"), {}, page=page(site, service))
    wait_until(lambda: fake.fake.upserted() == emails, "all four there", timeout=20)
    seen = fake.fake.seen
    refused = next(s for s in seen if s.status == 429)
    later = [s.at - refused.at for s in seen if s.at > refused.at]
    assert later and min(later) >= 2.0  # nothing asked before Retry-After was up
    drain(query)
    assert [m.status for m in deliveries(query)] == ["sent"] * 4
    assert "answered 429" in query(lambda s: s.scalar(select(Connector.last_error)))


def test_a_refused_address_fails_alone(app, ann, make_site, query, fake, service, worker):
    site = make_site("ann@example.com")
    connect(ann, query, site, service, fake.url)
    emails = seed(query, site, 3)
    fake.fake.reject(emails[1])
    csrf_post(ann, page(site, service, "/backfill"), {}, page=page(site, service))
    drain(query)
    rows = deliveries(query)
    assert [m.status for m in rows] == ["sent", "failed", "sent"]
    assert rows[1].response_status in (400, 422) and rows[1].attempts == 1
    assert fake.fake.upserted() == [emails[0], emails[2]]
    error = query(lambda s: s.scalar(select(Connector.last_error)))
    assert "invalid" in error.lower() and f"contact {rows[1].contact_id}" in error
    person = query(lambda s: s.scalar(select(Subscriber.id).where(
        Subscriber.email == emails[1])))
    shown = unescape(ann.get(f"/dashboard/sites/{site}/contacts/{person}").text)
    assert 'badge failed">Failed' in shown and "invalid" in shown.lower()


@pytest.mark.parametrize("app_config", [{"WEBHOOK_ALLOW_PRIVATE": False}], indirect=True)
def test_a_listmonk_on_a_private_address_is_refused_unless_allowed(
        ann, make_site, query):
    server = Server(Listmonk(KEYS["listmonk"]))
    try:
        site = make_site("ann@example.com")
        connect(ann, query, site, "listmonk", server.url)
        tested = csrf_post(ann, page(site, "listmonk", "/test"), {},
                           page=page(site, "listmonk"))
        assert "127.0.0.1 is a loopback or private address" in unescape(tested.text)
        assert server.fake.seen == []
    finally:
        server.close()


def test_only_the_chosen_tags_go_over(app, ann, client, make_site, query, worker):
    server = Server(Mailchimp(KEYS["mailchimp"]))
    try:
        site = make_site("ann@example.com", double_opt_in=False)
        connect(ann, query, site, "mailchimp", server.url, tag_mode="some", tags="Gift, vip")
        widget = add_widget(query, site, "newsletter", tags="gift,blog")
        assert join(client, site, "ola@example.com", widget=widget).status_code == 200
        wait_until(lambda: server.fake.person("ola@example.com"), "Ola there")
        drain(query)
        arrived = server.fake.person("ola@example.com")
        assert arrived["tags"] == ["gift"] and arrived["name"] is None
        shown = ann.get(page(site, "mailchimp")).text
        assert "gift, vip" in shown and '<option selected value="some">' in shown
    finally:
        server.close()


@pytest.mark.parametrize("service, form, field, message", [
    ("mailchimp", {"api_key": "0123456789abcdef"}, "api_key", "ends in its data centre"),
    ("mailchimp", {"list_id": ""}, "list_id", "Fill in “Audience ID”."),
    ("listmonk", {"base_url": "ftp://lists.example"}, "base_url", "https://host"),
    ("listmonk", {"list_id": "news"}, "list_id", "is a number"),
    ("kit", {"tag_mode": "some", "tags": ""}, "tags", "List the tags that go over"),
])
def test_bad_settings_are_refused_at_their_field(ann, make_site, query, service, form, field,
                                                 message):
    site = make_site("ann@example.com")
    data = {"api_key": KEYS[service], "tag_mode": "all", "tags": "",
            "list_id": {"listmonk": "1"}.get(service, Mailchimp.LIST_ID),
            "base_url": "https://lists.example", "api_user": "widgets", **form}
    resp = csrf_post(ann, page(site, service), data)
    assert resp.status_code == 422 and message in unescape(resp.text)
    assert query(lambda s: s.scalar(select(Connector.id))) is None


def test_other_owners_connectors_are_404(ann, make_client, make_site, query):
    theirs = make_site("bo@example.com", name="Bo's")
    query(lambda s: (s.add(Connector(site_id=theirs, service="kit", secret="x", settings={},
                                     enabled=True, backfill_total=0)), s.commit()))
    for path in ("", "/kit", "/nope"):
        assert ann.get(f"/dashboard/sites/{theirs}/connectors{path}").status_code == 404
    mine = make_site("ann@example.com")
    assert ann.get(f"/dashboard/sites/{mine}/connectors/nope").status_code == 404
    for action in ("/test", "/backfill", "/disconnect"):
        resp = csrf_post(ann, f"/dashboard/sites/{theirs}/connectors/kit{action}", {},
                         page=f"/dashboard/sites/{mine}/connectors/kit")
        assert resp.status_code == 404
    assert query(lambda s: s.scalar(select(Connector.site_id))) == theirs


def test_disconnect_removes_the_key_and_stops_sending(app, ann, client, make_site, query,
                                                      worker):
    server = Server(Kit(KEYS["kit"]))
    try:
        site = make_site("ann@example.com", double_opt_in=False)
        connect(ann, query, site, "kit", server.url)
        listed = ann.get(f"/dashboard/sites/{site}/connectors").text
        assert all(name in listed for name in ("Mailchimp", "Kit", "listmonk", "Connected"))
        gone = csrf_post(ann, page(site, "kit", "/disconnect"), {}, page=page(site, "kit"))
        assert gone.status_code == 302 and "done=disconnected" in gone.headers["Location"]
        assert query(lambda s: s.scalar(select(Connector.id))) is None
        assert join(client, site, "ola@example.com").status_code == 200
        worker_passed(query, site)
        assert server.fake.seen == [] and deliveries(query) == []
    finally:
        server.close()


def test_a_contact_changed_before_the_backfill_reaches_them_goes_as_they_are(
        app, ann, make_site, query):
    server = Server(Listmonk(KEYS["listmonk"]))
    try:
        site = make_site("ann@example.com")
        connect(ann, query, site, "listmonk", server.url)
        emails = seed(query, site, 2)
        csrf_post(ann, page(site, "listmonk", "/backfill"), {}, page=page(site, "listmonk"))
        query(lambda s: (s.execute(update(Subscriber).where(Subscriber.email == emails[0])
                                   .values(status="unsubscribed")), s.commit()))
        thread, stop = mail_worker.start(app, poll=0.05)
        try:
            drain(query)
        finally:
            stop.set()
            thread.join(10)
        assert [m.status for m in deliveries(query)] == ["skipped", "sent"]
        assert server.fake.upserted() == [emails[1]]
    finally:
        server.close()
