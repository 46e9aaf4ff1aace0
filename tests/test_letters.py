"""Letters of new posts (issue 18, parts 2–4): a feed on loopback, a real SMTP server and
the real worker. A new post reaches every confirmed reader once, in their language, and
nobody else; an old post never goes; a digest goes at Friday 09:00 in Europe/Oslo on
either side of a daylight-saving change (the clock given, not slept); a held letter waits
for Send; the pace; cancel; a worker killed mid-letter and started again sends the rest,
no one twice. On SQLite and PostgreSQL."""
from __future__ import annotations

import asyncio
import signal
import threading
from collections import Counter
from datetime import datetime, timedelta, timezone
from email import message_from_string
from email.policy import default

import pytest
from sqlalchemy import func, select, update

from widget.core import db, outbox
from widget.letters import feeds, schedule, sending
from widget.mail import letter
from widget.mail import worker as mail_worker
from widget.models import (
    Feed,
    FeedItem,
    Letter,
    LetterPlan,
    OutboxMessage,
    Site,
    Subscriber,
    utcnow,
)

from .helpers.feeds import NEW_POST, POSTS, FeedServer, rss
from .helpers.mail_faults import server_with, start_worker
from .helpers.smtp import Mailbox, links_in
from .helpers.waiting import wait_until

pytestmark = pytest.mark.real_smtp
UTC = timezone.utc
READERS = [("ann@example.com", "en", "confirmed"), ("bjorn@example.com", "nb", "confirmed"),
           ("clara@example.com", "de", "confirmed"), ("pia@example.com", "en", "pending"),
           ("ulf@example.com", "nb", "unsubscribed")]
INTRO = {"en": "There is something new at", "nb": "Det er noe nytt hos",
         "de": "es gibt etwas Neues bei"}


@pytest.fixture
def app_config(app_config):
    """The test blog is on loopback: private addresses allowed."""
    return {**app_config, "WEBHOOK_ALLOW_PRIVATE": True}


@pytest.fixture
def blog():
    server = FeedServer()
    yield server
    server.close()


def add_readers(query, site: str, readers) -> None:
    def add(s):
        for n, (email, lang, status) in enumerate(readers):
            s.add(Subscriber(site_id=site, email=email, email_normalized=email, lang=lang,
                             status=status, ref_code=f"code{n:04d}{site[-6:]}".lower()
                             if status == "confirmed" else None))
        s.commit()
    query(add)


def feed_with_new_post(app, query, site: str, blog, lang: str = "", now=None) -> None:
    """The blog's feed set and read once (its posts old), then a third post published
    and found: a new post waiting for a letter."""
    blog.serve(rss(POSTS))
    query(lambda s: (feeds.set_feed(s, site, blog.url, lang), s.commit()))
    query(lambda s: (s.execute(update(Feed).values(next_poll_at=now or utcnow())), s.commit()))
    assert [o.status for o in feeds.poll_due(app, now=now)] == ["first"]
    assert schedule.tick(app, now) == {"letters": 0, "due": 0, "queued": 0}  # old: never
    blog.serve(rss([*POSTS, NEW_POST]))
    query(lambda s: (s.execute(update(Feed).values(next_poll_at=now or utcnow())), s.commit()))
    assert [o.status for o in feeds.poll_due(app, now=now)] == ["new"]


def deliver_all(app) -> None:
    """The worker's turns until nothing is left to send."""
    while mail_worker.drain_once(app):
        pass


def letters_of(query, site: str) -> list[Letter]:
    return query(lambda s: list(s.scalars(select(Letter).where(Letter.site_id == site)
                                          .order_by(Letter.id))))


