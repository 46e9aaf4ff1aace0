"""Keyset pages of the dashboard's tables (dashboard/owned.py paged) over real HTTP: the
"Older" links walk every row once, newest first, "Oldest" and the "Newer" links walk
them back, a count stops at the cap, a tampered cursor shows the first page, and a
button on page two brings the owner back to page two. On SQLite and PostgreSQL."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from html import unescape

from sqlalchemy import select

from widget.core import keyset, outbox
from widget.models import OutboxMessage, Subscriber

from .helpers.http import csrf_post

START = datetime(2025, 3, 1, 12, tzinfo=timezone.utc)


def link(html: str, text: str) -> str | None:
    found = re.search(rf'href="([^"]+)">{re.escape(text)}', html)
    return unescape(found[1]) if found else None


def emails(html: str) -> list[str]:
    return re.findall(r">(p\d{3}@example\.com)</a>", html)


def seed(query, site: str, n: int) -> list[str]:
    """`n` contacts, three to a moment (the id breaks ties); their addresses newest first."""
    query(lambda s: (s.add_all(Subscriber(
        site_id=site, email=f"p{i:03}@example.com", email_normalized=f"p{i:03}@example.com",
        status="confirmed", created_at=START + timedelta(seconds=i // 3)) for i in range(n)),
        s.commit()))
    return query(lambda s: s.scalars(select(Subscriber.email).where(Subscriber.site_id == site)
                                     .order_by(Subscriber.created_at.desc(),
                                               Subscriber.id.desc())).all())


def test_older_and_newer_walk_every_row_once(ann, make_site, query):
    site = make_site("ann@example.com")
    newest_first = seed(query, site, 130)
    url, seen, pages = f"/dashboard/sites/{site}", [], 0
    while url:
        html = ann.get(url).text
        assert "130 in all" in html
        seen, url, pages = seen + emails(html), link(html, "Older →"), pages + 1
    assert pages == 3 and seen == newest_first

    url, back = f"/dashboard/sites/{site}?last=1", []
    while url:
        html = ann.get(url).text
        back, url = emails(html) + back, link(html, "← Newer")
    # From the oldest fifty back to the first page (a full one: the newest fifty).
    assert back[-50:] == newest_first[-50:] and back[:50] == newest_first[:50]
    assert set(back) == set(newest_first)

    first = emails(ann.get(f"/dashboard/sites/{site}").text)
    for tampered in ("garbage", "x" * 500, "czpub3QtYS10aW1lfDE", "%00"):
        assert emails(ann.get(f"/dashboard/sites/{site}?after={tampered}").text) == first
        assert emails(ann.get(f"/dashboard/sites/{site}?before={tampered}").text) == first


def test_a_count_stops_at_the_cap(ann, make_site, query, monkeypatch):
    monkeypatch.setattr(keyset, "CAP", 100)
    site = make_site("ann@example.com")
    seed(query, site, 130)
    html = ann.get(f"/dashboard/sites/{site}").text
    assert "100+ in all" in html and "130 in all" not in html
    assert "<span class=\"count\">100+</span>" in html


def test_a_button_on_page_two_comes_back_to_page_two(ann, make_site, query):
    site = make_site("ann@example.com")
    seed(query, site, 60)

    def fail_all(s):
        for person in s.scalars(select(Subscriber).where(Subscriber.site_id == site)):
            row = outbox.add(s, "welcome", person, "news@blog.example")
            row.status, row.created_at, row.last_error = "failed", person.created_at, "refused"
        s.commit()
    query(fail_all)
    path = f"/dashboard/sites/{site}/outbox"
    first = ann.get(path).text
    assert "60 in all" in first
    second_url = link(first, "Older →")
    second = ann.get(second_url).text
    action, after = re.search(r'action="([^"]+/retry)"[^>]*>.*?name="after" value="([^"]+)"',
                              second, re.S).groups()
    resp = csrf_post(ann, unescape(action), {"after": unescape(after)}, page=second_url)
    assert resp.status_code == 302 and f"after={after}" in resp.headers["Location"]
    retried = query(lambda s: s.scalar(select(OutboxMessage.status).where(
        OutboxMessage.id == int(action.rsplit("/", 2)[-2]))))
    assert retried == "queued"
