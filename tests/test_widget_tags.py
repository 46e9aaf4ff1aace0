"""A widget's tags for its sign-ups, over real HTTP: the widget form stores them clean
(one rule, subscribers/tags) and shows them back, refuses a tag the rule refuses with the
rule's message and nothing saved, and a sign-up through the widget carries them, to be
found by the contacts page's `?tag=` filter and in the CSV's tags column. On SQLite and
PostgreSQL."""
from __future__ import annotations

import csv
import html
import io
import re
from html import unescape

import pytest
from sqlalchemy import select

from widget.models import Widget

from .helpers.giveback import join
from .helpers.http import csrf_post

WIDGET_FORM = {"name": "Checklist pop-up", "is_live": "y", "layout": "modal", "lang": "",
               "kind": "newsletter", "trigger_exit": "y", "trigger_match": "any",
               "quiet_days_after_close": "14", "quiet_days_after_signup": "365"}


def new_widget(ann, site: str, tags: str):
    return csrf_post(ann, f"/dashboard/sites/{site}/widgets/new", {**WIDGET_FORM, "tags": tags})


def stored(query, site: str) -> list[str | None]:
    return query(lambda s: list(s.scalars(select(Widget.tags).where(
        Widget.site_id == site, Widget.name == WIDGET_FORM["name"]))))


def widget_id(query, site: str) -> str:
    return query(lambda s: s.scalar(select(Widget.id).where(
        Widget.site_id == site, Widget.name == WIDGET_FORM["name"])))


def tags_input(page: str) -> str:
    """The value the form's tags field shows."""
    found = re.search(r'<input[^>]*name="tags"[^>]*value="([^"]*)"', page)
    assert found, "no tags field"
    return unescape(found[1])


def listed(resp) -> list[str]:
    assert resp.status_code == 200, resp.text[:300]
    return [unescape(a) for a in re.findall(r'/contacts/\d+">([^<]+)</a>', resp.text)]


def test_tags_are_stored_clean_and_shown_back(ann, make_site, query):
    site = make_site("ann@example.com")
    resp = new_widget(ann, site, " Checklist-Gift ,  spring   SALE,,checklist-gift ")
    assert resp.status_code == 302, resp.text
    assert stored(query, site) == ["checklist-gift,spring sale"]
    page = ann.get(f"/dashboard/sites/{site}/widgets/{widget_id(query, site)}").text
    assert tags_input(page) == "checklist-gift, spring sale"
    assert "Tags for its sign-ups" in page


def test_emptied_tags_are_none(ann, make_site, query):
    site = make_site("ann@example.com")
    assert new_widget(ann, site, "vip").status_code == 302
    path = f"/dashboard/sites/{site}/widgets/{widget_id(query, site)}"
    assert csrf_post(ann, path, {**WIDGET_FORM, "tags": " , "}).status_code == 302
    assert stored(query, site) == [None]
    assert tags_input(ann.get(path).text) == ""


@pytest.mark.parametrize("tags, message", [
    ("ok, " + "x" * 65, "A tag is at most 64 characters"),
    (",".join(f"t{n}" for n in range(21)), "At most 20 tags at once."),
    (",".join(f"{n:02}" + "y" * 60 for n in range(5)), "fit in 300 characters together"),
])
def test_a_tag_the_rule_refuses_is_explained_at_the_field_and_nothing_saved(
        ann, make_site, query, tags, message):
    site = make_site("ann@example.com")
    resp = new_widget(ann, site, tags)
    assert resp.status_code == 422
    field = re.search(r'<div class="field has-error">\s*<label for="tags">.*?</div>',
                      resp.text, re.S)
    assert field and html.escape(message, quote=False) in field[0], resp.text[-3000:]
    assert stored(query, site) == []


def test_a_sign_up_through_the_widget_gets_its_tags(ann, make_site, make_client, query):
    site = make_site("ann@example.com")
    assert new_widget(ann, site, "checklist-gift, Spring sale").status_code == 302
    widget = widget_id(query, site)
    visitor = make_client()
    assert join(visitor, site, "tagged@example.com", widget=widget).status_code == 200
    assert join(visitor, site, "plain@example.com").status_code == 200
    contacts = f"/dashboard/sites/{site}/contacts"
    assert listed(ann.get(f"{contacts}?tag=checklist-gift")) == ["tagged@example.com"]
    assert listed(ann.get(f"{contacts}?tag=Spring%20Sale")) == ["tagged@example.com"]
    assert listed(ann.get(f"{contacts}?tag=other")) == []
    rows = list(csv.DictReader(io.StringIO(ann.get(f"{contacts}.csv").content.decode("utf-8-sig"))))
    assert {row["email"]: row["tags"] for row in rows} == {
        "tagged@example.com": "checklist-gift, spring sale", "plain@example.com": ""}
