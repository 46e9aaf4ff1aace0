"""The owner's side of stories over real HTTP: moderation (escaped, by status), replies,
story and proof widgets in the widget form and the site's list, and the e-mail texts of
the give-back e-mails."""
from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import select

from widget.models import MailTemplate, OutboxMessage, Story, Widget

from .helpers.dashboard import make_gift
from .helpers.http import csrf_post

WIDGET = {"name": "Stories", "is_live": "y", "layout": "modal", "trigger_match": "any",
          "lang": "", "quiet_days_after_close": "14", "quiet_days_after_signup": "365"}


@pytest.fixture
def app_config(app_config):
    app_config["SMTP_URL"] = None  # whatever the environment says: the dev outbox
    return app_config


def tell(make_client, query, site: str, **story) -> int:
    """A visitor sends a story through the public API; its id."""
    resp = make_client().post(f"/api/v1/sites/{site}/stories", json={
        "name": "Kari", "text": "The guide saved my weekend.", "consent": True, **story})
    assert resp.status_code == 201, resp.text
    return query(lambda s: s.scalar(select(Story.id).order_by(Story.id.desc())))


def statuses(query) -> list[tuple[str, str]]:
    return query(lambda s: s.execute(select(Story.name, Story.status).order_by(Story.id)).all())


def test_stories_are_moderated_as_text(ann, make_site, make_client, query):
    site = make_site("ann@example.com")
    path = f"/dashboard/sites/{site}/stories"
    assert "Nothing to moderate." in ann.get(path).text
    private = tell(make_client, query, site, name="Mallory <b>", consent=False,
                   text="<script>alert(1)</script>\nSecond line", email="mal@example.com")
    public = tell(make_client, query, site, name="Kari", rating=4)
    assert '<span class="badge moderate">2 to moderate</span>' in ann.get(
        f"/dashboard/sites/{site}").text
    page = ann.get(path).text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;\nSecond line" in page
    assert "<script>alert" not in page and "Mallory &lt;b&gt;" in page
    assert "Private: never shown" in page and "May be shown" in page and "4 of 5" in page
    assert 'href="mailto:mal@example.com"' in page
    assert page.index("Kari") < page.index("Mallory")  # newest first
    assert "even approved, this story stays private and is never shown" in page
    assert ann.post(f"{path}/{private}/approve").status_code == 400  # no CSRF token

    resp = csrf_post(ann, f"{path}/{private}/approve", {"status": "pending", "page": "1"},
                     page=path)
    assert resp.status_code == 302 and "status=pending" in resp.headers["Location"]
    assert "They did not allow publishing, so it stays private" in ann.get(
        resp.headers["Location"]).text
    resp = csrf_post(ann, f"{path}/{public}/approve", {"status": "pending"}, page=path)
    page = ann.get(resp.headers["Location"]).text
    assert "Approved: it shows in your" in page and "Nothing to moderate." in page
    approved = ann.get(f"{path}?status=approved").text
    assert approved.count('<article class="card story"') == 2 and ">Reject<" in approved
    resp = csrf_post(ann, f"{path}/{public}/reject", {"status": "approved"}, page=path)
    assert "Rejected: it is never shown." in ann.get(resp.headers["Location"]).text
    assert statuses(query) == [("Mallory <b>", "approved"), ("Kari", "rejected")]
    again = csrf_post(ann, f"{path}/{public}/reject", {}, page=path)
    assert "Nothing changed" in ann.get(again.headers["Location"]).text
    assert "to moderate" not in ann.get(f"/dashboard/sites/{site}").text


def test_replies_go_by_email_and_need_an_address(ann, make_site, make_client, query):
    site = make_site("ann@example.com")
    path = f"/dashboard/sites/{site}/stories"
    with_mail = tell(make_client, query, site, name="Ola", email="Ola@Example.com")
    anonymous = tell(make_client, query, site, name="Anon")
    page = ann.get(path).text
    assert "e-mail address, so you can't reply." in page
    assert re.search(rf'id="reply-{anonymous}"[^>]*disabled', page, re.S)
    assert not re.search(rf'id="reply-{with_mail}"[^>]*disabled', page, re.S)
    for text, message in [("   ", "This field is required."),
                          ("x" * 5001, "Field cannot be longer than 5000 characters.")]:
        resp = csrf_post(ann, f"{path}/{with_mail}/reply", {"text": text}, page=path)
        assert resp.status_code == 422 and message in resp.text
    resp = csrf_post(ann, f"{path}/{with_mail}/reply",
                     {"text": "Thank you, Ola!\r\n\r\n<b>Do</b> come again."}, page=path)
    assert "Your reply is on its way by e-mail." in ann.get(resp.headers["Location"]).text
    assert query(lambda s: s.get(Story, with_mail).reply) == (
        "Thank you, Ola!\n\n<b>Do</b> come again.")
    replies = query(lambda s: s.execute(select(OutboxMessage.story_id, OutboxMessage.mailbox)
                                        .where(OutboxMessage.kind == "story_reply")).all())
    assert replies == [(with_mail, "ola@example.com")]
    # A forged POST for the story without an address: refused, politely.
    resp = csrf_post(ann, f"{path}/{anonymous}/reply", {"text": "Hello?"}, page=path)
    assert "No reply was sent: they gave no e-mail address." in ann.get(
        resp.headers["Location"]).text
    assert len(query(lambda s: s.scalars(select(OutboxMessage.id).where(
        OutboxMessage.kind == "story_reply")).all())) == 1
    page = ann.get(path).text
    assert "&lt;b&gt;Do&lt;/b&gt; come again." in page
    outbox = ann.get(f"/dashboard/sites/{site}/outbox").text
    assert "Your reply to a story (en)" in outbox and "Thank-you for a story (en)" in outbox
    assert "ola@example.com</a> <span class=\"muted\">(sent a story)</span>" in outbox


