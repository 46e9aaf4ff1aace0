"""How many e-mails per second one outbox worker sends to a local SMTP server.

One run seeds a throw-away instance (SQLite in a temp folder; with --database-url also a
throw-away database on that PostgreSQL server), queues confirmation e-mails straight into
the outbox, and times `python -m widget worker --once` draining them into a counting
aiosmtpd sink running in a separate process. In the same run it times a plain smtplib
loop sending the very same bytes over ONE connection (EHLO once, then MAIL, RCPT, DATA
per message) to the same kind of sink, the same bytes through core/smtp.Session alone (one
session per 100, as the worker keeps one per claimed batch), and the worker on the dev
outbox (no SMTP URL), then prints a table. The target is worker/smtplib >= 0.6 on SQLite
and on PostgreSQL; the dev outbox's ratio is the most any SMTP change could reach. Only
the ratios say much: worker, sink and client share the cores.
"""
from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import smtplib
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from email import message_from_string
from email.policy import SMTP
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
BASE_URL = "http://127.0.0.1:9"  # the links in the e-mails; nothing listens there
TARGET = 0.6  # worker/smtplib, issue 15


class BenchError(Exception):
    """Something broke: the run's figures can't be trusted, so the exit code is non-zero."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- the SMTP sink, run as `python bench/mail.py --sink PORT` in its own process ---------

def sink_main(port: int, save: str | None = None) -> None:
    """Accept and count messages until SIGTERM, then print the counts as JSON; `save`:
    also append each message's envelope and bytes to that file (pickled), for a replay."""
    import pickle

    from aiosmtpd.controller import Controller

    kept = open(save, "ab") if save else None

    class Count:
        def __init__(self):
            self.messages, self.bytes, self.recipients = 0, 0, set()

        async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
            self.messages += 1
            content = envelope.original_content or envelope.content
            self.bytes += len(content)
            self.recipients.update(envelope.rcpt_tos)
            if kept:
                pickle.dump((envelope.mail_from, envelope.rcpt_tos[0], content), kept)
            return "250 OK"

    handler = Count()
    # server_hostname: otherwise each connection's greeting looks up socket.getfqdn()
    controller = Controller(handler, hostname="127.0.0.1", port=port,
                            server_hostname="sink.bench")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    controller.start()
    print("ready", flush=True)
    while not stop.wait(0.2):
        pass
    controller.stop()
    if kept:
        kept.close()
    print(json.dumps({"messages": handler.messages, "bytes": handler.bytes,
                      "recipients": len(handler.recipients)}), flush=True)


