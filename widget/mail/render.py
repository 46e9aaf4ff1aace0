"""Turning a queued message into a real e-mail: the owner's copy (or the built-in copy)
in the visitor's language, HTML and plain text, signed links, RFC 8058 headers.

Nothing a visitor typed reaches a header: the To header is the bare address, and
subjects take only the site's and the owner's words, made header-safe by the one rule of
core/headers (a value an older version stored is folded, never a reason not to send).
Links use WIDGET_BASE_URL, never a request's Host header (the worker has no request).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from email.headerregistry import Address

from flask import current_app, g, render_template
from sqlalchemy import select

from widget.core import db, headers, i18n, smtp, tokens
from widget.gifts import grants
from widget.mail import mime
from widget.models import (Coupon, Grant, MailTemplate, MilestoneReward, OutboxMessage, Owner,
                           Site, SiteMember, Story, Subscriber, Webhook)
from widget.sites import accounts, members

# To an owner, about their site or their account: no list mail.
OWNER_KINDS = ("webhook_disabled", "password_reset", "email_change", "invite")
PRODUCT = "Reciprocity widgets"  # who writes to an owner about their account

@dataclass(frozen=True)
class Email:
    """A message as it goes out (CRLF line ends) and its subject as a person reads it."""
    raw: str
    subject: str


@dataclass(frozen=True)
class Copy:
    subject: str
    body: str


def default_copy(kind: str, lang: str) -> Copy:
    """The built-in subject and body, good enough to send as they are."""
    return Copy(i18n.text(f"mail.{kind}.subject", lang), i18n.text(f"mail.{kind}.body", lang))


def own_copy(site_id: str, kind: str, lang: str) -> MailTemplate | None:
    """The owner's own copy for this kind and language, if they wrote one."""
    return db.session().scalar(select(MailTemplate).where(
        MailTemplate.site_id == site_id, MailTemplate.kind == kind, MailTemplate.lang == lang))


def site_copy(site_id: str, kind: str, lang: str) -> Copy:
    """The owner's copy for this kind and language, else the built-in one. Read once per
    app context: a worker's batch (an edit counts from the next batch) or a request."""
    copies = g.setdefault("mail_copies", {})
    key = (site_id, kind, lang)
    if key not in copies:
        own = own_copy(site_id, kind, lang)
        copies[key] = Copy(own.subject, own.body) if own else default_copy(kind, lang)
    return copies[key]


def _address(value: str | None) -> str | None:
    """An owner's stored address if it may go into a header as it is (one line, ASCII as
    the forms store it), else None."""
    ok = value and value.isascii() and "@" in value and not headers.problem(value)
    return value if ok else None


def sender(site: Site | None) -> Address:
    """The From header: the site's own sender, else WIDGET_MAIL_FROM with the site's name
    (with the product's for an owner's account mail, which has no site)."""
    addr = (site and _address(site.sender_email)) or current_app.config["MAIL_FROM"]
    local, _, domain = addr.rpartition("@")
    name = (site.sender_name or site.name) if site else PRODUCT
    return Address(display_name=headers.clean(name), username=local, domain=domain)


@dataclass(frozen=True)
class Draft:
    """A message's words before they are written out for one recipient: the fixed
    headers, the subject as read, and both bodies."""
    head: tuple[tuple[str, str], ...]
    subject: str
    text: str
    html: str


def compose(site: Site | None, kind: str, lang: str, copy: Copy, *, to: str, name: str | None,
            message_id: str, unsubscribe_url: str | None, **parts) -> Email:
    """One message, multipart/alternative with a plain-text and an HTML part, to `to`
    (see draft() for the parts). Without an unsubscribe URL (a reply to a story, not a
    list's mail) there are no list headers."""
    made = draft(site, kind, lang, copy, name=name, unsubscribe_url=unsubscribe_url, **parts)
    return Email(write(made, to=to, message_id=message_id, unsubscribe_url=unsubscribe_url,
                       lang=lang), made.subject)


