"""The owner's side of letters of new posts (issue 18, parts 2–4) over real HTTP and a
real SMTP server: when letters go (the plan form, refused with its summary, owners only,
audited); the letters table with Send now and Cancel the rest, the readers' e-mails sent
by the real worker's batches; a test to oneself that nobody on the list gets; a preview
in two languages; another owner's letter is 404; the letter's words in the copy editor;
in Chromium, letters in every state pass axe and fit a 390 px phone. On SQLite and
PostgreSQL."""
from __future__ import annotations

import hashlib
import re
from datetime import timedelta
from html import unescape

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from widget.letters import schedule
from widget.mail.worker import drain_once
from widget.models import (AuditEntry, Feed, FeedItem, Letter, LetterPlan, Owner, OutboxMessage,
                           SiteMember, Subscriber, utcnow)

from .helpers.browser import log_in
from .helpers.http import csrf_post

pytestmark = pytest.mark.real_smtp
TITLES = ("Sourdough in winter", "Rye, slowly")


def page_of(site: str) -> str:
    return f"/dashboard/sites/{site}/letters"


def text_of(resp) -> str:
    """The page's words as a person reads them: tags dropped, whitespace folded."""
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", resp.text)).split())


def readers(query, site: str, statuses=("confirmed", "confirmed", "confirmed"),
            lang: str = "en") -> list[str]:
    """Subscribers of the site, one a status; their addresses."""
    emails = [f"reader{n}-{status}@example.com" for n, status in enumerate(statuses)]
    query(lambda s: (s.add_all(Subscriber(site_id=site, email=e, email_normalized=e,
                                          status=status, lang=lang)
                               for e, status in zip(emails, statuses)), s.commit()))
    return emails


def letter_of(query, site: str, status: str = "held", lang: str = "", titles=TITLES,
              **attrs) -> int:
    """A feed with new posts and the letter that took them; the letter's id."""
    def add(s):
        now = utcnow()
        feed = Feed(site_id=site, lang=lang, url="https://blog.example/feed", primed_at=now)
        s.add(feed)
        s.flush()
        letter = Letter(site_id=site, feed_id=feed.id, lang=lang, mode="digest", status=status,
                        due_at=now + timedelta(days=2), cursor=0, queued=0, all_queued=False,
                        created_at=now, **attrs)
        s.add(letter)
        s.flush()
        s.add_all(FeedItem(feed_id=feed.id, key=hashlib.sha256(t.encode()).hexdigest(),
                           title=t, link=f"https://blog.example/{n}",
                           summary=f"<p>All about {t}</p>", letter_id=letter.id,
                           queued_at=now) for n, t in enumerate(titles))
        s.commit()
        return letter.id
    return query(add)


def status_of(query, letter_id: int) -> str:
    return query(lambda s: s.get(Letter, letter_id).status)


def drain(app) -> None:
    while drain_once(app):
        pass


def member(query, make_owner, make_client, site: str, email: str, role: str):
    """A logged-in client of a person on the site's team with `role`."""
    owner = make_owner(email)
    query(lambda s: (s.add(SiteMember(site_id=site, email=email, owner_id=owner.id, role=role,
                                      accepted_at=utcnow())), s.commit()))
    client = make_client()
    assert client.login(email).status_code == 302
    return client


# When letters go --------------------------------------------------------------------------