def test_a_new_post_reaches_every_confirmed_reader_once_in_their_language(
        app, client, make_site, query, smtp, blog):
    site = make_site(name="Fjord Notes")
    add_readers(query, site, READERS)
    feed_with_new_post(app, query, site, blog)
    assert schedule.tick(app)["queued"] == 3  # each new post at once: the three confirmed
    deliver_all(app)
    mails = smtp.mailbox.wait(3)
    assert sorted(m["To"].addresses[0].addr_spec for m in mails) == [
        "ann@example.com", "bjorn@example.com", "clara@example.com"]
    for mail in mails:
        lang = {"ann": "en", "bjorn": "nb", "clara": "de"}[mail["To"].addresses[0].username]
        text = mail.get_body(("plain",)).get_content()
        html = mail.get_body(("html",)).get_content()
        assert mail["Subject"] == "Fjord Notes: Third post"
        assert INTRO[lang] in text and "Third post" in html and "About Third post" in text
        assert "First post" not in text + html  # the old posts never go
        assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert "/share/" in text  # the reader's own share page: giving back
        web = next(link for link in links_in(mail) if "/letter/" in link)
        page = client.get(web.replace(app.config["BASE_URL"], ""))
        assert page.status_code == 200 and "Third post" in page.text
        assert "Fjord Notes" in page.text  # the site's page, with the way back to it
    schedule.tick(app)
    [letter] = letters_of(query, site)
    assert letter.status == "sent" and letter.finished_at is not None
    assert (letter.sent_count, letter.skipped_count, letter.failed_count) == (3, 0, 0)
    progress = query(lambda s: sending.progress(s, s.get(Letter, letter.id)))
    assert (progress.sent, progress.waiting, progress.readers) == (3, 0, 3)
    # Nothing more: the same post is never mailed again, whatever the worker does.
    deliver_all(app)
    assert schedule.tick(app)["queued"] == 0 and len(smtp.mailbox.messages) == 3


def test_a_feed_for_one_language_writes_only_to_its_readers(app, make_site, query, smtp, blog):
    site = make_site()
    add_readers(query, site, READERS)
    feed_with_new_post(app, query, site, blog, lang="nb")
    schedule.tick(app)
    deliver_all(app)
    assert [m["To"].addresses[0].addr_spec for m in smtp.mailbox.wait(1)] == [
        "bjorn@example.com"]
    assert INTRO["nb"] in smtp.mailbox.messages[0].get_body(("plain",)).get_content()


def test_a_reader_who_leaves_before_their_turn_is_skipped(app, make_site, query, smtp, blog):
    site = make_site()
    add_readers(query, site, READERS)
    feed_with_new_post(app, query, site, blog)
    schedule.tick(app)
    query(lambda s: (s.execute(update(Subscriber).where(Subscriber.email == "ann@example.com")
                               .values(status="unsubscribed")), s.commit()))
    deliver_all(app)
    smtp.mailbox.wait(2)
    assert "ann@example.com" not in {m["To"].addresses[0].addr_spec
                                     for m in smtp.mailbox.messages}
    skipped = query(lambda s: s.scalar(select(OutboxMessage.last_error).where(
        OutboxMessage.kind == "letter", OutboxMessage.status == "skipped")))
    assert skipped == "the subscriber unsubscribed before it was sent"


def test_next_time_keeps_the_wall_clock_across_daylight_saving():
    plan = LetterPlan(days="4", at="09:00")
    oslo = "Europe/Oslo"
    summer = schedule.next_time(plan, oslo, datetime(2026, 10, 21, 12, tzinfo=UTC))
    assert summer == datetime(2026, 10, 23, 7, tzinfo=UTC)  # 09:00 CEST, a Friday
    winter = schedule.next_time(plan, oslo, summer)  # clocks go back on 25 October
    assert winter == datetime(2026, 10, 30, 8, tzinfo=UTC)  # 09:00 CET
    spring = schedule.next_time(LetterPlan(days="6", at="02:30"), oslo,
                                datetime(2027, 3, 27, 12, tzinfo=UTC))
    # 02:30 does not exist that night: it goes at 02:30 CET, which the clocks call 03:30
    assert spring == datetime(2027, 3, 28, 1, 30, tzinfo=UTC)
    twice = schedule.next_time(LetterPlan(days="0246", at="18:15"), "UTC",
                               datetime(2026, 12, 7, 18, 15, tzinfo=UTC))  # a Monday
    assert twice == datetime(2026, 12, 9, 18, 15, tzinfo=UTC)  # strictly after


