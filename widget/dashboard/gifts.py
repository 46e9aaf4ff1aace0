"""Gifts: the site's gift table, a gift's form (with its file upload), its coupon codes,
and its ledger of what was given to whom, with withdraw, fresh link and CSV export."""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from flask import (Response, current_app, redirect, render_template, request,
                   stream_with_context, url_for)
from flask_login import login_required
from sqlalchemy import delete, exists, func, select
from sqlalchemy.orm import selectinload
from werkzeug.datastructures import FileStorage
from werkzeug.exceptions import RequestEntityTooLarge

from widget.core import db
from widget.core.rawsql import as_datetime
from widget.dashboard.blueprint import bp, csrf
from widget.dashboard.gift_forms import (KIND_HELP, KIND_WORDS, NOTICES, STATE_WORDS,
                                         CouponGenerateForm, CouponImportForm, GiftForm)
from widget.dashboard.owned import back, owned, owned_site, paged
from widget.gifts import bonus, coupons, files, grants
from widget.models import Coupon, Gift, GiftFile, Grant, Milestone, Site, Widget
from widget.sites import snapshot

FORM_ROOM = 256 << 10  # the gift form's other fields, next to the file
IMPORT_BYTES = 4 << 20  # a paste or CSV of coupons.MAX_CODES long codes, and then some
CSV_COLUMNS = ("email", "name", "given_at", "widget", "status", "downloads",
               "last_download_at", "code", "rating", "comment")
CSV_BATCH = 500
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass
class GiftRow:
    """One line of the site page's gift table."""
    gift: Gift
    left: int | None
    downloads: int
    rating: float | None
    ratings: int


def gift_rows(site: Site) -> list[GiftRow]:
    """The site's gifts with how many are left, their downloads and average rating."""
    session = db.session()
    totals = {gift_id: (downloads, rating, ratings) for gift_id, downloads, rating, ratings in
              session.execute(select(Grant.gift_id, func.sum(Grant.downloads),
                                     func.avg(Grant.rating), func.count(Grant.rating))
                              .where(Grant.site_id == site.id).group_by(Grant.gift_id))}
    codes = snapshot.free_codes(session, [g.id for g in site.gifts if g.kind == "coupon"])
    rows = []
    for gift in site.gifts:
        downloads, rating, ratings = totals.get(gift.id, (0, None, 0))
        rows.append(GiftRow(gift, snapshot.left(gift, codes.get(gift.id, 0)),
                            int(downloads or 0), float(rating) if ratings else None, ratings))
    return rows


@bp.app_template_filter("gift_kind")
def gift_kind(kind: str) -> str:
    return KIND_WORDS.get(kind, kind)


@bp.app_template_filter("grant_status")
def grant_status(grant: Grant) -> str:
    """What a grant's link may do now, in the owner's words."""
    return STATE_WORDS[grants.state(grant)]


@bp.app_template_filter("filesize")
def filesize(size: int) -> str:
    return files.size_words(size)


def _owned_gift(site_id: str, gift_id: str, **also) -> tuple[Site, Gift]:
    site = owned_site(site_id)
    return site, owned(site, Gift, gift_id, **also)


def _read_form(limit: int, text_limit: int) -> bool:
    """Read a POSTed body of at most `limit` bytes (`text_limit` outside files, and without
    files), then check its CSRF token (400 when it fails). False: the body is too large.
    These views are exempt from the global check only because it reads the body first."""
    files_too = request.mimetype == "multipart/form-data"
    request.max_content_length = limit if files_too else text_limit
    request.max_form_memory_size = text_limit
    try:
        csrf.protect()
    except RequestEntityTooLarge:
        return False
    return True


@bp.route("/sites/<site_id>/gifts/new", methods=["GET", "POST"])
@csrf.exempt  # checked in _read_form, under the upload's size limit
@login_required
def new_gift(site_id: str):
    """Add a gift: first its kind, then its form; coupon codes are added on its page."""
    site = owned_site(site_id)
    return _gift_form(site, Gift(site_id=site.id, kind=None, show_left=False, link_days=7,
                                 download_limit=5, is_active=True, given_count=0))


@bp.route("/sites/<site_id>/gifts/<gift_id>/edit", methods=["GET", "POST"])
@csrf.exempt  # checked in _read_form, under the upload's size limit
@login_required
def edit_gift(site_id: str, gift_id: str):
    """Change a gift (not its kind); a new file replaces the old one."""
    return _gift_form(*_owned_gift(site_id, gift_id))


