"""Sites: the list, a new site, its settings, its embed snippet and its sign-ups, and
deleting one."""
from __future__ import annotations

from flask import current_app, flash, redirect, render_template, url_for
from flask_babel import gettext
from flask_login import current_user, login_required
from sqlalchemy import func, or_, select

from widget.core import db
from widget.dashboard.blueprint import bp
from widget.dashboard.forms import DeleteSiteForm, SiteForm, header_warnings
from widget.dashboard.gifts import gift_rows
from widget.dashboard.owned import count_to_cap, logged, owned_site, paged
from widget.dashboard.referrals import held_referrals
from widget.dashboard.stories import pending_stories
from widget.insight import counters
from widget.models import OutboxMessage, Site, Subscriber
from widget.sites import abtests, audit, members, snapshot
from widget.sites.accounts import AccountError, create_site, delete_site, set_origins


def snippet(site: Site) -> str:
    """The one line an owner pastes into their pages."""
    base = current_app.config["BASE_URL"]
    return f'<script async src="{base}/embed.js" data-site="{site.id}"></script>'




@bp.get("/")
@login_required
def sites():
    """The owner's sites with their sign-up counts."""
    rows = db.session().execute(
        select(Site, func.count(Subscriber.id))
        .outerjoin(Subscriber, Subscriber.site_id == Site.id)
        .where(or_(Site.owner_id == current_user.id,
                   Site.id.in_(members.site_ids_of(db.session(), current_user.id))))
        .group_by(Site.id).order_by(Site.created_at)).all()
    return render_template("dashboard/sites.html", rows=rows)


@bp.route("/sites/new", methods=["GET", "POST"])
@login_required
def new_site():
    """Create a site with its allowed origins; it starts with a live default widget."""
    return _site_form(None)


@bp.route("/sites/<site_id>/settings", methods=["GET", "POST"])
@login_required
def site_settings(site_id: str):
    """Edit a site's name, origins, language, time zone, consent and e-mail settings."""
    return _site_form(owned_site(site_id))


def _site_form(site: Site | None):
    """The site form, new or existing: saved and redirected when valid, else shown."""
    form = SiteForm(obj=site)
    form.sender_email.description = " ".join((
        gettext("Empty: %(address)s.", address=current_app.config["MAIL_FROM"]),
        str(form.sender_email.description)))
    form.story_gift_id.choices = [("", gettext("No gift"))] + [
        (g.id, g.title if g.is_active else gettext("%(gift)s (switched off)", gift=g.title))
        for g in (site.gifts if site else [])]
    form.story_gift_id.data = form.story_gift_id.data or ""  # None: "No gift" is chosen
    if form.validate_on_submit():
        session, origins = db.session(), form.origins.data.splitlines()
        try:
            if site is None:
                site = create_site(session, current_user, form.name.data, origins,
                                   form.default_lang.data)
            else:
                set_origins(site, origins)
                site.name = " ".join(form.name.data.split())
                site.default_lang = form.default_lang.data
            site.require_consent = form.require_consent.data
            site.time_zone = form.time_zone.data
            site.popup_cap = form.popup_cap.data
            site.consent_text = (form.consent_text.data or "").strip() or None
            site.double_opt_in = form.double_opt_in.data
            site.confirm_days = form.confirm_days.data
            site.unconfirmed_days = form.unconfirmed_days.data
            site.sender_name = " ".join((form.sender_name.data or "").split()) or None
            site.sender_email = form.sender_email.data or None  # normalized by the form
            site.reply_to = form.reply_to.data or None
            _save_giveback(site, form)
            logged(site, "settings")
            session.commit()
            snapshot.invalidate(site.id)
            flash(gettext("%(site)s's settings are saved.", site=site.name))
            return redirect(url_for("dashboard.site", site_id=site.id))
        except AccountError as exc:
            session.rollback()
            form.origins.errors = [str(exc)]
    warnings = header_warnings({
        gettext("The site name"): site.name, gettext("The sender name"): site.sender_name,
        gettext("The sender e-mail"): site.sender_email,
        gettext("Replies go to"): site.reply_to}) if site else []
    return render_template("dashboard/site_form.html", form=form, site=site,
                           warnings=warnings), 422 if form.errors else 200


def _save_giveback(site: Site, form: SiteForm) -> None:
    """The referral, social proof and story settings (checked and normalized by the form)."""
    site.referral_wait_days = form.referral_wait_days.data
    site.referral_burst = form.referral_burst.data
    site.hold_disposable = form.hold_disposable.data
    site.disposable_domains = form.disposable_domains.data or None
    site.ref_landing = (form.ref_landing.data or "").strip() or None
    site.count_threshold = form.count_threshold.data  # None: never
    site.story_gift_id = form.story_gift_id.data or None


@bp.post("/sites/<site_id>/reset-signups")
@login_required
def reset_signups(site_id: str):
    """Let browsers that signed up see pop-ups again (e.g. for a new kind of newsletter)."""
    site = owned_site(site_id)
    site.reset_count += 1
    db.session().commit()
    snapshot.invalidate(site.id)
    return redirect(url_for("dashboard.site", site_id=site.id))


@bp.route("/sites/<site_id>/delete", methods=["GET", "POST"])
@login_required
def delete_site_page(site_id: str):
    """Delete a site and everything of it once its name is typed; the page says what
    goes and offers the contacts' export first."""
    site = owned_site(site_id)
    form = DeleteSiteForm()
    if form.validate_on_submit():
        if form.name.data.strip() != site.name:
            form.name.errors.append(gettext("That is not the site's name: type “%(site)s”.",
                                            site=site.name))
        else:
            name = site.name
            delete_site(db.session(), site.id)
            snapshot.invalidate(site_id)
            current_app.logger.warning("owner %s deleted site %s (%s)", current_user.email,
                                       site_id, name)
            flash(gettext("%(site)s and everything of it are erased.", site=name))
            return redirect(url_for("dashboard.sites"))
    contacts = count_to_cap(select(Subscriber.id).where(Subscriber.site_id == site.id))
    return render_template("dashboard/site_delete.html", site=site, form=form,
                           contacts=contacts), 422 if form.errors else 200


@bp.get("/sites/<site_id>")
@login_required
def site(site_id: str):
    """A site: embed snippet, widgets, and the newest sign-ups, fifty a page."""
    site = owned_site(site_id)
    found = paged(select(Subscriber).where(Subscriber.site_id == site.id), Subscriber)
    counts = counters.summary(site.id, [w.id for w in site.widgets], site.time_zone)
    failed = count_to_cap(select(OutboxMessage.id).where(
        OutboxMessage.site_id == site.id, OutboxMessage.status == "failed"))
    testing = abtests.running(db.session(), site.id)
    return render_template("dashboard/site.html", site=site, snippet=snippet(site), counts=counts,
                           testing=testing,
                           signups=[row[0] for row in found.rows], shown=found,
                           failed_mail=failed,
                           gifts=gift_rows(site), held=held_referrals(site),
                           to_moderate=pending_stories(site),
                           audit=audit.recent(db.session(), site.id), actions=audit.ACTIONS)
