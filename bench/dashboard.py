"""Benchmark every dashboard page with a table, first and last page, at a million rows
(issue 15, part 3).

One run per database (SQLite in a temp folder; with --database-url also PostgreSQL, in a
throw-away database created on that server and dropped after) seeds straight into the
database: N contacts with their consents, status changes, tags and two gifts' grants
(bench/contacts.py's seed), then with set-based SQL M outbox rows for the site over the
past year (one in six a delivery of one webhook, each with its event; of the e-mails most
sent, one in 49 failed), a few thousand held referrals, pending stories and three
imports. PostgreSQL is vacuumed and analyzed after the load, as autovacuum soon would.
It then serves the app with gunicorn, logs in as the owner and times sequential GETs
(after 3 warm-ups) of the first and the last page (?last=1, or ?sort=oldest on the
contacts page) of: the site page (sign-ups, the failed e-mails' count, the audit log),
contacts, the outbox, a gift's ledger, held referrals, pending stories, the webhook's
deliveries and imports. Every answer must be 200 and show the page's count and its
newest (or oldest) row, as the database orders them, so no error page is timed.

Target (issue 15): p95 <= 150 ms for every page, first and last. A miss is reported, and
the exit code stays 0; an error (a wrong page, a failed seed) exits 1. At the default
sizes on 2 shared cores (bench/README.md has the runs and the EXPLAINs) held referrals
miss on both databases, the contacts page on PostgreSQL and the site page on SQLite;
the keyset tables themselves take a few milliseconds.
"""
from __future__ import annotations

import argparse
import os
import re
import sys
import time
import urllib.error
from datetime import datetime, timezone
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))  # contacts.py's and run.py's helpers, wherever this starts
from contacts import (GIFTS, OWNER, PASSWORD, PAGE_P95_MS, latency, login,  # noqa: E402
                      per_database, query_one, seed)
from run import (ROOT, BenchError, free_port, gunicorn, seed_site,  # noqa: E402
                 wait_ready)

from widget.core.keyset import counted  # noqa: E402 (the pages' "10,000+")

PAGE_SIZE = 50  # owned.py's pages (PAGE_SIZE)
WEBHOOK_EVERY = 6  # one outbox row in 6 is a webhook delivery
FAILED_EVERY = 49  # one in 49 failed (coprime to 6: e-mails and deliveries alike)
MAIL_KINDS = ("confirm", "welcome", "gift", "followup", "reward")
EVENT_TYPES = ("contact.created", "contact.confirmed", "contact.unsubscribed")
IMPORTS = 3
YEAR = 365 * 24 * 3600

# The row i of a generated series, its time spread evenly over the past year (seconds).
SERIES = {"sqlite": "WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq "
                    "WHERE i < {n})",
          "postgresql": "WITH seq(i) AS (SELECT generate_series(1, {n}))"}
AT = {"sqlite": "(datetime({start} + (i * {span}) / {n}, 'unixepoch') || '.000000')",
      "postgresql": "to_timestamp({start} + (i::bigint * {span}) / {n})"}
EXPIRES = {"sqlite": "datetime(released_at, '+' || valid_days || ' days') "
                     "|| substr(released_at, 20)",
           "postgresql": "released_at + valid_days * interval '1 day'"}
NOW = {"sqlite": "(datetime('now') || '.000000')", "postgresql": "now()"}
LATER = {"sqlite": "(datetime({start} + (i * {span}) / {n} + 2, 'unixepoch') || '.000000')",
         "postgresql": "to_timestamp({start} + (i::bigint * {span}) / {n} + 2)"}

