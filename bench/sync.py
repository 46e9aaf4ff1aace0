"""How many webhook deliveries per second one outbox worker makes to a local receiver.

One run seeds a throw-away instance (SQLite in a temp folder; with --database-url also a
throw-away database on that PostgreSQL server) with a site and one webhook, emits N
events through core/events.emit (a transaction per batch, as the change sites write
them, each about its own contact), and times `python -m widget worker --once`
delivering them: claim, lease, the secret opened, the body signed (Standard Webhooks),
POSTed through core/outbound's guarded session, the answer recorded. The receiver is a
threaded HTTP/1.1 server in a separate process that counts requests and distinct
webhook-ids. In the same run a plain `requests` loop (one Session, keep-alive) POSTs the
very same bodies to a fresh receiver of the same kind. The ratio of the two rates is the
figure (target: the worker at least half the plain loop); absolute rates say little,
since worker, receiver and client share the cores.
"""
from __future__ import annotations

import argparse
import json
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))  # mail.py's instance and helpers, wherever this starts
from mail import BenchError, Instance, free_port  # noqa: E402

BATCH = 500  # events a transaction when emitting
ANSWER = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: text/plain\r\n\r\nok"


# --- the receiver, run as `python bench/sync.py --receiver PORT` in its own process -----

def receiver_main(port: int) -> None:
    """Answer every POST with 200 and count it until SIGTERM; then print the counts."""
    counts = {"requests": 0, "bytes": 0, "ids": set(), "first": None, "last": None}
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as real endpoints answer

        def setup(self):
            super().setup()
            # The answer goes out at once: without this, Nagle's algorithm holds a second
            # small write until the client's delayed ACK, 40 ms a request on loopback.
            self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def do_POST(self):  # noqa: N802 (http.server's name)
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            with lock:
                counts["first"] = counts["first"] or time.monotonic()
                counts["last"] = time.monotonic()
                counts["requests"] += 1
                counts["bytes"] += len(body)
                counts["ids"].add(self.headers.get("webhook-id") or json.loads(body)["id"])
            self.wfile.write(ANSWER)  # status, headers and body in one write

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    print("ready", flush=True)
    server.serve_forever(poll_interval=0.2)
    print(json.dumps({"requests": counts["requests"], "bytes": counts["bytes"],
                      "ids": len(counts["ids"]),
                      "seconds": (counts["last"] or 0) - (counts["first"] or 0)}), flush=True)


