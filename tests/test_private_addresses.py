"""WIDGET_WEBHOOK_ALLOW_PRIVATE as a list of address:port pairs: only those private
addresses are reached (another port of the same host is still refused, a metadata
address never), a typo refuses to start; and `widget demo` uses it to read the example
blog's feed on loopback, which its letters page then lists. Real loopback servers and a
real `widget demo` process."""
from __future__ import annotations

import re
from html import unescape

import pytest
import requests

from widget.core import outbound
from widget.settings import ConfigError, private_allowed

from .helpers.demo import run_demo
from .helpers.feeds import POSTS, FeedServer, rss
from .helpers.waiting import wait_until


def test_the_setting_reads_on_off_and_pairs():
    assert private_allowed("on") is True and private_allowed(" OFF ") is False
    assert private_allowed("127.0.0.1:5001, [::1]:5001,10.0.0.7:9000") == frozenset({
        ("127.0.0.1", 5001), ("::1", 5001), ("10.0.0.7", 9000)})
    for typo in ("yes", "127.0.0.1", "lan.example:80", "10.0.0.7:0", "10.0.0.7:http", ","):
        with pytest.raises(ConfigError, match="WIDGET_WEBHOOK_ALLOW_PRIVATE"):
            private_allowed(typo)


def test_only_the_listed_address_and_port_are_reached():
    listed, other = FeedServer(), FeedServer()
    try:
        listed.serve(rss(POSTS))
        other.serve(rss(POSTS))
        port = int(listed.url.split(":")[2].split("/")[0])
        allowed = private_allowed(f"127.0.0.1:{port}")
        with outbound.session(allowed) as http:
            got = outbound.get(http, listed.url, {}, 1 << 20, 5)
            assert got.status == 200 and b"First post" in got.body
            with pytest.raises(outbound.Refused, match="127.0.0.1 is a loopback or private"):
                outbound.get(http, other.url, {}, 1 << 20, 5)
        assert len(listed.requests) == 1 and other.requests == []
    finally:
        listed.close()
        other.close()
    # cloud metadata stays out of reach, listed or not
    assert outbound.refusal("169.254.169.254", frozenset({("169.254.169.254", 80)}), 80)


def test_the_demo_reads_the_example_blogs_feed(tmp_path):
    with run_demo("sqlite", tmp_path) as demo:
        assert requests.get(f"{demo['pages']}/feed.xml").headers["Content-Type"].startswith(
            "application/rss+xml")
        http = requests.Session()
        login = http.get(f"{demo['base']}/dashboard/login").text
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', login).group(1)
        http.post(f"{demo['base']}/dashboard/login", data={
            "email": "demo@example.com", "password": "demo-password", "csrf_token": token})
        letters = f"{demo['base']}/dashboard/sites/demo-blog/letters"
        page = wait_until(lambda: (lambda text: text if "Already published" in text else None)(
            unescape(http.get(letters).text)), "the worker's first poll of the demo feed")
    assert f"{demo['pages']}/feed.xml" in page and "Working" in page
    for title in ("Your first sourdough starter, step by step", "Your bread stories"):
        assert title in page
    assert "may not be reached" not in page