class Sink:
    """A counting SMTP server in a separate process; `stop()` returns its counts."""

    def __init__(self, save: Path | None = None):
        self.port = free_port()
        more = ["--save", str(save)] if save else []
        self.proc = subprocess.Popen([sys.executable, __file__, "--sink", str(self.port), *more],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if self.proc.stdout.readline().strip() != "ready":
            self.proc.kill()
            raise BenchError(f"the SMTP sink did not start:\n{self.proc.stderr.read()}")

    def stop(self) -> dict:
        self.proc.send_signal(signal.SIGTERM)
        out, err = self.proc.communicate(timeout=30)
        try:
            return json.loads(out.strip().splitlines()[-1])
        except (ValueError, IndexError):
            raise BenchError(f"the SMTP sink gave no counts:\n{out}{err}") from None

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


# --- the instance and its outbox ----------------------------------------------------------

class Instance:
    """A migrated, seeded database with one owner and one (double opt-in) site."""

    def __init__(self, tmp: Path, database_url: str | None):
        self.tmp, self.pg_admin_url, self.pg_name = tmp, None, None
        if database_url:
            database_url = self._create_pg_database(database_url)
        self.env = {k: v for k, v in os.environ.items()
                    if not k.startswith("WIDGET_") and k != "DATABASE_URL"}
        self.env.update(WIDGET_INSTANCE_PATH=str(tmp / "instance"), WIDGET_BASE_URL=BASE_URL,
                        WIDGET_WORKER="off", WIDGET_RATE_LIMITS="off")
        if database_url:
            self.env["DATABASE_URL"] = database_url
        os.environ.clear()
        os.environ.update(self.env)  # config.load() reads the environment
        sys.path.insert(0, str(ROOT))
        from widget import create_app
        from widget.core import db
        from widget.core.migrate import upgrade
        from widget.sites import accounts

        self.app = create_app()
        with self.app.app_context():
            self.engine = db.engine()
            self.dialect = self.engine.dialect.name
            upgrade(self.engine)
            owner = accounts.create_owner(db.session(), "bench@example.com",
                                          "bench-password-123")
            site = accounts.create_site(db.session(), owner, "Bench blog", [BASE_URL])
            if not site.double_opt_in:
                raise BenchError("the seeded site is not double opt-in")
            self.site_id = site.id
        self.batches = 0

    def _create_pg_database(self, url: str) -> str:
        """A fresh database on the server of `url`, dropped at the end; its URL."""
        from sqlalchemy import create_engine, text
        from sqlalchemy.engine import make_url

        self.pg_admin_url = url
        self.pg_name = f"widget_mailbench_{secrets.token_hex(4)}"
        admin = create_engine(url, isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{self.pg_name}"'))
        except Exception as exc:
            raise BenchError(f"could not create a throw-away database on {url} "
                             f"(needs CREATEDB): {exc}") from None
        finally:
            admin.dispose()
        return make_url(url).set(database=self.pg_name).render_as_string(hide_password=False)

    def close(self) -> None:
        from sqlalchemy import create_engine, text

        self.engine.dispose()
        if self.pg_name:
            admin = create_engine(self.pg_admin_url, isolation_level="AUTOCOMMIT")
            try:
                with admin.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{self.pg_name}" WITH (FORCE)'))
            finally:
                admin.dispose()

    def queue(self, n: int) -> list[int]:
        """Queue `n` confirmations to `n` new pending subscribers in one transaction, as
        sign-ups leave them; their outbox ids."""
        from sqlalchemy import insert

        from widget.core import db, outbox
        from widget.models import OutboxMessage, Subscriber, utcnow

        self.batches += 1
        with self.app.app_context():
            session = db.session()
            now = utcnow()
            emails = [f"reader{self.batches}-{i}@example.com" for i in range(n)]
            people = [Subscriber(site_id=self.site_id, email=e, email_normalized=e,
                                 status="pending", status_at=now, confirm_sent_at=now, lang="en")
                      for e in emails]
            session.add_all(people)
            session.flush()
            rows = [outbox.new_row("confirm", outbox.recipient(p), self.app.config["MAIL_FROM"])
                    for p in people]
            ids = session.scalars(insert(OutboxMessage).returning(OutboxMessage.id,
                                                                  sort_by_parameter_order=True),
                                  rows).all()
            session.commit()
        return list(ids)

    def outcome(self, ids: list[int]) -> dict:
        """How many of these messages ended in which status, by transport."""
        from sqlalchemy import func, select

        from widget.core import db
        from widget.models import OutboxMessage as OB

        with self.app.app_context():
            rows = db.session().execute(
                select(OB.status, OB.transport, func.count()).where(OB.id.in_(ids))
                .group_by(OB.status, OB.transport)).all()
        return {f"{status}/{transport}": count for status, transport, count in rows}

    def raw_messages(self, ids: list[int]) -> list[tuple[str, str, bytes]]:
        """The envelope (as the worker gives it: WIDGET_MAIL_FROM to the To address) and
        the bytes of messages the worker rendered, for the smtplib loop."""
        from sqlalchemy import select

        from widget.core import db
        from widget.models import OutboxMessage as OB

        with self.app.app_context():
            raws = db.session().scalars(select(OB.raw).where(OB.id.in_(ids))
                                        .order_by(OB.id)).all()
        out = []
        for raw in raws:
            parsed = message_from_string(raw, policy=SMTP)
            out.append((self.app.config["MAIL_FROM"], parsed["To"].addresses[0].addr_spec,
                        raw.encode()))
        return out

    def worker(self, smtp_port: int | None) -> tuple[float, str]:
        """Run `python -m widget worker --once`; its wall time and output."""
        env = dict(self.env)
        if smtp_port:
            env["WIDGET_SMTP_URL"] = f"smtp://127.0.0.1:{smtp_port}"
        start = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "widget", "worker", "--once"], cwd=ROOT,
                              env=env, capture_output=True, text=True, timeout=3600)
        took = time.perf_counter() - start
        output = done.stdout + done.stderr
        if done.returncode:
            raise BenchError(f"widget worker --once failed:\n{output[-3000:]}")
        return took, output


