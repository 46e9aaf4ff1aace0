"""Every dashboard URL that names a row answers 404 for a row that is not the owner's:
another owner's, one that does not exist, or an id no row could have (a 65-character
string, an integer past what an INTEGER column holds). Never a 500, on either database.

The routes are read from the app, so a new route is swept without being listed here."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from widget.models import Widget

ODD_IDS = {"int": ["2147483648", "9223372036854775808", "0"],
           "str": ["x" * 65, "missing"]}


def dashboard_rules(app):
    """(rule, methods, the names of its int and string arguments) of each dashboard URL
    that names a row besides the site."""
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/dashboard/sites/<site_id>/") or len(rule.arguments) < 2:
            continue
        kinds = {name: converter or "string"
                 for converter, name in re.findall(r"<(?:(\w+):)?(\w+)>", rule.rule)}
        yield rule, rule.methods - {"HEAD", "OPTIONS"}, kinds


def fill(rule: str, site: str, kinds: dict, odd: str | None, own: dict) -> str:
    """The rule's path for my site, with `odd` (or the row of `own`) for every other id."""
    path = rule.replace("<site_id>", site)
    for name, kind in kinds.items():
        if name == "site_id":
            continue
        value = odd if odd is not None else own.get(name, "missing")
        path = re.sub(rf"<(?:\w+:)?{name}>", value, path)
    return path


def test_rows_that_are_not_the_owners_are_404(ann, app, make_site, query):
    mine = make_site("ann@example.com")
    theirs = make_site("bob@example.com")
    their_widget = query(lambda s: s.scalar(select(Widget.id).where(Widget.site_id == theirs)))
    token = ann.csrf("/dashboard/sites/new")
    swept = 0
    for rule, methods, kinds in dashboard_rules(app):
        paths = [fill(rule.rule, mine, kinds, odd, {})
                 for name, kind in kinds.items() if name != "site_id"
                 for odd in ODD_IDS["int" if kind == "int" else "str"]]
        if "widget_id" in kinds:  # another owner's widget, under my site's URL
            paths.append(fill(rule.rule, mine, kinds, None, {"widget_id": their_widget}))
        for path in paths:
            for method in methods:
                resp = ann.request(method, path, data={"csrf_token": token},
                                   allow_redirects=False)
                assert resp.status_code == 404, (method, path, resp.status_code)
                swept += 1
    assert swept > 40  # the sweep reached the routes (each with several odd ids)


@pytest.mark.parametrize("odd", ["2147483648", "x" * 65])
def test_odd_site_ids_are_404(ann, odd):
    assert ann.get(f"/dashboard/sites/{odd}").status_code == 404
