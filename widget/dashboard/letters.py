"""New posts by e-mail: the site's blog feeds (one for every language, or one a
language), "Check now", the last check and a broken feed's error, the newest posts
found; when letters go (the site's plan); the letters with their state, progress, Send
now and Cancel the rest; a letter's preview in a reader's language and a test to oneself;
and, for the site page, the feeds that are broken."""
from __future__ import annotations

from email import message_from_string
from email.policy import default as default_policy
from math import ceil

from flask import (abort, current_app, flash, jsonify, redirect, render_template, request,
                   url_for)
from flask_babel import gettext, lazy_gettext, ngettext
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, ValidationError

from widget.core import db, outbox, said
from widget.core.said import stored
from widget.core.i18n import LANGS
from widget.core.rawsql import as_datetime
from widget.dashboard.blueprint import bp
from widget.dashboard.language import LANGUAGES, count
from widget.dashboard.letter_forms import WEEKDAYS, PlanForm
from widget.dashboard.mail import sandboxed
from widget.dashboard.owned import back, logged, owned, owned_site, paged
from widget.letters import feeds, schedule, sending
from widget.mail import letter as letter_mail
from widget.models import Feed, FeedItem, Letter, LetterPlan, OutboxMessage, Site, utcnow

TESTS_AN_HOUR = 20  # tests a person may send themselves: enough to check, not a mailer
PREVIEW_ID = "<preview@example.com>"

# How the audit log says what changed, in English (shown translated, core/said.py)
EVERY = stored("every language")
FEED_SET = stored("the blog feed (%(lang)s): %(url)s")
FEED_REMOVED = stored("removed the blog feed (%(lang)s): %(url)s")
LETTER = stored("letter %(n)s")
LETTER_TITLED = stored("letter %(n)s: %(title)s")
EACH = stored("letters: one for each new post, %(pace)s")
DIGEST = stored("letters: a digest on %(days)s at %(at)s, %(pace)s")
HELD = stored("%(plan)s, each held for review")
PER_HOUR = stored("%(n)s e-mails an hour")
AS_FAST = stored("as fast as the mail service allows")
for day in schedule.DAY_NAMES:  # the days of DIGEST (letter_forms.py marks them)
    stored(day)


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
        return _page(site, form=form), 422 if form.errors else 200
    session = db.session()
    try:
        feed = feeds.set_feed(session, site.id, form.url.data, form.lang.data)
    except feeds.Invalid as exc:  # feeds for every language and per language mixed
        form.lang.errors = [str(exc)]
        return _page(site, form=form), 422
    logged(site, "settings", FEED_SET % {"lang": feed.lang or EVERY, "url": feed.url})
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
    logged(site, "settings", FEED_REMOVED % {"lang": feed.lang or EVERY, "url": feed.url})
    feeds.remove_feed(db.session(), feed)
    db.session().commit()
    flash(gettext("The feed is removed."))
    return redirect(url_for("dashboard.letters", site_id=site.id))


def _said(outcome: feeds.Outcome) -> str:
    if outcome.status == "error":
        return gettext("The feed is broken: %(error)s", error=said.shown(outcome.error))
    if outcome.status == "first":
        return ngettext("Checked: %(num)d post is there already. It counts as published "
                        "and is never mailed.",
                        "Checked: %(num)d posts are there already. They count as published "
                        "and are never mailed.", outcome.new)
    if outcome.status == "new":
        return ngettext("Checked: %(num)d new post.", "Checked: %(num)d new posts.",
                        outcome.new)
    return gettext("Checked: no new posts.")


def _plan(site: Site) -> LetterPlan:
    """The site's plan, or the defaults unsaved (a GET writes nothing)."""
    return db.session().get(LetterPlan, site.id) or LetterPlan(
        site_id=site.id, mode="each", days="4", at="09:00", review=False, per_hour=0)


def _plan_form(plan: LetterPlan) -> PlanForm:
    return PlanForm(formdata=None, data={"mode": plan.mode, "days": list(plan.days),
                                         "at": plan.at, "review": plan.review,
                                         "per_hour": plan.per_hour})


