"""What an owner does to contacts, over real HTTP in the dashboard and through the owner
API: add one with a basis (confirmed, or pending with a real confirmation e-mail), edit,
unsubscribe, re-send, download all we hold, erase (found nowhere after), and bulk
changes behind a confirm step that states the count; each logged in the audit log.
SQLite and PostgreSQL alike."""
from __future__ import annotations

import re
from html import unescape

import pytest
from sqlalchemy import func, select

from widget.models import (AuditEntry, Consent, ContactTag, Grant, OutboxMessage, StatusChange,
                           Story, Subscriber)
from widget.sites import keys

from .helpers.api import assert_error
from .helpers.gifts import file_gift, gift_signup
from .helpers.http import csrf_post
from .helpers.mail import signup

pytestmark = pytest.mark.real_smtp


def bearer(key: str) -> dict:
    return {"headers": {"Authorization": f"Bearer {key}"}}


def key_for(query, site: str, scope: str = "write") -> str:
    return query(lambda s: keys.create(s, site, scope, "tests").key)


def person(query, email: str):
    return query(lambda s: s.scalar(select(Subscriber).where(
        Subscriber.email_normalized == email.lower())))


def local(location: str) -> str:
    """A Location header's path and query (the app may send it absolute)."""
    return re.sub(r"^https?://[^/]+", "", location)


def tags_of(query, subscriber_id: int) -> list[str]:
    return query(lambda s: sorted(s.scalars(select(ContactTag.tag).where(
        ContactTag.subscriber_id == subscriber_id))))


def audit(query, site: str) -> list[tuple]:
    return query(lambda s: [(a.action, a.count) for a in s.scalars(
        select(AuditEntry).where(AuditEntry.site_id == site).order_by(AuditEntry.id))])


def test_an_owner_adds_a_contact_who_agreed_and_one_who_must_confirm(
        ann, make_site, query, smtp, worker):
    site = make_site("ann@example.com")
    page = f"/dashboard/sites/{site}/contacts/new"
    resp = csrf_post(ann, page, {"email": "Kari@Example.com", "name": "Kari", "lang": "nb",
                                 "tags": "Stand, VIP", "basis": "Asked at our stand, 3 May",
                                 "confirm": "now"})
    assert resp.status_code == 302 and "done=added" in resp.headers["Location"]
    kari = person(query, "kari@example.com")
    assert (kari.status, kari.lang, kari.name, kari.ref_code is not None) == \
        ("confirmed", "nb", "Kari", True)
    assert tags_of(query, kari.id) == ["stand", "vip"]
    consent = query(lambda s: s.scalar(select(Consent).where(Consent.subscriber_id == kari.id)))
    assert (consent.given, consent.basis, consent.text) == (True, "owner", "Asked at our stand, 3 May")
    shown = ann.get(local(resp.headers["Location"])).text
    assert "Contact added." in shown and "added by you" in shown and ">vip<" in shown

    resp = csrf_post(ann, page, {"email": "ola@example.com", "basis": "Phoned us",
                                 "confirm": "ask", "lang": "en"})
    assert resp.status_code == 302
    (mail,) = smtp.mailbox.wait(1)
    assert mail["To"].addresses[0].addr_spec == "ola@example.com"
    assert person(query, "ola@example.com").status == "pending"
    assert smtp.mailbox.messages == [mail]  # the confirmed contact got no e-mail
    assert audit(query, site) == [("add", 1), ("add", 1)]


@pytest.mark.parametrize("fields, field, message", [
    ({"email": "not-an-address"}, "email", "valid"),
    ({"basis": ""}, "basis", "State the basis"),
    ({"tags": "x" * 65}, "tags", "at most 64"),
])
def test_adding_a_contact_explains_what_is_wrong_and_keeps_nothing(
        ann, make_site, query, fields, field, message):
    site = make_site("ann@example.com")
    data = {"email": "ok@example.com", "basis": "Agreed in person", "confirm": "now",
            "lang": "en", **fields}
    resp = csrf_post(ann, f"/dashboard/sites/{site}/contacts/new", data)
    assert resp.status_code == 422
    assert message in unescape(resp.text) and 'class="error" role="alert"' in resp.text
    assert query(lambda s: s.scalar(select(func.count(Subscriber.id)))) == 0


