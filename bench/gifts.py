"""Benchmark the gift paths against baselines served by the same gunicorn settings.

1. Download: a 10 MB gift file through its download ticket (/gift/get/<ticket>; the
   bytes come from the database in 1 MiB chunks) against the same 10 MB served from
   disk by a tiny Flask app (send_file, conditional=True), in MB/s (MB = 2**20 bytes).
2. Grant: POST /api/v1/sites/<site>/grants, each a new grant of a gift-first file gift
   with no cap, against bench/hello.py's hello-world, in req/s.

SQLite always (unless --no-sqlite); PostgreSQL too with --postgres URL. Targets take
turns within each round, and the ratios of each round are what carry over to other
machines: wrk and gunicorn share the same CPU cores.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))  # run.py's helpers, wherever this is started from
from run import (  # noqa: E402
    ORIGIN,
    ROOT,
    BenchError,
    free_port,
    gunicorn,
    pg_database,
    stop,
    wait_ready,
    widget_cli,
    wrk,
)

MB = 1 << 20  # as WIDGET_GIFT_MAX_MB and wrk count them
FILE_BYTES = 10 * MB
# Within one 1 MiB chunk, across the first chunk boundary, and the file's tail.
RANGES = [(0, 99), (MB - 1000, MB + 999), (FILE_BYTES - 5000, FILE_BYTES - 1)]

# The baseline for downloads: the same bytes from disk, the way a Flask app serves a
# file (gunicorn's sendfile path), under the same gunicorn settings as the app.
STATIC_APP = '''"""Baseline for bench/gifts.py: one file from disk with Flask's send_file."""
from pathlib import Path
from flask import Flask, send_file

app = Flask(__name__)
app.add_url_rule("/", "ready", lambda: "ok")
app.add_url_rule("/guide.pdf", "guide", lambda: send_file(
    Path(__file__).with_name("guide.pdf"), as_attachment=True, conditional=True))
