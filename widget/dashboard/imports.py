"""Contact import: upload a CSV, choose its columns over a preview, check it (a dry run
the worker does), start it, and follow its progress (read from the import's row, so a
reload shows where it is); the site's past imports."""
from __future__ import annotations

from flask import current_app, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext, lazy_gettext
from flask_login import current_user, login_required
from sqlalchemy import delete, select, update
from werkzeug.datastructures import FileStorage

from widget.core import db, outbox
from widget.dashboard.blueprint import bp, csrf
from widget.dashboard.gifts import FORM_ROOM, _read_form
from widget.dashboard.import_forms import (CONSENT_WORDS, PACES, ImportMappingForm,
                                           ImportUploadForm)
from widget.dashboard.owned import owned, owned_site, paged
from widget.gifts.files import megabytes
from widget.models import ContactImport, Site
from widget.sites.audit import actor_of_owner
from widget.subscribers import imports
from widget.subscribers.imports import ENCODING_WORDS, TARGET_WORDS

# Words an owner reads, lazy: each request reads them in its owner's language.
STATUS_WORDS = {"uploaded": lazy_gettext("Uploaded"), "checking": lazy_gettext("Being checked"),
                "checked": lazy_gettext("Checked"), "queued": lazy_gettext("Waiting to start"),
                "running": lazy_gettext("Importing"), "done": lazy_gettext("Imported"),
                "failed": lazy_gettext("Stopped")}
# How the file's columns were separated (subscribers/imports.py DELIMITER_WORDS' keys).
DELIMITER_WORDS = {",": lazy_gettext("comma"), ";": lazy_gettext("semicolon"),
                   "\t": lazy_gettext("tab")}
# Where the page follows the worker: these statuses show the progress bar.
LIVE = ("checking", "queued", "running")
NOTICES = {"discarded": lazy_gettext("The import was discarded, with its file.")}
# The counts an import page shows, in order.
COUNTS = ("new", "updated", "unchanged", "invalid")


@bp.app_template_filter("import_status")
def import_status_label(status: str) -> str:
    return str(STATUS_WORDS.get(status, status))


def _owned_import(site_id: str, import_id: int) -> tuple[Site, ContactImport]:
    site = owned_site(site_id)
    return site, owned(site, ContactImport, import_id)


@bp.route("/sites/<site_id>/imports", methods=["GET", "POST"])
@csrf.exempt  # checked in _read_form, under the upload's size limit
@login_required
def contact_imports(site_id: str):
    """The upload form and the site's past imports; a POSTed file is stored and its
    import's page shown next."""
    site = owned_site(site_id)
    if request.method == "GET":
        return _list(site, ImportUploadForm(formdata=None))
    most = gettext("The file is larger than %(mb)s MB.", mb=megabytes(imports.MAX_BYTES))
    if not _read_form(imports.MAX_BYTES + FORM_ROOM, FORM_ROOM):
        form = ImportUploadForm(formdata=None)
        form.csv_file.errors = [most if request.mimetype == "multipart/form-data"
                                else gettext("Choose a CSV file.")]
        return _list(site, form), 413
    form = ImportUploadForm()
    upload = form.csv_file.data
    if form.validate_on_submit():
        if not isinstance(upload, FileStorage) or not upload.filename:
            form.csv_file.errors = [gettext("Choose a CSV file.")]
        else:
            session = db.session()
            try:
                row = imports.store(session, site.id, actor_of_owner(current_user), upload)
                session.commit()
                return redirect(url_for("dashboard.contact_import", site_id=site.id,
                                        import_id=row.id))
            except imports.ImportRefused as exc:
                session.rollback()
                form.csv_file.errors = [str(exc)]
    return _list(site, form), 422


def _list(site: Site, form: ImportUploadForm):
    form.csv_file.description = gettext(
        "A .csv file of at most %(mb)s MB, one contact a line, with a column of e-mail "
        "addresses (and, if you like, names, languages and tags). UTF-8 is best; Excel's "
        "“CSV” (Windows-1252) works too.", mb=megabytes(imports.MAX_BYTES))
    shown = paged(select(ContactImport).where(ContactImport.site_id == site.id), ContactImport)
    return render_template("dashboard/imports.html", site=site, form=form, shown=shown,
                           notice=NOTICES.get(request.args.get("done", "")))


@bp.get("/sites/<site_id>/imports/<int:import_id>")
@login_required
def contact_import(site_id: str, import_id: int):
    """An import as far as it got: the columns to choose, the check's result, the
    progress bar, or what it did."""
    return _show(*_owned_import(site_id, import_id))


