"""A subscriber's links over real HTTP on SQLite and PostgreSQL: /r/<code> counts the
visit and only ever sends the friend on to one of the site's own origins, whatever a
stale or compromised landing value says; /share/<token> shows the personal link, the
share buttons and the progress, counts the clicks, and never shows the address."""
from __future__ import annotations

import re
from html import unescape
from urllib.parse import parse_qs, parse_qsl, urlsplit

import pytest

from widget.giveback import share

from .helpers.gifts import assert_page, make_gift, raw_request
from .helpers.giveback import (add_milestone, assert_not_found_page, confirm_path, fresh, join,
                               member, row, set_site, set_subscriber, share_path,
                               unsubscribe_path)
from .helpers.mail import BASE, flip, path_of
from .helpers.smtp import links_in

pytestmark = pytest.mark.real_smtp  # the app sends its e-mail to the `smtp` fixture's server

ORIGINS = ("https://blog.example", "https://www.blog.example")
FALLBACK = "https://blog.example/?ref={code}"  # the first allowed origin, sorted


def _site(make_site, **attrs) -> str:
    return make_site(origins=ORIGINS, **attrs)


def _visit(client, code: str, query_string: str = ""):
    return client.get(f"/r/{code}{query_string}")


def _location(resp) -> str:
    assert resp.status_code == 302, (resp.status_code, resp.text[:300])
    return resp.headers["Location"]


def _assert_on_site(location: str, code: str) -> None:
    """A Location a browser can only read as one of the site's own origins."""
    assert not re.search(r"[\x00-\x20\\\x7f]", location), location
    parts = urlsplit(location)
    assert (parts.scheme, parts.netloc) in {("https", "blog.example"),
                                            ("https", "www.blog.example")}, location
    assert parts.username is None and parts.password is None
    assert dict(parse_qsl(parts.query))["ref"] == code


# --- /r/<code> ------------------------------------------------------------------------------

def test_a_visit_is_counted_and_sent_to_the_landing_with_the_code(app, client, make_site,
                                                                  query):
    site = _site(make_site)
    ann = member(app, client, query, site, "ann@example.com",
                 page_url="https://www.blog.example/bread?utm_source=mail&ref=old#top")
    code = ann.ref_code
    resp = _visit(client, code)  # no landing set: the page Ann signed up on, without
    # its query (what was in Ann's address bar is hers, not her friends')
    assert _location(resp) == f"https://www.blog.example/bread?ref={code}"

    set_site(query, site, ref_landing="https://blog.example/join?lang=nb&ref=zzzz&x=1")
    assert _location(_visit(client, code)) == \
        f"https://blog.example/join?lang=nb&x=1&ref={code}"  # the owner's landing first
    set_site(query, site, ref_landing=None)
    set_subscriber(query, ann.id, page_url=None)
    assert _location(_visit(client, code)) == FALLBACK.format(code=code)
    assert _location(_visit(client, code, "?next=//evil.example")) == FALLBACK.format(code=code)
    assert fresh(query, ann.id).ref_visits == 4
    for resp in (_visit(client, code), client.get(f"/r/{code}", allow_redirects=False)):
        assert "ann" not in resp.headers["Location"] and "ann@" not in resp.text


BAD_LANDINGS = [
    "//evil.example", "/\\evil.example", "\\\\evil.example", "https://evil.example",
    "https://blog.example@evil.example", "https://blog.example:443@evil.example",
    "https://evil.example/?x=https://blog.example", "https://evil.example#https://blog.example",
    "javascript:alert(1)", "JaVaScRiPt:alert(1)//https://blog.example/",
    "data:text/html,<script>alert(1)</script>", "https://blog.example.evil.example",
    "https://evil.example\\@blog.example", "https:\\\\evil.example", "https:/evil.example",
    "https:///evil.example", "http://blog.example", "HTTPS://evil.example",
    "https://evil.example%2F@blog.example", "https://blog.example%2F@evil.example",
    "https:%2F%2Fevil.example", "%68ttps://evil.example", "https://blog.example%40evil.example",
    "https://evil.example%23.blog.example", "https://blog.example\t@evil.example",
    "https://blog.exa\nmple@evil.example", "\thttps://evil.example", " https://evil.example",
    "https://evil.example\r\n.blog.example", "java\tscript:alert(1)",
    "https://blog.example\uff0f@evil.example", "https://evil.example\u3002blog.example",
    "https://blog.example:99999/", "https://[::1/", "",
]


