"""The owners' dashboard over real HTTP: login, CSRF, sites, sign-ups, isolation."""
from __future__ import annotations

import re
from html import unescape

import pytest
from sqlalchemy import func, select

from widget.models import Site, Widget

from .helpers.http import PASSWORD, csrf_post


def test_dashboard_needs_login(client):
    resp = client.get("/dashboard/")
    assert resp.status_code == 302 and "/dashboard/login" in resp.headers["Location"]


def test_login_logout_and_cookie_flags(client, make_owner):
    make_owner("ann@example.com")
    bad = client.login("ann@example.com", "wrong password!")
    assert bad.status_code == 401 and "Wrong e-mail or password" in bad.text
    assert client.login("nobody@example.com").status_code == 401
    ok = client.login("ANN@example.com")
    assert ok.status_code == 302
    cookie = ok.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    assert client.get("/dashboard/").status_code == 200
    # Log out is a POST with a CSRF token; a GET (a link, a scanner) does nothing.
    assert client.get("/dashboard/logout").status_code == 405
    assert csrf_post(client, "/dashboard/logout", {}, page="/dashboard/").status_code == 302
    assert client.get("/dashboard/").status_code == 302


def test_login_next_only_to_dashboard_paths(client, make_owner):
    make_owner("ann@example.com")
    token = client.csrf("/dashboard/login")
    resp = client.post("/dashboard/login?next=https://evil.example/",
                       data={"email": "ann@example.com", "password": PASSWORD,
                             "csrf_token": token})
    assert resp.headers["Location"] == "/dashboard/"


def test_forms_without_csrf_token_are_refused(ann, query):
    resp = ann.post("/dashboard/sites/new", data={"name": "Sneaky",
                                                  "origins": "https://x.example"})
    assert resp.status_code == 400 and "form expired" in resp.text
    assert query(lambda s: s.scalar(select(func.count()).select_from(Site))) == 0
    assert ann.post("/dashboard/logout").status_code == 400


@pytest.fixture
def https_config(app_config):
    app_config.update(BASE_URL="https://widgets.example")


def test_session_cookie_is_secure_behind_https(https_config, client):
    cookie = client.get("/dashboard/login").headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie
    snippet_base = client.get("/api/v1/nothing").status_code  # the app is up on plain http
    assert snippet_base == 404


def test_create_site_shows_snippet_and_default_widget(ann, query):
    resp = csrf_post(ann, "/dashboard/sites/new", {
        "name": "Mitt blogg ✨", "origins": "https://Blog.Example/\nhttp://localhost:8000",
        "default_lang": "nb", "require_consent": "y"})
    assert resp.status_code == 302
    site_id, origins = query(lambda s: (lambda site: (site.id, [o.origin for o in site.origins]))(
        s.scalar(select(Site))))
    assert origins == ["http://localhost:8000", "https://blog.example"]
    page = ann.get(resp.headers["Location"]).text
    assert ('&lt;script async src=&#34;http://127.0.0.1:5000/embed.js&#34; '
            f'data-site=&#34;{site_id}&#34;&gt;&lt;/script&gt;') in page
    assert "Mitt blogg ✨" in page and "Live" in page and "No sign-ups yet" in page
    assert site_id in ann.get("/dashboard/").text


def test_bad_origin_is_explained_and_nothing_created(ann, query):
    resp = csrf_post(ann, "/dashboard/sites/new", {"name": "Blog", "origins": "ftp://x"},
                     page="/dashboard/sites/new")
    assert resp.status_code == 422 and "not an http(s) origin" in resp.text
    assert query(lambda s: s.scalar(select(func.count()).select_from(Site))) == 0


def test_signups_table_shows_rows_escaped(ann, make_site, make_client, query):
    site = make_site("ann@example.com", origins=["https://blog.example"])
    wid = query(lambda s: s.scalar(select(Widget.id)))
    visitor = make_client()
    visitor.post(f"/api/v1/sites/{site}/subscriptions", headers={"Origin": "https://blog.example"},
                 json={"email": "reader@example.com", "name": "<script>alert(1)</script>",
                       "consent": True, "widget": wid, "page_url": "https://blog.example/p"})
    page = ann.get(f"/dashboard/sites/{site}").text
    assert "reader@example.com" in page and "https://blog.example/p" in page
    assert "Before you go" in page  # the widget's name
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert" not in page


