"""Signed gift links over real HTTP and a real database (SQLite and PostgreSQL): the page
a link opens (GET shows, only its button's POST issues a download ticket), the exact
bytes behind a ticket, and the ways a link can be malformed: changed, cut, of another
purpose, spliced from other grants, or a path. Expired, timed-out, withdrawn, used-up and
replaced links are tests/test_gift_links_lifetime.py's."""
from __future__ import annotations

import pytest
from werkzeug.http import parse_options_header

from widget.gifts import files

from .helpers.gifts import (CHUNK, NOT_ON_DISK, TITLE, assert_page, claimed, file_gift, forms,
                            gift_row, gift_signup, grant_row, grants_of, make_file, make_widget,
                            only_grant, outbox, page_of, pdf, rating_link, raw_request, sign,
                            subscriber_grant, ticket)
from .helpers.mail import assert_invalid_page, flip, mint, path_of, subscriber

pytestmark = pytest.mark.real_smtp  # the app sends its e-mail to the `smtp` fixture's server


def test_the_page_shows_and_its_ticket_serves_the_exact_file(client, make_site, query):
    site = make_site()
    data = pdf(CHUNK + 5000)  # two chunks: a Range can cross from one into the other
    gift, widget = file_gift(query, site, data=data, filename='../../Ørsted "log".pdf',
                             download_limit=3)
    given = claimed(client, site, widget, page_url="https://blog.example/post")
    assert given["page"] == f"http://127.0.0.1:5000/gift/{given['token']}"
    page, grant = path_of(given["page"]), only_grant(query, gift)

    for method in ("GET", "HEAD", "GET", "HEAD"):  # a mail scanner opening the link
        assert client.request(method, page).status_code == 200, method
    assert_page(client.get(page), 200, TITLE, "A gift from Blog", "Download (PDF, ",
                "for 3 more downloads")
    assert forms(client.get(page).text) == [page]
    assert grant_row(query, grant.id).downloads == 0

    path = ticket(client, page)
    head = client.request("HEAD", path)
    assert head.status_code == 200 and int(head.headers["Content-Length"]) == len(data)
    assert grant_row(query, grant.id).downloads == 0  # HEAD counts nothing

    got = client.get(path)
    assert got.status_code == 200 and got.content == data
    kind, params = parse_options_header(got.headers["Content-Disposition"])
    assert kind == "attachment" and params["filename"] == "Ørsted log.pdf"
    for bad in ("/", "\\", "..", '"log"'):
        assert bad not in params["filename"]
    assert got.headers["Content-Type"] == "application/pdf"
    assert got.headers["X-Content-Type-Options"] == "nosniff"
    assert got.headers["Cache-Control"] == "private, no-store"
    assert int(got.headers["Content-Length"]) == len(data)
    assert grant_row(query, grant.id).downloads == 1

    start, end = CHUNK - 10, CHUNK + 9
    part = client.get(path, headers={"Range": f"bytes={start}-{end}"})
    assert part.status_code == 206
    assert part.content == data[start:end + 1]
    assert part.headers["Content-Range"] == f"bytes {start}-{end}/{len(data)}"
    tail = client.get(path, headers={"Range": "bytes=-100"})
    assert tail.status_code == 206 and tail.content == data[-100:]
    again = client.get(path)  # resumed from the start: the same ticket
    assert again.status_code == 200 and again.content == data
    assert grant_row(query, grant.id).downloads == 1

    # The widget's own ticket (from the 201) is a download of its own.
    assert client.get(path_of(given["download"])).content == data
    assert grant_row(query, grant.id).downloads == 2
    assert_page(client.get(page), 200, "for 1 more downloads")


def test_a_gift_file_is_never_a_page_or_an_svg(client, make_site, query):
    site = make_site()
    html = b"<!doctype html><html><script>alert(document.cookie)</script></html>"
    svg = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"></svg>'
    for data, name in ((html, "page.html"), (html, "report.pdf"), (svg, "logo.svg"),
                       (svg, "logo.png"), (b"MZ\x90\x00\x03" + bytes(200), "setup.exe")):
        with pytest.raises(files.FileRefused):
            make_file(query, site, data, name)

    # Markup in a text file is only ever text, downloaded, never rendered.
    gift, widget = file_gift(query, site, data=html, filename="notes.txt")
    page = path_of(claimed(client, site, widget)["page"])
    got = client.get(ticket(client, page))
    assert got.status_code == 200 and got.content == html
    assert got.headers["Content-Disposition"].startswith("attachment")
    assert got.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in got.headers["Content-Security-Policy"]
    assert got.headers["Content-Type"] == "text/plain; charset=utf-8"  # one charset, once


