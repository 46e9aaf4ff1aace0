"""The owner's side of giving back over real HTTP: the referral settings, milestones,
held referrals approved and declined, the leaderboard and totals, the "link to us"
snippet, a contact's referrals, the outbox without waiting-period rows, and isolation
between owners. Stories, the widget kinds and the e-mail texts: test_dashboard_giveback_stories."""
from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import select

from widget.core import tokens
from widget.models import (Gift, Milestone, MilestoneReward, OutboxMessage, Referral, Site, Story,
                           Subscriber)

from .helpers.dashboard import make_gift
from .helpers.http import BASE, csrf_post

SETTINGS = {"name": "Blog", "origins": "https://blog.example", "default_lang": "en",
            "require_consent": "y", "popup_cap": "1", "double_opt_in": "y",
            "confirm_days": "7", "sender_name": "", "sender_email": "", "reply_to": "",
            "referral_wait_days": "0", "referral_burst": "3", "hold_disposable": "y",
            "disposable_domains": "", "ref_landing": "", "count_threshold": "",
            "story_gift_id": ""}


@pytest.fixture
def app_config(app_config):
    app_config["SMTP_URL"] = None  # whatever the environment says: the dev outbox
    return app_config


def person(query, email: str) -> Subscriber:
    found = query(lambda s: s.scalar(select(Subscriber).where(
        Subscriber.email_normalized == email)))
    assert found is not None, email
    return found


def join(app, make_client, query, site: str, email: str, ref: str | None = None) -> Subscriber:
    """A visitor signs up through the public API (with a friend's code), then presses the
    confirm page's button, as the confirmation e-mail's link leads them to."""
    visitor = make_client()
    resp = visitor.post(f"/api/v1/sites/{site}/subscriptions",
                        json={"email": email, "consent": True, **({"ref": ref} if ref else {})})
    assert resp.status_code == 200, resp.text
    row = person(query, email)
    with app.app_context():
        token = tokens.sign("confirm", tokens.subscriber_value(row.id, row.email_normalized))
    assert visitor.post(f"/confirm/{token}").status_code == 200
    return person(query, email)


def add_rows(query, *rows):
    """Set-up straight into the database; the rows' ids."""
    def run(s):
        s.add_all(rows)
        s.commit()
        return [r.id for r in rows]
    return query(run)


def test_referral_settings_are_checked_and_saved(app, ann, make_site, make_client, query):
    site = make_site("ann@example.com")
    path = f"/dashboard/sites/{site}/settings"
    page = ann.get(path).text
    for legend in ("Referrals", "Social proof", "Stories"):
        assert f"<legend>{legend}</legend>" in page
    assert "more than this many friends of one person from one network" in page.lower()
    assert '<option selected value="">No gift</option>' in page
    (theirs,) = add_rows(query, Gift(site_id=make_site("bob@example.com"), kind="bonus",
                                     title="Bob's"))
    for field, value, message in [
            ("ref_landing", "https://evil.example/welcome",
             "Use a page on one of your allowed origins: https://blog.example."),
            ("ref_landing", "javascript:alert(1)", "An address starting with https://"),
            ("ref_landing", "https://blog.example\\@evil.example/", "without spaces, backslashes"),
            ("ref_landing", "https://user@blog.example/", "An address starting with https://"),
            ("count_threshold", "0", "Number must be at least 1."),
            ("referral_wait_days", "91", "Number must be between 0 and 90."),
            ("referral_burst", "0", "Number must be between 1 and 100."),
            ("disposable_domains", "temp.example\nnot-a-domain",
             "“not-a-domain” is not a domain"),
            ("story_gift_id", theirs, "Choose one of this site&#39;s gifts, or none.")]:
        resp = csrf_post(ann, path, {**SETTINGS, "name": "Renamed", field: value})
        assert resp.status_code == 422 and message in resp.text, (field, value)
    assert query(lambda s: s.get(Site, site).name) == "Blog"

    gift = make_gift(ann, query, site, "bonus", title="Thanks for your story")
    resp = csrf_post(ann, path, {
        **SETTINGS, "origins": "https://blog.example\nhttps://shop.example",
        "ref_landing": " HTTPS://Shop.example/welcome?from=friends#top ",
        "referral_wait_days": "14", "referral_burst": "5", "hold_disposable": "",
        "disposable_domains": "@Temp.Example\nthrowaway.test, temp.example",
        "count_threshold": "100", "story_gift_id": gift})
    assert resp.status_code == 302, resp.text
    saved = query(lambda s: (lambda x: (
        x.ref_landing, x.referral_wait_days, x.referral_burst, x.hold_disposable,
        x.disposable_domains, x.count_threshold, x.story_gift_id))(s.get(Site, site)))
    assert saved == ("https://shop.example/welcome?from=friends", 14, 5, False,
                     "temp.example\nthrowaway.test", 100, gift)
    page = ann.get(path).text
    assert "temp.example\nthrowaway.test</textarea>" in page and 'value="100"' in page
    assert f'<option selected value="{gift}">Thanks for your story</option>' in page
    # /r/ links lead where the owner said, on the origin saved with it.
    ola = join(app, make_client, query, site, "ola@example.com")
    visit = make_client().get(f"/r/{ola.ref_code}")
    assert visit.status_code == 302
    assert visit.headers["Location"] == (f"https://shop.example/welcome?from=friends"
                                         f"&ref={ola.ref_code}")
    # Emptied again: back to the defaults that mean "none".
    assert csrf_post(ann, path, SETTINGS).status_code == 302
    assert query(lambda s: (lambda x: (x.ref_landing, x.disposable_domains, x.count_threshold,
                                       x.story_gift_id, x.hold_disposable))(s.get(Site, site))
                 ) == (None, None, None, None, True)


