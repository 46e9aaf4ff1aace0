"""Giving back: referral links and their rewards, the share page, stories, and social
proof that is true."""

from widget.core import i18n
from widget.giveback.strings import GIVEBACK_STRINGS

i18n.register(GIVEBACK_STRINGS, {
    "story": ("story.name", "story.text", "story.rating", "story.no_rating", "proof.rating",
              "story.email", "story.consent", "story.submit", "story.thanks"),
    "proof": ("proof.prev", "proof.next", "proof.rating"),
    "count": ("count",)})