def write(made: Draft, *, to: str, message_id: str, unsubscribe_url: str | None,
          lang: str) -> str:
    """The message's bytes (as a string, CRLF line ends) for one recipient."""
    # An address with letters beyond ASCII before the @ needs SMTPUTF8 all the way;
    # any other goes out in ASCII, its domain IDNA-encoded (xn--).
    mailbox = smtp.mailbox(to)
    return mime.write(made.head, to=mailbox.address, utf8=mailbox.utf8, message_id=message_id,
                      list_unsubscribe=unsubscribe_url, lang=lang, text=made.text,
                      html=made.html)


def draft(site: Site | None, kind: str, lang: str, copy: Copy, *, name: str | None,
          unsubscribe_url: str | None, confirm_url: str | None = None,
          gift: dict | None = None, values: dict | None = None, after: tuple = (),
          share: dict | None = None, footer: str = "mail.footer",
          button: str = "mail.confirm.button", posts: list[dict] | None = None,
          web_url: str | None = None) -> Draft:
    """The message's words. `gift`: the gift part (gift_part), whose title also fills
    {gift}; `values`: more placeholders ({friends}, {story}); `after`: paragraphs of
    ours after the owner's copy (a story's reply); `share`: the personal share link's
    part; `confirm_url`: the button's link, labelled `button`; `posts`: a letter's posts
    (letters/content.for_template) and `web_url` its web version."""
    values = {"site": site.name if site else PRODUCT, "name": name or "",
              "gift": gift["title"] if gift else "", **(values or {})}
    values["what"] = i18n.fill(i18n.text("mail.what", lang), values)
    subject = headers.clean(i18n.fill(copy.subject, {**values, "name": ""}))
    paragraphs = [p.splitlines() for p in re.split(r"\n\s*\n", i18n.fill(copy.body, values).strip())]
    paragraphs += [p.splitlines() for text in after for p in re.split(r"\n\s*\n", text.strip())]
    context = {
        "lang": lang, "subject": subject, "paragraphs": paragraphs,
        "action": ({"url": confirm_url, "label": i18n.text(button, lang)}
                   if confirm_url else None),
        "link_hint": i18n.text("mail.link_hint", lang),
        "footer": i18n.fill(i18n.text(footer, lang), values),
        "unsubscribe_label": i18n.text("mail.unsubscribe", lang),
        "unsubscribe_url": unsubscribe_url, "gift": gift, "share": share,
        "posts": posts, "read_more": i18n.text("mail.letter.read", lang) if posts else None,
        "web": {"url": web_url, "label": i18n.text("mail.letter.web", lang)} if web_url else None,
    }
    head = [("From", str(sender(site)))]
    if site and (reply_to := _address(site.reply_to)):
        head.append(("Reply-To", reply_to))
    head.append(("Subject", subject))
    if unsubscribe_url:
        head.append(("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"))
    if kind == "confirm":  # RFC 3834: no vacation replies, please
        head.append(("Auto-Submitted", "auto-generated"))
    return Draft(tuple(head), subject, render_template("mail/message.txt", **context),
                 render_template("mail/message.html", **context))


def links(subscriber: Subscriber) -> tuple[str, str]:
    """The subscriber's confirm and unsubscribe URLs, on the public base URL."""
    base = current_app.config["BASE_URL"]
    value = tokens.subscriber_value(subscriber.id, subscriber.email_normalized)
    return f"{base}/confirm/{tokens.sign('confirm', value)}", unsubscribe_link(subscriber)


def unsubscribe_link(subscriber: Subscriber) -> str:
    """The subscriber's unsubscribe URL (all a list's mail needs of links()), on the
    public base URL."""
    value = tokens.subscriber_value(subscriber.id, subscriber.email_normalized)
    return f"{current_app.config['BASE_URL']}/unsubscribe/{tokens.sign('unsubscribe', value)}"