def test_milestones_added_refused_when_doubled_and_deleted(ann, make_site, query):
    site = make_site("ann@example.com")
    path = f"/dashboard/sites/{site}/referrals"
    page = ann.get(path).text
    assert "No milestones yet." in page and "add a gift</a> first" in page
    gift = make_gift(ann, query, site, "bonus", title="The <secret> recipe")
    page = ann.get(path).text
    assert f'<option value="{gift}">The &lt;secret&gt; recipe</option>' in page
    add = f"{path}/milestones"
    resp = csrf_post(ann, add, {"friends": "3", "gift_id": gift}, page=path)
    assert resp.status_code == 302
    page = ann.get(resp.headers["Location"]).text
    assert "The milestone was added." in page and "0 people" in page
    assert f'href="/dashboard/sites/{site}/gifts/{gift}">The &lt;secret&gt; recipe</a>' in page
    twice = csrf_post(ann, add, {"friends": "3", "gift_id": gift}, page=path)
    assert twice.status_code == 422
    assert "There is a milestone at 3 friends already: delete it first" in twice.text
    (other_site_gift,) = add_rows(query, Gift(site_id=make_site("bob@example.com"),
                                              kind="bonus", title="Bob's"))
    for data, message in [({"friends": "0", "gift_id": gift}, "between 1 and 100000"),
                          ({"friends": "two", "gift_id": gift}, "Not a valid integer value"),
                          ({"friends": "5", "gift_id": other_site_gift},
                           "Choose the gift for this milestone.")]:
        resp = csrf_post(ann, add, data, page=path)
        assert resp.status_code == 422 and message in resp.text, data
    assert query(lambda s: s.scalars(select(Milestone.friends)).all()) == [3]
    action = re.search(r'action="([^"]+/milestones/\d+/delete)"', page).group(1)
    assert ann.post(action).status_code == 400  # no CSRF token
    resp = csrf_post(ann, action, {}, page=path)
    assert "The milestone was deleted." in ann.get(resp.headers["Location"]).text
    assert query(lambda s: s.scalars(select(Milestone.id)).all()) == []


