"""The gift ledger in the dashboard over real HTTP: grants listed, links withdrawn and
renewed, the contact page's gifts, the CSV export, deleting, and isolation between
owners."""
from __future__ import annotations

import csv
import io
import re

from sqlalchemy import func, select

from widget.core import export
from widget.dashboard import ledger as dashboard_ledger
from widget.models import Coupon, Gift, Grant, OutboxMessage, Widget

from .helpers.dashboard import FIELDS, PDF, counts, gift_widget, gifts_path, give, make_gift
from .helpers.http import BASE, csrf_post


def test_ledger_lists_grants_and_withdraws_links(ann, make_site, make_client, query):
    site = make_site("ann@example.com")
    gift_id = make_gift(ann, query, site, quantity="5")
    widget = gift_widget(query, site, gift_id)
    first, second = give(make_client, site, widget), give(make_client, site, widget)
    path = f"{gifts_path(site)}/{gift_id}"
    page = ann.get(path).text
    assert page.count("A visitor (gift-first, not signed up)") == 2
    assert "Free checklist" in page and page.count("0 of 5") == 2 and "Active" in page
    assert "Given 2 times: switch it off instead, so the ledger stays." in page
    assert "Used by widget “Free checklist”: choose another gift there first." in page
    assert "Delete this gift" not in page and "Send a fresh link" not in page
    assert "2 of 5 given" in ann.get(f"/dashboard/sites/{site}").text
    # The newest grant is first: withdraw it.
    action = re.search(r'action="([^"]+/withdraw)"', page).group(1)
    resp = csrf_post(ann, action, {"page": "1"}, page=path)
    assert resp.status_code == 302 and resp.headers["Location"].startswith(path)
    page = ann.get(resp.headers["Location"]).text
    assert "The link was withdrawn" in page and "Withdrawn" in page and "Active" in page
    assert page.count("Withdraw link") == 1
    revoked = query(lambda s: s.scalars(select(Grant.id).where(
        Grant.revoked_at.is_not(None))).all())
    assert revoked == [int(action.split("/")[-2])]
    gone = make_client().get(second["page"].removeprefix(BASE))
    assert gone.status_code == 410 and "withdrawn" in gone.text
    assert make_client().get(first["page"].removeprefix(BASE)).status_code == 200
    assert ann.post(action).status_code == 400  # no CSRF token


def test_a_withdrawn_gift_that_waited_for_confirmation_says_so(ann, make_site, make_client,
                                                               query):
    site = make_site("ann@example.com")  # double opt-in: the gift waits for the confirm
    gift_id = make_gift(ann, query, site, "bonus")
    widget = gift_widget(query, site, gift_id, "Gated bonus", mode="gated")
    assert make_client().post(f"/api/v1/sites/{site}/subscriptions", json={
        "email": "wait@example.com", "consent": True, "widget": widget}).status_code == 200
    path = f"{gifts_path(site)}/{gift_id}"
    page = ann.get(path).text
    assert "wait@example.com" in page and "Waiting for confirmation" in page
    assert "Gated bonus" in page and "Send a fresh link" not in page
    action = re.search(r'action="([^"]+/withdraw)"', page).group(1)
    page = ann.get(csrf_post(ann, action, {}, page=path).headers["Location"]).text
    assert "Withdrawn" in page and "Waiting for confirmation" not in page
    assert "Withdraw link" not in page
    assert ",Withdrawn," in ann.get(f"{path}/ledger.csv").text


