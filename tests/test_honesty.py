"""The "No thanks" rule (sites/honesty): kind ways out pass, guilt trips and hidden text
are refused, and the dashboard's widget form saves nothing it refuses."""
from __future__ import annotations

from html import unescape

import pytest
from sqlalchemy import select

from widget.models import Widget
from widget.sites.honesty import no_thanks_problems

from .helpers.http import csrf_post

KIND = ["No thanks", "Not now", "Maybe later", "Close", "No, I'm good", "Nei takk",
        "Ikke nå", "Kanskje senere", "Nein danke", "Jetzt nicht", "Vielleicht später",
        "Nee, bedankt", "Niet nu", "Misschien later", "No thanks 👋", "Not today, thanks",
        None, ""]
SHAMING = ["No thanks, I don't want to save money", "I'd rather pay full price",
           "I prefer to stay uninformed", "I hate free stuff", "No, I like missing out",
           "Nei, jeg liker å betale full pris", "Nein, ich will nicht sparen",
           "Nee, ik betaal liever de volle prijs",
           # A curly apostrophe, a zero-width space inside a word, full-width letters.
           "No thanks, I don’t like saving money", "I do\u200bn't care", "I ｌｉｋｅ paying more",
           "No thanks, I'll miss out", "Pay full price instead"]
HIDDEN = ["\u200b", "   ", "…", "·", "\u00a0\u2060", "\u200e.\u200f"]


@pytest.mark.parametrize("label", KIND)
def test_kind_ways_out_pass(label):
    assert no_thanks_problems(label) == []


@pytest.mark.parametrize("label", SHAMING)
def test_guilt_trips_are_refused(label):
    (problem,) = no_thanks_problems(label)
    assert "guilt trip" in problem and "“Not now”" in problem


@pytest.mark.parametrize("label", HIDDEN)
def test_hidden_ways_out_are_refused(label):
    (problem,) = no_thanks_problems(label)
    assert "no letter or digit" in problem and "“Maybe later”" in problem


def test_the_message_names_what_it_found():
    (problem,) = no_thanks_problems("I’d rather pay full price")
    assert "“I'd” with “rather”, “full price”" in problem


def test_widget_form_refuses_a_guilt_trip_and_saves_nothing(ann, make_site, query):
    site = make_site("ann@example.com")
    wid = query(lambda s: s.scalar(select(Widget.id)))
    path = f"/dashboard/sites/{site}/widgets/{wid}"

    def row():
        return query(lambda s: {c.name: getattr(s.get(Widget, wid), c.name)
                                for c in Widget.__table__.columns})

    before = row()
    form = {"name": "Renamed", "title": "Wait!", "layout": "modal", "lang": "",
            "trigger_match": "any", "quiet_days_after_close": "3",
            "quiet_days_after_signup": "100"}
    for label in ("Nei, jeg liker å betale full pris", "\u200b"):
        resp = csrf_post(ann, path, {**form, "no_thanks_label": label})
        assert resp.status_code == 422
        # At its field, and in the summary at the top, linking to the field.
        page = unescape(resp.text)
        message = no_thanks_problems(label)[0]
        assert page.count(message) == 2
        summary = page.index('class="error-summary"')
        assert summary < page.index('<form method="post">')
        assert f'<a href="#no_thanks_label">“No thanks” text: {message}</a>' in page
        assert row() == before
    resp = csrf_post(ann, path, {**form, "no_thanks_label": "Not now"})
    assert resp.status_code == 302
    landed = unescape(ann.get(resp.headers["Location"]).text)  # says so, for everyone
    assert '<p class="notice" role="status">“Renamed” is saved; visitors see the change ' \
           'within a minute.</p>' in landed
    after = row()
    assert (after["no_thanks_label"], after["name"], after["title"]) == (
        "Not now", "Renamed", "Wait!")