def _page(site: Site, form: FeedForm | None = None, plan_form: PlanForm | None = None):
    session = db.session()
    mine = feeds.feeds_of(session, site.id)
    plan = _plan(site)
    shown = paged(select(Letter).where(Letter.site_id == site.id), Letter)
    letters = [row[0] for row in shown.rows]
    posts: dict[int, list[FeedItem]] = {}
    for item in session.scalars(select(FeedItem).where(
            FeedItem.letter_id.in_([x.id for x in letters])).order_by(FeedItem.id)):
        posts.setdefault(item.letter_id, []).append(item)
    return render_template(
        "dashboard/letters.html", site=site, form=form or FeedForm(formdata=None),
        plan_form=plan_form or _plan_form(plan), plan=plan, feeds=mine,
        items=feeds.newest_items(session, [f.id for f in mine]),
        langs={f.id: f.lang for f in mine}, languages=LANGUAGES, weekdays=WEEKDAYS,
        minutes=int(feeds.interval(current_app).total_seconds() // 60),
        limit=current_app.config["LETTERS_PER_HOUR"],
        next_digest=(schedule.next_time(plan, site.time_zone, utcnow())
                     if plan.mode == "digest" else None),
        letters=letters, shown=shown, posts=posts,
        progress={x.id: sending.progress(session, x) for x in letters})


@bp.post("/sites/<site_id>/letters/plan")
@login_required
def letter_plan(site_id: str):
    """Change when the site's letters go; a digest gathering posts moves to the new time."""
    site = owned_site(site_id)
    form = PlanForm()
    if not form.validate_on_submit():
        return _page(site, plan_form=form), 422
    session = db.session()
    digest = form.mode.data == "digest"
    try:
        plan = schedule.set_plan(session, site.id, form.mode.data,
                                 days=form.days.data if form.days.data else None,
                                 at=form.at.data, review=form.review.data,
                                 per_hour=form.per_hour.data)
    except schedule.Invalid as exc:  # the form checks the same: a safety net, in English
        session.rollback()
        form.mode.errors = [str(exc)]
        return _page(site, plan_form=form), 422
    logged(site, "settings", _plan_words(plan, digest))
    session.commit()
    flash(gettext("Saved."))
    return redirect(url_for("dashboard.letters", site_id=site.id))


@bp.post("/sites/<site_id>/letters/send/<int:letter_id>")
@login_required
def send_letter(site_id: str, letter_id: int):
    """Start sending a held letter, or a digest before its time: the owner's Send now."""
    site = owned_site(site_id)
    letter = owned(site, Letter, letter_id)
    session = db.session()
    if schedule.start(session, letter, utcnow()):
        logged(site, "letter_send", _named(session, letter))
        session.commit()
        outbox.wake_event(current_app).set()  # the worker's next turn queues the readers
        flash(gettext("The letter is going out now, at the pace you set."))
    else:
        flash(gettext("This letter is no longer waiting: it was sent or cancelled."))
    return back("dashboard.letters", None, site_id=site.id)


@bp.post("/sites/<site_id>/letters/cancel/<int:letter_id>")
@login_required
def cancel_letter(site_id: str, letter_id: int):
    """Cancel the rest of a letter: readers not yet reached never get it."""
    site = owned_site(site_id)
    letter = owned(site, Letter, letter_id)
    session = db.session()
    if sending.cancel(session, letter):
        logged(site, "letter_cancel", _named(session, letter))
        session.commit()
        done = sending.progress(session, letter)
        gone = done.sent + done.waiting  # one being sent as the owner clicked still goes
        flash(ngettext("Cancelled. %(sent)s e-mail of this letter went out; no one else "
                       "gets it.",
                       "Cancelled. %(sent)s e-mails of this letter went out; no one else "
                       "gets it.", gone, sent=count(gone)))
    else:
        flash(gettext("This letter was already sent or cancelled."))
    return back("dashboard.letters", None, site_id=site.id)


@bp.get("/sites/<site_id>/letters/<int:letter_id>/progress")
@login_required
def letter_progress(site_id: str, letter_id: int):
    """Where a letter is, for its progress bar (static/js/import.js): its state, the
    readers it goes to (rows) and those it reached (done)."""
    letter = owned(owned_site(site_id), Letter, letter_id)
    done = sending.progress(db.session(), letter)
    return jsonify(status=letter.status, rows=done.readers, done=done.sent)


def _named(session, letter: Letter) -> str:
    """How the audit log names a letter: its number and first post."""
    first = next(iter(sending.posts(session, letter.id)), None)
    if first is None:
        return LETTER % {"n": letter.id}
    return LETTER_TITLED % {"n": letter.id, "title": first.title}


def _plan_words(plan, digest: bool) -> str:
    """How the audit log says a plan, in English (shown translated, core/said.py)."""
    pace = PER_HOUR % {"n": plan.per_hour} if plan.per_hour else AS_FAST
    words = (DIGEST % {"days": said.listed([schedule.DAY_NAMES[int(d)] for d in plan.days],
                                               said.COMMA),
                       "at": plan.at, "pace": pace} if digest else EACH % {"pace": pace})
    return HELD % {"plan": words} if plan.review else words


def _preview_of(site: Site, letter_id: int | None) -> tuple[Letter | None, list[str], str]:
    """The letter previewed (None: the next one), the languages it can be read in and
    the one asked for (?lang=; an unknown one is 404, not a guess)."""
    letter = owned(site, Letter, letter_id) if letter_id is not None else None
    langs = [letter.lang] if letter is not None and letter.lang else list(LANGS)
    lang = request.args.get("lang") or (
        current_user.lang if current_user.lang in langs else
        site.default_lang if site.default_lang in langs else langs[0])
    if lang not in langs:
        abort(404)
    return letter, langs, lang


def _composed(site: Site, letter: Letter | None, lang: str):
    email = letter_mail.for_owner(site, letter.id if letter else None, lang,
                                  to=current_user.email, message_id=PREVIEW_ID, test=False)
    return message_from_string(email.raw, policy=default_policy)


@bp.get("/sites/<site_id>/letters/preview", defaults={"letter_id": None})
@bp.get("/sites/<site_id>/letters/preview/<int:letter_id>")
@login_required
def letter_preview(site_id: str, letter_id: int | None):
    """A letter (or the next one, from the newest posts found) as a reader of a language
    gets it: subject, plain text, and the HTML in a sandboxed frame."""
    site = owned_site(site_id)
    letter, langs, lang = _preview_of(site, letter_id)
    parsed = _composed(site, letter, lang)
    return render_template(
        "dashboard/letter_preview.html", site=site, letter=letter, langs=langs, lang=lang,
        languages=LANGUAGES, sample_from=str(parsed["From"]),
        sample_subject=str(parsed["Subject"]),
        sample_text=parsed.get_body(("plain",)).get_content().replace("\r\n", "\n"),
        has_posts=bool(letter_mail.next_posts(site.id, letter.id if letter else None)))


@bp.get("/sites/<site_id>/letters/preview.html", defaults={"letter_id": None})
@bp.get("/sites/<site_id>/letters/preview/<int:letter_id>.html")
@login_required
def letter_preview_html(site_id: str, letter_id: int | None):
    """The preview's HTML version, for its sandboxed iframe."""
    site = owned_site(site_id)
    letter, _langs, lang = _preview_of(site, letter_id)
    return sandboxed(_composed(site, letter, lang).get_body(("html",)).get_content(),
                     framed=True)


@bp.post("/sites/<site_id>/letters/test", defaults={"letter_id": None})
@bp.post("/sites/<site_id>/letters/test/<int:letter_id>")
@login_required
def letter_test(site_id: str, letter_id: int | None):
    """Queue a test of a letter (or of the next one) to the person asking, marked
    "[Test]", in the language they chose; nobody on the list gets anything."""
    site = owned_site(site_id)
    letter = owned(site, Letter, letter_id) if letter_id is not None else None
    lang = request.form.get("lang", "")
    if letter is not None and letter.lang:
        lang = letter.lang
    elif lang not in LANGS:
        lang = site.default_lang
    session = db.session()
    address = current_user.email.lower()
    if outbox.sent_since(session, address, "letter_test", hours=1) >= TESTS_AN_HOUR:
        flash(gettext("You sent yourself %(num)d tests in the last hour: wait a while "
                      "before the next.", num=TESTS_AN_HOUR))
    else:
        session.add(OutboxMessage(**outbox.new_row(
            "letter_test", outbox.Recipient(site.id, None, address, lang),
            current_app.config["MAIL_FROM"]),
            owner_id=current_user.id, letter_id=letter.id if letter else None))
        session.commit()
        outbox.wake_event(current_app).set()
        flash(gettext("A test is on its way to %(address)s.", address=current_user.email))
    if request.form.get("from") == "preview":
        return redirect(url_for("dashboard.letter_preview", site_id=site.id,
                                letter_id=letter_id, lang=lang))
    return back("dashboard.letters", None, site_id=site.id)


def broken_feeds(site_id: str) -> list[Feed]:
    """The site's feeds whose last check failed, for the site page."""
    return list(db.session().scalars(select(Feed).where(
        Feed.site_id == site_id, Feed.error.is_not(None)).order_by(Feed.lang)))


bp.app_context_processor(lambda: {"broken_feeds": broken_feeds})