def test_signups_table_pages(ann, make_site, make_client):
    site = make_site("ann@example.com")
    visitor = make_client()
    for i in range(55):
        visitor.post(f"/api/v1/sites/{site}/subscriptions",
                     json={"email": f"r{i:02}@example.com", "consent": True})
    first = ann.get(f"/dashboard/sites/{site}").text
    assert "r54@example.com" in first and "r04@example.com" not in first
    assert "55 in all" in first and "Newer" not in first
    older = re.search(r'href="([^"]+)">Older →', first)[1]
    second = ann.get(unescape(older)).text
    assert "r04@example.com" in second and "r54@example.com" not in second
    assert "Older →" not in second and "← Newer" in second
    def emails(html: str) -> list[str]:
        return re.findall(r">(r\d\d@example\.com)</a>", html)
    assert emails(second) == [f"r{i:02}@example.com" for i in range(4, -1, -1)]
    oldest = ann.get(f"/dashboard/sites/{site}?last=1").text  # the oldest fifty
    assert emails(oldest) == [f"r{i:02}@example.com" for i in range(49, -1, -1)]
    assert "Older →" not in oldest and "← Newer" in oldest


def test_owners_never_see_each_others_sites(ann, make_site, make_client, query):
    theirs = make_site("bob@example.com", name="Bob's secret shop")
    wid = query(lambda s: s.scalar(select(Widget.id).where(Widget.site_id == theirs)))
    assert "Bob's secret shop" not in ann.get("/dashboard/").text
    for path in (f"/dashboard/sites/{theirs}", f"/dashboard/sites/{theirs}/settings",
                 f"/dashboard/sites/{theirs}/widgets/{wid}", "/dashboard/sites/s_missing"):
        assert ann.get(path).status_code == 404, path
    token = ann.csrf("/dashboard/sites/new")
    resp = ann.post(f"/dashboard/sites/{theirs}/settings", data={
        "csrf_token": token, "name": "Taken", "origins": "https://evil.example"})
    assert resp.status_code == 404
    assert query(lambda s: s.get(Site, theirs).name) == "Bob's secret shop"


def test_edit_widget_changes_what_visitors_get(app, ann, make_site, query):
    app.config["SITE_CACHE_SECONDS"] = 300  # the edit must drop the cached config
    site = make_site("ann@example.com")
    wid = query(lambda s: s.scalar(select(Widget.id)))
    path = f"/dashboard/sites/{site}/widgets/{wid}"
    assert ann.get(f"/api/v1/sites/{site}/widgets").json()["widgets"][0]["lang"] == "en"
    page = ann.get(path).text
    assert '<input checked id="trigger_exit"' in page
    resp = csrf_post(ann, path, {
        "name": "Exit modal", "is_live": "y", "layout": "slide_in", "trigger_time": "20",
        "trigger_scroll": "50", "trigger_match": "all", "lang": "de", "title": "Warte! 🎁",
        "description": "Unser Newsletter", "button_label": "", "success_message": "",
        "no_thanks_label": "Vielleicht später 🙂",
        "quiet_days_after_close": "3", "quiet_days_after_signup": "100"})
    assert resp.status_code == 302
    (w,) = ann.get(f"/api/v1/sites/{site}/widgets").json()["widgets"]
    assert (w["title"], w["lang"], w["button"], w["quiet_days_after_close"]) == (
        "Warte! 🎁", "de", "Abonnieren", 3)
    assert (w["layout"], w["on"], w["all"]) == ("slide_in", [["t", 20], ["s", 50]], True)
    assert w["no_thanks"] == "Vielleicht später 🙂"
    assert "slide in, time 20 s and scroll 50%" in ann.get(f"/dashboard/sites/{site}").text
    paused = csrf_post(ann, path, {"name": "Exit modal", "title": "", "layout": "modal",
                                   "trigger_match": "any",
                                   "quiet_days_after_close": "3",
                                   "quiet_days_after_signup": "100"})
    assert paused.status_code == 302
    assert ann.get(f"/api/v1/sites/{site}/widgets").json()["widgets"] == []
    bad = csrf_post(ann, path, {"name": "x", "quiet_days_after_close": "-1",
                                "quiet_days_after_signup": "1", "trigger_scroll": "150"})
    assert bad.status_code == 422 and "between 1 and 100" in bad.text


