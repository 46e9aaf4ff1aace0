"""Sharing a site: invite a person by e-mail with a role, they accept with the account of
that address (or make one), and the site's owners change roles or remove them.

Roles rank viewer < editor < owner; the site's creator is an owner without a row. An
invitation's link is bound to its row and address: removed or re-sent, an old link stops.
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from widget.core import outbox, tokens
from widget.models import ROLES, Owner, Site, SiteMember, utcnow
from widget.sites import audit
from widget.sites.accounts import N_, AccountError, normalize_owner_email

RANK = {role: rank for rank, role in enumerate(ROLES)}
INVITE_SECONDS = 7 * 86400


def role_of(session: Session, site: Site, owner_id: int) -> str | None:
    """What `owner_id` may do on `site`: owner, editor, viewer, or None (nothing)."""
    if site.owner_id == owner_id:
        return "owner"
    return session.scalar(select(SiteMember.role).where(
        SiteMember.site_id == site.id, SiteMember.owner_id == owner_id,
        SiteMember.accepted_at.is_not(None)))


def site_ids_of(session: Session, owner_id: int) -> list[str]:
    """The sites an owner belongs to by invitation (their own sites aside)."""
    return list(session.scalars(select(SiteMember.site_id).where(
        SiteMember.owner_id == owner_id, SiteMember.accepted_at.is_not(None))))


def invite(session: Session, site: Site, email: str, role: str, by: Owner, lang: str,
           mail_from: str) -> SiteMember:
    """Invite `email` to `site` as `role` and queue the invitation (the caller commits);
    AccountError when the address is not one, or is a member (or the owner) already."""
    if role not in ROLES:
        raise AccountError(N_("Choose a role: viewer, editor or owner."))
    email = normalize_owner_email(email)
    if site.owner.email.lower() == email or session.scalar(select(SiteMember.id).where(
            SiteMember.site_id == site.id, SiteMember.email == email)):
        raise AccountError(N_("%(email)s is on this site's team already."), email=email)
    member = SiteMember(site_id=site.id, email=email, role=role, invited_by=by.id)
    session.add(member)
    session.flush()
    row = outbox.new_row("invite", outbox.Recipient(site.id, None, email, lang), mail_from,
                         body=email)
    session.add(outbox.OB(**row, owner_id=by.id))  # owner_id: who invited
    audit.record(session, site.id, audit.actor_of_owner(by), "invite", 1,
                 audit.INVITED % {"email": email, "role": role})
    return member


def invite_token(member: SiteMember) -> str:
    """The token of an invitation's link (tokens purpose "invite")."""
    return tokens.sign("invite", [member.id, member.email])


def invitation(session: Session, token: str) -> SiteMember:
    """The pending invitation a link is for; AccountError when the link is broken, older
    than a week, accepted already or withdrawn."""
    try:
        member_id, email = tokens.unsign("invite", token, max_age=INVITE_SECONDS)
        member = session.get(SiteMember, int(member_id))
    except (tokens.TokenInvalid, tokens.TokenExpired, TypeError, ValueError):
        member = email = None
    if member is None or member.email != email or member.accepted_at is not None:
        raise AccountError(N_("This invitation has expired, was used or was withdrawn. Ask "
                              "the site's owner for a new one."))
    return member


def accept(session: Session, member: SiteMember, owner: Owner) -> None:
    """`owner` joins through their invitation; only the account of the invited address
    may (AccountError otherwise). The caller commits."""
    if owner.email.lower() != member.email:
        raise AccountError(N_("This invitation is for %(email)s; you are logged in as "
                              "%(you)s."), email=member.email, you=owner.email)
    member.owner_id, member.accepted_at = owner.id, utcnow()
    audit.record(session, member.site_id, audit.actor_of_owner(owner), "join", 1,
                 member.role)


def hand_over(session: Session, site: Site, member: SiteMember, by: Owner) -> None:
    """Make a member who joined the site's owner of record (sites.owner_id); the one who
    was stays on the team as an owner, and may then leave. The caller commits."""
    if member.owner_id is None:
        raise AccountError(N_("%(email)s has not joined yet."), email=member.email)
    previous, new = site.owner, member.email
    site.owner_id = member.owner_id
    member.email, member.owner_id = previous.email.lower(), previous.id
    member.role, member.accepted_at = "owner", utcnow()
    audit.record(session, site.id, audit.actor_of_owner(by), "handover", 1,
                 audit.HANDED % {"email": new})


def change(session: Session, member: SiteMember, role: str | None, by: Owner) -> None:
    """A member's new role, or (None) their removal. The caller commits."""
    if role is None:
        session.delete(member)
        audit.record(session, member.site_id, audit.actor_of_owner(by), "remove", 1,
                     member.email)
        return
    if role not in ROLES:
        raise AccountError(N_("Choose a role: viewer, editor or owner."))
    member.role = role
    audit.record(session, member.site_id, audit.actor_of_owner(by), "role", 1,
                 audit.NOW % {"email": member.email, "role": role})
