"""Benchmark the funnel's counters (issue 16): beacons per second against hello-world, and
the dashboard's pages over two years of counters.

One run per database (SQLite in a temp folder; with --database-url also PostgreSQL, in a
throw-away database created on that server and dropped after; --no-sqlite skips SQLite):

1. seeds a site as an operator would (run.py's seed_site), copies its widget in SQL until
   it has --widgets (50), and writes --days (730) of their counters straight into
   stat_days with set-based SQL: each widget-day --pages-per-day (20) page rows out of
   --pages (1,000) paths, shown falling off from the most to the least shown of them
   and growing over the two years, the other counters as shares of shown; the 'all' row
   as their sum; two language and three device rows as shares of it. PostgreSQL is
   vacuumed and analyzed after the load, as autovacuum soon would; SQLite is not;
2. serves the app and bench/hello.py with gunicorn (2 sync workers each, rate limits off)
   and runs wrk in rounds of hello, then beacons: POST /api/v1/sites/<site>/events as
   text/plain with the site's Origin, an impression and an open of one widget on a page
   of the 1,000; after each beacon run the widget's shown and opened (dim 'all') and its
   page rows' shown must have grown by the 2xx count (or a few more: wrk stops with
   requests in flight), so every 204 was committed counts;
3. logs in as the owner (contacts.py's login) and times sequential GETs (after 3
   warm-ups, contacts.py's latency) of the site page and of "What works": the default
   30 days, ?by=page over a year, ?by=month and ?by=widget over two years, and the CSV of
   by=page over two years. Each must be 200 and show what the database holds (the
   range's shown, the top page, the first month, a widget's name).

Targets (issue 16): beacons >= 0.5x hello-world (the median of each round's ratio) and
p95 <= 200 ms for every page. A miss is reported and the exit code stays 0; an error (a
non-2xx, counts that do not add up, a wrong page) exits 1.
"""
from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import time
import urllib.error
from datetime import datetime, timedelta, timezone
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))  # the other benchmarks' helpers, wherever this starts
from contacts import OWNER, PASSWORD, latency, login, per_database  # noqa: E402
from dashboard import SERIES  # noqa: E402
from run import (ORIGIN, ROOT, BenchError, free_port, gunicorn, query_one,  # noqa: E402
                 seed_site, wait_ready, wrk)

BEACON_RATIO = 0.5  # minimum beacons/s as a share of hello-world's req/s
PAGE_P95_MS = 200
COUNTERS = ("shown", "opened", "closed", "signed_up", "confirmed", "downloaded", "referred",
            "stories")
LANGS = (("en", 70), ("de", 30))  # key, per cent of the 'all' row
DEVICES = (("mobile", 55), ("desktop", 35), ("tablet", 10))

# One thread's n-th beacon: a page of the PAGES (id and n spread them), the bench widget.
BEACON_LUA = """
local next_id = 1
function setup(thread) thread:set("id", next_id); next_id = next_id + 1 end
function init(args) n = 0 end
function request()
  n = n + 1
  local body = string.format('{"page":"/p-%d","lang":"en","device":"mobile","events":['
    .. '{"widget":"WIDGET","type":"impression"},{"widget":"WIDGET","type":"open"}]}',
    (id * 7919 + n * 13) % PAGES)
  return wrk.format("POST", nil, nil, body)
end
"""

DAY = {"sqlite": "date('{start}', '+' || d.n || ' days')", "postgresql": "DATE '{start}' + d.n"}
WIDGETS = "w AS (SELECT id, row_number() OVER (ORDER BY id) AS n FROM widgets " \
          "WHERE site_id = '{site}')"
