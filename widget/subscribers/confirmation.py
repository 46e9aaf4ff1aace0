"""What a confirmed address sets off, in the transaction that confirms it: whether by the
confirm page's POST or by a sign-up that needs no confirmation."""
from __future__ import annotations

from datetime import datetime

from widget.core import events
from widget.core.outbox import Recipient
from widget.core.rawsql import Tx
from widget.gifts import ledger
from widget.giveback import referrals
from widget.insight import counters


CAME_THROUGH = "SELECT widget_id, page_url, variant_id FROM subscribers WHERE id = :id"


def on_confirmed(tx: Tx, to: Recipient, now: datetime, mail_from: str) -> None:
    """The contact.confirmed event, the funnel's count for the widget they came through,
    a referral code for the new subscriber and the fate
    of the referral that brought them; the gifts that waited released, the thank-you
    e-mail and the follow-ups."""
    events.about_contact(tx, to.site_id, "contact.confirmed", to.subscriber_id, now)
    widget_id, page_url, variant = tx.one(CAME_THROUGH, id=to.subscriber_id)
    counters.count(tx, to.site_id, widget_id, "confirmed", page_url=page_url, lang=to.lang,
                   variant=variant, now=now)
    referrals.on_confirmed(tx, to, now, mail_from)
    ledger.on_confirmed(tx, to, now, mail_from)
