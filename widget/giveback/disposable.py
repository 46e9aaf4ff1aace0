"""Disposable e-mail domains: a referral from one is held for the owner to look at.

A short list of the most used services, not a complete one (lists of tens of thousands
go stale within weeks); the owner adds the domains they see in Site settings.
"""
from __future__ import annotations

BUILT_IN = frozenset("""
10minutemail.com 20minutemail.com 33mail.com anonaddy.me burnermail.io discard.email
dispostable.com dropmail.me emailondeck.com fakeinbox.com getairmail.com getnada.com
guerrillamail.biz guerrillamail.com guerrillamail.de guerrillamail.net guerrillamail.org
guerrillamailblock.com harakirimail.com inboxkitten.com jetable.org mail.tm mail-temp.com
maildrop.cc mailinator.com mailinator.net mailnesia.com mailpoof.com mintemail.com
moakt.com mohmal.com mytemp.email nada.email sharklasers.com spam4.me spamgourmet.com
temp-mail.io temp-mail.org tempail.com tempinbox.com tempmail.dev tempmail.net
tempmailo.com tempr.email throwawaymail.com trashmail.com trashmail.de wegwerfmail.de
yopmail.com yopmail.fr yopmail.net
""".split())


def domains(extra: str | None) -> frozenset[str]:
    """The built-in domains and the owner's own (one per line, or separated by spaces
    or commas; a leading @ is fine)."""
    own = {d.strip().lstrip("@").lower() for d in (extra or "").replace(",", " ").split()}
    return BUILT_IN | {d for d in own if d}


def is_disposable(email: str, extra: str | None = None) -> bool:
    """Whether the address's domain, or a domain it is under, is a disposable one."""
    domain = email.rpartition("@")[2].lower()
    parts = domain.split(".")
    listed = domains(extra)
    return any(".".join(parts[i:]) in listed for i in range(len(parts) - 1))
