"""When a site's letters go: its plan, the new posts taken into letters, due letters.

"each": a letter per new post, at once. "digest": the new posts of a feed gather in one
letter that goes at the next of the plan's weekdays and time in the site's time zone
(Friday 09:00 in Europe/Oslo is 07:00 UTC in summer and 08:00 in winter). With `review`,
a letter waits, held, for the owner's Send. `tick` does all of it for a moment `now`
(the worker calls it every turn; tests give it the clock), then hands the letters being
sent to letters/sending.py.
"""
from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import Flask
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from widget.core import db
from widget.letters import sending
from widget.models import LETTER_MODES, Feed, FeedItem, Letter, LetterPlan, Site, utcnow

DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MAX_PER_HOUR = 1_000_000


class Invalid(ValueError):
    """A plan that cannot be kept; the message is for the owner."""


def plan_of(session: Session, site_id: str) -> LetterPlan:
    """The site's plan, the defaults (each new post at once) when it has none yet; a new
    one is added to the session (the caller commits, or not)."""
    plan = session.get(LetterPlan, site_id)
    if plan is None:
        plan = LetterPlan(site_id=site_id, mode="each", days="4", at="09:00", review=False,
                          per_hour=0)
        session.add(plan)
    return plan


def clean_days(value) -> str:
    """Weekday digits (Monday 0 … Sunday 6), sorted, once each; from a string or a list."""
    digits = value if isinstance(value, str) else "".join(str(v) for v in value or ())
    if not digits or not re.fullmatch(r"[0-6]+", digits):
        raise Invalid("Choose at least one weekday for the digest.")
    return "".join(sorted(set(digits)))


def clean_at(value) -> str:
    """A time of day as HH:MM (24 hours)."""
    match = re.fullmatch(r"([01]?\d|2[0-3]):([0-5]\d)", (value or "").strip()
                         if isinstance(value, str) else "")
    if not match:
        raise Invalid("Give the time as HH:MM, e.g. 09:00.")
    return f"{int(match[1]):02d}:{match[2]}"


def set_plan(session: Session, site_id: str, mode: str, days=None, at=None,
             review: bool | None = None, per_hour: int | None = None,
             now: datetime | None = None) -> LetterPlan:
    """Change the site's plan (the caller commits); a digest gathering posts moves to
    the plan's next time. Raises Invalid."""
    if mode not in LETTER_MODES:
        raise Invalid(f"The mode must be {' or '.join(LETTER_MODES)}.")
    plan = plan_of(session, site_id)
    plan.mode = mode
    if days is not None:
        plan.days = clean_days(days)
    if at is not None:
        plan.at = clean_at(at)
    if review is not None:
        plan.review = bool(review)
    if per_hour is not None:
        if not isinstance(per_hour, int) or not 0 <= per_hour <= MAX_PER_HOUR:
            raise Invalid(f"E-mails an hour: a whole number from 0 (the service's limit) "
                          f"to {MAX_PER_HOUR:,}.")
        plan.per_hour = per_hour
    site = session.get(Site, site_id)
    due = next_time(plan, site.time_zone, now or utcnow())
    for letter in session.scalars(select(Letter).where(Letter.site_id == site_id,
                                                       Letter.status == "collecting")):
        letter.due_at = due
    return plan


def _zone(name: str | None):
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return timezone.utc


def next_time(plan: LetterPlan, zone_name: str | None, after: datetime) -> datetime:
    """The first of the plan's weekdays and time strictly after `after`, in UTC. The
    time is read on the wall clock of the site's zone on that day, so a digest at 09:00
    stays at 09:00 across a daylight-saving change; a time the change skips (02:30 on
    the spring night) goes at the same offset as before the change."""
    zone = _zone(zone_name)
    local = after.astimezone(zone)
    hours, minutes = map(int, plan.at.split(":"))
    days = {int(d) for d in plan.days} or {4}
    for ahead in range(8):
        day: date = local.date() + timedelta(days=ahead)
        if day.weekday() not in days:
            continue
        when = datetime.combine(day, time(hours, minutes), tzinfo=zone).astimezone(
            timezone.utc)
        if when > after:
            return when
    raise AssertionError("a week always holds one of the plan's days")


def take_new(session: Session, now: datetime) -> list[Letter]:
    """Put the posts no letter took yet into letters, by the plan of their site (the
    caller commits): a letter of its own each, or the feed's digest that is gathering
    (one made, due at the plan's next time, if none is). Returns the letters made."""
    made, digests = [], {}
    items = session.scalars(select(FeedItem).where(FeedItem.queued_at.is_(None))
                            .order_by(FeedItem.id).limit(500)).all()
    feeds = {f.id: f for f in session.scalars(select(Feed).where(
        Feed.id.in_({i.feed_id for i in items})))} if items else {}
    for item in items:
        feed = feeds[item.feed_id]
        plan = plan_of(session, feed.site_id)
        if plan.mode == "each":
            letter = Letter(site_id=feed.site_id, feed_id=feed.id, lang=feed.lang, mode="each",
                            status="held" if plan.review else "sending", due_at=now,
                            started_at=None if plan.review else now, cursor=0, queued=0,
                            all_queued=False, created_at=now)
            session.add(letter)
            made.append(letter)
        else:
            letter = digests.get(feed.id) or session.scalar(select(Letter).where(
                Letter.feed_id == feed.id, Letter.status == "collecting"))
            if letter is None:
                site = session.get(Site, feed.site_id)
                letter = Letter(site_id=feed.site_id, feed_id=feed.id, lang=feed.lang,
                                mode="digest", status="collecting",
                                due_at=next_time(plan, site.time_zone, now), cursor=0,
                                queued=0, all_queued=False, created_at=now)
                session.add(letter)
                made.append(letter)
            digests[feed.id] = letter
        session.flush()  # the letter's id, for the post
        item.letter_id, item.queued_at = letter.id, now
    return made


def start(session: Session, letter: Letter, now: datetime) -> bool:
    """Start sending a held (or gathering) letter: the owner's Send. False when it is
    no longer waiting (sent, cancelled, or started by another click)."""
    started = session.execute(update(Letter).where(
        Letter.id == letter.id, Letter.status.in_(("held", "collecting"))).values(
        status="sending", started_at=now, due_at=now)).rowcount
    session.refresh(letter)
    return bool(started)


def tick(app: Flask, now: datetime | None = None, settle: bool = True) -> dict:
    """One turn at the moment `now`: new posts into letters, due digests held or started,
    the letters being sent queued further at their pace and (with `settle`: the worker
    asks when idle) those done marked sent. Returns counts of what it did (for the
    command line and tests)."""
    now = now or utcnow()
    with app.app_context():
        session = db.session()
        try:
            made = take_new(session, now)
            due = session.scalars(select(Letter).where(
                Letter.status == "collecting", Letter.due_at <= now)).all()
            for letter in due:
                if not _has_posts(session, letter):  # its feed was removed
                    letter.status, letter.finished_at = "cancelled", now
                    continue
                held = plan_of(session, letter.site_id).review
                letter.status = "held" if held else "sending"
                letter.started_at = None if held else now
            session.commit()
        finally:
            session.close()
        queued = sending.advance_all(app, now, settle)
    return {"letters": len(made), "due": len(due), "queued": queued}


def _has_posts(session: Session, letter: Letter) -> bool:
    return session.scalar(select(FeedItem.id).where(FeedItem.letter_id == letter.id)
                          .limit(1)) is not None
