"""The owner's side of e-mail: the outbox (with the dev outbox's messages) and the e-mail
copy editor with its preview."""
from __future__ import annotations

from email import message_from_string
from email.message import EmailMessage
from email.policy import default as default_policy

from flask import Response, abort, current_app, g, redirect, render_template, request, url_for
from flask_babel import gettext, lazy_gettext
from flask_login import login_required
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from widget.core import db, i18n, outbox
from widget.core.i18n import LANGS
from widget.dashboard.blueprint import bp
from widget.dashboard.forms import LANG_NAMES, header_warnings
from widget.dashboard.mail_forms import MAIL_KINDS, MailCopyForm, placeholders_of
from widget.dashboard.owned import back, owned, owned_site, paged
from widget.mail import letter
from widget.mail.render import (Copy, Email, compose, default_copy, gift_part, own_copy,
                                site_copy, story_quote)
from widget.models import Gift, MailTemplate, Milestone, OutboxMessage, Site, Subscriber

# E-mail HTML is the owner's and visitors' words laid out by us: shown sandboxed (no
# scripts, no forms, no same-origin access), with only inline styles and https images.
SANDBOX = "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src https: data:"
SAMPLE_NAME = "Alex"
SAMPLE_GIFT = "The checklist"
SAMPLE_FRIENDS = 3
SAMPLE_STORY = ("Your newsletter got me baking again: my first sourdough came out just "
                "right, and now the whole family asks for it every weekend.")
SAMPLE_REPLY = "(Your reply, as you write it on the Stories page, comes here.)"
# A letter's example posts, as letters/content.for_template gives a letter's posts.
SAMPLE_POSTS = tuple({"title": title, "url": f"https://blog.example/{slug}",
                      "html": f"<p>{text}</p>", "text": text} for slug, title, text in (
    ("sourdough-in-winter", "Sourdough in winter",
     "A cold kitchen slows the starter down: how to keep it lively until spring."),
    ("rye-slowly", "Rye, slowly", "Why the rye loaf rests for a whole day before baking.")))
# Words an owner reads, lazy: each request reads them in its owner's language.
OUTBOX_WORDS = {"queued": lazy_gettext("Queued"), "sending": lazy_gettext("Sending"),
                "sent": lazy_gettext("Sent"), "failed": lazy_gettext("Failed"),
                "skipped": lazy_gettext("Not sent")}
# The outbox also lists e-mails to the owner, which have no copy to edit.
OUTBOX_KINDS = {**MAIL_KINDS,
                "webhook_disabled": lazy_gettext("To you: a webhook was switched off"),
                "letter_test": lazy_gettext("To you: a test of a letter")}


@bp.app_template_filter("utc")
def utc(value) -> str:
    """Times as the dashboard shows them (stored in UTC; SQLite hands them back naive)."""
    return value.strftime("%Y-%m-%d %H:%M") if value else ""


def sandboxed(html: str, framed: bool) -> Response:
    """An e-mail's HTML under the sandbox policy; `framed`: only our own pages may frame it."""
    ancestors = "'self'" if framed else "'none'"
    g.csp_override = (f"{SANDBOX}; frame-ancestors {ancestors}",
                      "SAMEORIGIN" if framed else "DENY")
    return Response(html, mimetype="text/html")


def _read(email: Email) -> EmailMessage:
    """A composed message read back, as a mail program shows it (the preview shows the
    very bytes the worker would send)."""
    return message_from_string(email.raw, policy=default_policy)


def _dev_message(message: OutboxMessage) -> EmailMessage | None:
    """The rendered message, only for the dev transport: a message that went out by SMTP
    holds the subscriber's personal confirm and unsubscribe links, which stay theirs."""
    if message.transport != "dev" or message.raw is None:
        return None
    return message_from_string(message.raw, policy=default_policy)


def _text(part) -> str:
    return part.get_content().replace("\r\n", "\n") if part is not None else ""


@bp.get("/sites/<site_id>/outbox")
@login_required
def outbox_list(site_id: str):
    """The site's e-mails, newest first, fifty a page, with a "Send again" on failed ones."""
    site = owned_site(site_id)
    found = paged(
        select(OutboxMessage, Subscriber.email)
        .outerjoin(Subscriber, (Subscriber.id == OutboxMessage.subscriber_id)
                   & (Subscriber.site_id == OutboxMessage.site_id))
        .where(OutboxMessage.site_id == site.id, OutboxMessage.kind.not_in(outbox.NOT_MAIL)),
        OutboxMessage)
    return render_template("dashboard/outbox.html", site=site, rows=found.rows, shown=found,
                           kinds=OUTBOX_KINDS, words=OUTBOX_WORDS,
                           no_smtp=current_app.config["SMTP_URL"] is None)