def test_a_digest_goes_on_friday_at_nine_in_oslo_across_a_dst_change(
        app, make_site, query, smtp, blog):
    site = make_site(time_zone="Europe/Oslo")
    add_readers(query, site, READERS)
    query(lambda s: (schedule.set_plan(s, site, "digest", days="4", at="09:00"), s.commit()))
    wednesday = datetime(2026, 10, 21, 12, tzinfo=UTC)
    feed_with_new_post(app, query, site, blog, now=wednesday)
    schedule.tick(app, wednesday)
    [letter] = letters_of(query, site)
    assert letter.status == "collecting"
    assert letter.due_at.replace(tzinfo=UTC) == datetime(2026, 10, 23, 7, tzinfo=UTC)
    assert schedule.tick(app, datetime(2026, 10, 23, 6, 59, tzinfo=UTC))["queued"] == 0
    assert schedule.tick(app, datetime(2026, 10, 23, 7, 0, tzinfo=UTC))["queued"] == 3
    deliver_all(app)
    assert len(smtp.mailbox.wait(3)) == 3

    # A post on Saturday: the next digest after the clocks went back, 09:00 CET.
    saturday = datetime(2026, 10, 24, 10, tzinfo=UTC)
    blog.serve(rss([*POSTS, NEW_POST, ("p4", "Fourth post", "2026-10-24T09:00:00+00:00")]))
    query(lambda s: (s.execute(update(Feed).values(next_poll_at=saturday)), s.commit()))
    feeds.poll_due(app, now=saturday)
    schedule.tick(app, saturday)
    second = letters_of(query, site)[1]
    assert second.due_at.replace(tzinfo=UTC) == datetime(2026, 10, 30, 8, tzinfo=UTC)
    assert schedule.tick(app, datetime(2026, 10, 30, 7, 59, tzinfo=UTC))["queued"] == 0
    assert schedule.tick(app, datetime(2026, 10, 30, 8, 0, tzinfo=UTC))["queued"] == 3


def test_a_held_letter_waits_for_send_and_cancel_stops_the_rest(
        app, make_site, query, smtp, blog):
    site = make_site()
    add_readers(query, site, READERS)
    query(lambda s: (schedule.set_plan(s, site, "each", review=True), s.commit()))
    feed_with_new_post(app, query, site, blog)
    schedule.tick(app)
    [letter] = letters_of(query, site)
    assert letter.status == "held" and schedule.tick(app)["queued"] == 0
    assert query(lambda s: (schedule.start(s, s.get(Letter, letter.id), utcnow()),
                            s.commit())[0]) is True
    assert schedule.tick(app)["queued"] == 3
    # Cancelled before the worker's turn: the queued three are skipped, none is sent.
    assert query(lambda s: (sending.cancel(s, s.get(Letter, letter.id)), s.commit())[0]) is True
    deliver_all(app)
    assert smtp.mailbox.messages == []
    statuses = query(lambda s: s.execute(select(OutboxMessage.status, OutboxMessage.last_error)
                                         .where(OutboxMessage.kind == "letter")).all())
    assert statuses == [("skipped", sending.CANCELLED)] * 3
    assert query(lambda s: sending.cancel(s, s.get(Letter, letter.id))) is False  # once


def test_the_pace_spreads_a_letter_over_the_hour(app, make_site, query):
    site = make_site()
    add_readers(query, site, [(f"r{n}@example.com", "en", "confirmed") for n in range(150)])
    query(lambda s: (schedule.set_plan(s, site, "each", per_hour=120), s.commit()))
    start = datetime(2026, 12, 7, 10, tzinfo=UTC)
    query(lambda s: (s.add(Letter(site_id=site, lang="", mode="each", status="sending",
                                  due_at=start, started_at=start, cursor=0, queued=0,
                                  all_queued=False, created_at=start)), s.commit()))
    assert sending.advance_all(app, start) == 2  # a minute's worth at once
    assert sending.advance_all(app, start) == 0
    assert sending.advance_all(app, start + timedelta(minutes=30)) == 60
    assert sending.advance_all(app, start + timedelta(hours=2)) == 88  # the rest: 150
    [letter] = letters_of(query, site)
    assert (letter.queued, letter.all_queued) == (150, True)
    rows = query(lambda s: s.execute(select(OutboxMessage.subscriber_id, func.count())
                                     .group_by(OutboxMessage.subscriber_id)).all())
    assert len(rows) == 150 and {n for _, n in rows} == {1}


def test_a_letter_queues_more_only_while_the_workers_keep_up(app, make_site, query):
    site = make_site()
    add_readers(query, site, [(f"r{n}@example.com", "en", "confirmed") for n in range(2500)])
    app.config["LETTERS_PER_HOUR"] = 10 ** 9  # the pace is not what holds it back here
    now = utcnow()
    query(lambda s: (s.add(Letter(site_id=site, lang="", mode="each", status="sending",
                                  due_at=now, started_at=now, cursor=0, queued=0,
                                  all_queued=False, created_at=now)), s.commit()))
    assert sending.advance_all(app, now) == sending.PER_TURN
    assert sending.advance_all(app, now) == 0  # a thousand wait: no more for now
    with app.app_context():  # a worker takes 600 of them
        assert len(outbox.claim(db.engine(), "w", 600, 60)) == 600
    assert sending.advance_all(app, now) == sending.PER_TURN  # 400 left waiting
    assert sending.advance_all(app, now) == 0


