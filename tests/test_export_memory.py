"""The contacts export at scale: 100,000 contacts, written straight into the database, are
streamed as contacts.csv (the dashboard) and contacts.jsonl (the owner API) by a real
`widget serve` process while the test reads the answer chunk by chunk, and that
process's peak resident memory grows by less than 64 MB for each: no list of them all
is ever held. SQLite and PostgreSQL alike.

The peak is the serving process's own VmHWM, started again from its resident size just
before each download (writing 5 to /proc/<pid>/clear_refs): neither what it needed to
start nor memory this test process holds counts, and nothing between two samples is
missed. Also here: the shortcuts core/export.py takes for speed write exactly what
cell() by cell() would."""
from __future__ import annotations

import csv
import io
import json
import math
import re
import unicodedata
from contextlib import contextmanager
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, text

from widget.core import export
from widget.models import Gift
from widget.sites import keys
from widget.subscribers.contacts import COLUMNS

from .helpers.exports import N, START, last_line, read_streamed
from .helpers.http import HttpClient
from .helpers.serving import app_env, serving
from .helpers.smtp import free_port

LIMIT_MB = 64
# Its two runs (SQLite, PostgreSQL) take turns on one xdist worker: each keeps a core busy
# for a while, and the same limit should not depend on the other's load.
pytestmark = pytest.mark.xdist_group("export_memory")
ISO = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
CONSENT = "Yes, send me the newsletter."


def seed(database_url: str, site: str, gift: str) -> None:
    """N contacts made by the database itself (a recursive count, no rows in this
    process): person i (id i) has a name unless i % 7 is 0, is pending when i % 4 is 0,
    else confirmed, has a consent and a status change, the tag "customers" when i % 5 is
    0 and `gift` when i % 4 is 1."""
    engine = create_engine(database_url)
    sqlite = engine.dialect.name == "sqlite"
    # As each stores a time: SQLAlchemy's text in SQLite, timestamptz in PostgreSQL.
    moment = ("strftime('%Y-%m-%d %H:%M:%S', :start, '+' || i || ' seconds') || '.000000'"
              if sqlite else "CAST(:start AS timestamptz) + i * INTERVAL '1 second'")
    start = START.strftime("%Y-%m-%d %H:%M:%S") if sqlite else START
    with engine.begin() as conn:
        conn.execute(text(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < :n) "
            "INSERT INTO subscribers (id, site_id, email, email_normalized, name, status, lang, "
            "page_url, created_at, updated_at, status_at, ref_code, ref_count, ref_visits, "
            "share_clicks) "
            "SELECT i, :site, 'person' || i || '@example.com', 'person' || i || '@example.com', "
            "CASE WHEN i % 7 = 0 THEN NULL ELSE 'Kari Nordmann ' || i END, "
            "CASE WHEN i % 4 = 0 THEN 'pending' ELSE 'confirmed' END, 'nb', "
            f"'https://blog.example/post', {moment}, {moment}, {moment}, "
            "CASE WHEN i % 4 = 0 THEN NULL ELSE 'r' || i END, i % 3, 0, 0 FROM n"),
            {"n": N, "site": site, "start": start})
        mine = {"site": site}
        conn.execute(text(
            "INSERT INTO consents (subscriber_id, given, basis, text, lang, page_url, "
            "created_at) SELECT id, :yes, 'signup', :consent, lang, page_url, created_at "
            "FROM subscribers WHERE site_id = :site"), {**mine, "yes": True, "consent": CONSENT})
        conn.execute(text(
            "INSERT INTO status_changes (subscriber_id, status, via, created_at) "
            "SELECT id, status, 'confirm_page', status_at FROM subscribers "
            "WHERE site_id = :site"), mine)
        conn.execute(text(
            "INSERT INTO contact_tags (site_id, subscriber_id, tag) SELECT site_id, id, "
            "'customers' FROM subscribers WHERE site_id = :site AND id % 5 = 0"), mine)
        conn.execute(text(
            "INSERT INTO gift_grants (site_id, gift_id, subscriber_id, nonce, created_at, "
            "released_at, valid_days, download_limit, downloads) SELECT site_id, :gift, id, "
            "'n' || id, created_at, created_at, 7, 5, 0 FROM subscribers "
            "WHERE site_id = :site AND id % 4 = 1"), {**mine, "gift": gift})
    engine.dispose()


