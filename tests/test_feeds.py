"""Blog feeds (issue 18, part 1): a feed served on loopback by a threaded HTTP server that
honours If-None-Match and If-Modified-Since, as RSS 2.0, Atom and JSON Feed. The first
poll keeps what is there as published; a new post is one new row; a 304 stores nothing;
a broken feed (500, not a feed, too big, too slow, a refused address) shows its error on
the site page and loses nothing; the 15-minute floor; `widget feed set/poll`; the
dashboard's page by role. On SQLite and PostgreSQL."""
from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
import requests
from click.testing import CliRunner
from sqlalchemy import select, update

from widget import settings
from widget.cli import main
from widget.core import db, outbound
from widget.letters import feeds, parse
from widget.models import AuditEntry, Feed, FeedItem, LetterPlan, Owner, SiteMember, utcnow

from .helpers.feeds import FORMATS, NEW_POST, POSTS, FeedServer, atom, json_feed, rss
from .helpers.http import csrf_post
from .helpers.waiting import wait_until

@pytest.fixture
def blog():
    server = FeedServer()
    yield server
    server.close()


@pytest.fixture
def app_config(app_config):
    """The test blog is on loopback: private addresses allowed (one test turns it off)."""
    return {**app_config, "WEBHOOK_ALLOW_PRIVATE": True}


def add_feed(app, site, url, lang=""):
    with app.app_context():
        feed = feeds.set_feed(db.session(), site, url, lang)
        db.session().commit()
        return feed.id


def items(query, feed_id):
    return query(lambda s: list(s.scalars(select(FeedItem).where(FeedItem.feed_id == feed_id)
                                          .order_by(FeedItem.id))))


def feed_row(query, feed_id):
    return query(lambda s: s.get(Feed, feed_id))


def later(minutes):
    return utcnow() + timedelta(minutes=minutes)


# Polling ----------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", list(FORMATS))
def test_first_poll_keeps_what_is_there_then_a_new_post_is_one_row(app, blog, make_site,
                                                                   query, kind):
    write, content_type = FORMATS[kind]
    site = make_site()
    blog.serve(write(POSTS), content_type)
    feed_id = add_feed(app, site, blog.url)

    [first] = feeds.poll_due(app)
    assert (first.status, first.new) == ("first", 2)
    kept = items(query, feed_id)
    assert [i.title for i in kept] == ["First post", "Second post"]  # oldest first
    assert all(i.at_first_poll for i in kept)
    # Atom's and JSON Feed's relative links are read against the feed's address
    base = "https://blog.example" if kind == "rss" else blog.url.rsplit("/", 1)[0]
    assert kept[0].link == base + "/p1"
    assert kept[1].summary == "About Second post"
    assert kept[1].published_at.replace(tzinfo=None).isoformat() == "2026-11-27T09:00:00"
    assert feeds.poll_due(app) == []  # not due again for 15 minutes

    blog.serve(write([*POSTS, NEW_POST]))
    [second] = feeds.poll_due(app, now=later(16))
    assert (second.status, second.new) == ("new", 1)
    assert blog.requests[-1].get("If-None-Match") == '"v1"'  # the conditional GET
    rows = items(query, feed_id)
    assert len(rows) == 3 and [r.title for r in rows if not r.at_first_poll] == ["Third post"]
    assert rows[2].queued_at is None and len({r.key for r in rows}) == 3


def test_a_304_stores_nothing_and_moves_only_the_poll_times(app, blog, make_site, query):
    blog.serve(rss(POSTS))
    feed_id = add_feed(app, make_site(), blog.url)
    feeds.poll_due(app)
    before = feed_row(query, feed_id)
    [again] = feeds.poll_due(app, now=later(16))
    assert again.status == "unchanged" and blog.not_modified == 1
    after = feed_row(query, feed_id)
    assert len(items(query, feed_id)) == 2
    assert after.polled_at > before.polled_at and after.next_poll_at > before.next_poll_at
    assert (after.etag, after.last_modified, after.primed_at) == (
        before.etag, before.last_modified, before.primed_at)


