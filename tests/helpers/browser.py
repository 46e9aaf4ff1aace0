"""What a reader and an owner do in a real Chromium: open a host page on another origin
or one of the demo's example pages, leave through the top edge, scroll, sign up in a
widget, log into the dashboard; the embed loader watched at work; waiting for the widget
to settle; and axe-core's findings inside the widget."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Locator, Page, Request

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


def scroll_to(page: Page, y: int):
    """Scroll the page to `y` (not where it is) and wait until the page has handled the
    scroll event, so the next scroll is one of its own (two quick ones may reach the page
    as one). This listener comes after the loader's, so the loader has seen it too."""
    page.evaluate("""(y) => new Promise((seen) => {
        addEventListener("scroll", seen, {once: true});
        scrollTo(0, y);
    })""", y)


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


def settled(page: Page):
    """Wait until every widget on the page has finished its entry animation and a frame
    has been drawn since: what the reader sees now is what stays (for contrast checks
    and layout-shift counts)."""
    page.evaluate("""async () => {
        const hosts = [...document.querySelectorAll("reciprocity-widget")];
        await Promise.all(hosts.flatMap((h) => h.shadowRoot.getAnimations())
                               .map((a) => a.finished));
        await new Promise((drawn) => requestAnimationFrame(() => setTimeout(drawn)));
    }""")


# The loader calls setInterval once, when it has its config and has armed its triggers,
# and checks them on every tick: count the ticks.
COUNT_CHECKS = """(() => {
    const every = window.setInterval;
    window.setInterval = (check, ms, ...args) => {
        window.__checks = 0;
        return every(() => { check(...args); window.__checks++; }, ms);
    };
})();"""


class Loader:
    """The embed loader on `page`, watched from the page's next load on: how often it has
    checked its triggers (twice a second, once it has its config), and what it asked for.
    It asks for the widget UI the moment it decides to show a widget, and the UI asks for
    its stylesheet the moment it starts to draw its first one; with both here, a widget
    is drawn at once. So after a check, a page that asked for neither, or one with both
    here and nothing drawn, has nothing on its way.

    With `paused`, the page's clock stands still until the test moves it on with
    page.clock.run_for(ms), so time triggers fire exactly when the test says."""

    def __init__(self, page: Page, paused: bool = False):
        self.page = page
        self.asked: list[tuple[str, str]] = []  # (document, address): UI and stylesheet
        if paused:
            start = datetime.now()
            page.clock.install(time=start)
            page.clock.pause_at(start + timedelta(seconds=10))  # well ahead of the real clock
        page.add_init_script(COUNT_CHECKS)  # after the clock: it counts the clock's ticks
        page.on("request", self._request)

    def _request(self, request: Request):
        if "/static/js/ui.js" in request.url or "/static/css/ui.css" in request.url:
            self.asked.append((request.frame.url, request.url))

    def ready(self):
        """Wait until the loader has its config and has armed its triggers."""
        self.page.wait_for_function("window.__checks !== undefined")

    def checked(self, times: int = 1):
        """Wait until the loader has checked its triggers `times` more times."""
        self.ready()
        done = self.page.evaluate("window.__checks")
        self.page.wait_for_function("(n) => window.__checks >= n", arg=done + times)

    def checked_since_load(self, times: int):
        """Wait until the loader has checked its triggers `times` times on this page:
        after n checks, at least n / 2 seconds have passed since the page began."""
        self.page.wait_for_function("(n) => window.__checks >= n", arg=times)

    def _asked_here(self, part: str) -> list[str]:
        return [url for doc, url in self.asked if doc == self.page.url and part in url]

    def asked_for_ui(self) -> bool:
        """Whether the current page asked for the widget UI (to show a widget)."""
        return bool(self._asked_here("/static/js/ui.js"))

    def asked_for_stylesheet(self) -> bool:
        """Whether the UI on the current page asked for its stylesheet (to draw a widget)."""
        return bool(self._asked_here("/static/css/ui.css"))

    def ui_ran(self):
        """Wait until the UI the current page asked for has loaded and done what the loader
        gave it to do: a widget it was going to draw has asked for its stylesheet by now.
        The loader's import of the UI resolves before this one, so its work comes first."""
        asked = self._asked_here("/static/js/ui.js")
        url = asked[0] if asked else self.page.wait_for_event(
            "request", lambda r: "/static/js/ui.js" in r.url).url
        self.page.evaluate("""async (url) => {
            await import(url);
            await new Promise((next) => setTimeout(next));
        }""", url)


_SITE = "/dashboard/sites/demo-blog"
# The demo's dashboard pages, one of each kind: a phone's width and axe visit them all.
DASHBOARD_PAGES = [
    "/dashboard/", _SITE, f"{_SITE}/settings", f"{_SITE}/stats", f"{_SITE}/stats?by=page",
    f"{_SITE}/contacts", f"{_SITE}/contacts/new", f"{_SITE}/emails", f"{_SITE}/outbox",
    f"{_SITE}/referrals", f"{_SITE}/stories", f"{_SITE}/keys", f"{_SITE}/webhooks",
    f"{_SITE}/connectors", f"{_SITE}/imports", f"{_SITE}/gifts/new", f"{_SITE}/widgets/w_demo",
    f"{_SITE}/widgets/w_demo/tests", f"{_SITE}/widgets/new", f"{_SITE}/delete",
    "/dashboard/account", "/dashboard/sites/new", f"{_SITE}/letters", f"{_SITE}/letters/preview"]
