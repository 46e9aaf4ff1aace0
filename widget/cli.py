"""The `widget` command: thin wrappers around the app factory and the accounts module."""
from __future__ import annotations

import os
import sys

import click

from widget import settings

# \b keeps click from re-wrapping the table into one paragraph.
EPILOG = "Settings come from environment variables:\n\n\b\n" + settings.env_help()


def _app(**overrides):
    from widget import create_app

    try:
        return create_app(overrides or None)
    except settings.ConfigError as exc:
        raise click.ClickException(str(exc)) from None


def _migrated_app(**overrides):
    from widget.core import db
    from widget.core.migrate import upgrade

    app = _app(**overrides)
    with app.app_context():
        upgrade(db.engine())
    return app


def _base_overrides(host: str, port: int) -> dict:
    """Without WIDGET_BASE_URL, links point at the address we listen on."""
    if os.environ.get("WIDGET_BASE_URL"):
        return {}
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    return {"BASE_URL": f"http://{shown}:{port}"}


@click.group(epilog=EPILOG, context_settings={"max_content_width": 100})
def main():
    """Reciprocity widgets: pop-ups and gift widgets that give first."""


@main.command(epilog=EPILOG)
def migrate():
    """Create or upgrade the database schema in place (keeps every row)."""
    from widget.core import db
    from widget.core.migrate import current_revision

    app = _migrated_app()
    with app.app_context():
        click.echo(f"Database is at revision {current_revision(db.engine())}.")


@main.command(epilog=EPILOG)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=5000, show_default=True, type=int, help="Port to listen on.")
@click.option("--threads", default=8, show_default=True, type=int, help="Request threads.")
def serve(host: str, port: int, threads: int):
    """Migrate, then serve the app with waitress (gunicorn for many sites: docs/production.md)."""
    from widget.servers import run_forever

    app = _migrated_app(**_base_overrides(host, port))
    click.echo(f"Serving on http://{host}:{port}/  (dashboard: {app.config['BASE_URL']}/dashboard/)")
    _echo_mail(app)
    run_forever([(app, host, port)], threads=threads)


def _echo_mail(app) -> None:
    """Say where e-mail goes, so nobody wonders why none arrives."""
    if not app.config["WORKER"]:
        click.echo("E-mail: sent by separate `widget worker` processes (WIDGET_WORKER=off).")
    elif app.config["SMTP_URL"]:
        click.echo("E-mail: sent from this process through WIDGET_SMTP_URL.")
    else:
        click.echo("E-mail: no WIDGET_SMTP_URL, so messages stay in the dev outbox "
                   "(dashboard → site → Outbox).")


@main.command(epilog=EPILOG)
@click.option("--once", is_flag=True, help="Send what is due now, then exit (for cron or tests).")
@click.option("--poll", default=1.0, show_default=True, type=float,
              help="Seconds between looks at the outbox when it is idle.")
def worker(once: bool, poll: float):
    """Send the outbox: e-mails with retries and back-off. Run as many as you like."""
    import signal
    import threading

    from widget.core.outbox import wake_event
    from widget.mail.worker import run

    app = _migrated_app()
    stop = threading.Event()

    def _stop(_signum, _frame):
        stop.set()
        wake_event(app).set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    if not once:
        click.echo(f"Outbox worker started (pid {os.getpid()}).")
        sys.stdout.flush()
    run(app, stop, poll=poll, once=once)


@main.command("create-owner", epilog=EPILOG)
@click.option("--email", required=True, help="The owner's e-mail, used to log in.")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True,
              help="Asked for when not given (at least 10 characters).")
def create_owner(email: str, password: str):
    """Add an owner who can log into the dashboard."""
    from widget.core import db
    from widget.sites.accounts import AccountError
    from widget.sites.accounts import create_owner as create

    app = _migrated_app()
    with app.app_context():
        try:
            owner = create(db.session(), email, password)
        except AccountError as exc:
            raise click.ClickException(str(exc)) from None
        click.echo(f"Owner {owner.email} created.")


@main.command("create-site", epilog=EPILOG)
@click.option("--owner", "owner_email", required=True, help="E-mail of an existing owner.")
@click.option("--name", required=True, help="The site's name, as the owner sees it.")
@click.option("--origin", "origins", required=True, multiple=True,
              help="An origin allowed to embed the site, e.g. https://blog.example (repeatable).")
@click.option("--lang", default="en", show_default=True, type=click.Choice(["en", "nb", "de", "nl"]),
              help="The site's default language.")
