"""Sign-ups per second with one instance and with two, on one database and one Redis.

One run seeds a throw-away instance (SQLite in a temp folder, or with --database-url a
throw-away database made on that PostgreSQL server and dropped after), starts a
redis-server of its own on a free loopback port (nothing saved) and serves the app with
two gunicorns (--workers each) on that one database, as a site that outgrows one server
runs it: rate limits ON and counted in that Redis, with limits so generous
(1,000,000 an hour per IP and per address) that no sign-up is refused. After a warm-up
of both phases, each round takes turns, so that a busy moment hits both alike:

- one instance: wrk with run.py's sign-up script (Origin, text/plain) against the first
  gunicorn; the second one stands idle;
- two instances: two wrk processes at once, one per gunicorn, each with half the threads
  and connections and a tag of its own (the addresses never collide); req/s summed.

After every run each 2xx must be a committed double opt-in sign-up (run.py's
check_signups), and at the end, the servers stopped, Redis's per-IP count must equal the
subscriber rows: one count for the sign-ups of both instances. The report gives medians
over the rounds and the ratio two/one. Both instances (twice one instance's workers) and
wrk share this machine's cores: the ratio shows what sharing the database and Redis
costs, not what a second server would gain.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))  # run.py's helpers, wherever this starts
from run import (ORIGIN, PAGE, ROOT, SIGNUP_LUA, BenchError, check_signups,  # noqa: E402
                 free_port, get, gunicorn, pg_database, seed_site, signup_rows, stop,
                 wait_ready, wrk)

# Generous, so that the limits are counted (in Redis) but never refuse the load. An hour,
# not a minute: the limits library's window starts at its first hit, so one window spans
# a whole run and the per-IP count at the end is every sign-up's.
LIMIT = "1000000/hour"


def parse_args():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--duration", type=int, default=5, help="seconds per measured run (5)")
    p.add_argument("--rounds", type=int, default=3,
                   help="rounds of one instance, then two; medians are reported (3)")
    p.add_argument("--warmup", type=int, default=2, help="seconds of warm-up per phase (2)")
    p.add_argument("--threads", type=int, default=2,
                   help="wrk threads in all; with two instances each wrk gets half (2)")
    p.add_argument("--connections", type=int, default=32,
                   help="wrk connections in all; with two instances each wrk gets half (32)")
    p.add_argument("--workers", type=int, default=2, help="gunicorn sync workers per instance (2)")
    p.add_argument("--database-url", metavar="URL", dest="postgres",
                   help="run on PostgreSQL instead of SQLite, in a throw-away database made on "
                        "this server (needs CREATEDB), e.g. "
                        "postgresql+psycopg://postgres@127.0.0.1:5433/postgres")
    p.add_argument("--json", metavar="FILE", help="also write the figures to FILE as JSON")
    args = p.parse_args()
    if args.threads < 2 or args.connections < args.threads or args.threads % 2 \
            or args.connections % 2:
        p.error("--threads and --connections must be even, connections >= threads >= 2 "
                "(each instance's wrk gets half of both)")
    if min(args.duration, args.rounds, args.warmup, args.workers) < 1:
        p.error("--duration, --rounds, --warmup and --workers must be at least 1")
    return args


@contextmanager
def redis_server(tmp: Path):
    """A redis-server of this run's own on a free loopback port, saving nothing: its URL."""
    port, log = free_port(), tmp / "redis.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1",
                                 "--dir", str(tmp), "--save", "", "--appendonly", "no"],
                                stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 10
        while True:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            if proc.poll() is not None or time.monotonic() > deadline:
                raise BenchError(f"redis-server did not start:\n{log.read_text()[-2000:]}")
            time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(10)


def ip_hits(redis_url: str) -> int:
    """Sign-ups the per-IP limit counted in Redis, read as the app's limiter reads it."""
    from limits import parse
    from limits.storage import storage_from_string
    from limits.strategies import FixedWindowRateLimiter

    limiter = FixedWindowRateLimiter(storage_from_string(redis_url))
    item = parse(LIMIT)
    return item.amount - limiter.get_window_stats(item, "ip", "127.0.0.1").remaining


