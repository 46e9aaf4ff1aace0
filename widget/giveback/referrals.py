"""Referrals in plain SQL inside the caller's transaction (a Tx), like the gift ledger:
a code for every confirmed subscriber, a friend attributed at sign-up, the decision when
the friend confirms (count, wait, or hold as suspicious), and the milestones' rewards.

A referral counts once per friend (the unique key on referred_id), never for oneself
(the same person, the same mailbox with or without +tags or Gmail dots), and only once
the friend has confirmed. The count is one UPDATE … RETURNING on the referrer's row, so
concurrent confirmations take turns there and each sees the exact new count; a
milestone's reward is one INSERT on a unique key, so it is given once.
"""
from __future__ import annotations

import ipaddress
import secrets
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy.orm import Session

from widget.core import events, outbox
from widget.core.outbox import Recipient
from widget.core.rawsql import Tx, as_datetime
from widget.gifts import ledger
from widget.giveback.disposable import is_disposable
from widget.insight import counters
from widget.models import utcnow

# 32 symbols without look-alikes; 16 of them are 80 random bits, and only letters and
# digits, so the loader's /ref=(\w+)/ reads them.
CODE_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"
CODE_LENGTH = 16
BURST_WINDOW = timedelta(hours=1)


def new_code() -> str:
    """A fresh referral code."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def person(email_normalized: str) -> str:
    """The mailbox behind an address: no +tag, and for Gmail no dots, which it ignores."""
    local, _, domain = outbox.mailbox_of(email_normalized).rpartition("@")
    if domain in ("gmail.com", "googlemail.com"):
        local, domain = local.replace(".", ""), "gmail.com"
    return f"{local}@{domain}"


def ip_range(ip: str | None) -> str | None:
    """The network a request came from: /24 for IPv4, /48 for IPv6."""
    try:
        address = ipaddress.ip_address(ip or "")
    except ValueError:
        return None
    prefix = 24 if address.version == 4 else 48
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))


GIVE_CODE = "UPDATE subscribers SET ref_code = :code WHERE id = :id AND ref_code IS NULL"


def give_code(tx: Tx, subscriber_id: int) -> None:
    """A referral code for a subscriber who has none (it never changes afterwards)."""
    tx.run(GIVE_CODE, code=new_code(), id=subscriber_id)


REFERRER = """
SELECT id, email_normalized, status FROM subscribers
WHERE site_id = :site_id AND ref_code = :code"""

ATTRIBUTE = """
INSERT INTO referrals (site_id, referrer_id, referred_id, status, ip_range, created_at)
VALUES (:site_id, :referrer_id, :referred_id, 'pending', :ip_range, :now)
ON CONFLICT (referred_id) DO NOTHING"""


def attribute(tx: Tx, site_id: str, code: str, referred_id: int, referred_email: str,
              ip: str | None, now: datetime) -> bool:
    """Note that a new subscriber came through a confirmed subscriber's link. Nothing for
    an unknown code, another site's, or oneself; the sign-up answers the same either way."""
    row = tx.one(REFERRER, site_id=site_id, code=code)
    if (row is None or row[0] == referred_id or row[2] != "confirmed"
            or person(row[1]) == person(referred_email)):
        return False
    return tx.run(ATTRIBUTE, site_id=site_id, referrer_id=row[0], referred_id=referred_id,
                  ip_range=ip_range(ip), now=now).rowcount == 1


PENDING = """
SELECT r.id, r.referrer_id, r.ip_range, r.created_at, s.referral_wait_days,
       s.referral_burst, s.hold_disposable, s.disposable_domains
FROM referrals r JOIN sites s ON s.id = r.site_id
WHERE r.referred_id = :referred_id AND r.status = 'pending'"""

# This referral and the ones of the same referrer and network that came in the hour
# before it: the same sign-ups get the same answer whenever each friend confirms.
BURST = """
SELECT count(*) FROM referrals
WHERE referrer_id = :referrer_id AND ip_range = :ip_range AND id <= :id
  AND created_at > :since"""

