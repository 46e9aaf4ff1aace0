"""The dashboard in en, nb, de and nl (Flask-Babel): the catalogues are complete and
compiled (every message the sources ask for translated in each language, every plural
form, the same placeholders, each committed .mo what its .po compiles to); the owner picks
a language and a time zone on the account page (an unknown zone refused, nothing saved),
else the browser's language counts; plurals, numbers and dates follow. Over real HTTP on
SQLite and PostgreSQL, and in Chromium with the real form."""
from __future__ import annotations

import re
from datetime import datetime, timezone
from html import unescape
from zoneinfo import ZoneInfo

import pytest
import requests
from babel.dates import format_datetime
from babel.messages.catalog import Catalog
from flask import render_template_string
from playwright.sync_api import Page, expect
from sqlalchemy import select

from widget import catalog
from widget.models import Owner, Subscriber, Widget
from widget.sites.accounts import AccountError, create_owner

from .helpers.browser import log_in
from .helpers.dashboard import make_gift, new_gift
from .helpers.demo import add_widget
from .helpers.http import csrf_post

PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")
ORIGIN = "https://blog.example"  # make_site's default origin


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

@pytest.mark.parametrize("lang, shown", [("en", "1,234 · 10,000+"),
                                         ("nb", "1\xa0234 · 10\xa0000+"),
                                         ("de", "1.234 · 10.000+"),
                                         ("nl", "1.234 · 10.000+")])
def test_counts_in_the_page_language(app, lang, shown):
    with app.test_request_context("/dashboard/", headers={"Accept-Language": lang}):
        assert render_template_string("{{ 1234 | count }} · {{ 10001 | count }}") == shown


def test_pages_outside_the_dashboard_stay_out_of_babel(app):
    with app.test_request_context("/confirm/x", headers={"Accept-Language": "nb"}):
        assert render_template_string("{{ current_locale() }} {{ _('Log out') }}") \
            == "en Log out"


# The account page's choice --------------------------------------------------------------

def choose(client, lang: str, zone: str = "UTC"):
    return csrf_post(client, "/dashboard/account/language",
                     {"lang-lang": lang, "lang-time_zone": zone}, page="/dashboard/account")


def owner_row(query, email: str = "ann@example.com") -> tuple:
    return query(lambda s: tuple(s.execute(select(Owner.lang, Owner.time_zone)
                                           .where(Owner.email == email)).one()))


def widget_with(query, base: str, site: str, name: str, sign_ups: int) -> str:
    """A live widget whose funnel counted three impressions and `sign_ups`, sent to the
    server at `base` as the widget's beacons are."""
    widget = Widget(site_id=site, name=name, kind="newsletter", triggers=[], is_live=True)
    wid = query(lambda s: (s.add(widget), s.commit(), widget.id)[-1])
    events = [{"widget": wid, "type": kind} for kind in ["impression"] * 3 + ["submit"] * sign_ups]
    resp = requests.post(f"{base}/api/v1/sites/{site}/events", timeout=10,
                         headers={"Origin": ORIGIN},
                         json={"page": "/", "lang": "en", "device": "desktop", "events": events})
    assert resp.status_code == 204, resp.text
    return wid


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


# The accounts group: the team, API keys and deleting a site -------------------------------