def test_an_owner_never_adds_back_someone_who_unsubscribed(ann, client, make_site, query):
    site = make_site("ann@example.com", double_opt_in=False)
    signup(client, site, "gone@example.com")
    key = key_for(query, site)
    gone = person(query, "gone@example.com")
    assert client.post(f"/api/v1/sites/{site}/contacts/{gone.id}/unsubscribe",
                       **bearer(key)).json()["status"] == "unsubscribed"
    resp = csrf_post(ann, f"/dashboard/sites/{site}/contacts/new",
                     {"email": "GONE@example.com", "basis": "x", "confirm": "now", "lang": "en"})
    assert resp.status_code == 422 and "already a contact" in resp.text
    resp = client.post(f"/api/v1/sites/{site}/contacts", json={
        "email": "gone@example.com", "basis": "They said so"}, **bearer(key))
    assert_error(resp, 409, "contact_exists", "email")
    assert person(query, "gone@example.com").status == "unsubscribed"


def test_edit_unsubscribe_and_resend_on_a_contacts_page(ann, client, make_site, query, smtp,
                                                         worker):
    site = make_site("ann@example.com")
    signup(client, site, "eva@example.com", name="Eva")
    smtp.mailbox.wait(1)
    eva = person(query, "eva@example.com")
    page = f"/dashboard/sites/{site}/contacts/{eva.id}"
    resp = csrf_post(ann, f"{page}/edit", {"name": "Eva Berg", "lang": "de",
                                           "tags": "Readers, readers,  Book club "}, page=page)
    assert resp.status_code == 302 and "done=saved" in resp.headers["Location"]
    eva = person(query, "eva@example.com")
    assert (eva.name, eva.lang, tags_of(query, eva.id)) == ("Eva Berg", "de",
                                                           ["book club", "readers"])
    bad = csrf_post(ann, f"{page}/edit", {"name": "Eva", "lang": "en", "tags": "y" * 70},
                    page=page)
    assert bad.status_code == 422 and "at most 64" in bad.text
    assert person(query, "eva@example.com").lang == "de"  # nothing of it was saved

    resent = csrf_post(ann, f"{page}/resend", {}, page=page)
    assert "done=not_resent" in resent.headers["Location"]  # the sign-up's one is too fresh
    gone = csrf_post(ann, f"{page}/unsubscribe", {}, page=page)
    assert "done=unsubscribed" in gone.headers["Location"]
    history = query(lambda s: [(h.status, h.via) for h in s.scalars(
        select(StatusChange).where(StatusChange.subscriber_id == eva.id)
        .order_by(StatusChange.id))])
    assert history == [("pending", "signup"), ("unsubscribed", "owner")]
    assert "changed by you in the dashboard" in ann.get(page).text
    assert "done=already" in csrf_post(ann, f"{page}/unsubscribe", {}, page=page).headers["Location"]
    assert ann.post(f"{page}/unsubscribe", data={}).status_code == 400  # no CSRF token


def test_download_all_we_hold_and_erase_leave_them_nowhere(ann, client, make_site, query,
                                                           smtp, worker):
    site = make_site("ann@example.com", double_opt_in=False)
    gift, widget = file_gift(query, site, mode="gated")
    assert gift_signup(client, site, "mia@example.com", widget, name="Mia").status_code == 200
    client.post(f"/api/v1/sites/{site}/stories", headers={"Origin": "https://blog.example"},
                json={"name": "Mia", "text": "Lovely checklist", "consent": True,
                      "email": "MIA@example.com"})
    smtp.mailbox.wait(2)
    mia = person(query, "mia@example.com")
    page = f"/dashboard/sites/{site}/contacts/{mia.id}"
    data = ann.get(f"{page}/data.json")
    assert data.status_code == 200 and "attachment" in data.headers["Content-Disposition"]
    held = data.json()
    assert held["contact"]["email"] == "mia@example.com"
    assert held["stories"][0]["text"] == "Lovely checklist"
    assert held["gifts"] and held["emails"] and held["consents"] and held["status_history"]

    confirm = ann.get(f"{page}/erase")
    assert "cannot be undone" in confirm.text
    assert person(query, "mia@example.com") is not None  # the GET changed nothing
    resp = csrf_post(ann, f"{page}/erase", {}, page=f"{page}/erase")
    assert resp.status_code == 302 and "done=erased" in resp.headers["Location"]

    assert person(query, "mia@example.com") is None
    everything = query(lambda s: " ".join(
        repr(vars(row)) for model in (OutboxMessage, Grant, Story, Consent, StatusChange)
        for row in s.scalars(select(model))))
    assert "mia@example.com" not in everything.lower() and "Lovely checklist" not in everything
    assert ann.get(f"/dashboard/sites/{site}/contacts?q=mia").text.count("mia@") == 0
    assert "mia@" not in ann.get(f"/dashboard/sites/{site}/contacts.csv").text
    assert "mia@" not in ann.get(f"/dashboard/sites/{site}/gifts/{gift}").text
    assert "mia@" not in ann.get(f"/dashboard/sites/{site}/outbox").text
    grant = query(lambda s: s.scalars(select(Grant)).one())
    assert grant.revoked_at is not None and grant.subscriber_id is None  # its link is dead
    assert ("erase", 1) in audit(query, site) and ("export", 1) in audit(query, site)
    log = ann.get(f"/dashboard/sites/{site}").text
    assert "Audit log" in log and "erased" in log and "ann@example.com" in log


