"""Plain SQL for the hottest writes (a sign-up, a gift given), one text for SQLite and
PostgreSQL.

SQLAlchemy Core spends about twice the database's own time per statement on these paths
(cache key, execution context, pool events), so they talk to the driver directly. The
SQL is standard (INSERT … ON CONFLICT … RETURNING runs on SQLite 3.35+ and PostgreSQL);
only the parameter style and how a datetime is passed differ, and Tx hides both. A Tx
runs on a pooled DBAPI cursor or on an ORM session's own connection, so the same
statements serve the sign-up path and the ORM paths (a confirmation) in their
transactions.

On PostgreSQL a write() runs in psycopg's pipeline mode: statements go out without
waiting for each answer, and the client waits only where it reads a result. With the
BEGIN and the COMMIT sent along, a sign-up takes two or three round trips instead of
ten, and no pre-ping: a connection the server dropped is noticed at the first answer,
before anything was committed, and the write runs again on a fresh one.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime, timezone
from functools import lru_cache
from typing import TypeVar

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session


@lru_cache(maxsize=None)
def _pyformat(sql: str) -> str:
    return re.sub(r":(\w+)", r"%(\1)s", sql)


def _sqlite_value(value):
    # How SQLAlchemy stores DateTime and Date in SQLite, so the ORM reads these rows back.
    if isinstance(value, datetime):
        return _sqlite_datetime(value, value.tzinfo)
    return value.isoformat() if isinstance(value, date) else value


@lru_cache(maxsize=64)
def _sqlite_datetime(value: datetime, _tzinfo) -> str:
    # Cached, as a write passes its one `now` to most of its statements. The zone is in
    # the key: 13:00+01:00 equals 12:00 UTC as a datetime, but is written as 13:00.
    return value.strftime("%Y-%m-%d %H:%M:%S.%f")


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
            return _Read(cursor)
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
        """Execute one statement; returns its result (fetchone(), fetchall(), rowcount, or
        iterate), which may be read after later statements ran: a statement can be asked
        early and its answer read where it is needed (see write's pipeline)."""
        if self.postgres:
            return self._execute(_pyformat(sql), params)
        for name, value in params.items():  # most are not dates: no call for those
            if isinstance(value, date):
                params[name] = _sqlite_value(value)
        return self._execute(sql, params)

    def one(self, sql: str, **params):
        """The first row of a statement's result, or None."""
        return self.run(sql, **params).fetchone()


T = TypeVar("T")


class _Read:
    """A statement's result read at once, so its cursor can run the next statement."""

    def __init__(self, cursor):
        self._rows = iter(cursor.fetchall() if cursor.description else ())
        self.rowcount = cursor.rowcount

    def fetchone(self):
        return next(self._rows, None)

    def fetchall(self) -> list:
        return list(self._rows)

    def __iter__(self):
        return self._rows


class _Pending:
    """A statement sent in pipeline mode: its rows or row count wait for the answer."""

    def __init__(self, cursor, pipeline):
        self._cursor, self._pipeline = cursor, pipeline

    def fetchone(self):
        return self._cursor.fetchone()  # psycopg syncs the pipeline for it

    def fetchall(self) -> list:
        return self._cursor.fetchall()

    def __iter__(self):
        return iter(self.fetchall())

    @property
    def rowcount(self) -> int:
        self._pipeline.sync()  # unknown (-1) until the answer arrived
        return self._cursor.rowcount


def write(engine: Engine, fn: Callable[[Tx], T], *, alone: bool = False) -> T:
    """fn(tx) in one transaction on a pooled connection, committed when fn returns (the
    commit is done before write returns) and rolled back when it raises; its result.

    `alone`: on PostgreSQL fn runs exactly one statement, which then runs in autocommit,
    a transaction of its own: one round trip and no BEGIN or COMMIT, which took a
    beacon's client time from about 280 to 100 µs in one process. (SQLite's transaction
    costs no round trip: there it changes nothing.)

    A connection the database dropped while it sat in the pool is found at the first
    answer (there is no pre-ping); fn then runs once more, on a fresh connection.
    """
    for attempt in (1, 2):
        try:
            return _write_once(engine, fn, alone)
        except _Dropped as dropped:
            if attempt == 2:
                raise dropped.error from None
    raise AssertionError("unreachable")


class _Dropped(Exception):
    """The connection was gone before the transaction's commit was sent."""

    def __init__(self, error: Exception):
        super().__init__(str(error))
        self.error = error


def _write_once(engine: Engine, fn: Callable[[Tx], T], alone: bool) -> T:
    conn = engine.raw_connection()
    dialect = engine.dialect
    try:
        if dialect.name != "postgresql":
            result = fn(Tx.on_cursor(conn.cursor(), dialect.name))
            conn.commit()
            return result
        driver = conn.driver_connection
        if alone:
            driver.autocommit = True
            try:
                return _run(engine, conn, fn, Tx.on_cursor(driver.cursor(), dialect.name))
            finally:
                if not driver.closed:
                    driver.autocommit = False  # as the pool lends it
        with driver.pipeline() as pipeline:
            def execute(sql, params):
                cursor = driver.cursor()
                cursor.execute(sql, params)
                return _Pending(cursor, pipeline)
            result = _run(engine, conn, fn, Tx(dialect.name, execute))
            driver.commit()
        return result
    except BaseException:
        if conn.dbapi_connection is not None:
            try:
                conn.rollback()
            except dialect.loaded_dbapi.Error:  # gone mid-way: the pool forgets it
                conn.invalidate()
        raise
    finally:
        conn.close()


def _run(engine: Engine, conn, fn: Callable[[Tx], T], tx: Tx) -> T:
    """fn(tx) on PostgreSQL, a dropped connection raised as _Dropped."""
    dialect = engine.dialect
    try:
        return fn(tx)
    except dialect.loaded_dbapi.Error as error:
        if dialect.is_disconnect(error, conn.dbapi_connection, None):
            # Nothing was committed: a connection dropped while it sat in the pool fails
            # at its first answer, before the server ran anything. The pool's other idle
            # connections went the same way (a restart drops them all): a fresh pool.
            conn.invalidate()
            engine.dispose()
            raise _Dropped(error) from error
        raise