@bp.post("/sites/<site_id>/outbox/<int:message_id>/retry")
@login_required
def outbox_retry(site_id: str, message_id: int):
    """Queue a failed message again with fresh attempts and wake this process's worker."""
    site = owned_site(site_id)
    message = owned(site, OutboxMessage, message_id)
    if outbox.retry(db.session(), message.id):
        outbox.wake_event(current_app).set()
    return back("dashboard.outbox_list", None, site_id=site.id)


@bp.get("/sites/<site_id>/outbox/<int:message_id>")
@login_required
def outbox_message(site_id: str, message_id: int):
    """One message: its metadata; for the dev outbox also its headers and plain text."""
    site = owned_site(site_id)
    message = owned(site, OutboxMessage, message_id)
    subscriber = (db.session().get(Subscriber, message.subscriber_id)
                  if message.subscriber_id else None)
    parsed = _dev_message(message)
    headers = text = None
    if parsed is not None:
        headers = [(h, str(parsed[h])) for h in ("From", "Reply-To", "To", "Subject", "Date",
                                                 "List-Unsubscribe") if parsed[h] is not None]
        text = _text(parsed.get_body(("plain",)))
    return render_template("dashboard/outbox_message.html", site=site, message=message,
                           subscriber=subscriber, headers=headers, text=text,
                           kinds=OUTBOX_KINDS, words=OUTBOX_WORDS)


@bp.get("/sites/<site_id>/outbox/<int:message_id>/html")
@login_required
def outbox_html(site_id: str, message_id: int):
    """A dev-outbox message's HTML part, opened on its own, sandboxed (never scripts)."""
    message = owned(owned_site(site_id), OutboxMessage, message_id)
    parsed = _dev_message(message)
    part = parsed.get_body(("html",)) if parsed is not None else None
    if part is None:
        abort(404)
    return sandboxed(part.get_content(), framed=False)


def _kind_lang(site: Site) -> tuple[str, str]:
    """The copy being edited, from ?kind=&lang= (unknown values: 404, not a guess)."""
    kind = request.args.get("kind", "confirm")
    lang = request.args.get("lang", site.default_lang)
    if kind not in MAIL_KINDS or lang not in LANGS:
        abort(404)
    return kind, lang


def _sample(site: Site, kind: str, lang: str, copy: Copy) -> EmailMessage:
    """The message as a subscriber called Alex would get it, with example links and,
    for the gift e-mails, the site's first gift (or an example one); a reward names the
    first milestone, the story e-mails an example story, a letter two example posts."""
    base = current_app.config["BASE_URL"]
    if kind in ("story_thanks", "story_reply"):
        return _story_sample(site, kind, lang, copy)
    if kind == "letter":
        posts = list(SAMPLE_POSTS)
        return _read(compose(site, kind, lang, copy, to="alex@example.com", name=SAMPLE_NAME,
                             message_id="<preview@example.com>",
                             unsubscribe_url=f"{base}/unsubscribe/example",
                             values=letter.values(posts, lang), posts=posts,
                             web_url=f"{base}/letter/example"))
    milestone = db.session().scalar(select(Milestone).where(Milestone.site_id == site.id)
                                    .order_by(Milestone.friends)) if kind == "reward" else None
    gift = milestone.gift if milestone else site.gifts[0] if site.gifts else None
    part = None
    if gift is not None or kind in ("gift", "followup", "reward"):
        part = gift_part("gift" if kind == "reward" else kind, lang,
                         gift.title if gift else SAMPLE_GIFT,
                         description=gift.description if gift else None,
                         gift_kind=gift.kind if gift else "file", url=f"{base}/gift/example",
                         code="EXAMPLE-2345" if gift and gift.kind == "coupon" else None,
                         rating_urls=[f"{base}/rate/example?r={n}" for n in range(1, 6)])
    if kind == "reward":
        part["lead"] = i18n.text("mail.reward.gift", lang)
    friends = str(milestone.friends if milestone else SAMPLE_FRIENDS)
    return _read(compose(site, kind, lang, copy, to="alex@example.com", name=SAMPLE_NAME,
                   message_id="<preview@example.com>",
                   unsubscribe_url=f"{base}/unsubscribe/example",
                   confirm_url=f"{base}/confirm/example" if kind == "confirm" else None,
                   gift=part, values={"friends": friends} if kind == "reward" else None))