COLUMNS = "site_id, widget_id, variant, day, dim, key, " + ", ".join(COUNTERS)
# Page rows: widget w's day d has per_day distinct paths (j * step apart); shown falls off
# as 1/(j+1) and grows by half over the days; h varies the shares.
PAGE_ROWS = """{d}, {j}, {w},
b AS (SELECT w.id AS widget, {day} AS day,
        '/p-' || ((w.n * 53 + d.n * 7 + j.n * {step}) % {pages}) AS key,
        (150 / (j.n + 1) + (w.n * 7 + d.n * 3 + j.n * 5) % 10) * ({days} + d.n) / {days}
          AS shown,
        (w.n * 11 + d.n * 5 + j.n * 3) % 12 AS h
      FROM w, d, j),
o AS (SELECT b.*, shown * (8 + h) / 100 AS opened FROM b),
s AS (SELECT o.*, opened * (10 + h) / 100 AS signed_up FROM o)
INSERT INTO stat_days ({columns})
SELECT '{site}', widget, 0, day, 'page', key, shown, opened, opened * 6 / 10, signed_up,
  signed_up * 7 / 10, signed_up * 4 / 10, signed_up / 10, CASE WHEN h = 0 THEN 1 ELSE 0 END
FROM s"""
ALL_ROWS = """INSERT INTO stat_days ({columns})
SELECT site_id, widget_id, 0, day, 'all', '', {sums} FROM stat_days
WHERE site_id = '{site}' AND dim = 'page' GROUP BY site_id, widget_id, day"""
SHARE_ROWS = """INSERT INTO stat_days ({columns})
SELECT site_id, widget_id, 0, day, '{dim}', k.key, {shares} FROM stat_days,
  ({keys}) k WHERE site_id = '{site}' AND dim = 'all'"""


def seed_counters(kind: str, dsn, args, site: str, widget: str, today) -> float:
    """The site's widgets copied up to --widgets, and --days of their counters up to
    `today`; the seconds taken."""
    began = time.monotonic()
    if kind == "sqlite":
        import sqlite3
        conn = sqlite3.connect(dsn)
        conn.execute("PRAGMA synchronous = OFF")
    else:
        import psycopg
        conn = psycopg.connect(dsn)
    names = [c[0] for c in conn.execute("SELECT * FROM widgets WHERE 1 = 0").description]
    copies = {"id": "'w_bench' || i", "name": "'Bench widget ' || i"}
    if args.widgets > 1:
        conn.execute(SERIES[kind].format(n=args.widgets - 1)
                     + f"\nINSERT INTO widgets ({', '.join(names)}) SELECT "
                     + ", ".join(copies.get(c, c) for c in names)
                     + f" FROM seq, widgets WHERE widgets.id = '{widget}'")
    if kind == "sqlite":
        d = f"WITH RECURSIVE d(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM d " \
            f"WHERE n < {args.days - 1})"
        j = f"j(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM j WHERE n < {args.per_day - 1})"
    else:
        d = f"WITH d(n) AS (SELECT generate_series(0, {args.days - 1}))"
        j = f"j(n) AS (SELECT generate_series(0, {args.per_day - 1}))"
    start = today - timedelta(days=args.days - 1)
    conn.execute(PAGE_ROWS.format(
        d=d, j=j, w=WIDGETS.format(site=site), day=DAY[kind].format(start=start),
        step=args.pages // args.per_day, pages=args.pages, days=args.days, columns=COLUMNS,
        site=site))
    conn.execute(ALL_ROWS.format(columns=COLUMNS, site=site,
                                 sums=", ".join(f"sum({c})" for c in COUNTERS)))
    for dim, keys in (("lang", LANGS), ("device", DEVICES)):
        conn.execute(SHARE_ROWS.format(
            columns=COLUMNS, site=site, dim=dim,
            keys=" UNION ALL ".join(f"SELECT '{k}' AS key, {pct} AS pct" for k, pct in keys),
            shares=", ".join(f"{c} * k.pct / 100" for c in COUNTERS)))
    conn.commit()
    if kind != "sqlite":  # autovacuum would soon do this after a bulk load; don't wait
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE")
    conn.close()
    return time.monotonic() - began


def beacon_counts(kind: str, dsn, widget: str) -> tuple[int, int, int]:
    """The widget's shown and opened (dim 'all') and its page rows' shown, all days, in
    one statement (one snapshot)."""
    return query_one(kind, dsn, "SELECT "
                     "(SELECT coalesce(sum(shown), 0) FROM stat_days WHERE widget_id = ? "
                     "AND dim = 'all'), "
                     "(SELECT coalesce(sum(opened), 0) FROM stat_days WHERE widget_id = ? "
                     "AND dim = 'all'), "
                     "(SELECT coalesce(sum(shown), 0) FROM stat_days WHERE widget_id = ? "
                     "AND dim = 'page')", (widget, widget, widget))


