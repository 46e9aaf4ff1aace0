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

from widget.core import events, outbox, rawsql
from widget.core.rawsql import Tx
from widget.gifts import ledger
from widget.giveback import referrals
from widget.models import utcnow
from widget.subscribers import confirmation, tags

# A first sign-up takes :status (pending with double opt-in, else confirmed); a repeat
# keeps the status it has, except that an unsubscribed address signing up again starts
# over, and a bounced one is pending again whatever the site's opt-in (only a new
# confirmation proves the mailbox works; its window claimed as a new pending row's is).
# status_at changes only with the status, so comparing it with :now tells whether
# this statement changed it; a row it made pending has its re-send window claimed
# (confirm_sent_at) by the same statement. A confirmed subscriber's name and language
# stay as they are: whoever knows an address must not choose how mail greets its owner.
UPSERT = """
INSERT INTO subscribers (site_id, email, email_normalized, name, status, status_at,
                         confirm_sent_at, lang, widget_id, variant_id, page_url, created_at,
                         updated_at, ref_count, ref_visits, share_clicks)
VALUES (:site_id, :email, :email_normalized, :name, :status, :now, :confirm_sent_at, :lang,
        :widget_id, :variant_id, :page_url, :now, :now, 0, 0, 0)
ON CONFLICT (site_id, email_normalized) DO UPDATE SET
    status = CASE WHEN subscribers.status = 'unsubscribed' THEN excluded.status
                  WHEN subscribers.status = 'bounced' THEN 'pending'
                  ELSE subscribers.status END,
    status_at = CASE WHEN subscribers.status IN ('unsubscribed', 'bounced')
                     THEN excluded.status_at ELSE subscribers.status_at END,
    confirm_sent_at = CASE WHEN subscribers.status = 'unsubscribed'
                           THEN excluded.confirm_sent_at
                           WHEN subscribers.status = 'bounced' THEN excluded.status_at
                           ELSE subscribers.confirm_sent_at END,
    lang = CASE WHEN subscribers.status = 'confirmed' THEN subscribers.lang
                ELSE excluded.lang END,
    name = CASE WHEN subscribers.status = 'confirmed' THEN subscribers.name
                ELSE COALESCE(excluded.name, subscribers.name) END,
    updated_at = excluded.updated_at
RETURNING id, status, status_at, created_at"""

CONSENT = """
INSERT INTO consents (subscriber_id, given, basis, text, lang, widget_id, page_url, ip,
                      user_agent, created_at)
VALUES (:subscriber_id, :given, 'signup', :text, :lang, :widget_id, :page_url, :ip, :user_agent,
        :now)"""

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
class Signup:
    """One accepted sign-up, checked by signup.subscribe, as it is written."""
    site_id: str
    email: str  # as given
    email_normalized: str  # as matched
    name: str | None
    lang: str
    widget_id: str | None
    page_url: str | None
    consent_given: bool
    consent_text: str
    ip: str | None
    user_agent: str
    rules: MailRules
    gift: ledger.Terms | None = None  # what a gated gift widget gives with it
    given_first: tuple[int, str] | None = None  # a gift given first: grant id and nonce
    ref: str | None = None  # the code of the friend's link that brought them
    tags: tuple[str, ...] = ()  # the widget's tags for its sign-ups
    variant: int | None = None  # the A/B test variant it came through


def write(engine: Engine, signup: Signup) -> bool:
    """Upsert the subscriber, add its consent row and the widget's tags, give the gated
    gift (released at once for a confirmed address, else when it is confirmed), put a
    gift given first on their ledger, note the friend whose link brought a new
    subscriber, and queue the e-mail that is due, all in one committed transaction.
    Returns whether an e-mail was queued.

    The upsert makes a repeat sign-up refresh the existing row, and two first sign-ups of
    the same address racing each other both succeed. Raises ledger.GiftGone (nothing is
    written) when the gift ran out.
    """
    return rawsql.write(engine, lambda tx: _write(tx, signup, utcnow()))


def _write(tx: Tx, s: Signup, now) -> bool:
    rules = s.rules
    new_status = "pending" if rules.double_opt_in else "confirmed"
    # A first sign-up without double opt-in becomes confirmed through on_confirmed below,
    # like a confirmation, so its gifts and referral are settled in one place.
    upsert = tx.run(
        UPSERT, site_id=s.site_id, email=s.email, email_normalized=s.email_normalized,
        name=s.name, lang=s.lang, widget_id=s.widget_id, variant_id=s.variant,
        page_url=s.page_url, status=new_status, now=now,
        confirm_sent_at=now if rules.double_opt_in else None)
    # Questions that need no answer from the upsert are asked before its answer is read:
    # on PostgreSQL they travel in one round trip with it (rawsql.write's pipeline).
    mailbox = outbox.mailbox_of(s.email_normalized)
    if tx.postgres:
        tx.run(LOCK_MAILBOX, mailbox=mailbox)
    confirms = tx.run(CONFIRMS_TODAY, mailbox=mailbox, since=now - timedelta(days=1))
    listeners = events.receivers(tx, s.site_id, "contact.created")
    subscriber_id, status, status_at, created_at = upsert.fetchone()
    changed = status_at == tx.value(now)
    if s.ref and created_at == tx.value(now):  # a friend's link counts for new people only
        referrals.attribute(tx, s.site_id, s.ref, subscriber_id, s.email_normalized, s.ip,
                            now)
    ids = {"subscriber_id": subscriber_id, "now": now}
    tx.run(CONSENT, **ids, given=s.consent_given, text=s.consent_text, lang=s.lang,
           widget_id=s.widget_id, page_url=s.page_url, ip=s.ip, user_agent=s.user_agent)
    tags.add(tx, s.site_id, subscriber_id, s.tags)
    if created_at == tx.value(now):
        events.about_contact(tx, s.site_id, "contact.created", subscriber_id, now,
                             asked=listeners)
    if changed:
        tx.run(STATUS_CHANGE, **ids, status=status)
    to = outbox.Recipient(s.site_id, subscriber_id, s.email_normalized, s.lang)
    if s.given_first:
        ledger.link(tx, *s.given_first, s.site_id, subscriber_id)
    given = None
    if s.gift:
        given = ledger.give(tx, s.gift, site_id=s.site_id, subscriber_id=subscriber_id,
                            widget_id=s.widget_id, page_url=s.page_url,
                            release=status == "confirmed" and not changed, now=now)
    if status == "pending":
        if not _may_send_confirm(tx, ids, confirms, rules, now, claimed=changed):
            return False
        outbox.queue(tx, "confirm", to, rules.mail_from, grant_id=given and given.grant_id)
        return True
    if status == "confirmed" and changed:
        confirmation.on_confirmed(tx, to, now, rules.mail_from)
        return True
    if status == "confirmed" and given and given.released:
        return ledger.deliver(tx, to, given.grant_id, now, rules.mail_from,
                              rules.resend_minutes)
    if status == "confirmed" and s.given_first:
        ledger.plan_followups(tx, to, now, rules.mail_from)
    return False


def _may_send_confirm(tx: Tx, ids, confirms, rules, now, claimed) -> bool:
    """At most one confirmation per cooldown per subscriber (`claimed`: the upsert just
    made the row pending and took the window), and a few a day per mailbox whatever
    sites or requests ask (list bombing; `confirms`: the mailbox's count, asked under
    its lock on PostgreSQL)."""
    if not claimed:
        cooldown = now - timedelta(minutes=rules.resend_minutes)
        if tx.run(CLAIM_RESEND, **ids, cooldown=cooldown).rowcount != 1:
            return False
    return confirms.fetchone()[0] < rules.per_address_day