def _gift_form(site: Site, gift: Gift):
    """The gift form, new or existing: saved and sent to the gift's page when valid."""
    max_bytes = current_app.config["GIFT_MAX_BYTES"]
    if not _read_form(max_bytes + FORM_ROOM, FORM_ROOM):
        # The body was not read, so the form can only come back as it was stored.
        form = GiftForm(formdata=None, obj=gift)
        form.kind.data = gift.kind or "file"
        if request.mimetype == "multipart/form-data" \
                and (request.content_length or max_bytes + 1) > max_bytes:
            form.upload.errors = [f"The file is larger than {files.megabytes(max_bytes)} MB."]
        else:
            form.form_errors.append("The texts are too long. Nothing was saved.")
        return _show_form(site, gift, form, 413)
    form = GiftForm(obj=gift)
    if gift.id is not None:
        form.kind.data = gift.kind  # chosen when it was made, for good
    elif request.method == "GET":
        form.kind.data = request.args.get("kind")
    if form.validate_on_submit() and _cap_fits(form, gift):
        try:
            _save(site, gift, form, max_bytes)
            snapshot.invalidate(site.id)
            return redirect(url_for("dashboard.gift", site_id=site.id, gift_id=gift.id))
        except files.FileRefused as exc:
            db.session().rollback()
            form.upload.errors = [str(exc)]
    return _show_form(site, gift, form, 422 if form.errors else 200)


def _show_form(site: Site, gift: Gift, form: GiftForm, status: int):
    """The kinds to choose from (a new gift), or the form for the chosen kind."""
    chosen = form.kind.data if form.kind.data in KIND_WORDS else None
    most = files.megabytes(current_app.config["GIFT_MAX_BYTES"])
    limit = f"At most {most} MB: {files.ALLOWED_WORDS}."
    form.upload.description = limit if gift.file is None else \
        f"Now: {gift.file.name} ({filesize(gift.file.size)}). Choose a file only to " \
        f"replace it. {limit}"
    return render_template("dashboard/gift_form.html", site=site, gift=gift, form=form,
                           kind=chosen, kinds=KIND_WORDS, kind_help=KIND_HELP), status


def _cap_fits(form: GiftForm, gift: Gift) -> bool:
    """A cap below what was already given would be a number that can never be true."""
    if form.quantity.data is not None and form.quantity.data < (gift.given_count or 0):
        form.quantity.errors = [f"{gift.given_count} are given already: set at least that "
                                f"many, or switch the gift off."]
        return False
    return True


def _save(site: Site, gift: Gift, form: GiftForm, max_bytes: int) -> None:
    """Write the gift (and its new file) in one transaction. Raises files.FileRefused."""
    session = db.session()
    kind = gift.kind or form.kind.data
    upload = form.upload.data if isinstance(form.upload.data, FileStorage) else None
    if kind == "file" and upload is None and gift.file_id is None:
        raise files.FileRefused("Choose the file to give.")
    new_file = files.store(session, site.id, upload, max_bytes) \
        if kind == "file" and upload is not None else None
    gift.kind = kind
    gift.title = " ".join(form.title.data.split())
    gift.description = (form.description.data or "").replace("\r\n", "\n").strip() or None
    if kind == "link":
        gift.url = form.url.data
    elif kind == "bonus":
        gift.bonus_html = bonus.clean(form.bonus_html.data)
    gift.quantity, gift.show_left = form.quantity.data, form.show_left.data
    gift.link_days, gift.download_limit = form.link_days.data, form.download_limit.data
    gift.followup_days, gift.is_active = form.followup_days.data, form.is_active.data
    if new_file is not None:
        old, gift.file = gift.file, new_file
        if old is not None:
            session.delete(old)  # its chunks go with it (ON DELETE CASCADE)
    if gift.id is None:
        session.add(gift)
    session.commit()


@bp.get("/sites/<site_id>/gifts/<gift_id>")
@login_required
def gift(site_id: str, gift_id: str):
    """A gift's facts, its coupon codes, and its ledger: newest first, fifty a page."""
    return _gift_page(*_owned_gift(site_id, gift_id))


def _ledger(gift_id: str):
    """A gift's grants with the coupon code each got, and who and which widget."""
    return (select(Grant, Coupon.code).outerjoin(Coupon, Coupon.grant_id == Grant.id)
            .where(Grant.gift_id == gift_id)
            .options(selectinload(Grant.subscriber), selectinload(Grant.widget)))


