"""A letter of new posts as an e-mail: to a reader (kind "letter"), or as a test or a
preview to an owner. The owner's copy of kind "letter" gives the subject and the intro;
then each post (title, safe summary, link), the reader's share page (giving back), the
web version and the unsubscribe link with RFC 8058's one-click headers. Nothing tracks:
no pixel, no redirected links."""
from __future__ import annotations

import secrets

from flask import current_app, g
from markupsafe import escape

from widget.core import db, i18n, tokens
from widget.letters import content, feeds, sending
from widget.mail import render
from widget.models import OutboxMessage, Site, Subscriber


def web_url(letter_id: int) -> str:
    """The letter's web version: one page for every reader, no one's links on it (so one
    link a batch, per app context, does for all)."""
    made = g.setdefault("letter_web", {})
    if letter_id not in made:
        made[letter_id] = (f"{current_app.config['BASE_URL']}/letter/"
                           f"{tokens.sign('letter', letter_id)}")
    return made[letter_id]


def posts_of(letter_id: int) -> list[dict]:
    """The letter's posts as the templates show them; read once per batch (per app
    context), as a letter's posts are the same for all its readers."""
    cache = g.setdefault("letter_posts", {})
    if letter_id not in cache:
        cache[letter_id] = content.for_template(sending.posts(db.session(), letter_id))
    return cache[letter_id]


def values(posts: list[dict], lang: str) -> dict:
    """The letter's placeholders: {posts} (the first title, "and N more") and {count}."""
    first = posts[0]["title"] if posts else ""
    named = first if len(posts) <= 1 else i18n.fill(
        i18n.text("mail.letter.more", lang), {"title": first, "more": str(len(posts) - 1)})
    return {"posts": named, "count": str(len(posts))}


def _copy(site: Site, lang: str, test: bool) -> render.Copy:
    copy = render.site_copy(site.id, "letter", lang)
    if test:
        copy = render.Copy(i18n.fill(i18n.text("mail.letter.test", lang),
                                     {"subject": copy.subject}), copy.body)
    return copy


def compose(site: Site, posts: list[dict], lang: str, *, to: str, name: str | None,
            message_id: str, web: str | None, unsubscribe_url: str | None,
            share: dict | None = None, test: bool = False) -> render.Email:
    """The letter's e-mail in `lang`; `test`: marked so in its subject, for an owner."""
    return render.compose(site, "letter", lang, _copy(site, lang, test), to=to, name=name,
                          message_id=message_id, unsubscribe_url=unsubscribe_url,
                          values=values(posts, lang), share=share, posts=posts, web_url=web)


# Stand-ins for what differs between two readers of one letter in one language: the
# letter's words are drafted once per batch with these in place, then each reader's
# values replace them (escaped for HTML as the template would). Letters and digits only,
# so no template escaping or line folding touches them.
NAME, UNSUBSCRIBE, SHARE = (f"zq{part}{secrets.token_hex(6)}qz"
                            for part in ("name", "unsub", "share"))


def personal(site: Site, posts: list[dict], lang: str, *, to: str, name: str | None,
             message_id: str, web: str, unsubscribe_url: str,
             share: dict | None) -> render.Email:
    """The same e-mail as compose(), for one reader of many: the words are drafted once
    per app context (a worker's batch) for each language and each way the reader's
    parts can be (with or without a name, a share link), and only the reader's name and
    links are put in. A name with a line break (which would change the paragraphs) is
    drafted on its own."""
    if name and ("\n" in name or "\r" in name):
        return compose(site, posts, lang, to=to, name=name, message_id=message_id, web=web,
                       unsubscribe_url=unsubscribe_url, share=share)
    drafts = g.setdefault("letter_drafts", {})
    key = (site.id, tuple(p["url"] or p["title"] for p in posts), lang, web, bool(name),
           share is not None and share["text"])
    made = drafts.get(key)
    if made is None:
        made = drafts[key] = render.draft(
            site, "letter", lang, _copy(site, lang, False), name=NAME if name else None,
            unsubscribe_url=UNSUBSCRIBE, values=values(posts, lang), posts=posts, web_url=web,
            share={**share, "url": SHARE} if share else None)
    own = {NAME: name or "", UNSUBSCRIBE: unsubscribe_url, SHARE: share["url"] if share else ""}
    text, html = made.text, made.html
    for stand_in, value in own.items():
        text, html = text.replace(stand_in, value), html.replace(stand_in, str(escape(value)))
    mine = render.Draft(made.head, made.subject, text, html)
    return render.Email(render.write(mine, to=to, message_id=message_id,
                                     unsubscribe_url=unsubscribe_url, lang=lang), made.subject)


def for_message(message: OutboxMessage, subscriber: Subscriber) -> render.Email:
    """A queued letter to one reader, in their language, with their own links."""
    site = db.session().get(Site, subscriber.site_id)
    lang = subscriber.lang
    share = render.share_part(subscriber, lang, site.name)
    if share:
        share["text"] = i18n.fill(i18n.text("mail.letter.share", lang), {"site": site.name})
    return personal(site, posts_of(message.letter_id), lang, to=subscriber.email,
                    name=subscriber.name, message_id=message.message_id,
                    web=web_url(message.letter_id),
                    unsubscribe_url=render.unsubscribe_link(subscriber), share=share)


def next_posts(site_id: str, letter_id: int | None) -> list[dict]:
    """The posts a preview or a test shows: the letter's, or with no letter waiting the
    newest posts found (an example of what the next letter will look like)."""
    if letter_id is not None:
        return posts_of(letter_id)
    session = db.session()
    found = feeds.newest_items(session, [f.id for f in feeds.feeds_of(session, site_id)],
                               limit=3)
    return content.for_template(reversed(found))


def for_owner(site: Site, letter_id: int | None, lang: str, *, to: str, message_id: str,
              test: bool) -> render.Email:
    """The next letter as a reader of `lang` would get it (without their own links), to
    an owner: the dashboard's preview, or a test sent to them."""
    return compose(site, next_posts(site.id, letter_id), lang, to=to, name=None,
                   message_id=message_id, web=web_url(letter_id) if letter_id else None,
                   unsubscribe_url=None, test=test)


def for_test(message: OutboxMessage, owner) -> render.Email:
    """A queued test of a letter ("letter_test") to the owner who asked for it."""
    site = db.session().get(Site, message.site_id)
    return for_owner(site, message.letter_id, message.lang, to=owner.email,
                     message_id=message.message_id, test=True)