def check_beacons(accepted: int, before, after, in_flight: int) -> int:
    """Every 2xx beacon added one shown and one open, in all and by page; wrk stops with
    up to one request per connection in flight, which may still have counted."""
    shown, opened, paged = (a - b for a, b in zip(after, before))
    if not accepted <= shown <= accepted + in_flight or not shown == opened == paged:
        raise BenchError(f"{accepted} beacons answered 2xx, but shown grew by {shown}, "
                         f"opened by {opened} and shown by page by {paged}")
    return shown


def beacons(args, kind: str, dsn, app_url: str, hello_url: str, site: str, widget: str,
            tmp: Path) -> dict:
    """Rounds of hello-world, then beacons; medians, and each round's ratio."""
    lua = tmp / "beacon.lua"
    lua.write_text(BEACON_LUA.replace("WIDGET", widget).replace("PAGES", str(args.pages)))
    runs = {"hello": dict(url=f"{hello_url}/"),
            "beacons": dict(url=f"{app_url}/api/v1/sites/{site}/events", script=lua,
                            headers=[f"Origin: {ORIGIN}", "Content-Type: text/plain"])}
    load = dict(threads=args.threads, connections=args.connections)
    for name, run in runs.items():
        print(f"  {kind}: {name}: warm-up {args.warmup}s", flush=True)
        wrk(seconds=args.warmup, **load, **run)
    rounds = []
    for i in range(args.rounds):
        print(f"  {kind}: round {i + 1}/{args.rounds}: {args.duration}s each ...", flush=True)
        got = {"hello": wrk(seconds=args.duration, **load, **runs["hello"])}
        before = beacon_counts(kind, dsn, widget)
        got["beacons"] = wrk(seconds=args.duration, **load, **runs["beacons"])
        counted = check_beacons(got["beacons"]["requests"], before,
                                beacon_counts(kind, dsn, widget), args.connections)
        print(f"    beacons: {got['beacons']['requests']} answered 2xx, {counted} counted "
              "(shown and opened, in all and by page)", flush=True)
        got["beacons"]["ratio"] = got["beacons"]["rps"] / got["hello"]["rps"]
        rounds.append(got)
    out = {name: {key: statistics.median(r[name][key] for r in rounds)
                  for key in ("rps", "p50_ms", "p99_ms")} for name in runs}
    out["beacons"]["ratio"] = statistics.median(r["beacons"]["ratio"] for r in rounds)
    out["beacons"]["ratios"] = [round(r["beacons"]["ratio"], 3) for r in rounds]
    return out


def pages(kind: str, dsn, base: str, site: str, today, days: int) -> dict:
    """Every page timed: (url, texts it must show), read from the database as the pages
    read it."""
    def span(n: int) -> tuple[str, str]:
        return (today - timedelta(days=n - 1)).isoformat(), today.isoformat()

    def shown(first: str, last: str, dim: str = "all") -> int:
        return query_one(kind, dsn, "SELECT sum(shown) FROM stat_days WHERE site_id = ? "
                         "AND dim = ? AND day >= ? AND day <= ?", (site, dim, first, last))[0]

    def top_page(first: str, last: str) -> str:
        return query_one(kind, dsn, "SELECT key FROM stat_days WHERE site_id = ? AND "
                         "dim = 'page' AND day >= ? AND day <= ? GROUP BY key "
                         "ORDER BY sum(shown) DESC, key LIMIT 1", (site, first, last))[0]

    month, year, two = span(30), span(365), span(days)
    whole = "2 years" if days == 730 else f"{days} days"
    last_widget, last_shown = query_one(
        kind, dsn, "SELECT w.name, coalesce(sum(s.shown), 0) FROM widgets w LEFT JOIN "
        "stat_days s ON s.widget_id = w.id AND s.dim = 'all' AND s.day >= ? "
        "WHERE w.site_id = ? GROUP BY w.id, w.name ORDER BY w.id DESC LIMIT 1",
        (month[0], site))
    first_month = datetime.fromisoformat(two[0]).strftime("%B %Y")
    stats = f"{base}/stats"
    return {
        "site page": (base, [f"{last_widget}<", f"{last_shown:,} shown"]),
        "stats 30 days": (stats, ["<h1>What works</h1>", f"{shown(*month):,}"]),
        "by page, 1 year": (f"{stats}?from={year[0]}&to={year[1]}&by=page",
                            [f"{shown(*year):,}", f">{top_page(*year)}<"]),
        f"by month, {whole}": (f"{stats}?from={two[0]}&to={two[1]}&by=month",
                              [f"{shown(*two):,}", f">{first_month}<"]),
        f"by widget, {whole}": (f"{stats}?from={two[0]}&to={two[1]}&by=widget",
                               [f"{shown(*two):,}", f">{last_widget}<"]),
        f"CSV by page, {whole}": (f"{stats}.csv?from={two[0]}&to={two[1]}&by=page",
                                 ["signup_rate", f"{top_page(*two)},"]),
    }