def _gift_page(site: Site, gift: Gift, status: int = 200, **forms):
    """The gift's page, with the coupon forms given (as submitted) or empty ones."""
    found = paged(_ledger(gift.id).order_by(Grant.created_at.desc(), Grant.id.desc()),
                  select(func.count(Grant.id)).where(Grant.gift_id == gift.id))
    codes = None
    if gift.kind == "coupon":
        total, given = db.session().execute(
            select(func.count(Coupon.id), func.count(Coupon.given_at))
            .where(Coupon.gift_id == gift.id)).one()
        codes = {"total": total, "given": given, "left": total - given}
        forms.setdefault("import_form", CouponImportForm(formdata=None))
        forms.setdefault("generate_form", CouponGenerateForm(formdata=None))
    return render_template(
        "dashboard/gift.html", site=site, gift=gift, rows=found.rows, total=found.total,
        page=found.number, pages=found.count, codes=codes, blockers=_blockers(gift),
        bonus_preview=bonus.markup(gift.bonus_html) if gift.kind == "bonus" else None,
        may_renew=grants.may_renew,
        left=snapshot.left(gift, codes["left"] if codes else 0),
        notice=NOTICES.get(request.args.get("done", "")),
        added=request.args.get("added", type=int), known=request.args.get("known", 0, type=int),
        **forms), status


def _blockers(gift: Gift) -> list[str]:
    """Why the gift can't be deleted: it is on somebody's ledger, or a widget offers it."""
    session = db.session()
    given = max(gift.given_count or 0, session.scalar(
        select(func.count(Grant.id)).where(Grant.gift_id == gift.id)))
    found = [f"Given {'once' if given == 1 else f'{given} times'}: switch it off instead, "
             f"so the ledger stays."] if given else []
    for name in session.scalars(select(Widget.name).where(Widget.gift_id == gift.id)
                                .order_by(Widget.created_at)):
        found.append(f"Used by widget “{name}”: choose another gift there first.")
    for friends in session.scalars(select(Milestone.friends).where(Milestone.gift_id == gift.id)
                                   .order_by(Milestone.friends)):
        found.append(f"The thank-you for {friends} {'friend' if friends == 1 else 'friends'}: "
                     f"change that milestone on the Referrals page first.")
    if session.scalar(select(Site.story_gift_id).where(Site.id == gift.site_id)) == gift.id:
        found.append("The thank-you gift for stories: choose another in Site settings first.")
    return found


@bp.post("/sites/<site_id>/gifts/<gift_id>/delete")
@login_required
def delete_gift(site_id: str, gift_id: str):
    """Delete a gift nobody was given and no widget offers, with its file and codes."""
    site, gift = _owned_gift(site_id, gift_id)
    session = db.session()
    # One conditional DELETE: a grant given meanwhile (which raises given_count in its
    # own transaction) keeps the gift, so no ledger row is ever lost with it.
    gone = session.execute(
        delete(Gift).where(Gift.id == gift.id, Gift.given_count == 0,
                           ~exists().where(Grant.gift_id == gift.id),
                           ~exists().where(Widget.gift_id == gift.id),
                           ~exists().where(Milestone.gift_id == gift.id),
                           ~exists().where(Site.story_gift_id == gift.id))
        .execution_options(synchronize_session=False)).rowcount == 1
    if gone and gift.file_id is not None:
        session.execute(delete(GiftFile).where(GiftFile.id == gift.file_id))
    session.commit()
    if not gone:
        return _gift_page(site, gift, 409)
    snapshot.invalidate(site.id)
    return redirect(url_for("dashboard.site", site_id=site.id))


@bp.post("/sites/<site_id>/gifts/<gift_id>/grants/<int:grant_id>/withdraw")
@login_required
def withdraw_grant(site_id: str, gift_id: str, grant_id: int):
    """Withdraw one person's link: it (and any older one) stops working at once."""
    site, gift = _owned_gift(site_id, gift_id)
    grant = owned(site, Grant, grant_id, gift_id=gift.id)
    grants.revoke(db.session(), grant)
    return back("dashboard.gift", "withdrawn", site_id=site.id, gift_id=gift.id)


