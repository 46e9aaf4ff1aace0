"""What host pages download: small, gzipped as served, versioned and readable cross-origin."""
from __future__ import annotations

import gzip
import hashlib
import re
from pathlib import Path

LOADER_BUDGET = 1024  # bytes, gzipped, as served
LOADER_BUDGET_BR = 900  # bytes, Brotli, as served to browsers that accept it
UI_BUDGET = 8 * 1024  # the UI chunk: JS + CSS, gzipped


def served_gzip(client, path):
    resp = client.get(path, headers={"Accept-Encoding": "gzip"}, stream=True)
    assert resp.status_code == 200, path
    assert resp.headers["Content-Encoding"] == "gzip"
    raw = resp.raw.read(decode_content=False)
    assert gzip.decompress(raw)  # really gzip
    return resp, raw


def test_loader_is_within_budget_and_briefly_cached(client):
    resp, raw = served_gzip(client, "/embed.js")
    assert len(raw) <= LOADER_BUDGET, f"/embed.js is {len(raw)} B gzipped"
    # The file in the repository is what is served: nothing left for start-up to strip.
    on_disk = (Path(__file__).resolve().parent.parent / "static/js/embed.js").read_bytes()
    assert len(gzip.compress(on_disk, 9)) <= LOADER_BUDGET
    br = client.get("/embed.js", headers={"Accept-Encoding": "gzip, deflate, br"}, stream=True)
    assert br.headers["Content-Encoding"] == "br"
    raw_br = br.raw.read(decode_content=False)
    assert len(raw_br) <= LOADER_BUDGET_BR, f"/embed.js is {len(raw_br)} B with Brotli"
    assert resp.headers["Content-Type"].startswith("text/javascript")
    assert resp.headers["Cache-Control"] == "public, max-age=300"
    assert "Accept-Encoding" in resp.headers["Vary"]
    assert "Set-Cookie" not in resp.headers


def test_ui_chunk_is_within_budget_versioned_and_cross_origin(client, make_site):
    site = make_site()
    config = client.get(f"/api/v1/sites/{site}/widgets").json()
    total = 0
    for path in (config["ui"], config["css"]):
        assert "?v=" in path
        resp, raw = served_gzip(client, path)
        total += len(raw)
        assert "max-age=31536000" in resp.headers["Cache-Control"]
        assert resp.headers["Access-Control-Allow-Origin"] == "*"
    assert total <= UI_BUDGET, f"UI chunk is {total} B gzipped"


def test_plain_clients_get_plain_bytes_and_revalidate(client):
    resp = client.get("/embed.js", headers={"Accept-Encoding": "identity"})
    assert "Content-Encoding" not in resp.headers and b"currentScript" in resp.content
    again = client.get("/embed.js", headers={"Accept-Encoding": "identity",
                                              "If-None-Match": resp.headers["ETag"]})
    assert again.status_code == 304
    assert client.get("/static/js/nothing.js").status_code == 404
    assert client.get("/static/../widget/config.py").status_code == 404


def test_served_loader_is_built_from_its_source():
    js = Path(__file__).resolve().parent.parent / "static" / "js"
    pinned = (js / "embed.js.sha256").read_text(encoding="utf-8").split()[0]
    digest = hashlib.sha256((js / "src" / "embed.js").read_bytes()).hexdigest()
    assert pinned == digest, \
        "static/js/src/embed.js changed without a rebuild: python static/js/build-loader.py"


def test_every_page_names_its_favicon_and_it_is_served(client):
    """Without one, every page's visit logs a 404 for /favicon.ico in the console."""
    page = client.get("/dashboard/login").text
    link = re.search(r'<link rel="icon" href="([^"]+)" type="image/svg\+xml">', page)
    assert link, page[:600]
    resp = client.get(link.group(1))
    assert resp.status_code == 200 and resp.headers["Content-Type"].startswith("image/svg+xml")
    assert resp.content.startswith(b"<svg")
