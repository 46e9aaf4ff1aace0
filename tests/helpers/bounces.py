"""Helpers shared by the bounce test modules (tests/test_bounces.py and
tests/test_bounces_sending.py): a site with three confirmed readers and a blog feed (a
fixture), a new post queued as a letter, the outbox drained in this process, a reader
read back, and the return path an e-mail left with."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import insert, select

from widget.letters import schedule
from widget.mail import worker as mail_worker
from widget.models import Feed, FeedItem, Subscriber, utcnow

READERS = ("ann@reader.example", "bob@reader.example", "cy@reader.example")


@pytest.fixture
def site(make_site, query):
    """A site with three confirmed readers and a blog feed read before."""
    site_id = make_site()

    def fill(s):
        now = utcnow()
        s.execute(insert(Subscriber), [
            {"site_id": site_id, "email": e, "email_normalized": e, "status": "confirmed",
             "status_at": now, "lang": "en", "created_at": now, "updated_at": now}
            for e in READERS])
        s.add(Feed(site_id=site_id, lang="", url="https://blog.example/feed",
                   primed_at=now, next_poll_at=now + timedelta(hours=1)))
        s.commit()
    query(fill)
    return site_id


def new_post(app, query, site_id: str, n: int) -> None:
    """A new post on the blog, put into a letter and queued (schedule.tick)."""
    def add(s):
        feed = s.scalar(select(Feed).where(Feed.site_id == site_id))
        s.add(FeedItem(feed_id=feed.id, key=f"{n:064d}", title=f"Post {n}",
                       link=f"https://blog.example/{n}", summary="<p>New.</p>"))
        s.commit()
    query(add)
    assert schedule.tick(app)["queued"] >= 1


def drain(app) -> None:
    while mail_worker.drain_once(app):
        pass


def reader(query, email: str) -> Subscriber:
    return query(lambda s: s.scalar(select(Subscriber).where(Subscriber.email == email)))


def return_path(smtp, email: str, index: int = -1) -> str:
    """The envelope sender of the latest (or `index`th) e-mail the server took for `email`."""
    return [sender for sender, to in smtp.mailbox.envelopes if to == [email]][index]
