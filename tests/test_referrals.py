"""Referrals over real HTTP, real databases (SQLite and PostgreSQL), the real outbox
worker and a real SMTP server: a friend counts once, only after confirming by POST, never
for oneself; suspicious ones wait for the owner; a waiting period ends in the worker;
milestones reward once, even when twenty friends confirm at the same moment."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest
import requests

from widget.core import db
from widget.core.rawsql import as_datetime
from widget.giveback import referrals as giveback
from widget.models import utcnow

from .helpers.gifts import (assert_page, at_once, code_of, drain_due, gift_link, html_part,
                            make_due, make_gift, plain)
from .helpers.giveback import (CODE, add_milestone, confirm, confirm_path, count_of, fresh,
                               grants_for, join, mails_to, member, outbox_rows, referral_of,
                               referrals, rewards, row, set_site, unsubscribe_path)
from .helpers.mail import drain

pytestmark = pytest.mark.real_smtp  # the app sends its e-mail to the `smtp` fixture's server

REWARD_SUBJECT = "Thank you for sharing Blog 🎁"


def _approve(app, referral_id: int) -> bool:
    with app.app_context():  # as the dashboard's button does
        return giveback.approve(db.session(), referral_id)


def _decline(app, referral_id: int) -> bool:
    with app.app_context():
        return giveback.decline(db.session(), referral_id)


# --- codes, attribution, counting -----------------------------------------------------------

def test_a_friend_counts_only_after_confirming_by_post(app, client, make_site, query):
    site = make_site()
    ann = member(app, client, query, site, "ann@example.com")
    assert CODE.fullmatch(ann.ref_code), ann.ref_code  # 16 of 32 symbols: 80 random bits
    assert join(client, site, "bob@example.com", ann.ref_code).status_code == 200
    bob = row(query, "bob@example.com")
    assert bob.status == "pending" and bob.ref_code is None  # codes come with confirming
    pending = referral_of(query, bob.id)
    assert pending.referrer_id == ann.id and pending.status == "pending"
    assert fresh(query, ann.id).ref_count == 0

    page = client.get(confirm_path(app, bob))  # a mail scanner opening the link
    assert page.status_code == 200 and 'method="post"' in page.text
    assert referral_of(query, bob.id).status == "pending"
    assert fresh(query, ann.id).ref_count == 0 and row(query, bob.email).status == "pending"

    bob = confirm(app, client, query, "bob@example.com")
    assert referral_of(query, bob.id).status == "counted"
    assert fresh(query, ann.id).ref_count == 1
    assert CODE.fullmatch(bob.ref_code) and bob.ref_code != ann.ref_code
    assert confirm(app, client, query, "bob@example.com")  # pressing again changes nothing
    assert fresh(query, ann.id).ref_count == 1


def test_oneself_never_counts(app, client, make_site, query):
    site = make_site()
    set_site(query, site, referral_burst=100)
    ann = member(app, client, query, site, "ann@example.com")
    gmail = member(app, client, query, site, "ann.lee@gmail.com")
    attempts = [("ann@example.com", ann), ("ann+friend@example.com", ann),
                ("ANN@Example.COM", ann), ("Ann+News@EXAMPLE.com", ann),
                ("annlee@gmail.com", gmail), ("a.n.n.l.e.e+x@googlemail.com", gmail),
                ("ANN.LEE@gmail.com", gmail)]
    for email, owner in attempts:
        assert join(client, site, email, owner.ref_code).status_code == 200, email
    for email in {e.lower() for e, _ in attempts} - {"ann@example.com", "ann.lee@gmail.com"}:
        confirm(app, client, query, email)
    assert referrals(query) == []
    assert fresh(query, ann.id).ref_count == 0 and fresh(query, gmail.id).ref_count == 0


def test_only_new_subscribers_can_be_referred_and_once(app, client, make_site, query):
    site = make_site()
    set_site(query, site, referral_burst=100)
    ann = member(app, client, query, site, "ann@example.com")
    cleo = member(app, client, query, site, "cleo@example.com")
    # Known before the link: pending, confirmed, and someone who left and comes back.
    assert join(client, site, "pat@example.com").status_code == 200
    done = member(app, client, query, site, "done@example.com")
    gone = member(app, client, query, site, "gone@example.com")
    assert client.post(unsubscribe_path(app, gone)).status_code == 200
    for email in ("pat@example.com", "done@example.com", "gone@example.com"):
        assert join(client, site, email, ann.ref_code).status_code == 200
    confirm(app, client, query, "pat@example.com")
    confirm(app, client, query, "gone@example.com")
    assert referrals(query) == [] and fresh(query, ann.id).ref_count == 0
    assert fresh(query, done.id).status == "confirmed"

    # A new friend counts once, for the first link only, however often they sign up.
    assert join(client, site, "fay@example.com", ann.ref_code).status_code == 200
    assert join(client, site, "fay@example.com", cleo.ref_code).status_code == 200
    fay = confirm(app, client, query, "fay@example.com")
    assert join(client, site, "fay@example.com", cleo.ref_code).status_code == 200
    assert join(client, site, "fay@example.com", ann.ref_code).status_code == 200
    (only,) = referrals(query)
    assert (only.referrer_id, only.referred_id, only.status) == (ann.id, fay.id, "counted")
    assert fresh(query, ann.id).ref_count == 1 and fresh(query, cleo.id).ref_count == 0


def _answer(resp) -> tuple:
    headers = {k: v for k, v in resp.headers.items() if k.lower() not in ("date",)}
    return resp.status_code, resp.content, headers


def test_a_wrong_code_gets_the_same_answer_and_nothing(app, client, make_site, query):
    site = make_site()
    other = make_site(name="Shop", origins=("https://shop.example",))
    ann = member(app, client, query, site, "ann@example.com")
    zed = member(app, client, query, other, "zed@example.com")
    assert join(client, site, "waiting@example.com").status_code == 200  # pending: no code
    origin = {"Origin": "https://blog.example"}
    right = _answer(join(client, site, "bob@example.com", ann.ref_code, headers=origin))
    assert right[0] == 200 and json.loads(right[1]) == {"ok": True}, right
    wrong = {"unknown": "zzzzzzzzzzzzzzzz", "another site's": zed.ref_code,
             "upper case": ann.ref_code.upper(), "too short": ann.ref_code[:6],
             "odd characters": "abc-def<script>", "underscore": "ab_cdefghijkmnpq",
             "unicode": "æøåæøåæøå", "empty": ""}
    for n, (what, code) in enumerate(wrong.items()):
        resp = join(client, site, f"friend{n}@example.com", code, headers=origin)
        assert _answer(resp) == right, (what, resp.status_code, resp.text)
    (only,) = referrals(query)
    assert only.referrer_id == ann.id
    for n in range(len(wrong)):
        confirm(app, client, query, f"friend{n}@example.com")
    assert fresh(query, ann.id).ref_count == 0 and fresh(query, zed.id).ref_count == 0
    assert len(referrals(query)) == 1


def test_an_overlong_code_never_blocks_the_sign_up(app, client, make_site, query):
    """The loader keeps any ?ref=(\\w+) of any length (a link cut or glued to other text
    by a mail client or chat app): the friend must still be able to sign up."""
    site = make_site()
    ann = member(app, client, query, site, "ann@example.com")
    right = _answer(join(client, site, "bob@example.com", ann.ref_code))
    for n, code in enumerate((ann.ref_code + "x" * 25, "a" * 41, "b" * 300)):
        resp = join(client, site, f"friend{n}@example.com", code)
        assert _answer(resp) == right, (len(code), resp.status_code, resp.text)
        assert row(query, f"friend{n}@example.com").status == "pending"
    assert len(referrals(query)) == 1


# --- held for the owner ------------------------------------------------------------------

def test_disposable_addresses_are_held_for_the_owner(app, client, make_site, query):
    site = make_site()
    set_site(query, site, disposable_domains="@burner.example, junkmail.net")
    ann = member(app, client, query, site, "ann@example.com")
    for email in ("bob@mailinator.com", "carl@burner.example", "dora@mx.junkmail.net"):
        member(app, client, query, site, email, ann.ref_code)
        held = referral_of(query, row(query, email).id)
        assert (held.status, held.reason) == ("held", "disposable"), email
    assert fresh(query, ann.id).ref_count == 0

    bob, carl = row(query, "bob@mailinator.com"), row(query, "carl@burner.example")
    assert _approve(app, referral_of(query, bob.id).id)
    assert referral_of(query, bob.id).status == "counted"
    assert fresh(query, ann.id).ref_count == 1
    assert _decline(app, referral_of(query, carl.id).id)
    assert referral_of(query, carl.id).status == "rejected"
    assert not _approve(app, referral_of(query, carl.id).id)  # declined stays declined
    assert not _approve(app, referral_of(query, bob.id).id)  # counted once
    assert fresh(query, ann.id).ref_count == 1


def test_a_burst_from_one_ip_range_holds_the_later_friends(app, client, make_site, query):
    site = make_site()  # referral_burst 3 by default
    ann = member(app, client, query, site, "ann@example.com")
    for n in range(5):  # each signs up and confirms before the next comes
        member(app, client, query, site, f"friend{n}@example.com", ann.ref_code)
    found = referrals(query, ann.id)
    assert [r.status for r in found] == ["counted"] * 3 + ["held"] * 2
    assert {r.reason for r in found[3:]} == {"burst"}
    assert {r.ip_range for r in found} == {"127.0.0.0/24"}
    assert fresh(query, ann.id).ref_count == 3
    assert _approve(app, found[3].id) and fresh(query, ann.id).ref_count == 4
    assert _decline(app, found[4].id) and fresh(query, ann.id).ref_count == 4
    assert [r.status for r in referrals(query, ann.id)] == ["counted"] * 4 + ["rejected"]


def test_a_burst_holds_the_later_friends_whenever_the_first_confirm(app, client, make_site,
                                                                   query):
    """Five friends sign up within the hour, then confirm: the first three (by sign-up)
    are within the allowance and count; only the fourth and fifth are held."""
    site = make_site()
    ann = member(app, client, query, site, "ann@example.com")
    for n in range(5):
        assert join(client, site, f"friend{n}@example.com", ann.ref_code).status_code == 200
    for n in range(5):
        confirm(app, client, query, f"friend{n}@example.com")
    found = referrals(query, ann.id)
    assert [(r.status, r.reason) for r in found] == \
        [("counted", None)] * 3 + [("held", "burst")] * 2
    assert fresh(query, ann.id).ref_count == 3


# --- the waiting period ----------------------------------------------------------------------

def test_the_waiting_period_ends_in_the_worker(app, client, make_site, query, smtp, worker):
    site = make_site()
    set_site(query, site, referral_wait_days=2)
    ann = member(app, client, query, site, "ann@example.com")
    bob = member(app, client, query, site, "bob@example.com", ann.ref_code)
    carl = member(app, client, query, site, "carl@example.com", ann.ref_code)
    drain_due(query)
    for friend in (bob, carl):
        assert referral_of(query, friend.id).status == "waiting"
    due = {r.referral_id: r for r in outbox_rows(query, "referral")}
    assert set(due) == {referral_of(query, bob.id).id, referral_of(query, carl.id).id}
    for message in due.values():
        assert message.status == "queued"
        left = as_datetime(message.next_attempt_at) - utcnow()
        assert timedelta(days=2) - timedelta(minutes=1) < left <= timedelta(days=2)
    assert fresh(query, ann.id).ref_count == 0

    assert client.post(unsubscribe_path(app, carl)).status_code == 200  # carl leaves
    for message in due.values():
        make_due(query, message.id)
    drain_due(query)
    assert referral_of(query, bob.id).status == "counted"
    left = referral_of(query, carl.id)
    assert left.status == "rejected" and left.reason == "left"
    assert fresh(query, ann.id).ref_count == 1
    assert {r.status for r in outbox_rows(query, "referral")} == {"sent"}
    assert not [m for m in smtp.mailbox.messages if m["Subject"] == REWARD_SUBJECT]


# --- milestones --------------------------------------------------------------------------

def test_a_milestone_rewards_with_a_coupon_by_email(app, client, make_site, query, smtp,
                                                    worker):
    site = make_site()
    gift = make_gift(query, site, "coupon", title="A free loaf", codes=["LOAF-2345"])
    milestone = add_milestone(query, site, 1, gift)
    ann = member(app, client, query, site, "ann@example.com", name="Ann")
    member(app, client, query, site, "bob@example.com", ann.ref_code)
    drain(query)
    (mail,) = mails_to(smtp, "ann@example.com", REWARD_SUBJECT)
    assert "Hi Ann," in plain(mail) and "that makes 1 so far" in plain(mail)
    for part in (plain(mail), html_part(mail)):
        assert "Your code: LOAF-2345" in part and "A free loaf" in part
    assert_page(client.get(gift_link(mail)), 200, "LOAF-2345")
    (reward,) = rewards(query, ann.id)
    (grant,) = grants_for(query, ann.id, gift)
    assert reward.milestone_id == milestone and reward.grant_id == grant.id
    assert grant.released_at is not None and code_of(query, grant.id) == "LOAF-2345"
    assert not mails_to(smtp, "bob@example.com", REWARD_SUBJECT)


def test_two_milestones_on_the_way_to_three_reward_once_each(app, client, make_site, query,
                                                            smtp, worker):
    site = make_site()
    one = make_gift(query, site, "coupon", title="Ten percent", codes=["TEN-2345", "TEN-3456"])
    three = make_gift(query, site, "coupon", title="A free loaf", codes=["LOAF-2345",
                                                                         "LOAF-3456"])
    add_milestone(query, site, 1, one)
    add_milestone(query, site, 3, three)
    set_site(query, site, referral_burst=100)
    ann = member(app, client, query, site, "ann@example.com")
    for n in range(4):
        member(app, client, query, site, f"friend{n}@example.com", ann.ref_code)
    drain(query)
    assert fresh(query, ann.id).ref_count == 4
    mails = mails_to(smtp, "ann@example.com", REWARD_SUBJECT)
    assert len(mails) == 2, [m["Subject"] for m in smtp.mailbox.messages]
    assert sorted("TEN-2345" in plain(m) for m in mails) == [False, True]
    assert sorted("LOAF-2345" in plain(m) for m in mails) == [False, True]
    assert len(rewards(query, ann.id)) == 2
    assert len(grants_for(query, ann.id, one)) == 1 and len(grants_for(query, ann.id, three)) == 1


def test_twenty_confirmations_at_once_cross_each_milestone_once(app, client, make_site,
                                                                query, smtp, worker):
    site = make_site()
    ten = make_gift(query, site, "coupon", title="Ten friends", codes=["TEN-2345", "TEN-3456"])
    twenty = make_gift(query, site, "coupon", title="Twenty friends",
                       codes=["TWENTY-2345", "TWENTY-3456"])
    add_milestone(query, site, 10, ten)
    add_milestone(query, site, 20, twenty)
    set_site(query, site, referral_burst=1000)
    ann = member(app, client, query, site, "ann@example.com")
    friends = [f"friend{n:02d}@example.com" for n in range(20)]
    for email in friends:
        assert join(client, site, email, ann.ref_code).status_code == 200
    assert {r.status for r in referrals(query, ann.id)} == {"pending"}
    links = [client.url + confirm_path(app, row(query, e)) for e in friends]

    answers = at_once(lambda url: requests.post(url, timeout=60), links)
    assert [r.status_code for r in answers] == [200] * 20, [r.text[:200] for r in answers]
    assert fresh(query, ann.id).ref_count == 20
    assert [r.status for r in referrals(query, ann.id)] == ["counted"] * 20
    assert len(rewards(query, ann.id)) == 2
    assert len(grants_for(query, ann.id, ten)) == 1
    assert len(grants_for(query, ann.id, twenty)) == 1
    drain(query, timeout=60)
    mails = mails_to(smtp, "ann@example.com", REWARD_SUBJECT)
    assert len(mails) == 2, len(mails)
    said = sorted(p for m in mails for p in ("10 so far", "20 so far") if p in plain(m))
    assert said == ["10 so far", "20 so far"]
    assert count_of(query, type(ann), type(ann).status == "confirmed") == 21
