"""contacts searched through an index: an FTS5 trigram table on SQLite, trigram GIN
indexes on PostgreSQL (see widget/subscribers/search.py).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07
"""
import logging

from alembic import op
from sqlalchemy.exc import DBAPIError

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

# External content: the table indexes subscribers' own email and name (no second copy),
# and the triggers keep it in step with every insert, update and delete, cascades too.
SQLITE = [
    "CREATE VIRTUAL TABLE subscriber_search USING fts5(email, name, content='subscribers', "
    "content_rowid='id', tokenize='trigram')",
    "CREATE TRIGGER subscriber_search_insert AFTER INSERT ON subscribers BEGIN "
    "INSERT INTO subscriber_search(rowid, email, name) VALUES (new.id, new.email, new.name); END",
    "CREATE TRIGGER subscriber_search_delete AFTER DELETE ON subscribers BEGIN "
    "INSERT INTO subscriber_search(subscriber_search, rowid, email, name) "
    "VALUES ('delete', old.id, old.email, old.name); END",
    "CREATE TRIGGER subscriber_search_update AFTER UPDATE OF email, name ON subscribers BEGIN "
    "INSERT INTO subscriber_search(subscriber_search, rowid, email, name) "
    "VALUES ('delete', old.id, old.email, old.name); "
    "INSERT INTO subscriber_search(rowid, email, name) VALUES (new.id, new.email, new.name); END",
    "INSERT INTO subscriber_search(subscriber_search) VALUES ('rebuild')",
]
POSTGRESQL = [
    "CREATE INDEX ix_subscribers_email_trgm ON subscribers USING gin (email gin_trgm_ops)",
    "CREATE INDEX ix_subscribers_name_trgm ON subscribers USING gin (name gin_trgm_ops)",
]


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for statement in SQLITE:
            op.execute(statement)
    elif bind.dialect.name == "postgresql":
        # pg_trgm ships with PostgreSQL and is a trusted extension (13+), so a database
        # owner may create it; where it can't be, search still works, by a scan.
        try:
            with bind.begin_nested():
                op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        except DBAPIError as error:
            logging.getLogger("widget.migrate").warning(
                "pg_trgm is not available (%s): contact search scans the list",
                str(error.orig).strip())
            return
        for statement in POSTGRESQL:
            op.execute(statement)


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for trigger in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER IF EXISTS subscriber_search_{trigger}")
        op.execute("DROP TABLE IF EXISTS subscriber_search")
    elif bind.dialect.name == "postgresql":
        for index in ("ix_subscribers_email_trgm", "ix_subscribers_name_trgm"):
            op.execute(f"DROP INDEX IF EXISTS {index}")
