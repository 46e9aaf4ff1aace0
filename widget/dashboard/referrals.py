"""Referrals: the site's milestones (bring N friends, get a gift), the totals, who brought
the most friends, the referrals held for the owner's approval, the "link to us" snippet,
and a contact's referrals for their page."""
from __future__ import annotations

from dataclasses import dataclass

from flask import redirect, render_template, request, url_for
from flask_babel import format_number, gettext, lazy_gettext, ngettext
from flask_login import login_required
from markupsafe import escape
from sqlalchemy import func, literal_column, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased, selectinload

from widget.core import db
from widget.dashboard.blueprint import bp
from widget.dashboard.mail_forms import MilestoneForm
from widget.dashboard.owned import back, owned, owned_site, paged
from widget.giveback import referrals as giveback_referrals
from widget.giveback import share
from widget.models import Milestone, MilestoneReward, Referral, Site, Subscriber
from widget.models.core import SHARING
from widget.sites import snapshot

LEADERS = 20
# Lazy: read in each request's language (the owner's).
REASON_WORDS = {"disposable": lazy_gettext("disposable address"),
                "burst": lazy_gettext("several from one network within an hour"),
                "owner": lazy_gettext("declined by you"),
                "left": lazy_gettext("the friend left during the waiting period")}
REFERRAL_WORDS = {"pending": lazy_gettext("Signed up, not confirmed yet"),
                  "waiting": lazy_gettext("Confirmed, in the waiting period"),
                  "held": lazy_gettext("Held for your approval"),
                  "counted": lazy_gettext("Counted"), "rejected": lazy_gettext("Not counted")}
NOTICES = {"approved": lazy_gettext("Approved: the friend counts, with any milestone gift it "
                                    "reached."),
           "not_approved": lazy_gettext("Nothing was counted: the referral was decided "
                                        "already, or the friend has left meanwhile."),
           "declined": lazy_gettext("Declined: the referral doesn't count."),
           "not_declined": lazy_gettext("Nothing changed: the referral was decided already."),
           "added": lazy_gettext("The milestone was added. People get it when their next "
                                 "friend counts, also those who are past it already."),
           "deleted": lazy_gettext("The milestone was deleted. Gifts already given stay with "
                                   "the people who got them.")}


@bp.app_template_filter("referral_status")
def referral_status(referral: Referral) -> str:
    """'Held for your approval (disposable address)', as the owner reads it."""
    words = str(REFERRAL_WORDS.get(referral.status, referral.status))
    reason = REASON_WORDS.get(referral.reason or "")
    return f"{words} ({reason})" if reason and referral.status in ("held", "rejected") else words


def held_referrals(site: Site) -> int:
    """How many of the site's referrals wait for the owner (the site page's badge)."""
    return db.session().scalar(select(func.count(Referral.id)).where(
        Referral.site_id == site.id, Referral.status == "held"))


def _milestones(site: Site) -> list[tuple[Milestone, int]]:
    """The site's milestones, fewest friends first, with how many people reached each."""
    reached = (select(MilestoneReward.milestone_id, func.count(MilestoneReward.id).label("n"))
               .group_by(MilestoneReward.milestone_id).subquery())
    return db.session().execute(
        select(Milestone, func.coalesce(reached.c.n, 0))
        .outerjoin(reached, reached.c.milestone_id == Milestone.id)
        .where(Milestone.site_id == site.id).options(selectinload(Milestone.gift))
        .order_by(Milestone.friends)).all()


@dataclass
class Totals:
    visits: int
    clicks: int
    counted: int
    waiting: int
    held: int


def _totals(site: Site) -> Totals:
    """Visits to referral links, clicks on share buttons, and friends by state."""
    session = db.session()
    visits, clicks = session.execute(
        select(func.coalesce(func.sum(Subscriber.ref_visits), 0),
               func.coalesce(func.sum(Subscriber.share_clicks), 0))
        # The rows that add anything, as the partial index ix_subscribers_site_sharing
        # holds them: not the whole list.
        .where(Subscriber.site_id == site.id, literal_column(f"({SHARING})"))).one()
    states = dict(session.execute(
        select(Referral.status, func.count(Referral.id)).where(Referral.site_id == site.id)
        .group_by(Referral.status)).all())
    return Totals(int(visits), int(clicks), states.get("counted", 0),
                  states.get("waiting", 0), states.get("held", 0))


def link_to_us(site: Site) -> str:
    """The plain "link to us" HTML for the owner's friends and fans to paste."""
    landing = site.ref_landing or (f"{site.origins[0].origin}/" if site.origins else "")
    return f'<a href="{escape(landing)}">Read {escape(site.name)}</a>'


@bp.get("/sites/<site_id>/referrals")
@login_required
def referrals(site_id: str):
    """Milestones, totals, the leaderboard and the held referrals, newest first."""
    return _page(owned_site(site_id))