def test_changed_cut_and_misused_tokens_get_the_friendly_page(app, client, make_site, query):
    site = make_site(double_opt_in=False)
    gift, widget = file_gift(query, site, mode="gated")
    grant = subscriber_grant(client, query, site, gift, widget)
    page = page_of(app, query, grant.id)
    token = page.rsplit("/", 1)[1]
    payload = token.split(".")[0]
    path = ticket(client, page)
    reader = subscriber(query, "reader@example.com")
    others = {"confirm token": mint(app, "confirm", reader),
              "unsubscribe token": mint(app, "unsubscribe", reader),
              "rating token": rating_link(app, query, grant.id, 5).split("/rate/")[1]
              .split("?")[0],
              "download ticket": path.rsplit("/", 1)[1]}
    bad = {"payload changed": flip(token, 1), "signature changed": flip(token, len(token) - 8),
           "timestamp changed": flip(token, len(payload) + 2),
           "cut short": token[:-4], "cut in half": token[:len(token) // 2],
           "signature missing": token.rsplit(".", 1)[0], "extra characters": token + "AA",
           "extra segment": token + ".AA", "garbage": "not-a-token", **others}
    before = (grant_row(query, grant.id).nonce, len(outbox(query)))

    for why, value in bad.items():
        for method in ("GET", "POST"):
            assert_invalid_page(client.request(method, f"/gift/{value}"))
        assert client.request("HEAD", f"/gift/{value}").status_code == 400, why
        assert_invalid_page(client.post(f"/gift/{value}/fresh"))
        if why != "download ticket":
            assert_invalid_page(client.get(f"/gift/get/{value}"))
            assert client.request("HEAD", f"/gift/get/{value}").status_code == 400, why
    # The page token where other purposes are expected.
    for wrong in (f"/gift/get/{token}", f"/rate/{token}?r=5", f"/confirm/{token}",
                  f"/unsubscribe/{token}"):
        assert_invalid_page(client.get(wrong))
        if "/get/" not in wrong:
            assert_invalid_page(client.post(wrong, data={"rating": "5"}))

    assert (grant_row(query, grant.id).nonce, len(outbox(query))) == before
    assert grant_row(query, grant.id).downloads == 0 and grant_row(query, grant.id).rating is None
    assert subscriber(query, "reader@example.com").status == "confirmed"
    assert client.get(path).status_code == 200  # the genuine ticket still works
    assert_page(client.get(page), 200, TITLE)


def test_a_token_serves_only_its_own_grants_gift(app, client, make_site, query):
    site = make_site(double_opt_in=False)
    data_a, data_b = pdf(), pdf()
    gift_a, widget_a = file_gift(query, site, data=data_a, title="Gift A")
    gift_b, widget_b = file_gift(query, site, data=data_b, title="Gift B")
    claimed(client, site, widget_a)
    claimed(client, site, widget_b)
    a, b = only_grant(query, gift_a), only_grant(query, gift_b)
    gated = make_widget(query, site, gift_b, "gated")
    assert gift_signup(client, site, "one@example.com", gated).status_code == 200
    mine = [g for g in grants_of(query, gift_b) if g.subscriber_id][0]

    spliced = [[a.id, gift_b, 0, a.nonce], [b.id, gift_a, 0, b.nonce],
               [a.id, gift_a, 0, b.nonce], [b.id, gift_b, 0, a.nonce],
               [a.id, gift_a, mine.subscriber_id, a.nonce],  # given first, to nobody
               [mine.id, gift_b, mine.subscriber_id + 1, mine.nonce],  # someone else's
               [a.id, gift_a, "0", a.nonce], [str(a.id), gift_a, 0, a.nonce],
               [a.id, gift_a, 0, a.nonce, "x"], [a.id, gift_a, 0],
               [a.id + 1000, gift_a, 0, a.nonce], {"id": a.id}, "x", None, [a.id, gift_a, 0, None]]
    for value in spliced:
        token = sign(app, "gift", value)
        for method in ("GET", "POST"):
            resp = client.request(method, f"/gift/{token}")
            assert resp.status_code in (400, 410), (value, resp.status_code)
            assert "Location" not in resp.headers and "Gift B" not in resp.text
            assert resp.headers["Cache-Control"] == "no-store"
    tickets = [[a.id, b.nonce, "t1"], [b.id, a.nonce, "t2"], [a.id, a.nonce, 5],
               [a.id, a.nonce], [str(b.id), b.nonce, "t3"], [a.id + 1000, a.nonce, "t4"],
               [mine.id, b.nonce, "t5"], {"grant": b.id}, [None, b.nonce, "t6"]]
    for value in tickets:
        resp = client.get(f"/gift/get/{sign(app, 'gift_file', value)}")
        assert resp.status_code in (400, 410), (value, resp.status_code)
        assert data_a not in resp.content and data_b not in resp.content
    assert grant_row(query, a.id).downloads == grant_row(query, b.id).downloads == 0

    # Minted right, the same tokens work: the refusals came from the splicing.
    right = sign(app, "gift_file", [a.id, a.nonce, "t"])
    assert client.get(f"/gift/get/{right}").content == data_a
    for value in ([b.id, gift_b, 0, b.nonce], [mine.id, gift_b, mine.subscriber_id, mine.nonce]):
        assert_page(client.get(f"/gift/{sign(app, 'gift', value)}"), 200, "Gift B")

    # Another owner's site: its gifts and widgets are not reachable through this one.
    other = make_site("eve@example.com", "Eve's shop", origins=("https://shop.example",))
    gift_o, widget_o = file_gift(query, other, data=pdf(), title="Eve's gift")
    refused = client.post(f"/api/v1/sites/{site}/grants", json={"widget": widget_o})
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "unknown_widget"
    assert client.get(f"/api/v1/sites/{site}/gifts/{gift_o}").status_code == 404
    assert client.get(f"/api/v1/sites/{other}/gifts/{gift_o}").json() == {"left": None}
    assert client.get(f"/api/v1/sites/{other}/gifts/{gift_a}").status_code == 404
    assert grants_of(query, gift_o) == []
    claimed(client, other, widget_o)
    o = only_grant(query, gift_o)
    for value in ([o.id, gift_a, 0, o.nonce], [a.id, gift_o, 0, a.nonce]):
        resp = client.get(f"/gift/{sign(app, 'gift', value)}")
        assert resp.status_code in (400, 410) and "Eve's gift" not in resp.text
    assert gift_row(query, gift_a).given_count == 1


def test_paths_in_any_parameter_serve_nothing(app, client, make_site, query):
    site = make_site(double_opt_in=False)
    data = pdf()
    gift, widget = file_gift(query, site, mode="gated", data=data)
    grant = subscriber_grant(client, query, site, gift, widget)
    page = page_of(app, query, grant.id)
    token, path = page.rsplit("/", 1)[1], ticket(client, page)
    rate = rating_link(app, query, grant.id, 3).split("?")[0]
    paths = [
        "/gift/..%2f..%2fetc%2fpasswd", "/gift/..%2F..%2F..%2Fetc%2Fpasswd/fresh",
        "/gift/get/../../widget/config.py", "/gift/get/%2e%2e%2f%2e%2e%2fwidget%2fconfig.py",
        "/gift/get/..%2f..%2fwidget%2fconfig.py", "/gift/get/..%5c..%5cwidget%5cconfig.py",
        "/gift/get/..\\..\\widget\\config.py", "/gift/..", "/gift/get/..", "/gift/get/.",
        "/gift/..\\..\\etc\\passwd", "/gift/%2e%2e", "/gift/get/%2e%2e%2fconfig.py",
        f"/gift/{token}/../../../etc/passwd", f"/gift/{token}%2f..%2f..%2fetc%2fpasswd",
        f"/gift/{token}..", f"/gift/..{token}", f"/gift/get/{path.rsplit('/', 1)[1]}%2f..",
        f"/gift/get/{token}/..%2f..%2fwidget%2fconfig.py", "/rate/..%2f..%2fetc%2fpasswd",
        f"/rate/{token}?r=../../", "/rate/..?r=1",
        f"/api/v1/sites/{site}/gifts/..%2f..", f"/api/v1/sites/{site}/gifts/..",
        f"/api/v1/sites/{site}/gifts/..%2f..%2f..%2fwidget%2fconfig.py",
        f"/api/v1/sites/{site}/gifts/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
        f"/api/v1/sites/..%2f{site}/gifts/{gift}", f"/api/v1/sites/{site}/gifts/{gift}%2f..",
        f"/api/v1/sites/{site}/grants/..%2f..",
    ]
    for p in paths:
        for method in ("GET", "POST", "HEAD"):
            status, body, _headers = raw_request(client, method, p)
            assert 400 <= status < 500, (method, p, status)
            for secret in NOT_ON_DISK + (data[:64],):
                assert secret not in body, (method, p)
    # A genuine rating link with a path for its rating: the form, nothing chosen.
    status, body, _ = raw_request(client, "GET", f"{rate}?r=../../")
    assert status == 200 and b" checked" not in body
    bad_post = client.post(rate, data={"rating": "../../", "comment": "../../etc/passwd"})
    assert_page(bad_post, 422, "Please pick a number from 1 to 5.")
    assert grant_row(query, grant.id).rating is None and grant_row(query, grant.id).downloads == 0
