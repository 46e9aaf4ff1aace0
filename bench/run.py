"""Benchmark the public embed API against a bare Flask app under the same gunicorn settings.

One run seeds a throw-away instance, serves it and bench/hello.py with gunicorn, loads
both with wrk and prints req/s, latency and the gzipped size of what host pages download.
Only ratios to hello-world matter: wrk and gunicorn share the same few CPU cores.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
ORIGIN = "http://127.0.0.1:9"  # an allowed origin of the seeded site; nothing listens there
PAGE = f"{ORIGIN}/post"
TARGETS = {"widgets": 0.90, "subscribe": 0.50}  # minimum req/s ratio to hello-world
EMBED_MAX_GZ = 1024  # bytes

# Every request gets a new e-mail (run tag, thread id, per-thread counter), so each
# 2xx is a fresh INSERT and not an update of a row an earlier request created. The local
# part differs, not a +tag: the list-bomb guard counts confirmations per mailbox (the
# address without its +tag), so tagged copies of one address would soon stop queueing
# mail and measure a shorter path.
SIGNUP_LUA = """
local next_id = 1
function setup(thread) thread:set("id", next_id); next_id = next_id + 1 end
function init(args) tag = args[1]; n = 0 end
function request()
  n = n + 1
  local body = string.format('{"email":"%s-%d-%d@example.com","consent":true,'
    .. '"widget":"WIDGET","page_url":"PAGE"}', tag, id, n)
  return wrk.format("POST", nil, nil, body)