def create_site(owner_email: str, name: str, origins: tuple[str, ...], lang: str):
    """Create a site with a live default widget; prints the site id as the last line."""
    from widget.core import db
    from widget.sites.accounts import AccountError, find_owner
    from widget.sites.accounts import create_site as create

    app = _migrated_app()
    with app.app_context():
        owner = find_owner(db.session(), owner_email)
        if owner is None:
            raise click.ClickException(f"No owner with the e-mail {owner_email}; "
                                       "add one with `widget create-owner`.")
        try:
            site = create(db.session(), owner, name, list(origins), lang)
        except AccountError as exc:
            raise click.ClickException(str(exc)) from None
        click.echo(f"Site {site.name!r} created. Embed snippet:")
        click.echo(f'  <script async src="{app.config["BASE_URL"]}/embed.js" '
                   f'data-site="{site.id}"></script>')
        click.echo(site.id)


@main.group("api-key", epilog=EPILOG)
def api_key():
    """Owner API keys (sent as Authorization: Bearer <key>); revoke them in the dashboard."""


@api_key.command("create", epilog=EPILOG)
@click.option("--site", "site_id", required=True, help="The site's id (as `create-site` printed).")
@click.option("--scope", required=True, type=click.Choice(["read", "write"]),
              help="read: the GET endpoints only; write: every endpoint.")
@click.option("--name", default="", help="A label to tell the key apart in the dashboard.")
def api_key_create(site_id: str, scope: str, name: str):
    """Make an API key for a site; prints the key, shown only this once, as the last line."""
    from widget.core import db
    from widget.sites.accounts import AccountError
    from widget.sites.keys import create

    app = _migrated_app()
    with app.app_context():
        try:
            made = create(db.session(), site_id, scope, name)
        except AccountError as exc:
            raise click.ClickException(str(exc)) from None
        click.echo(f"API key {made.row.name!r} ({scope}) created for site {site_id}. "
                   "Keep it now: it is not shown again.")
        click.echo(made.key)


@main.group(epilog=EPILOG)
def feed():
    """The blog's feed, read for new posts (docs/letters.md)."""


@feed.command("set", epilog=EPILOG)
@click.option("--site", "site_id", required=True, help="The site's id (as `create-site` printed).")
@click.option("--url", required=True, help="The feed's address: RSS, Atom or JSON Feed, http(s).")
@click.option("--mode", default=None, type=click.Choice(["each", "digest"]),
              help="The site's letters: each new post at once, or a digest of the new "
                   "posts (on the plan's days and time, Friday 09:00 unless changed on the "
                   "dashboard). Leave out to keep the site's plan.")
@click.option("--lang", default="", type=click.Choice(["", "en", "nb", "de", "nl"]),
              help="The readers' language this feed is for (leave out: one feed for all).")
def feed_set(site_id: str, url: str, mode: str, lang: str):
    """Add the site's feed (for a language), or change its address; --mode sets how
    the site's letters go."""
    from widget.core import db
    from widget.letters import feeds, schedule
    from widget.models import Site

    app = _migrated_app()
    with app.app_context():
        session = db.session()
        if session.get(Site, site_id) is None:
            raise click.BadParameter(f"no site with the id {site_id}", param_hint="--site")
        try:
            made = feeds.set_feed(session, site_id, url, lang)
            plan = (schedule.set_plan(session, site_id, mode) if mode
                    else schedule.plan_of(session, site_id))
        except feeds.Invalid as exc:
            raise click.ClickException(str(exc)) from None
        session.commit()
        when = ("each new post at once" if plan.mode == "each" else
                f"a digest on {', '.join(schedule.DAY_NAMES[int(d)] for d in plan.days)} at "
                f"{plan.at} ({made.site.time_zone})")
        click.echo(f"Feed for {made.lang or 'every language'} of site {site_id}: {made.url}; "
                   f"letters: {when}{', held for review' if plan.review else ''}. Its posts "
                   "so far count as published and are never mailed.")


@feed.command("poll", epilog=EPILOG)
@click.option("--once", is_flag=True, required=True,
              help="Poll every feed that is due now, then exit (for cron or scripts).")
