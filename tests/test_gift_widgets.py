"""Gift widgets over real HTTP: the owner sets one up in the widget form, host pages get
its gift in the config, and visitors without JavaScript get the same gifts through
plain forms. The owner's e-mail texts include the gift e-mails."""
from __future__ import annotations

from html import unescape

from sqlalchemy import select

from widget.models import Grant, Subscriber, Widget

from .helpers.gifts import file_gift, make_gift
from .helpers.http import csrf_post

FORM = {"name": "Gift", "is_live": "y", "layout": "inline", "lang": "", "trigger_match": "any",
        "quiet_days_after_close": "14", "quiet_days_after_signup": "365"}


def test_owner_makes_a_gift_widget_and_pages_get_its_gift(ann, make_site, query):
    site = make_site("ann@example.com", name="Bäckerei Ørsted")
    gift = make_gift(query, site, "coupon", title="10 % off flour 🍞", codes=["A-1", "A-2"],
                     show_left=True)
    path = f"/dashboard/sites/{site}/widgets/new"
    page = ann.get(path).text
    assert "10 % off flour 🍞 (coupon codes)" in unescape(page)
    missing = csrf_post(ann, path, {**FORM, "kind": "gift", "gift_id": ""})
    assert missing.status_code == 422 and "Choose the gift this widget gives." in missing.text
    foreign = csrf_post(ann, path, {**FORM, "kind": "gift", "gift_id": "g_not_theirs"})
    assert foreign.status_code == 422
    assert csrf_post(ann, path, {**FORM, "kind": "gift", "gift_id": gift,
                                 "gift_mode": "gated"}).status_code == 302
    wid = query(lambda s: s.scalar(select(Widget.id).where(Widget.name == "Gift")))
    (w,) = [w for w in ann.get(f"/api/v1/sites/{site}/widgets").json()["widgets"]
            if w["id"] == wid]
    assert w["title"] == "10 % off flour 🍞"  # the gift's title until the owner writes one
    assert w["button"] == "Send me the gift"
    assert w["gift"] == {"id": gift, "mode": "g", "kind": "coupon", "name": "10 % off flour 🍞",
                         "out": False, "count": True,
                         "ok": "Almost done! Check your inbox and confirm your address. 📬"}
    assert "“10 % off flour 🍞” is yours" in w["success"]
    config = ann.get(f"/api/v1/sites/{site}/widgets?lang=nb").json()
    assert config["strings"]["nb"]["gift.gone"].startswith("«{gift}» er delt ut")
    assert ann.get(f"/api/v1/sites/{site}/gifts/{gift}").json() == {"left": 2}
    # Back to a newsletter: the gift goes with it.
    assert csrf_post(ann, f"/dashboard/sites/{site}/widgets/{wid}",
                     {**FORM, "kind": "newsletter", "gift_id": gift}).status_code == 302
    assert query(lambda s: s.get(Widget, wid).gift_id) is None


def test_sites_without_gift_widgets_do_not_download_gift_strings(client, make_site):
    site = make_site()
    config = client.get(f"/api/v1/sites/{site}/widgets").json()
    assert "gift.yours" not in config["strings"]["en"]


def test_without_javascript_a_gift_first_form_leads_to_the_gift(client, make_site, query):
    site = make_site()
    _gift, widget = file_gift(query, site, "first")
    resp = client.post(f"/api/v1/sites/{site}/grants", data={"widget": widget})
    assert resp.status_code == 303 and "/gift/" in resp.headers["Location"]
    page = client.get(resp.headers["Location"].split("127.0.0.1:5000", 1)[1])
    assert page.status_code == 200 and "Download (PDF" in page.text
    wrong = client.post(f"/api/v1/sites/{site}/grants", data={"widget": "w_nope"},
                        headers={"Accept": "text/html"})
    assert wrong.status_code == 422 and "out of date" in wrong.text  # a page, not JSON


def test_without_javascript_a_gated_form_says_where_the_gift_goes(client, make_site, query):
    site = make_site(double_opt_in=False)
    _gift, widget = file_gift(query, site, "gated")
    resp = client.post(f"/api/v1/sites/{site}/subscriptions",
                       data={"email": "form@example.com", "consent": "on", "widget": widget})
    assert resp.status_code == 200
    assert "“The starter log” is on its way to your inbox. 🎁" in unescape(resp.text)
    (grant,) = query(lambda s: s.scalars(select(Grant).join(
        Subscriber, Subscriber.id == Grant.subscriber_id)
        .where(Subscriber.email == "form@example.com")).all())
    assert grant.released_at is not None


def test_only_live_gift_first_widgets_give_at_once(client, make_site, query):
    site = make_site()
    _gift, gated = file_gift(query, site, "gated")
    _gift, paused = file_gift(query, site, "first")
    query(lambda s: (setattr(s.get(Widget, paused), "is_live", False), s.commit()))
    for widget in (gated, paused, "w_unknown"):
        resp = client.post(f"/api/v1/sites/{site}/grants", json={"widget": widget})
        assert resp.status_code == 422 and resp.json()["error"]["code"] == "unknown_widget"
    assert query(lambda s: s.scalars(select(Grant)).all()) == []


def test_owner_edits_the_gift_emails_with_a_preview(ann, make_site, query):
    site = make_site("ann@example.com")
    make_gift(query, site, "coupon", title="The flour coupon", codes=["X"])
    for kind, words in (("gift", "Your code: EXAMPLE-2345"), ("followup", "3 of 5")):
        page = ann.get(f"/dashboard/sites/{site}/emails?kind={kind}&lang=en")
        assert page.status_code == 200 and words in unescape(page.text)
    resp = csrf_post(ann, f"/dashboard/sites/{site}/emails?kind=followup&lang=nb", {
        "subject": "Likte du {gift}?", "body": "Hei {name}! Hva syntes du om {gift}?",
        "action": "save"})
    assert resp.status_code == 302
    page = unescape(ann.get(f"/dashboard/sites/{site}/emails?kind=followup&lang=nb").text)
    assert "Likte du The flour coupon?" in page and "Hei Alex! Hva syntes du om" in page