def _show(site: Site, row: ContactImport, form: ImportMappingForm | None = None,
          status: int = 200):
    names, sample = [], []
    if row.status in ("uploaded", "checked"):  # its file is kept until it starts
        names, sample = imports.preview(db.engine(), row)
        if form is None:
            form = ImportMappingForm(formdata=None)
            form.columns(names)
            form.fill(row)
    problems = row.problems or []
    return render_template(
        "dashboard/import.html", site=site, row=row, form=form, names=names,
        sample=sample, live=row.status in LIVE, counts=COUNTS,
        invalid=[p for p in problems if p[2] == "invalid"],
        notes=[p for p in problems if p[2] == "note"], listed=imports.MAX_PROBLEMS,
        targets=TARGET_WORDS, consent_words=CONSENT_WORDS, pace=PACES.get(row.pace, row.pace),
        encoding=ENCODING_WORDS.get(row.mapping["encoding"], row.mapping["encoding"]),
        delimiter=DELIMITER_WORDS.get(row.mapping["delimiter"], row.mapping["delimiter"]),
        per_day=current_app.config["MAIL_PER_ADDRESS_DAY"]), status


def _reset(**values) -> dict:
    """The import's progress set back to nothing, for a fresh check or the run."""
    return {"done": 0, "new": 0, "updated": 0, "unchanged": 0, "invalid": 0,
            "problems": None, "error": None, "claimed_by": None, "lease_until": None,
            **values}


@bp.post("/sites/<site_id>/imports/<int:import_id>/check")
@login_required
def check_import(site_id: str, import_id: int):
    """Keep the chosen columns, consent, tags and pace, and have the worker check every
    row against the list (nothing is written to it)."""
    site, row = _owned_import(site_id, import_id)
    if row.status not in ("uploaded", "checked"):
        return redirect(url_for("dashboard.contact_import", site_id=site.id, import_id=row.id))
    form = ImportMappingForm()
    form.columns(imports.preview(db.engine(), row)[0])
    if not form.validate_on_submit():
        return _show(site, row, form, 422)
    session = db.session()
    session.execute(
        update(ContactImport)
        .where(ContactImport.id == row.id, ContactImport.status.in_(("uploaded", "checked")))
        .values(**_reset(status="checking", mapping={**row.mapping, **form.mapping()},
                         basis=form.basis.data if form.consent.data == "stated" else None,
                         tags=form.extra.data, pace=form.pace.data))
        .execution_options(synchronize_session=False))
    session.commit()
    outbox.wake_event(current_app).set()  # this process's worker starts at once
    return redirect(url_for("dashboard.contact_import", site_id=site.id, import_id=row.id))


@bp.post("/sites/<site_id>/imports/<int:import_id>/start")
@login_required
def start_import(site_id: str, import_id: int):
    """Import a checked file as it was checked; the page then shows its progress."""
    site, row = _owned_import(site_id, import_id)
    session = db.session()
    session.execute(update(ContactImport)
                    .where(ContactImport.id == row.id, ContactImport.status == "checked")
                    .values(**_reset(status="queued"))
                    .execution_options(synchronize_session=False))
    session.commit()
    outbox.wake_event(current_app).set()
    return redirect(url_for("dashboard.contact_import", site_id=site.id, import_id=row.id))


@bp.post("/sites/<site_id>/imports/<int:import_id>/discard")
@login_required
def discard_import(site_id: str, import_id: int):
    """Drop an import that has not started, with its file (a check under way stops)."""
    site, row = _owned_import(site_id, import_id)
    session = db.session()
    gone = session.execute(delete(ContactImport).where(
        ContactImport.id == row.id,
        ContactImport.status.in_(("uploaded", "checking", "checked")))
        .execution_options(synchronize_session=False)).rowcount == 1
    session.commit()  # its chunks go with it (ON DELETE CASCADE)
    if not gone:
        return redirect(url_for("dashboard.contact_import", site_id=site.id, import_id=row.id))
    return redirect(url_for("dashboard.contact_imports", site_id=site.id, done="discarded"))


@bp.get("/sites/<site_id>/imports/<int:import_id>/status")
@login_required
def import_progress(site_id: str, import_id: int):
    """Where a check or an import is, for the progress bar (static/js/import.js)."""
    _site, row = _owned_import(site_id, import_id)
    return jsonify(status=row.status, rows=row.rows, done=row.done,
                   **{name: getattr(row, name) for name in COUNTS}, error=row.error)
