"""Writing one accepted sign-up: the hottest write, in plain SQL on a pooled connection.

SQLAlchemy Core spends about twice the database's own time per statement here (cache
key, execution context, pool events), and every accepted form makes several statements,
so this one function talks to the driver directly. The SQL is standard (INSERT … ON
CONFLICT … RETURNING) and runs unchanged on SQLite 3.35+ and PostgreSQL; only the
parameter style and the date type differ. Reads and every other write go through the ORM.

One transaction holds the subscriber, the consent, the status change and the e-mail it
causes (the outbox row), so a sign-up is never kept without its mail, nor the reverse.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.engine import Engine

from .mail import outbox
from .models import utcnow

# A first sign-up takes :status (pending with double opt-in, else confirmed); a repeat
# keeps the status it has, except that an unsubscribed address signing up again starts
# over. status_at changes only with the status, so comparing it with :now tells whether
# this statement changed it; a row it made pending has its re-send window claimed
# (confirm_sent_at) by the same statement. A confirmed subscriber's name and language
# stay as they are: whoever knows an address must not choose how mail greets its owner.
UPSERT = """
INSERT INTO subscribers (site_id, email, email_normalized, name, status, status_at,
                         confirm_sent_at, lang, widget_id, page_url, created_at, updated_at)
VALUES (:site_id, :email, :email_normalized, :name, :status, :now, :confirm_sent_at, :lang,
        :widget_id, :page_url, :now, :now)
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
RETURNING id, status, status_at"""

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
LOCK_MAILBOX = "SELECT pg_advisory_xact_lock(hashtext(%(mailbox)s))"

CONFIRMS_TODAY = """
SELECT count(*) FROM outbox WHERE mailbox = :mailbox AND kind = 'confirm' AND created_at > :since"""

OUTBOX_COLUMNS = ("site_id", "subscriber_id", "kind", "mailbox", "lang", "status", "attempts",
                  "next_attempt_at", "created_at", "message_id")
QUEUE = (f"INSERT INTO outbox ({', '.join(OUTBOX_COLUMNS)}) "
         f"VALUES ({', '.join(':' + c for c in OUTBOX_COLUMNS)})")


def _pyformat(sql: str) -> str:
    return re.sub(r":(\w+)", r"%(\1)s", sql)


STATEMENTS = {"UPSERT": UPSERT, "CONSENT": CONSENT, "STATUS_CHANGE": STATUS_CHANGE,
              "CLAIM_RESEND": CLAIM_RESEND, "CONFIRMS_TODAY": CONFIRMS_TODAY, "QUEUE": QUEUE}
SQL = {"sqlite": STATEMENTS,
       "postgresql": {**{name: _pyformat(sql) for name, sql in STATEMENTS.items()},
                      "LOCK_MAILBOX": LOCK_MAILBOX}}


@dataclass(frozen=True)
class MailRules:
    """What the sign-up may send: read from the site and the settings by the caller."""
    double_opt_in: bool
    mail_from: str
    resend_minutes: int
    per_address_day: int


def _sqlite_time(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S.%f")  # how SQLAlchemy stores DateTime there


def write(engine: Engine, subscriber: dict, consent: dict, rules: MailRules) -> bool:
    """Upsert the subscriber, add its consent row and, when one is due, queue its e-mail,
    all in one committed transaction. Returns whether an e-mail was queued.

    The upsert makes a repeat sign-up refresh the existing row, and two first sign-ups of
    the same address racing each other both succeed.
    """
    dialect = engine.dialect.name
    sql = SQL[dialect]
    as_param = _sqlite_time if dialect == "sqlite" else (lambda value: value)
    now = utcnow()
    conn = engine.raw_connection()
    try:
        cur = conn.cursor()
        new_status = "pending" if rules.double_opt_in else "confirmed"
        cur.execute(sql["UPSERT"], {
            **subscriber, "status": new_status, "now": as_param(now),
            "confirm_sent_at": as_param(now) if rules.double_opt_in else None})
        subscriber_id, status, status_at = cur.fetchone()
        changed = status_at == as_param(now)
        ids = {"subscriber_id": subscriber_id, "now": as_param(now)}
        cur.execute(sql["CONSENT"], {**consent, **ids})
        if changed:
            cur.execute(sql["STATUS_CHANGE"], {**ids, "status": status})
        kind = None
        if status == "pending":
            kind = "confirm" if _may_send_confirm(cur, sql, ids, subscriber, rules, as_param,
                                                  now, claimed=changed) else None
        elif status == "confirmed" and changed:
            kind = "welcome"
        if kind:
            row = outbox.new_row(kind, subscriber["site_id"], subscriber_id,
                                 subscriber["email_normalized"], subscriber["lang"],
                                 rules.mail_from)
            cur.execute(sql["QUEUE"], {k: as_param(v) if isinstance(v, datetime) else v
                                       for k, v in row.items()})
        conn.commit()
        return kind is not None
    except BaseException:
        conn.rollback()
        raise
    finally:
        conn.close()  # back to the pool


def _may_send_confirm(cur, sql, ids, subscriber, rules, as_param, now, claimed) -> bool:
    """At most one confirmation per cooldown per subscriber (`claimed`: the upsert just
    made the row pending and took the window), and a few a day per mailbox whatever
    sites or requests ask (list bombing)."""
    if not claimed:
        cooldown = now - timedelta(minutes=rules.resend_minutes)
        cur.execute(sql["CLAIM_RESEND"], {**ids, "cooldown": as_param(cooldown)})
        if cur.rowcount != 1:
            return False
    mailbox = outbox.mailbox_of(subscriber["email_normalized"])
    if "LOCK_MAILBOX" in sql:
        cur.execute(sql["LOCK_MAILBOX"], {"mailbox": mailbox})
    cur.execute(sql["CONFIRMS_TODAY"], {"mailbox": mailbox,
                                        "since": as_param(now - timedelta(days=1))})
    return cur.fetchone()[0] < rules.per_address_day
