"""What jobs store in English, shown in the owner's language (core/said.py): a broken
feed's error, the audit log's actors and details, a bulk action's selection, and the
words of email-validator and WTForms, the two-step QR code's name; the English stays what
is stored. Over real HTTP on SQLite and PostgreSQL, with a real feed server on loopback."""
from __future__ import annotations

from html import unescape

import pytest
from sqlalchemy import select

from widget.core import said
from widget.letters import feeds
from widget.models import AuditEntry, Connector, Feed
from widget.subscribers import contacts
from widget.sync import webhook_send

from .helpers.feeds import FeedServer
from .helpers.http import csrf_post
from .helpers.mail import signup


def text(resp) -> str:
    return unescape(resp.text).replace("\xa0", " ")


def choose(client, lang: str):
    resp = csrf_post(client, "/dashboard/account/language",
                     {"lang-lang": lang, "lang-time_zone": "UTC"}, page="/dashboard/account")
    assert resp.status_code == 302


@pytest.fixture
def app_config(app_config):
    """The test blog is on loopback."""
    return {**app_config, "WEBHOOK_ALLOW_PRIVATE": True}


def shown_in(app, lang: str, stored: str) -> str:
    with app.test_request_context("/dashboard/", headers={"Accept-Language": lang}):
        return said.shown(stored)


def test_stored_english_is_read_back_and_translated(app):
    gave_up = webhook_send.GAVE_UP % {"hours": 24, "error": webhook_send.NO_CONNECTION % {
        "reason": "Connection refused"}}
    assert gave_up == "gave up after 24 hours: could not connect: Connection refused"
    assert shown_in(app, "nb", gave_up) == \
        "ga opp etter 24 timer: fikk ikke kontakt: Connection refused"
    assert shown_in(app, "de", gave_up) == \
        "nach 24 Stunden aufgegeben: keine Verbindung: Connection refused"
    assert shown_in(app, "en", gave_up) == gave_up
    # the reading that finds the most of our words wins: the contact's part too
    assert shown_in(app, "nb", "Kit answered 422: Email is invalid (contact 7)") == \
        "Kit svarte 422: Email is invalid (kontakt 7)"
    # an outside server's words, or a text no message made, stay as they are
    for other in ("550 5.1.1 <x@example.com>: Recipient address rejected", "Ça; va, bien"):
        assert shown_in(app, "nl", other) == other
    assert shown_in(app, "nb", None) == ""


def test_a_selection_in_words(app):
    picked = contacts.Filters(q="Ann; Bo", status="confirmed", gift="no")
    stored = contacts.describe(picked, "vip")
    assert stored == "tag “vip” for search: Ann; Bo; status: confirmed; got no gift"
    assert shown_in(app, "nb", stored) == \
        "etiketten «vip» for søk: Ann; Bo; status: bekreftet; fikk ingen gave"
    assert shown_in(app, "nb", contacts.describe(contacts.Filters())) == "alle kontakter"


def test_a_broken_feed_says_so_in_the_owners_language(ann, make_site, query):
    site = make_site("ann@example.com")
    choose(ann, "nb")
    blog = FeedServer()
    try:
        blog.status = 500
        path = f"/dashboard/sites/{site}/letters"
        assert csrf_post(ann, path, {"url": blog.url, "lang": ""}).status_code == 302
        feed_id = query(lambda s: s.scalar(select(Feed.id).where(Feed.site_id == site)))
        checked = csrf_post(ann, f"{path}/{feed_id}/check", {}, page=path)
        assert checked.status_code == 302
        page = text(ann.get(path))
    finally:
        blog.close()
    stored = query(lambda s: s.get(Feed, feed_id).error)
    assert stored == feeds.HTTP_ERROR % {"status": "500 (Internal Server Error)"}
    assert "Bloggen svarte HTTP 500 (Internal Server Error) i stedet for feeden." in page
    assert "The blog answered" not in page and "instead of the feed" not in page
    # the site page's notice of a broken feed too
    assert "Bloggen svarte HTTP 500" in text(ann.get(f"/dashboard/sites/{site}"))


def test_the_audit_log_and_the_bulk_page_in_norwegian(ann, client, make_site, query):
    site = make_site("ann@example.com", double_opt_in=False)
    choose(ann, "nb")
    for i in range(2):
        signup(client, site, f"p{i}@example.com")
    invited = csrf_post(ann, f"/dashboard/sites/{site}/members",
                        {"email": "bo@example.com", "role": "editor"})
    assert invited.status_code == 302
    contacts_path = f"/dashboard/sites/{site}/contacts"
    review = ann.get(f"{contacts_path}/bulk",
                     params={"action": "tag", "bulk_tag": "vip", "status": "confirmed"})
    assert review.status_code == 200 and "status: bekreftet" in text(review)
    done = csrf_post(ann, f"{contacts_path}/bulk",
                     {"action": "tag", "bulk_tag": "vip", "status": "confirmed"},
                     page=f"{contacts_path}/bulk?action=tag&bulk_tag=vip&status=confirmed")
    assert done.status_code == 302

    details = query(lambda s: list(s.scalars(select(AuditEntry.detail).where(
        AuditEntry.site_id == site).order_by(AuditEntry.id))))
    assert details == ["bo@example.com as editor", "tag “vip” for status: confirmed"]
    page = text(ann.get(f"/dashboard/sites/{site}"))
    assert "bo@example.com som redaktør" in page
    assert "etiketten «vip» for status: bekreftet" in page
    assert " as editor" not in page and "for status: confirmed" not in page


def test_library_and_form_messages_in_norwegian(ann, make_site):
    site = make_site("ann@example.com")
    choose(ann, "nb")
    path = f"/dashboard/sites/{site}/settings"
    refused = csrf_post(ann, path, {"name": "", "origins": "https://blog.example",
                                    "default_lang": "nb", "sender_email": "ann@blog"})
    assert refused.status_code == 422
    page = text(refused)
    assert "Dette feltet er påkrevd." in page  # WTForms' own message, in its nb catalogue
    assert "Delen etter @ er ikke gyldig. Den skal ha et punktum." in page
    assert "should have a period" not in page and "This field is required" not in page


def test_connector_labels_keep_their_case_and_notes_are_translated(ann, make_site, query):
    site = make_site("ann@example.com")
    choose(ann, "de")
    refused = csrf_post(ann, f"/dashboard/sites/{site}/connectors/mailchimp",
                        {"api_key": "0123456789abcdef0123456789abcdef-us21", "list_id": "",
                         "tag_mode": "all", "tags": ""})
    assert refused.status_code == 422 and "Füllen Sie „Audience-ID“ aus." in text(refused)
    choose(ann, "nb")
    query(lambda s: (s.add(Connector(site_id=site, service="kit", secret="x", settings={},
                                     enabled=True, backfill_total=0,
                                     last_error="Kit answered 401: Unauthorized")),
                     s.commit()))
    kit = text(ann.get(f"/dashboard/sites/{site}/connectors/kit"))
    assert "Kit svarte 401: Unauthorized" in kit
    assert "Kits API kan ikke slette en abonnent" in kit and "cannot delete" not in kit


def test_the_two_step_qr_code_is_named_in_norwegian(ann):
    choose(ann, "nb")
    page = ann.get("/dashboard/account/two-step").text
    assert "<title>QR-kode for appen din</title>" in page and "QR code for" not in page
