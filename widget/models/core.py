"""Owners, their sites and widgets, subscribers, their consents and status history, and
the widgets' daily counters."""
from __future__ import annotations

from datetime import date, datetime

from flask_login import UserMixin
from sqlalchemy import (JSON, Boolean, Date, DateTime, ForeignKey, Index, Integer, String, Text,
                        UniqueConstraint, literal_column)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from widget.models.base import Base, public_id, utcnow

# Relationships to the gift tables name them by string ("Gift"): widget.models imports
# every area, so SQLAlchemy finds them, and this module need not import gifts (whose
# tables refer back here).

class Owner(UserMixin, Base):
    __tablename__ = "owners"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    # Raised by a password change or reset: sessions carry it, and an older one ends.
    login_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Two-step log-in (sites/twofactor.py): the app's secret, sealed; the last 30-second
    # step a code was used in (no replay); recovery codes' hashes. None: password alone.
    totp_secret: Mapped[str | None] = mapped_column(Text, nullable=True)
    totp_last: Mapped[int | None] = mapped_column(Integer, nullable=True)
    recovery_codes: Mapped[list | None] = mapped_column(JSON, nullable=True)
    # The dashboard's language (en, nb, de, nl; None: the browser's) and the time zone
    # its dates are shown in (an IANA name), both chosen on the account page.
    lang: Mapped[str | None] = mapped_column(String(8), nullable=True)
    time_zone: Mapped[str] = mapped_column(String(64), default="UTC", server_default="UTC")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    sites: Mapped[list["Site"]] = relationship(back_populates="owner", order_by="Site.created_at")

    def get_id(self) -> str:
        """The session's key: the id and the log-in version (blueprint's loader checks both)."""
        return f"{self.id}.{self.login_version}"