DECIDE = """
UPDATE referrals SET status = :status, reason = :reason, confirmed_at = :now
WHERE id = :id AND status = 'pending'"""


def on_confirmed(tx: Tx, to: Recipient, now: datetime, mail_from: str) -> None:
    """The address was confirmed: give it a referral code, and decide on the referral
    that brought it, if any: hold it for the owner when it looks like a bulk sign-up
    (a disposable address, a burst from one IP range), let it wait out the site's
    waiting period, or count it now."""
    give_code(tx, to.subscriber_id)
    row = tx.one(PENDING, referred_id=to.subscriber_id)
    if row is None:
        return
    referral_id, referrer_id, network, created, wait_days, burst, hold_disposable, extra = row
    reason = None
    if hold_disposable and is_disposable(to.email_normalized, extra):
        reason = "disposable"
    elif network and tx.one(BURST, referrer_id=referrer_id, ip_range=network, id=referral_id,
                            since=as_datetime(created) - BURST_WINDOW)[0] > burst:
        reason = "burst"
    if reason:
        tx.run(DECIDE, id=referral_id, status="held", reason=reason, now=now)
    elif wait_days:
        tx.run(DECIDE, id=referral_id, status="waiting", reason=None, now=now)
        outbox.queue(tx, "referral", to, mail_from, due=now + timedelta(days=wait_days),
                     referral_id=referral_id)
    else:
        tx.run(DECIDE, id=referral_id, status="waiting", reason=None, now=now)
        count(tx, referral_id, now, mail_from)


COUNT = """
UPDATE referrals SET status = 'counted', decided_at = :now
WHERE id = :id AND status IN ('waiting', 'held')
  AND EXISTS (SELECT 1 FROM subscribers f WHERE f.id = referrals.referred_id
              AND f.status = 'confirmed')
RETURNING referrer_id"""

RAISE = """
UPDATE subscribers SET ref_count = ref_count + 1 WHERE id = :id
RETURNING ref_count, site_id, email_normalized, lang, status, widget_id, page_url"""


def count(tx: Tx, referral_id: int, now: datetime, mail_from: str) -> bool:
    """Count a confirmed friend for their referrer (after the wait, or the owner's
    approval) and give the milestones now reached. False when it no longer can: decided
    already, or the friend left meanwhile."""
    row = tx.one(COUNT, id=referral_id, now=now)
    if row is None:
        return False
    friends, site_id, email, lang, status, widget_id, page_url = tx.one(RAISE, id=row[0])
    # The funnel counts the friend for the widget the referrer came through.
    counters.count(tx, site_id, widget_id, "referred", page_url=page_url, lang=lang, now=now)
    referrer = Recipient(site_id, row[0], email, lang)
    friend = tx.one("SELECT referred_id FROM referrals WHERE id = :id", id=referral_id)[0]
    events.emit(tx, site_id, "referral.counted", lambda: {
        "referral": {"id": referral_id, "friends_counted": friends},
        "referrer": events.contact(tx, row[0]), "friend": events.contact(tx, friend)},
        row[0], now)
    reward(tx, referrer, friends, status == "confirmed", now, mail_from)
    return True


REACHED = """
SELECT m.id, m.friends, g.id, g.kind, g.link_days, g.download_limit FROM milestones m
JOIN gifts g ON g.id = m.gift_id
WHERE m.site_id = :site_id AND m.friends <= :friends
  AND NOT EXISTS (SELECT 1 FROM milestone_rewards mr WHERE mr.milestone_id = m.id
                  AND mr.subscriber_id = :subscriber_id)
ORDER BY m.friends"""

CLAIM_REWARD = """
INSERT INTO milestone_rewards (milestone_id, friends, subscriber_id, created_at)
VALUES (:milestone_id, :friends, :subscriber_id, :now)
ON CONFLICT (milestone_id, subscriber_id) DO NOTHING
RETURNING id"""