def gift_part(kind: str, lang: str, title: str, *, description: str | None = None,
              gift_kind: str = "file", url: str = "", code: str | None = None,
              days: int = 7, downloads: int = 5, rating_urls: list[str] = ()) -> dict:
    """What an e-mail of `kind` says of its gift: the confirmation that it is waiting,
    the gift itself (its page's button, the coupon code, the link's terms), or the
    follow-up's five rating links."""
    t = i18n.translator(lang)
    part = {"title": title}
    if kind == "confirm":
        part["waiting"] = i18n.fill(t("mail.gift.waiting"), {"gift": title})
    elif kind == "followup":
        part["ratings"] = [{"url": u, "label": i18n.fill(t("mail.rating.label"), {"n": str(n)})}
                           for n, u in enumerate(rating_urls, start=1)]
        part["scale"] = t("page.rate.scale")
    else:
        part.update(description=description, code=code and i18n.fill(t("mail.gift.code"),
                                                                     {"code": code}),
                    button={"url": url, "label": t("mail.gift.button." + (
                        gift_kind if gift_kind in ("file", "link") else "other"))})
        if gift_kind in ("file", "link"):
            part["terms"] = i18n.fill(t("mail.gift.terms"), {"days": str(days),
                                                             "n": str(downloads)})
    return part


def _grant_part(kind: str, grant: Grant | None, lang: str) -> dict | None:
    """The gift part of a queued message, from its grant as it is now."""
    if grant is None or (kind in ("welcome", "gift") and grant.revoked_at is not None):
        return None
    gift = grant.gift
    code = None
    if gift.kind == "coupon":
        code = db.session().scalar(select(Coupon.code).where(Coupon.grant_id == grant.id))
    return gift_part(kind, lang, gift.title, description=gift.description, gift_kind=gift.kind,
                     url=grants.page_url(grants.token(grant)), code=code,
                     days=grant.valid_days, downloads=grant.download_limit,
                     rating_urls=[grants.rating_url(grant, n) for n in range(1, 6)]
                     if kind == "followup" else [])


def share_part(subscriber: Subscriber, lang: str, site_name: str) -> dict | None:
    """The thank-you's invitation to share, with the subscriber's own share page."""
    if not subscriber.ref_code:
        return None
    value = tokens.subscriber_value(subscriber.id, subscriber.email_normalized)
    return {"text": i18n.fill(i18n.text("mail.share.text", lang), {"site": site_name}),
            "label": i18n.text("mail.share.button", lang),
            "url": f"{current_app.config['BASE_URL']}/share/{tokens.sign('share', value)}"}


def _friends(message: OutboxMessage, subscriber: Subscriber) -> str:
    """The friends a reward e-mail thanks for: its milestone's number (the count may have
    grown since), else the count now."""
    friends = db.session().scalar(select(MilestoneReward.friends).where(
        MilestoneReward.subscriber_id == subscriber.id,
        MilestoneReward.grant_id == message.grant_id)) if message.grant_id else None
    return str(friends or subscriber.ref_count)


def for_message(message: OutboxMessage, subscriber: Subscriber) -> Email:
    """A queued message to a subscriber, in their language, with their links, the gift
    it names or delivers, and (in the thank-you) their share link."""
    site = db.session().get(Site, subscriber.site_id)
    kind, lang = message.kind, subscriber.lang
    grant = db.session().get(Grant, message.grant_id) if message.grant_id else None
    confirm_url, unsubscribe_url = links(subscriber)
    part = _grant_part("gift" if kind == "reward" else kind, grant, lang)
    if part and kind == "reward":
        part["lead"] = i18n.text("mail.reward.gift", lang)
    return compose(site, kind, lang, site_copy(site.id, kind, lang),
                   to=subscriber.email, name=subscriber.name, message_id=message.message_id,
                   unsubscribe_url=unsubscribe_url,
                   confirm_url=confirm_url if kind == "confirm" else None, gift=part,
                   values={"friends": _friends(message, subscriber)} if kind == "reward" else None,
                   share=share_part(subscriber, lang, site.name) if kind == "welcome" else None)


STORY_WORDS = 12


def story_quote(text: str) -> str:
    """How an e-mail names a story: its first words."""
    words = text.split()
    return " ".join(words[:STORY_WORDS]) + ("…" if len(words) > STORY_WORDS else "")