class Site(Base):
    __tablename__ = "sites"
    id: Mapped[str] = mapped_column(String(64), primary_key=True,
                                    default=lambda: public_id("s"))
    owner_id: Mapped[int] = mapped_column(ForeignKey("owners.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    default_lang: Mapped[str] = mapped_column(String(8), default="en")
    require_consent: Mapped[bool] = mapped_column(Boolean, default=True)
    consent_text: Mapped[str | None] = mapped_column(Text, nullable=True)
    # Pop-ups one browser may see per visit (30 minutes), across the site's widgets.
    popup_cap: Mapped[int] = mapped_column(Integer, default=1)
    # Raised by the owner's "show again to people who signed up"; browsers remember the
    # value they signed up under.
    reset_count: Mapped[int] = mapped_column(Integer, default=0)
    # E-mail: double opt-in keeps a sign-up pending until the visitor confirms by POST.
    double_opt_in: Mapped[bool] = mapped_column(Boolean, default=True)
    confirm_days: Mapped[int] = mapped_column(Integer, default=7)  # confirm link lifetime
    # The sender of this site's e-mails; None: WIDGET_MAIL_FROM with the site's name.
    sender_name: Mapped[str | None] = mapped_column(String(100), nullable=True)
    sender_email: Mapped[str | None] = mapped_column(String(254), nullable=True)
    reply_to: Mapped[str | None] = mapped_column(String(254), nullable=True)
    # Referrals: a referral counts once the friend has stayed confirmed this many days;
    # suspicious ones (this many from one IP range within an hour, or a disposable
    # address: the built-in list and the owner's extra domains) wait for the owner.
    referral_wait_days: Mapped[int] = mapped_column(Integer, default=0)
    referral_burst: Mapped[int] = mapped_column(Integer, default=3)
    hold_disposable: Mapped[bool] = mapped_column(Boolean, default=True)
    disposable_domains: Mapped[str | None] = mapped_column(Text, nullable=True)
    # Where /r/<code> sends friends (on an allowed origin); None: the page the referrer
    # signed up on, else the first allowed origin.
    ref_landing: Mapped[str | None] = mapped_column(String(2048), nullable=True)
    # Social proof: "Join N readers" once N (confirmed subscribers) reaches this; None: off.
    count_threshold: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # Sign-ups still unconfirmed after this many days are deleted (the worker's sweep).
    unconfirmed_days: Mapped[int] = mapped_column(Integer, default=30)
    # Whose days the funnel counts in: an IANA zone (Europe/Oslo), the owner's choice.
    time_zone: Mapped[str] = mapped_column(String(64), default="UTC")
    story_gift_id: Mapped[str | None] = mapped_column(
        ForeignKey("gifts.id", ondelete="SET NULL", use_alter=True), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    owner: Mapped[Owner] = relationship(back_populates="sites")
    origins: Mapped[list["SiteOrigin"]] = relationship(
        back_populates="site", cascade="all, delete-orphan", order_by="SiteOrigin.origin")
    widgets: Mapped[list["Widget"]] = relationship(
        back_populates="site", cascade="all, delete-orphan", order_by="Widget.created_at")
    gifts: Mapped[list["Gift"]] = relationship(  # noqa: F821 (see above)
        back_populates="site", cascade="all, delete-orphan", order_by="Gift.created_at",
        foreign_keys="Gift.site_id")


class SiteOrigin(Base):
    """One origin (scheme://host[:port]) allowed to embed a site and call its API."""
    __tablename__ = "site_origins"
    __table_args__ = (UniqueConstraint("site_id", "origin"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    origin: Mapped[str] = mapped_column(String(255))
    site: Mapped[Site] = relationship(back_populates="origins")


class Widget(Base):
    __tablename__ = "widgets"
    id: Mapped[str] = mapped_column(String(64), primary_key=True,
                                    default=lambda: public_id("w"))
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32), default="newsletter")
    layout: Mapped[str] = mapped_column(String(32), default="modal")
    # [[kind, value], …]: exit_intent, time (seconds), scroll (% of the page), idle
    # (seconds); `trigger_match` says whether any one or all of them must happen.
    # Empty: only a click on data-widget-open or widget('open', id) shows it.
    triggers: Mapped[list] = mapped_column(JSON, default=lambda: [["exit_intent", None]])
    trigger_match: Mapped[str] = mapped_column(String(3), default="any")
    is_live: Mapped[bool] = mapped_column(Boolean, default=True)
    lang: Mapped[str | None] = mapped_column(String(8), nullable=True)
    # None: the built-in copy in the visitor's language.
    title: Mapped[str | None] = mapped_column(String(200), nullable=True)
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    button_label: Mapped[str | None] = mapped_column(String(80), nullable=True)
    success_message: Mapped[str | None] = mapped_column(Text, nullable=True)
    no_thanks_label: Mapped[str | None] = mapped_column(String(80), nullable=True)
    # Targeting, compiled into rules the loader checks (api/config.py). URL patterns are
    # one per line, '*' matching anything; page_langs is a comma list of codes.
    url_include: Mapped[str | None] = mapped_column(Text, nullable=True)
    url_exclude: Mapped[str | None] = mapped_column(Text, nullable=True)
    device: Mapped[str] = mapped_column(String(8), default="any")
    visitor: Mapped[str] = mapped_column(String(10), default="any")
    referrer: Mapped[str | None] = mapped_column(String(200), nullable=True)
    utm_source: Mapped[str | None] = mapped_column(String(100), nullable=True)
    page_langs: Mapped[str | None] = mapped_column(String(40), nullable=True)
    # Owner colours ('#rrggbb'); None: the default theme. Checked for contrast on entry.
    color_bg: Mapped[str | None] = mapped_column(String(7), nullable=True)
    color_fg: Mapped[str | None] = mapped_column(String(7), nullable=True)
    color_accent: Mapped[str | None] = mapped_column(String(7), nullable=True)
    quiet_days_after_close: Mapped[int] = mapped_column(Integer, default=14)
    quiet_days_after_signup: Mapped[int] = mapped_column(Integer, default=365)
    # kind 'gift': the gift it offers, and how: 'first' (given at once, no e-mail needed)
    # or 'gated' (released after the sign-up, and its confirmation with double opt-in).
    gift_id: Mapped[str | None] = mapped_column(
        ForeignKey("gifts.id", ondelete="SET NULL"), nullable=True)
    gift_mode: Mapped[str] = mapped_column(String(8), default="first")
    # Tags its sign-ups get, comma-separated (e.g. "checklist-gift").
    tags: Mapped[str | None] = mapped_column(String(300), nullable=True)
    # kind 'proof' (approved stories, inline): 'list' or 'carousel' (one at a time).
    style: Mapped[str | None] = mapped_column(String(16), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow,
                                                 onupdate=utcnow)
    site: Mapped[Site] = relationship(back_populates="widgets")
    gift: Mapped["Gift | None"] = relationship()  # noqa: F821 (see above)


SHARING = "ref_visits > 0 OR share_clicks > 0"  # the rows the referral totals add up


class Subscriber(Base):
    __tablename__ = "subscribers"
    # The unique key also serves look-ups by site; the second index the newest-first list;
    # the partial one the referrals page's totals, with only the contacts who brought or
    # shared anything, not the whole list (its leaderboard's index follows the class).
    __table_args__ = (UniqueConstraint("site_id", "email_normalized"),
                      Index("ix_subscribers_site_created", "site_id", "created_at"),
                      Index("ix_subscribers_site_sharing", "site_id",
                            sqlite_where=literal_column(SHARING),
                            postgresql_where=literal_column(SHARING)))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    email: Mapped[str] = mapped_column(String(254))
    email_normalized: Mapped[str] = mapped_column(String(254))
    name: Mapped[str | None] = mapped_column(String(100), nullable=True)
    # pending (waiting for the confirm POST), confirmed, unsubscribed, bounced (its mail
    # server refused it for good, or soft bounces reached the limit: mail/bounces.py)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    # When the status last changed, and when a confirmation e-mail was last queued
    # (the re-send cooldown counts from it).
    status_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    confirm_sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True),
                                                             nullable=True)
    lang: Mapped[str] = mapped_column(String(8), default="en")
    widget_id: Mapped[str | None] = mapped_column(
        ForeignKey("widgets.id", ondelete="SET NULL"), nullable=True)
    page_url: Mapped[str | None] = mapped_column(String(2048), nullable=True)
    # The A/B test variant they signed up through (its confirmation counts for it): a
    # number as in stat_days, kept when the test is gone.
    variant_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # Referrals: the code in this subscriber's link (given when they confirm), how many
    # friends it brought that count, and how often it was opened and shared.
    ref_code: Mapped[str | None] = mapped_column(String(32), nullable=True, unique=True)
    ref_count: Mapped[int] = mapped_column(Integer, default=0)
    ref_visits: Mapped[int] = mapped_column(Integer, default=0)
    share_clicks: Mapped[int] = mapped_column(Integer, default=0)
    # Bounces: temporary failures counted (one per e-mail; reset by a new confirmation),
    # when the last bounce or complaint came and its mail server's words, kept short.
    soft_bounces: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    bounced_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True),
                                                        nullable=True)
    bounce_note: Mapped[str | None] = mapped_column(String(200), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow,
                                                 onupdate=utcnow)
    widget: Mapped[Widget | None] = relationship()



