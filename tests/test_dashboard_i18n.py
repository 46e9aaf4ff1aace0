"""The dashboard in en, nb, de and nl (Flask-Babel): the catalogues are complete and
compiled (every message the sources ask for translated in each language, every plural
form, the same placeholders, each committed .mo what its .po compiles to); the owner picks
a language and a time zone on the account page (an unknown zone refused, nothing saved),
else the browser's language counts; plurals, numbers and dates follow. Over real HTTP on
SQLite and PostgreSQL, and in Chromium with the real form. The dashboard's pages, group
by group, in the owner's language are tests/test_dashboard_i18n_pages.py's."""
from __future__ import annotations

import re
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

import pytest
import requests
from babel.dates import format_datetime
from babel.messages.catalog import Catalog
from flask import render_template_string
from playwright.sync_api import Page, expect
from sqlalchemy import select

from widget import catalog
from widget.models import Owner, StatDay, Subscriber, Widget

from .helpers.browser import log_in
from .helpers.dashboard import choose, widget_with
from .helpers.demo import add_widget

PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


# The catalogues -----------------------------------------------------------------------

def problems(template: Catalog, translated: Catalog) -> list[str]:
    """What keeps `translated` from being the sources' complete catalogue."""
    found = []
    wanted = {m.id if isinstance(m.id, str) else m.id[0] for m in template if m.id}
    for message in template:
        if not message.id:
            continue
        key = message.id if isinstance(message.id, str) else message.id[0]
        have = translated.get(message.id)
        if have is None:
            found.append(f"missing: {key!r}")
            continue
        ids = [message.id] if isinstance(message.id, str) else list(message.id)
        forms = [have.string] if isinstance(have.string, str) else list(have.string)
        if have.fuzzy:
            found.append(f"fuzzy: {key!r}")
        if len(forms) != (1 if isinstance(message.id, str) else translated.num_plurals) \
                or not all(forms):
            found.append(f"untranslated: {key!r}")
        names = set().union(*(PLACEHOLDER.findall(i) for i in ids))
        if any(set(PLACEHOLDER.findall(f)) != names for f in forms if f):
            found.append(f"placeholders differ: {key!r}")
    for message in translated:
        if message.id and (message.id if isinstance(message.id, str)
                           else message.id[0]) not in wanted:
            found.append(f"stale: {message.id!r}")
    return found


@pytest.fixture(scope="module")
def sources() -> Catalog:
    return catalog.extract()


def test_the_sources_have_messages(sources):
    ids = {m.id if isinstance(m.id, str) else m.id[0] for m in sources}
    assert {"Skip to content", "%(n)s sign-up", "Use my browser's language"} <= ids


@pytest.mark.parametrize("lang", catalog.LANGS)
def test_every_message_is_translated(sources, lang):
    """Fails when a helper adds or changes a string without `python -m widget.catalog
    update` and a translation (docs/translating.md)."""
    assert problems(sources, catalog.read(lang)) == []


@pytest.mark.parametrize("lang", catalog.LANGS)
def test_each_mo_is_its_po_compiled(lang):
    """The .mo files are committed (a clean clone runs with no compile step): stale ones
    fail here; `python -m widget.catalog compile` writes them."""
    assert catalog.po_path(lang).with_suffix(".mo").read_bytes() == catalog.compiled(lang)


def test_the_catalogue_check_can_fail():
    template = Catalog(locale="en")
    template.add("Saved.")
    template.add(("%(n)s sign-up", "%(n)s sign-ups"))
    template.add("Hello %(name)s")
    nb = Catalog(locale="nb")
    nb.add(("%(n)s sign-up", "%(n)s sign-ups"), ("%(n)s påmelding", ""))
    nb.add("Hello %(name)s", "Hei %(navn)s")
    nb.add("Gone", "Borte", flags=["fuzzy"])
    assert problems(template, nb) == [
        "missing: 'Saved.'", "untranslated: '%(n)s sign-up'",
        "placeholders differ: 'Hello %(name)s'", "stale: 'Gone'"]
    nb.add("Saved.", "Lagret.", flags=["fuzzy"])
    assert "fuzzy: 'Saved.'" in problems(template, nb)


# Numbers and the locale outside the dashboard ------------------------------------------

@pytest.mark.parametrize("lang, shown", [("en", "1,234 · 36,550 · 10,000 · 10,000+"),
                                         ("nb", "1\xa0234 · 36\xa0550 · 10\xa0000 · 10\xa0000+"),
                                         ("de", "1.234 · 36.550 · 10.000 · 10.000+"),
                                         ("nl", "1.234 · 36.550 · 10.000 · 10.000+")])
def test_counts_in_the_page_language(app, lang, shown):
    """A number as it is; a total counted to the cap (count_to_cap) as "10,000+"."""
    with app.test_request_context("/dashboard/", headers={"Accept-Language": lang}):
        assert render_template_string(
            "{{ 1234 | count }} · {{ 36550 | count }} · {{ 10000 | capped }} · "
            "{{ 10001 | capped }}") == shown


def test_a_large_counter_shows_whole_on_the_site_page(ann, make_site, query):
    """36,550 impressions read 36.550 in German, not the list cap's "10.000+"."""
    site = make_site("ann@example.com")
    choose(ann, "de")

    def add(s):
        widget = s.scalar(select(Widget).where(Widget.site_id == site))
        s.add(StatDay(site_id=site, widget_id=widget.id, day=date.today(), shown=36550))
        s.commit()
    query(add)
    page = ann.get(f"/dashboard/sites/{site}").text
    assert "36.550 angezeigt" in page and "10.000+" not in page