def for_story(message: OutboxMessage, story: Story) -> Email:
    """The thank-you for a story (with the gift, when the owner gives one) or the owner's
    reply to it, to the address the storyteller gave."""
    site = db.session().get(Site, story.site_id)
    kind, lang = message.kind, story.lang
    grant = db.session().get(Grant, message.grant_id) if message.grant_id else None
    values = {"story": story_quote(story.text)}
    if kind == "story_thanks":
        key = "mail.story.public" if story.consent_publish else "mail.story.private"
        after = (i18n.fill(i18n.text(key, lang), {"site": site.name}),)
    else:
        after = (message.body or story.reply or "",)  # the reply as it was when sent
    return compose(site, kind, lang, site_copy(site.id, kind, lang), to=story.email,
                   name=story.name, message_id=message.message_id, unsubscribe_url=None,
                   gift=_grant_part("gift", grant, lang), values=values, after=after,
                   footer="mail.footer.story")


def owner_of(message: OutboxMessage) -> Owner | None:
    """Whom an e-mail of OWNER_KINDS goes to: its owner, else the site's owner."""
    if message.owner_id:
        return db.session().get(Owner, message.owner_id)
    return db.session().get(Site, message.site_id).owner


def invited(message: OutboxMessage) -> SiteMember | None:
    """The pending invitation an "invite" e-mail is about (None: withdrawn or accepted)."""
    return db.session().scalar(select(SiteMember).where(
        SiteMember.site_id == message.site_id, SiteMember.email == message.body,
        SiteMember.accepted_at.is_(None)))


def owner_address(message: OutboxMessage, owner: Owner) -> str:
    """Where an e-mail of OWNER_KINDS goes: the new address it confirms, else the owner's."""
    return message.body if message.kind in ("email_change", "invite") else owner.email


def for_owner(message: OutboxMessage, owner: Owner) -> Email:
    """An e-mail to an owner: a password reset link (one hour, once), the link that
    confirms a new address (sent to it), or, in the site's
    language, a webhook switched off after failing for WEBHOOK_RETRY_HOURS (its address,
    why, and a link to its log)."""
    cfg = current_app.config
    if message.kind == "password_reset":
        from_sites = ", ".join(s.name for s in owner.sites) or PRODUCT
        return compose(None, message.kind, message.lang,
                       default_copy(message.kind, message.lang), to=owner.email, name=None,
                       message_id=message.message_id, unsubscribe_url=None,
                       values={"email": owner.email, "sites": from_sites},
                       footer="mail.footer.account",
                       confirm_url=f"{cfg['BASE_URL']}/dashboard/reset/"
                                   f"{accounts.reset_token(owner)}",
                       button="mail.password_reset.button")
    if message.kind == "email_change":  # to the new address, kept in the row's body
        return compose(None, message.kind, message.lang,
                       default_copy(message.kind, message.lang), to=message.body, name=None,
                       message_id=message.message_id, unsubscribe_url=None,
                       values={"email": owner.email, "new": message.body},
                       footer="mail.footer.account_email",
                       confirm_url=f"{cfg['BASE_URL']}/dashboard/email/"
                                   f"{accounts.email_change_token(owner, message.body)}",
                       button="mail.email_change.button")
    site = db.session().get(Site, message.site_id)
    if message.kind == "invite":  # to the address invited; `owner`: who invited
        found = invited(message)
        return compose(site, message.kind, message.lang,
                       default_copy(message.kind, message.lang), to=message.body, name=None,
                       message_id=message.message_id, unsubscribe_url=None,
                       values={"inviter": owner.email, "role": i18n.text(
                           f"role.{found.role}", message.lang)},
                       footer="mail.footer.invite",
                       confirm_url=f"{cfg['BASE_URL']}/dashboard/join/"
                                   f"{members.invite_token(found)}",
                       button="mail.invite.button")
    hook = db.session().get(Webhook, message.webhook_id)
    values = {"url": hook.url, "reason": hook.disabled_reason or "",
              "hours": f"{cfg['WEBHOOK_RETRY_HOURS']:g}"}
    return compose(site, message.kind, message.lang, default_copy(message.kind, message.lang),
                   to=owner.email, name=None, message_id=message.message_id,
                   unsubscribe_url=None, values=values, footer="mail.footer.owner",
                   confirm_url=f"{cfg['BASE_URL']}/dashboard/sites/{site.id}/webhooks/{hook.id}",
                   button="mail.webhook_disabled.button")