def test_subscribers_gift_fresh_link_contact_page_and_csv(ann, make_site, make_client, query,
                                                          monkeypatch):
    site = make_site("ann@example.com", double_opt_in=False)
    gift_id = make_gift(ann, query, site)
    widget = gift_widget(query, site, gift_id)
    grant = give(make_client, site, widget)
    signup = make_client().post(f"/api/v1/sites/{site}/subscriptions", json={
        "email": "ola@example.com", "name": "Ørsted 🍞", "consent": True,
        "grant": grant["token"]})
    assert signup.status_code == 200, signup.text
    give(make_client, site, widget)  # a visitor who never signed up

    def rate(s):
        row = s.scalar(select(Grant).where(Grant.subscriber_id.is_not(None)))
        row.rating, row.comment = 2, '=HYPERLINK("https://evil.example","<b>Click</b>")'
        s.commit()
        return row.id, row.subscriber_id
    grant_id, person = query(rate)
    path = f"{gifts_path(site)}/{gift_id}"
    page = ann.get(path).text
    contact = f"/dashboard/sites/{site}/contacts/{person}"
    assert f'href="{contact}">ola@example.com</a>' in page and "2 ★" in page
    assert "&lt;b&gt;Click&lt;/b&gt;" in page and "<b>Click</b>" not in page
    assert "Send a fresh link" in page
    mails = query(lambda s: s.scalar(select(func.count()).select_from(OutboxMessage)))
    resp = csrf_post(ann, f"{path}/grants/{grant_id}/fresh", {}, page=path)
    assert "A fresh link is on its way" in ann.get(resp.headers["Location"]).text
    assert query(lambda s: s.scalars(select(OutboxMessage.kind).order_by(
        OutboxMessage.id)).all()[mails:]) == ["gift"]
    person_page = ann.get(contact).text
    assert "<h2>Gifts</h2>" in person_page
    assert f'href="{path}">The sourdough checklist</a>' in person_page
    assert "Free checklist" in person_page and "0 of 5" in person_page
    assert "&lt;b&gt;Click&lt;/b&gt;" in person_page

    monkeypatch.setattr(dashboard_ledger, "CSV_BATCH", 1)  # every row in its own batch
    export = ann.get(f"{path}/ledger.csv")
    assert (export.status_code, export.headers["Content-Type"]) == (200, "text/csv; charset=utf-8")
    assert export.headers["Content-Disposition"] == f'attachment; filename="ledger-{gift_id}.csv"'
    assert export.content.startswith("\ufeff".encode())
    rows = list(csv.DictReader(io.StringIO(export.content.decode("utf-8-sig"))))
    assert list(rows[0]) == ["email", "name", "given_at", "widget", "status", "downloads",
                             "last_download_at", "code", "rating", "comment"]
    assert [r["email"] for r in rows] == ["", "ola@example.com"]  # newest first
    mine = rows[1]
    assert mine["name"] == "Ørsted 🍞" and mine["widget"] == "Free checklist"
    assert mine["comment"] == "'" + '=HYPERLINK("https://evil.example","<b>Click</b>")'
    assert (mine["status"], mine["downloads"], mine["rating"]) == ("Active", "0", "2")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", mine["given_at"])


def test_formula_cells_are_quoted_in_the_csv():
    # The ledger's writer (tests/test_csv.py runs the whole payload corpus through it).
    cells = ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx", "ok", 5, "Ørsted 🍞",
             "\0=1+1", " =1+1", "＝1+1"]
    text = "".join(export.lines(cells, []))
    assert next(csv.reader(io.StringIO(text.removeprefix("\ufeff")))) == [
        "'=1+1", "'+1", "'-1", "'@SUM(A1)", "'\tx", "'\rx", "ok", "5", "Ørsted 🍞",
        "'=1+1", "' =1+1", "'＝1+1"]


def test_delete_only_what_nobody_has(ann, make_site, make_client, query):
    site = make_site("ann@example.com")
    unused = make_gift(ann, query, site)
    path = f"{gifts_path(site)}/{unused}"
    assert "Delete this gift" in ann.get(path).text
    resp = csrf_post(ann, f"{path}/delete", {}, page=path)
    assert resp.status_code == 302 and resp.headers["Location"] == f"/dashboard/sites/{site}"
    assert counts(query) == (0, 0, 0)
    given = make_gift(ann, query, site, "coupon")
    path = f"{gifts_path(site)}/{given}"
    csrf_post(ann, f"{path}/coupons/import", {"codes": "A-1\nA-2"}, page=path)
    widget = gift_widget(query, site, given)
    assert give(make_client, site, widget)["code"] == "A-1"
    query(lambda s: (s.get(Widget, widget).__setattr__("gift_id", None), s.commit()))
    page = ann.get(path).text
    assert "Given once: switch it off instead" in page and "Used by widget" not in page
    assert "A-1" in page and ",A-1," in ann.get(f"{path}/ledger.csv").text  # the code given
    resp = csrf_post(ann, f"{path}/delete", {}, page=path)
    assert resp.status_code == 409
    assert query(lambda s: (s.get(Gift, given) is not None,
                            s.scalar(select(func.count()).select_from(Grant)))) == (True, 1)