def test_held_referrals_are_approved_or_declined(app, ann, make_site, make_client, query):
    site = make_site("ann@example.com")
    assert csrf_post(ann, f"/dashboard/sites/{site}/settings",
                     {**SETTINGS, "disposable_domains": "Throwaway-Friends.com"}).status_code == 302
    gift = make_gift(ann, query, site, "bonus", title="A thank-you bonus")
    path = f"/dashboard/sites/{site}/referrals"
    assert csrf_post(ann, f"{path}/milestones", {"friends": "1", "gift_id": gift},
                     page=path).status_code == 302
    ola = join(app, make_client, query, site, "ola@example.com")
    kim = join(app, make_client, query, site, "kim@mailinator.com", ola.ref_code)
    joe = join(app, make_client, query, site, "joe@throwaway-friends.com", ola.ref_code)
    held = query(lambda s: s.execute(select(Referral.referred_id, Referral.status,
                                            Referral.reason).order_by(Referral.id)).all())
    assert held == [(kim.id, "held", "disposable"), (joe.id, "held", "disposable")]
    assert '<span class="badge held">2 held</span>' in ann.get(f"/dashboard/sites/{site}").text
    page = ann.get(path).text
    assert "ola@example.com" in page and "→ <a" in page
    assert page.count("Held for your approval (disposable address)") == 2
    approve = re.search(r'action="([^"]+/referrals/\d+/approve)"', page).group(1)
    assert ann.post(approve).status_code == 400  # no CSRF token
    # The newest is first: approve joe's, decline kim's.
    resp = csrf_post(ann, approve, {"page": "1"}, page=path)
    assert resp.status_code == 302 and resp.headers["Location"].startswith(path)
    assert "Approved: the friend counts" in ann.get(resp.headers["Location"]).text
    kim_referral = query(lambda s: s.scalar(select(Referral.id).where(
        Referral.referred_id == kim.id)))
    resp = csrf_post(ann, f"{path}/{kim_referral}/decline", {}, page=path)
    assert "Declined: the referral doesn&#39;t count." in ann.get(resp.headers["Location"]).text
    assert person(query, "ola@example.com").ref_count == 1
    assert query(lambda s: s.execute(select(Referral.referred_id, Referral.status,
                                            Referral.reason).order_by(Referral.id)).all()) == [
        (kim.id, "rejected", "owner"), (joe.id, "counted", "disposable")]
    reward = query(lambda s: s.scalar(select(MilestoneReward)))
    assert reward.subscriber_id == ola.id and reward.grant_id is not None
    assert query(lambda s: s.execute(select(OutboxMessage.kind, OutboxMessage.grant_id).where(
        OutboxMessage.subscriber_id == ola.id, OutboxMessage.kind == "reward")).all()) == [
        ("reward", reward.grant_id)]
    again = csrf_post(ann, approve, {}, page=path)
    assert "Nothing was counted" in ann.get(again.headers["Location"]).text
    page = ann.get(path).text
    assert "Nothing waits for you." in page and "1 person" in page
    assert "held" not in ann.get(f"/dashboard/sites/{site}").text.split("<h2")[0]

    contact = ann.get(f"/dashboard/sites/{site}/contacts/{ola.id}").text
    assert "<h2>Referrals</h2>" in contact and f"{BASE}/r/{ola.ref_code}" in contact
    assert re.search(r"<dt>Friends counted</dt><dd>1</dd>", contact)
    assert (f'href="/dashboard/sites/{site}/contacts/{joe.id}">joe@throwaway-friends.com</a>'
            in contact)
    assert "Counted" in contact and "Not counted (declined by you)" in contact
    assert "1 friend: “A thank-you bonus”" in contact
    assert "Thank-you for bringing friends" in contact  # the reward e-mail, by its name
    friend = ann.get(f"/dashboard/sites/{site}/contacts/{joe.id}").text
    assert re.search(r"<dt>Brought by</dt><dd><a href=\"[^\"]+/contacts/%d\">ola@example.com"
                     % ola.id, friend)