@pytest.mark.parametrize("where", ["ref_landing", "page_url", "both"])
def test_a_bad_landing_never_leaves_the_site(app, client, make_site, query, where):
    site = _site(make_site)
    ann = member(app, client, query, site, "ann@example.com")
    code = ann.ref_code
    for bad in BAD_LANDINGS:  # straight in the database, as a stale or forged value is
        set_site(query, site, ref_landing=bad if where != "page_url" else None)
        set_subscriber(query, ann.id, page_url=bad if where != "ref_landing" else None)
        resp = _visit(client, code)
        assert resp.status_code == 302, (bad, resp.status_code, resp.text[:300])
        _assert_on_site(resp.headers["Location"], code)
        assert resp.headers["Location"] == FALLBACK.format(code=code), (bad, resp.headers)
    assert fresh(query, ann.id).ref_visits == len(BAD_LANDINGS)


def _final(client, path: str, hops: int = 3):
    """Status, headers and body of `path` sent exactly as written, following redirects
    that stay on this server (e.g. merged slashes) but never any other."""
    for _ in range(hops):
        status, body, headers = raw_request(client, "GET", path)
        location = headers.get("Location")
        if status in (301, 302, 303, 307, 308) and location and (
                location.startswith(client.url + "/") or
                (location.startswith("/") and not location.startswith("//"))):
            path = location.removeprefix(client.url)
            continue
        return status, body, headers
    pytest.fail(f"more than {hops} redirects for {path}")


def test_odd_paths_end_on_the_site_or_on_a_404(app, client, make_site, query):
    site = _site(make_site)
    code = member(app, client, query, site, "ann@example.com").ref_code
    paths = [f"/r/{code}/..%2f..%2f", f"/r/{code}/..%2F..%2Fevil.example", "/r/%2F%2Fevil.example",
             "/r//evil.example", "/r/%5C%5Cevil.example", "/r/https:%2F%2Fevil.example",
             f"/r/{code}%2F%2Fevil.example", f"/r/{code}%0d%0aLocation:%20https://evil.example",
             f"/r/{code}%00", f"/r/{code}/", f"/r/{code}?next=//evil.example",
             f"/r/{code}?ref=evil&url=https://evil.example", f"/r/{code}#//evil.example",
             "/r/%2e%2e/%2e%2e/evil.example", "/r/..;/evil.example", "/r/%252F%252Fevil.example"]
    for path in paths:
        status, body, headers = _final(client, path)
        assert status in (302, 404), (path, status, body[:300])
        if status == 302:
            _assert_on_site(headers["Location"], code)
        else:
            assert headers["Content-Type"].startswith("text/html"), path
            assert b"Traceback" not in body and b"evil.example" not in body, path


def test_the_links_are_never_cached_and_send_no_referrer(app, client, make_site, query):
    """Every visit and click must reach the server to be counted, and the share page's
    URL (its token) must not travel on as a Referer: the pages say no-store and
    no-referrer (core/pages.py: security_headers, for every link path), and so must
    their redirects."""
    site = _site(make_site)
    ann = member(app, client, query, site, "ann@example.com")
    page = share_path(app, ann)
    for path in (f"/r/{ann.ref_code}", page, f"{page}/go/x", f"{page}/go/whatsapp"):
        resp = client.get(path)
        assert resp.status_code in (200, 302), (path, resp.status_code)
        got = {k: resp.headers.get(k) for k in ("Cache-Control", "Referrer-Policy")}
        assert got == {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}, \
            (path, resp.status_code, got)


