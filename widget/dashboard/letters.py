"""New posts by e-mail: the site's blog feeds (one for every language, or one a
language), "Check now", the last check and a broken feed's error, the newest posts
found; and, for the site page, the feeds that are broken."""
from __future__ import annotations

from math import ceil

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext, lazy_gettext, ngettext
from flask_login import login_required
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, ValidationError

from widget.core import db
from widget.core.rawsql import as_datetime
from widget.dashboard.blueprint import bp
from widget.dashboard.language import LANGUAGES
from widget.dashboard.owned import logged, owned, owned_site
from widget.letters import feeds
from widget.models import Feed, Site, utcnow


class FeedForm(FlaskForm):
    """A feed's address and the readers it is for."""
    lang = SelectField(lazy_gettext("For readers in"), default="", choices=[
        SelectChoice("", lazy_gettext("every language (the blog has one feed)")),
        *(SelectChoice(code, name) for code, name in LANGUAGES.items())])
    url = StringField(lazy_gettext("Feed address"),
                      validators=[DataRequired(), Length(max=feeds.MAX_URL)],
                      description=lazy_gettext("RSS, Atom or JSON Feed, e.g. "
                                               "https://blog.example/feed"))

    def validate_url(self, field) -> None:
        try:
            field.data = feeds.clean_url(field.data)
        except feeds.Invalid as exc:
            raise ValidationError(str(exc)) from None


@bp.route("/sites/<site_id>/letters", methods=["GET", "POST"])
@login_required
def letters(site_id: str):
    """The site's feeds; a POST adds one or changes its address."""
    site = owned_site(site_id)
    form = FeedForm()
    if request.method == "GET" or not form.validate_on_submit():
        return _page(site, form), 422 if form.errors else 200
    session = db.session()
    try:
        feed = feeds.set_feed(session, site.id, form.url.data, form.lang.data)
    except feeds.Invalid as exc:  # feeds for every language and per language mixed
        form.lang.errors = [str(exc)]
        return _page(site, form), 422
    logged(site, "settings", f"the blog feed ({feed.lang or 'all'}): {feed.url}")
    session.commit()
    flash(gettext("The feed is saved. Its first check keeps the posts already there as "
                  "published: only posts that come after it are new."))
    return redirect(url_for("dashboard.letters", site_id=site.id))


@bp.post("/sites/<site_id>/letters/<int:feed_id>/check")
@login_required
def check_feed(site_id: str, feed_id: int):
    """Poll one feed now, if its last check is WIDGET_FEED_POLL_MINUTES old."""
    site = owned_site(site_id)
    feed = owned(site, Feed, feed_id)
    done = feeds.poll_due(current_app._get_current_object(), feed_ids=[feed.id])
    if not done:  # checked a short while ago: a blog is asked at most that often
        left = (as_datetime(feed.next_poll_at) - utcnow()).total_seconds()
        flash(ngettext("This feed was checked a short while ago, and blogs are asked at "
                       "most every %(floor)d minutes: the next check is in %(num)d minute.",
                       "This feed was checked a short while ago, and blogs are asked at "
                       "most every %(floor)d minutes: the next check is in %(num)d minutes.",
                       max(1, ceil(left / 60)),
                       floor=int(feeds.interval(current_app).total_seconds() // 60)))
    else:
        flash(_said(done[0]))
    return redirect(url_for("dashboard.letters", site_id=site.id))


@bp.post("/sites/<site_id>/letters/<int:feed_id>/remove")
@login_required
def remove_feed(site_id: str, feed_id: int):
    """Remove a feed: its posts are no longer looked for."""
    site = owned_site(site_id)
    feed = owned(site, Feed, feed_id)
    logged(site, "settings", f"removed the blog feed ({feed.lang or 'all'}): {feed.url}")
    feeds.remove_feed(db.session(), feed)
    db.session().commit()
    flash(gettext("The feed is removed."))
    return redirect(url_for("dashboard.letters", site_id=site.id))


def _said(outcome: feeds.Outcome) -> str:
    if outcome.status == "error":
        return gettext("The feed is broken: %(error)s", error=outcome.error)
    if outcome.status == "first":
        return ngettext("Checked: %(num)d post is there already. It counts as published "
                        "and is never mailed.",
                        "Checked: %(num)d posts are there already. They count as published "
                        "and are never mailed.", outcome.new)
    if outcome.status == "new":
        return ngettext("Checked: %(num)d new post.", "Checked: %(num)d new posts.",
                        outcome.new)
    return gettext("Checked: no new posts.")


def _page(site: Site, form: FeedForm):
    session = db.session()
    mine = feeds.feeds_of(session, site.id)
    return render_template("dashboard/letters.html", site=site, form=form, feeds=mine,
                           items=feeds.newest_items(session, [f.id for f in mine]),
                           langs={f.id: f.lang for f in mine}, languages=LANGUAGES,
                           minutes=int(feeds.interval(current_app).total_seconds() // 60))


def broken_feeds(site_id: str) -> list[Feed]:
    """The site's feeds whose last check failed, for the site page."""
    return list(db.session().scalars(select(Feed).where(
        Feed.site_id == site_id, Feed.error.is_not(None)).order_by(Feed.lang)))


bp.app_context_processor(lambda: {"broken_feeds": broken_feeds})
