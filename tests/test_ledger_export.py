"""The gift ledger's CSV export: exactly the bytes it wrote when it was built from ORM
objects (every status, kind, empty and formula-like cell), newest first across batches,
and at scale, 100,000 grants streamed to the end through gunicorn's sync worker with
`--timeout 5`, SQLite and PostgreSQL alike."""
from __future__ import annotations

import csv
import io
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from widget.core import db
from widget.dashboard import ledger as dashboard_ledger
from widget.dashboard.gift_forms import STATE_WORDS
from widget.gifts import ledger
from widget.models import Coupon, Gift, Grant, Subscriber, Widget

from .helpers.http import HttpClient
from .helpers.serving import app_env, serving
from .helpers.smtp import free_port
from .helpers.exports import N, START, last_line, read_streamed

HEADER = ("email,name,given_at,widget,status,downloads,last_download_at,code,rating,"
          "comment")
# What the export wrote, from ORM objects, before it was built from Core rows.
LINK_ROWS = [  # newest first
    ',,2026-03-06T05:06:07Z,,Active,1,,,,',
    'p4@example.com,\'-1,2026-03-05T05:06:07Z,"Før du går, =1+1",'
    'All downloads used,5,2026-03-06T05:06:07Z,,,',
    'p3@example.com,"Ola, Jr.",2026-03-04T05:06:07Z,"Før du går, =1+1",Expired,1,,,1,',
    'p2@example.com,"\'=HYPERLINK(""x"")",2026-03-03T05:06:07Z,"Før du går, =1+1",'
    "Waiting for confirmation,0,,,,'@SUM(1)",
    'p1@example.com,,2026-03-02T05:06:07Z,,Withdrawn,0,,,,',
    'p0@example.com,Kari 🍞,2026-03-01T05:06:07Z,"Før du går, =1+1",'
    'Active,1,2026-03-02T05:06:07Z,,5,"Lovely,\nthanks 😀"',
]
COUPON_ROWS = [  # newest first
    'p7@example.com,"Line\nbreak",2026-03-09T05:06:07Z,"Før du går, =1+1",Withdrawn,,,,,',
    'p6@example.com,Tab\tbed,2026-03-08T05:06:07Z,"Før du går, =1+1",'
    "Active,,,'=cmd|' /C calc'!A0,,'+ more",
    'p5@example.com,"Ann ""Q""",2026-03-07T05:06:07Z,"Før du går, =1+1",Active,,,SAVE-10,,',
]
PAST = datetime(2001, 1, 1, tzinfo=timezone.utc)
FUTURE = datetime(2100, 1, 1, tzinfo=timezone.utc)


def moment(day: int, micro: int = 0) -> datetime:
    return datetime(2026, 3, day, 5, 6, 7, micro, tzinfo=timezone.utc)