# --- the measurements ---------------------------------------------------------------------

def smtplib_loop(port: int, messages: list[tuple[str, str, bytes]]) -> float:
    """Send pre-rendered messages over ONE connection (EHLO once, then MAIL, RCPT, DATA
    for each, QUIT at the end): the ceiling for this sink, client and machine; the
    seconds it took."""
    start = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
        smtp.ehlo()
        for sender, recipient, raw in messages:
            smtp.sendmail(sender, [recipient], raw)
    return time.perf_counter() - start


def session_loop(port: int, messages: list[tuple[str, str, bytes]], batch: int) -> float:
    """Send pre-rendered messages through core/smtp.Session as the worker does, one
    session per `batch` messages: the worker's SMTP path without its database work and
    rendering; the seconds it took."""
    from widget.core import smtp

    settings = smtp.SmtpSettings.parse(f"smtp://127.0.0.1:{port}")
    start = time.perf_counter()
    for first in range(0, len(messages), batch):
        with smtp.Session(settings) as session:
            for sender, recipient, raw in messages[first:first + batch]:
                session.send(sender, recipient, raw)
    return time.perf_counter() - start


def check_sent(inst: Instance, ids: list[int], transport: str, output: str) -> None:
    got = inst.outcome(ids)
    if got != {f"sent/{transport}": len(ids)}:
        raise BenchError(f"not every message was sent by {transport}: {got}\n{output[-3000:]}")
    if "Traceback" in output:
        raise BenchError(f"the worker logged an error:\n{output[-3000:]}")


def check_sink(counts: dict, n: int, what: str) -> None:
    if counts["messages"] != n or counts["recipients"] != n:
        raise BenchError(f"the SMTP sink got {counts} from {what}, not {n} messages "
                         f"to {n} recipients")


def one_round(inst: Instance, n: int) -> dict:
    """Worker to SMTP, the same bytes by smtplib and by smtp.Session, worker to the dev
    outbox."""
    got = {}
    ids = inst.queue(n)
    sink = Sink()
    try:
        took, output = inst.worker(sink.port)
    finally:
        counts = sink.stop()
    check_sent(inst, ids, "smtp", output)
    check_sink(counts, n, "the worker")
    got["worker_smtp"] = took
    size = counts["bytes"] / n

    messages = inst.raw_messages(ids)
    sink = Sink()
    try:
        took = smtplib_loop(sink.port, messages)
    finally:
        counts = sink.stop()
    check_sink(counts, n, "smtplib")
    got["smtplib"] = took

    from widget.mail.worker import BATCH

    sink = Sink()
    try:
        took = session_loop(sink.port, messages, BATCH)
    finally:
        counts = sink.stop()
    check_sink(counts, n, "smtp.Session")
    got["session"] = took

    ids = inst.queue(n)
    took, output = inst.worker(None)
    check_sent(inst, ids, "dev", output)
    got["worker_dev"] = took
    got["message_bytes"] = size
    return got


def startup(inst: Instance) -> float:
    """Wall time of `widget worker --once` with nothing due: interpreter, imports, app,
    migration check, one empty claim. Subtracted from the worker runs."""
    return statistics.median(inst.worker(None)[0] for _ in range(3))


