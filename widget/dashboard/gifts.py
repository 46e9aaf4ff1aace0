"""Gifts: the site's gift table, a gift's form (with its file upload), deleting a gift,
and adding coupon codes (the gift's own page and ledger are in ledger.py)."""
from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import format_decimal, format_number, get_locale, gettext, ngettext
from flask_login import login_required
from sqlalchemy import delete, exists, func, select
from werkzeug.datastructures import FileStorage
from werkzeug.exceptions import RequestEntityTooLarge

from widget.core import db
from widget.dashboard.blueprint import bp, csrf
from widget.dashboard.gift_forms import (KIND_HELP, KIND_WORDS, CouponGenerateForm,
                                         CouponImportForm, GiftForm)
from widget.dashboard.ledger import gift_page, owned_gift
from widget.dashboard.owned import logged, owned_site
from widget.gifts import bonus, coupons, files
from widget.models import Gift, GiftFile, Grant, Milestone, Site, Widget
from widget.sites import snapshot

FORM_ROOM = 256 << 10  # the gift form's other fields, next to the file
IMPORT_BYTES = 4 << 20  # a paste or CSV of coupons.MAX_CODES long codes, and then some


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
    return str(KIND_WORDS.get(kind, kind))


@bp.app_template_filter("filesize")
def filesize(size: int) -> str:
    """A file's size in the page's language (1.2 MB, 1,2 MB)."""
    return files.size_words(size, str(get_locale() or "en"))


def megabytes(size: int) -> str:
    """A byte count in (binary) megabytes in the page's language: 50, 1.5 (1,5)."""
    return format_decimal(round(size / (1 << 20), 2))


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
    return _gift_form(*owned_gift(site_id, gift_id))


def _gift_form(site: Site, gift: Gift):
    """The gift form, new or existing: saved and sent to the gift's page when valid."""
    max_bytes = current_app.config["GIFT_MAX_BYTES"]
    if not _read_form(max_bytes + FORM_ROOM, FORM_ROOM):
        # The body was not read, so the form can only come back as it was stored.
        form = GiftForm(formdata=None, obj=gift)
        form.kind.data = gift.kind or "file"
        if request.mimetype == "multipart/form-data" \
                and (request.content_length or max_bytes + 1) > max_bytes:
            form.upload.errors = [gettext("The file is larger than %(mb)s MB.",
                                          mb=megabytes(max_bytes))]
        else:
            form.form_errors.append(gettext("The texts are too long. Nothing was saved."))
        return _show_form(site, gift, form, 413)
    form = GiftForm(obj=gift)
    if gift.id is not None:
        form.kind.data = gift.kind  # chosen when it was made, for good
    elif request.method == "GET":
        form.kind.data = request.args.get("kind")
    if form.validate_on_submit() and _cap_fits(form, gift):
        try:
            logged(site, "gift", form.title.data)
            _save(site, gift, form, max_bytes)
            snapshot.invalidate(site.id)
            flash(gettext("“%(title)s” is saved.", title=gift.title))
            return redirect(url_for("dashboard.gift", site_id=site.id, gift_id=gift.id))
        except files.FileRefused as exc:
            db.session().rollback()
            form.upload.errors = [str(exc)]
    return _show_form(site, gift, form, 422 if form.errors else 200)


def _show_form(site: Site, gift: Gift, form: GiftForm, status: int):
    """The kinds to choose from (a new gift), or the form for the chosen kind."""
    chosen = form.kind.data if form.kind.data in KIND_WORDS else None
    limit = gettext("At most %(mb)s MB: %(types)s.",
                    mb=megabytes(current_app.config["GIFT_MAX_BYTES"]),
                    types=files.ALLOWED_WORDS)
    form.upload.description = limit if gift.file is None else gettext(
        "Now: %(name)s (%(size)s). Choose a file only to replace it. %(limit)s",
        name=gift.file.name, size=filesize(gift.file.size), limit=limit)
    return render_template("dashboard/gift_form.html", site=site, gift=gift, form=form,
                           kind=chosen, kinds=KIND_WORDS, kind_help=KIND_HELP), status


def _cap_fits(form: GiftForm, gift: Gift) -> bool:
    """A cap below what was already given would be a number that can never be true."""
    if form.quantity.data is not None and form.quantity.data < (gift.given_count or 0):
        form.quantity.errors = [ngettext(
            "%(n)s is given already: set at least that many, or switch the gift off.",
            "%(n)s are given already: set at least that many, or switch the gift off.",
            gift.given_count, n=format_number(gift.given_count))]
        return False
    return True


def _save(site: Site, gift: Gift, form: GiftForm, max_bytes: int) -> None:
    """Write the gift (and its new file) in one transaction. Raises files.FileRefused."""
    session = db.session()
    kind = gift.kind or form.kind.data
    upload = form.upload.data if isinstance(form.upload.data, FileStorage) else None
    if kind == "file" and upload is None and gift.file_id is None:
        raise files.FileRefused(gettext("Choose the file to give."))
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


@bp.post("/sites/<site_id>/gifts/<gift_id>/delete")
@login_required
def delete_gift(site_id: str, gift_id: str):
    """Delete a gift nobody was given and no widget offers, with its file and codes."""
    site, gift = owned_gift(site_id, gift_id)
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
        return gift_page(site, gift, 409)
    snapshot.invalidate(site.id)
    return redirect(url_for("dashboard.site", site_id=site.id))


@bp.post("/sites/<site_id>/gifts/<gift_id>/coupons/import")
@csrf.exempt  # checked in _read_form, under the import's size limit
@login_required
def import_coupons(site_id: str, gift_id: str):
    """Add pasted codes, or a CSV's first column, to a coupon gift."""
    site, gift = owned_gift(site_id, gift_id, kind="coupon")
    if not _read_form(IMPORT_BYTES, IMPORT_BYTES):
        form = CouponImportForm(formdata=None)
        form.codes.errors = [gettext("That is too much at once: at most %(codes)s codes, "
                                     "%(mb)s MB.", codes=format_number(coupons.MAX_CODES),
                                     mb=megabytes(IMPORT_BYTES))]
        return gift_page(site, gift, 413, import_form=form)
    form = CouponImportForm()
    return _add_codes(site, gift, form, form.codes, CouponImportForm.codes_given,
                      "import_form")


@bp.post("/sites/<site_id>/gifts/<gift_id>/coupons/generate")
@login_required
def generate_coupons(site_id: str, gift_id: str):
    """Add codes made from a pattern, none equal to a code the gift has."""
    site, gift = owned_gift(site_id, gift_id, kind="coupon")
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
    return gift_page(site, gift, 422 if form.errors else 200, **{name: form})


