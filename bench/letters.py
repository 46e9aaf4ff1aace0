"""How fast one outbox worker sends a letter of new posts to a large list.

One run seeds a throw-away instance (SQLite in a temp folder; with --database-url also a
throw-away database on that PostgreSQL server) with --count confirmed readers (100,000 by
default, in four languages) and a feed with one new post, then times
`python -m widget worker --once` doing all of it: the post taken into a letter, the
readers queued in batches (the pace lifted for the benchmark), each letter rendered in
the reader's language and sent over the worker's pooled SMTP sessions to a counting
aiosmtpd sink in a separate process, which keeps what it got. In the same run a plain
smtplib loop sends those very bytes (envelopes included) over ONE connection to a fresh
sink: the ceiling for this sink, client and machine. The target is worker/smtplib >= 0.6
(issue 18). Only the ratios say much: worker, sink and client share the cores.
"""
from __future__ import annotations

import argparse
import importlib.util
import pickle
import shutil
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
TARGET = 0.6
_spec = importlib.util.spec_from_file_location("bench_mail", BENCH / "mail.py")
mailbench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(mailbench)  # the sink, the instance, the smtplib loop
BenchError = mailbench.BenchError
LANGS = ("en", "nb", "de", "nl")
SUMMARY = ("<p>We walked the <strong>Reinebringen</strong> stairs at dawn &amp; counted "
           "1,978 steps. Here is what to pack, when to go, and where to eat after. 🏔️</p>"
           '<p><img src="https://blog.example/img/reine.jpg" alt="Reine from above"></p>')


def seed(inst, n: int) -> None:
    """`n` confirmed readers (each with a share code), a feed read once, one new post."""
    from sqlalchemy import insert

    from widget.core import db
    from widget.letters import feeds
    from widget.models import Feed, FeedItem, Subscriber, utcnow

    with inst.app.app_context():
        session = db.session()
        now = utcnow()
        for first in range(0, n, 10_000):
            session.execute(insert(Subscriber), [
                {"site_id": inst.site_id, "email": f"reader{i}@example.com",
                 "email_normalized": f"reader{i}@example.com", "status": "confirmed",
                 "status_at": now, "lang": LANGS[i % 4], "ref_code": f"bench{i:08d}",
                 "ref_count": 0, "ref_visits": 0, "share_clicks": 0, "created_at": now,
                 "updated_at": now} for i in range(first, min(n, first + 10_000))])
        feed = feeds.set_feed(session, inst.site_id, "https://blog.example/feed")
        session.flush()
        session.query(Feed).filter_by(id=feed.id).update({"primed_at": now, "polled_at": now})
        session.add(FeedItem(feed_id=feed.id, key="0" * 64, title="Reinebringen at dawn",
                             link="https://blog.example/reinebringen", summary=SUMMARY,
                             published_at=now, seen_at=now, at_first_poll=False))
        session.commit()


def outcome(inst) -> dict:
    from sqlalchemy import func, select

    from widget.core import db
    from widget.models import Letter, OutboxMessage as OB

    with inst.app.app_context():
        session = db.session()
        rows = session.execute(select(OB.status, func.count()).where(OB.kind == "letter")
                               .group_by(OB.status)).all()
        letters = session.execute(select(Letter.status, Letter.queued)).all()
    return {"rows": dict(rows), "letters": [tuple(x) for x in letters]}


def replay(saved: Path) -> list[tuple[str, str, bytes]]:
    out = []
    with saved.open("rb") as f:
        while True:
            try:
                out.append(pickle.load(f))
            except EOFError:
                return out


def bench_database(label: str, tmp: Path, database_url: str | None, n: int) -> dict:
    print(f"  {label}: seeding {n:,} readers", flush=True)
    tmp.mkdir(parents=True)
    inst = mailbench.Instance(tmp, database_url)
    inst.env["WIDGET_LETTERS_PER_HOUR"] = str(10 ** 9)  # the pace is not what is measured
    try:
        base = mailbench.startup(inst)
        seed(inst, n)
        saved = tmp / "sent.pickle"
        sink = mailbench.Sink(save=saved)
        print(f"  {label}: the worker sends the letter ...", flush=True)
        try:
            took, output = inst.worker(sink.port)
        finally:
            counts = sink.stop()
        got = outcome(inst)
        if got != {"rows": {"sent": n}, "letters": [("sent", n)]}:
            raise BenchError(f"not every reader's letter was sent: {got}\n{output[-3000:]}")
        if "Traceback" in output:
            raise BenchError(f"the worker logged an error:\n{output[-3000:]}")
        mailbench.check_sink(counts, n, "the worker")
        messages = replay(saved)
        print(f"  {label}: the same bytes by smtplib ...", flush=True)
        sink = mailbench.Sink()
        try:
            plain = mailbench.smtplib_loop(sink.port, messages)
        finally:
            again = sink.stop()
        mailbench.check_sink(again, n, "smtplib")
    finally:
        inst.close()
    net = took - base
    return {"startup_s": base, "worker_s": took, "worker_per_s": n / net,
            "smtplib_s": plain, "smtplib_per_s": n / plain, "ratio": plain / net,
            "message_bytes": counts["bytes"] / n}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--count", type=int, default=100_000, help="readers (100,000)")
    p.add_argument("--database-url", metavar="URL",
                   help="also run on PostgreSQL: a throw-away database is created on this "
                        "server and dropped after")
    p.add_argument("--no-sqlite", action="store_true", help="with --database-url, skip SQLite")
    args = p.parse_args()
    try:
        import aiosmtpd  # noqa: F401
    except ImportError:
        print("error: aiosmtpd is missing (pip install aiosmtpd, or '.[test]')", file=sys.stderr)
        return 1
    tmp = Path(tempfile.mkdtemp(prefix="widget-letterbench-"))
    started = time.perf_counter()
    try:
        print("letters benchmark: one outbox worker sends a letter to every reader", flush=True)
        figures = {}
        if not args.no_sqlite:
            figures["sqlite"] = bench_database("sqlite", tmp / "sqlite", None, args.count)
        if args.database_url:
            figures["postgresql"] = bench_database("postgresql", tmp / "pg",
                                                   args.database_url, args.count)
        print(f"\none letter to {args.count:,} readers; the worker's rate is net of its "
              "start-up (the same command with nothing due)")
        print(f"{'database':<12}{'worker/s':>10}{'smtplib/s':>11}{'ratio':>8}{'bytes':>8}  target")
        for name, r in figures.items():
            verdict = "ok" if r["ratio"] >= TARGET else "MISS"
            print(f"{name:<12}{r['worker_per_s']:>10.0f}{r['smtplib_per_s']:>11.0f}"
                  f"{r['ratio']:>8.0%}{r['message_bytes']:>8.0f}  >= {TARGET:.0%}: {verdict}")
        print(f"\ntook {time.perf_counter() - started:.0f} s")
        return 0
    except BenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