'''

# Each request gives a new grant; page_url carries the run's tag so its rows can be
# counted apart from the warm-up's. sent and the statuses go to OUT when wrk is done, so
# every answer can be matched with a committed row.
GRANT_LUA = """
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args)
  sent, n201, n5xx, other = 0, 0, 0, 0
  body = '{"widget":"WIDGET","page_url":"PAGE?run=' .. args[1] .. '"}'
end
function request() sent = sent + 1; return wrk.format("POST", nil, nil, body) end
function response(status)
  if status == 201 then n201 = n201 + 1 elseif status >= 500 then n5xx = n5xx + 1
  else other = other + 1 end
end
function done()
  local t = {sent = 0, n201 = 0, n5xx = 0, other = 0}
  for _, thread in ipairs(threads) do
    for k in pairs(t) do t[k] = t[k] + thread:get(k) end
  end
  local f = io.open("OUT", "w")
  f:write(string.format('{"sent":%d,"201":%d,"5xx":%d,"other":%d}', t.sent, t.n201, t.n5xx,
                        t.other))
  f:close()
end
"""


def seed_gift(site_id: str, data_path: str) -> None:
    """Run in a child process with the instance's environment (--seed): store the file,
    its gift and a gift-first widget with the app's own code, and print their ids."""
    from io import BytesIO

    from werkzeug.datastructures import FileStorage

    sys.path.insert(0, str(ROOT))  # the source tree, as `python -m widget` from ROOT
    from widget import create_app
    from widget.core import db
    from widget.gifts import files
    from widget.models import Gift, Widget

    app = create_app()
    with app.app_context():
        session = db.session()
        data = Path(data_path).read_bytes()
        stored = files.store(session, site_id, FileStorage(BytesIO(data), filename="guide.pdf"),
                             app.config["GIFT_MAX_BYTES"])
        gift = Gift(site_id=site_id, kind="file", title="Guide", file_id=stored.id,
                    download_limit=10**6)  # every resumed GET of one ticket is free anyway
        session.add(gift)
        session.flush()  # the gift's id, for its widget
        widget = Widget(site_id=site_id, name="gift", kind="gift", gift_id=gift.id,
                        gift_mode="first", layout="inline", triggers=[])
        session.add(widget)
        session.commit()
        print(json.dumps({"gift": gift.id, "widget": widget.id, "sha256": stored.sha256,
                          "size": stored.size}))


def scalar(db_url: str, sql: str, **params):
    """One value from the instance's database, on a connection of its own."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.pool import NullPool

    engine = create_engine(db_url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            return conn.scalar(text(sql), params)
    finally:
        engine.dispose()


def count_grants(db_url: str, page_url: str, app_url: str) -> int:
    """Grant rows given from `page_url` (one wrk run's tag), once the app has worked
    through the requests wrk left queued when it stopped: a /healthz queues behind them,
    and the count must then hold still."""
    fetch(f"{app_url}/healthz")
    counts = [-1]
    while len(counts) < 20 and (len(counts) < 3 or counts[-1] != counts[-2]):
        time.sleep(0.2)
        counts.append(scalar(db_url, "SELECT count(*) FROM gift_grants WHERE page_url = :u",
                             u=page_url))
    return counts[-1]


def fetch(url: str, method: str = "GET", body: bytes | None = None, **headers):
    """Status, headers and body of one request; an HTTP error status is returned too."""
    req = urllib.request.Request(url, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, resp.headers, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers, exc.read()


def check_download(url: str, data: bytes, what: str) -> None:
    """The whole file as an attachment, and Range requests answered 206 with the right
    bytes; BenchError otherwise (the figures would measure something else)."""
    status, headers, body = fetch(url)
    if status != 200 or hashlib.sha256(body).digest() != hashlib.sha256(data).digest():
        raise BenchError(f"{what}: GET gave {status}, {len(body)} bytes, not the file")
    if not headers.get("Content-Disposition", "").startswith("attachment"):
        raise BenchError(f"{what}: no attachment: {headers.get('Content-Disposition')!r}")
    for first, last in RANGES:
        status, headers, body = fetch(url, Range=f"bytes={first}-{last}")
        want = f"bytes {first}-{last}/{len(data)}"
        if status != 206 or body != data[first:last + 1] or headers["Content-Range"] != want:
            raise BenchError(f"{what}: Range {first}-{last} gave {status}, "
                             f"{headers.get('Content-Range')!r}, {len(body)} bytes")


def seed(env: dict, data: bytes, data_path: Path) -> tuple[str, str]:
    """Migrate and seed as run.py does, then store the gift (--seed, in a child process
    with the instance's environment); the site's and the gift widget's ids."""
    widget_cli(env, "migrate")
    widget_cli(env, "create-owner", "--email", "bench@example.com",
               "--password", "bench-password-123")
    site = widget_cli(env, "create-site", "--owner", "bench@example.com", "--name", "Bench",
                      "--origin", ORIGIN).strip().splitlines()[-1]
    seeded = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--seed", site,
                             str(data_path)], cwd=ROOT, env=env, capture_output=True, text=True)
    if seeded.returncode:
        raise BenchError(f"seeding the gift failed:\n{seeded.stdout}{seeded.stderr}")
    ids = json.loads(seeded.stdout.strip().splitlines()[-1])
    if ids["size"] != len(data) or ids["sha256"] != hashlib.sha256(data).hexdigest():
        raise BenchError(f"the stored file is not the one given: {ids}")
    return site, ids["widget"]


@contextmanager
def servers(env: dict, tmp: Path, ports: dict, workers: int):
    """The app, the static file and hello-world under the same gunicorn settings; their
    logs. Stopped (SIGTERM: gracefully) when the block ends."""
    logs, procs = {}, []
    try:
        for name, app, chdir, ready in (("app", "widget:create_app()", ROOT, "/healthz"),
                                        ("static", "static_app:app", tmp.parent, "/"),
                                        ("hello", "hello:app", BENCH, "/")):
            logs[name] = tmp / f"{name}.log"
            procs.append(gunicorn(app, ports[name], chdir, env, logs[name], workers))
            wait_ready(procs[-1], f"http://127.0.0.1:{ports[name]}{ready}", logs[name])
        yield logs
    finally:
        stop(procs)


def bench_database(label: str, args, tmp: Path, data: bytes, db_url: str | None) -> dict:
    """Seed an instance on one database, serve it and the baselines, check the paths,
    then run the rounds: static, gift, hello and grant take turns."""
    tmp.mkdir()
    ports = {name: free_port() for name in ("app", "static", "hello")}
    url = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
    # As run.py: the shell's settings stay out; no rate limit, no outbox worker.
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("WIDGET_") and k != "DATABASE_URL"}
    env.update(WIDGET_INSTANCE_PATH=str(tmp / "instance"), WIDGET_RATE_LIMITS="off",
               WIDGET_BASE_URL=url["app"], WIDGET_WORKER="off")
    if db_url:
        env["DATABASE_URL"] = db_url
    db_url = db_url or f"sqlite:///{tmp / 'instance' / 'widget.sqlite3'}"
    site, widget_id = seed(env, data, tmp.parent / "guide.pdf")
    with servers(env, tmp, ports, args.workers) as logs:
        api = f"{url['app']}/api/v1/sites/{site}"
        status, _h, body = fetch(f"{api}/grants", "POST", json.dumps({"widget": widget_id})
                                 .encode(), Origin=ORIGIN, **{"Content-Type": "application/json"})
        if status != 201:
            raise BenchError(f"POST grants gave {status}: {body[:500]!r}")
        ticket_url = json.loads(body)["grant"]["download"]
        static_url = f"{url['static']}/guide.pdf"
        check_download(static_url, data, "static file")
        check_download(ticket_url, data, "gift ticket")  # counts the ticket's one download
        page, lua_out, lua = f"{ORIGIN}/post", tmp / "grant-counts.json", tmp / "grant.lua"
        lua.write_text(GRANT_LUA.replace("WIDGET", widget_id).replace("PAGE", page)
                       .replace("OUT", str(lua_out)))
        # A 30 s timeout: wrk's 2 s would drop slow 10 MB downloads as errors.
        dl = dict(threads=args.threads, connections=args.download_connections, timeout=30)
        rq = dict(threads=args.threads, connections=args.connections)
        runs = {  # name: (wrk options, seconds)
            "static": (dict(url=static_url, **dl), args.download_seconds),
            "gift": (dict(url=ticket_url, **dl), args.download_seconds),
            "hello": (dict(url=f"{url['hello']}/", **rq), args.duration),
            "grant": (dict(url=f"{api}/grants", **rq, script=lua,
                           headers=[f"Origin: {ORIGIN}", "Content-Type: text/plain"]),
                      args.duration),
        }
        for name, (opts, _s) in runs.items():
            print(f"  {label} {name}: warm-up {args.warmup}s", flush=True)
            wrk(seconds=args.warmup, script_args=["warm"] if "script" in opts else (), **opts)
        rounds = []
        for i in range(args.rounds):
            print(f"  {label} round {i + 1}/{args.rounds} ...", flush=True)
            got = {}
            for name, (opts, seconds) in runs.items():
                tag = f"r{i}-{secrets.token_hex(3)}"
                got[name] = wrk(seconds=seconds, script_args=[tag] if "script" in opts else (),
                                **opts)
                if name == "grant":
                    rows = count_grants(db_url, f"{page}?run={tag}", url["app"])
                    got[name]["check"] = check_grants(got[name], lua_out, rows)
            got["gift"]["ratio"] = got["gift"]["mbps"] / got["static"]["mbps"]
            got["grant"]["ratio"] = got["grant"]["rps"] / got["hello"]["rps"]
            rounds.append(got)
    # wrk fetched one ticket thousands of times: one download, the rest resumes.
    counted = scalar(db_url, "SELECT downloads FROM gift_grants WHERE page_url IS NULL")
    if counted != 1:
        raise BenchError(f"the hammered ticket counted {counted} downloads, not 1")
    return summary(rounds, logs)


def summary(rounds: list, logs: dict) -> dict:
    """Medians over the rounds, each round's ratios, and problems in the server logs."""
    fig = {name: {key: statistics.median(r[name][key] for r in rounds)
                  for key in ("rps", "p50_ms", "p99_ms", "ratio", "mbps")
                  if key in rounds[0][name] and (key != "mbps" or name in ("static", "gift"))}
           for name in rounds[0]}
    for name in fig:
        fig[name]["socket_errors"] = next(
            (r[name]["socket_errors"] for r in rounds if r[name]["socket_errors"]), None)
    for name in ("gift", "grant"):
        fig[name]["ratios"] = [round(r[name]["ratio"], 3) for r in rounds]
    fig["grant"]["checks"] = [r["grant"]["check"] for r in rounds]
    fig["server_log_problems"] = [
        f"{name}: {line}" for name, log in logs.items()
        for line in log.read_text(errors="replace").splitlines()
        if re.search(r"\[(ERROR|CRITICAL)\]|Traceback|WORKER TIMEOUT", line)]
    return fig


def check_grants(result: dict, lua_out: Path, rows: int) -> dict:
    """Every 201 wrk counted is a committed grant row, and nothing else was answered.
    wrk stops with up to one request per connection in flight: the server may commit
    those without wrk seeing the answer, so rows may exceed the 201s by at most the
    requests sent but not answered, never fall short."""
    counts = json.loads(lua_out.read_text())
    lua_out.unlink()
    unanswered = counts["sent"] - counts["201"] - counts["5xx"] - counts["other"]
    if counts["5xx"] or counts["other"]:
        raise BenchError(f"grant answers other than 201: {counts}")
    if counts["201"] != result["requests"]:
        raise BenchError(f"wrk counted {result['requests']} answers, the script {counts}")
    if not counts["201"] <= rows <= counts["201"] + unanswered:
        raise BenchError(f"{rows} grant rows for {counts['201']} answers 201 "
                         f"({unanswered} requests unanswered when wrk stopped)")
    print(f"    grants: {counts['201']} answered 201, {rows} rows "
          f"({rows - counts['201']} of {unanswered} cut off by wrk's stop committed)")
    return {"answered_201": counts["201"], "rows": rows, "unanswered": unanswered}


def report(figures: dict) -> None:
    """Ratios first (what carries over to other machines), then the figures behind them."""
    rows = [(title, [f"{figures[db][name]['ratio']:.0%} ["
                     + " ".join(f"{x:.0%}" for x in figures[db][name]["ratios"]) + "]"
                     for db in figures])
            for name, title in (("gift", "gift MB/s / static MB/s"),
                                ("grant", "grant req/s / hello req/s"))]
    width = 2 + max(len(c) for _t, cells in rows for c in [*cells, *figures])
    print("\nmedians over the rounds; each round's in brackets")
    print(f"{'ratio':<26}" + "".join(f"{db:>{width}}" for db in figures))
    for title, cells in rows:
        print(f"{title:<26}" + "".join(f"{c:>{width}}" for c in cells))
    print(f"\n{'database':<12}{'target':<8}{'req/s':>9}{'MB/s':>9}{'p50 ms':>9}{'p99 ms':>9}"
          "  socket errors")
    for db, fig in figures.items():
        for name in ("static", "gift", "hello", "grant"):
            r = fig[name]
            mbps = f"{r['mbps']:.0f}" if "mbps" in r else "-"
            print(f"{db:<12}{name:<8}{r['rps']:>9.1f}{mbps:>9}{r['p50_ms']:>9.2f}"
                  f"{r['p99_ms']:>9.2f}  {r['socket_errors'] or '-'}")
    for db, fig in figures.items():
        if fig["server_log_problems"]:
            print(f"\n{db} server log problems:", *fig["server_log_problems"][:20],
                  sep="\n  ")


def parse_args():
    """Command-line options; --seed is the child process that stores the gift."""
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--postgres", "--database-url", metavar="URL", dest="postgres",
                   help="also run on PostgreSQL, in a throw-away database created on this "
                        "server (the role needs CREATEDB) and dropped after, e.g. "
                        "postgresql+psycopg://postgres@127.0.0.1:5433/postgres")
    p.add_argument("--no-sqlite", action="store_true", help="with --postgres, skip SQLite")
    p.add_argument("--rounds", type=int, default=3,
                   help="rounds of static, gift, hello, grant, interleaved so that a busy "
                        "moment hits all alike; medians are reported (3)")
    p.add_argument("--download-seconds", type=int, default=10, help="per download run (10)")
    p.add_argument("--duration", type=int, default=5, help="seconds per hello and grant run (5)")
    p.add_argument("--warmup", type=int, default=2, help="seconds of warm-up per target (2)")
    p.add_argument("--threads", type=int, default=2, help="wrk threads (2)")
    p.add_argument("--download-connections", type=int, default=4,
                   help="wrk connections for the downloads (4)")
    p.add_argument("--connections", type=int, default=32,
                   help="wrk connections for hello and grants, as run.py (32)")
    p.add_argument("--workers", type=int, default=2, help="gunicorn sync workers (2)")
    p.add_argument("--json", metavar="FILE", help="also write the figures to FILE as JSON")
    p.add_argument("--seed", nargs=2, metavar=("SITE", "FILE"), help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.no_sqlite and not args.postgres:
        p.error("--no-sqlite needs --postgres")
    return args


def main() -> int:
    args = parse_args()
    if args.seed:
        seed_gift(*args.seed)
        return 0
    if not shutil.which("wrk"):
        print("error: wrk not found (Debian: apt-get install wrk)", file=sys.stderr)
        return 1
    tmp = Path(tempfile.mkdtemp(prefix="widget-giftbench-"))
    try:
        print("gift benchmark (only ratios to the baselines are comparable across machines)")
        # A PDF by its magic number (the upload check sniffs it), then incompressible bytes.
        data = b"%PDF-1.4\n" + os.urandom(FILE_BYTES - 9)
        (tmp / "guide.pdf").write_bytes(data)
        (tmp / "static_app.py").write_text(STATIC_APP)
        figures = {}
        if not args.no_sqlite:
            figures["sqlite"] = bench_database("sqlite", args, tmp / "sqlite", data, None)
        if args.postgres:
            with pg_database(args.postgres) as url:
                figures["postgresql"] = bench_database("postgresql", args, tmp / "pg", data, url)
        report(figures)
        if args.json:
            Path(args.json).write_text(json.dumps(figures, indent=2) + "\n")
        return 0
    except BenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        for log in sorted(tmp.glob("*/app.log")):  # a 500 under load leaves its traceback
            print(f"{log}, last lines:\n" + log.read_text()[-3000:], file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