def test_the_plan_saves_is_refused_with_a_summary_and_is_the_owners(
        ann, make_site, make_owner, make_client, query):
    site = make_site("ann@example.com", time_zone="Europe/Oslo")
    path = page_of(site)
    shown = ann.get(path)
    assert shown.status_code == 200 and "When letters go" in shown.text
    assert "A letter for each new post" in text_of(shown)

    refused = csrf_post(ann, f"{path}/plan", {"mode": "digest", "at": "25:61", "per_hour": "0"},
                        page=path)
    assert refused.status_code == 422
    summary = text_of(refused).split("There are problems", 1)[1]
    assert "Choose at least one weekday for the digest." in summary
    assert "Give the time as HH:MM, e.g. 09:00." in summary
    assert query(lambda s: s.get(LetterPlan, site)) is None

    saved = ann.post(f"{path}/plan", data={
        "mode": "digest", "days": ["4", "0"], "at": "9:30", "review": "y", "per_hour": "500",
        "csrf_token": ann.csrf(path)})
    assert saved.status_code == 302
    plan = query(lambda s: s.get(LetterPlan, site))
    assert (plan.mode, plan.days, plan.at, plan.review, plan.per_hour) == (
        "digest", "04", "09:30", True, 500)
    entry = query(lambda s: s.scalar(select(AuditEntry).where(AuditEntry.site_id == site)))
    assert entry.action == "settings" and entry.detail == (
        "letters: a digest on Monday, Friday at 09:30, 500 e-mails an hour, each held for "
        "review")
    page = text_of(ann.get(path))
    assert "Saved." in page and "on Monday, Friday at 09:30 (Europe/Oslo)" in page
    assert "The next one goes out" in page and "Each waits for you to send it." in page
    assert f'href="/dashboard/sites/{site}/settings"' in ann.get(path).text

    for role in ("viewer", "editor"):
        other = member(query, make_owner, make_client, site, f"{role}@example.com", role)
        assert other.get(path).status_code == 200
        assert "/plan" not in other.get(path).text  # no form they could not send
        assert csrf_post(other, f"{path}/plan", {"mode": "each", "at": "09:00",
                                                 "per_hour": "0"}, page=path).status_code == 403
    assert query(lambda s: s.get(LetterPlan, site).mode) == "digest"


# Send now, Cancel the rest -----------------------------------------------------------------

def test_send_now_mails_each_confirmed_reader_once(app, ann, make_site, query, smtp):
    site = make_site("ann@example.com")
    confirmed = readers(query, site, ("confirmed", "pending", "confirmed", "unsubscribed",
                                      "confirmed"))[::2]
    letter = letter_of(query, site, "held")
    page = text_of(ann.get(page_of(site)))
    assert "Waiting for you to send" in page and TITLES[0] in page and "Send now" in page

    sent = csrf_post(ann, f"{page_of(site)}/send/{letter}", {}, page=page_of(site))
    assert sent.status_code == 302 and status_of(query, letter) == "sending"
    shown = ann.get(page_of(site)).text
    assert "The letter is going out now" in unescape(shown)
    # the bar follows the worker (static/js/import.js asks this every second)
    progress = f"{page_of(site)}/{letter}/progress"
    assert f'data-status="{progress}"' in shown and "js/import" in shown
    assert ann.get(progress).json() == {"status": "sending", "rows": 3, "done": 0}
    schedule.tick(app, utcnow())
    drain(app)
    schedule.tick(app, utcnow())  # every reader queued and none waiting: sent
    assert ann.get(progress).json() == {"status": "sent", "rows": 3, "done": 3}
    mails = smtp.mailbox.wait(3)
    assert sorted(m["To"].addresses[0].addr_spec for m in mails) == sorted(confirmed)
    assert all(m["Subject"] == f"Blog: {TITLES[0]} and 1 more" for m in mails)
    assert status_of(query, letter) == "sent"
    page = text_of(ann.get(page_of(site)))
    assert "3 sent, 0 not sent (no longer subscribed), 0 failed" in page
    again = csrf_post(ann, f"{page_of(site)}/send/{letter}", {}, page=page_of(site))
    assert again.status_code == 302 and len(smtp.mailbox.messages) == 3
    assert "no longer waiting" in text_of(ann.get(page_of(site)))


def test_cancel_the_rest_skips_the_queued_and_sends_nobody_after(
        app, ann, make_site, query, smtp):
    site = make_site("ann@example.com")
    readers(query, site, ("confirmed",) * 5)
    query(lambda s: (schedule.set_plan(s, site, "each", per_hour=120), s.commit()))
    start = utcnow() - timedelta(minutes=5)
    letter = letter_of(query, site, "sending", started_at=start)
    schedule.tick(app, start)  # a minute's worth at 120 an hour: 2
    drain(app)
    smtp.mailbox.wait(2)
    schedule.tick(app, start + timedelta(minutes=1))  # 2 more queued, not yet sent
    assert "2 of 5 sent" in text_of(ann.get(page_of(site)))

    cancelled = csrf_post(ann, f"{page_of(site)}/cancel/{letter}", {}, page=page_of(site))
    assert cancelled.status_code == 302 and status_of(query, letter) == "cancelled"
    page = text_of(ann.get(page_of(site)))
    assert "Cancelled. 2 e-mails of this letter went out; no one else gets it." in page
    assert "2 sent before the rest was cancelled" in page
    rows = query(lambda s: dict(s.execute(select(OutboxMessage.status, func.count()).where(
        OutboxMessage.letter_id == letter).group_by(OutboxMessage.status)).all()))
    assert rows == {"sent": 2, "skipped": 2}
    schedule.tick(app, utcnow() + timedelta(hours=2))
    drain(app)
    assert len(smtp.mailbox.messages) == 2


