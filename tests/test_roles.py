"""A site's team over real HTTP and real SMTP: every site route has its role listed; an
owner invites an editor who makes an account from the e-mail and edits a widget but
cannot export or manage the team; a viewer (an existing account) gets 403 on every
write route; a removed member sees the site no more; a withdrawn invitation's link says
so. On SQLite and PostgreSQL."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from widget.dashboard.roles import NEED
from widget.models import Site, Widget

from .helpers.http import csrf_post
from .helpers.mail import path_of
from .helpers.smtp import links_in

pytestmark = pytest.mark.real_smtp
NEW = "seven brave loaves at dawn"
ARG = re.compile(r"<(?:\w+:)?(\w+)>")


def site_rules(app):
    return [r for r in app.url_map.iter_rules()
            if r.endpoint.startswith("dashboard.") and "site_id" in r.arguments]


def test_every_site_route_names_the_role_it_needs(app):
    assert {r.endpoint.removeprefix("dashboard.") for r in site_rules(app)} == set(NEED)


def invite(ann, site, smtp, email, role, count):
    resp = csrf_post(ann, f"/dashboard/sites/{site}/members", {"email": email, "role": role})
    assert resp.status_code == 302, resp.text[:1500]
    mail = smtp.mailbox.wait(count)[-1]
    assert mail["To"].addresses[0].addr_spec == email
    return path_of(next(x for x in links_in(mail) if "/dashboard/join/" in x))


def test_an_editor_and_a_viewer_join_and_do_what_their_role_allows(
        app, ann, make_client, make_owner, make_site, smtp, worker, query):
    site = make_site("ann@example.com", name="Bäckerei")
    widget = query(lambda s: s.scalar(select(Widget.id).where(Widget.site_id == site)))
    link = invite(ann, site, smtp, "bob@example.com", "editor", 1)
    bob = make_client()
    page = bob.get(link)
    assert page.status_code == 200 and "as <strong>editor</strong>" in " ".join(page.text.split())
    joined = csrf_post(bob, link, {"password": NEW, "again": NEW})
    assert joined.status_code == 302
    assert bob.get("/dashboard/").status_code == 200 and "Bäckerei" in bob.get("/dashboard/").text
    form = {"name": "Renamed by Bob", "layout": "modal", "lang": "", "trigger_match": "any",
            "quiet_days_after_close": "3", "quiet_days_after_signup": "100", "kind": "newsletter"}
    edited = csrf_post(bob, f"/dashboard/sites/{site}/widgets/{widget}", form)
    assert edited.status_code == 302
    assert query(lambda s: s.get(Widget, widget).name) == "Renamed by Bob"
    assert bob.get(f"/dashboard/sites/{site}/contacts.csv").status_code == 403
    assert bob.get(f"/dashboard/sites/{site}/members").status_code == 403
    assert bob.get(f"/dashboard/sites/{site}/keys").status_code == 403

    make_owner("carol@example.com")
    carol_link = invite(ann, site, smtp, "carol@example.com", "viewer", 2)
    carol = make_client()
    assert carol.login("carol@example.com").status_code == 302
    assert csrf_post(carol, carol_link, {}, page=carol_link).status_code == 302
    seen = carol.get(f"/dashboard/sites/{site}")
    assert seen.status_code == 200  # the buttons a viewer could not use are not there
    buttons = ("API keys", "New widget", f'{widget}/live"', "Team</a>")  # live: pause
    assert [x for x in buttons if x in seen.text] == []
    assert [x for x in buttons if x not in ann.get(f"/dashboard/sites/{site}").text] == []
    assert carol.get(f"/dashboard/sites/{site}/stats").status_code == 200
    token = carol.csrf(f"/dashboard/sites/{site}")
    refused = {}
    for rule in site_rules(app):
        if "POST" not in rule.methods:
            continue
        path = ARG.sub(lambda m: site if m.group(1) == "site_id" else "1", rule.rule)
        status = carol.post(path, data={"csrf_token": token}).status_code
        if status != 403:
            refused[rule.endpoint] = status
    assert refused == {}
    assert query(lambda s: s.get(Widget, widget).name) == "Renamed by Bob"

    # Removed: the site is gone from Carol's dashboard.
    team = ann.get(f"/dashboard/sites/{site}/members").text
    carol_id = re.search(r'members/(\d+)"[^>]*>\s*<input[^>]*>\s*<label[^>]*>Role of '
                         r'carol@example.com', team).group(1)
    assert csrf_post(ann, f"/dashboard/sites/{site}/members/{carol_id}", {},
                     page=f"/dashboard/sites/{site}/members").status_code == 302
    assert carol.get(f"/dashboard/sites/{site}").status_code == 404
    log = " ".join(ann.get(f"/dashboard/sites/{site}").text.split())
    for said in ("invited", "joined the team", "removed from the team",
                 "<td>bob@example.com</td> <td>changed a widget</td>", "<td>Renamed by Bob</td>"):
        assert said in log, said


def test_a_withdrawn_invitation_says_so(ann, make_client, make_site, smtp, worker):
    site = make_site("ann@example.com")
    link = invite(ann, site, smtp, "dan@example.com", "viewer", 1)
    team = ann.get(f"/dashboard/sites/{site}/members").text
    member = re.search(r'members/(\d+)"', team).group(1)
    csrf_post(ann, f"/dashboard/sites/{site}/members/{member}", {},
              page=f"/dashboard/sites/{site}/members")
    page = make_client().get(link)
    assert page.status_code == 400 and "withdrawn" in page.text
    again = csrf_post(ann, f"/dashboard/sites/{site}/members",
                      {"email": "ann@example.com", "role": "viewer"})
    assert again.status_code == 422 and "on this site" in again.text


def test_the_site_is_handed_over_to_a_member(ann, make_client, make_owner, make_site, smtp,
                                             worker, query):
    site = make_site("ann@example.com", name="Bäckerei")
    make_owner("bob@example.com")
    link = invite(ann, site, smtp, "bob@example.com", "editor", 1)
    bob = make_client()
    bob.login("bob@example.com")
    assert csrf_post(bob, link, {}, page=link).status_code == 302
    team = ann.get(f"/dashboard/sites/{site}/members").text
    member = re.search(r'members/(\d+)/handover"', team).group(1)
    assert bob.post(f"/dashboard/sites/{site}/members/{member}/handover",
                    data={"csrf_token": bob.csrf("/dashboard/")}).status_code == 403
    done = csrf_post(ann, f"/dashboard/sites/{site}/members/{member}/handover", {},
                     page=f"/dashboard/sites/{site}/members")
    assert done.status_code == 302
    owner = query(lambda s: s.get(Site, site).owner.email)
    assert owner == "bob@example.com"
    assert bob.get(f"/dashboard/sites/{site}/members").status_code == 200  # owner now
    team = bob.get(f"/dashboard/sites/{site}/members").text
    assert "ann@example.com" in team and ann.get(f"/dashboard/sites/{site}/keys").status_code == 200