def seed_small(query, site: str) -> dict[str, str]:
    """Two gifts, a link (downloads counted, links expire) and a coupon, with grants in
    every state: {kind: gift id}."""
    def run(s):
        link = Gift(site_id=site, kind="link", title="Checklist", url="https://blog.example/c")
        coupon = Gift(site_id=site, kind="coupon", title="10 % off")
        widget = Widget(site_id=site, name="Før du går, =1+1", kind="gift", layout="inline",
                        triggers=[])
        s.add_all([link, coupon, widget])
        s.flush()
        people = [Subscriber(site_id=site, email=f"p{i}@example.com",
                             email_normalized=f"p{i}@example.com", name=name,
                             status="confirmed")
                  for i, name in enumerate(["Kari 🍞", None, "=HYPERLINK(\"x\")", "Ola, Jr.",
                                            "-1", "Ann \"Q\"", "Tab\tbed", "Line\nbreak"])]
        s.add_all(people)
        s.flush()

        def grant(gift, person, day, **attrs):
            values = dict(site_id=site, gift_id=gift.id, nonce=f"n{day}",
                          subscriber_id=person.id if person else None,
                          created_at=moment(day, day * 111), released_at=moment(day),
                          expires_at=FUTURE, valid_days=7, download_limit=5, downloads=1,
                          widget_id=widget.id)
            values.update(attrs)
            row = Grant(**values)
            s.add(row)
            s.flush()
            return row

        grant(link, people[0], 1, last_download_at=moment(2, 5), rating=5,
              comment="Lovely,\nthanks 😀")
        grant(link, people[1], 2, revoked_at=moment(3), downloads=0, widget_id=None)
        grant(link, people[2], 3, released_at=None, downloads=0, comment="@SUM(1)")
        grant(link, people[3], 4, expires_at=PAST, rating=1)
        grant(link, people[4], 5, downloads=5, last_download_at=moment(6))
        grant(link, None, 6, widget_id=None)  # gift-first, the person not known yet
        first = grant(coupon, people[5], 7, expires_at=PAST, downloads=9)
        second = grant(coupon, people[6], 8, comment="+ more")
        grant(coupon, people[7], 9, revoked_at=moment(10))
        s.add_all([Coupon(gift_id=coupon.id, code="SAVE-10", grant_id=first.id,
                          given_at=moment(7)),
                   Coupon(gift_id=coupon.id, code="=cmd|' /C calc'!A0", grant_id=second.id,
                          given_at=moment(8)),
                   Coupon(gift_id=coupon.id, code="FREE", grant_id=None)])
        s.commit()
        return {"link": link.id, "coupon": coupon.id}
    return query(run)


def test_the_csv_is_the_bytes_it_always_was(ann, make_site, query):
    site = make_site("ann@example.com")
    gifts = seed_small(query, site)
    for kind, rows in (("link", LINK_ROWS), ("coupon", COUPON_ROWS)):
        resp = ann.get(f"/dashboard/sites/{site}/gifts/{gifts[kind]}/ledger.csv")
        assert resp.status_code == 200
        assert resp.content == ("\ufeff" + "\r\n".join([HEADER, *rows, ""])).encode(), kind


@pytest.mark.parametrize("hold", [ledger.HOLD_SECONDS, 0])
def test_small_batches_write_the_same_rows(ann, make_site, query, monkeypatch, hold):
    """Two rows a batch, from one read, or (hold 0) from a new read for each batch,
    each seeking to where the last one ended."""
    site = make_site("ann@example.com")
    gifts = seed_small(query, site)
    monkeypatch.setattr(dashboard_ledger, "CSV_BATCH", 2)
    monkeypatch.setattr(ledger, "HOLD_SECONDS", hold)
    for kind, rows in (("link", LINK_ROWS), ("coupon", COUPON_ROWS)):
        resp = ann.get(f"/dashboard/sites/{site}/gifts/{gifts[kind]}/ledger.csv")
        assert resp.content == ("\ufeff" + "\r\n".join([HEADER, *rows, ""])).encode(), kind


@pytest.mark.parametrize("hold", [ledger.HOLD_SECONDS, 0])
def test_writes_go_on_while_an_export_reads(app, database_url, make_site, query, monkeypatch,
                                            hold):
    """An export's open read blocks no writer (SQLite in WAL mode: readers never do; on
    PostgreSQL a reader takes no row lock): with the first batch taken and the read still
    open, another connection changes every grant of the gift and commits within a second.
    The export goes on from its own snapshot; after HOLD_SECONDS (here 0) a new read
    starts for each batch, and the later rows show the change."""
    monkeypatch.setattr(ledger, "HOLD_SECONDS", hold)
    site = make_site("ann@example.com")
    gift = seed_small(query, site)["link"]
    sqlite = database_url.startswith("sqlite")
    writer = create_engine(database_url, **({"connect_args": {"timeout": 1}} if sqlite else {}))
    with app.app_context():
        batches = ledger.export_batches(db.session(), gift, expiring=True, words=STATE_WORDS,
                                        size=2)
        first = next(batches)
        began = time.perf_counter()
        with writer.begin() as conn:
            if not sqlite:
                conn.execute(text("SET LOCAL lock_timeout = '1s'"))
            conn.execute(text("UPDATE gift_grants SET comment = 'changed' WHERE gift_id = :g"),
                         {"g": gift})
        took = time.perf_counter() - began
        rest = [row for batch in batches for row in batch]
    writer.dispose()
    assert took < 1, f"the write waited {took:.1f}s for the export's read"
    comment = ledger.EXPORT_COLUMNS.index("comment")
    assert [row[comment] for row in first] == [None, None]
    assert [row[comment] for row in rest] == (
        [None, "@SUM(1)", None, "Lovely,\nthanks 😀"] if hold else ["changed"] * 4)