EVENTS = """{seq}
INSERT INTO events (id, public_id, site_id, type, contact_id, payload, created_at)
SELECT {ev0} + i / 6, 'msg_bench' || (i / 6), '{site}',
  CASE (i / 6) % 3 WHEN 0 THEN 'contact.created' WHEN 1 THEN 'contact.confirmed'
    ELSE 'contact.unsubscribed' END,
  ((i - 1) % {contacts}) + 1, '{{"bench": true}}', {at}
FROM seq WHERE i % 6 = 0"""
DELIVERIES = """{seq}
INSERT INTO outbox (site_id, kind, mailbox, lang, status, attempts, next_attempt_at,
  created_at, message_id, event_id, webhook_id, contact_id, response_status, response,
  last_error, sent_at)
SELECT '{site}', 'webhook', '', '', CASE WHEN i % 49 = 0 THEN 'failed' ELSE 'sent' END,
  CASE WHEN i % 49 = 0 THEN 5 ELSE 1 END, {at}, {at}, 'msg_bench' || (i / 6),
  {ev0} + i / 6, {hook}, ((i - 1) % {contacts}) + 1,
  CASE WHEN i % 49 = 0 THEN 500 ELSE 200 END,
  CASE WHEN i % 49 = 0 THEN 'Internal Server Error' ELSE 'ok' END,
  CASE WHEN i % 49 = 0 THEN 'HTTP 500' END, CASE WHEN i % 49 <> 0 THEN {later} END
FROM seq WHERE i % 6 = 0"""
MAILS = """{seq}
INSERT INTO outbox (site_id, subscriber_id, kind, mailbox, lang, status, attempts,
  next_attempt_at, created_at, message_id, transport, last_error, sent_at)
SELECT s.site_id, s.id,
  CASE i % 5 WHEN 0 THEN 'confirm' WHEN 1 THEN 'welcome' WHEN 2 THEN 'gift'
    WHEN 3 THEN 'followup' ELSE 'reward' END,
  s.email_normalized, s.lang, CASE WHEN i % 49 = 0 THEN 'failed' ELSE 'sent' END,
  CASE WHEN i % 49 = 0 THEN 5 ELSE 1 END, {at}, {at}, '<bench' || i || '@bench.example>',
  'smtp', CASE WHEN i % 49 = 0 THEN '550 5.1.1 mailbox unavailable (bench)' END,
  CASE WHEN i % 49 <> 0 THEN {later} END
FROM seq JOIN subscribers s ON s.id = ((i - 1) % {contacts}) + 1 WHERE i % 6 <> 0"""
# Held referrals: friend 7i brought by 7i - 1 (distinct friends, nobody their own).
REFERRALS = """{seq}
INSERT INTO referrals (site_id, referrer_id, referred_id, status, reason, ip_range,
  created_at)
SELECT '{site}', 7 * i - 1, 7 * i, 'held', 'same_network', '203.0.113.0/24', {at}
FROM seq"""
STORIES = """{seq}
INSERT INTO stories (site_id, widget_id, name, email, text, rating, consent_publish,
  consent_text, lang, page_url, status, created_at)
SELECT '{site}', '{widget}', 'Reader ' || i, 'reader' || i || '@example.com',
  'Story ' || i || ': the checklist saved me an afternoon.', 1 + i % 5, i % 2 = 0,
  'You may show my story on this site.', 'en', 'https://blog.example/post', 'pending', {at}
FROM seq"""
IMPORT_ROWS = """{seq}
INSERT INTO contact_imports (site_id, actor, filename, size, status, pace, rows, done, new,
  updated, unchanged, invalid, created_at, finished_at)
SELECT '{site}', '{owner}', 'bench-import-' || i || '.csv', 1000 * i, 'done', 100, 10, 10,
  10, 0, 0, 0, {at}, {at}
FROM seq"""


def seed_rest(kind: str, dsn, args, site: str, widget: str) -> tuple[int, float]:
    """The outbox, the webhook and its events, held referrals, pending stories and
    imports, in set-based SQL; the webhook's id and the seconds taken."""
    began = time.monotonic()
    start = int(datetime.now(timezone.utc).timestamp()) - YEAR
    if kind == "sqlite":
        import sqlite3
        conn = sqlite3.connect(dsn)
        conn.execute("PRAGMA synchronous = OFF")
    else:
        import psycopg
        conn = psycopg.connect(dsn)
    hook = conn.execute(
        "INSERT INTO webhooks (site_id, url, events, description, secret, enabled, "
        f"created_at) VALUES ('{site}', 'https://hooks.example/bench', '', 'bench', "
        f"'not sealed: nothing is delivered', TRUE, {NOW[kind]}) RETURNING id").fetchone()[0]
    ev0 = conn.execute("SELECT coalesce(max(id), 0) FROM events").fetchone()[0]

    def run(sql: str, n: int) -> None:
        if n:
            times = {k: f.format(start=start, span=YEAR, n=n) for k, f in
                     (("at", AT[kind]), ("later", LATER[kind]))}
            conn.execute(sql.format(seq=SERIES[kind].format(n=n), site=site, widget=widget,
                                    owner=OWNER, hook=hook, ev0=ev0, contacts=args.subscribers,
                                    **times))

    # contacts.seed releases its link grants without the end of their link: set it as
    # a release does (valid_days on), or the ledger cannot say whether a link expired.
    conn.execute(f"UPDATE gift_grants SET expires_at = {EXPIRES[kind]} "
                 "WHERE expires_at IS NULL AND released_at IS NOT NULL")
    run(EVENTS, args.outbox)
    run(DELIVERIES, args.outbox)
    run(MAILS, args.outbox)
    run(REFERRALS, args.held)
    run(STORIES, args.stories)
    run(IMPORT_ROWS, IMPORTS)
    if kind != "sqlite":
        conn.execute("SELECT setval('events_id_seq', (SELECT max(id) FROM events))")
    conn.commit()
    if kind != "sqlite":  # autovacuum would soon do this after a bulk load; don't wait
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE")
    conn.close()
    return hook, time.monotonic() - began


