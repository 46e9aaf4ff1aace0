"""Deleting a site from the dashboard: the page says what goes and offers the export;
the wrong name deletes nothing; the right one erases the site and every row of it (and
only of it), its config answers 404 at once; another owner gets 404. On SQLite and
PostgreSQL."""
from __future__ import annotations

from html import unescape

from sqlalchemy import func, select

from widget.models import (Consent, Gift, OutboxMessage, Site, StatDay, Subscriber, Widget,
                           WidgetTest)

from .helpers.api import H
from .helpers.giveback import join
from .helpers.http import csrf_post


def rows(query, site: str) -> dict[str, int]:
    def run(s):
        counts = {m.__name__: s.scalar(select(func.count()).select_from(m)
                                        .where(m.site_id == site))
                  for m in (Widget, Subscriber, OutboxMessage, StatDay, Gift, WidgetTest)}
        counts["Consent"] = s.scalar(select(func.count(Consent.id)).join(
            Subscriber, Subscriber.id == Consent.subscriber_id).where(Subscriber.site_id == site))
        counts["Site"] = s.scalar(select(func.count(Site.id)).where(Site.id == site))
        return counts
    return query(run)


def test_deleting_a_site_erases_it_and_only_it(ann, client, make_client, make_owner,
                                               make_site, query):
    site = make_site("ann@example.com", name="Bäckerei Ørsted")
    other = make_site("ann@example.com", name="Other", origins=("https://other.example",))
    widget = query(lambda s: s.scalar(select(Widget.id).where(Widget.site_id == site)))
    for email in ("a@example.com", "b@example.com"):
        assert join(client, site, email, widget=widget).status_code == 200
    assert join(client, other, "a@example.com").status_code == 200
    resp = client.post(f"/api/v1/sites/{site}/events", headers=H,
                       json={"events": [{"widget": widget, "type": "impression"}]})
    assert resp.status_code == 204
    kept = rows(query, other)
    path = f"/dashboard/sites/{site}/delete"

    page = ann.get(path)
    assert page.status_code == 200
    assert "2 contacts" in page.text and f"/dashboard/sites/{site}/contacts.csv" in page.text
    bob = make_client()
    make_owner("bob@example.com")
    bob.login("bob@example.com")
    assert bob.get(path).status_code == 404

    wrong = csrf_post(ann, path, {"name": "Backerei Orsted"})
    assert wrong.status_code == 422 and "That is not the site's name" in unescape(wrong.text)
    assert rows(query, site)["Subscriber"] == 2
    done = csrf_post(ann, path, {"name": "Bäckerei Ørsted"})
    assert done.status_code == 302
    assert "Bäckerei Ørsted and everything of it are erased." in ann.get("/dashboard/").text
    assert set(rows(query, site).values()) == {0}
    assert rows(query, other) == kept
    assert client.get(f"/api/v1/sites/{site}/widgets", headers=H).status_code == 404