@contextmanager
def widget_serve(database_url: str, tmp: Path):
    """`widget serve` on `database_url` as a process of its own: (base URL, pid)."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = app_env(database_url, tmp / "served", base, WIDGET_RATE_LIMITS="off")
    with serving(["widget", "serve", "--port", str(port)], env, base,
                 tmp / "serve.log") as proc:
        yield base, proc.pid


def memory_kb(pid: int) -> dict[str, int]:
    found = dict(line.split(":", 1) for line in
                 Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return {name: int(found[name].split()[0]) for name in ("VmRSS", "VmHWM")}


@contextmanager
def peak_growth(pid: int):
    """{"mb": …}: how far the process's peak resident size rose above its size at the
    start of the block."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")  # VmHWM starts again from VmRSS
    before = memory_kb(pid)["VmRSS"]
    growth: dict[str, float] = {}
    yield growth
    growth["mb"] = (memory_kb(pid)["VmHWM"] - before) / 1024


@pytest.mark.skipif(not Path("/proc/self/clear_refs").exists(),
                    reason="measures the peak through Linux's /proc")
def test_exporting_100000_contacts_streams_in_bounded_memory(app, database_url, make_site,
                                                             query, tmp_path):
    site = make_site("ann@example.com")

    def add_gift(s):
        s.add(Gift(id="g_checklist", site_id=site, kind="link", title="The checklist",
                   url="https://blog.example/checklist"))
        s.commit()
    query(add_gift)
    key = query(lambda s: keys.create(s, site, "read", "export test").key)
    seed(database_url, site, "g_checklist")

    with widget_serve(database_url, tmp_path) as (base, pid):
        owner = HttpClient(base)
        assert owner.login("ann@example.com").status_code == 302
        # Once, so imports and caches a first export fills are not counted below.
        assert owner.get(f"/dashboard/sites/{site}/contacts.csv?q=nobody").status_code == 200

        with peak_growth(pid) as grew:
            lines, head, tail = read_streamed(owner, f"/dashboard/sites/{site}/contacts.csv")
        assert lines == N + 1, lines  # and the header
        assert grew["mb"] < LIMIT_MB, f"contacts.csv: peak RSS grew {grew['mb']:.1f} MB"
        rows = list(csv.reader(io.StringIO(head.decode("utf-8-sig").rsplit("\n", 1)[0])))
        newest = dict(zip(COLUMNS, rows[1]))
        assert rows[0] == list(COLUMNS) and newest["email"] == f"person{N}@example.com"
        assert (newest["status"], newest["tags"], newest["name"], newest["gifts"]) == (
            "pending", "customers", f"Kari Nordmann {N}", "")
        assert newest["signed_up"] == "2026-01-02T03:46:40Z" == newest["consent_at"]
        oldest = dict(zip(COLUMNS, next(csv.reader([last_line(tail)]))))
        assert (oldest["email"], oldest["status"], oldest["gifts"], oldest["tags"]) == (
            "person1@example.com", "confirmed", "The checklist", "")
        assert oldest["confirmed"] == "2026-01-01T00:00:01Z" and oldest["unsubscribed"] == ""
        assert (oldest["consent_text"], oldest["referral_code"]) == (CONSENT, "r1")
        assert oldest["friends_counted"] == "1"

        with peak_growth(pid) as grew:
            lines, head, tail = read_streamed(
                owner, f"/api/v1/sites/{site}/contacts.jsonl",
                headers={"Authorization": f"Bearer {key}"})
        assert lines == N, lines
        assert grew["mb"] < LIMIT_MB, f"contacts.jsonl: peak RSS grew {grew['mb']:.1f} MB"
        oldest = json.loads(last_line(tail))
        assert (oldest["email"], oldest["friends_counted"], oldest["gifts"]) == (
            "person1@example.com", 1, "The checklist")
        assert ISO.fullmatch(oldest["signed_up"]) and oldest["unsubscribed"] is None