def _story_sample(site: Site, kind: str, lang: str, copy: Copy) -> EmailMessage:
    """The thank-you for an example story (with the story gift, if the site gives one)
    or a reply to it: to the storyteller, so no unsubscribe link."""
    base = current_app.config["BASE_URL"]
    gift = db.session().get(Gift, site.story_gift_id) \
        if kind == "story_thanks" and site.story_gift_id else None
    part = gift_part("gift", lang, gift.title, description=gift.description,
                     gift_kind=gift.kind, url=f"{base}/gift/example",
                     code="EXAMPLE-2345" if gift.kind == "coupon" else None) if gift else None
    after = (i18n.fill(i18n.text("mail.story.public", lang), {"site": site.name}),) \
        if kind == "story_thanks" else (SAMPLE_REPLY,)
    return _read(compose(site, kind, lang, copy, to="alex@example.com", name=SAMPLE_NAME,
                   message_id="<preview@example.com>", unsubscribe_url=None, gift=part,
                   values={"story": story_quote(SAMPLE_STORY)}, after=after,
                   footer="mail.footer.story"))


def _save(site: Site, kind: str, lang: str, copy: Copy) -> None:
    """Upsert the owner's copy; a copy equal to the built-in one is no copy of their own,
    so later improvements to the built-in text still reach them."""
    session = db.session()
    for _ in range(2):  # a second try when another tab inserted the same row meanwhile
        row = own_copy(site.id, kind, lang)
        if copy == default_copy(kind, lang):
            if row is not None:
                session.delete(row)
        elif row is not None:
            row.subject, row.body = copy.subject, copy.body
        else:
            session.add(MailTemplate(site_id=site.id, kind=kind, lang=lang,
                                     subject=copy.subject, body=copy.body))
        try:
            session.commit()
            return
        except IntegrityError:
            session.rollback()
    abort(409)


@bp.route("/sites/<site_id>/emails", methods=["GET", "POST"])
@login_required
def mail_copy(site_id: str):
    """Edit one kind of e-mail in one language, beside a preview of the real message.
    "Preview" shows the submitted text without saving it; "Save" stores it."""
    site = owned_site(site_id)
    kind, lang = _kind_lang(site)
    current = site_copy(site.id, kind, lang)
    form = MailCopyForm(data={"subject": current.subject, "body": current.body},
                        mail_kind=kind)
    copy, unsaved = current, False
    if form.validate_on_submit():
        submitted = Copy(form.subject.data.strip(),
                         form.body.data.replace("\r\n", "\n").strip())
        if request.form.get("action") != "preview":
            _save(site, kind, lang, submitted)
            return redirect(url_for("dashboard.mail_copy", site_id=site.id, kind=kind,
                                    lang=lang, saved=1))
        copy, unsaved = submitted, submitted != current
    sample = _sample(site, kind, lang, copy)
    customised = {(k, code) for k, code in db.session().execute(
        select(MailTemplate.kind, MailTemplate.lang).where(MailTemplate.site_id == site.id))}
    return render_template(
        "dashboard/emails.html", site=site, form=form, kind=kind, lang=lang,
        kinds=MAIL_KINDS, langs=LANG_NAMES, customised=customised,
        own=(kind, lang) in customised, placeholders=placeholders_of(kind), unsaved=unsaved,
        saved=request.args.get("saved") == "1" and request.method == "GET",
        sample_from=str(sample["From"]), sample_subject=str(sample["Subject"]),
        sample_text=_text(sample.get_body(("plain",))),
        sample_name=SAMPLE_NAME,
        warnings=header_warnings({gettext("The subject"): current.subject}),
        what=i18n.fill(i18n.text("mail.what", lang), {"site": site.name})
    ), 422 if form.errors else 200


@bp.post("/sites/<site_id>/emails/reset")
@login_required
def mail_copy_reset(site_id: str):
    """Drop the owner's copy of one kind and language: the built-in text applies again."""
    site = owned_site(site_id)
    kind, lang = _kind_lang(site)
    row = own_copy(site.id, kind, lang)
    if row is not None:
        db.session().delete(row)
        db.session().commit()
    return redirect(url_for("dashboard.mail_copy", site_id=site.id, kind=kind, lang=lang))


@bp.get("/sites/<site_id>/emails/preview.html")
@login_required
def mail_copy_preview(site_id: str):
    """The saved (or built-in) copy's HTML version, for the editor's sandboxed iframe."""
    site = owned_site(site_id)
    kind, lang = _kind_lang(site)
    sample = _sample(site, kind, lang, site_copy(site.id, kind, lang))
    return sandboxed(sample.get_body(("html",)).get_content(), framed=True)