def test_unknown_codes_get_the_friendly_404(app, client, make_site, query):
    site = _site(make_site)
    ann = member(app, client, query, site, "ann@example.com")
    assert join(client, site, "pending@example.com").status_code == 200
    for code in ("zzzzzzzzzzzzzzzz", ann.ref_code.upper(), ann.ref_code[:-1],
                 ann.ref_code + "z", "abc", "a" * 33, "abc-def-ghi", "%3Cscript%3E",
                 "%C3%A6%C3%B8%C3%A5abcdefgh", "abcdefgh%20", "null", "None"):
        resp = _visit(client, code)
        assert_not_found_page(resp)
        assert resp.headers["Cache-Control"] == "no-store"
        assert "<script>" not in resp.text
    assert fresh(query, ann.id).ref_visits == 0


# --- /share/<token> ----------------------------------------------------------------------

def _hrefs(html: str) -> list[str]:
    return [unescape(h) for h in re.findall(r'<a [^>]*href="([^"]+)"', html)]


def _mailto(html: str) -> dict:
    (found,) = [h for h in _hrefs(html) if h.startswith("mailto:")]
    return {k: v[0] for k, v in parse_qs(urlsplit(found).query).items()}


@pytest.mark.parametrize("lang, words", [
    ("en", ("Friends who joined through your link: 1", "2 more for “A free loaf”.",
            "1 more signed up and will count soon.",
            "I've been enjoying Blog and thought you might like it too: {link}",
            "Something you might like: Blog")),
    ("nb", ("Venner som har meldt seg på via lenken din: 1", "2 til, så får du «A free loaf».",
            "1 til har meldt seg på og teller snart.",
            "Jeg har hatt glede av Blog og tenkte du også kunne like det: {link}",
            "Noe du kanskje liker: Blog")),
])
def test_the_share_page(app, client, make_site, query, lang, words):
    progress, next_one, on_the_way, message, subject = words
    site = _site(make_site)
    add_milestone(query, site, 3, make_gift(query, site, "coupon", title="A free loaf",
                                            codes=["LOAF-2345"]))
    ann = member(app, client, query, site, "ann.lee@example.com", lang=lang)
    member(app, client, query, site, "bob@example.com", ann.ref_code)
    assert join(client, site, "carl@example.com", ann.ref_code).status_code == 200
    link = f"{BASE}/r/{ann.ref_code}"
    page = share_path(app, ann)
    text = assert_page(client.get(page), 200, link, progress, next_one, on_the_way)
    resp = client.get(page)
    assert f'value="{link}"' in resp.text
    go = [h for h in _hrefs(resp.text) if "/go/" in h]
    assert go == [f"{page}/go/{key}" for key in share.NETWORKS], go
    for label, _url in share.NETWORKS.values():
        assert f">{label}</a>" in resp.text, label
    mail = _mailto(resp.text)
    assert mail == {"subject": subject, "body": message.format(link=link)}, mail
    for secret in ("ann.lee@example.com", "ann.lee%40example.com", "ann.lee", "bob@example"):
        assert secret not in text and secret not in resp.text, secret