end
"""


class BenchError(Exception):
    """Something broke: the run's figures can't be trusted, so the exit code is non-zero."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def widget_cli(env: dict, *args: str) -> str:
    """Run `python -m widget ...` on the source tree; its stdout, or BenchError."""
    done = subprocess.run([sys.executable, "-m", "widget", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True)
    if done.returncode:
        raise BenchError(f"widget {args[0]} failed:\n{done.stdout}{done.stderr}")
    return done.stdout


def stop(servers: list) -> None:
    """Stop gunicorn servers (SIGTERM: they stop their workers gracefully), and forget them."""
    for proc in servers:
        proc.terminate()
    for proc in servers:
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    servers.clear()


def gunicorn(app: str, port: int, chdir: Path, env: dict, log: Path, workers: int):
    """Start gunicorn; stdout and stderr (the apps' own tracebacks too) go to `log`."""
    cmd = [sys.executable, "-m", "gunicorn", app, "--chdir", str(chdir), "--workers",
           str(workers), "--worker-class", "sync", "--bind", f"127.0.0.1:{port}",
           "--graceful-timeout", "5"]
    # gunicorn's control socket defaults to one ~/.gunicorn/gunicorn.ctl for every server,
    # which servers started together race for (and unlink): one folder each, by its log.
    run_dir = log.with_suffix(".run")
    run_dir.mkdir(exist_ok=True)
    with open(log, "wb") as out:
        return subprocess.Popen(cmd, env={**env, "XDG_RUNTIME_DIR": str(run_dir)},
                                stdout=out, stderr=subprocess.STDOUT)


def wait_ready(proc, url: str, log: Path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise BenchError(f"server for {url} exited:\n{log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise BenchError(f"{url} did not answer within {timeout:.0f}s")


def get(url: str, **headers) -> tuple[bytes, dict]:
    """Body bytes as sent on the wire (urllib never decompresses) and the headers."""
    req = urllib.request.Request(url, headers=headers)
    with urllib.request.urlopen(req, timeout=10) as resp:
        return resp.read(), resp.headers


def to_ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()  # AttributeError if not
    return float(value) * {"us": 0.001, "ms": 1, "s": 1000, "m": 60000}[unit]


def wrk(url: str, seconds: int, threads: int, connections: int, headers=(), script=None,
        script_args=(), timeout: int | None = None) -> dict:
    """Run wrk once; req/s, MB/s read, p50/p99 in ms and request counts. Non-2xx is a
    BenchError. `timeout`: for slow answers such as 10 MB downloads (wrk's own is 2 s)."""
    cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency"]
    cmd += ["--timeout", f"{timeout}s"] if timeout else []
    cmd += [arg for h in headers for arg in ("-H", h)] + (["-s", str(script)] if script else [])
    cmd += [url, *(["--", *script_args] if script_args else [])]
    done = subprocess.run(cmd, capture_output=True, text=True)
    out = done.stdout + done.stderr
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if done.returncode or not rps:
        raise BenchError(f"wrk failed on {url}:\n{out}")
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sock = re.search(r"Socket errors: (.*)", out)
    if bad:
        raise BenchError(f"wrk got {bad.group(1)} non-2xx responses from {url}:\n{out}")
    try:
        rate = re.search(r"Transfer/sec:\s+([\d.]+)([KMGT]?)B", out)
        return {"rps": float(rps.group(1)),
                # wrk writes "1.12s " (a trailing space) once a latency reaches a second.
                "p50_ms": to_ms(re.search(r"^\s+50%\s+(\S+)\s*$", out, re.M).group(1)),
                "p99_ms": to_ms(re.search(r"^\s+99%\s+(\S+)\s*$", out, re.M).group(1)),
                "requests": int(re.search(r"(\d+) requests in", out).group(1)),
                "mbps": float(rate.group(1)) * 1024 ** " KMGT".index(rate.group(2) or " ")
                / (1 << 20),
                "socket_errors": sock.group(1) if sock else None}
    except (AttributeError, KeyError):  # no latency lines: nothing was answered
        raise BenchError(f"unexpected wrk output for {url}:\n{out}") from None


# What one double opt-in sign-up commits: the subscriber (pending), its consent, its
# status change and a queued confirmation e-mail in the outbox.
SIGNUP_ROWS = {
    "subscribers": "SELECT count(*) FROM subscribers",
    "pending": "SELECT count(*) FROM subscribers WHERE status = 'pending'",
    "consents": "SELECT count(*) FROM consents",
    "status_changes": "SELECT count(*) FROM status_changes",
    "confirmations": "SELECT count(*) FROM outbox WHERE kind = 'confirm' AND status = 'queued'",
}


@contextmanager
def pg_database(url: str):
    """A throw-away database on the server of `url` (needs CREATEDB), dropped after."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"widget_bench_{secrets.token_hex(4)}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        admin.dispose()
        raise BenchError(f"could not create a database on {url}: {exc}") from None
    try:
        yield make_url(url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:  # FORCE: a gunicorn still closing may hold one
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def query_one(kind: str, dsn, sql: str, params=()):
    """One row of `sql` (? placeholders) on the instance's database: `dsn` is the SQLite
    file, or a libpq URL for PostgreSQL."""
    if kind == "sqlite":
        conn = sqlite3.connect(dsn)
        try:
            return conn.execute(sql, params).fetchone()
        finally:
            conn.close()
    import psycopg
    with psycopg.connect(dsn) as conn:
        return conn.execute(sql.replace("?", "%s"), params).fetchone()


def seed_site(env: dict, tmp: Path, db_url: str | None, owner: str, password: str):
    """Migrate the instance `env` names, make `owner` and a site of theirs with ORIGIN
    allowed, as an operator would (`python -m widget …`): (kind, dsn, site id), `dsn`
    being the SQLite file under `tmp` or a libpq URL for query_one."""
    widget_cli(env, "migrate")
    widget_cli(env, "create-owner", "--email", owner, "--password", password)
    site = widget_cli(env, "create-site", "--owner", owner, "--name", "Bench",
                      "--origin", ORIGIN).strip().splitlines()[-1]
    if not re.fullmatch(r"[\w-]+", site):  # benchmarks write it into SQL text
        raise BenchError(f"create-site printed {site!r}, not a site id")
    if not db_url:
        return "sqlite", tmp / "instance" / "widget.sqlite3", site
    from sqlalchemy.engine import make_url
    return "postgresql", make_url(db_url).set(drivername="postgresql").render_as_string(
        hide_password=False), site


def signup_rows(kind: str, dsn) -> dict:
    """The counts, from one snapshot (one statement) while sign-ups may still commit."""
    return dict(zip(SIGNUP_ROWS, query_one(
        kind, dsn, "SELECT " + ", ".join(f"({q})" for q in SIGNUP_ROWS.values()))))


def check_signups(accepted: int, before: dict, after: dict) -> dict:
    """Every accepted sign-up took the double opt-in path: one new pending subscriber with
    its consent, status change and queued confirmation. wrk stops with requests in flight,
    so a few more rows than counted 2xx are fine; fewer are not."""
    new = {name: after[name] - before[name] for name in SIGNUP_ROWS}
    if new["subscribers"] < accepted:
        raise BenchError(f"fewer subscriber rows than accepted sign-ups: {new}, {accepted} 2xx")
    if len(set(new.values())) != 1:
        raise BenchError("sign-ups did not all take the double opt-in path (a pending "
                         f"subscriber, its consent, status change and confirmation): {new}")
    return new


def parse_args():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--duration", type=int, default=5, help="seconds per measured run (5)")
    p.add_argument("--rounds", type=int, default=3,
                   help="rounds of hello, widgets, subscribe, interleaved so that a busy "
                        "moment hits all three alike; medians are reported (3)")
    p.add_argument("--warmup", type=int, default=2, help="seconds of warm-up per target (2)")
    p.add_argument("--threads", type=int, default=2, help="wrk threads (2)")
    p.add_argument("--connections", type=int, default=32, help="wrk connections (32)")
    p.add_argument("--workers", type=int, default=2, help="gunicorn sync workers (2)")
    p.add_argument("--database-url", metavar="URL", dest="postgres",
                   help="run on PostgreSQL instead of SQLite, in a throw-away database made on "
                        "this server (needs CREATEDB), e.g. "
                        "postgresql+psycopg://postgres@127.0.0.1:5433/postgres")
    p.add_argument("--json", metavar="FILE", help="also write the figures to FILE as JSON")
    return p.parse_args()


def bench(args, tmp: Path, servers: list, db_url: str | None = None) -> dict:
    app_port, hello_port = free_port(), free_port()
    app_url, hello_url = f"http://127.0.0.1:{app_port}", f"http://127.0.0.1:{hello_port}"
    # The shell's own settings stay out: a DATABASE_URL would send the sign-ups to that
    # database, a WIDGET_MAIL_PER_ADDRESS_DAY=0 or WIDGET_ENV=production would change the
    # path measured. Under gunicorn no outbox worker runs (only `widget serve` and `widget
    # demo` start one; WIDGET_WORKER=off just says so), so queued e-mails stay queued.
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("WIDGET_") and k != "DATABASE_URL"}
    env.update(WIDGET_INSTANCE_PATH=str(tmp / "instance"), WIDGET_RATE_LIMITS="off",
               WIDGET_BASE_URL=app_url, WIDGET_WORKER="off")
    if db_url:
        env["DATABASE_URL"] = db_url
    kind, db, site = seed_site(env, tmp, db_url, "bench@example.com", "bench-password-123")
    # New sites default to double opt-in: the path measured.
    double_opt_in = query_one(kind, db, "SELECT double_opt_in FROM sites WHERE id = ?", (site,))
    if not double_opt_in or not double_opt_in[0]:
        raise BenchError(f"the seeded site is not double opt-in: {double_opt_in}")

    logs = {"app": tmp / "app.log", "hello": tmp / "hello.log"}
    servers.append(gunicorn("widget:create_app()", app_port, ROOT, env, logs["app"],
                            args.workers))
    servers.append(gunicorn("hello:app", hello_port, BENCH, env, logs["hello"], args.workers))
    wait_ready(servers[0], f"{app_url}/healthz", logs["app"])
    wait_ready(servers[1], f"{hello_url}/", logs["hello"])

    api = f"{app_url}/api/v1/sites/{site}"
    config = json.loads(get(f"{api}/widgets")[0])
    widget_id = config["widgets"][0]["id"]
    lua = tmp / "signup.lua"
    lua.write_text(SIGNUP_LUA.replace("WIDGET", widget_id).replace("PAGE", PAGE))

    origin = f"Origin: {ORIGIN}"
    runs = {
        "hello": dict(url=f"{hello_url}/"),
        "widgets": dict(url=f"{api}/widgets?url=http%3A%2F%2F127.0.0.1%3A9%2Fpost&lang=en",
                        headers=[origin]),
        "subscribe": dict(url=f"{api}/subscriptions", script=lua,
                          headers=[origin, "Content-Type: text/plain"]),
    }
    for name, run in runs.items():
        print(f"  {name}: warm-up {args.warmup}s", flush=True)
        wrk(seconds=args.warmup, threads=args.threads, connections=args.connections,
            script_args=["warm"] if "script" in run else (),
            **run)
    rounds = []
    for i in range(args.rounds):
        print(f"  round {i + 1}/{args.rounds}: {args.duration}s per target ...", flush=True)
        got = {}
        for name, run in runs.items():
            before = signup_rows(kind, db)
            got[name] = wrk(seconds=args.duration, threads=args.threads,
                            connections=args.connections,
                            script_args=[f"run{i}"] if "script" in run else (), **run)
            if name == "subscribe":  # every 2xx must be committed rows, readable by others
                new = check_signups(got[name]["requests"], before, signup_rows(kind, db))
                print(f"    sign-ups: {got[name]['requests']} 2xx responses, "
                      f"{new['subscribers']} new pending subscribers, each with its consent, "
                      "status change and queued confirmation")
        for r in got.values():
            r["ratio"] = r["rps"] / got["hello"]["rps"]
        rounds.append(got)
    results = {name: {key: statistics.median(r[name][key] for r in rounds)
                      for key in ("rps", "p50_ms", "p99_ms", "ratio")}
               for name in runs}
    for name in runs:
        results[name]["socket_errors"] = next(
            (r[name]["socket_errors"] for r in rounds if r[name]["socket_errors"]), None)
        results[name]["ratios"] = [round(r[name]["ratio"], 3) for r in rounds]

    sizes = {}
    for name, path in (("embed.js", "/embed.js"), ("ui.js", config["ui"]),
                       ("ui.css", config["css"])):
        gz, headers = get(app_url + path, **{"Accept-Encoding": "gzip"})
        if headers.get("Content-Encoding") != "gzip":
            raise BenchError(f"{path} was not served gzipped")
        sizes[name] = {"raw": len(get(app_url + path)[0]), "gzip": len(gz)}

    problems = [f"{name}: {line}" for name, log in logs.items()
                for line in log.read_text(errors="replace").splitlines()
                if re.search(r"\[(ERROR|CRITICAL)\]|Traceback|WORKER TIMEOUT", line)]
    return {"site": site, "wrk": results, "sizes": sizes, "server_log_problems": problems,
            "signup_rows": signup_rows(kind, db), "database": kind}


def report(fig: dict) -> None:
    print("\nmedians over the rounds; 'vs hello' is the median of each round's ratio")
    print(f"{'target':<12}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'vs hello':>10}"
          "  per round       socket errors")
    for name, r in fig["wrk"].items():
        per_round = " ".join(f"{x:.0%}" for x in r["ratios"])
        print(f"{name:<12}{r['rps']:>10.1f}{r['p50_ms']:>10.2f}{r['p99_ms']:>10.2f}"
              f"{r['ratio']:>9.0%}  {per_round:<15} {r['socket_errors'] or '-'}")
    print(f"\n{'asset':<12}{'raw B':>10}{'gzip B':>10}")
    for name, s in fig["sizes"].items():
        print(f"{name:<12}{s['raw']:>10}{s['gzip']:>10}")
    ui = fig["sizes"]["ui.js"]["gzip"] + fig["sizes"]["ui.css"]["gzip"]
    print(f"{'ui js+css':<12}{'':>10}{ui:>10}")

    fig["targets"] = {}
    print("\ntargets")
    checks = [(f"{n} >= {m:.0%} of hello", fig["wrk"][n]["ratio"] >= m,
               f"{fig['wrk'][n]['ratio']:.0%}") for n, m in TARGETS.items()]
    gz = fig["sizes"]["embed.js"]["gzip"]
    checks.append((f"/embed.js <= {EMBED_MAX_GZ} B gzipped", gz <= EMBED_MAX_GZ, f"{gz} B"))
    for label, ok, got in checks:
        fig["targets"][label] = {"pass": ok, "value": got}
        print(f"  {'PASS' if ok else 'MISS'}  {label:<34} ({got})")
    if fig["server_log_problems"]:
        print("\nserver log problems:", *fig["server_log_problems"][:20], sep="\n  ")


def main() -> int:
    args = parse_args()
    if not shutil.which("wrk"):
        print("error: wrk not found (Debian: apt-get install wrk)", file=sys.stderr)
        return 1
    tmp = Path(tempfile.mkdtemp(prefix="widget-bench-"))
    servers: list[subprocess.Popen] = []
    try:
        print("widget benchmark (only ratios to hello-world are comparable across machines)"
              + (", on PostgreSQL" if args.postgres else ", on SQLite"))
        if args.postgres:
            with pg_database(args.postgres) as url:
                try:
                    fig = bench(args, tmp, servers, url)
                finally:
                    stop(servers)  # before the database is dropped
        else:
            fig = bench(args, tmp, servers)
        report(fig)
        if args.json:
            Path(args.json).write_text(json.dumps(fig, indent=2) + "\n")
        return 0
    except BenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        if (tmp / "app.log").exists():  # a 500 under load leaves its traceback there
            print("app log, last lines:\n" + (tmp / "app.log").read_text()[-3000:],
                  file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    finally:
        stop(servers)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
