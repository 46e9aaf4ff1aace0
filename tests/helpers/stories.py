"""Helpers shared by the browser tests of stories and social proof
(tests/test_browser_stories.py and tests/test_browser_proof.py): the thanks a sent story
gets, work done straight in the demo's database, a widget's slot on a host page, a host
page in a language of its own, and a story widget in the demo (a module fixture)."""
from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import Page
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from .browser import ARTICLE
from .demo import add_widget

THANKS = "Thank you for your story! 💛 We read every one."


def in_db(demo, work):
    """Run `work(session)` on the demo's database and commit; returns what it returns."""
    engine = create_engine(demo["db"])
    try:
        with Session(engine, expire_on_commit=False) as session:
            result = work(session)
            session.commit()
            return result
    finally:
        engine.dispose()


def slot(wid: str) -> str:
    return f'<div data-widget-inline="{wid}"></div>'


def page_in(page: Page, demo, host, lang: str, top: str):
    """A host page in `lang` (its <html lang>), with `top` before the article."""
    name = f"t-{uuid.uuid4().hex[:8]}.html"
    (host["root"] / name).write_text(
        f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
        f'<title>Brød</title><script async src="{demo["base"]}/embed.js" '
        f'data-site="demo-blog"></script></head><body>{top}<main><h1>Brød</h1>{ARTICLE}'
        f'</main></body></html>', encoding="utf-8")
    with page.expect_response(lambda r: "/widgets?" in r.url and r.status == 200):
        page.goto(f"{host['origin']}/{name}")


@pytest.fixture(scope="module")
def story_widget(demo):
    return add_widget(demo, [], kind="story", layout="inline", title="Tell us about your bread")