# A test to me, the preview -----------------------------------------------------------------

def test_a_test_goes_to_the_owner_alone(app, ann, make_site, make_owner, make_client, query,
                                        smtp):
    site = make_site("ann@example.com")
    readers(query, site)
    letter = letter_of(query, site, "held")
    asked = csrf_post(ann, f"{page_of(site)}/test/{letter}", {"lang": "nb"},
                      page=page_of(site))
    assert asked.status_code == 302
    assert "A test is on its way to ann@example.com" in text_of(ann.get(page_of(site)))
    drain(app)
    (mail,) = smtp.mailbox.wait(1)
    assert mail["To"].addresses[0].addr_spec == "ann@example.com"
    assert mail["Subject"] == f"[Test] Blog: {TITLES[0]} og 1 til"
    text = mail.get_body(("plain",)).get_content()
    assert all(t in text for t in TITLES) and "Det er noe nytt hos Blog" in text
    assert status_of(query, letter) == "held"  # a test starts nothing

    # The next letter, before one exists, from an editor: the newest posts as the example.
    editor = member(query, make_owner, make_client, site, "ed@example.com", "editor")
    assert csrf_post(editor, f"{page_of(site)}/test", {"lang": "en"},
                     page=page_of(site)).status_code == 302
    drain(app)
    mail = smtp.mailbox.wait(2)[1]
    assert mail["To"].addresses[0].addr_spec == "ed@example.com"
    assert mail["Subject"].startswith("[Test] Blog: ")
    assert len(smtp.mailbox.messages) == 2  # no reader got anything
    viewer = member(query, make_owner, make_client, site, "vi@example.com", "viewer")
    assert csrf_post(viewer, f"{page_of(site)}/test/{letter}", {},
                     page=page_of(site)).status_code == 403
    for action in ("send", "cancel"):
        assert csrf_post(editor, f"{page_of(site)}/{action}/{letter}", {},
                         page=page_of(site)).status_code == 403
    assert status_of(query, letter) == "held"


def test_the_preview_in_two_languages(ann, make_site, make_owner, make_client, query):
    site = make_site("ann@example.com")
    letter = letter_of(query, site, "held")
    path = f"{page_of(site)}/preview/{letter}"
    english = ann.get(f"{path}?lang=en")
    assert english.status_code == 200
    words = text_of(english)
    assert all(t in words for t in TITLES) and "There is something new at Blog" in words
    assert f"Blog: {TITLES[0]} and 1 more" in words
    norwegian = text_of(ann.get(f"{path}?lang=nb"))
    assert "Det er noe nytt hos Blog" in norwegian and f"{TITLES[0]} og 1 til" in norwegian
    html = ann.get(f"{path}.html?lang=nb")
    assert html.status_code == 200 and "Det er noe nytt hos" in html.text
    assert html.headers["Content-Security-Policy"].startswith("sandbox")
    assert ann.get(f"{path}?lang=xx").status_code == 404

    nothing = make_site("ann@example.com", name="Empty")
    example = ann.get(f"{page_of(nothing)}/preview")
    assert example.status_code == 200 and "No posts found yet" in text_of(example)
    viewer = member(query, make_owner, make_client, site, "vi@example.com", "viewer")
    assert viewer.get(f"{path}?lang=de").status_code == 200
    assert "Send a test to me" not in viewer.get(path).text


