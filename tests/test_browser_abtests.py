"""An A/B test as 40 visitors live it, in a real Chromium: the owner starts a test of a
pop-up (the original against "Short", another title) on the dashboard; each visitor, a
new browser, sees one variant, signs up or not, and sees the same variant on the next
page; the owner's test page then shows each variant's exact impressions and sign-ups,
and every subscriber carries the variant they saw.

Unlike the other browser tests, this one runs on PostgreSQL as well (with
TEST_DATABASE_URL): what it checks is what the server stores for the browsers (each
variant's counters, each sign-up's variant), on either database the service runs on."""
from __future__ import annotations

import json
import re
import time
import urllib.request
import uuid
from collections import Counter

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from widget.insight import stats
from widget.models import Subscriber

from .fixtures.browser import host_pages
from .fixtures.database import BACKENDS
from .helpers.browser import exit_intent, host_page, log_in, sign_up_in_widget
from .helpers.demo import add_widget, run_demo
from .helpers.http import HttpClient, csrf_post
from .helpers.waiting import wait_until

pytestmark = pytest.mark.browser

ORIGINAL, SHORT = "Fresh bread every Friday", "Two minutes a week: bread tips"
SEEDED, NATURAL = 30, 10  # visitors whose first visit the test sets, and the others
WAIT = 15_000  # ms: generous for a loaded 2-core machine
BUTTON = "Get the bread tips"
# A first visit as the loader keeps it (its one localStorage entry), for this context's
# pages; only where none is kept yet, so the loader's own writes on page 1 stay.
SEED = "try { localStorage.rw || (localStorage.rw = JSON.stringify({v: %d})); } catch {}"


@pytest.fixture(scope="module", params=BACKENDS)
def ab_demo(request, tmp_path_factory):
    """`widget demo` on each backend (the shared `demo` fixture gives browser tests
    SQLite only)."""
    with run_demo(request.param, tmp_path_factory.mktemp("demo")) as running:
        yield running


@pytest.fixture(scope="module")
def ab_host(ab_demo, tmp_path_factory):
    """Host pages on their own origin, allowed by the demo site (as fixtures/browser.py's
    `host` does for the shared demo)."""
    with host_pages(ab_demo, tmp_path_factory.mktemp("host")) as served:
        yield served


def start_test(demo, wid: str) -> dict[str, dict]:
    """Start the test on the owner's dashboard, as an owner does; the config's entries of
    the widget by title (one a variant, each with its id `v` and pattern `a`)."""
    owner = HttpClient(demo["base"])
    assert owner.login("demo@example.com", "demo-password").status_code == 302
    resp = csrf_post(owner, f"/dashboard/sites/demo-blog/widgets/{wid}/tests",
                     {"min_shown": 100, "b-name": "Short", "b-title": SHORT})
    assert resp.status_code == 302, resp.text[:2000]
    with urllib.request.urlopen(f"{demo['base']}/api/v1/sites/demo-blog/widgets?lang=en",
                                timeout=10) as config:
        entries = [w for w in json.load(config)["widgets"] if w["id"] == wid]
    assert [w["title"] for w in entries] == [ORIGINAL, SHORT]
    return {w["title"]: w for w in entries}


def first_visits(pattern: str, count: int, since: int) -> list[int]:
    """`count` first-visit times (ms) from `since` on that `pattern` picks, as the loader
    tests them (RegExp.test on the decimal text)."""
    found, ms = [], since
    while len(found) < count:
        if re.search(pattern, str(ms)):
            found.append(ms)
        ms += 7_919  # visitors seconds apart, so each seed tries other digits
    return found


