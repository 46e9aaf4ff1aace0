"""A gift's page: its facts, coupon codes and ledger of what was given to whom (newest
first, fifty a page), with withdraw, fresh link and the CSV export."""
from __future__ import annotations

from flask import render_template, request
from flask_babel import format_number, gettext, ngettext
from flask_login import login_required
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from widget.core import db, export
from widget.dashboard.blueprint import bp
from widget.dashboard.gift_forms import NOTICES, STATE_WORDS, CouponGenerateForm, CouponImportForm
from widget.dashboard.owned import back, owned, owned_site, paged
from widget.gifts import bonus, grants, ledger
from widget.models import Coupon, Gift, Grant, Milestone, Site, Widget
from widget.sites import snapshot

CSV_BATCH = 1000


@bp.app_template_filter("grant_status")
def grant_status(grant: Grant) -> str:
    """What a grant's link may do now, in the owner's words."""
    return gettext(STATE_WORDS[grants.state(grant)])


def owned_gift(site_id: str, gift_id: str, **also) -> tuple[Site, Gift]:
    site = owned_site(site_id)
    return site, owned(site, Gift, gift_id, **also)


@bp.get("/sites/<site_id>/gifts/<gift_id>")
@login_required
def gift(site_id: str, gift_id: str):
    """A gift's facts, its coupon codes, and its ledger: newest first, fifty a page."""
    return gift_page(*owned_gift(site_id, gift_id))


def _ledger(gift_id: str):
    """A gift's grants with the coupon code each got, and who and which widget."""
    return (select(Grant, Coupon.code).outerjoin(Coupon, Coupon.grant_id == Grant.id)
            .where(Grant.gift_id == gift_id)
            .options(selectinload(Grant.subscriber), selectinload(Grant.widget)))


def gift_page(site: Site, gift: Gift, status: int = 200, **forms):
    """The gift's page, with the coupon forms given (as submitted) or empty ones."""
    found = paged(_ledger(gift.id), Grant)
    codes = None
    if gift.kind == "coupon":
        total, given = db.session().execute(
            select(func.count(Coupon.id), func.count(Coupon.given_at))
            .where(Coupon.gift_id == gift.id)).one()
        codes = {"total": total, "given": given, "left": total - given}
        forms.setdefault("import_form", CouponImportForm(formdata=None))
        forms.setdefault("generate_form", CouponGenerateForm(formdata=None))
    return render_template(
        "dashboard/gift.html", site=site, gift=gift, rows=found.rows, shown=found, codes=codes,
        blockers=_blockers(gift),
        bonus_preview=bonus.markup(gift.bonus_html) if gift.kind == "bonus" else None,
        may_renew=grants.may_renew,
        left=snapshot.left(gift, codes["left"] if codes else 0),
        # str(): a lazy string would pass autoescaping as markup (LazyString.__html__).
        notice=str(NOTICES.get(request.args.get("done"), "")),
        added=request.args.get("added", type=int), known=request.args.get("known", 0, type=int),
        **forms), status


def _blockers(gift: Gift) -> list[str]:
    """Why the gift can't be deleted: it is on somebody's ledger, or a widget offers it."""
    session = db.session()
    given = max(gift.given_count or 0, session.scalar(
        select(func.count(Grant.id)).where(Grant.gift_id == gift.id)))
    found = [ngettext("Given once: switch it off instead, so the ledger stays.",
                      "Given %(n)s times: switch it off instead, so the ledger stays.",
                      given, n=format_number(given))] if given else []
    for name in session.scalars(select(Widget.name).where(Widget.gift_id == gift.id)
                                .order_by(Widget.created_at)):
        found.append(gettext("Used by widget “%(name)s”: choose another gift there first.",
                             name=name))
    for friends in session.scalars(select(Milestone.friends).where(Milestone.gift_id == gift.id)
                                   .order_by(Milestone.friends)):
        found.append(ngettext("The thank-you for %(n)s friend: change that milestone on the "
                              "Referrals page first.",
                              "The thank-you for %(n)s friends: change that milestone on "
                              "the Referrals page first.", friends, n=format_number(friends)))
    if session.scalar(select(Site.story_gift_id).where(Site.id == gift.site_id)) == gift.id:
        found.append(gettext("The thank-you gift for stories: choose another in Site settings "
                             "first."))
    return found


@bp.post("/sites/<site_id>/gifts/<gift_id>/grants/<int:grant_id>/withdraw")
@login_required
def withdraw_grant(site_id: str, gift_id: str, grant_id: int):
    """Withdraw one person's link: it (and any older one) stops working at once."""
    site, gift = owned_gift(site_id, gift_id)
    grant = owned(site, Grant, grant_id, gift_id=gift.id)
    grants.revoke(db.session(), grant)
    return back("dashboard.gift", "withdrawn", site_id=site.id, gift_id=gift.id)


@bp.post("/sites/<site_id>/gifts/<gift_id>/grants/<int:grant_id>/fresh")
@login_required
def renew_grant(site_id: str, gift_id: str, grant_id: int):
    """E-mail a confirmed subscriber a fresh link (full downloads, new expiry)."""
    site, gift = owned_gift(site_id, gift_id)
    grant = owned(site, Grant, grant_id, gift_id=gift.id)
    sent = grants.renew(db.session(), grant, by_owner=True)
    return back("dashboard.gift", "renewed" if sent else "not_renewed", site_id=site.id,
                gift_id=gift.id)


@bp.get("/sites/<site_id>/gifts/<gift_id>/ledger.csv")
@login_required
def ledger_csv(site_id: str, gift_id: str):
    """The whole ledger as a spreadsheet, newest first, read CSV_BATCH rows at a time as
    it is sent (gifts/ledger.py export_batches; core/export.py: UTF-8 with a BOM, every
    cell safe from formulas)."""
    _site, gift = owned_gift(site_id, gift_id)
    batches = ledger.export_batches(db.session(), gift.id,
                                    expiring=gift.kind in grants.EXPIRING_KINDS,
                                    words=STATE_WORDS, size=CSV_BATCH)
    return export.download(export.lines(ledger.EXPORT_COLUMNS, batches),
                           f"ledger-{gift.id}.csv")
