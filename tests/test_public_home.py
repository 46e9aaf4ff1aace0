"""The pages behind e-mail links belong to their site: the confirm, thank-you, gift and
share pages name it and lead back to it, in the reader's language, and only to an
address the owner allowed. On SQLite and PostgreSQL."""
from __future__ import annotations

import re
from html import unescape

from sqlalchemy import select

from widget.models import Site, Subscriber

from .helpers.giveback import confirm_path, join, share_path
from .helpers.gifts import claimed, file_gift


def back_link(html: str) -> tuple[str, str] | None:
    found = re.search(r'<header class="site-home"><a href="([^"]+)">([^<]+)</a></header>', html)
    return (unescape(found.group(1)), unescape(found.group(2))) if found else None


def test_confirm_thanks_and_share_pages_lead_back_to_the_site(app, client, make_site, query):
    site = make_site(name="Bäckerei Ørsted", origins=("https://b.example", "https://a.example"))
    assert join(client, site, "ann@example.com", lang="de").status_code == 200
    ann = query(lambda s: s.scalar(select(Subscriber)))
    page = client.get(confirm_path(app, ann))
    assert back_link(page.text) == ("https://a.example/", "← Zurück zu Bäckerei Ørsted")
    done = client.post(confirm_path(app, ann))
    assert back_link(done.text) == ("https://a.example/", "← Zurück zu Bäckerei Ørsted")
    # The owner's landing page for friends, when set, is the way back.
    def landing(s):
        s.get(Site, site).ref_landing = "https://b.example/welcome"
        s.commit()
    query(landing)
    ann = query(lambda s: s.scalar(select(Subscriber)))
    share = client.get(share_path(app, ann))
    assert back_link(share.text) == ("https://b.example/welcome", "← Zurück zu Bäckerei Ørsted")


def test_a_gift_page_leads_back_and_a_broken_link_names_no_site(client, make_site, query):
    site = make_site(name="Blog <3")
    gift, widget = file_gift(query, site)
    given = claimed(client, site, widget)
    page = client.get(given["page"].replace("http://127.0.0.1:5000", ""))
    assert back_link(page.text) == ("https://blog.example/", "← Back to Blog <3")
    assert "Blog &lt;3" in page.text
    assert back_link(client.get("/confirm/nonsense").text) is None