def bench_database(kind: str, args, tmp: Path, db_url: str | None, servers: list) -> dict:
    tmp.mkdir(parents=True)
    app_port, hello_port = free_port(), free_port()
    app_url, hello_url = f"http://127.0.0.1:{app_port}", f"http://127.0.0.1:{hello_port}"
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("WIDGET_") and k not in ("DATABASE_URL", "GUNICORN_CMD_ARGS")}
    env.update(WIDGET_INSTANCE_PATH=str(tmp / "instance"), WIDGET_RATE_LIMITS="off",
               WIDGET_BASE_URL=app_url, WIDGET_WORKER="off")
    if db_url:
        env["DATABASE_URL"] = db_url
    kind, dsn, site = seed_site(env, tmp, db_url, OWNER, PASSWORD)
    widget = query_one(kind, dsn, "SELECT id FROM widgets WHERE site_id = ?", (site,))[0]
    today = datetime.now(timezone.utc).date()  # the site's today: new sites are on UTC
    rows = args.widgets * args.days * (args.per_day + 1 + len(LANGS) + len(DEVICES))
    print(f"  {kind}: seeding {args.widgets} widgets' {args.days} days ({rows:,} rows) ...",
          flush=True)
    seconds = seed_counters(kind, dsn, args, site, widget, today)
    print(f"  {kind}: seeded in {seconds:.1f}s", flush=True)

    logs = {"app": tmp / "app.log", "hello": tmp / "hello.log"}
    servers.append(gunicorn("widget:create_app()", app_port, ROOT, env, logs["app"],
                            args.workers))
    servers.append(gunicorn("hello:app", hello_port, BENCH, env, logs["hello"], args.workers))
    wait_ready(servers[0], f"{app_url}/healthz", logs["app"])
    wait_ready(servers[1], f"{hello_url}/", logs["hello"])
    wrk_figures = beacons(args, kind, dsn, app_url, hello_url, site, widget, tmp)

    opener = login(app_url)
    lat = {}
    for name, (url, must) in pages(kind, dsn, f"{app_url}/dashboard/sites/{site}", site,
                                   today, args.days).items():
        print(f"  {kind}: {name}: {args.requests} sequential requests ...", flush=True)
        try:
            lat[name] = {"url": url.removeprefix(app_url),
                         **latency(opener, url, args.requests, must)}
        except urllib.error.HTTPError as exc:  # an error page is a failure, never a figure
            raise BenchError(f"{name}: {url} answered {exc.code}") from None
    problems = [f"{name}: {line}" for name, log in logs.items()
                for line in log.read_text(errors="replace").splitlines()
                if re.search(r"\[(ERROR|CRITICAL)\]|Traceback|WORKER TIMEOUT", line)]
    return {"widgets": args.widgets, "days": args.days, "stat_days_rows": rows,
            "seed_seconds": seconds, "wrk": wrk_figures, "latency": lat,
            "server_log_problems": problems}