# The shortcuts of core/export.py ------------------------------------------------------

def test_no_letter_or_digit_starts_a_formula():
    """export.PLAIN lets text through untouched when a \\w character starts it: no such
    character is whitespace or invisible, nor a trigger once NFKC-normalised (checked on
    every code point of this Python's Unicode)."""
    starts = [chr(c) for c in range(0x110000) if export.PLAIN.fullmatch(chr(c))]
    assert len(starts) > 100_000
    assert [hex(ord(c)) for c in starts if export.neutralise(c + "=1") != c + "=1"] == []
    assert not any(c.isspace() or unicodedata.category(c) == "Cf" for c in starts)


def cell_by_cell(batch) -> str:
    out = io.StringIO()
    csv.writer(out).writerows([export.cell(value) for value in row] for row in batch)
    return out.getvalue()


VALUES = st.one_of(
    st.none(), st.text(max_size=8), st.sampled_from(["=1+1", "-2", " @x", "\t", "\u200b=x",
                                                     "a\x00", "ok", "Ø", "", "1", "＝x"]),
    st.integers(-3, 3), st.booleans(), st.floats(allow_nan=True, allow_infinity=True),
    st.decimals(-3, 3, allow_nan=False, places=0),
    st.sampled_from([Decimal("-1"), Decimal("1"), math.inf, -math.inf, 1.0, -1.0]),
    st.datetimes(timezones=st.just(timezone.utc)), st.dates(), st.just([1, 2]))


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(st.lists(st.lists(VALUES, min_size=1, max_size=4), min_size=1, max_size=6))
def test_a_batch_is_written_as_cell_by_cell_writes_it(batch):
    """lines() looks at each distinct value of a batch once: the CSV must be the same as
    cell() on every cell, whatever mix of types and equal values (True and 1, -1 and
    Decimal("-1"), unhashable ones) the batch holds."""
    expected = export.BOM + "\r\n" + cell_by_cell(batch)
    assert "".join(export.lines([], [batch])) == expected
    assert "".join(export.lines([], [(row for row in batch)])) == expected  # read once


# What csv.writer alone may write: text from characters that matter at a cell's start.
AS_IS = st.one_of(
    st.none(), st.integers(-10**20, 10**20), st.floats(allow_nan=True, allow_infinity=True),
    st.text(st.sampled_from(list("aZ9_é ,\"'\r\n\t=+-@\x00\x1f\x85\u00a0\u200b\ufeff\uff1d")),
            max_size=5))


@settings(max_examples=500, deadline=None, derandomize=True, database=None)
@given(st.lists(st.lists(AS_IS, min_size=1, max_size=4), min_size=1, max_size=6))
def test_a_batch_of_text_and_numbers_is_written_as_cell_by_cell_writes_it(batch):
    """The types csv.writer may write alone (export.WRITTEN_AS_IS), with every character
    a cell's start can hinge on: the CSV is the same as cell() on every cell."""
    assert "".join(export.lines([], [batch])) == export.BOM + "\r\n" + cell_by_cell(batch)


def test_text_and_numbers_that_need_nothing_are_written_as_they_are():
    """The shortcut is taken when cell() would change nothing, and leaves nothing
    written when it would: then the batch goes cell by cell."""
    def plain(batch) -> tuple[bool, str]:
        out = io.StringIO()
        return export._written_plain(csv.writer(out), out, batch), out.getvalue()
    batch = [("Kari", None, 3, 2.5, "  x", "Ola, Jr.", 'a "b"', "Line\nbreak", ""),
             ("ø", "", 0, None, "Z", "x,  y", "9", "_", "Før du går")]
    assert plain(batch) == (True, cell_by_cell(batch))
    for needs in ("-1", "=x", " =x", "\tx", "\rx", "a\x00", "\u200b=x", "＝x", -1, -0.5,
                  True, datetime(2026, 1, 1, tzinfo=timezone.utc), Decimal(1),
                  "Før du går, =1+1"):  # inside a cell, but it looks like a cell's start
        assert plain([("ok", "x"), ("ok", needs)]) == (False, ""), repr(needs)
