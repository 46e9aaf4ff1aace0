"""What the public endpoints need to know of a site, kept in memory for a few seconds.

Every page view of every host page asks for its site's config, and every sign-up checks
the site's origins, consent rule and widgets: reading those from the database each time
would cost more than the rest of the request. Each process keeps an immutable snapshot
per site for WIDGET_SITE_CACHE_SECONDS; dashboard edits drop the local copy at once.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

from flask import Flask, current_app
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from widget.core import db
from widget.models import Coupon, Gift, Site, Story, Subscriber, Widget, WidgetTest
from widget.sites import abtests, colors, targeting


@dataclass(frozen=True)
class WidgetView:
    id: str
    kind: str
    layout: str
    triggers: tuple[tuple[str, int | None], ...]
    trigger_match: str
    is_live: bool
    lang: str | None
    title: str | None
    description: str | None
    button_label: str | None
    success_message: str | None
    no_thanks_label: str | None
    quiet_days_after_close: int
    quiet_days_after_signup: int
    theme: tuple[tuple[str, str], ...] | None
    rules: tuple[tuple[str, str, int], ...]  # targeting, as the loader checks it
    page_langs: frozenset[str]  # empty: every language
    gift_id: str | None
    gift_mode: str  # first, gated
    style: str = "list"  # kind 'proof': list or carousel
    tags: tuple[str, ...] = ()  # put on its sign-ups (stored clean, comma-separated)
    # A/B test: a variant's id (0: the widget itself) and the pattern of first-visit
    # times that get it; the widget's running test as its variants' views.
    variant: int = 0
    pick: str = ""
    variants: tuple["WidgetView", ...] = ()

    def as_variant(self, variant_id) -> "WidgetView":
        """The view of one of this widget's running variants by the id a browser sent;
        the widget itself for none, or for an id no longer running."""
        return next((v for v in self.variants if v.variant == variant_id), self)


@dataclass(frozen=True)
class GiftView:
    id: str
    kind: str
    title: str
    description: str | None
    bonus_html: str | None
    show_left: bool
    link_days: int
    download_limit: int
    is_active: bool
    # How many are left when the snapshot was taken (None: no limit). The cap itself is
    # enforced in the database when a gift is given, never from this number.
    left: int | None

    @property
    def out(self) -> bool:
        """Nothing left to give (or switched off): offer the newsletter instead."""
        return not self.is_active or self.left == 0


@dataclass(frozen=True)
class StoryView:
    name: str
    text: str
    rating: int | None


@dataclass(frozen=True)
class SiteView:
    id: str
    default_lang: str
    require_consent: bool
    consent_text: str | None
    popup_cap: int
    reset_count: int
    double_opt_in: bool
    origins: frozenset[str]
    widgets: tuple[WidgetView, ...]
    gifts: tuple[GiftView, ...]
    # Social proof: the confirmed subscribers when at least the owner's threshold (else
    # None), and the newest approved stories whose tellers allowed them to be shown.
    count: int | None = None
    stories: tuple[StoryView, ...] = ()
    time_zone: str = "UTC"  # whose days the funnel counts in
    # Config bodies already rendered from this snapshot, by page language.
    rendered: dict = field(default_factory=dict, compare=False, repr=False)

    def widget(self, widget_id: str) -> WidgetView | None:
        """One of the site's widgets, live or paused, by id."""
        return next((w for w in self.widgets if w.id == widget_id), None)

    def gift(self, gift_id: str | None) -> GiftView | None:
        """One of the site's gifts by id."""
        return next((g for g in self.gifts if g.id == gift_id), None)

    def offer(self, widget: WidgetView | None) -> GiftView | None:
        """The gift a widget offers, if it is a gift widget with a gift."""
        return self.gift(widget.gift_id) if widget and widget.kind == "gift" else None


def left(gift: Gift, free_codes: int | None) -> int | None:
    """How many of a gift can still be given: the cap less those given, and for coupons
    no more than the codes not yet given."""
    counts = [n for n in (None if gift.quantity is None else gift.quantity - gift.given_count,
                          free_codes if gift.kind == "coupon" else None) if n is not None]
    return max(0, min(counts)) if counts else None


def free_codes(session, gift_ids: list[str]) -> dict[str, int]:
    """Coupon codes not yet given, by gift."""
    if not gift_ids:
        return {}
    return dict(session.execute(
        select(Coupon.gift_id, func.count(Coupon.id))
        .where(Coupon.gift_id.in_(gift_ids), Coupon.given_at.is_(None))
        .group_by(Coupon.gift_id)).all())