def test_bulk_changes_say_how_many_first_and_change_only_the_view(ann, client, make_site,
                                                                   query):
    site = make_site("ann@example.com", double_opt_in=False)
    other = make_site("ann@example.com", double_opt_in=False)
    for i in range(5):
        signup(client, site, f"p{i}@example.com", name="Reader" if i < 3 else "Other")
    signup(client, other, "p0@example.com", name="Reader")
    contacts = f"/dashboard/sites/{site}/contacts"
    review = ann.get(f"{contacts}/bulk", params={"action": "tag", "bulk_tag": "Early Bird",
                                                  "q": "Reader"})
    assert review.status_code == 200
    assert re.search(r"This changes <strong>3 contacts</strong>", review.text)
    assert tags_count(query) == 0  # the review changed nothing
    resp = csrf_post(ann, f"{contacts}/bulk", {"action": "tag", "bulk_tag": "Early Bird",
                                               "q": "Reader"}, page=local(review.url))
    assert resp.status_code == 302 and "changed=3" in resp.headers["Location"]
    assert "3 contacts tagged." in ann.get(local(resp.headers["Location"])).text
    tagged = ann.get(contacts, params={"tag": "early bird"}).text
    assert re.findall(r">(p\d)@example.com<", tagged) == ["p2", "p1", "p0"]

    resp = csrf_post(ann, f"{contacts}/bulk", {"action": "unsubscribe", "q": "Reader"},
                     page=local(review.url))
    statuses = query(lambda s: dict(s.execute(select(Subscriber.email, Subscriber.status)
                                              .where(Subscriber.site_id == site)).all()))
    assert sorted(statuses.values()) == ["confirmed"] * 2 + ["unsubscribed"] * 3
    resp = csrf_post(ann, f"{contacts}/bulk", {"action": "delete", "q": "Other"},
                     page=local(review.url))
    assert "changed=2" in resp.headers["Location"]
    assert query(lambda s: s.scalar(select(func.count(Subscriber.id)).where(
        Subscriber.site_id == site))) == 3
    assert query(lambda s: s.scalar(select(Subscriber.status).where(
        Subscriber.site_id == other))) == "confirmed"  # the other site's is untouched
    assert audit(query, site) == [("tag", 3), ("unsubscribe", 3), ("delete", 2)]
    assert ann.post(f"{contacts}/bulk", data={"action": "delete"}).status_code == 400


def tags_count(query) -> int:
    return query(lambda s: s.scalar(select(func.count(ContactTag.id))))