def test_without_an_etag_last_modified_makes_the_get_conditional(app, blog, make_site):
    blog.etag_on = False
    blog.serve(atom(POSTS), "application/atom+xml")
    add_feed(app, make_site(), blog.url)
    feeds.poll_due(app)
    [again] = feeds.poll_due(app, now=later(16))
    assert "If-None-Match" not in blog.requests[-1]
    assert blog.requests[-1]["If-Modified-Since"].endswith("GMT")
    assert again.status == "unchanged" and blog.not_modified == 1


def test_the_floor_of_fifteen_minutes(app, blog, make_site, monkeypatch):
    app.config["FEED_POLL_MINUTES"] = 1  # below the floor: the floor wins
    blog.serve(rss(POSTS))
    add_feed(app, make_site(), blog.url)
    assert len(feeds.poll_due(app)) == 1
    assert feeds.poll_due(app, now=later(14)) == [] and len(blog.requests) == 1
    assert len(feeds.poll_due(app, now=later(15.1))) == 1 and len(blog.requests) == 2
    monkeypatch.setenv("WIDGET_FEED_POLL_MINUTES", "5")
    with pytest.raises(settings.ConfigError, match="at least 15"):
        settings.load()


BROKEN = {
    "500": (lambda b: setattr(b, "status", 500), "HTTP 500 (Internal Server Error)"),
    "not a feed": (lambda b: b.serve(b"<!doctype html><html><body>Hello</body></html>",
                                     "text/html"), "a web page, not a feed"),
    "not JSON Feed": (lambda b: b.serve(b'{"hello": 1}', "application/json"),
                      "not a JSON Feed"),
    "too big": (lambda b: b.serve(rss(POSTS) + b" " * feeds.MAX_FEED), "larger than 2 MB"),
    "slow": (lambda b: setattr(b, "delay", 1.5), "within 0.5 seconds"),
    "dripping": (lambda b: (b.serve(rss(POSTS)), setattr(b, "drip", 0.05)),
                 "within 0.5 seconds"),
}


@pytest.mark.parametrize("how", list(BROKEN))
def test_a_broken_feed_shows_its_error_on_the_site_page_and_loses_nothing(
        app, ann, blog, make_site, query, how):
    breaks, said = BROKEN[how]
    site = make_site("ann@example.com")
    blog.serve(rss(POSTS))
    feed_id = add_feed(app, site, blog.url)
    feeds.poll_due(app)
    breaks(blog)
    [broken] = feeds.poll_due(app, now=later(16), timeout=0.5)
    assert broken.status == "error" and said in broken.error
    row = feed_row(query, feed_id)
    assert said in row.error and row.error_at is not None and row.primed_at is not None
    assert len(items(query, feed_id)) == 2
    page = ann.get(f"/dashboard/sites/{site}")
    assert "s feed is broken</h2>" in page.text and said in page.text.replace("&#39;", "'")

    blog.status, blog.delay, blog.drip = 200, 0.0, 0.0
    blog.serve(rss([*POSTS, NEW_POST]), "application/rss+xml")
    [mended] = feeds.poll_due(app, now=later(32))
    assert (mended.status, mended.new) == ("new", 1)
    assert feed_row(query, feed_id).error is None
    assert "feed is broken" not in ann.get(f"/dashboard/sites/{site}").text


def test_loopback_is_refused_unless_the_operator_allows_private_addresses(
        app, blog, make_site, query):
    app.config["WEBHOOK_ALLOW_PRIVATE"] = False
    blog.serve(rss(POSTS))
    feed_id = add_feed(app, make_site(), blog.url)
    [refused] = feeds.poll_due(app)
    assert refused.status == "error" and "127.0.0.1 is a loopback or private address" in \
        refused.error and "WIDGET_WEBHOOK_ALLOW_PRIVATE=on" in refused.error
    assert blog.requests == [] and items(query, feed_id) == []
    assert feed_row(query, feed_id).primed_at is None  # its first real poll is still to come


def test_a_redirect_is_followed_through_the_guard(app, blog, make_site, query):
    blog.serve(json_feed(POSTS), "application/feed+json")
    feed_id = add_feed(app, make_site(), blog.url.replace("/feed", "/old"))
    [done] = feeds.poll_due(app)
    assert (done.status, done.new) == ("first", 2) and len(blog.requests) == 2
    # JSON Feed's relative links are read against the address the feed came from
    assert items(query, feed_id)[0].link == blog.url.replace("/feed", "/p1")


