"""What each role may do on a site's pages, route by route, checked before any view runs.

Every dashboard route of a site is listed here with the role it needs to read (GET) and
to act (POST); one missing needs "owner" and fails tests/test_roles.py, so a new route
cannot slip through unchecked. Viewers read; editors also change widgets, gifts, texts,
stories and referrals; only owners manage members, keys, connectors, webhooks, contacts'
data, exports, erasure and the site itself.
"""
from __future__ import annotations

from flask import abort, g, request
from flask_login import current_user

from widget.core import db
from widget.dashboard.blueprint import bp
from widget.dashboard.owned import site_by_id
from widget.sites import members

VIEW, EDIT, OWN = "viewer", "editor", "owner"
NEED: dict[str, tuple[str, str]] = {
    # the site, its numbers and settings
    "site": (VIEW, OWN), "stats_page": (VIEW, OWN), "stats_csv": (VIEW, OWN),
    "site_settings": (VIEW, OWN),
    "reset_signups": (OWN, OWN), "delete_site_page": (OWN, OWN), "site_members": (OWN, OWN),
    "member_role": (OWN, OWN), "hand_over": (OWN, OWN),
    # widgets and their tests
    "new_widget": (EDIT, EDIT), "edit_widget": (VIEW, EDIT), "delete_widget": (EDIT, EDIT),
    "toggle_widget": (EDIT, EDIT), "widget_tests": (VIEW, EDIT), "end_test": (EDIT, EDIT),
    # gifts
    "new_gift": (EDIT, EDIT), "gift": (VIEW, EDIT), "edit_gift": (VIEW, EDIT),
    "delete_gift": (EDIT, EDIT),
    "generate_coupons": (EDIT, EDIT), "import_coupons": (EDIT, EDIT), "renew_grant": (EDIT, EDIT),
    "withdraw_grant": (EDIT, EDIT), "ledger_csv": (OWN, OWN),
    # texts
    "mail_copy": (VIEW, EDIT), "mail_copy_preview": (VIEW, EDIT), "mail_copy_reset": (EDIT, EDIT),
    # giving back
    "referrals": (VIEW, EDIT), "add_milestone": (EDIT, EDIT), "delete_milestone": (EDIT, EDIT),
    "approve_referral": (EDIT, EDIT), "decline_referral": (EDIT, EDIT), "stories": (VIEW, EDIT),
    "approve_story": (EDIT, EDIT), "reject_story": (EDIT, EDIT), "reply_story": (EDIT, EDIT),
    # contacts: read by all, changed, exported and erased by owners
    "contacts": (VIEW, OWN), "contact": (VIEW, OWN), "contact_data": (OWN, OWN),
    "contacts_csv": (OWN, OWN),
    "contacts_jsonl": (OWN, OWN), "add_contact": (OWN, OWN), "edit_contact": (OWN, OWN),
    "unsubscribe_contact": (OWN, OWN), "resend_contact": (OWN, OWN), "erase_contact": (OWN, OWN),
    "bulk_contacts": (OWN, OWN), "contact_imports": (OWN, OWN), "contact_import": (OWN, OWN),
    "import_progress": (OWN, OWN), "check_import": (OWN, OWN), "start_import": (OWN, OWN),
    "discard_import": (OWN, OWN),
    # mail sent
    "outbox_list": (VIEW, OWN), "outbox_message": (VIEW, OWN), "outbox_html": (VIEW, OWN),
    "outbox_retry": (OWN, OWN),
    # the outside world
    "api_keys": (OWN, OWN), "revoke_key": (OWN, OWN), "site_webhooks": (OWN, OWN),
    "webhook": (OWN, OWN),
    "delete_webhook": (OWN, OWN), "enable_webhook": (OWN, OWN), "test_webhook": (OWN, OWN),
    "webhook_again": (OWN, OWN), "connectors": (OWN, OWN), "connector": (OWN, OWN),
    "test_connector": (OWN, OWN), "backfill_connector": (OWN, OWN),
    "backfill_progress": (OWN, OWN),
    "disconnect_connector": (OWN, OWN),
    # new posts by e-mail: the blog's feeds; the plan, Send now and Cancel mail the whole
    # list (owners); a test goes only to the person asking (editors, as the copy editor)
    "letters": (VIEW, OWN), "check_feed": (OWN, OWN), "remove_feed": (OWN, OWN),
    "letter_plan": (OWN, OWN), "send_letter": (OWN, OWN), "cancel_letter": (OWN, OWN),
    "letter_progress": (VIEW, OWN),
    "letter_preview": (VIEW, EDIT), "letter_preview_html": (VIEW, EDIT),
    "letter_test": (EDIT, EDIT),
}


def need(endpoint: str, method: str) -> str:
    """The role a request to a site's route needs (owner for a route not listed)."""
    read, write = NEED.get(endpoint.removeprefix("dashboard."), (OWN, OWN))
    return read if method in ("GET", "HEAD") else write


def can(endpoint: str, method: str = "GET") -> bool:
    """Whether the current person's role on the page's site allows a route: templates
    show only the links and buttons that would work."""
    role = g.get("site_role")
    return role is not None and members.RANK[role] >= members.RANK[
        need("dashboard." + endpoint, method)]


bp.app_context_processor(lambda: {"can": can})


@bp.before_request
def _check_role():
    """404 for a site the person is not on (as for no site at all), 403 for a page or
    action their role does not allow; the role is kept for the templates."""
    site_id = (request.view_args or {}).get("site_id")
    if site_id is None or not current_user.is_authenticated:
        return  # not a site's page, or login_required answers first
    site = site_by_id(site_id)
    role = members.role_of(db.session(), site, current_user.id) if site else None
    if role is None:
        abort(404)
    g.site_role = role
    if members.RANK[role] < members.RANK[need(request.endpoint, request.method)]:
        abort(403)