class Receiver:
    """A counting HTTP receiver in a separate process; `stop()` returns its counts."""

    def __init__(self):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/hooks/bench"
        self.proc = subprocess.Popen([sys.executable, __file__, "--receiver", str(self.port)],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if self.proc.stdout.readline().strip() != "ready":
            self.proc.kill()
            raise BenchError(f"the receiver did not start:\n{self.proc.stderr.read()}")

    def stop(self) -> dict:
        self.proc.send_signal(signal.SIGTERM)
        out, err = self.proc.communicate(timeout=30)
        try:
            return json.loads(out.strip().splitlines()[-1])
        except (ValueError, IndexError):
            raise BenchError(f"the receiver gave no counts:\n{out}{err}") from None


# --- the instance: a site with one webhook, and its events ------------------------------

class Hooked(Instance):
    """mail.py's instance with private targets allowed (the receiver is on loopback)."""

    def __init__(self, tmp: Path, database_url: str | None):
        super().__init__(tmp, database_url)
        self.env["WIDGET_WEBHOOK_ALLOW_PRIVATE"] = "on"
        self.hooks = 0

    def point_to(self, url: str) -> None:
        """One enabled webhook, to `url`, taking every event type (earlier ones deleted)."""
        from widget.core import db
        from widget.sync import webhooks

        with self.app.app_context():
            session = db.session()
            for hook in webhooks.listed(session, self.site_id):
                webhooks.delete(session, hook)
            webhooks.create(session, self.site_id, url, None)

    def emit(self, n: int) -> list[int]:
        """`n` contact.created events, each about its own contact, as the sign-up path
        writes them; the ids of their deliveries."""
        from sqlalchemy import select

        from widget.core import db, events
        from widget.core.rawsql import Tx
        from widget.models import OutboxMessage as OB

        self.batches += 1
        with self.app.app_context():
            session = db.session()
            first = session.scalar(select(OB.id).order_by(OB.id.desc()).limit(1)) or 0
            for start in range(0, n, BATCH):
                tx = Tx.on_session(session)
                for i in range(start, min(n, start + BATCH)):
                    contact = self.batches * 10_000_000 + i
                    events.emit(tx, self.site_id, "contact.created", {"contact": {
                        "id": contact, "email": f"reader{contact}@example.com", "name": "Reader",
                        "status": "pending", "lang": "en", "tags": ["bench"],
                        "created_at": "2026-12-01T09:30:00Z"}}, contact)
                session.commit()
            return list(session.scalars(select(OB.id).where(OB.id > first, OB.kind == "webhook")
                                        .order_by(OB.id)))

    def bodies(self, ids: list[int]) -> list[bytes]:
        """The signed bodies of these deliveries, for the plain loop."""
        from sqlalchemy import select

        from widget.core import db
        from widget.models import Event, OutboxMessage as OB

        with self.app.app_context():
            return [p.encode() for p in db.session().scalars(
                select(Event.payload).join(OB, OB.event_id == Event.id).where(OB.id.in_(ids))
                .order_by(OB.id))]


def requests_loop(url: str, bodies: list[bytes]) -> None:
    """POST each body in turn on one keep-alive Session."""
    import requests

    with requests.Session() as http:
        for body in bodies:
            resp = http.post(url, data=body, headers={"Content-Type": "application/json"},
                             timeout=10)
            if resp.status_code != 200:
                raise BenchError(f"the receiver answered {resp.status_code} to the loop")


def check(counts: dict, n: int, what: str) -> None:
    if counts["requests"] != n or counts["ids"] != n or counts["seconds"] <= 0:
        raise BenchError(f"the receiver got {counts} from {what}, not {n} requests with "
                         f"{n} ids")


def one_round(inst: Hooked, n: int) -> dict:
    """The worker delivering n events; the same bodies by a plain requests loop. Each
    path's time is the receiver's, from its first request to its last, so the worker's
    start-up (interpreter, imports, app) is not in it; the command's whole run is kept
    as the gross figure."""
    receiver = Receiver()
    try:
        inst.point_to(receiver.url)
        ids = inst.emit(n)
        gross, output = inst.worker(None)
    finally:
        worker = receiver.stop()
    if inst.outcome(ids) != {"sent/None": n}:
        raise BenchError(f"not every event was delivered: {inst.outcome(ids)}\n"
                         f"{output[-3000:]}")
    check(worker, n, "the worker")
    bodies = inst.bodies(ids)
    receiver = Receiver()
    try:
        requests_loop(receiver.url, bodies)
    finally:
        loop = receiver.stop()
    check(loop, n, "the requests loop")
    return {"worker": worker["seconds"], "worker_gross": gross, "requests": loop["seconds"],
            "body_bytes": sum(map(len, bodies)) / n}


def bench_database(label: str, tmp: Path, database_url: str | None, args) -> dict:
    print(f"  {label}: seeding", flush=True)
    inst = Hooked(tmp, database_url)
    try:
        rounds = []
        for i in range(args.rounds):
            print(f"  {label}: round {i + 1}/{args.rounds}, {args.count} events ...", flush=True)
            rounds.append(one_round(inst, args.count))
    finally:
        inst.close()
    n = args.count
    ratios = [round(r["requests"] / r["worker"], 3) for r in rounds]
    return {"rounds": rounds, "ratios": ratios, "ratio": statistics.median(ratios),
            "worker_per_s": statistics.median(n / r["worker"] for r in rounds),
            "worker_per_s_gross": statistics.median(n / r["worker_gross"] for r in rounds),
            "requests_per_s": statistics.median(n / r["requests"] for r in rounds),
            "body_bytes": statistics.median(r["body_bytes"] for r in rounds)}


def report(figures: dict, n: int) -> None:
    print(f"\n{n} events per path and round, one webhook; medians over the rounds. Rates "
          "are the receiver's (first request to last); 'gross' is the whole `widget worker "
          "--once` run, start-up included")
    print(f"{'database':<11}{'path':<46}{'/s':>8}{'ms each':>9}{'gross/s':>9}{'ratio':>8}")
    for name, r in figures.items():
        for label, rate, gross, ratio in (
                ("widget worker --once -> receiver", r["worker_per_s"],
                 f"{r['worker_per_s_gross']:.0f}", f"{r['ratio']:.2f}x"),
                ("plain requests loop, same bodies, keep-alive", r["requests_per_s"], "",
                 "1.00x")):
            print(f"{name:<11}{label:<46}{rate:>8.0f}{1000 / rate:>9.2f}{gross:>9}{ratio:>8}")
        print(f"{'':<11}body {r['body_bytes']:.0f} B; worker/loop per round: "
              f"{' '.join(f'{x:.2f}x' for x in r['ratios'])} "
              f"(target >= 0.50x: {'ok' if r['ratio'] >= 0.5 else 'MISS'})")


def parse_args():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--count", type=int, default=2000, help="events per path and round (2000)")
    p.add_argument("--rounds", type=int, default=1, help="rounds per database; medians (1)")
    p.add_argument("--database-url", metavar="URL",
                   help="also run on PostgreSQL: a throw-away database is created on this "
                        "server (the URL's database is only used to connect) and dropped after")
    p.add_argument("--no-sqlite", action="store_true",
                   help="with --database-url, skip the SQLite run")
    p.add_argument("--json", metavar="FILE", help="also write the figures to FILE as JSON")
    p.add_argument("--receiver", type=int, metavar="PORT", help=argparse.SUPPRESS)
    return p.parse_args()


def main() -> int:
    args = parse_args()
    if args.receiver:
        receiver_main(args.receiver)
        return 0
    tmp = Path(tempfile.mkdtemp(prefix="widget-syncbench-"))
    started = time.perf_counter()
    try:
        print("webhook benchmark: one outbox worker against a local receiver", flush=True)
        figures = {}
        if not args.no_sqlite:
            figures["sqlite"] = bench_database("sqlite", tmp / "sqlite", None, args)
        if args.database_url:
            figures["postgresql"] = bench_database("postgresql", tmp / "pg", args.database_url,
                                                   args)
        report(figures, args.count)
        print(f"\ntook {time.perf_counter() - started:.0f} s")
        if args.json:
            Path(args.json).write_text(json.dumps(figures, indent=2) + "\n")
        return 0
    except BenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