def test_an_export_left_midway_ends_its_read(app, database_url, make_site, query):
    """A client that goes away mid-download closes the batches: the read ends (on
    PostgreSQL the rows still coming are cancelled) and the connection goes back to
    the pool, ready for the next statement."""
    site = make_site("ann@example.com")
    gift = seed_small(query, site)["link"]
    with app.app_context():
        batches = ledger.export_batches(db.session(), gift, expiring=True, words=STATE_WORDS,
                                        size=2)
        assert len(next(batches)) == 2
        assert db.engine().pool.checkedout() == 1
        batches.close()
        assert db.engine().pool.checkedout() == 0
        assert db.session().scalar(text("SELECT count(*) FROM gift_grants")) == 9

# 100,000 grants through gunicorn ------------------------------------------------------

def seed_grants(database_url: str, site: str, gift: str, widget: str) -> None:
    """N people (person i has id i, a name unless i % 7 is 0) and one grant of `gift`
    each, made by the database itself: given i seconds after START, through `widget`
    when i % 3 is 0, waiting for confirmation when i % 10 is 0, expired when i % 7 is
    0, i % 6 downloads (5 of 5: all used), rated i % 5 + 1 with a comment when i is
    even."""
    engine = create_engine(database_url)
    sqlite = engine.dialect.name == "sqlite"
    # As each stores a time: SQLAlchemy's text in SQLite, timestamptz in PostgreSQL.
    moment = ("strftime('%Y-%m-%d %H:%M:%S', :start, '+' || i || ' seconds') || '.000000'"
              if sqlite else "CAST(:start AS timestamptz) + i * INTERVAL '1 second'")
    times = ({"start": START.strftime("%Y-%m-%d %H:%M:%S"),
              "past": "2001-01-01 00:00:00.000000", "future": "2100-01-01 00:00:00.000000"}
             if sqlite else {"start": START, "past": PAST, "future": FUTURE})
    with engine.begin() as conn:
        conn.execute(text(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < :n) "
            "INSERT INTO subscribers (id, site_id, email, email_normalized, name, status, lang, "
            "created_at, updated_at, status_at, ref_count, ref_visits, share_clicks) "
            "SELECT i, :site, 'person' || i || '@example.com', 'person' || i || '@example.com', "
            "CASE WHEN i % 7 = 0 THEN NULL ELSE 'Kari Nordmann ' || i END, 'confirmed', 'nb', "
            f"{moment}, {moment}, {moment}, 0, 0, 0 FROM n"),
            {"n": N, "site": site, **times})
        conn.execute(text(
            "INSERT INTO gift_grants (site_id, gift_id, subscriber_id, widget_id, nonce, "
            "created_at, released_at, expires_at, valid_days, download_limit, downloads, "
            "last_download_at, rating, comment) "
            "SELECT site_id, :gift, id, CASE WHEN id % 3 = 0 THEN :widget END, 'n' || id, "
            "created_at, CASE WHEN id % 10 = 0 THEN NULL ELSE created_at END, "
            "CASE WHEN id % 7 = 0 THEN :past ELSE :future END, 7, 5, id % 6, "
            "CASE WHEN id % 6 > 0 THEN created_at END, "
            "CASE WHEN id % 2 = 0 THEN id % 5 + 1 END, "
            "CASE WHEN id % 2 = 0 THEN 'Thanks, ' || id END "
            "FROM subscribers WHERE site_id = :site"),
            {"site": site, "gift": gift, "widget": widget, **times})
    if not sqlite:
        # Statistics, as autovacuum gathers them within a minute of a bulk load: without
        # any, PostgreSQL guesses a handful of grants and sorts them all for each batch.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("ANALYZE gift_grants, subscribers"))
    engine.dispose()


