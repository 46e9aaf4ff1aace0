"""Which tests run on which database, and why that is enough.

Every test runs on SQLite. On PostgreSQL (when TEST_DATABASE_URL is set) run the tests
of what the server stores and sends; the browser tests, which check what the loader and
the widget do in Chromium, run on SQLite only. That is safe while the SQL that differs
between the two lives only in the storage modules below, where the tests of the API,
the pages, the dashboard, the mail and the worker reach it on both databases: the rest
goes through the ORM, whose SQL SQLAlchemy writes for each.

This test reads the source (nothing is imported) and fails when SQL of our own, or a
branch on the database in use, appears anywhere else."""
from __future__ import annotations

import ast
import re
from pathlib import Path

from .helpers.source import parse

WIDGET = Path(__file__).resolve().parent.parent / "widget"

# Modules that write SQL by hand or choose by database; their tests run on both.
STORAGE = {
    "core/db.py", "core/rawsql.py", "core/outbox.py", "core/export.py", "migrations/env.py",
    "subscribers/store.py", "subscribers/lifecycle.py", "subscribers/confirmation.py",
    "subscribers/tags.py", "subscribers/manage.py", "subscribers/privacy.py",
    "subscribers/import_run.py", "subscribers/search.py", "core/events.py",
    "gifts/ledger.py", "gifts/files.py", "gifts/coupons.py", "gifts/grants.py", "gifts/claim.py",
    "giveback/referrals.py", "giveback/stories.py",
    "insight/counters.py", "insight/months.py", "mail/worker.py", "letters/sending.py",
}
SQL = re.compile(r"\b(INSERT\s+INTO|UPDATE\s+\w+\s+SET|SELECT\s.+\sFROM|DELETE\s+FROM|"
                 r"ON\s+CONFLICT|RETURNING)\b", re.S)
DIALECT_WORDS = re.compile(r"\b(postgres(ql)?|sqlite)\b", re.I)


def storage_traits(source: str) -> list[str]:
    """What in `source` depends on the database: hand-written SQL, plain-SQL helpers,
    dialect-specific constructs, or a branch on the dialect's name."""
    found = []
    for node in ast.walk(parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module:
            # as_datetime is the one neutral helper: it makes either driver's datetime equal.
            plain = [a.name for a in node.names if a.name != "as_datetime"]
            if (node.module == "widget.core.rawsql" and plain) or node.module.startswith(
                    "sqlalchemy.dialects"):
                found.append(f"imports {node.module}")
            if node.module == "sqlalchemy" and any(a.name == "text" for a in node.names):
                found.append("imports sqlalchemy.text")
        elif isinstance(node, ast.Attribute) and node.attr in ("dialect", "postgres"):
            found.append(f"reads .{node.attr}")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            if SQL.search(node.value):
                found.append(f"SQL text {node.value.strip()[:40]!r}")
            elif DIALECT_WORDS.fullmatch(node.value.strip()):
                found.append(f"names the database {node.value!r}")
    return found


def modules() -> dict[str, str]:
    return {p.relative_to(WIDGET).as_posix(): p.read_text(encoding="utf-8")
            for p in WIDGET.rglob("*.py") if "migrations/versions" not in p.as_posix()}


def test_sql_that_differs_by_database_lives_only_in_the_storage_modules():
    outside = {name: traits for name, source in sorted(modules().items())
               if name not in STORAGE and (traits := storage_traits(source))}
    assert outside == {}


def test_every_storage_module_exists_and_is_storage():
    found = modules()
    assert {name for name in STORAGE if not storage_traits(found.get(name, ""))} == set()


def test_the_check_sees_each_kind_of_database_dependence():
    assert storage_traits('q = "SELECT id FROM sites WHERE x = 1"')
    assert storage_traits("from sqlalchemy import select, text")
    assert storage_traits("from sqlalchemy.dialects.postgresql import insert")
    assert storage_traits("if engine.dialect.name == 'x': pass")
    assert storage_traits("if tx.postgres: pass")
    assert storage_traits("kind = 'postgresql'")
    assert not storage_traits("from sqlalchemy import select\nrows = select(Site)")
    assert not storage_traits("from widget.core.rawsql import as_datetime")
    assert not storage_traits('label = "Select a gift from the list"')