def test_site_settings_replace_origins(app, ann, make_site, query):
    app.config["SITE_CACHE_SECONDS"] = 300
    site = make_site("ann@example.com", origins=["https://old.example"])
    assert ann.get(f"/api/v1/sites/{site}/widgets", headers={
        "Origin": "https://old.example"}).headers["Access-Control-Allow-Origin"]
    path = f"/dashboard/sites/{site}/settings"
    assert "https://old.example" in ann.get(path).text
    resp = csrf_post(ann, path, {"name": "Renamed", "origins": "https://new.example",
                                 "default_lang": "nl"})
    assert resp.status_code == 302
    assert query(lambda s: [o.origin for o in s.get(Site, site).origins]) == [
        "https://new.example"]
    assert query(lambda s: s.get(Site, site).require_consent) is False
    api = ann.get(f"/api/v1/sites/{site}/widgets", headers={"Origin": "https://old.example"})
    assert "Access-Control-Allow-Origin" not in api.headers


def test_html_errors_for_people_never_tracebacks(client):
    resp = client.get("/dashboard/sites/x/nothing")
    assert resp.status_code == 404 and resp.headers["Content-Type"].startswith("text/html")
    assert "This page does not exist" in resp.text and "Traceback" not in resp.text
    assert re.search(r"<html lang=\"en\">", resp.text)


def test_dashboard_pages_cannot_be_framed_or_cached(ann):
    resp = ann.get("/dashboard/")
    assert "frame-ancestors 'none'" in resp.headers["Content-Security-Policy"]
    assert resp.headers["X-Frame-Options"] == "DENY"
    assert resp.headers["Cache-Control"] == "no-store"


def test_add_and_delete_widgets(ann, make_site, make_client, query):
    site = make_site("ann@example.com")
    page = ann.get(f"/dashboard/sites/{site}/widgets/new")
    assert page.status_code == 200 and "Add widget" in page.text
    resp = csrf_post(ann, f"/dashboard/sites/{site}/widgets/new", {
        "name": "Bottom bar", "layout": "bar_bottom", "trigger_scroll": "40", "lang": "",
        "trigger_match": "any", "quiet_days_after_close": "7", "quiet_days_after_signup": "365"})
    assert resp.status_code == 302
    widgets = ann.get(f"/api/v1/sites/{site}/widgets").json()["widgets"]
    assert len(widgets) == 1  # the new one starts paused
    new_id = query(lambda s: s.scalar(select(Widget.id).where(Widget.name == "Bottom bar")))
    assert new_id in ann.get(f"/dashboard/sites/{site}").text
    visitor = make_client()
    visitor.post(f"/api/v1/sites/{site}/subscriptions",
                 json={"email": "kept@example.com", "consent": True, "widget": new_id})
    token = ann.csrf(f"/dashboard/sites/{site}/widgets/{new_id}")
    gone = ann.post(f"/dashboard/sites/{site}/widgets/{new_id}/delete",
                    data={"csrf_token": token})
    assert gone.status_code == 302
    assert query(lambda s: s.get(Widget, new_id)) is None
    assert "kept@example.com" in ann.get(f"/dashboard/sites/{site}").text


def test_other_owners_cannot_add_or_delete_widgets(ann, make_site, query):
    theirs = make_site("bob@example.com")
    wid = query(lambda s: s.scalar(select(Widget.id).where(Widget.site_id == theirs)))
    token = ann.csrf("/dashboard/sites/new")
    assert ann.get(f"/dashboard/sites/{theirs}/widgets/new").status_code == 404
    assert ann.post(f"/dashboard/sites/{theirs}/widgets/{wid}/delete",
                    data={"csrf_token": token}).status_code == 404
    assert ann.get(f"/dashboard/sites/{theirs}/widgets/{wid}/delete").status_code == 405
    assert query(lambda s: s.get(Widget, wid)) is not None


