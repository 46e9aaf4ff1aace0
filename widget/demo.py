"""`widget demo`: a demo owner, site and widget, and the example pages on a second origin."""
from __future__ import annotations

from pathlib import Path

from flask import Flask, Response, abort

from . import HERE, db
from .accounts import create_owner, create_site, find_owner, set_origins
from .models import Site, Widget

DEMO_LOGIN = "demo@example.com"
DEMO_PASSWORD = "demo-password"
DEMO_SITE = "demo-blog"
DEMO_WIDGET = "w_demo"  # named in the example pages' two-step button
DEMO_INLINE = "w_demo_inline"  # named in the blog post's inline placeholder
# The example pages name the default service URL and site id as an owner would; the
# demo server rewrites the URL when the service runs elsewhere.
EXAMPLE_BASE = "http://127.0.0.1:5000"


def examples_dir() -> Path:
    """examples/embed in a checkout, widget/examples in an installed wheel."""
    inside = HERE / "examples"
    return inside if inside.is_dir() else HERE.parent / "examples" / "embed"


def seed(examples_origin: str) -> tuple[str, str, str]:
    """Create the demo owner and site unless they exist; keep all existing data."""
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
    session.commit()
    return DEMO_LOGIN, DEMO_PASSWORD, DEMO_SITE


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
        mimetype = {".html": "text/html", ".css": "text/css"}.get(path.suffix, "text/plain")
        return Response(body, mimetype=mimetype)

    return app