def bench_database(label: str, tmp: Path, database_url: str | None, args) -> dict:
    print(f"  {label}: seeding", flush=True)
    inst = Instance(tmp, database_url)
    try:
        base = startup(inst)
        rounds = []
        for i in range(args.rounds):
            print(f"  {label}: round {i + 1}/{args.rounds}, {args.count} messages per path ...",
                  flush=True)
            rounds.append(one_round(inst, args.count))
    finally:
        inst.close()
    n = args.count
    result = {"startup_s": base, "rounds": rounds,
              "message_bytes": statistics.median(r["message_bytes"] for r in rounds)}
    for path in ("worker_smtp", "worker_dev", "session", "smtplib"):
        net = [r[path] - (base if path.startswith("worker") else 0) for r in rounds]
        result[path] = {"wall_s": statistics.median(r[path] for r in rounds),
                        "per_s": statistics.median(n / t for t in net),
                        "per_s_gross": statistics.median(n / r[path] for r in rounds)}
    result["ratios"] = [round((r["smtplib"]) / (r["worker_smtp"] - base), 3) for r in rounds]
    result["ratio"] = statistics.median(result["ratios"])
    # What the worker could reach with no database work or rendering at all.
    result["dev_ratio"] = statistics.median(r["smtplib"] / (r["worker_dev"] - base)
                                            for r in rounds)
    result["session_ratio"] = statistics.median(r["smtplib"] / r["session"] for r in rounds)
    return result


def profile(tmp: Path, n: int) -> None:
    """cProfile of drain_once in this process, SQLite, SMTP sink: where a message's time goes."""
    import cProfile
    import pstats

    inst = Instance(tmp, None)
    inst.queue(n)
    sink = Sink()
    from widget.mail import worker

    inst.app.config["SMTP_URL"] = f"smtp://127.0.0.1:{sink.port}"
    prof = cProfile.Profile()
    try:
        start = time.perf_counter()
        prof.enable()
        while worker.drain_once(inst.app, "bench:profile"):
            pass
        prof.disable()
        took = time.perf_counter() - start
    finally:
        counts = sink.stop()
        inst.close()
    check_sink(counts, n, "drain_once")
    stats = pstats.Stats(prof).stats

    def cumulative(file_end: str, func: str) -> float:
        return sum(v[3] for (f, _, name), v in stats.items()
                   if name == func and f.replace("\\", "/").endswith(file_end))

    total = cumulative("widget/mail/worker.py", "drain_once")
    # The sending thread only: the e-mails are prepared (read, rendered, stored) by a
    # thread of their own and marked sent by another (mail/batch.py, core/outbox.py).
    parts = [
        ("claim (one UPDATE … RETURNING per 100)", cumulative("core/outbox.py", "claim")),
        ("waiting for the preparing thread", cumulative("mail/batch.py", "prepared")),
        ("smtp.Session.send, all of it", cumulative("core/smtp.py", "send")),
        ("  ssl.create_default_context", cumulative("/ssl.py", "create_default_context")),
        ("  smtplib connect + greeting", cumulative("/smtplib.py", "connect")),
        ("  smtplib EHLO", cumulative("/smtplib.py", "ehlo")),
        ("  smtplib MAIL/RCPT/DATA", cumulative("/smtplib.py", "sendmail")),
        ("smtp.Session.close (QUIT, once a batch)", cumulative("core/smtp.py", "close")),
        ("outbox.Lease.holds (a renewal a third of a lease)",
         cumulative("core/outbox.py", "holds")),
        ("handing the sent ones to the finisher", cumulative("core/outbox.py", "sent")),
        ("waiting for the finisher at the batch's end", cumulative("core/outbox.py",
                                                                   "__exit__")),
    ]
    print(f"\ncProfile of drain_once's sending thread, {n} messages, SQLite, SMTP sink: "
          f"{took:.2f} s wall ({n / took:.0f}/s with the profiler on)")
    print(f"{'':<46}{'ms/msg':>8}{'share':>8}")
    for label, seconds in [("drain_once, all of it", total), *parts]:
        print(f"{label:<46}{seconds / n * 1000:>8.2f}{seconds / total:>8.0%}")