def test_owner_colours_must_be_readable(ann, make_site, query):
    site = make_site("ann@example.com")
    wid = query(lambda s: s.scalar(select(Widget.id)))
    path = f"/dashboard/sites/{site}/widgets/{wid}"
    assert 'value="#1f5fbf"' in ann.get(path).text  # the default theme, ready to change
    base = {"name": "W", "layout": "modal", "trigger_exit": "y", "trigger_match": "any",
            "lang": "", "quiet_days_after_close": "14", "quiet_days_after_signup": "365",
            "is_live": "y"}
    grey = csrf_post(ann, path, {**base, "own_colors": "y", "color_bg": "#ffffff",
                                 "color_fg": "#aaaaaa", "color_accent": "#1f5fbf"})
    assert grey.status_code == 422 and "it needs 4.5:1" in grey.text
    bad = csrf_post(ann, path, {**base, "own_colors": "y", "color_bg": "#ffffff",
                                "color_fg": "#000000", "color_accent": "red"})
    assert bad.status_code == 422 and "A colour like #1f5fbf." in bad.text
    assert csrf_post(ann, path, {**base, "own_colors": "y", "color_bg": "#fff7e6",
                                 "color_fg": "#3b2f22", "color_accent": "#f0b429"}).status_code == 302
    (w,) = ann.get(f"/api/v1/sites/{site}/widgets").json()["widgets"]
    assert w["theme"]["--rw-bg"] == "#fff7e6" and w["theme"]["--rw-on-accent"] == "#000000"
    assert csrf_post(ann, path, {**base, "color_bg": "#000000"}).status_code == 302
    (w,) = ann.get(f"/api/v1/sites/{site}/widgets").json()["widgets"]
    assert w["theme"] is None  # unticked: back to the default theme


def test_pause_and_switch_on_from_the_list(ann, make_site):
    site = make_site("ann@example.com")
    page = ann.get(f"/dashboard/sites/{site}").text
    action = re.search(r'action="(/dashboard/sites/[^"]+/live)"', page).group(1)
    token = ann.csrf(f"/dashboard/sites/{site}")
    assert ann.post(action, data={"csrf_token": token}).status_code == 302
    assert ann.get(f"/api/v1/sites/{site}/widgets").json()["widgets"] == []
    assert "Switch on" in ann.get(f"/dashboard/sites/{site}").text
    assert ann.post(action, data={"csrf_token": token}).status_code == 302
    assert len(ann.get(f"/api/v1/sites/{site}/widgets").json()["widgets"]) == 1
    assert ann.post(action).status_code == 400  # no CSRF token, no change
    assert len(ann.get(f"/api/v1/sites/{site}/widgets").json()["widgets"]) == 1


def test_only_hex_colours_reach_the_widget():
    from widget.sites.colors import theme
    assert theme("#000000;}:host{x", None, "url(evil)") is None
    assert theme("#FFFFFF", "#000000", None)["--rw-accent"] == "#1f5fbf"


def test_targeting_and_caps_from_the_dashboard(ann, make_site, query):
    site = make_site("ann@example.com")
    wid = query(lambda s: s.scalar(select(Widget.id)))
    resp = ann.post(f"/dashboard/sites/{site}/widgets/{wid}", data={
        "csrf_token": ann.csrf(f"/dashboard/sites/{site}/widgets/{wid}"),
        "name": "W", "layout": "modal", "trigger_exit": "y", "trigger_match": "any",
        "lang": "", "quiet_days_after_close": "14", "quiet_days_after_signup": "365",
        "is_live": "y", "url_include": "/blog/*", "device": "desktop", "visitor": "new",
        "referrer": " ", "page_langs": ["de", "nl"]})
    assert resp.status_code == 302
    assert ann.get(f"/api/v1/sites/{site}/widgets?lang=en").json()["widgets"] == []
    (w,) = ann.get(f"/api/v1/sites/{site}/widgets?lang=de").json()["widgets"]
    assert [k for k, _, _ in w["if"]] == ["u", "d", "n"]
    page = ann.get(f"/dashboard/sites/{site}/widgets/{wid}").text
    assert '<option selected value="de">' in page and "/blog/*</textarea>" in page
    assert csrf_post(ann, f"/dashboard/sites/{site}/settings", {
        "name": "Blog", "origins": "https://blog.example", "default_lang": "en",
        "popup_cap": "3"}).status_code == 302
    assert csrf_post(ann, f"/dashboard/sites/{site}/reset-signups", {},
                     page=f"/dashboard/sites/{site}").status_code == 302
    body = ann.get(f"/api/v1/sites/{site}/widgets?lang=de").json()
    assert (body["cap"], body["reset"]) == (3, 1)
