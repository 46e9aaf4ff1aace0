"""Gifts: files, links, coupon codes and bonus texts given first or after a sign-up, the
signed links that deliver them, and the ledger of what was given to whom."""

from widget.core import i18n
from widget.gifts.strings import GIFT_STRINGS

i18n.register(GIFT_STRINGS, {
    "gift": ("gift.yours", "gift.download", "gift.open", "gift.code", "gift.copy",
             "gift.copied", "gift.left", "gift.gone", "gift.invite", "gift.share",
             "gift.shared")})
