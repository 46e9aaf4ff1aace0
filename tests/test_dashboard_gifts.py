"""The owner's side of gifts over real HTTP: the site's gift table, the gift form with
its upload, coupon codes, the ledger with withdraw, fresh link and CSV export, deleting,
the contact page's gifts, and isolation between owners."""
from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import func, select

from widget.gifts import coupons as coupons_module
from widget.models import Coupon, Gift, GiftFile, GiftFileChunk

from .helpers.dashboard import FIELDS, PDF, counts, gifts_path, make_gift, new_gift
from .helpers.http import csrf_post

MB = 1 << 20


def test_site_page_explains_gifts_then_lists_them(ann, make_site, query):
    site = make_site("ann@example.com")
    page = ann.get(f"/dashboard/sites/{site}").text
    assert "<h2>Gifts</h2>" in page and f'href="{gifts_path(site)}/new"' in page
    assert "Give something of value first: a file, a link, coupon codes or a bonus" in page
    chooser = ann.get(f"{gifts_path(site)}/new").text
    assert all(f"{gifts_path(site)}/new?kind={k}" in chooser
               for k in ("file", "link", "coupon", "bonus"))
    gift_id = make_gift(ann, query, site, quantity="50")
    make_gift(ann, query, site, "bonus", title="Bonus <recipe>")
    page = ann.get(f"/dashboard/sites/{site}").text
    assert f'href="{gifts_path(site)}/{gift_id}">The sourdough checklist</a>' in page
    assert "0 of 50 given" in page and "50 left" in page and "A file to download" in page
    assert "Bonus &lt;recipe&gt;" in page and "0 given" in page


def test_file_gift_is_stored_and_described(ann, make_site, query):
    site = make_site("ann@example.com")
    form = ann.get(f"{gifts_path(site)}/new?kind=file").text
    assert 'enctype="multipart/form-data"' in form and "At most 50 MB" in form
    gift_id = make_gift(ann, query, site, title="  The   checklist ", description="For you",
                        followup_days="3", quantity="10", show_left="y")
    gift = query(lambda s: (lambda g: (g.kind, g.title, g.quantity, g.show_left,
                                       g.followup_days, g.file.name, g.file.size,
                                       g.file.content_type))(s.get(Gift, gift_id)))
    assert gift == ("file", "The checklist", 10, True, 3, "checklist.pdf", len(PDF),
                    "application/pdf")
    assert counts(query) == (1, 1, 1)
    page = ann.get(f"{gifts_path(site)}/{gift_id}").text
    assert "checklist.pdf (1 kB)" in page and "0 of 10" in page and "10 left" in page
    assert "3 days after giving it" in page and "Nobody has it yet" in page


UNSAFE = "This kind of file can't be a gift (web pages, SVG images and programs never can)."


