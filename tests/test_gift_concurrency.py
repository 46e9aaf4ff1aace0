"""Real scarcity under load: many visitors claiming the last gifts at the same moment,
each on its own connection to the real server (threads), on SQLite and PostgreSQL. The
ledger must give exactly what there is, every code once, and leave nothing half-written
for those who came too late."""
from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import func, select

from widget.models import Consent, Coupon, OutboxMessage, StatusChange, Subscriber

from .helpers.gifts import (assert_page, at_once, claim, code_of, file_gift, gift_row, grants_of,
                            make_gift, make_widget, outbox, post_json)
from .helpers.mail import path_of

CODES = ["BREAD-2345", "BREAD-3456", "BREAD-4567", "BREAD-5678", "BREAD-6789"]
N = 20


def _count(query, column, *where) -> int:
    return query(lambda s: s.scalar(select(func.count(column)).where(*where)))


def _coupons(query, gift: str) -> list[Coupon]:
    return query(lambda s: s.scalars(select(Coupon).where(Coupon.gift_id == gift)
                                     .order_by(Coupon.id)).all())


def _assert_gone(resp) -> None:
    assert resp.status_code == 409, (resp.status_code, resp.text)
    assert resp.json()["error"]["code"] == "gift_gone"


def test_twenty_claims_for_five_coupon_codes(client, make_site, query):
    site = make_site()
    gift = make_gift(query, site, "coupon", title="10 % off your first loaf", codes=CODES)
    widget = make_widget(query, site, gift, "first")
    url = f"{client.url}/api/v1/sites/{site}/grants"
    answers = at_once(lambda i: post_json(url, {"widget": widget}), list(range(N)))

    assert sorted(r.status_code for r in answers) == [201] * 5 + [409] * 15, \
        Counter(r.status_code for r in answers)
    won = [r.json()["grant"] for r in answers if r.status_code == 201]
    for resp in answers:
        if resp.status_code != 201:
            _assert_gone(resp)
    assert sorted(g["code"] for g in won) == CODES  # five people, five different codes

    granted = grants_of(query, gift)
    assert len(granted) == 5 and gift_row(query, gift).given_count == 5
    coupons = _coupons(query, gift)
    assert all(c.given_at is not None for c in coupons)
    assert sorted(c.grant_id for c in coupons) == sorted(g.id for g in granted)
    assert {code_of(query, g.id) for g in granted} == set(CODES)
    for g in won:  # each person's page shows the code they were told
        assert_page(client.get(path_of(g["page"])), 200, g["code"])
    _assert_gone(claim(client, site, widget))
    assert client.get(f"/api/v1/sites/{site}/gifts/{gift}").json() == {"left": 0}


def test_twenty_gated_sign_ups_for_five_codes_keep_nothing_of_the_late(client, make_site,
                                                                        query):
    site = make_site()
    gift = make_gift(query, site, "coupon", title="10 % off your first loaf", codes=CODES)
    widget = make_widget(query, site, gift, "gated")
    url = f"{client.url}/api/v1/sites/{site}/subscriptions"
    emails = [f"reader{i}@example.com" for i in range(N)]
    answers = at_once(lambda e: post_json(url, {"email": e, "consent": True,
                                                "widget": widget}), emails)

    assert sorted(r.status_code for r in answers) == [200] * 5 + [409] * 15, \
        Counter(r.status_code for r in answers)
    accepted = {e for e, r in zip(emails, answers) if r.status_code == 200}
    for resp in answers:
        if resp.status_code == 200:
            assert resp.json() == {"ok": True}
        else:
            _assert_gone(resp)

    subscribers = query(lambda s: s.scalars(select(Subscriber)).all())
    assert {s.email for s in subscribers} == accepted  # no row for the 15 refused
    ids = {s.id for s in subscribers}
    assert _count(query, Consent.id) == 5 and _count(query, StatusChange.id) == 5
    granted = grants_of(query, gift)
    assert {g.subscriber_id for g in granted} == ids and len(granted) == 5
    assert all(g.released_at is None for g in granted)  # waiting for the confirmations
    mails = outbox(query)
    assert [m.kind for m in mails] == ["confirm"] * 5
    assert {m.grant_id for m in mails} == {g.id for g in granted}
    coupons = _coupons(query, gift)
    assert all(c.given_at is not None for c in coupons)
    assert sorted(c.grant_id for c in coupons) == sorted(g.id for g in granted)
    assert gift_row(query, gift).given_count == 5


def test_the_quantity_cap_holds_under_twenty_claims(client, make_site, query):
    site = make_site()
    gift, widget = file_gift(query, site, quantity=3, show_left=True)
    gated = make_widget(query, site, gift, "gated")
    assert client.get(f"/api/v1/sites/{site}/gifts/{gift}").json() == {"left": 3}
    url = f"{client.url}/api/v1/sites/{site}/grants"
    answers = at_once(lambda i: post_json(url, {"widget": widget}), list(range(N)))

    assert sorted(r.status_code for r in answers) == [201] * 3 + [409] * 17, \
        Counter(r.status_code for r in answers)
    for resp in answers:
        if resp.status_code == 201:
            assert resp.json()["grant"]["left"] in (0, 1, 2)  # a true number, never more
        else:
            _assert_gone(resp)
    assert len(grants_of(query, gift)) == 3
    assert gift_row(query, gift).given_count == 3
    assert client.get(f"/api/v1/sites/{site}/gifts/{gift}").json() == {"left": 0}

    config = client.get(f"/api/v1/sites/{site}/widgets").json()
    parts = {w["id"]: w["gift"] for w in config["widgets"] if "gift" in w}
    assert parts[widget]["out"] is True and parts[gated]["out"] is True
    _assert_gone(claim(client, site, widget))
    _assert_gone(client.post(f"/api/v1/sites/{site}/subscriptions",
                             json={"email": "late@example.com", "consent": True,
                                   "widget": gated}))
    assert _count(query, Subscriber.id) == 0
    # The newsletter alone is still welcome once the gift is gone.
    alone = client.post(f"/api/v1/sites/{site}/subscriptions",
                        json={"email": "late@example.com", "consent": True, "widget": gated,
                              "gift": False})
    assert alone.status_code == 200
    assert len(grants_of(query, gift)) == 3 and gift_row(query, gift).given_count == 3


@pytest.mark.parametrize("double_opt_in", [True, False], ids=["double-opt-in", "single"])
def test_one_person_signing_up_twice_at_once_gets_one_gift(client, make_site, query,
                                                           double_opt_in):
    site = make_site(double_opt_in=double_opt_in)
    gift, widget = file_gift(query, site, mode="gated", quantity=10)
    url = f"{client.url}/api/v1/sites/{site}/subscriptions"
    body = {"email": "eager@example.com", "consent": True, "widget": widget}
    answers = at_once(lambda i: post_json(url, body), list(range(8)))

    assert [r.status_code for r in answers] == [200] * 8, [r.text for r in answers]
    assert all(r.json() == {"ok": True} for r in answers)
    assert _count(query, Subscriber.id) == 1
    [grant] = grants_of(query, gift)
    assert gift_row(query, gift).given_count == 1
    assert (grant.released_at is not None) is (not double_opt_in)
    kinds = [m.kind for m in outbox(query)]
    assert kinds == ["confirm" if double_opt_in else "welcome"]  # one e-mail, no gift twice
    assert _count(query, OutboxMessage.id, OutboxMessage.grant_id == grant.id) == 1