def test_widget_form_saves_story_and_proof_widgets(ann, make_site, query):
    site = make_site("ann@example.com")
    new = f"/dashboard/sites/{site}/widgets/new"
    form = ann.get(new).text
    assert '<option value="story">A story form</option>' in form
    assert '<option value="proof">Stories from readers (social proof)</option>' in form
    assert '<option value="carousel">Carousel, one at a time</option>' in form
    assert "always show inline: put &lt;div data-widget-inline=&#34;ID&#34;&gt;" in form
    for name, kind, style, layout in [("Tell us", "story", "carousel", "slide_in"),
                                      ("Readers say", "proof", "carousel", "modal"),
                                      ("Plain", "newsletter", "carousel", "bar_top")]:
        resp = csrf_post(ann, new, {**WIDGET, "name": name, "kind": kind, "style": style,
                                    "layout": layout})
        assert resp.status_code == 302, resp.text
    saved = query(lambda s: s.execute(select(Widget.name, Widget.kind, Widget.style,
                                             Widget.layout).where(Widget.name != "Before you go")
                                      .order_by(Widget.created_at)).all())
    assert saved == [("Tell us", "story", None, "slide_in"),
                     ("Readers say", "proof", "carousel", "inline"),
                     ("Plain", "newsletter", None, "bar_top")]
    proof = query(lambda s: s.scalar(select(Widget.id).where(Widget.kind == "proof")))
    edit = f"/dashboard/sites/{site}/widgets/{proof}"
    assert f"data-widget-inline=&#34;{proof}&#34;" in ann.get(edit).text
    resp = csrf_post(ann, edit, {**WIDGET, "name": "Readers say", "kind": "proof",
                                 "style": "marquee"})
    assert resp.status_code == 422 and "Choose a list or a carousel." in resp.text
    assert csrf_post(ann, edit, {**WIDGET, "name": "Readers say", "kind": "proof",
                                 "style": "list"}).status_code == 302
    assert query(lambda s: s.get(Widget, proof).style) == "list"
    page = ann.get(f"/dashboard/sites/{site}").text
    assert "📝 a story form “Tell us your story (built-in" in page
    assert f"inline in <code>&lt;div data-widget-inline=\"{proof}\"&gt;</code>" in page
    assert "approved stories from readers (a list)" in page


@pytest.mark.parametrize("kind, expected", [
    ("reward", ["A friend of yours just joined Blog through your link: that makes 2 so far.",
                "As a thank-you, this is for you:", "== The bonus ==", "Unsubscribe"]),
    ("story_thanks", ["Thank you for telling us your story, “Your newsletter got me baking "
                      "again: my first sourdough came out just…”",
                      "You allowed us to show it on Blog", "because you sent your story"]),
    ("story_reply", ["Here is our reply:", "(Your reply, as you write it on the Stories page",
                     "because you sent your story"])])
def test_email_texts_preview_the_give_back_emails(ann, make_site, query, kind, expected):
    site = make_site("ann@example.com")
    gift = make_gift(ann, query, site, "bonus", title="The bonus")
    path = f"/dashboard/sites/{site}/referrals"
    assert csrf_post(ann, f"{path}/milestones", {"friends": "2", "gift_id": gift},
                     page=path).status_code == 302
    editor = f"/dashboard/sites/{site}/emails?kind={kind}&lang=en"
    page = ann.get(editor)
    assert page.status_code == 200
    text = html.unescape(re.search(r'<pre class="mail">(.*?)</pre>', page.text, re.S).group(1))
    for words in expected:
        assert words in text, (words, text)
    if kind != "reward":
        assert "Unsubscribe" not in text and "no unsubscribe link" in page.text.lower()
    assert ("<code>{friends}</code>" in page.text) == (kind == "reward")
    assert ("<code>{story}</code>" in page.text) == (kind != "reward")
    frame = ann.get(f"/dashboard/sites/{site}/emails/preview.html?kind={kind}&lang=en")
    assert frame.status_code == 200 and expected[-1] in html.unescape(frame.text)
    own = {"subject": "Thanks from {site}", "body": "Hi {name}: {friends} / {story}"}
    resp = csrf_post(ann, editor, {**own, "action": "preview"})
    unusable = "{story}" if kind == "reward" else "{friends}"
    assert resp.status_code == 422 and f"Unknown placeholder {unusable} here" in resp.text
    usable = own["body"].replace(f" / {unusable}", "").replace(f"{unusable} / ", "")
    saved = csrf_post(ann, editor, {**own, "body": usable, "action": "save"})
    assert saved.status_code == 302
    assert query(lambda s: s.scalar(select(MailTemplate.body))) == usable


def test_placeholders_of_the_give_back_emails_stay_in_their_kinds(ann, make_site):
    site = make_site("ann@example.com")
    for kind, body in [("welcome", "Hi {friends}"), ("confirm", "Hi {story}")]:
        resp = csrf_post(ann, f"/dashboard/sites/{site}/emails?kind={kind}&lang=en",
                         {"subject": "Hi", "body": body, "action": "save"})
        assert resp.status_code == 422 and "Unknown placeholder" in resp.text
        assert "use {name}, {site}, {what} or {gift}." in resp.text
    names = ann.get(f"/dashboard/sites/{site}/emails").text
    for label in ("Thank-you for bringing friends", "Thank-you for a story",
                  "Your reply to a story"):
        assert f"<strong>{label}:</strong>" in names