def _page(site: Site, form: MilestoneForm | None = None, status: int = 200):
    """The referrals page, with the milestone form given (as submitted) or an empty one."""
    session = db.session()
    if form is None:
        form = MilestoneForm(formdata=None)
    form.gift_id.choices = _gift_choices(site)
    friend = aliased(Subscriber)
    held = paged(
        select(Referral, Subscriber, friend)
        .join(Subscriber, Subscriber.id == Referral.referrer_id)
        .join(friend, friend.id == Referral.referred_id)
        .where(Referral.site_id == site.id, Referral.status == "held"), Referral)
    # "> 0" written out, not a bound 0: only then may the database use the partial index
    # ix_subscribers_site_leaders (the contacts who brought anyone) instead of the list;
    # it is in this order, so ten rows are ten reads.
    leaders = session.scalars(
        select(Subscriber).where(Subscriber.site_id == site.id,
                                 literal_column("subscribers.ref_count > 0"))
        .order_by(Subscriber.ref_count.desc(), Subscriber.id).limit(LEADERS)).all()
    return render_template(
        "dashboard/referrals.html", site=site, form=form, milestones=_milestones(site),
        totals=_totals(site), leaders=leaders, held=held.rows, shown=held, snippet=link_to_us(site),
        notice=str(NOTICES.get(request.args.get("done"), ""))), status


def _gift_choices(site: Site) -> list[tuple[str, str]]:
    return [(g.id, g.title if g.is_active else gettext("%(title)s (switched off)", title=g.title))
            for g in site.gifts]


@bp.post("/sites/<site_id>/referrals/milestones")
@login_required
def add_milestone(site_id: str):
    """Add a milestone: this many counted friends earn this gift (one per number)."""
    site = owned_site(site_id)
    form = MilestoneForm()
    form.gift_id.choices = _gift_choices(site)
    if not form.validate_on_submit():
        return _page(site, form, 422 if form.errors else 200)
    session = db.session()
    taken = session.scalar(select(Milestone.id).where(Milestone.site_id == site.id,
                                                      Milestone.friends == form.friends.data))
    if taken is None:
        session.add(Milestone(site_id=site.id, friends=form.friends.data,
                              gift_id=form.gift_id.data))
        try:
            session.commit()
        except IntegrityError:  # added in another tab at the same moment
            session.rollback()
            taken = True
    if taken is not None:
        friends = form.friends.data
        form.friends.errors.append(ngettext(
            "There is a milestone at %(n)s friend already: delete it first to give another "
            "gift.", "There is a milestone at %(n)s friends already: delete it first to give "
            "another gift.", friends, n=format_number(friends)))
        return _page(site, form, 422)
    snapshot.invalidate(site.id)
    return redirect(url_for("dashboard.referrals", site_id=site.id, done="added"))


@bp.post("/sites/<site_id>/referrals/milestones/<int:milestone_id>/delete")
@login_required
def delete_milestone(site_id: str, milestone_id: int):
    """Delete a milestone; the gifts it gave stay on the ledger."""
    site = owned_site(site_id)
    milestone = owned(site, Milestone, milestone_id)
    db.session().delete(milestone)
    db.session().commit()
    snapshot.invalidate(site.id)
    return redirect(url_for("dashboard.referrals", site_id=site.id, done="deleted"))


@bp.post("/sites/<site_id>/referrals/<int:referral_id>/approve")
@login_required
def approve_referral(site_id: str, referral_id: int):
    """Count a held referral, as if it had never been held (milestones and all)."""
    site = owned_site(site_id)
    referral = owned(site, Referral, referral_id)
    # Only a held one: approving a waiting one would cut its waiting period short.
    counted = referral.status == "held" and giveback_referrals.approve(db.session(),
                                                                        referral.id)
    snapshot.invalidate(site.id)  # a milestone's gift may have been given: fewer left
    return back("dashboard.referrals", "approved" if counted else "not_approved", site_id=site.id)


@bp.post("/sites/<site_id>/referrals/<int:referral_id>/decline")
@login_required
def decline_referral(site_id: str, referral_id: int):
    """Decline a held referral: it never counts."""
    site = owned_site(site_id)
    declined = giveback_referrals.decline(db.session(), owned(site, Referral, referral_id).id)
    return back("dashboard.referrals", "declined" if declined else "not_declined", site_id=site.id)


@dataclass
class ContactReferrals:
    """A contact's side of referrals, for their page."""
    link: str | None
    brought: list  # [(Referral, friend Subscriber)], newest first
    brought_by: tuple | None  # (Referral, referrer Subscriber)
    reached: list  # [(Milestone, MilestoneReward)], fewest friends first


def contact_referrals(person: Subscriber) -> ContactReferrals:
    """Their referral link, the friends they brought, who brought them, milestones reached."""
    session = db.session()
    brought = session.execute(
        select(Referral, Subscriber).join(Subscriber, Subscriber.id == Referral.referred_id)
        .where(Referral.referrer_id == person.id)
        .order_by(Referral.created_at.desc(), Referral.id.desc())).all()
    brought_by = session.execute(
        select(Referral, Subscriber).join(Subscriber, Subscriber.id == Referral.referrer_id)
        .where(Referral.referred_id == person.id)).first()
    reached = session.execute(
        select(Milestone, MilestoneReward)
        .join(MilestoneReward, MilestoneReward.milestone_id == Milestone.id)
        .where(MilestoneReward.subscriber_id == person.id)
        .options(selectinload(Milestone.gift)).order_by(Milestone.friends)).all()
    return ContactReferrals(share.referral_url(person.ref_code) if person.ref_code else None,
                            brought, brought_by, reached)