def load(targets: list[str], seconds: int, args, lua: Path, tag: str) -> dict:
    """wrk with the sign-up script against each of `targets` at once, each with its share
    of the threads and connections: req/s and requests summed, the slowest p50 and p99."""
    share = len(targets)
    with ThreadPoolExecutor(share) as pool:  # wrk runs outside the GIL: both load at once
        runs = [pool.submit(wrk, url, seconds, args.threads // share,
                            args.connections // share,
                            headers=[f"Origin: {ORIGIN}", "Content-Type: text/plain"],
                            script=lua, script_args=[f"{tag}-{letter}"])
                for url, letter in zip(targets, "abcdefgh")]
        got = [run.result() for run in runs]
    return {"rps": sum(r["rps"] for r in got), "requests": sum(r["requests"] for r in got),
            "p50_ms": max(r["p50_ms"] for r in got), "p99_ms": max(r["p99_ms"] for r in got),
            "socket_errors": "; ".join(r["socket_errors"] for r in got if r["socket_errors"])
            or None, "per_instance_rps": [r["rps"] for r in got]}


def bench(args, tmp: Path, servers: list, redis_url: str, db_url: str | None) -> dict:
    ports = [free_port(), free_port()]
    urls = [f"http://127.0.0.1:{port}" for port in ports]
    # As run.py: the shell's own WIDGET_* and DATABASE_URL stay out; no outbox worker runs
    # under gunicorn, so queued confirmations stay queued. Unlike run.py, rate limits on.
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("WIDGET_") and k != "DATABASE_URL"}
    env.update(WIDGET_INSTANCE_PATH=str(tmp / "instance"), WIDGET_BASE_URL=urls[0],
               WIDGET_WORKER="off", WIDGET_RATE_LIMITS="on",
               WIDGET_RATE_LIMIT_STORAGE=redis_url, WIDGET_RATE_LIMIT_IP=LIMIT,
               WIDGET_RATE_LIMIT_EMAIL=LIMIT)
    if db_url:
        env["DATABASE_URL"] = db_url
    kind, db, site = seed_site(env, tmp, db_url, "bench@example.com", "bench-password-123")

    logs = [tmp / "app-1.log", tmp / "app-2.log"]
    for port, log in zip(ports, logs):
        servers.append(gunicorn("widget:create_app()", port, ROOT, env, log, args.workers))
    for proc, url, log in zip(servers, urls, logs):
        wait_ready(proc, f"{url}/healthz", log)

    widget_id = json.loads(get(f"{urls[0]}/api/v1/sites/{site}/widgets")[0])["widgets"][0]["id"]
    lua = tmp / "signup.lua"
    lua.write_text(SIGNUP_LUA.replace("WIDGET", widget_id).replace("PAGE", PAGE))
    targets = {"one": [f"{urls[0]}/api/v1/sites/{site}/subscriptions"]}
    targets["two"] = [*targets["one"], f"{urls[1]}/api/v1/sites/{site}/subscriptions"]

    accepted = 0

    def measure(phase: str, seconds: int, tag: str) -> dict:
        nonlocal accepted
        before = signup_rows(kind, db)
        got = load(targets[phase], seconds, args, lua, tag)
        new = check_signups(got["requests"], before, signup_rows(kind, db))
        accepted += got["requests"]
        print(f"    {phase}: {got['rps']:.0f} req/s, {got['requests']} 2xx, "
              f"{new['subscribers']} new pending subscribers with all their rows", flush=True)
        return got

    print(f"  warm-up: {args.warmup}s per phase", flush=True)
    for phase in targets:
        measure(phase, args.warmup, f"warm-{phase}")
    rounds = []
    for i in range(args.rounds):
        print(f"  round {i + 1}/{args.rounds}: {args.duration}s per phase", flush=True)
        got = {phase: measure(phase, args.duration, f"r{i}-{phase}") for phase in targets}
        got["ratio"] = got["two"]["rps"] / got["one"]["rps"]
        rounds.append(got)

    # Each sign-up hit the per-IP limit once, on either instance: one count for both, equal
    # to the rows once the servers have stopped (gracefully: requests in flight end first).
    stop(servers)
    counted, rows = ip_hits(redis_url), signup_rows(kind, db)
    if counted != rows["subscribers"] or counted < accepted:
        raise BenchError(f"Redis counted {counted} sign-ups per IP, for {rows['subscribers']} "
                         f"subscribers and {accepted} 2xx: the instances did not share it")
    results = {phase: {key: statistics.median(r[phase][key] for r in rounds)
                       for key in ("rps", "p50_ms", "p99_ms")} for phase in targets}
    for phase in targets:
        results[phase]["socket_errors"] = next(
            (r[phase]["socket_errors"] for r in rounds if r[phase]["socket_errors"]), None)
    problems = [f"{log.name}: {line}" for log in logs
                for line in log.read_text(errors="replace").splitlines()
                if re.search(r"\[(ERROR|CRITICAL)\]|Traceback|WORKER TIMEOUT", line)]
    return {"database": kind, "cpu_count": os.cpu_count(), "workers": args.workers,
            "wrk": results, "ratio": statistics.median(r["ratio"] for r in rounds),
            "ratios": [round(r["ratio"], 3) for r in rounds], "rounds": rounds,
            "accepted": accepted, "redis_ip_count": counted,
            "signup_rows": rows, "server_log_problems": problems,
            "site": site}


