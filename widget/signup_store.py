"""Writing one accepted sign-up: the hottest write, in plain SQL on a pooled connection
(rawsql explains why). Reads and every other write go through the ORM.

One transaction holds the subscriber, the consent, the status change, the gift claimed
with a gated gift widget and the e-mail it all causes (the outbox row), so a sign-up is
never kept without its mail or its gift, nor the reverse.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.engine import Engine

from . import confirmation
from .gifts import ledger
from .giveback import referrals
from .mail import outbox
from .models import utcnow
from .rawsql import Tx, transaction

# A first sign-up takes :status (pending with double opt-in, else confirmed); a repeat
# keeps the status it has, except that an unsubscribed address signing up again starts
# over. status_at changes only with the status, so comparing it with :now tells whether
# this statement changed it; a row it made pending has its re-send window claimed
# (confirm_sent_at) by the same statement. A confirmed subscriber's name and language
# stay as they are: whoever knows an address must not choose how mail greets its owner.
UPSERT = """
INSERT INTO subscribers (site_id, email, email_normalized, name, status, status_at,
                         confirm_sent_at, lang, widget_id, page_url, created_at, updated_at,
                         ref_count, ref_visits, share_clicks)
VALUES (:site_id, :email, :email_normalized, :name, :status, :now, :confirm_sent_at, :lang,
        :widget_id, :page_url, :now, :now, 0, 0, 0)
ON CONFLICT (site_id, email_normalized) DO UPDATE SET
    status = CASE WHEN subscribers.status = 'unsubscribed' THEN excluded.status
                  ELSE subscribers.status END,
    status_at = CASE WHEN subscribers.status = 'unsubscribed' THEN excluded.status_at
                     ELSE subscribers.status_at END,
    confirm_sent_at = CASE WHEN subscribers.status = 'unsubscribed'
                           THEN excluded.confirm_sent_at ELSE subscribers.confirm_sent_at END,
    lang = CASE WHEN subscribers.status = 'confirmed' THEN subscribers.lang
                ELSE excluded.lang END,
    name = CASE WHEN subscribers.status = 'confirmed' THEN subscribers.name
                ELSE COALESCE(excluded.name, subscribers.name) END,
    updated_at = excluded.updated_at
RETURNING id, status, status_at, created_at"""

CONSENT = """
INSERT INTO consents (subscriber_id, given, text, lang, widget_id, page_url, ip, user_agent,
                      created_at)
VALUES (:subscriber_id, :given, :text, :lang, :widget_id, :page_url, :ip, :user_agent, :now)"""

STATUS_CHANGE = """
INSERT INTO status_changes (subscriber_id, status, via, created_at)
VALUES (:subscriber_id, :status, 'signup', :now)"""

# Claims the re-send window: only one of any number of racing requests gets a row back.
CLAIM_RESEND = """
UPDATE subscribers SET confirm_sent_at = :now
WHERE id = :subscriber_id AND (confirm_sent_at IS NULL OR confirm_sent_at < :cooldown)"""

# PostgreSQL only: concurrent sign-ups of one mailbox take turns at the count below, or
# each would see the cap not yet reached (SQLite already runs one writer at a time).
LOCK_MAILBOX = "SELECT pg_advisory_xact_lock(hashtext(:mailbox))"

CONFIRMS_TODAY = """
SELECT count(*) FROM outbox WHERE mailbox = :mailbox AND kind = 'confirm' AND created_at > :since"""


@dataclass(frozen=True)
class MailRules:
    """What the sign-up may send: read from the site and the settings by the caller."""
    double_opt_in: bool
    mail_from: str
    resend_minutes: int
    per_address_day: int


@dataclass(frozen=True)
class GiftClaim:
    """The gift a gated gift widget gives with this sign-up."""
    terms: ledger.Terms
    widget_id: str


def write(engine: Engine, subscriber: dict, consent: dict, rules: MailRules,
          gift: GiftClaim | None = None, given_first: tuple[int, str] | None = None,
          ref: str | None = None) -> bool:
    """Upsert the subscriber, add its consent row, give the gated gift (released at once
    for a confirmed address, else when it is confirmed), put a gift given first
    (`given_first`: its grant id and nonce) on their ledger, note the friend whose link
    brought a new subscriber (`ref`: the link's code), and queue the e-mail that is due,
    all in one committed transaction. Returns whether an e-mail was queued.

    The upsert makes a repeat sign-up refresh the existing row, and two first sign-ups of
    the same address racing each other both succeed. Raises ledger.GiftGone (nothing is
    written) when the gift ran out.
    """
    with transaction(engine) as tx:
        return _write(tx, subscriber, consent, rules, gift, given_first, ref, utcnow())


def _write(tx: Tx, subscriber, consent, rules, gift, given_first, ref, now) -> bool:
    new_status = "pending" if rules.double_opt_in else "confirmed"
    # A first sign-up without double opt-in becomes confirmed through on_confirmed below,
    # like a confirmation, so its gifts and referral are settled in one place.
    subscriber_id, status, status_at, created_at = tx.one(
        UPSERT, **subscriber, status=new_status, now=now,
        confirm_sent_at=now if rules.double_opt_in else None)
    changed = status_at == tx.value(now)
    if ref and created_at == tx.value(now):  # a friend's link counts for new people only
        referrals.attribute(tx, subscriber["site_id"], ref, subscriber_id,
                            subscriber["email_normalized"], consent["ip"], now)
    ids = {"subscriber_id": subscriber_id, "now": now}
    tx.run(CONSENT, **consent, **ids)
    if changed:
        tx.run(STATUS_CHANGE, **ids, status=status)
    to = outbox.Recipient(subscriber["site_id"], subscriber_id,
                          subscriber["email_normalized"], subscriber["lang"])
    if given_first:
        ledger.link(tx, *given_first, subscriber["site_id"], subscriber_id)
    given = None
    if gift:
        given = ledger.give(tx, gift.terms, site_id=subscriber["site_id"],
                            subscriber_id=subscriber_id, widget_id=gift.widget_id,
                            page_url=subscriber["page_url"],
                            release=status == "confirmed" and not changed, now=now)
    if status == "pending":
        if not _may_send_confirm(tx, ids, subscriber, rules, now, claimed=changed):
            return False
        outbox.queue(tx, "confirm", to, rules.mail_from, grant_id=given and given.grant_id)
        return True
    if status == "confirmed" and changed:
        confirmation.on_confirmed(tx, to, now, rules.mail_from)
        return True
    if status == "confirmed" and given and given.released:
        return ledger.deliver(tx, to, given.grant_id, now, rules.mail_from,
                              rules.resend_minutes)
    if status == "confirmed" and given_first:
        ledger.plan_followups(tx, to, now, rules.mail_from)
    return False


def _may_send_confirm(tx: Tx, ids, subscriber, rules, now, claimed) -> bool:
    """At most one confirmation per cooldown per subscriber (`claimed`: the upsert just
    made the row pending and took the window), and a few a day per mailbox whatever
    sites or requests ask (list bombing)."""
    if not claimed:
        cooldown = now - timedelta(minutes=rules.resend_minutes)
        if tx.run(CLAIM_RESEND, **ids, cooldown=cooldown).rowcount != 1:
            return False
    mailbox = outbox.mailbox_of(subscriber["email_normalized"])
    if tx.postgres:
        tx.run(LOCK_MAILBOX, mailbox=mailbox)
    count = tx.one(CONFIRMS_TODAY, mailbox=mailbox, since=now - timedelta(days=1))[0]
    return count < rules.per_address_day