# --- the report -----------------------------------------------------------------------------

def report(figures: dict, n: int) -> None:
    print(f"\none `python -m widget worker --once`, {n} confirmation e-mails per path and "
          "round; medians over the rounds")
    print("worker rates are net of its start-up (the same command with nothing due); "
          "'gross' includes it")
    print(f"{'database':<11}{'path':<44}{'msg/s':>8}{'ms/msg':>8}{'gross/s':>9}{'vs smtplib':>12}")
    for db_name, r in figures.items():
        rows = [("worker -> SMTP sink", r["worker_smtp"], f"{r['ratio']:.0%}"),
                ("worker, dev outbox (no WIDGET_SMTP_URL)", r["worker_dev"],
                 f"{r['dev_ratio']:.0%}"),
                ("smtp.Session alone, same bytes, 1 per batch", r["session"],
                 f"{r['session_ratio']:.0%}"),
                ("plain smtplib, same bytes, one connection", r["smtplib"], "100%")]
        for label, p, ratio in rows:
            print(f"{db_name:<11}{label:<44}{p['per_s']:>8.1f}{1000 / p['per_s']:>8.2f}"
                  f"{p['per_s_gross']:>9.1f}{ratio:>12}")
        per_round = " ".join(f"{x:.0%}" for x in r["ratios"])
        print(f"{'':<11}start-up {r['startup_s']:.2f} s; message {r['message_bytes']:.0f} B; "
              f"worker/smtplib per round: {per_round}")
        verdict = "ok" if r["ratio"] >= TARGET else "MISS"
        print(f"{'':<11}target worker/smtplib >= {TARGET:.0%}: {verdict}")
    print("\nThe worker keeps one SMTP session per claimed batch (EHLO, STARTTLS when offered, "
          "then MAIL, RCPT, DATA per message, QUIT at the end); the smtplib loop sends "
          "everything over one connection.")


def parse_args():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--count", type=int, default=2000, help="messages per path and round (2000)")
    p.add_argument("--rounds", type=int, default=1, help="rounds per database; medians (1)")
    p.add_argument("--database-url", metavar="URL",
                   help="also run on PostgreSQL: a throw-away database is created on this "
                        "server (the URL's database is only used to connect) and dropped after")
    p.add_argument("--no-sqlite", action="store_true",
                   help="with --database-url, skip the SQLite run")
    p.add_argument("--profile", type=int, metavar="N", default=0,
                   help="also cProfile drain_once in-process on N messages (SQLite)")
    p.add_argument("--json", metavar="FILE", help="also write the figures to FILE as JSON")
    p.add_argument("--sink", type=int, metavar="PORT", help=argparse.SUPPRESS)
    p.add_argument("--save", metavar="FILE", help=argparse.SUPPRESS)
    return p.parse_args()


def main() -> int:
    args = parse_args()
    if args.sink:
        sink_main(args.sink, args.save)
        return 0
    try:
        import aiosmtpd  # noqa: F401
    except ImportError:
        print("error: aiosmtpd is missing (pip install aiosmtpd, or '.[test]')", file=sys.stderr)
        return 1
    tmp = Path(tempfile.mkdtemp(prefix="widget-mailbench-"))
    started = time.perf_counter()
    try:
        print("e-mail benchmark: one outbox worker against a local SMTP sink", flush=True)
        figures = {}
        if not args.no_sqlite:
            figures["sqlite"] = bench_database("sqlite", tmp / "sqlite", None, args)
        if args.database_url:
            figures["postgresql"] = bench_database("postgresql", tmp / "pg", args.database_url,
                                                   args)
        report(figures, args.count)
        if args.profile:
            profile(tmp / "profile", args.profile)
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