def edges(kind: str, dsn, table: str, column: str, where: str) -> tuple[str, str]:
    """`column` of the newest and of the oldest row of `table` where `where`, in the
    pages' order (created_at, then id)."""
    def one(direction: str):
        return str(query_one(kind, dsn, f"SELECT {column} FROM {table} WHERE {where} "
                             f"ORDER BY created_at {direction}, id {direction} LIMIT 1")[0])
    return one("DESC"), one("ASC")


def count(kind: str, dsn, table: str, where: str) -> int:
    return query_one(kind, dsn, f"SELECT count(*) FROM {table} WHERE {where}")[0]


def pages(kind: str, dsn, base: str, site: str, hook: int, subscribers: int) -> dict:
    """Every page timed: (url, texts it must show), first and last."""
    mine = f"site_id = '{site}'"
    gift = GIFTS[0][0]
    pages = {}

    def pair(name: str, path: str, last: str, table: str, column: str, where: str,
             wrap: str, total: int | None = None) -> None:
        newest, oldest = edges(kind, dsn, table, column, where)
        total = count(kind, dsn, table, where) if total is None else total
        nav = [f"{counted(total)} in all"] if total > PAGE_SIZE else []
        pages[f"{name} first"] = (f"{base}{path}", [*nav, wrap.format(newest)])
        pages[f"{name} last"] = (f"{base}{path}{last}", [*nav, wrap.format(oldest)])

    failed = count(kind, dsn, "outbox", f"{mine} AND status = 'failed'")
    pair("site", "", "?last=1", "subscribers", "email", mine, ">{}<", subscribers)
    for name in ("site first", "site last"):
        pages[name][1].append(f"{counted(failed)} failed")
    newest, oldest = edges(kind, dsn, "subscribers", "email", mine)
    pages["contacts first"] = (f"{base}/contacts", [f"{counted(subscribers)} contacts",
                                                    f">{newest}<"])
    pages["contacts oldest"] = (f"{base}/contacts?sort=oldest",
                                [f"{counted(subscribers)} contacts", f">{oldest}<"])
    pair("outbox", "/outbox", "?last=1", "outbox", "id",
         f"{mine} AND kind NOT IN ('referral', 'webhook', 'sync')", '/outbox/{}"')
    pair("ledger", f"/gifts/{gift}", "?last=1", "gift_grants g", "(SELECT email FROM "
         "subscribers s WHERE s.id = g.subscriber_id)", f"gift_id = '{gift}'", ">{}<")
    pair("referrals", "/referrals", "?last=1", "referrals r", "(SELECT email FROM "
         "subscribers s WHERE s.id = r.referred_id)", f"{mine} AND status = 'held'", ">{}<")
    pair("stories", "/stories?status=pending", "&last=1", "stories", "name",
         f"{mine} AND status = 'pending'", ">{}</h2>")
    pair("webhook", f"/webhooks/{hook}", "?last=1", "outbox", "message_id",
         f"webhook_id = {hook} AND kind = 'webhook'", "<code>{}</code>")
    pair("imports", "/imports", "?last=1", "contact_imports", "filename", mine, ">{}<")
    return pages