def test_the_owner_api_writes_contacts(client, make_site, query, smtp, worker):
    site = make_site(double_opt_in=True)
    key = key_for(query, site)
    path = f"/api/v1/sites/{site}/contacts"
    resp = client.post(path, json={"email": "Noor@Example.com", "name": "Noor",
                                   "lang": "nl", "tags": ["API", "vip"],
                                   "basis": "Signed the form at the fair"}, **bearer(key))
    assert resp.status_code == 201, resp.text
    noor = resp.json()
    assert (noor["email"], noor["status"], noor["tags"], noor["lang"]) == \
        ("Noor@example.com", "confirmed", ["api", "vip"], "nl")
    assert local(resp.headers["Location"]) == f"{path}/{noor['id']}"
    one = client.get(local(resp.headers["Location"]), **bearer(key)).json()
    assert one["consents"][0]["basis"] == "owner" and one["history"][0]["via"] == "api"

    waiting = client.post(path, json={"email": "wim@example.com", "basis": "Phoned",
                                      "confirm": True}, **bearer(key))
    assert waiting.json()["status"] == "pending"
    (mail,) = smtp.mailbox.wait(1)
    assert mail["To"].addresses[0].addr_spec == "wim@example.com"

    edited = client.patch(f"{path}/{noor['id']}", json={"name": None, "tags": ["vip"]},
                          **bearer(key))
    assert edited.status_code == 200 and (edited.json()["name"], edited.json()["tags"]) == \
        (None, ["vip"])
    gone = client.post(f"{path}/{noor['id']}/unsubscribe", **bearer(key))
    assert gone.json()["status"] == "unsubscribed"
    assert client.post(f"{path}/{noor['id']}/unsubscribe", **bearer(key)).status_code == 200
    data = client.get(f"{path}/{noor['id']}/data", **bearer(key)).json()
    assert data["contact"]["tags"] == ["vip"]
    assert client.delete(f"{path}/{noor['id']}", **bearer(key)).status_code == 204
    assert_error(client.get(f"{path}/{noor['id']}", **bearer(key)), 404, "not_found")
    assert [a for a, _ in audit(query, site)] == ["add", "add", "export", "erase"]


@pytest.mark.parametrize("body, status, code, field", [
    ({"basis": "x"}, 422, "missing_field", "email"),
    ({"email": "a@example.com"}, 422, "missing_field", "basis"),
    ({"email": "a@example.com", "basis": "x", "tags": "a,b"}, 400, "invalid_type", "tags"),
    ({"email": "a@example.com", "basis": "x", "tags": ["a" * 65]}, 422, "invalid_tags", "tags"),
    ({"email": "a@example.com", "basis": "x", "lang": "fr"}, 400, "bad_request", "lang"),
    ({"email": "a@example.com", "basis": "x", "confirm": "yes"}, 400, "invalid_type",
     "confirm"),
    ({"email": "a@example.com", "basis": "x", "emial": "typo"}, 400, "bad_request", "emial"),
    ([1, 2], 400, "invalid_json", None),
])
def test_the_owner_api_refuses_a_bad_contact_with_its_code(client, make_site, query, body,
                                                           status, code, field):
    site = make_site()
    resp = client.post(f"/api/v1/sites/{site}/contacts", json=body,
                       **bearer(key_for(query, site)))
    assert_error(resp, status, code, field)
    assert query(lambda s: s.scalar(select(func.count(Subscriber.id)))) == 0


def test_keys_write_only_their_own_site_and_read_keys_not_at_all(client, make_site, query):
    site, other = make_site(double_opt_in=False), make_site(double_opt_in=False)
    signup(client, other, "theirs@example.com")
    theirs = person(query, "theirs@example.com").id
    read, mine = key_for(query, site, "read"), key_for(query, site, "write")
    base = f"/api/v1/sites/{site}/contacts"
    assert_error(client.post(base, json={"email": "a@example.com", "basis": "x"},
                             **bearer(read)), 403, "forbidden_scope")
    assert_error(client.delete(f"{base}/{theirs}", **bearer(mine)), 404, "not_found")
    assert_error(client.patch(f"{base}/{theirs}", json={"name": "X"}, **bearer(mine)),
                 404, "not_found")
    assert_error(client.delete(f"/api/v1/sites/{other}/contacts/{theirs}", **bearer(mine)),
                 404, "site_not_found")
    assert person(query, "theirs@example.com").name is None


def test_the_owner_api_lists_referrals(client, make_site, query):
    site = make_site(double_opt_in=False)
    signup(client, site, "ref@example.com")
    code = person(query, "ref@example.com").ref_code
    client.post(f"/api/v1/sites/{site}/subscriptions",
                json={"email": "friend@example.com", "consent": True, "ref": code})
    key = key_for(query, site, "read")
    body = client.get(f"/api/v1/sites/{site}/referrals", **bearer(key)).json()
    (only,) = body["referrals"]
    assert (only["referrer"]["email"], only["friend"]["email"], body["next"]) == \
        ("ref@example.com", "friend@example.com", None)
    assert_error(client.get(f"/api/v1/sites/{site}/referrals?status=nope", **bearer(key)),
                 400, "bad_request", "status")
