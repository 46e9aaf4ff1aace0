"""Sending a letter: an outbox row per confirmed reader, queued at the site's pace.

A letter being sent is advanced each worker turn: the next readers (subscriber id order,
from the letter's cursor) get an outbox row of kind "letter", as many as the pace allows
since the letter started (at most WIDGET_LETTERS_PER_HOUR, and the site's own number if
lower) and only while the workers keep up (_unclaimed). The cursor moves in the
transaction that queues the rows, and only from where this worker read it, so two
workers never queue a reader twice; the outbox's unique (letter_id, subscriber_id) is the
idempotency key behind that. The outbox worker sends the rows with its leases, retries
and pooled SMTP, and skips a reader who stopped being confirmed in between. A letter is
sent when every reader is queued and none waits.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import Flask
from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from widget.core import db, events, outbox
from widget.core.rawsql import Tx, as_datetime
from widget.models import FeedItem, Letter, LetterPlan, OutboxMessage, Subscriber, utcnow

PER_TURN = 1000  # rows queued in one transaction
CANCELLED = "the owner cancelled the rest of the letter"


def pace(app: Flask, plan: LetterPlan | None) -> int:
    """E-mails an hour for the site: the operator's limit, or the site's if lower."""
    limit = app.config["LETTERS_PER_HOUR"]
    own = plan.per_hour if plan is not None else 0
    return min(limit, own) if own else limit


def readers(letter: Letter):
    """Whom the letter goes to: the site's confirmed subscribers (of its language, when
    its feed has one). Never pending, unsubscribed or bounced ones: they are not
    confirmed; an erased one has no row."""
    query = select(Subscriber).where(Subscriber.site_id == letter.site_id,
                                     Subscriber.status == "confirmed")
    return query.where(Subscriber.lang == letter.lang) if letter.lang else query


def advance_all(app: Flask, now: datetime, settle: bool = True) -> int:
    """Advance every letter being sent; returns how many rows were queued. `settle`:
    also mark sent the letters none of whose e-mails waits, which counts each one's
    outbox rows (100,000 for a large list): the worker asks only when it is idle."""
    with app.app_context():
        with db.engine().connect() as conn:
            ids = list(conn.scalars(select(Letter.id).where(Letter.status == "sending")
                                    .order_by(Letter.id)))
        queued = sum(advance(app, letter_id, now, settle) for letter_id in ids)
    if queued:
        outbox.wake_event(app).set()
    return queued


def advance(app: Flask, letter_id: int, now: datetime, settle: bool = True) -> int:
    """Queue the next readers of one letter as far as its pace allows at `now`, or (with
    `settle`) mark it sent when all are queued and none waits; returns how many were
    queued."""
    session = Session(db.engine())
    try:
        letter = session.get(Letter, letter_id)
        if letter is None or letter.status != "sending":
            return 0
        if letter.all_queued:
            if settle:
                _finish_if_done(session, letter, now)
            return 0
        per_hour = pace(app, session.get(LetterPlan, letter.site_id))
        hours = max(0.0, (now - as_datetime(letter.started_at or now)).total_seconds() / 3600)
        # A minute's worth at once, then the rest as the hour goes.
        allowed = int(per_hour * hours) + max(1, per_hour // 60)
        room = min(PER_TURN, allowed - letter.queued)
        if room <= 0 or _unclaimed(session, letter.id) > PER_TURN // 2:
            return 0
        people = session.execute(readers(letter).with_only_columns(
            Subscriber.id, Subscriber.email_normalized, Subscriber.lang)
            .where(Subscriber.id > letter.cursor).order_by(Subscriber.id).limit(room)).all()
        last = people[-1].id if people else letter.cursor
        moved = session.execute(update(Letter).where(
            Letter.id == letter.id, Letter.cursor == letter.cursor,
            Letter.status == "sending").values(
            cursor=last, queued=Letter.queued + len(people),
            all_queued=len(people) < room)).rowcount
        if not moved:  # another worker moved it first, or the owner cancelled
            session.rollback()
            return 0
        mail_from = app.config["MAIL_FROM"]
        if people:
            session.execute(insert(OutboxMessage), [
                {**outbox.new_row("letter", outbox.Recipient(letter.site_id, p.id,
                                                            p.email_normalized, p.lang),
                                  mail_from, due=now), "letter_id": letter.id}
                for p in people])
        session.commit()
        return len(people)
    except IntegrityError:  # a reader queued twice: the key held; this turn did nothing
        session.rollback()
        return 0
    finally:
        session.close()


def _unclaimed(session: Session, letter_id: int) -> int:
    """How many of the letter's last PER_TURN queued e-mails no worker has claimed yet.
    A letter queues more only when the workers are close behind: the outbox stays short
    (a sign-up's confirmation is never behind 100,000 letters), and so does each claim's
    look at it. Read backwards along the (letter_id, subscriber_id) key: PER_TURN rows."""
    last = (select(OutboxMessage.status).where(OutboxMessage.letter_id == letter_id)
            .order_by(OutboxMessage.subscriber_id.desc()).limit(PER_TURN).subquery())
    return session.scalar(select(func.count()).select_from(last)
                          .where(last.c.status == "queued")) or 0


def _finish_if_done(session: Session, letter: Letter, now: datetime) -> None:
    waiting = session.scalar(select(func.count()).select_from(OutboxMessage).where(
        OutboxMessage.letter_id == letter.id,
        OutboxMessage.kind == "letter",
        OutboxMessage.status.in_(("queued", "sending"))))
    if waiting:
        return
    counts = dict(_counts(session, letter.id))  # final: none waits
    done = session.execute(update(Letter).where(
        Letter.id == letter.id, Letter.status == "sending").values(
        status="sent", finished_at=now, sent_count=counts.get("sent", 0),
        skipped_count=counts.get("skipped", 0), failed_count=counts.get("failed", 0))).rowcount
    if done:
        events.emit(Tx.on_session(session), letter.site_id, "letter.sent", lambda: {
            "letter": letter.id, "language": letter.lang or None,
            "posts": [{"title": i.title, "url": i.link} for i in posts(session, letter.id)],
            "sent": counts.get("sent", 0), "skipped": counts.get("skipped", 0),
            "failed": counts.get("failed", 0)}, now=now)
    session.commit()


def posts(session: Session, letter_id: int) -> list[FeedItem]:
    """The posts a letter carries, in the order they were published."""
    return list(session.scalars(select(FeedItem).where(FeedItem.letter_id == letter_id)
                                .order_by(FeedItem.id)))


def _counts(session: Session, letter_id: int):
    return session.execute(select(OutboxMessage.status, func.count()).where(
        OutboxMessage.letter_id == letter_id, OutboxMessage.kind == "letter")
        .group_by(OutboxMessage.status)).all()


@dataclass(frozen=True)
class Progress:
    """How far a letter got: readers queued so far and, of them, sent, waiting, skipped
    (no longer confirmed, or cancelled) and failed; `readers`: confirmed readers now
    (queued ones plus those not reached yet)."""
    queued: int
    sent: int
    waiting: int
    skipped: int
    failed: int
    readers: int


def progress(session: Session, letter: Letter) -> Progress:
    """The letter's progress: a sent letter's as kept, else counted from its outbox rows."""
    if letter.status == "sent" and letter.sent_count is not None:
        return Progress(letter.queued, letter.sent_count, 0, letter.skipped_count or 0,
                        letter.failed_count or 0, letter.queued)
    counts = dict(_counts(session, letter.id))
    ahead = 0 if letter.all_queued or letter.status in ("sent", "cancelled") else (
        session.scalar(readers(letter).with_only_columns(func.count())
                       .where(Subscriber.id > letter.cursor).order_by(None)) or 0)
    return Progress(letter.queued, counts.get("sent", 0),
                    counts.get("queued", 0) + counts.get("sending", 0),
                    counts.get("skipped", 0), counts.get("failed", 0), letter.queued + ahead)


def cancel(session: Session, letter: Letter, now: datetime | None = None) -> bool:
    """The owner's "cancel the rest": no more readers are queued and those queued but not
    yet claimed are skipped (one already being sent goes). The caller commits; False when
    the letter was sent or cancelled already."""
    now = now or utcnow()
    done = session.execute(update(Letter).where(
        Letter.id == letter.id, Letter.status.in_(("collecting", "held", "sending")))
        .values(status="cancelled", finished_at=now)).rowcount
    if done:
        session.execute(update(OutboxMessage).where(
            OutboxMessage.letter_id == letter.id, OutboxMessage.kind == "letter",
            OutboxMessage.status == "queued").values(
            status="skipped", last_error=CANCELLED).execution_options(
            synchronize_session=False))
    session.refresh(letter)
    return bool(done)