@pytest.mark.parametrize("upload, message", [
    (("page.html", b"<!doctype html><html><script>alert(1)</script></html>"), UNSAFE),
    (("logo.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>1</script></svg>'), UNSAFE),
    (("empty.pdf", b""), "The file is empty."),
    (None, "Choose the file to give."),
])
def test_unsafe_empty_or_missing_files_are_refused(ann, make_site, query, upload, message):
    site = make_site("ann@example.com")
    resp = new_gift(ann, site, "file", upload and (*upload, "application/pdf"))
    assert resp.status_code == 422 and message in html.unescape(resp.text)
    assert 'value="The sourdough checklist"' in resp.text  # what was typed stays
    assert counts(query) == (0, 0, 0)


@pytest.fixture
def small_uploads(app_config):
    app_config["GIFT_MAX_BYTES"] = MB


def test_files_over_the_limit_are_refused_and_nothing_stored(small_uploads, ann, make_site,
                                                             query):
    site = make_site("ann@example.com")
    assert "At most 1 MB" in ann.get(f"{gifts_path(site)}/new?kind=file").text
    # A little over: the upload is read and refused while it is stored (chunks rolled back).
    resp = new_gift(ann, site, "file", ("big.pdf", PDF + b"0" * MB, "application/pdf"))
    assert resp.status_code == 422 and "The file is larger than 1 MB." in resp.text
    assert counts(query) == (0, 0, 0)
    # Far over: refused before the body is read, with the form shown again.
    resp = new_gift(ann, site, "file", ("huge.pdf", PDF + b"0" * 3 * MB, "application/pdf"))
    assert resp.status_code == 413 and "The file is larger than 1 MB." in resp.text
    assert 'enctype="multipart/form-data"' in resp.text
    assert counts(query) == (0, 0, 0)
    gift_id = make_gift(ann, query, site)
    edit = f"{gifts_path(site)}/{gift_id}/edit"
    resp = ann.post(edit, data={**FIELDS, "title": "Changed", "csrf_token": ann.csrf(edit)},
                    files={"upload": ("huge.pdf", PDF + b"0" * 3 * MB, "application/pdf")})
    assert resp.status_code == 413 and "checklist.pdf" in resp.text
    assert query(lambda s: s.get(Gift, gift_id).title) == "The sourdough checklist"
    assert counts(query) == (1, 1, 1)
    # Text far over any field's length is refused the same way, without reading it.
    path = f"{gifts_path(site)}/new"
    for files in (None, {"bonus_html": (None, "x" * 300_000)}):  # form-urlencoded, multipart
        resp = ann.post(path, data={**FIELDS, "kind": "bonus", "csrf_token": ann.csrf(path),
                                    **({} if files else {"bonus_html": "x" * 300_000})},
                        files=files)
        assert resp.status_code == 413 and "The texts are too long. Nothing was saved." \
            in resp.text
    assert counts(query) == (1, 1, 1)


def test_edit_replaces_the_file_and_keeps_the_kind(ann, make_site, query):
    site = make_site("ann@example.com")
    gift_id = make_gift(ann, query, site)
    old_file = query(lambda s: s.get(Gift, gift_id).file_id)
    edit = f"{gifts_path(site)}/{gift_id}/edit"
    page = ann.get(edit).text
    assert "Now: checklist.pdf (1 kB)" in page and "a gift keeps its kind" in page
    # Without a new file the file stays; the kind can't be changed by posting another.
    resp = csrf_post(ann, edit, {**FIELDS, "kind": "link", "title": "Checklist v2",
                                 "is_active": "", "link_days": "30", "download_limit": "2"})
    assert resp.status_code == 302
    assert query(lambda s: (lambda g: (g.kind, g.title, g.is_active, g.link_days,
                                       g.download_limit, g.file_id))(s.get(Gift, gift_id))) \
        == ("file", "Checklist v2", False, 30, 2, old_file)
    newer = PDF.replace(b"Catalog", b"Catalog /Lang (nb)") * 3
    resp = ann.post(edit, data={**FIELDS, "csrf_token": ann.csrf(edit)},
                    files={"upload": ("sjekkliste v2.pdf", newer, "application/pdf")})
    assert resp.status_code == 302
    gift_file = query(lambda s: (lambda g: (g.file_id, g.file.name, g.file.size))(
        s.get(Gift, gift_id)))
    assert gift_file[0] != old_file and gift_file[1:] == ("sjekkliste v2.pdf", len(newer))
    assert query(lambda s: (s.get(GiftFile, old_file), s.scalar(
        select(func.count()).where(GiftFileChunk.file_id == old_file)))) == (None, 0)
    assert counts(query) == (1, 1, 1)
    # A refused replacement leaves the current file and the other fields as they were.
    resp = ann.post(edit, data={**FIELDS, "title": "Not saved", "csrf_token": ann.csrf(edit)},
                    files={"upload": ("x.html", b"<html></html>", "text/html")})
    assert resp.status_code == 422
    assert query(lambda s: (s.get(Gift, gift_id).title, s.get(Gift, gift_id).file_id)) == (
        "The sourdough checklist", gift_file[0])


def test_bad_values_are_explained(ann, make_site, query):
    site = make_site("ann@example.com")
    for kind, fields, message in [
            ("link", {"url": "javascript:alert(1)"}, "An address starting with https://"),
            ("link", {"url": "https://[::1/x"}, "An address starting with https://"),
            ("link", {"url": "https://x.example:99999/"}, "An address starting with https://"),
            ("link", {"url": ""}, "This field is required."),
            ("bonus", {"bonus_html": "x" * 20_001}, "cannot be longer than 20000"),
            ("link", {"url": "https://x.example", "title": ""}, "This field is required."),
            ("link", {"url": "https://x.example", "title": "a\nb"}, "Keep it on one line."),
            ("link", {"url": "https://x.example", "link_days": "366"}, "between 1 and 365"),
            ("link", {"url": "https://x.example", "download_limit": "0"}, "between 1 and 1000"),
            ("link", {"url": "https://x.example", "quantity": "0"}, "at least 1"),
            ("link", {"url": "https://x.example", "followup_days": "400"}, "between 1 and 365")]:
        resp = new_gift(ann, site, kind, **fields)
        assert resp.status_code == 422 and message in resp.text, (fields, message)
    assert new_gift(ann, site, "surprise").status_code == 422
    assert counts(query) == (0, 0, 0)


def test_link_and_bonus_gifts(ann, make_site, query):
    site = make_site("ann@example.com")
    link = make_gift(ann, query, site, "link", url=" https://course.example/lesson?a=1&b=2 ")
    assert query(lambda s: s.get(Gift, link).url) == "https://course.example/lesson?a=1&b=2"
    assert "https://course.example/lesson?a=1&amp;b=2" in ann.get(
        f"{gifts_path(site)}/{link}").text
    form = ann.get(f"{gifts_path(site)}/new?kind=bonus").text
    assert "only simple formatting" in form
    bonus = make_gift(ann, query, site, "bonus", bonus_html=(
        '<p onclick="x()">Knead <b>well</b></p><script>alert(1)</script>'
        '<a href="javascript:alert(1)">no</a> <a href="https://bread.example">yes</a>'))
    stored = query(lambda s: s.get(Gift, bonus).bonus_html)
    assert "<b>well</b>" in stored and "https://bread.example" in stored
    assert "script" not in stored and "onclick" not in stored and "javascript" not in stored
    page = ann.get(f"{gifts_path(site)}/{bonus}").text
    assert "Knead <b>well</b>" in page and "<script>alert" not in page


def test_coupon_codes_imported_and_generated(ann, make_site, query):
    site = make_site("ann@example.com")
    gift_id = make_gift(ann, query, site, "coupon", title="10% off", quantity="3")
    path = f"{gifts_path(site)}/{gift_id}"
    page = ann.get(path).text
    assert "0 in all · 0 given · 0 left" in page and "Import codes" in page
    imported = csrf_post(ann, f"{path}/coupons/import",
                         {"codes": "code\nBREAD-1\nBREAD-2\n\nBREAD-1\n"}, page=path)
    assert imported.status_code == 302
    assert "Added 2 codes." in ann.get(imported.headers["Location"]).text
    again = ann.post(f"{path}/coupons/import",
                     data={"csrf_token": ann.csrf(path), "codes": "BREAD-2"},
                     files={"csv_file": ("codes.csv", "\ufeffcode,note\nBREAD-3,x\nØL-4,y\n"
                                         .encode(), "text/csv")})
    assert again.status_code == 302
    assert "Added 2 codes (1 was already there)." in ann.get(again.headers["Location"]).text
    bad = csrf_post(ann, f"{path}/coupons/import", {"codes": "GOOD-1\nnot a code!\n"},
                    page=path)
    assert bad.status_code == 422 and "Line 2: &#39;not a code!&#39; is not a code" in bad.text
    latin1 = ann.post(f"{path}/coupons/import", data={"csrf_token": ann.csrf(path)},
                      files={"csv_file": ("codes.csv", "ØL-9\n".encode("latin-1"), "text/csv")})
    assert latin1.status_code == 422 and "CSV UTF-8" in latin1.text
    flood = csrf_post(ann, f"{path}/coupons/import", {"codes": "X-1\n" * (1 << 20)}, page=path)
    assert flood.status_code == 413 and "at most 10,000 codes" in flood.text
    empty = csrf_post(ann, f"{path}/coupons/import", {"codes": "  "}, page=path)
    assert empty.status_code == 422 and "Paste codes, or choose a .csv file." in empty.text
    made = csrf_post(ann, f"{path}/coupons/generate", {"pattern": "BAKE-####", "count": "20"},
                     page=path)
    assert made.status_code == 302
    assert "Added 20 codes." in ann.get(made.headers["Location"]).text
    codes = query(lambda s: s.scalars(select(Coupon.code).where(Coupon.gift_id == gift_id)).all())
    assert len(codes) == 24 and {"BREAD-1", "BREAD-2", "BREAD-3", "ØL-4"} <= set(codes)
    assert sum(bool(re.fullmatch(r"BAKE-[2-9]{4}", c)) for c in codes) == 20
    guessable = csrf_post(ann, f"{path}/coupons/generate", {"pattern": "X-#", "count": "5"},
                          page=path)
    assert guessable.status_code == 422 and "too few # ? * places" in guessable.text
    page = ann.get(path).text
    assert "24 in all · 0 given · 24 left" in page and "0 of 3" in page and "3 left" in page


def test_codes_added_by_another_tab_meanwhile_are_skipped(ann, make_site, query, monkeypatch):
    site = make_site("ann@example.com")
    gift_id = make_gift(ann, query, site, "coupon")
    path = f"{gifts_path(site)}/{gift_id}"
    assert csrf_post(ann, f"{path}/coupons/import", {"codes": "A-1"},
                     page=path).status_code == 302
    # The other tab read the codes just before this one stored A-1: the unique key
    # skips it, and nothing fails.
    monkeypatch.setattr(coupons_module, "taken", lambda session, gift: set())
    resp = csrf_post(ann, f"{path}/coupons/import", {"codes": "A-1\nA-2"}, page=path)
    assert resp.status_code == 302
    assert sorted(query(lambda s: s.scalars(select(Coupon.code)).all())) == ["A-1", "A-2"]