def visit(new_context, demo, host, wid: str, seed: int | None, email: str | None):
    """One new visitor: page 1 (the pop-up on exit intent; a sign-up when `email`), then
    page 2 on the same origin (the pop-up by the page's button: the visit's cap of one
    pop-up, or the sign-up, keeps the trigger quiet there). Leaving each page sends its
    beacon. Returns the title shown on each page, the first visit the loader keeps, and
    the context (to close once the server has counted)."""
    context = new_context()
    if seed is not None:
        context.add_init_script(SEED % seed)
    page = context.new_page()
    host_page(page, demo, host, wid)
    exit_intent(page)
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible(timeout=WAIT)
    first = dialog.get_by_role("heading").inner_text()
    kept = json.loads(page.evaluate("localStorage.rw"))["v"]
    if email:
        sign_up_in_widget(dialog, email)
        expect(dialog.get_by_role("status")).to_have_text(
            "Almost done! Check your inbox and confirm your address. 📬", timeout=WAIT)
    host_page(page, demo, host, wid,
              top=f'<button type="button" data-widget-open="{wid}">{BUTTON}</button>')
    page.get_by_role("button", name=BUTTON).click()
    expect(dialog).to_be_visible(timeout=WAIT)
    second = dialog.get_by_role("heading").inner_text()
    page.goto("about:blank")
    return first, second, kept, context


def counted(engine, ids: list[int]) -> dict[int, tuple[int, int]]:
    """Each variant's (shown, signed up) as the server has counted them."""
    with Session(engine) as session:
        return {v: (c["shown"], c["signed_up"])
                for v, c in stats.by_variant(session, "demo-blog", ids).items()}


def test_forty_visitors_keep_their_variant_and_the_owner_sees_exact_counts(
        new_context, ab_demo, ab_host):
    wid = add_widget(ab_demo, [["exit_intent", None]], title=ORIGINAL)
    entries = start_test(ab_demo, wid)
    variant = {title: e["v"] for title, e in entries.items()}
    ids = [variant[ORIGINAL], variant[SHORT]]
    since = int(time.time() * 1000) - 3_600_000  # an hour ago: ordinary first visits
    seeds = {title: first_visits(e["a"], SEEDED // 2, since) for title, e in entries.items()}
    # Every fourth visitor picks by the clock; the others alternate between the seeds.
    turns = iter([ms for pair in zip(seeds[ORIGINAL], seeds[SHORT]) for ms in pair])
    plan = [None if i % 4 == 3 else next(turns) for i in range(SEEDED + NATURAL)]
    engine = create_engine(ab_demo["db"])
    shown, signed, saw, emails = Counter(), Counter(), Counter(), {}
    try:
        for i, seed in enumerate(plan):
            email = f"ab-{i}-{uuid.uuid4().hex[:6]}@example.com" if i % 3 == 0 else None
            first, second, kept, context = visit(new_context, ab_demo, ab_host, wid, seed,
                                                 email)
            assert first in variant, first
            assert second == first, (i, first, second)  # the same variant on every page
            if seed is not None:
                assert kept == seed
                assert re.search(entries[first]["a"], str(seed)), (i, seed, first)
            else:  # the clock chose: the title is the variant its first visit picks
                assert [t for t, e in entries.items()
                        if re.search(e["a"], str(kept))] == [first], (i, kept, first)
            saw[first] += 1
            shown[variant[first]] += 2  # one impression a page
            if email:
                signed[variant[first]] += 1
                emails[email] = variant[first]
            expected = {v: (shown[v], signed[v]) for v in ids}
            wait_until(lambda: counted(engine, ids) == expected,
                       f"visitor {i}'s beacons counted: {expected}", 20)
            context.close()
        assert min(saw.values()) >= SEEDED // 2 and sum(saw.values()) == SEEDED + NATURAL
        with Session(engine) as session:
            kept_variants = dict(session.execute(
                select(Subscriber.email, Subscriber.variant_id)
                .where(Subscriber.email.in_(emails))).all())
        assert kept_variants == emails
    finally:
        engine.dispose()

    owner: Page = new_context().new_page()
    log_in(owner, ab_demo)
    owner.goto(f"{ab_demo['base']}/dashboard/sites/demo-blog/widgets/{wid}/tests")
    expect(owner.get_by_role("status")).to_contain_text(
        "no winner is named until every variant has been shown 100 times")
    for name, title in (("A · Original", ORIGINAL), ("B · Short", SHORT)):
        row = owner.get_by_role("row").filter(has=owner.get_by_role("rowheader", name=name))
        cells = row.get_by_role("cell")
        expect(cells.nth(1)).to_have_text(f"{shown[variant[title]]:,}")
        expect(cells.nth(2)).to_have_text(re.compile(rf"^{signed[variant[title]]:,}: "))