def bench_database(kind: str, args, tmp: Path, db_url: str | None, servers: list) -> dict:
    tmp.mkdir(parents=True)
    port = free_port()
    app_url = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("WIDGET_") and k not in ("DATABASE_URL", "GUNICORN_CMD_ARGS")}
    env.update(WIDGET_INSTANCE_PATH=str(tmp / "instance"), WIDGET_RATE_LIMITS="off",
               WIDGET_BASE_URL=app_url, WIDGET_WORKER="off")
    if db_url:
        env["DATABASE_URL"] = db_url
    kind, dsn, site = seed_site(env, tmp, db_url, OWNER, PASSWORD)
    widget = query_one(kind, dsn, "SELECT id FROM widgets WHERE site_id = ?", (site,))[0]

    print(f"  {kind}: seeding {args.subscribers:,} contacts ...", flush=True)
    seconds = seed(kind, dsn, args.subscribers, site, widget)
    print(f"  {kind}: seeding {args.outbox:,} outbox rows, {args.held:,} held referrals, "
          f"{args.stories:,} stories ...", flush=True)
    hook, rest = seed_rest(kind, dsn, args, site, widget)
    print(f"  {kind}: seeded in {seconds:.1f}s + {rest:.1f}s", flush=True)

    log = tmp / "app.log"
    servers.append(gunicorn("widget:create_app()", port, ROOT, env, log, args.workers))
    wait_ready(servers[-1], f"{app_url}/healthz", log)
    opener = login(app_url)
    lat = {}
    for name, (url, must) in pages(kind, dsn, f"{app_url}/dashboard/sites/{site}", site,
                                   hook, args.subscribers).items():
        print(f"  {kind}: {name}: {args.requests} sequential requests ...", flush=True)
        try:
            lat[name] = {"url": url.removeprefix(app_url),
                         **latency(opener, url, args.requests, must)}
        except urllib.error.HTTPError as exc:  # an error page is a failure, never a figure
            raise BenchError(f"{name}: {url} answered {exc.code}") from None
    problems = [line for line in log.read_text(errors="replace").splitlines()
                if re.search(r"ERROR|CRITICAL|Traceback|WORKER TIMEOUT", line)]
    return {"subscribers": args.subscribers, "outbox": args.outbox, "held": args.held,
            "stories": args.stories, "seed_seconds": seconds + rest, "latency": lat,
            "server_log_problems": problems}


def report(figures: dict) -> None:
    print(f"\n{'database':<12}{'page':<18}{'p50 ms':>10}{'p95 ms':>10}{'max ms':>10}")
    for kind, fig in figures.items():
        for name, r in fig["latency"].items():
            print(f"{kind:<12}{name:<18}{r['p50_ms']:>10.1f}{r['p95_ms']:>10.1f}"
                  f"{r['max_ms']:>10.1f}")
    print("\ntargets")
    for kind, fig in figures.items():
        fig["targets"] = {}
        for name, r in fig["latency"].items():
            label, ok = f"{name} p95 <= {PAGE_P95_MS} ms", r["p95_ms"] <= PAGE_P95_MS
            fig["targets"][label] = {"pass": ok, "value": f"{r['p95_ms']:.0f} ms"}
            print(f"  {'PASS' if ok else 'MISS'}  {kind:<11} {label:<32} "
                  f"({r['p95_ms']:.0f} ms)")
        if fig["server_log_problems"]:
            print(f"\n{kind} server log problems:", *fig["server_log_problems"][:20],
                  sep="\n  ")


def parse_args():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--subscribers", type=int, default=1_000_000,
                   help="contacts to seed (1,000,000)")
    p.add_argument("--outbox", type=int, default=3_000_000,
                   help="outbox rows to seed, one in 6 a webhook delivery (3,000,000)")
    p.add_argument("--held", type=int, help="held referrals (3,000, or subscribers / 8)")
    p.add_argument("--stories", type=int, default=3000, help="pending stories (3,000)")
    p.add_argument("--requests", type=int, default=20,
                   help="sequential requests per page, after 3 warm-ups (20)")
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
    if args.subscribers < 1000 or args.outbox < 6 * PAGE_SIZE * 2:
        p.error("--subscribers must be at least 1,000 and --outbox at least 600")
    args.held = min(3000, args.subscribers // 8) if args.held is None else args.held
    if not 1 <= args.held <= (args.subscribers - 1) // 7 or args.stories < 1:
        p.error("--held must be 1 to subscribers / 7, --stories at least 1")
    return args


def main() -> int:
    args = parse_args()
    return per_database(args, f"dashboard benchmark, {args.subscribers:,} contacts, "
                        f"{args.outbox:,} outbox rows", "widget-dashboard-bench-",
                        bench_database, report, needs_sqlite3=False)


if __name__ == "__main__":
    sys.exit(main())