def report(fig: dict) -> None:
    print("\nmedians over the rounds; with two instances p50 and p99 are the slower wrk's")
    print(f"{'instances':<12}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}  socket errors")
    for phase, r in fig["wrk"].items():
        print(f"{phase:<12}{r['rps']:>10.1f}{r['p50_ms']:>10.2f}{r['p99_ms']:>10.2f}"
              f"  {r['socket_errors'] or '-'}")
    print(f"{'two / one':<12}{fig['ratio']:>10.2f}  per round: "
          + " ".join(f"{x:.2f}" for x in fig["ratios"]))
    print(f"\nRedis counted {fig['redis_ip_count']} sign-ups from 127.0.0.1 on both instances, "
          f"one per subscriber row ({fig['accepted']} 2xx answers counted by wrk).")
    print(f"Note: this machine has {fig['cpu_count']} cores, and both instances "
          f"({fig['workers']} workers each, twice one instance's) share them with wrk and the "
          "database, so the ratio shows the cost of sharing the database and Redis, not a "
          "scaling gain.")
    if fig["server_log_problems"]:
        print("\nserver log problems:", *fig["server_log_problems"][:20], sep="\n  ")


def main() -> int:
    args = parse_args()
    for tool, package in (("wrk", "wrk"), ("redis-server", "redis-server")):
        if not shutil.which(tool):
            print(f"error: {tool} not found (Debian: apt-get install {package})",
                  file=sys.stderr)
            return 1
    if importlib.util.find_spec("redis") is None:  # the limits library's redis:// client
        print("error: the redis package is missing (pip install redis)", file=sys.stderr)
        return 1
    tmp = Path(tempfile.mkdtemp(prefix="widget-scale-"))
    servers: list[subprocess.Popen] = []
    try:
        print("sign-ups with one and two instances"
              + (", on PostgreSQL" if args.postgres else ", on SQLite"), flush=True)
        with ExitStack() as stack:
            redis_url = stack.enter_context(redis_server(tmp))
            db_url = stack.enter_context(pg_database(args.postgres)) if args.postgres else None
            stack.callback(stop, servers)  # before the database is dropped and Redis stops
            fig = bench(args, tmp, servers, redis_url, db_url)
        report(fig)
        if args.json:
            Path(args.json).write_text(json.dumps(fig, indent=2) + "\n")
        return 0
    except BenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        for log in (tmp / "app-1.log", tmp / "app-2.log"):
            if log.exists():  # a 500 under load leaves its traceback there
                print(f"{log.name}, last lines:\n" + log.read_text()[-2000:], file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    finally:
        stop(servers)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
