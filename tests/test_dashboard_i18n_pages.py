"""The dashboard's pages in the owner's language (Flask-Babel), group by group: the
accounts group (team, API keys, deleting a site), the contacts, gifts and widgets
groups, and the last English that was left, in Norwegian and German, with their
headings, flashes, errors from widget/, plurals with their counts and dates. Over real
HTTP on SQLite and PostgreSQL. The catalogues and the owner's choice of language are
tests/test_dashboard_i18n.py's."""
from __future__ import annotations

import re
from datetime import timezone
from html import unescape
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from sqlalchemy import select

from widget.models import Subscriber
from widget.sites.accounts import AccountError, create_owner

from .helpers.dashboard import choose, make_gift, new_gift, widget_with
from .helpers.http import csrf_post


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