@contextmanager
def gunicorn_sync(database_url: str, tmp: Path, timeout: int):
    """The app under gunicorn, one sync worker killed after `timeout` seconds without
    checking in (it checks in only between requests): (base URL, the log's path)."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = app_env(database_url, tmp / "served", base, WIDGET_RATE_LIMITS="off",
                  XDG_RUNTIME_DIR=str(tmp))  # gunicorn's control socket: one each
    log_path = tmp / "gunicorn.log"
    with serving(["gunicorn", "widget:create_app()", "--workers", "1", "--worker-class",
                  "sync", "--timeout", str(timeout), "--bind", f"127.0.0.1:{port}"],
                 env, base, log_path):
        yield base, log_path


@pytest.mark.xdist_group("export_memory")  # with the other 100,000-row tests, one at a time
def test_100000_grants_stream_to_the_end_through_a_sync_worker(app, database_url, make_site,
                                                               query, tmp_path):
    site = make_site("ann@example.com")

    def gift_and_widget(s):
        gift = Gift(site_id=site, kind="link", title="Checklist", url="https://blog.example/c")
        s.add(gift)
        s.flush()
        widget = Widget(site_id=site, name="Before you go", kind="gift", layout="inline",
                        triggers=[], gift_id=gift.id)
        s.add(widget)
        s.commit()
        return gift.id, widget.id
    gift, widget = query(gift_and_widget)
    seed_grants(database_url, site, gift, widget)

    with gunicorn_sync(database_url, tmp_path, timeout=5) as (base, log):
        owner = HttpClient(base)
        assert owner.login("ann@example.com").status_code == 302
        began = time.perf_counter()
        lines, head, tail = read_streamed(
            owner, f"/dashboard/sites/{site}/gifts/{gift}/ledger.csv")
        took = time.perf_counter() - began
        assert "WORKER TIMEOUT" not in log.read_text()
    assert lines == N + 1, f"{lines - 1} rows of {N} in {took:.1f}s"  # and the header
    print(f"ledger.csv: {N:,} rows in {took:.2f}s ({N / took:,.0f} rows/s)")
    rows = list(csv.reader(io.StringIO(head.decode("utf-8-sig").rsplit("\n", 1)[0])))
    assert rows[0] == list(ledger.EXPORT_COLUMNS)
    newest = dict(zip(ledger.EXPORT_COLUMNS, rows[1]))  # person N: waiting, rated
    assert newest == {
        "email": f"person{N}@example.com", "name": f"Kari Nordmann {N}",
        "given_at": "2026-01-02T03:46:40Z", "widget": "", "status": "Waiting for confirmation",
        "downloads": "4", "last_download_at": "2026-01-02T03:46:40Z", "code": "",
        "rating": "1", "comment": f"Thanks, {N}"}
    oldest = dict(zip(ledger.EXPORT_COLUMNS, next(csv.reader([last_line(tail)]))))
    assert (oldest["email"], oldest["status"], oldest["downloads"], oldest["rating"]) == (
        "person1@example.com", "Active", "1", "")
    assert oldest["given_at"] == "2026-01-01T00:00:01Z" == oldest["last_download_at"]
