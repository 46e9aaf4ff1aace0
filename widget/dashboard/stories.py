"""Stories: what readers told, by status (those waiting first), with approve, reject and
an e-mailed reply. Only approved stories whose tellers allowed it are ever shown."""
from __future__ import annotations

from flask import render_template, request
from flask_babel import lazy_gettext
from flask_login import login_required
from sqlalchemy import func, select

from widget.core import db
from widget.dashboard.blueprint import bp
from widget.dashboard.mail_forms import ReplyForm
from widget.dashboard.owned import back, owned, owned_site, paged
from widget.giveback import stories as giveback_stories
from widget.models import Site, Story

# Lazy: read in each request's language (the owner's).
STATUSES = {"pending": lazy_gettext("To moderate"), "approved": lazy_gettext("Approved"),
            "rejected": lazy_gettext("Rejected")}
NOTICES = {"approved": lazy_gettext("Approved: it shows in your “Stories from readers” "
                                    "widgets within a minute."),
           "approved_private": lazy_gettext("Approved. They did not allow publishing, so it "
                                            "stays private: it is never shown."),
           "rejected": lazy_gettext("Rejected: it is never shown."),
           "replied": lazy_gettext("Your reply is on its way by e-mail."),
           "not_replied": lazy_gettext("No reply was sent: they gave no e-mail address."),
           "unchanged": lazy_gettext("Nothing changed: the story was decided like that "
                                     "already.")}


def pending_stories(site: Site) -> int:
    """How many of the site's stories wait for moderation (the site page's badge)."""
    return db.session().scalar(select(func.count(Story.id)).where(
        Story.site_id == site.id, Story.status == "pending"))


def _status() -> str:
    """The tab asked for (?status= on the page, a hidden field on its forms)."""
    status = request.values.get("status", "pending")
    return status if status in STATUSES else "pending"


@bp.get("/sites/<site_id>/stories")
@login_required
def stories(site_id: str):
    """One tab of the site's stories, newest first, fifty a page."""
    return _page(owned_site(site_id), _status())


def _page(site: Site, status: str, reply_to: int | None = None,
          form: ReplyForm | None = None, code: int = 200):
    """The stories page; `form` is a reply to story `reply_to` as submitted (with errors)."""
    session = db.session()
    found = paged(select(Story).where(Story.site_id == site.id, Story.status == status), Story)
    counts = dict(session.execute(select(Story.status, func.count(Story.id))
                                  .where(Story.site_id == site.id).group_by(Story.status)).all())
    return render_template(
        "dashboard/stories.html", site=site, status=status, statuses=STATUSES, counts=counts,
        stories=[row[0] for row in found.rows], shown=found, reply_to=reply_to, reply_form=form,
        notice=str(NOTICES.get(request.args.get("done"), ""))), code


@bp.post("/sites/<site_id>/stories/<int:story_id>/approve")
@login_required
def approve_story(site_id: str, story_id: int):
    """Approve a story: shown if (and only if) its teller allowed it."""
    site = owned_site(site_id)
    story = owned(site, Story, story_id)
    if not giveback_stories.decide(db.session(), story, "approved"):
        return back("dashboard.stories", "unchanged", site_id=site.id, status=_status())
    return back("dashboard.stories", "approved" if story.consent_publish else "approved_private", site_id=site.id, status=_status())


@bp.post("/sites/<site_id>/stories/<int:story_id>/reject")
@login_required
def reject_story(site_id: str, story_id: int):
    """Reject a story: never shown (an approved one disappears from the widgets)."""
    site = owned_site(site_id)
    story = owned(site, Story, story_id)
    changed = giveback_stories.decide(db.session(), story, "rejected")
    return back("dashboard.stories", "rejected" if changed else "unchanged", site_id=site.id, status=_status())


@bp.post("/sites/<site_id>/stories/<int:story_id>/reply")
@login_required
def reply_story(site_id: str, story_id: int):
    """E-mail the owner's reply to the storyteller, when they gave an address."""
    site = owned_site(site_id)
    story = owned(site, Story, story_id)
    form = ReplyForm()
    if not form.validate_on_submit():
        return _page(site, _status(), story.id, form, 422 if form.errors else 200)
    sent = giveback_stories.reply(db.session(), story, form.text.data)
    return back("dashboard.stories", "replied" if sent else "not_replied", site_id=site.id, status=_status())