def test_pollers_at_once_fetch_a_feed_once(app, blog, make_site, query):
    """The worker, `widget feed poll` and "Check now" at the same moment: one claim wins."""
    blog.serve(rss(POSTS))
    blog.delay = 0.3
    feed_id = add_feed(app, make_site(), blog.url)
    done = []
    threads = [threading.Thread(target=lambda: done.extend(feeds.poll_due(app)))
               for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert len(blog.requests) == 1 and [o.status for o in done] == ["first"]
    assert len(items(query, feed_id)) == 2


def test_the_outbox_worker_polls_due_feeds_between_batches(app, blog, make_site, query, worker):
    blog.serve(rss(POSTS))
    feed_id = add_feed(app, make_site(), blog.url)
    wait_until(lambda: feed_row(query, feed_id).primed_at, "the worker's first poll")
    assert len(items(query, feed_id)) == 2 and len(blog.requests) == 1


# Parsing and the GET helper ------------------------------------------------------------

def test_feedparser_is_given_bytes_never_a_path_or_url():
    for body in (b"/etc/passwd", b"https://example.com/feed.xml"):
        with pytest.raises(parse.NotAFeed):
            parse.entries(body, "text/plain", "https://blog.example/feed")


def test_an_entry_without_a_guid_is_known_by_its_link_and_one_without_either_is_skipped():
    body = (b'<rss version="2.0"><channel><title>B</title>'
            b"<item><title>Linked</title><link>https://blog.example/a</link></item>"
            b"<item><title>Nothing to know it by</title></item>"
            b"<item><title>Twice</title><link>https://blog.example/a</link></item>"
            b"<item><title>Script</title><guid>x</guid><link>javascript:alert(1)</link></item>"
            b"</channel></rss>")
    found = parse.entries(body, "application/rss+xml", "https://blog.example/feed")
    assert [(e.title, e.link) for e in found] == [("Linked", "https://blog.example/a"),
                                                  ("Script", None)]
    assert found[0].key == parse.key_of("https://blog.example/a") and len(found[0].key) == 64


def test_outbound_get_caps_the_size_and_the_time(blog):
    blog.serve(b"x" * 1000)
    with outbound.session(allow_private=True) as http:
        assert outbound.get(http, blog.url, {}, 1000).body == b"x" * 1000
        with pytest.raises(outbound.TooBig):
            outbound.get(http, blog.url, {}, 999)
        blog.serve(b"y" * 100)
        blog.drip = 0.02  # every byte in time, the whole far too late
        started = time.monotonic()
        with pytest.raises(requests.Timeout):
            outbound.get(http, blog.url, {}, 1000, timeout=0.5)
        assert time.monotonic() - started < 1.5


# The command line ------------------------------------------------------------------------

@pytest.fixture
def cli(app, monkeypatch, tmp_path):
    """`widget …` in this process, on the test's database, private addresses allowed."""
    monkeypatch.setenv("DATABASE_URL", app.config["DATABASE_URL"])
    monkeypatch.setenv("WIDGET_INSTANCE_PATH", str(tmp_path / "cli"))
    monkeypatch.setenv("WIDGET_WEBHOOK_ALLOW_PRIVATE", "on")
    runner = CliRunner()
    return lambda *args: runner.invoke(main, list(args), catch_exceptions=False)


def test_feed_set_and_poll_on_the_command_line(cli, blog, make_site, query):
    site = make_site()
    blog.serve(rss(POSTS))
    for bad, said in ((["--url", "ftp://blog.example/feed"], "https://"),
                      (["--url", "https://me:pw@blog.example/feed"], "passwords"),
                      (["--url", "https://blog.example/feed", "--lang", "sv"], "sv")):
        done = cli("feed", "set", "--site", site, "--mode", "each", *bad)
        assert done.exit_code != 0 and said in done.output
    assert cli("feed", "set", "--site", "s_nothing", "--url", blog.url,
               "--mode", "each").exit_code == 2
    assert cli("feed", "poll").exit_code == 2  # --once is not optional

    done = cli("feed", "set", "--site", site, "--url", blog.url + "?old", "--mode", "digest")
    assert done.exit_code == 0, done.output
    done = cli("feed", "set", "--site", site, "--url", blog.url, "--mode", "each")
    assert done.exit_code == 0 and "never mailed" in done.output
    [feed] = query(lambda s: list(s.scalars(select(Feed).where(Feed.site_id == site))))
    assert (feed.url, feed.lang) == (blog.url, "")  # replaced, one row
    assert query(lambda s: s.get(LetterPlan, site).mode) == "each"  # the site's plan
    kept = cli("feed", "set", "--site", site, "--url", blog.url)  # no --mode: plan kept
    assert kept.exit_code == 0 and "each new post at once" in kept.output
    mixed = cli("feed", "set", "--site", site, "--url", blog.url, "--mode", "each",
                "--lang", "nb")
    assert mixed.exit_code == 1 and "not both" in mixed.output

    polled = cli("feed", "poll", "--once")
    assert polled.exit_code == 0 and "first look: 2 post(s)" in polled.output
    assert "Letters: 0 new" in polled.output  # old posts are never mailed
    assert cli("feed", "poll", "--once").output.startswith("No feed is due.")
    blog.status = 503
    query(lambda s: (s.execute(update(Feed).values(next_poll_at=utcnow())), s.commit()))
    broken = cli("feed", "poll", "--once")
    assert broken.exit_code == 0 and "broken: The blog answered HTTP 503" in broken.output


# The dashboard -----------------------------------------------------------------------------

def test_the_feed_page_by_role(app, ann, blog, make_client, make_owner, make_site, query):
    site = make_site("ann@example.com")
    path = f"/dashboard/sites/{site}/letters"
    assert ann.get(path).status_code == 200
    refused = csrf_post(ann, path, {"url": "https://me:pw@blog.example/feed",
                                    "lang": ""})
    assert refused.status_code == 422 and "passwords" in refused.text
    blog.serve(rss(POSTS))
    saved = csrf_post(ann, path, {"url": blog.url, "lang": "nb"})
    assert saved.status_code == 302
    [feed] = query(lambda s: list(s.scalars(select(Feed).where(Feed.site_id == site))))
    assert feed.lang == "nb"
    entry = query(lambda s: s.scalar(select(AuditEntry).where(AuditEntry.site_id == site)))
    assert entry.action == "settings" and blog.url in entry.detail

    checked = csrf_post(ann, f"{path}/{feed.id}/check", {}, page=path)
    assert checked.status_code == 302
    page = ann.get(path).text
    assert "2 posts are there already" in page and "Second post" in page
    csrf_post(ann, f"{path}/{feed.id}/check", {}, page=path)
    assert "at most every 15 minutes" in ann.get(path).text and len(blog.requests) == 1

    make_owner("bob@example.com")
    bob = make_client()
    bob.login("bob@example.com")
    assert bob.get(path).status_code == 404
    assert csrf_post(bob, f"{path}/{feed.id}/check", {},
                     page="/dashboard/account").status_code == 404
    bob_id = query(lambda s: s.scalar(select(Owner.id).where(Owner.email == "bob@example.com")))
    query(lambda s: (s.add(SiteMember(site_id=site, email="bob@example.com", owner_id=bob_id,
                                      role="viewer", accepted_at=utcnow())), s.commit()))
    shown = bob.get(path)
    assert shown.status_code == 200 and "Check now" not in shown.text
    assert csrf_post(bob, path, {"url": "https://blog.example/x", "lang": ""},
                     page=f"/dashboard/sites/{site}").status_code == 403
    assert csrf_post(bob, f"{path}/{feed.id}/remove", {},
                     page=f"/dashboard/sites/{site}").status_code == 403
    removed = csrf_post(ann, f"{path}/{feed.id}/remove", {}, page=path)
    assert removed.status_code == 302
    assert query(lambda s: s.scalar(select(Feed.id).where(Feed.site_id == site))) is None
    assert items(query, feed.id) == []
