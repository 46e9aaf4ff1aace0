"""The tables every capability shares, one module per area; import them from here."""
from widget.models.abtests import VARIANT_FIELDS, WidgetTest, WidgetVariant
from widget.models.base import MAX_ID, Base, public_id, utcnow
from widget.models.core import (STAT_COUNTERS, STAT_DIMS, Consent, Owner, Site, SiteOrigin,
                                StatDay, StatusChange, Subscriber, Widget)
from widget.models.contacts import AuditEntry, ContactImport, ContactTag, ImportChunk
from widget.models.gifts import Coupon, Gift, GiftFile, GiftFileChunk, Grant
from widget.models.hooks import Connector, Event, Webhook
from widget.models.insight import StatMonth, StatMonthDone
from widget.models.keys import ApiKey
from widget.models.letters import LETTER_MODES, LETTER_STATES, Feed, FeedItem, Letter, LetterPlan
from widget.models.mail import MailTemplate, OutboxMessage
from widget.models.members import ROLES, SiteMember
from widget.models.referrals import Milestone, MilestoneReward, Referral
from widget.models.stories import Story

__all__ = ["MAX_ID", "Base", "public_id", "utcnow", "Owner", "Site", "SiteOrigin", "Widget",
           "Subscriber", "Consent", "StatDay", "STAT_COUNTERS", "STAT_DIMS", "StatusChange", "OutboxMessage",
           "MailTemplate", "GiftFile", "GiftFileChunk", "Gift", "Grant", "Coupon", "Referral",
           "Milestone", "MilestoneReward", "Story", "ApiKey", "ContactTag", "AuditEntry",
           "ContactImport", "ImportChunk", "Event", "Webhook", "Connector", "WidgetTest",
           "WidgetVariant", "VARIANT_FIELDS", "SiteMember", "ROLES", "Feed", "FeedItem",
           "LETTER_MODES", "LETTER_STATES", "Letter", "LetterPlan", "StatMonth", "StatMonthDone"]
