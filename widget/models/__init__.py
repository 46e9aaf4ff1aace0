"""The tables every capability shares, one module per area; import them from here."""
from .base import Base, public_id, utcnow
from .core import (Consent, Owner, Site, SiteOrigin, StatusChange, Subscriber, Widget,
                   WidgetDay)
from .gifts import Coupon, Gift, GiftFile, GiftFileChunk, Grant
from .mail import MailTemplate, OutboxMessage
from .referrals import Milestone, MilestoneReward, Referral
from .stories import Story

__all__ = ["Base", "public_id", "utcnow", "Owner", "Site", "SiteOrigin", "Widget",
           "Subscriber", "Consent", "WidgetDay", "StatusChange", "OutboxMessage",
           "MailTemplate", "GiftFile", "GiftFileChunk", "Gift", "Grant", "Coupon", "Referral",
           "Milestone", "MilestoneReward", "Story"]