def test_a_share_button_counts_and_goes_to_the_network(app, client, make_site, query):
    site = _site(make_site)
    ann = member(app, client, query, site, "ann@example.com")
    page, link = share_path(app, ann), f"{BASE}/r/{ann.ref_code}"
    resp = client.get(f"{page}/go/x")
    location = _location(resp)
    assert location.startswith("https://x.com/intent/post?"), location
    sent = parse_qs(urlsplit(location).query)
    assert sent["url"] == [link] and "url=http%3A%2F%2F127.0.0.1%3A5000%2Fr%2F" in location
    assert sent["text"][0].startswith("I've been enjoying Blog")
    facebook = _location(client.get(f"{page}/go/facebook"))
    assert facebook == ("https://www.facebook.com/sharer/sharer.php?u="
                        f"http%3A%2F%2F127.0.0.1%3A5000%2Fr%2F{ann.ref_code}")
    assert fresh(query, ann.id).share_clicks == 2
    for network in ("myspace", "X", "javascript:alert(1)", "__class__"):
        assert_not_found_page(client.get(f"{page}/go/{network}"))
    odd = client.get(f"{page}/go/x%2F..")  # no such route: the site's plain 404 page
    assert odd.status_code == 404 and "Location" not in odd.headers
    assert fresh(query, ann.id).share_clicks == 2
    assert "ann@example.com" not in location and "ann%40example.com" not in location


def test_bad_share_links_get_the_friendly_404(app, client, make_site, query):
    site = _site(make_site)
    ann = member(app, client, query, site, "ann@example.com")
    gone = member(app, client, query, site, "gone@example.com")
    assert client.post(unsubscribe_path(app, gone)).status_code == 200
    assert join(client, site, "pending@example.com").status_code == 200
    good = share_path(app, ann)
    token = good.rsplit("/", 1)[1]
    bad = [f"/share/{flip(token, 3)}", f"/share/{flip(token, len(token) - 5)}",
           f"/share/{token[:-4]}", "/share/", "/share/x", share_path(app, gone),
           share_path(app, row(query, "pending@example.com")),
           "/share/" + confirm_path(app, ann).rsplit("/", 1)[1],
           "/share/" + unsubscribe_path(app, ann).rsplit("/", 1)[1]]
    for path in bad:
        resp = client.get(path)
        if path == "/share/":
            assert resp.status_code == 404, resp.status_code
            continue
        assert_not_found_page(resp)
        assert_not_found_page(client.get(f"{path}/go/x"))
    assert fresh(query, ann.id).share_clicks == 0 and fresh(query, gone.id).share_clicks == 0
    assert client.get(good).status_code == 200


def test_the_confirmed_page_and_the_welcome_link_to_the_share_page(app, client, make_site,
                                                                    query, smtp, worker):
    site = _site(make_site)
    assert join(client, site, "ann@example.com", name="Ann").status_code == 200
    (confirm_mail,) = smtp.mailbox.wait(1)
    confirm = path_of(next(l for l in links_in(confirm_mail) if "/confirm/" in l))
    done = client.post(confirm)
    assert done.status_code == 200
    on_page = [h for h in _hrefs(done.text) if h.startswith(BASE + "/share/")]
    assert len(on_page) == 1, _hrefs(done.text)
    ann = row(query, "ann@example.com")
    link = f"{BASE}/r/{ann.ref_code}"
    assert_page(client.get(path_of(on_page[0])), 200, link)
    welcome = smtp.mailbox.wait(2)[1]
    in_mail = [l for l in links_in(welcome) if l.startswith(BASE + "/share/")]
    assert len(in_mail) == 1, links_in(welcome)
    assert_page(client.get(path_of(in_mail[0])), 200, link)
    assert "ann@example.com" not in client.get(path_of(in_mail[0])).text


def test_the_badge_snippet_is_valid_html_for_any_site_name(app, client, make_site, query):
    site = _site(make_site, name='Bread <3 & "Butter"')
    ann = member(app, client, query, site, "ann@example.com")
    resp = client.get(share_path(app, ann))
    assert resp.status_code == 200
    (snippet,) = re.findall(r'<textarea id="badge"[^>]*>(.*?)</textarea>', resp.text, re.S)
    pasted = unescape(snippet)  # what the subscriber copies into their own page
    assert pasted.startswith(f'<a href="{BASE}/r/{ann.ref_code}">Read Bread &lt;3 &amp; ')
    assert pasted.endswith("</a>") and pasted.count("<") == 2, pasted
