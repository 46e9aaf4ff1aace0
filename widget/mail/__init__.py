"""E-mail: the worker that sends the outbox, rendering (the owner's copy or ours) and SMTP."""

from widget.core import i18n
from widget.mail.strings import MAIL_STRINGS

i18n.register(MAIL_STRINGS)
