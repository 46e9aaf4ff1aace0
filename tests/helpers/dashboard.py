"""The owner's side over real HTTP: the site settings form, gifts made through the gift
form, the account page's language and time zone, and visitors acting through the public
API meanwhile (a widget's funnel counted as its beacons count it)."""
from __future__ import annotations

import requests
from sqlalchemy import func, select

from widget.models import Gift, GiftFile, GiftFileChunk, Widget

from .api import ORIGIN
from .http import csrf_post

SETTINGS = {"name": "Blog", "origins": "https://blog.example", "default_lang": "en",
            "require_consent": "y", "popup_cap": "1", "double_opt_in": "y",
            "confirm_days": "7", "sender_name": "", "sender_email": "", "reply_to": ""}
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"
FIELDS = {"title": "The sourdough checklist", "description": "", "quantity": "",
          "link_days": "7", "download_limit": "5", "followup_days": "", "is_active": "y"}


def sign_up(make_client, site, email, **fields):
    """A visitor signs up through the public API, from a client of their own."""
    resp = make_client().post(f"/api/v1/sites/{site}/subscriptions",
                              json={"email": email, "consent": True, **fields})
    assert resp.status_code == 200, resp.text


def gifts_path(site: str) -> str:
    return f"/dashboard/sites/{site}/gifts"


def new_gift(client, site: str, kind: str, upload=None, **fields):
    """POST the new-gift form of `kind`; `upload` is (name, bytes, type)."""
    path = f"{gifts_path(site)}/new"
    data = {**FIELDS, "kind": kind, **fields}
    return client.post(path, data={**data, "csrf_token": client.csrf(f"{path}?kind={kind}")},
                       files={"upload": upload} if upload else None)


def make_gift(client, query, site: str, kind: str = "file", **fields) -> str:
    """A gift made through the form; its id."""
    upload = ("checklist.pdf", PDF, "application/pdf") if kind == "file" else None
    extra = {"link": {"url": "https://course.example/lesson-1"},
             "bonus": {"bonus_html": "Knead for ten minutes."}}.get(kind, {})
    resp = new_gift(client, site, kind, upload, **{**extra, **fields})
    assert resp.status_code == 302, resp.text
    return resp.headers["Location"].rsplit("/", 1)[-1]


def counts(query) -> tuple[int, int, int]:
    """Gifts, gift files and file chunks in the database."""
    return query(lambda s: tuple(s.scalar(select(func.count()).select_from(t))
                                 for t in (Gift, GiftFile, GiftFileChunk)))


def gift_widget(query, site: str, gift_id: str, name: str = "Free checklist",
                mode: str = "first") -> str:
    """A live gift widget offering the gift (gift-first unless told), into the database."""
    widget = Widget(site_id=site, name=name, kind="gift", gift_id=gift_id, gift_mode=mode,
                    triggers=[], is_live=True)
    return query(lambda s: (s.add(widget), s.commit(), widget.id)[-1])


def give(make_client, site: str, widget: str) -> dict:
    """A visitor takes the gift through the public API."""
    resp = make_client().post(f"/api/v1/sites/{site}/grants", json={"widget": widget})
    assert resp.status_code == 201, resp.text
    return resp.json()["grant"]


def choose(client, lang: str, zone: str = "UTC"):
    return csrf_post(client, "/dashboard/account/language",
                     {"lang-lang": lang, "lang-time_zone": zone}, page="/dashboard/account")


def widget_with(query, base: str, site: str, name: str, sign_ups: int) -> str:
    """A live widget whose funnel counted three impressions and `sign_ups`, sent to the
    server at `base` as the widget's beacons are."""
    widget = Widget(site_id=site, name=name, kind="newsletter", triggers=[], is_live=True)
    wid = query(lambda s: (s.add(widget), s.commit(), widget.id)[-1])
    events = [{"widget": wid, "type": kind} for kind in ["impression"] * 3 + ["submit"] * sign_ups]
    resp = requests.post(f"{base}/api/v1/sites/{site}/events", timeout=10,
                         headers={"Origin": ORIGIN},
                         json={"page": "/", "lang": "en", "device": "desktop", "events": events})
    assert resp.status_code == 204, resp.text
    return wid