def test_pages_outside_the_dashboard_stay_out_of_babel(app):
    with app.test_request_context("/confirm/x", headers={"Accept-Language": "nb"}):
        assert render_template_string("{{ current_locale() }} {{ _('Log out') }}") \
            == "en Log out"


# The account page's choice --------------------------------------------------------------


def owner_row(query, email: str = "ann@example.com") -> tuple:
    return query(lambda s: tuple(s.execute(select(Owner.lang, Owner.time_zone)
                                           .where(Owner.email == email)).one()))


def test_norwegian_chosen_on_the_account_page_with_its_plurals(ann, make_site, query):
    site = make_site("ann@example.com")
    widget_with(query, ann.url, site, "Ett", 1)
    widget_with(query, ann.url, site, "To", 2)
    assert "1 sign-up (33%)" in ann.get(f"/dashboard/sites/{site}").text

    resp = choose(ann, "nb", "Europe/Oslo")
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/dashboard/account")
    page = ann.get("/dashboard/account").text
    assert '<html lang="nb">' in page and "Lagret." in page  # the flash in the new language
    assert re.search(r'<option lang="nb" selected value="nb">Norsk \(bokmål\)</option>', page)
    assert owner_row(query) == ("nb", "Europe/Oslo")

    html = ann.get(f"/dashboard/sites/{site}", headers={"Accept-Language": "de"}).text
    assert "1 påmelding (33\xa0%)" in html and "2 påmeldinger (67\xa0%)" in html
    assert "Gå til innholdet" in html and "Logg ut" in html and "Revisjonslogg" in html
    assert "sign-up" not in html


def test_the_browser_language_counts_until_one_is_chosen(ann, query):
    german = {"Accept-Language": "de-DE,de;q=0.9,en;q=0.5"}
    page = ann.get("/dashboard/", headers=german).text
    assert '<html lang="de">' in page and "Ihre Websites" in page
    assert '<html lang="en">' in ann.get("/dashboard/").text  # no header: English
    assert choose(ann, "nl").status_code == 302
    assert "Je websites" in ann.get("/dashboard/", headers=german).text
    assert choose(ann, "").status_code == 302  # "Use my browser's language"
    assert owner_row(query) == (None, "UTC")
    assert "Ihre Websites" in ann.get("/dashboard/", headers=german).text


def test_an_unknown_time_zone_is_refused_and_nothing_saved(ann, query):
    resp = choose(ann, "de", "Mars/Olympus")
    assert resp.status_code == 422
    assert "We know no time zone called “Mars/Olympus”" in resp.text
    assert owner_row(query) == (None, "UTC")
    assert choose(ann, "xx").status_code == 422  # not one of the four
    assert owner_row(query) == (None, "UTC")
    assert choose(ann, "en", "  asia/TOKYO ").status_code == 302  # its case forgiven
    assert owner_row(query) == ("en", "Asia/Tokyo")


def test_dates_show_in_the_owners_zone_and_language(ann, make_site, make_client, query):
    site = make_site("ann@example.com")
    resp = make_client().post(f"/api/v1/sites/{site}/subscriptions",
                              json={"email": "reader@example.com", "consent": True})
    assert resp.status_code == 200, resp.text
    stored = query(lambda s: s.scalar(select(Subscriber.created_at)))
    stored = stored if stored.tzinfo else stored.replace(tzinfo=timezone.utc)
    for lang, zone in (("en", "Asia/Tokyo"), ("nb", "America/New_York")):
        assert choose(ann, lang, zone).status_code == 302
        html = ann.get(f"/dashboard/sites/{site}").text
        assert format_datetime(stored, "medium", tzinfo=ZoneInfo(zone), locale=lang) in html
    assert format_datetime(datetime(2026, 1, 1, 12), "medium", locale="nb") != \
        format_datetime(datetime(2026, 1, 1, 12), "medium", locale="en")  # a real difference


# In Chromium ------------------------------------------------------------------------------

@pytest.mark.browser
def test_switch_to_norwegian_in_the_browser_and_see_the_plurals(page: Page, demo):
    for wid, sign_ups in ((add_widget(demo, [], name="i18n-one"), 1),
                          (add_widget(demo, [], name="i18n-two"), 2)):
        events = [{"widget": wid, "type": "submit"}] * sign_ups
        resp = requests.post(f"{demo['base']}/api/v1/sites/demo-blog/events", timeout=10,
                             headers={"Origin": demo["pages"]},
                             json={"page": "/", "lang": "nb", "device": "desktop",
                                   "events": events})
        assert resp.status_code == 204, resp.text
    log_in(page, demo)
    page.goto(f"{demo['base']}/dashboard/account")
    page.get_by_label("Language").select_option(label="Norsk (bokmål)")
    page.get_by_label("Time zone").fill("Europe/Oslo")
    page.get_by_role("button", name="Save language and time zone").click()
    expect(page.get_by_role("status")).to_have_text("Lagret.")
    expect(page.locator("html")).to_have_attribute("lang", "nb")
    expect(page.get_by_label("Språk")).to_have_value("nb")
    page.goto(f"{demo['base']}/dashboard/sites/demo-blog")
    rows = page.get_by_role("row")
    expect(rows.filter(has_text="i18n-one")).to_contain_text("1 påmelding")
    expect(rows.filter(has_text="i18n-two")).to_contain_text("2 påmeldinger")
    expect(page.get_by_role("link", name="Gå til innholdet")).to_be_attached()