def test_another_owners_letter_is_404(ann, make_site, make_client, query):
    site = make_site("ann@example.com")
    letter = letter_of(query, site, "held")
    theirs = make_site("bob@example.com")
    bob = make_client()
    assert bob.login("bob@example.com").status_code == 302
    mine = page_of(theirs)
    assert bob.get(f"{mine}/preview/{letter}").status_code == 404
    assert bob.get(f"{mine}/preview/{letter}.html").status_code == 404
    assert bob.get(f"{mine}/{letter}/progress").status_code == 404
    assert bob.get(f"{page_of(site)}/{letter}/progress").status_code == 404
    for action in ("send", "cancel", "test"):
        assert csrf_post(bob, f"{mine}/{action}/{letter}", {}, page=mine).status_code == 404
    assert bob.get(f"{page_of(site)}/preview/{letter}").status_code == 404
    assert status_of(query, letter) == "held"
    assert query(lambda s: s.scalar(select(func.count()).select_from(OutboxMessage))) == 0
    assert query(lambda s: s.scalar(select(Owner.id).where(Owner.email == "bob@example.com")))


# The letter's words -------------------------------------------------------------------------

def test_the_letters_words_in_the_copy_editor(ann, make_site):
    site = make_site("ann@example.com")
    path = f"/dashboard/sites/{site}/emails?kind=letter&lang=en"
    page = ann.get(path)
    assert page.status_code == 200 and "Letter of new posts" in page.text
    assert "<code>{posts}</code>" in page.text and "<code>{count}</code>" in page.text
    preview = text_of(page)
    assert "and 1 more" in preview  # two example posts
    saved = csrf_post(ann, path, {"subject": "{count} new at {site}: {posts}",
                                  "body": "Hello {name},\n\nFresh from the oven."})
    assert saved.status_code == 302
    shown = text_of(ann.get(path))
    assert "2 new at Blog:" in shown and "Fresh from the oven." in shown
    confirm = f"/dashboard/sites/{site}/emails?kind=confirm&lang=en"
    refused = csrf_post(ann, confirm, {"subject": "Confirm {posts}", "body": "Hi"})
    assert refused.status_code == 422 and "Unknown placeholder {posts}" in unescape(refused.text)


# In a browser ---------------------------------------------------------------------------------

@pytest.mark.browser
def test_letters_in_every_state_pass_axe_and_fit_a_phone(page: Page, demo):
    engine = create_engine(demo["db"])
    with Session(engine) as s:
        now = utcnow()
        feed = Feed(site_id="demo-blog", lang="de", url="https://blog.example/de/feed",
                    primed_at=now)
        s.add(feed)
        s.flush()
        for n, status in enumerate(("collecting", "held", "sending", "sent", "cancelled")):
            letter = Letter(site_id="demo-blog", feed_id=feed.id, lang="de" if n % 2 else "",
                            mode="digest", status=status, due_at=now + timedelta(days=1),
                            started_at=now, finished_at=now if n > 2 else None, cursor=0,
                            queued=0, all_queued=False, created_at=now)
            s.add(letter)
            s.flush()
            s.add(FeedItem(feed_id=feed.id, key=f"{n:064}", title=f"Ein ziemlich langer Titel "
                           f"eines Beitrags über Sauerteig im Winter, Nummer {n}",
                           link=f"https://blog.example/de/{'x' * 80}/{n}", summary="<p>Text</p>",
                           letter_id=letter.id, queued_at=now))
        s.commit()
        held = s.scalar(select(Letter.id).where(Letter.status == "held"))
    engine.dispose()
    log_in(page, demo)
    path = f"{demo['base']}/dashboard/sites/demo-blog/letters"
    found = {}
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        for url in (path, f"{path}/preview/{held}", f"{path}/preview?lang=nl"):
            assert page.goto(url).status == 200, url
            assert page.evaluate("document.documentElement.scrollWidth") <= width, (url, width)
            if problems := Axe().run(page).response["violations"]:
                found[(url, width)] = [(v["id"], len(v["nodes"])) for v in problems]
    page.goto(path)
    page.get_by_label("A digest of the new posts").check()
    page.get_by_label("Friday", exact=True).uncheck()  # the default plan's one weekday
    page.get_by_role("button", name="Save", exact=True).click()
    assert "Choose at least one weekday" in page.locator(".error-summary").inner_text()
    if problems := Axe().run(page).response["violations"]:
        found["refused"] = [(v["id"], len(v["nodes"])) for v in problems]
    assert found == {}
