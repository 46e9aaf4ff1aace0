"""Helpers shared by the contact import test modules (tests/test_imports.py and
tests/test_imports_run.py): the upload form, the mapping the check posts, starting an
import, the import worker's steps run until nothing is left, an import run from upload
to its end, its status read back, the contacts, the problem lines on its page, and a
site of Ann's in Norwegian (a fixture)."""
from __future__ import annotations

import re
from html import unescape

import pytest
from sqlalchemy import select

from widget.models import ContactImport, Subscriber
from widget.subscribers import import_run

from .http import csrf_post

MAPPING = {"header": "y", "email": "0", "name": "1", "last_name": "", "lang": "", "tags": "",
           "consent": "confirm", "basis": "", "pace": "600", "extra": ""}


def base(site: str) -> str:
    return f"/dashboard/sites/{site}/imports"


def upload(client, site: str, content: bytes, name: str = "list.csv"):
    """POST the upload form with a file."""
    return client.post(base(site), data={"csrf_token": client.csrf(base(site))},
                       files={"csv_file": (name, content, "text/csv")})


def uploaded(client, site: str, content: bytes) -> int:
    """The id of an import made from `content` (the upload must succeed)."""
    resp = upload(client, site, content)
    assert resp.status_code == 302, resp.text[:500]
    return int(resp.headers["Location"].rsplit("/", 1)[1])


def check(client, site: str, import_id: int, **fields):
    path = f"{base(site)}/{import_id}"
    return csrf_post(client, f"{path}/check", {**MAPPING, **fields}, page=path)


def start(client, site: str, import_id: int):
    path = f"{base(site)}/{import_id}"
    resp = csrf_post(client, f"{path}/start", {}, page=path)
    assert resp.status_code == 302, resp.text[:500]


def work(app, worker: str = "test-worker", **kw) -> None:
    """Run the import worker's steps until nothing is left to check or import."""
    for _ in range(1000):
        if not import_run.step(app, worker, **kw):
            return
    raise AssertionError("the import never ended")


def imported(app, client, site: str, content: bytes, **fields) -> ContactImport:
    """Upload, check, start and run an import to its end; the import row."""
    import_id = uploaded(client, site, content)
    assert check(client, site, import_id, **fields).status_code == 302
    work(app)
    start(client, site, import_id)
    work(app)
    return the_import(client, site, import_id)


def the_import(client, site: str, import_id: int) -> ContactImport:
    """The import as its status endpoint tells it."""
    resp = client.get(f"{base(site)}/{import_id}/status")
    assert resp.status_code == 200 and resp.headers["Cache-Control"] == "no-store"
    return ContactImport(id=import_id, **resp.json())


def people(query) -> dict[str, Subscriber]:
    return {s.email_normalized: s for s in query(lambda s: s.scalars(select(Subscriber)).all())}


def table(resp) -> list[tuple[str, str]]:
    """The problem lines on an import's page: (line, why)."""
    return [(line, unescape(why)) for line, why in re.findall(
        r'<tr><td class="num">(\d+)</td><td>([^<]*)</td></tr>', resp.text)]


@pytest.fixture
def site(ann, make_site):
    return make_site("ann@example.com", lang="nb")