def reward(tx: Tx, referrer: Recipient, friends: int, confirmed: bool, now: datetime,
           mail_from: str) -> None:
    """Give each milestone reached and not rewarded yet: its gift through the gift
    ledger and a personal thank-you e-mail, once each (the unique key). A gift that ran
    out leaves the thank-you without it. Someone who left the list gets nothing (and
    uses up no coupon): the count stays, and rewards wait for a count while subscribed."""
    if not confirmed:
        return
    for milestone_id, reached, gift_id, kind, days, limit in tx.run(
            REACHED, site_id=referrer.site_id, friends=friends,
            subscriber_id=referrer.subscriber_id).fetchall():
        claimed = tx.one(CLAIM_REWARD, milestone_id=milestone_id, friends=reached,
                         subscriber_id=referrer.subscriber_id, now=now)
        if claimed is None:
            continue
        grant_id = _give(tx, ledger.Terms(gift_id, kind, days, limit), referrer, now)
        events.emit(tx, referrer.site_id, "milestone.reached", lambda: {
            "milestone": {"id": milestone_id, "friends": reached, "gift_id": gift_id,
                          "grant_id": grant_id},
            "contact": events.contact(tx, referrer.subscriber_id)},
            referrer.subscriber_id, now)
        tx.run("UPDATE milestone_rewards SET grant_id = :grant_id WHERE id = :id",
               grant_id=grant_id, id=claimed[0])
        outbox.queue(tx, "reward", referrer, mail_from, grant_id=grant_id)
    ledger.plan_followups(tx, referrer, now, mail_from)


def _give(tx: Tx, terms: ledger.Terms, to: Recipient, now: datetime) -> int | None:
    """The reward's gift, released at once; None when none is left (a savepoint undoes
    the attempt, not the count)."""
    tx.run("SAVEPOINT reward")
    try:
        given = ledger.give(tx, terms, site_id=to.site_id, subscriber_id=to.subscriber_id,
                            widget_id=None, page_url=None, release=True, now=now)
    except ledger.GiftGone:
        tx.run("ROLLBACK TO SAVEPOINT reward")
        return None
    tx.run("RELEASE SAVEPOINT reward")
    return given.grant_id


REJECT = """
UPDATE referrals SET status = 'rejected', reason = COALESCE(:reason, reason), decided_at = :now
WHERE id = :id AND status IN ('pending', 'waiting', 'held')"""


def reject(tx: Tx, referral_id: int, now: datetime, reason: str | None = None) -> bool:
    """The owner's "not a real referral" (or a friend who left during the wait)."""
    return tx.run(REJECT, id=referral_id, now=now, reason=reason).rowcount == 1


def settle(tx: Tx, referral_id: int, now: datetime, mail_from: str) -> str:
    """The end of a referral's waiting period (an outbox "referral" row): count it if the
    friend is still confirmed, else reject it. Returns what happened."""
    if count(tx, referral_id, now, mail_from):
        return "counted"
    state = tx.one("SELECT status FROM referrals WHERE id = :id", id=referral_id)
    if state is not None and state[0] == "waiting":
        reject(tx, referral_id, now, "left")
        return "rejected: the friend left before the waiting period ended"
    return "nothing to do"


def approve(session: Session, referral_id: int) -> bool:
    """The owner counts a held referral (commits): the referrer's count and any
    milestone reached, as if it had never been held."""
    counted = count(Tx.on_session(session), referral_id, utcnow(),
                    current_app.config["MAIL_FROM"])
    session.commit()
    if counted:
        outbox.wake_event(current_app).set()
    return counted


def decline(session: Session, referral_id: int) -> bool:
    """The owner's "not a real referral" for a held or waiting one (commits)."""
    declined = reject(Tx.on_session(session), referral_id, utcnow(), "owner")
    session.commit()
    return declined
