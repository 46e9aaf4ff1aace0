"""The storage layer every capability shares: engine, sessions and the SQLite pragmas."""
from __future__ import annotations

from flask import Flask, current_app
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, scoped_session, sessionmaker


def make_engine(url: str) -> Engine:
    """Create an engine; SQLite gets WAL, foreign keys and a busy timeout on every connection."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 15, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record):
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=15000")
            # NORMAL in WAL mode: a commit survives any crash of the app; only a power
            # loss can roll back the newest commits. FULL costs an fsync per sign-up.
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        return engine
    # Connections older than half an hour are replaced as they are handed out (a
    # timestamp check, no round trip), before a server's or a pooler's idle timeout.
    engine = create_engine(url, pool_recycle=1800)

    # pool_pre_ping's check, for Core and ORM connections only: the hot raw-SQL writes
    # (rawsql.write) skip the round trip and run again on a fresh connection instead.
    @event.listens_for(engine, "engine_connect")
    def _ping(conn):
        dbapi_conn = conn.connection.dbapi_connection
        try:
            engine.dialect.do_ping(dbapi_conn)
        except engine.dialect.loaded_dbapi.Error as error:
            if not engine.dialect.is_disconnect(error, dbapi_conn, None):
                raise
            # Its next statement connects afresh, from a fresh pool: a restart drops
            # every idle connection, not just this one.
            conn.invalidate()
            engine.dispose()

    return engine


def init_app(app: Flask) -> None:
    """Attach an engine and a request-scoped session factory to the app."""
    engine = make_engine(app.config["DATABASE_URL"])
    sessions = scoped_session(sessionmaker(bind=engine, expire_on_commit=False))
    app.extensions["widget.db"] = (engine, sessions)

    @app.teardown_appcontext
    def _remove(_exc):
        sessions.remove()


def session() -> Session:
    """The session of the current request or CLI command."""
    return current_app.extensions["widget.db"][1]()


def engine() -> Engine:
    """The engine of the current app."""
    return current_app.extensions["widget.db"][0]
