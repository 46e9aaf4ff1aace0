"""Brotli, gzip or plain bytes, as the request's Accept-Encoding asks with its q-values:
the same file decoded, an ETag per encoding, and Vary on every answer."""
from __future__ import annotations

import gzip

import brotli
import pytest

from widget.core.assets import encoding

DECODE = {"br": brotli.decompress, "gzip": gzip.decompress, None: lambda raw: raw}


def served(client, path, accept):
    """(Content-Encoding or None, the bytes on the wire, the response) over real HTTP."""
    # None drops the header requests would add by default.
    resp = client.get(path, headers={"Accept-Encoding": accept}, stream=True)
    assert resp.status_code == 200, (path, accept)
    raw = resp.raw.read(decode_content=False)
    return resp.headers.get("Content-Encoding"), raw, resp


@pytest.mark.parametrize("path", ["/embed.js", "/static/js/ui.js", "/static/css/ui.css"])
def test_each_encoding_decodes_to_the_same_bytes_with_its_own_etag(client, path):
    cases = {"br": "gzip, deflate, br, zstd", "gzip": "br;q=0, gzip",
             None: "identity"}
    bodies, etags = {}, {}
    for expected, accept in cases.items():
        coding, raw, resp = served(client, path, accept)
        assert coding == expected, accept
        assert "Accept-Encoding" in resp.headers["Vary"]
        assert resp.headers["Access-Control-Allow-Origin"] == "*"
        assert int(resp.headers["Content-Length"]) == len(raw)
        bodies[coding] = DECODE[coding](raw)
        etags[coding] = resp.headers["ETag"]
        assert not etags[coding].startswith("W/")  # strong: it names these very bytes
    assert bodies["br"] == bodies["gzip"] == bodies[None]
    assert len(set(etags.values())) == 3
    # No header at all: plain bytes, as for a client that names no coding.
    coding, raw, _ = served(client, path, None)
    assert coding is None and raw == bodies[None]


def test_an_etag_revalidates_only_its_own_encoding(client):
    _, _, br = served(client, "/embed.js", "br")
    _, _, gz = served(client, "/embed.js", "gzip")
    same = client.get("/embed.js", headers={"Accept-Encoding": "br",
                                            "If-None-Match": br.headers["ETag"]})
    assert same.status_code == 304 and same.headers["ETag"] == br.headers["ETag"]
    assert "Accept-Encoding" in same.headers["Vary"]
    # A cache holding the gzip bytes that now asks for Brotli gets the Brotli bytes.
    other = client.get("/embed.js", headers={"Accept-Encoding": "br",
                                             "If-None-Match": gz.headers["ETag"]},
                       stream=True)
    assert other.status_code == 200 and other.headers["Content-Encoding"] == "br"
    assert brotli.decompress(other.raw.read(decode_content=False))


@pytest.mark.parametrize(("header", "expected"), [
    ("gzip, deflate, br", "br"),
    ("br;q=0, gzip", "gzip"),
    ("BR ; Q=0 , GZIP", "gzip"),
    ("br;q=0.0, gzip;q=0.5", "gzip"),
    ("gzip;q=1, br;q=0.5", "gzip"),
    ("gzip;q=0.5, br;q=0.5", "br"),
    ("br", "br"),
    ("gzip", "gzip"),
    ("x-gzip", "gzip"),
    ("*", "br"),
    ("*;q=0.5, br;q=0", "gzip"),
    ("*, br;q=0, gzip;q=0", None),
    ("br;q=nonsense, gzip", "gzip"),
    ("deflate, identity", None),
    ("gzip;q=0", None),
    ("", None),
    (",;,", None),
])
def test_q_values_choose_the_encoding(header, expected):
    assert encoding(header) == expected
