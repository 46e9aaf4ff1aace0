"""What a reader and an owner do in a real Chromium: open a host page on another origin
or one of the demo's example pages, leave through the top edge, sign up in a widget, log
into the dashboard; and axe-core's findings inside the widget."""
from __future__ import annotations

import uuid

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Locator, Page

ARTICLE = "".join(f"<p>Paragraph {i} of a long article about bread.</p>" * 3
                  for i in range(60))


def host_page(page: Page, demo, host, *widget_ids: str, top: str = "", query: str = "",
              referer: str | None = None):
    """A long article on the host origin, its snippet limited to `widget_ids`; `top` is
    HTML put before the article, `query` goes after the page's address."""
    attr = f' data-widget="{widget_ids[0]}"' if len(widget_ids) == 1 else ""
    name = f"t-{uuid.uuid4().hex[:8]}.html"
    (host["root"] / name).write_text(
        f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<title>Bread</title>'
        f'<script async src="{demo["base"]}/embed.js" data-site="demo-blog"{attr}>'
        f'</script></head><body>{top}<main><h1>Bread</h1>{ARTICLE}</main></body></html>',
        encoding="utf-8")
    with page.expect_response(lambda r: "/widgets?" in r.url and r.status == 200):
        page.goto(f"{host['origin']}/{name}{query}", referer=referer)


def open_example(page: Page, demo, name: str = "blog-post.html"):
    """Open one of the demo's example pages and wait until the loader has its config."""
    with page.expect_response(lambda r: "/widgets?" in r.url and r.status == 200):
        page.goto(f"{demo['pages']}/{name}")


def log_in(page: Page, demo):
    """Log into the demo's dashboard as its owner."""
    page.goto(f"{demo['base']}/dashboard/login")
    page.get_by_label("E-mail").fill("demo@example.com")
    page.get_by_label("Password").fill("demo-password")
    page.get_by_role("button", name="Log in").click()


def exit_intent(page: Page):
    """Move into the page, then out through the top edge, as a leaving reader does."""
    page.mouse.move(640, 300)
    page.mouse.move(640, 150)
    page.mouse.move(640, -10)


def sign_up_in_widget(widget: Locator, email: str, *, consent: bool = True,
                      label: str = "Your e-mail", consent_label: str | None = None,
                      button: str = "Subscribe") -> None:
    """Fill and send a widget's sign-up form as a reader does: the address into the field
    labelled `label`, the consent box ticked (unless `consent` is False; `consent_label`
    names it), then `button` pressed. In another language, pass the widget's words."""
    widget.get_by_label(label).fill(email)
    if consent:
        widget.get_by_role("checkbox", name=consent_label).check()
    widget.get_by_role("button", name=button).click()


def violations(page: Page) -> list:
    """axe-core's findings inside the widget: (rule, help, how many nodes)."""
    results = Axe().run(page, context={"include": [["reciprocity-widget"]]})
    return [(v["id"], v["help"], len(v["nodes"])) for v in results.response["violations"]]