def report(figures: dict) -> None:
    print("\nbeacons: medians over the rounds; 'vs hello' is the median of each round's ratio")
    print(f"{'database':<12}{'target':<10}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}"
          f"{'vs hello':>10}  per round")
    for kind, fig in figures.items():
        for name, r in fig["wrk"].items():
            ratio = f"{r['ratio']:.0%}" if "ratio" in r else ""
            rounds = " ".join(f"{x:.0%}" for x in r.get("ratios", ()))
            print(f"{kind:<12}{name:<10}{r['rps']:>10.1f}{r['p50_ms']:>10.2f}"
                  f"{r['p99_ms']:>10.2f}{ratio:>10}  {rounds}")
    print(f"\n{'database':<12}{'page':<22}{'p50 ms':>10}{'p95 ms':>10}{'max ms':>10}"
          f"{'first ms':>10}")
    for kind, fig in figures.items():
        for name, r in fig["latency"].items():
            print(f"{kind:<12}{name:<22}{r['p50_ms']:>10.1f}{r['p95_ms']:>10.1f}"
                  f"{r['max_ms']:>10.1f}{r['first_ms']:>10.1f}")
    print("\ntargets")
    for kind, fig in figures.items():
        ratio = fig["wrk"]["beacons"]["ratio"]
        checks = [(f"beacons >= {BEACON_RATIO:.0%} of hello", ratio >= BEACON_RATIO,
                   f"{ratio:.0%}")]
        checks += [(f"{name} p95 <= {PAGE_P95_MS} ms", r["p95_ms"] <= PAGE_P95_MS,
                    f"{r['p95_ms']:.0f} ms") for name, r in fig["latency"].items()]
        fig["targets"] = {}
        for label, ok, got in checks:
            fig["targets"][label] = {"pass": ok, "value": got}
            print(f"  {'PASS' if ok else 'MISS'}  {kind:<11} {label:<38} ({got})")
        if fig["server_log_problems"]:
            print(f"\n{kind} server log problems:", *fig["server_log_problems"][:20],
                  sep="\n  ")


def parse_args():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--widgets", type=int, default=50, help="widgets of the site (50)")
    p.add_argument("--days", type=int, default=730,
                   help="days of counters up to today, at most 1,098 (730)")
    p.add_argument("--pages", type=int, default=1000, help="page paths (1,000)")
    p.add_argument("--pages-per-day", dest="per_day", type=int, default=20,
                   help="page rows per widget and day (20)")
    p.add_argument("--requests", type=int, default=20,
                   help="sequential requests per page, after 3 warm-ups (20)")
    p.add_argument("--duration", type=int, default=5, help="seconds per wrk run (5)")
    p.add_argument("--rounds", type=int, default=3,
                   help="rounds of hello, then beacons; medians are reported (3)")
    p.add_argument("--warmup", type=int, default=2, help="seconds of warm-up per target (2)")
    p.add_argument("--threads", type=int, default=2, help="wrk threads (2)")
    p.add_argument("--connections", type=int, default=32, help="wrk connections (32)")
    p.add_argument("--workers", type=int, default=2, help="gunicorn sync workers (2)")
    p.add_argument("--database-url", "--postgres", metavar="URL", dest="postgres",
                   help="also on PostgreSQL, in a throw-away database made on this server "
                        "(needs CREATEDB), e.g. "
                        "postgresql+psycopg://postgres@127.0.0.1:5433/postgres")
    p.add_argument("--no-sqlite", action="store_true", help="with --database-url, skip SQLite")
    p.add_argument("--json", metavar="FILE", help="also write the figures to FILE as JSON")
    args = p.parse_args()
    if args.no_sqlite and not args.postgres:
        p.error("--no-sqlite needs --database-url")
    if not 365 <= args.days <= 3 * 366:  # the pages ask for a year; a query spans <= 3 years
        p.error("--days must be 365 to 1,098")
    if args.widgets < 1 or not 1 <= args.per_day <= args.pages:
        p.error("--widgets must be at least 1, --pages-per-day 1 to --pages")
    return args


def main() -> int:
    args = parse_args()
    return per_database(args, f"insight benchmark, {args.widgets} widgets, {args.days} days, "
                        f"{args.pages:,} pages", "widget-insight-bench-", bench_database,
                        report, needs_sqlite3=False)


if __name__ == "__main__":
    sys.exit(main())