# The referrals page's leaderboard, in its order (most friends, then the earlier contact):
# only the contacts who brought anyone.
Index("ix_subscribers_site_leaders", Subscriber.site_id, Subscriber.ref_count.desc(),
      Subscriber.id, sqlite_where=literal_column("ref_count > 0"),
      postgresql_where=literal_column("ref_count > 0"))


class Consent(Base):
    """What a person agreed to, when, where and in which words: one row per accepted sign-up."""
    __tablename__ = "consents"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subscriber_id: Mapped[int] = mapped_column(
        ForeignKey("subscribers.id", ondelete="CASCADE"), index=True)
    given: Mapped[bool] = mapped_column(Boolean)
    # signup (the widget's consent text), owner (added by hand) or import; for the last
    # two, `text` is the basis the owner stated.
    basis: Mapped[str] = mapped_column(String(16), default="signup")
    text: Mapped[str] = mapped_column(Text)
    lang: Mapped[str] = mapped_column(String(8))
    widget_id: Mapped[str | None] = mapped_column(
        ForeignKey("widgets.id", ondelete="SET NULL"), nullable=True)
    page_url: Mapped[str | None] = mapped_column(String(2048), nullable=True)
    ip: Mapped[str | None] = mapped_column(String(45), nullable=True)
    user_agent: Mapped[str | None] = mapped_column(String(255), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


# What a funnel counts, in its order (closed: left without signing up, beside it).
STAT_COUNTERS = ("shown", "opened", "closed", "signed_up", "confirmed", "downloaded",
                 "referred", "stories")
# How a day's counts are cut: all of them, and again by page path, language, device class.
STAT_DIMS = ("all", "page", "lang", "device")


class StatDay(Base):
    """One widget's (and variant's) counters for one day in the site's time zone, once
    in all (dim "all", key "") and again per page path, language and device class.
    Counters, not rows per event: no visitor is tracked, and the page never sits beside
    a person."""
    __tablename__ = "stat_days"
    __table_args__ = (UniqueConstraint("widget_id", "variant", "dim", "key", "day",
                                       name="uq_stat_days"),
                      Index("ix_stat_days_site", "site_id", "dim", "day"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    widget_id: Mapped[str] = mapped_column(ForeignKey("widgets.id", ondelete="CASCADE"))
    variant: Mapped[int] = mapped_column(Integer, default=0)  # 0: the widget as it is
    day: Mapped[date] = mapped_column(Date)
    dim: Mapped[str] = mapped_column(String(8), default="all")
    key: Mapped[str] = mapped_column(String(200), default="")
    shown: Mapped[int] = mapped_column(Integer, default=0)
    opened: Mapped[int] = mapped_column(Integer, default=0)
    closed: Mapped[int] = mapped_column(Integer, default=0)
    signed_up: Mapped[int] = mapped_column(Integer, default=0)
    confirmed: Mapped[int] = mapped_column(Integer, default=0)
    downloaded: Mapped[int] = mapped_column(Integer, default=0)
    referred: Mapped[int] = mapped_column(Integer, default=0)
    stories: Mapped[int] = mapped_column(Integer, default=0)


class StatusChange(Base):
    """One change of a subscriber's status, with how it happened: the owner's history."""
    __tablename__ = "status_changes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subscriber_id: Mapped[int] = mapped_column(
        ForeignKey("subscribers.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    # signup, confirm_page, one_click, unsubscribe_page, resubscribe_page, owner (the
    # dashboard), api (the owner API), import, bounce, complaint (mail/bounces.py)
    via: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