def test_accounts_pages_in_norwegian(ann, make_site, make_client, query):
    """The team, API keys and delete pages in the owner's Norwegian: headings, role names,
    a flash, an AccountError from widget/sites, plurals with their counts, the audit log's
    actions; the same AccountError outside a request (the CLI's) stays English."""
    site = make_site("ann@example.com", name="Bakeriet")
    for email in ("a@example.com", "b@example.com"):
        resp = make_client().post(f"/api/v1/sites/{site}/subscriptions",
                                  json={"email": email, "consent": True})
        assert resp.status_code == 200, resp.text
    assert choose(ann, "nb", "Europe/Oslo").status_code == 302

    team = f"/dashboard/sites/{site}/members"
    assert csrf_post(ann, team, {"email": "bob@example.com", "role": "editor"}).status_code == 302
    page = ann.get(team).text
    assert "Invitasjonen er sendt til bob@example.com." in page
    assert "Hvem som jobber med Bakeriet" in page and "<h2>Inviter noen</h2>" in page
    assert "<td>redaktør</td>" in page and "invitert, ikke med ennå" in page
    assert [x for x in ("Invite someone", "Who works on", "Send the invitation",
                        "owner of record", "<td>editor</td>") if x in page] == []
    taken = csrf_post(ann, team, {"email": "ann@example.com", "role": "viewer"})
    assert taken.status_code == 422 and "Det er et problem" in taken.text
    assert "ann@example.com er allerede i teamet for dette nettstedet." in taken.text

    keys = f"/dashboard/sites/{site}/keys"
    assert "Ingen nøkler ennå." in ann.get(keys).text
    made = csrf_post(ann, keys, {"name": "Nattjobb", "scope": "write"})
    assert made.status_code == 200 and "Den nye nøkkelen din «Nattjobb»" in made.text
    assert "<td>Lese og skrive</td>" in made.text and "<td>Aldri</td>" in made.text
    assert [x for x in ("Your new key", "Create key", "No keys yet", "(UTC)")
            if x in made.text] == []

    delete = f"/dashboard/sites/{site}/delete"
    page = " ".join(ann.get(delete).text.split())
    assert "<h1>Slett Bakeriet</h1>" in page
    assert "2 kontakter med samtykker og historikk, 1 widget med tellere og tester, " \
           "0 gaver med filer og lenker," in page
    wrong = csrf_post(ann, delete, {"name": "Bakeri"})
    assert wrong.status_code == 422
    assert "Det er ikke navnet på nettstedet: skriv «Bakeriet»." in unescape(wrong.text)
    assert "<td>inviterte</td>" in ann.get(f"/dashboard/sites/{site}").text  # the audit log

    def refused(session) -> str:
        try:
            create_owner(session, "cli@example.com", "short")
        except AccountError as exc:
            return str(exc)
        return "created"
    assert query(refused) == "The password needs at least 10 characters."


# The contacts group: contacts, a contact, adding, bulk changes, imports, outbox, e-mails ---

def test_contacts_group_in_norwegian_and_german(ann, make_site, query):
    """Ann in nb sees the contacts pages in Norwegian: headings, labels, a refusal from
    manage.py in her language, plurals ("1 kontakt" / "2 kontakter"), the bulk change's
    notice and the times in her zone; in de the same list counts in German."""
    site = make_site("ann@example.com")
    assert choose(ann, "nb", "Europe/Oslo").status_code == 302
    new = f"/dashboard/sites/{site}/contacts/new"
    add = {"name": "", "lang": "nb", "tags": "", "basis": "Ved standen vår", "confirm": "now"}
    for email in ("p0@example.com", "p1@example.com"):
        resp = csrf_post(ann, new, {**add, "email": email})
        assert resp.status_code == 302, resp.text
    added = ann.get(re.sub(r"^https?://[^/]+", "", resp.headers["Location"])).text
    assert "Kontakten er lagt til." in added and "Historikk" in added and "Samtykke" in added
    assert "endret av deg i dashbordet" in added and "History" not in added
    created = query(lambda s: s.scalar(select(Subscriber.created_at)
                                       .where(Subscriber.email == "p1@example.com")))
    created = created if created.tzinfo else created.replace(tzinfo=timezone.utc)
    assert format_datetime(created, "medium", tzinfo=ZoneInfo("Europe/Oslo"),
                           locale="nb") in added
    again = csrf_post(ann, new, {**add, "email": "p0@example.com"})
    assert again.status_code == 422
    assert "Denne adressen er allerede en kontakt på nettstedet." in again.text
    assert "Legg til en kontakt" in again.text and "Add a contact" not in again.text

    contacts = f"/dashboard/sites/{site}/contacts"
    page = ann.get(contacts).text
    assert "2 kontakter" in page and "Eksporter alt (CSV)" in page and "Påmeldt" in page
    assert "Nyeste først" in page and "Export everything" not in page
    review = ann.get(f"{contacts}/bulk", params={"action": "tag", "bulk_tag": "Tidlig",
                                                  "q": "p0"}).text
    assert "Dette endrer <strong>1 kontakt</strong>" in review and "1 kontakt</button>" in review
    resp = csrf_post(ann, f"{contacts}/bulk", {"action": "tag", "bulk_tag": "Tidlig"},
                     page=f"{contacts}/bulk?action=tag&bulk_tag=Tidlig")
    assert resp.status_code == 302
    done = ann.get(re.sub(r"^https?://[^/]+", "", resp.headers["Location"])).text
    assert "2 kontakter har fått merkelappen." in done

    imports = ann.get(f"/dashboard/sites/{site}/imports").text
    assert "Importer kontakter" in imports and "Last opp en CSV-fil" in imports
    assert "Ingen importer ennå." in imports and "Upload a CSV file" not in imports
    outbox = ann.get(f"/dashboard/sites/{site}/outbox").text
    assert "Utboks" in outbox and "No e-mails yet" not in outbox
    texts = ann.get(f"/dashboard/sites/{site}/emails").text
    assert "E-posttekster" in texts and "Plassholdere:" in texts and "Forhåndsvisning" in texts
    assert "Placeholders:" not in texts and "Reset to the built-in text" not in texts

    assert choose(ann, "de").status_code == 302
    page = ann.get(contacts).text
    assert "2 Kontakte" in page and "Kontakt hinzufügen" in page and "Contacts" not in page


