"""A subscriber's share links: where /r/<code> leads, the networks' share URLs (plain
links: no scripts or pixels of theirs on any page), and the progress toward the next
milestone."""
from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

from flask import current_app
from sqlalchemy import func, select

from widget.core import db, i18n
from widget.models import Milestone, MilestoneReward, Referral, Site, Subscriber
from widget.sites import origins

# Each network's share address for a link and a message; e-mail is a mailto: link.
NETWORKS = {
    "x": ("X", "https://x.com/intent/post?{text_and_url}"),
    "facebook": ("Facebook", "https://www.facebook.com/sharer/sharer.php?u={url}"),
    "linkedin": ("LinkedIn", "https://www.linkedin.com/sharing/share-offsite/?url={url}"),
    "whatsapp": ("WhatsApp", "https://wa.me/?text={message}"),
    "telegram": ("Telegram", "https://t.me/share/url?{text_and_url}"),
}


def referral_url(code: str) -> str:
    """The link a subscriber shares: /r/<code> on the public base URL."""
    return f"{current_app.config['BASE_URL']}/r/{code}"


def landing(site: Site, referrer: Subscriber, code: str) -> str | None:
    """Where a friend's visit to /r/<code> goes: the owner's landing page, else the page
    the referrer signed up on, else the site's first origin; only ever on one of the
    site's allowed origins, with ref=<code> added for the loader to keep (and the
    landing page's own query when the owner set one)."""
    view_origins = {o.origin for o in site.origins}
    # The referrer's page without its query: what was in it (tracking ids, even an
    # address) is theirs and goes to no friend.
    own_page = _without_query(referrer.page_url)
    for candidate in (site.ref_landing, own_page, *(f"{o}/" for o in sorted(view_origins))):
        if candidate and _on(candidate, view_origins):
            parts = urlsplit(candidate)
            query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
                     if k != "ref"] + [("ref", code)]
            return urlunsplit((parts.scheme, parts.netloc, parts.path or "/",
                               urlencode(query), ""))
    return None


def _without_query(url: str | None) -> str | None:
    try:
        return urlunsplit(urlsplit(url)[:3] + ("", "")) if url else None
    except ValueError:  # not a URL at all: the next candidate applies
        return None


def _on(url: str, allowed: set[str]) -> bool:
    """Whether `url` is an absolute http(s) URL on one of the allowed origins (no user
    info, no control characters or backslashes a browser might read another way)."""
    if any(c in url for c in "\\\r\n\t") or not url.lower().startswith(("http://", "https://")):
        return False
    try:
        parts = urlsplit(url)
        return not (parts.username or parts.password) and \
            origins.normalize_origin(f"{parts.scheme}://{parts.netloc}") in allowed
    except ValueError:
        return False


def network_url(network: str, link: str, site_name: str, lang: str) -> str:
    """The share address of one network for the subscriber's link and the personal
    message in their language."""
    message = i18n.fill(i18n.text("share.message", lang), {"site": site_name, "url": link})
    text = i18n.fill(i18n.text("share.message", lang), {"site": site_name, "url": ""}).strip()
    return NETWORKS[network][1].format(
        url=quote(link, safe=""), message=quote(message, safe=""),
        text_and_url=urlencode({"text": text, "url": link}))


def mailto(link: str, site_name: str, lang: str) -> str:
    """E-mail a friend: a mailto: link with a subject and the personal message."""
    values = {"site": site_name, "url": link}
    return "mailto:?" + urlencode({"subject": i18n.fill(i18n.text("share.subject", lang), values),
                                   "body": i18n.fill(i18n.text("share.message", lang), values)},
                                  quote_via=quote)


@dataclass
class Progress:
    counted: int
    on_the_way: int  # confirmed or signed up, not counted yet (waiting, held, pending)
    reached: list  # [(friends, gift title)]
    next: tuple | None  # (friends still needed, gift title)


def progress(subscriber: Subscriber) -> Progress:
    """What the share page tells a subscriber: friends counted, friends on the way, the
    milestones reached and the next one."""
    session = db.session()
    on_the_way = session.scalar(select(func.count(Referral.id)).where(
        Referral.referrer_id == subscriber.id,
        Referral.status.in_(("pending", "waiting", "held"))))
    milestones = session.scalars(select(Milestone).where(Milestone.site_id == subscriber.site_id)
                                 .order_by(Milestone.friends)).all()
    rewarded = set(session.scalars(select(MilestoneReward.milestone_id).where(
        MilestoneReward.subscriber_id == subscriber.id)))
    reached = [(m.friends, m.gift.title) for m in milestones if m.id in rewarded]
    ahead = [m for m in milestones if m.id not in rewarded and m.friends > subscriber.ref_count]
    upcoming = (ahead[0].friends - subscriber.ref_count, ahead[0].gift.title) if ahead else None
    return Progress(subscriber.ref_count, on_the_way, reached, upcoming)
