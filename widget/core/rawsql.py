"""Plain SQL for the hottest writes (a sign-up, a gift given), one text for SQLite and
PostgreSQL.

SQLAlchemy Core spends about twice the database's own time per statement on these paths
(cache key, execution context, pool events), so they talk to the driver directly. The
SQL is standard (INSERT … ON CONFLICT … RETURNING runs on SQLite 3.35+ and PostgreSQL);
only the parameter style and how a datetime is passed differ, and Tx hides both. A Tx
runs on a pooled DBAPI cursor or on an ORM session's own connection, so the same
statements serve the sign-up path and the ORM paths (a confirmation) in their
transactions.
"""
from __future__ import annotations

import re
from contextlib import contextmanager
from datetime import datetime, timezone
from functools import lru_cache

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session


@lru_cache(maxsize=None)
def _pyformat(sql: str) -> str:
    return re.sub(r":(\w+)", r"%(\1)s", sql)


def _sqlite_value(value):
    # How SQLAlchemy stores DateTime in SQLite, so the ORM reads these rows back.
    return value.strftime("%Y-%m-%d %H:%M:%S.%f") if isinstance(value, datetime) else value


def as_datetime(value) -> datetime | None:
    """A datetime column as a driver returned it (SQLite: text in UTC) as an aware datetime."""
    if value is None or isinstance(value, datetime):
        return value if value is None or value.tzinfo else value.replace(tzinfo=timezone.utc)
    return datetime.fromisoformat(value).replace(tzinfo=timezone.utc)


class Tx:
    """Statements with :named parameters in one open transaction (the caller commits)."""

    def __init__(self, dialect: str, execute):
        self.dialect, self._execute = dialect, execute

    @classmethod
    def on_cursor(cls, cursor, dialect: str) -> "Tx":
        """On a DBAPI cursor (its connection holds the transaction)."""
        def execute(sql, params):
            cursor.execute(sql, params)
            return cursor
        return cls(dialect, execute)

    @classmethod
    def on_session(cls, session: Session) -> "Tx":
        """On the connection of an ORM session, inside the session's transaction."""
        conn = session.connection()
        return cls(conn.dialect.name, conn.exec_driver_sql)

    @property
    def postgres(self) -> bool:
        return self.dialect == "postgresql"

    def value(self, value):
        """`value` as this driver passes (and returns) it: compare results with this."""
        return value if self.postgres else _sqlite_value(value)

    def run(self, sql: str, **params):
        """Execute one statement; returns something with fetchone(), fetchall(), rowcount."""
        if self.postgres:
            return self._execute(_pyformat(sql), params)
        return self._execute(sql, {k: _sqlite_value(v) for k, v in params.items()})

    def one(self, sql: str, **params):
        """The first row of a statement's result, or None."""
        return self.run(sql, **params).fetchone()


@contextmanager
def transaction(engine: Engine):
    """A Tx on a pooled connection: committed when the block ends, rolled back when it
    raises, and the connection handed back to the pool either way."""
    conn = engine.raw_connection()
    try:
        yield Tx.on_cursor(conn.cursor(), engine.dialect.name)
        conn.commit()
    except BaseException:
        conn.rollback()
        raise
    finally:
        conn.close()