def test_gifts_group_pages_in_norwegian_and_german(ann, make_site, query):
    """A gift's page, referrals, stories and webhooks in the owner's language: headings,
    plurals and counts, the notices and form errors; none of their English left."""
    site = make_site("ann@example.com")
    gift = make_gift(ann, query, site, "coupon", title="Brødkoder", quantity="2000")
    assert choose(ann, "nb", "Europe/Oslo").status_code == 302
    path = f"/dashboard/sites/{site}/gifts/{gift}"
    made = csrf_post(ann, f"{path}/coupons/generate", {"pattern": "BAKE-########",
                                                       "count": "1234"}, page=path)
    assert made.status_code == 302
    page = ann.get(made.headers["Location"]).text
    assert "La til 1\xa0234 koder." in page and "Rabattkoder" in page
    assert "1\xa0234 i alt · 0 gitt · 1\xa0234 igjen" in page and "Ingen har den ennå." in page
    assert "Coupon codes" not in page and "Given to" not in page and "Nobody has it" not in page

    referrals = f"/dashboard/sites/{site}/referrals"
    added = csrf_post(ann, f"{referrals}/milestones", {"friends": "1", "gift_id": gift},
                      page=referrals)
    page = ann.get(added.headers["Location"]).text
    assert "Milepælen ble lagt til." in page and "0 personer" in page
    assert "Milepæler" in page and "Ingen har tatt med en venn ennå." in page
    assert "Milestones" not in page and "Who brought the most friends" not in page
    twice = csrf_post(ann, f"{referrals}/milestones", {"friends": "1", "gift_id": gift},
                      page=referrals)
    assert twice.status_code == 422
    assert "Det finnes allerede en milepæl ved 1 venn" in twice.text

    stories = ann.get(f"/dashboard/sites/{site}/stories").text
    assert "Ingenting å moderere." in stories and "Historier etter status" in stories
    assert "Nothing to moderate" not in stories and "Story settings" not in stories
    hooks = ann.get(f"/dashboard/sites/{site}/webhooks").text
    assert "Ingen webhooks ennå." in hooks and "Ny webhook" in hooks
    assert "New webhook" not in hooks and "Endpoints" not in hooks

    assert choose(ann, "de").status_code == 302
    page = ann.get(path).text
    assert "Gutscheincodes" in page and "1.234 insgesamt · 0 vergeben · 1.234 übrig" in page
    assert "Vergeben an" in page and "Coupon codes" not in page
    form = ann.get(f"{path}/edit").text
    assert "Geschenk bearbeiten" in form and "Höchstens so viele werden je vergeben" in form
    assert "Edit gift" not in form