def test_other_owners_get_404_everywhere(ann, make_site, make_client, query):
    bob = make_client()
    make_site("bob@example.com", name="Bob's shop")
    assert bob.login("bob@example.com").status_code == 302
    theirs = query(lambda s: s.scalar(select(Widget.site_id)))
    gift_id = make_gift(bob, query, theirs, "coupon")
    widget = gift_widget(query, theirs, gift_id)
    csrf_post(bob, f"{gifts_path(theirs)}/{gift_id}/coupons/import", {"codes": "B-1"},
              page=f"{gifts_path(theirs)}/{gift_id}")
    give(make_client, theirs, widget)
    grant_id = query(lambda s: s.scalar(select(Grant.id)))
    base = f"{gifts_path(theirs)}/{gift_id}"
    for path in (f"{gifts_path(theirs)}/new", f"{gifts_path(theirs)}/new?kind=file",
                 base, f"{base}/edit", f"{base}/ledger.csv"):
        assert ann.get(path).status_code == 404, path
    mine = make_site("ann@example.com")
    token = ann.csrf(f"/dashboard/sites/{mine}")
    for path in (f"{gifts_path(theirs)}/new", f"{base}/edit", f"{base}/delete",
                 f"{base}/coupons/import", f"{base}/coupons/generate",
                 f"{base}/grants/{grant_id}/withdraw", f"{base}/grants/{grant_id}/fresh"):
        resp = ann.post(path, data={"csrf_token": token, **FIELDS, "kind": "link",
                                    "url": "https://evil.example", "codes": "EVIL-1",
                                    "pattern": "EVIL-####", "count": "5"})
        assert resp.status_code == 404, path
    # Their gift under Ann's own site is not found either.
    assert ann.get(f"{gifts_path(mine)}/{gift_id}").status_code == 404
    assert ann.post(f"{gifts_path(mine)}/{gift_id}/delete",
                    data={"csrf_token": token}).status_code == 404
    assert query(lambda s: (s.get(Gift, gift_id).title, s.get(Grant, grant_id).revoked_at,
                            s.scalars(select(Coupon.code)).all())) == (
        "The sourdough checklist", None, ["B-1"])


def test_forms_without_csrf_token_are_refused(ann, make_site, make_client, query):
    site = make_site("ann@example.com")
    resp = ann.post(f"{gifts_path(site)}/new", data={**FIELDS, "kind": "link",
                                                     "url": "https://x.example"})
    assert resp.status_code == 400 and "form expired" in resp.text
    resp = ann.post(f"{gifts_path(site)}/new", data={**FIELDS, "kind": "file"},
                    files={"upload": ("c.pdf", PDF, "application/pdf")})
    assert resp.status_code == 400 and counts(query) == (0, 0, 0)
    gift_id = make_gift(ann, query, site, "coupon")
    base = f"{gifts_path(site)}/{gift_id}"
    for path, data in ((f"{base}/edit", {**FIELDS, "title": "x"}),
                       (f"{base}/coupons/import", {"codes": "A-1"}),
                       (f"{base}/coupons/generate", {"pattern": "A-####", "count": "5"}),
                       (f"{base}/delete", {})):
        assert ann.post(path, data=data).status_code == 400, path
    assert query(lambda s: (s.get(Gift, gift_id).title,
                            s.scalar(select(func.count()).select_from(Coupon)))) == (
        "The sourdough checklist", 0)


def test_gift_pages_need_login(client, make_site, query):
    site = make_site("ann@example.com")
    for path in (f"{gifts_path(site)}/new", f"{gifts_path(site)}/g_x",
                 f"{gifts_path(site)}/g_x/ledger.csv"):
        resp = client.get(path)
        assert resp.status_code == 302 and "/dashboard/login" in resp.headers["Location"]
    resp = client.post(f"{gifts_path(site)}/new", files={"upload": ("c.pdf", PDF)})
    assert resp.status_code == 302 and counts(query) == (0, 0, 0)