def test_totals_leaderboard_and_link_to_us(app, ann, make_site, make_client, query):
    site = make_site("ann@example.com", name="Bread & <Butter>",
                     ref_landing="https://blog.example/start?a=1&b=2")
    rows = [Subscriber(site_id=site, email=f"{n}@example.com", email_normalized=f"{n}@example.com",
                       status="confirmed", ref_count=count, ref_visits=visits,
                       share_clicks=clicks, ref_code=f"code{n}" * 2)
            for n, count, visits, clicks in [("amy", 2, 10, 1), ("ben", 5, 3, 0),
                                            ("cat", 0, 1, 4), ("dan", 5, 0, 2)]]
    ids = dict(zip(("amy", "ben", "cat", "dan"), add_rows(query, *rows)))
    page = ann.get(f"/dashboard/sites/{site}/referrals").text
    board = page.split("Who brought the most friends")[1].split("</table>")[0]
    assert re.findall(r">(\w+)@example.com</a>", board) == ["ben", "dan", "amy"]
    assert f'href="/dashboard/sites/{site}/contacts/{ids["ben"]}"' in board
    assert re.search(r"Visits through referral links</dt><dd>14</dd>", page)
    assert re.search(r"Clicks on share buttons</dt><dd>7</dd>", page)
    snippet = re.search(r'<textarea[^>]*id="link-to-us"[^>]*>([^<]*)</textarea>', page).group(1)
    assert html.unescape(snippet) == (
        '<a href="https://blog.example/start?a=1&amp;b=2">Read Bread &amp; &lt;Butter&gt;</a>')
    assert "share page has one with their own code" in page


def test_outbox_leaves_out_waiting_periods(app, ann, make_site, make_client, query):
    site = make_site("ann@example.com", referral_wait_days=7)
    ola = join(app, make_client, query, site, "ola@example.com")
    kim = join(app, make_client, query, site, "kim@example.com", ola.ref_code)
    kinds = query(lambda s: s.scalars(select(OutboxMessage.kind).order_by(OutboxMessage.id)).all())
    assert kinds.count("referral") == 1 and len(kinds) == 5  # 2 confirms, 2 thank-yous
    outbox = ann.get(f"/dashboard/sites/{site}/outbox").text
    assert '<span class="count">4</span>' in outbox and "referral" not in outbox
    contact = ann.get(f"/dashboard/sites/{site}/contacts/{kim.id}").text
    assert "referral (" not in contact and ">referral<" not in contact
    assert "Confirmed, in the waiting period" in contact  # how kim came: ola's link
    referrals = ann.get(f"/dashboard/sites/{site}/referrals").text
    assert re.search(r"In the waiting period</dt><dd>1\s", referrals)


def test_other_owners_get_404_and_forms_need_csrf(ann, make_site, query):
    mine, theirs = make_site("ann@example.com"), make_site("bob@example.com")
    gift_id, = add_rows(query, Gift(site_id=theirs, kind="bonus", title="Bob's"))
    a, b = (Subscriber(site_id=theirs, email=e, email_normalized=e, status="confirmed")
            for e in ("a@example.com", "b@example.com"))
    add_rows(query, a, b)
    milestone, referral, story = add_rows(
        query, Milestone(site_id=theirs, friends=2, gift_id=gift_id),
        Referral(site_id=theirs, referrer_id=a.id, referred_id=b.id, status="held",
                 reason="burst"),
        Story(site_id=theirs, name="Bo", text="Secret", consent_publish=True,
              consent_text="Yes", lang="en", email="bo@example.com"))
    for site in (theirs, mine):  # their site, and their objects under my site
        for path in ("referrals", "stories"):
            if site == theirs:
                assert ann.get(f"/dashboard/sites/{site}/{path}").status_code == 404, path
        token = ann.csrf(f"/dashboard/sites/{mine}/referrals")
        for action in (["referrals/milestones"] if site == theirs else []) + [
                f"referrals/milestones/{milestone}/delete", f"referrals/{referral}/approve",
                f"referrals/{referral}/decline", f"stories/{story}/approve",
                f"stories/{story}/reject", f"stories/{story}/reply"]:
            resp = ann.post(f"/dashboard/sites/{site}/{action}", data={
                "csrf_token": token, "friends": "1", "gift_id": gift_id, "text": "Hi"})
            assert resp.status_code == 404, (site, action)
            assert ann.post(f"/dashboard/sites/{site}/{action}").status_code == 400
    assert query(lambda s: (s.get(Referral, referral).status, s.get(Story, story).status,
                            s.get(Milestone, milestone) is not None)) == ("held", "pending", True)
    assert query(lambda s: s.scalar(select(OutboxMessage.id))) is None