def feed_poll(once: bool):
    """Poll the due feeds, say per feed what it found, and queue what is new (letters the
    worker sends); exits 0 even when a feed is broken."""
    from widget.letters import feeds, schedule

    app = _migrated_app()
    done = feeds.poll_due(app)
    for outcome in done:
        click.echo(f"{outcome.site_id} {outcome.lang or '*'} {outcome.url}: "
                   f"{outcome.describe()}")
    if not done:
        click.echo("No feed is due.")
    moved = schedule.tick(app)
    click.echo(f"Letters: {moved['letters']} new, {moved['due']} due, "
               f"{moved['queued']} e-mails queued (`widget worker` sends them).")


def _host_port(value: str) -> tuple[str, int]:
    host, colon, port = value.rpartition(":")
    if not colon or not port.isdigit() or not 0 < int(port) < 65536:
        raise click.BadParameter("give it as HOST:PORT, e.g. 0.0.0.0:2525",
                                 param_hint="--listen")
    return host.strip("[]") or "0.0.0.0", int(port)


@main.command(epilog=EPILOG)
@click.option("--listen", "listen_at", metavar="HOST:PORT",
              help="Receive bounces by SMTP here (mail to the bounce address's per-message "
                   "form only; anything else is refused at RCPT).")
@click.option("--imap", "imap_url", metavar="URL",
              help="Read bounces from an IMAP folder: imaps://user:pass@host/INBOX "
                   "(unseen messages, marked seen once recorded).")
@click.option("--once", is_flag=True, help="With --imap: read what is there, then exit (cron).")
@click.option("--poll", default=60.0, show_default=True, type=float,
              help="With --imap: seconds between looks at the folder.")
def bounces(listen_at: str | None, imap_url: str | None, once: bool, poll: float):
    """Read bounces and complaints (docs/bounces.md): a hard bounce marks the contact
    bounced, soft bounces count up to WIDGET_SOFT_BOUNCE_LIMIT, a complaint unsubscribes."""
    import signal
    import threading

    from widget.mail import bounces as reader

    if bool(listen_at) == bool(imap_url):
        raise click.UsageError("give either --listen HOST:PORT or --imap URL")
    if imap_url:
        try:
            reader.ImapSettings.parse(imap_url)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--imap") from None
    address = _host_port(listen_at) if listen_at else None
    app = _migrated_app()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    if address:
        controller = reader.listen(app, *address)
        click.echo(f"Bounce listener on {address[0]}:{address[1]} (pid {os.getpid()}).")
        sys.stdout.flush()
        stop.wait()
        controller.stop()
        return
    while True:
        try:
            done = reader.read_mailbox(app, imap_url)
        except (OSError, reader.imaplib.IMAP4.error) as exc:
            if once:
                raise click.ClickException(f"IMAP: {exc}") from None
            click.echo(f"IMAP: {exc}; trying again in {poll:g} s", err=True)
            done = []
        counts = {kind: sum(o.kind == kind for o in done)
                  for kind in (*reader.KINDS, "ignored")}
        if once or done:
            click.echo(f"{len(done)} read: " + ", ".join(f"{n} {k}" for k, n in counts.items()))
        if once or stop.wait(poll):
            return


@main.command(epilog=EPILOG)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=5000, show_default=True, type=int, help="Port of the service.")
@click.option("--examples-port", default=5001, show_default=True, type=int,
              help="Port of the example pages (a second origin, as a real blog would be).")
def demo(host: str, port: int, examples_port: int):
    """Serve the app with a demo owner, site and widget, and example pages on a second origin."""
    from widget.demo import examples_app, seed
    from widget.servers import run_forever

    app = _migrated_app(**_base_overrides(host, port))
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    examples_base = f"http://{shown}:{examples_port}"
    if app.config["WEBHOOK_ALLOW_PRIVATE"] is not True:  # the example blog's feed, on loopback
        app.config["WEBHOOK_ALLOW_PRIVATE"] = frozenset(
            app.config["WEBHOOK_ALLOW_PRIVATE"] or ()) | {
            ("127.0.0.1", examples_port), ("::1", examples_port)}
    with app.app_context():
        login, password, site_id = seed(examples_base)
    base = app.config["BASE_URL"]
    click.echo("Reciprocity widgets demo")
    click.echo(f"  Dashboard:    {base}/dashboard/")
    click.echo(f"  Log in as:    {login} / {password}")
    click.echo(f"  Example page: {examples_base}/blog-post.html")
    click.echo(f"  Free gifts:   {examples_base}/free-gift.html")
    _echo_mail(app)
    click.echo("Press Ctrl+C to stop.")
    sys.stdout.flush()
    run_forever([(app, host, port), (examples_app(base, site_id), host, examples_port)])