class StallAfter(Mailbox):
    """Takes the first `count` messages, then holds every MAIL FROM: a worker is stuck
    mid-letter, to be killed there."""

    def __init__(self, count: int):
        super().__init__()
        self.count, self.stalled, self.release = count, threading.Event(), threading.Event()

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        if len(self.messages) >= self.count:
            self.stalled.set()
            await asyncio.get_running_loop().run_in_executor(None, self.release.wait, 30)
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"


def test_a_worker_killed_mid_letter_sends_the_rest_once(app, make_site, query, blog, tmp_path):
    site = make_site()
    # 150: within the first minute's share of the default pace, so all go at once
    people = [f"r{n:03d}@example.com" for n in range(150)]
    add_readers(query, site, [(p, "en", "confirmed") for p in people])
    feed_with_new_post(app, query, site, blog)  # found; the worker process does the rest
    first_box, second_box = StallAfter(60), StallAfter(10_000)
    first, second = server_with(first_box).start(), server_with(second_box).start()
    worker = start_worker(app, first.url, tmp_path / "first.log")
    try:
        if not first_box.stalled.wait(60):
            pytest.fail("the worker never got 60 in:\n" + (tmp_path / "first.log").read_text())
        # The 60 the server took are recorded (within milliseconds): a kill in those
        # milliseconds would send that one again, the window no SMTP client can close.
        wait_until(lambda: query(lambda s: s.scalar(select(func.count()).where(
            OutboxMessage.kind == "letter", OutboxMessage.status == "sent"))) == 60,
            "the 60 recorded as sent", 10)
        worker.send_signal(signal.SIGKILL)
        assert worker.wait(10) == -signal.SIGKILL
    finally:
        if worker.poll() is None:
            worker.kill()
        first_box.release.set()
        first.stop()
    worker = start_worker(app, second.url, tmp_path / "second.log", "--poll", "0.1")
    try:
        wait_until(lambda: len(first_box.messages) + len(second_box.messages) >= 150,
                   "every reader's letter", 60)
        wait_until(lambda: letters_of(query, site)[0].status == "sent", "the letter sent", 30)
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(10)
        second.stop()
    got = Counter(m["To"].addresses[0].addr_spec
                  for m in first_box.messages + second_box.messages)
    assert len(first_box.messages) == 60 and sorted(got) == people
    assert set(got.values()) == {1}  # nobody twice
    with app.app_context():
        assert db.session().scalar(select(func.count()).select_from(FeedItem).where(
            FeedItem.letter_id.is_not(None))) == 1


@pytest.mark.parametrize("name", [None, "Åsa <b>&amp; \"Ola\"", "zq"])
@pytest.mark.parametrize("shared", [False, True])
def test_a_letter_drafted_once_a_batch_is_what_each_reader_would_get_alone(
        app, make_site, query, name, shared):
    site = make_site(name="Fjord & <Notes>")
    posts = [{"title": "Tromsø 🌌 & <friends>", "url": "https://blog.example/a?x=1&y=2",
              "html": "<p>Nordlys &amp; <em>snø</em></p>", "text": "Nordlys & snø"}]
    share = {"text": "Pass it on", "label": "Share", "url": "https://w.example/share/AB.c-d_e"}
    with app.app_context():
        the_site = db.session().get(Site, site)
        for lang in ("en", "nb"):
            args = dict(to="reader@example.com", name=name, message_id="<m@x>",
                        web="https://w.example/letter/T", share=share if shared else None,
                        unsubscribe_url="https://w.example/unsubscribe/U.v-w_x")
            alone = letter.compose(the_site, posts, lang, **args)
            for _ in range(2):  # drafted, then from the draft
                batch = letter.personal(the_site, posts, lang, **args)
                mine, theirs = (message_from_string(e.raw, policy=default)
                                for e in (batch, alone))
                varies = ("Date", "Content-Type")  # the time, the parts' random boundary
                assert [(k, v) for k, v in mine.items() if k not in varies] == \
                    [(k, v) for k, v in theirs.items() if k not in varies]
                for part in ("plain", "html"):
                    assert mine.get_body((part,)).get_content() == \
                        theirs.get_body((part,)).get_content()
                assert batch.subject == alone.subject