def test_widgets_group_pages_in_norwegian(ann, make_site, query):
    """The widget form, a refused "No thanks", the A/B tests and "What works" in
    Norwegian: headings, labels, the verdict, shares with a decimal comma, the days'
    plural; none of their English left."""
    site = make_site("ann@example.com")
    wid = widget_with(query, ann.url, site, "Ett", 1)  # 3 shown, 1 sign-up
    assert choose(ann, "nb").status_code == 302

    form = ann.get(f"/dashboard/sites/{site}/widgets/new").text
    assert "<h1>Ny widget</h1>" in form and "Hva den tilbyr" in form
    assert "Navn (bare du ser det)" in form and "Legg til widget" in form
    assert "What it offers" not in form and "Add widget" not in form
    path = f"/dashboard/sites/{site}/widgets/{wid}"
    shaming = csrf_post(ann, path, {
        "name": "Ett", "layout": "modal", "trigger_exit": "y", "trigger_match": "any",
        "lang": "", "quiet_days_after_close": "14", "quiet_days_after_signup": "365",
        "no_thanks_label": "Nei takk, jeg liker ikke å spare penger"})
    assert shaming.status_code == 422 and "Det er et problem" in shaming.text
    assert "«Nei takk»-teksten gir dårlig samvittighet («jeg» med «liker»)" in shaming.text
    assert "guilt trip" not in shaming.text

    stats = f"/dashboard/sites/{site}/stats"
    page = ann.get(stats).text
    assert "<h1>Hva som virker</h1>" in page and "Per dag" in page and "(30 dager)" in page
    assert "0 % av viste" in page and "33,3 %" in page  # opened of shown; signed up of shown
    assert "What works" not in page and "By day" not in page and "of shown" not in page
    one_day = ann.get(stats, params={"by": "device"}).text
    assert "Per enhet" in one_day and "Datamaskin" in one_day and "Desktop" not in one_day

    tests = f"/dashboard/sites/{site}/widgets/{wid}/tests"
    page = ann.get(tests).text
    assert "A/B-tester av Ett" in page and "Start en test" in page and "Variant B" in page
    assert "Start a test" not in page and "Views each variant" not in page
    started = csrf_post(ann, tests, {"min_shown": "100", "b-name": "Kort",
                                     "b-title": "To minutter"})
    assert started.status_code == 302
    page = ann.get(tests).text
    assert "Testen pågår" in page and "Pågår siden" in page
    assert "ingen vinner kåres før hver variant er vist 100 ganger" in page
    assert "Running since" not in page and "Collecting" not in page


def test_the_last_english_in_norwegian(ann, make_site, query):
    """Refusals written in the capability modules (an A/B test, a gift file with the
    allowed kinds, a webhook URL) shown in Norwegian, the number in its format."""
    site = make_site("ann@example.com")
    wid = widget_with(query, ann.url, site, "Ett", 1)
    assert choose(ann, "nb").status_code == 302

    tests = f"/dashboard/sites/{site}/widgets/{wid}/tests"
    refused = csrf_post(ann, tests, {"min_shown": "100", "b-name": "Original",
                                     "b-title": "To minutter"})
    assert refused.status_code == 200  # the page again, with the problems
    assert "Gi hver variant sitt eget korte navn (ikke «Original»)." in refused.text
    assert "its own short name" not in refused.text

    html_page = ("side.html", b"<!doctype html><html><script>1</script></html>", "text/html")
    gift = new_gift(ann, site, "file", html_page)
    assert gift.status_code == 422
    text = unescape(gift.text)
    assert "Denne filtypen kan ikke være en gave" in text and "OpenDocument-regneark" in text
    assert "can't be a gift" not in text and "plain text" not in text

    hooks = f"/dashboard/sites/{site}/webhooks"
    bad = csrf_post(ann, hooks, {"url": "https://" + "a" * 2050 + ".example"})
    assert bad.status_code == 422 and "URL-en er lengre enn 2 048 tegn." in unescape(
        bad.text).replace("\xa0", " ")
    assert "longer than" not in bad.text