def _gift(gift: Gift, codes: dict[str, int]) -> GiftView:
    return GiftView(gift.id, gift.kind, gift.title, gift.description, gift.bonus_html,
                    gift.show_left, gift.link_days, gift.download_limit, gift.is_active,
                    left(gift, codes.get(gift.id, 0)))


def _widget(w: Widget, changes: dict, **extra) -> WidgetView:
    """A widget's view, with what a variant changes of it (VARIANT_FIELDS) over it."""
    def get(name):
        return changes.get(name, getattr(w, name))
    return WidgetView(
        w.id, w.kind, get("layout"), tuple(tuple(t) for t in get("triggers")),
        get("trigger_match"), w.is_live, w.lang, get("title"), get("description"),
        get("button_label"), get("success_message"), get("no_thanks_label"),
        w.quiet_days_after_close, w.quiet_days_after_signup,
        _theme(get("color_bg"), get("color_fg"), get("color_accent")),
        targeting.compile_widget(w), frozenset(filter(None, (w.page_langs or "").split(","))),
        w.gift_id, get("gift_mode"), w.style or "list",
        tuple(filter(None, (w.tags or "").split(","))), **extra)


def _with_test(w: Widget, test: WidgetTest | None) -> WidgetView:
    if test is None:
        return _widget(w, {})
    n = len(test.variants)
    return _widget(w, {}, variants=tuple(
        _widget(w, v.changes, variant=v.id, pick=abtests.pick(v.position, n, test.digit))
        for v in test.variants))


def _snapshot(site: Site, codes: dict[str, int], count: int | None,
              stories: tuple[StoryView, ...], tests: dict[str, WidgetTest]) -> SiteView:
    return SiteView(
        site.id, site.default_lang, site.require_consent, site.consent_text,
        site.popup_cap, site.reset_count, site.double_opt_in,
        frozenset(o.origin for o in site.origins),
        tuple(_with_test(w, tests.get(w.id)) for w in site.widgets),
        tuple(_gift(g, codes) for g in site.gifts), count, stories, site.time_zone)


SHOWN_STORIES = 12


def _proof(session, site: Site) -> tuple[int | None, tuple[StoryView, ...]]:
    """The subscriber count (only once it reaches the owner's threshold: nothing is
    rounded up or made up) and, for a site with a proof widget, the stories to show."""
    count = None
    if site.count_threshold:
        found = session.scalar(select(func.count(Subscriber.id)).where(
            Subscriber.site_id == site.id, Subscriber.status == "confirmed"))
        count = found if found >= site.count_threshold else None
    stories = ()
    if any(w.kind == "proof" for w in site.widgets):
        stories = tuple(StoryView(s.name, s.text, s.rating) for s in session.scalars(
            select(Story).where(Story.site_id == site.id, Story.status == "approved",
                                Story.consent_publish.is_(True))
            .order_by(Story.created_at.desc(), Story.id.desc()).limit(SHOWN_STORIES)))
    return count, stories


def _theme(bg, fg, accent) -> tuple[tuple[str, str], ...] | None:
    found = colors.theme(bg, fg, accent)
    return tuple(found.items()) if found else None


def _cache() -> dict:
    return current_app.extensions.setdefault("widget.siteviews", {})


def get(site_id: str) -> SiteView | None:
    """The site's snapshot, at most WIDGET_SITE_CACHE_SECONDS old, or None if unknown."""
    if len(site_id) > 64:
        return None
    cache, now = _cache(), time.monotonic()
    hit = cache.get(site_id)
    if hit and hit[0] > now:
        return hit[1]
    # Its own short session, not the request's: a request that goes on to write in
    # plain SQL (a sign-up, a gift) then never holds two pooled connections at once,
    # which under load would leave every connection waiting for a second one.
    with Session(db.engine()) as session:
        site = session.scalar(
            select(Site).where(Site.id == site_id)
            .options(selectinload(Site.origins), selectinload(Site.widgets),
                     selectinload(Site.gifts)))
        view = None
        if site is not None:
            coupons = [g.id for g in site.gifts if g.kind == "coupon"]
            view = _snapshot(site, free_codes(session, coupons), *_proof(session, site),
                             abtests.running(session, site.id))
    ttl = current_app.config["SITE_CACHE_SECONDS"]
    if view and ttl > 0:
        cache[site_id] = (now + ttl, view)
    return view


def peek(app: Flask, site_id: str) -> SiteView | None:
    """The site's snapshot if this process holds a fresh one; never touches the database."""
    hit = app.extensions.get("widget.siteviews", {}).get(site_id)
    return hit[1] if hit and hit[0] > time.monotonic() else None


def invalidate(site_id: str) -> None:
    """Forget this process's snapshot of a site (after the owner changed it)."""
    _cache().pop(site_id, None)
