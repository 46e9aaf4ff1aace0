"""`widget demo`: a demo owner, site and widget, and the example pages on a second origin."""
from __future__ import annotations

import io
from pathlib import Path
from urllib.parse import urlsplit

from flask import Flask, Response, abort
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from widget import HERE
from widget.core import db
from widget.gifts import coupons, files
from widget.letters import feeds
from widget.models import Gift, Milestone, Site, Story, Widget
from widget.sites.accounts import create_owner, create_site, find_owner, set_origins

DEMO_LOGIN = "demo@example.com"
DEMO_PASSWORD = "demo-password"
DEMO_SITE = "demo-blog"
DEMO_WIDGET = "w_demo"  # named in the example pages' two-step button
DEMO_INLINE = "w_demo_inline"  # named in the blog post's inline placeholder
DEMO_GIFT_WIDGET = "w_demo_gift"  # free-gift.html: the starter log, given first (inline)
DEMO_COUPON_WIDGET = "w_demo_flour"  # free-gift.html: a flour coupon after the sign-up
DEMO_STORY_WIDGET = "w_demo_story"  # stories.html: the story form (inline)
DEMO_PROOF_WIDGET = "w_demo_proof"  # stories.html: readers' stories, one at a time
# The example pages name the default service URL and site id as an owner would; the
# demo server rewrites the URL when the service runs elsewhere.
EXAMPLE_BASE = "http://127.0.0.1:5000"


def examples_dir() -> Path:
    """examples/embed in a checkout, widget/examples in an installed wheel."""
    inside = HERE / "examples"
    return inside if inside.is_dir() else HERE.parent / "examples" / "embed"


def seed(examples_origin: str) -> tuple[str, str, str]:
    """Create the demo owner and site unless they exist, with the example blog's feed
    (examples/embed/feed.xml); keep all existing data."""
    session = db.session()
    owner = find_owner(session, DEMO_LOGIN) or create_owner(session, DEMO_LOGIN, DEMO_PASSWORD)
    site = session.get(Site, DEMO_SITE)
    wanted = [examples_origin, examples_origin.replace("127.0.0.1", "localhost")]
    if site is None:
        create_site(session, owner, "Demo blog", wanted, "en", site_id=DEMO_SITE,
                    widget_id=DEMO_WIDGET)
    else:
        set_origins(site, [o.origin for o in site.origins] + wanted)
    if session.get(Widget, DEMO_INLINE) is None:
        session.add(Widget(id=DEMO_INLINE, site_id=DEMO_SITE, name="In the article",
                           layout="inline", triggers=[], trigger_match="any",
                           title="Liked this? Get the next one by e-mail"))
    _seed_gifts(session)
    _seed_giveback(session)
    # The example blog's feed, on the example pages' origin of this run (the worker's
    # first poll finds its posts); an owner's own feed is left alone.
    found = feeds.feeds_of(session, DEMO_SITE)
    if not found or (len(found) == 1 and found[0].lang == "" and found[0].url.endswith("/feed.xml")
                     and urlsplit(found[0].url).hostname in ("127.0.0.1", "localhost")):
        feeds.set_feed(session, DEMO_SITE, f"{examples_origin}/feed.xml")
    session.commit()
    return DEMO_LOGIN, DEMO_PASSWORD, DEMO_SITE


def _seed_gifts(session) -> None:
    """Two gifts and their widgets: a PDF given first, and coupon codes after a sign-up."""
    if session.get(Widget, DEMO_GIFT_WIDGET) is None:
        pdf = files.store(session, DEMO_SITE, FileStorage(io.BytesIO(starter_log_pdf()),
                                                          filename="starter-log.pdf"), 1 << 20)
        log = Gift(id="g_demo_log", site_id=DEMO_SITE, kind="file", file_id=pdf.id,
                   title="The printable starter log",
                   description="A one-page feeding log for your first two weeks, with a "
                               "troubleshooting chart.", followup_days=7)
        session.add_all([log, Widget(
            id=DEMO_GIFT_WIDGET, site_id=DEMO_SITE, name="Starter log, given first",
            kind="gift", gift=log, gift_mode="first", layout="inline", triggers=[],
            title="Free: the printable starter log 🍞")])
    if session.get(Widget, DEMO_COUPON_WIDGET) is None:
        flour = Gift(id="g_demo_flour", site_id=DEMO_SITE, kind="coupon", show_left=True,
                     title="10 % off your next bag of flour",
                     description="A personal code for the mill's web shop.")
        session.add_all([flour, Widget(
            id=DEMO_COUPON_WIDGET, site_id=DEMO_SITE, name="Flour coupon, after sign-up",
            kind="gift", gift=flour, gift_mode="gated", layout="modal", triggers=[])])
        session.flush()
        coupons.add(session, flour.id, coupons.generate("CRUMB-####", 40, set()))


