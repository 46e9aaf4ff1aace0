"""Writing one accepted sign-up: the hottest write, in plain SQL on a pooled connection.

SQLAlchemy Core spends about twice the database's own time per statement here (cache
key, execution context, pool events), and every accepted form makes two statements, so
this one function talks to the driver directly. The SQL is standard (INSERT … ON CONFLICT
… RETURNING) and runs unchanged on SQLite 3.35+ and PostgreSQL; only the parameter style
and the date type differ. Reads and every other write go through the ORM.
"""
from __future__ import annotations

import re

from sqlalchemy.engine import Engine

from .models import utcnow

UPSERT = """
INSERT INTO subscribers (site_id, email, email_normalized, name, status, lang, widget_id,
                         page_url, created_at, updated_at)
VALUES (:site_id, :email, :email_normalized, :name, 'subscribed', :lang, :widget_id,
        :page_url, :now, :now)
ON CONFLICT (site_id, email_normalized) DO UPDATE SET
    status = 'subscribed', lang = excluded.lang, updated_at = excluded.updated_at,
    name = COALESCE(excluded.name, subscribers.name)
RETURNING id"""

CONSENT = """
INSERT INTO consents (subscriber_id, given, text, lang, widget_id, page_url, ip, user_agent,
                      created_at)
VALUES (:subscriber_id, :given, :text, :lang, :widget_id, :page_url, :ip, :user_agent, :now)"""


def _pyformat(sql: str) -> str:
    return re.sub(r":(\w+)", r"%(\1)s", sql)


SQL = {"sqlite": (UPSERT, CONSENT), "postgresql": (_pyformat(UPSERT), _pyformat(CONSENT))}


def write(engine: Engine, subscriber: dict, consent: dict) -> int:
    """Upsert the subscriber and add its consent row in one committed transaction.

    The upsert makes a repeat sign-up refresh the existing row, and two first sign-ups of
    the same address racing each other both succeed. Returns the subscriber's id.
    """
    dialect = engine.dialect.name
    upsert, insert_consent = SQL[dialect]
    now = utcnow()
    if dialect == "sqlite":
        now = now.strftime("%Y-%m-%d %H:%M:%S.%f")  # how SQLAlchemy stores DateTime there
    conn = engine.raw_connection()
    try:
        cur = conn.cursor()
        cur.execute(upsert, {**subscriber, "now": now})
        subscriber_id = cur.fetchone()[0]
        cur.execute(insert_consent, {**consent, "subscriber_id": subscriber_id, "now": now})
        conn.commit()
        return subscriber_id
    except BaseException:
        conn.rollback()
        raise
    finally:
        conn.close()  # back to the pool