@bp.post("/sites/<site_id>/gifts/<gift_id>/grants/<int:grant_id>/fresh")
@login_required
def renew_grant(site_id: str, gift_id: str, grant_id: int):
    """E-mail a confirmed subscriber a fresh link (full downloads, new expiry)."""
    site, gift = _owned_gift(site_id, gift_id)
    grant = owned(site, Grant, grant_id, gift_id=gift.id)
    sent = grants.renew(db.session(), grant, by_owner=True)
    return back("dashboard.gift", "renewed" if sent else "not_renewed", site_id=site.id,
                gift_id=gift.id)


@bp.post("/sites/<site_id>/gifts/<gift_id>/coupons/import")
@csrf.exempt  # checked in _read_form, under the import's size limit
@login_required
def import_coupons(site_id: str, gift_id: str):
    """Add pasted codes, or a CSV's first column, to a coupon gift."""
    site, gift = _owned_gift(site_id, gift_id, kind="coupon")
    if not _read_form(IMPORT_BYTES, IMPORT_BYTES):
        form = CouponImportForm(formdata=None)
        form.codes.errors = [f"That is too much at once: at most {coupons.MAX_CODES} codes, "
                             f"{files.megabytes(IMPORT_BYTES)} MB."]
        return _gift_page(site, gift, 413, import_form=form)
    form = CouponImportForm()
    return _add_codes(site, gift, form, form.codes, CouponImportForm.codes_given,
                      "import_form")


@bp.post("/sites/<site_id>/gifts/<gift_id>/coupons/generate")
@login_required
def generate_coupons(site_id: str, gift_id: str):
    """Add codes made from a pattern, none equal to a code the gift has."""
    site, gift = _owned_gift(site_id, gift_id, kind="coupon")
    form = CouponGenerateForm()
    return _add_codes(site, gift, form, form.pattern, lambda f: coupons.generate(
        f.pattern.data, f.count.data, coupons.taken(db.session(), gift.id)), "generate_form")


def _add_codes(site: Site, gift: Gift, form, field, codes_of, name: str):
    """Store the codes a valid form gives and say how many were new; else show the form
    again with the reason on `field`."""
    session = db.session()
    if form.validate_on_submit():
        try:
            added, known = coupons.add(session, gift.id, codes_of(form))
            session.commit()
            snapshot.invalidate(site.id)
            return redirect(url_for("dashboard.gift", site_id=site.id, gift_id=gift.id,
                                    added=added, known=known))
        except coupons.CodesRefused as exc:
            session.rollback()
            field.errors = [str(exc)]
    return _gift_page(site, gift, 422 if form.errors else 200, **{name: form})


@bp.get("/sites/<site_id>/gifts/<gift_id>/ledger.csv")
@login_required
def ledger_csv(site_id: str, gift_id: str):
    """The whole ledger as a spreadsheet: UTF-8 with a BOM (so Excel reads ø and emoji),
    every cell safe from formula injection, written in batches as it is sent."""
    site, gift = _owned_gift(site_id, gift_id)
    kind, gift_pk = gift.kind, gift.id

    def lines():
        yield "\ufeff" + _csv_line(CSV_COLUMNS)
        query, last = _ledger(gift_pk).order_by(Grant.id.desc()).limit(CSV_BATCH), None
        while batch := db.session().execute(
                query if last is None else query.where(Grant.id < last)).all():
            text = "".join(_csv_line(_csv_cells(grant, code, kind)) for grant, code in batch)
            last = batch[-1][0].id
            db.session().rollback()  # no transaction held while the client reads
            yield text

    resp = Response(stream_with_context(lines()), mimetype="text/csv")
    resp.headers["Content-Disposition"] = f'attachment; filename="ledger-{gift_pk}.csv"'
    resp.content_type = "text/csv; charset=utf-8"
    return resp


def _csv_cells(grant: Grant, code: str | None, kind: str) -> list:
    person = grant.subscriber
    counted = kind in grants.EXPIRING_KINDS
    return [person.email if person else "", (person.name or "") if person else "",
            _iso(grant.created_at), grant.widget.name if grant.widget else "",
            grant_status(grant), grant.downloads if counted else "",
            _iso(grant.last_download_at), code or "", grant.rating or "", grant.comment or ""]


def _iso(value) -> str:
    return as_datetime(value).strftime("%Y-%m-%dT%H:%M:%SZ") if value else ""


def _csv_line(cells) -> str:
    """One CSV row; a cell a spreadsheet would run as a formula starts with a quote."""
    out = io.StringIO()
    csv.writer(out).writerow(
        "'" + text if (text := str(cell)).startswith(FORMULA_START) else text for cell in cells)
    return out.getvalue()