SCHEDULE = ("<h3>My overnight schedule</h3><ul><li>20:00 mix and rest</li><li>21:00 salt, "
            "then fold every 30 minutes</li><li>23:00 shape, into the fridge</li><li>7:00 "
            "bake at 250 °C</li></ul>")
STORIES = [("Marit", "My first loaf came out flat, but the feeding log showed me why: my "
                     "starter was past its peak. The second one rose like a dream. 🍞", 5),
           ("Jonas", "I never thought I'd keep a jar of flour and water alive for a month. "
                     "The troubleshooting chart saved it twice.", 4)]


def _seed_giveback(session) -> None:
    """Thank-yous for bringing friends (1 friend: a bonus text; 3: the flour coupon), a
    story form, and two readers' stories they allowed to be shown."""
    if session.scalar(select(Milestone.id).where(Milestone.site_id == DEMO_SITE)) is None:
        schedule = Gift(id="g_demo_schedule", site_id=DEMO_SITE, kind="bonus",
                        title="Ingrid's overnight baking schedule", bonus_html=SCHEDULE)
        session.add_all([schedule,
                         Milestone(site_id=DEMO_SITE, friends=1, gift=schedule),
                         Milestone(site_id=DEMO_SITE, friends=3, gift_id="g_demo_flour")])
    if session.get(Widget, DEMO_STORY_WIDGET) is None:
        session.add_all([
            Widget(id=DEMO_STORY_WIDGET, site_id=DEMO_SITE, name="Your bread story",
                   kind="story", layout="inline", triggers=[]),
            Widget(id=DEMO_PROOF_WIDGET, site_id=DEMO_SITE, name="Readers' stories",
                   kind="proof", layout="inline", triggers=[], style="carousel"),
            *(Story(site_id=DEMO_SITE, name=name, text=text, rating=rating,
                    consent_publish=True, consent_text="You may show my story and first "
                    "name on this website.", lang="en", status="approved")
              for name, text, rating in STORIES)])


def starter_log_pdf() -> bytes:
    """A one-page PDF (a feeding log), written here so the demo needs no file."""
    lines = ["BT /F1 22 Tf 60 780 Td (The starter log) Tj ET",
             "BT /F1 11 Tf 60 755 Td (Feed once a day: 50 g starter, 50 g flour, 50 g water.) Tj ET"]
    lines += [f"BT /F1 12 Tf 60 {720 - 40 * day} Td (Day {day + 1}    time ______    "
              f"temperature ______    rise ______) Tj ET" for day in range(14)]
    stream = "\n".join(lines).encode()
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>",
               b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
               b"/Resources << /Font << /F1 5 0 R >> >> >>",
               b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    out, offsets = io.BytesIO(b"%PDF-1.4\n"), []
    out.seek(0, 2)
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n%s\nendobj\n" % (number, body))
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    out.write(b"".join(b"%010d 00000 n \n" % o for o in offsets))
    out.write(b"trailer << /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n"
              % (len(objects) + 1, xref))
    return out.getvalue()


def examples_app(base_url: str, site_id: str) -> Flask:
    """A plain static server for the example pages, pointing them at `base_url`."""
    app = Flask("widget.examples", static_folder=None)
    folder = examples_dir()

    @app.get("/")
    @app.get("/<name>")
    def page(name: str = "index.html"):
        path = folder / name
        if "/" in name or not path.is_file():
            abort(404)
        body = path.read_bytes()
        if path.suffix == ".html":
            body = body.replace(EXAMPLE_BASE.encode(), base_url.encode())
            body = body.replace(f'data-site="{DEMO_SITE}"'.encode(),
                                f'data-site="{site_id}"'.encode())
        mimetype = {".html": "text/html", ".css": "text/css",
                    ".xml": "application/rss+xml"}.get(path.suffix, "text/plain")
        return Response(body, mimetype=mimetype)

    return app
