"""The dashboard's language and time zone (Flask-Babel): the owner's choice, else the
browser's best of en, nb, de, nl; the owner's IANA zone for dates. Public pages and the
API keep core/i18n.py's strings and are never localised through Babel."""
from __future__ import annotations

from functools import cache
from zoneinfo import available_timezones

from flask import Flask, has_request_context, request
from flask_babel import Babel, format_number, get_locale
from flask_login import current_user

from widget.core import keyset, said
from widget.core.pages import visitor_lang
# The jobs whose stored messages (core/said.py) the dashboard shows, each imported so its
# messages are known in a process that does not run them (gunicorn without the worker).
from widget.mail import batch, bounces  # noqa: F401
from widget.subscribers import import_run, retention  # noqa: F401
from widget.sync import webhook_send  # noqa: F401

# Each language named in itself, as a person looking for theirs reads it.
LANGUAGES = {"en": "English", "nb": "Norsk (bokmål)", "de": "Deutsch", "nl": "Nederlands"}

babel = Babel()


def _on_dashboard() -> bool:
    """Whether this is a dashboard request (False in an app context without a request)."""
    return has_request_context() and request.path.startswith("/dashboard")


def _owner():
    """The logged-in owner on a dashboard page, else None (nothing else is localised)."""
    if not _on_dashboard():
        return None
    return current_user if current_user.is_authenticated else None


def dashboard_locale() -> str:
    """The owner's chosen language, else the browser's best of ours (en when none fits);
    English outside the dashboard, whose pages translate themselves, and outside a request
    (the CLI, the workers)."""
    if not _on_dashboard():
        return "en"
    owner = _owner()
    if owner is not None and owner.lang in LANGUAGES:
        return owner.lang
    return visitor_lang("en")


def dashboard_time_zone() -> str | None:
    """The owner's time zone for the dates the dashboard shows (None: UTC)."""
    owner = _owner()
    return owner.time_zone if owner is not None else None


@cache
def time_zones() -> dict[str, str]:
    """Every IANA zone name we know, by its lower-case spelling (a typed name's case is
    forgiven)."""
    return {name.lower(): name for name in available_timezones()
            if "/" in name and not name.startswith(("Etc/", "SystemV/"))} | {"utc": "UTC"}


def count(number: int) -> str:
    """A number in the page's language ("1 234" in nb, "1.234" in de), as it is."""
    return format_number(number)


def capped(number: int) -> str:
    """A total that count_to_cap counted, in the page's language: "10 000+" beyond
    keyset.CAP, where it stopped counting."""
    return format_number(keyset.CAP) + "+" if number > keyset.CAP else format_number(number)


def init_app(app: Flask) -> None:
    """Flask-Babel with the catalogues in widget/translations (`_`, `ngettext` and
    {% trans %} in templates), the `count`, `capped` and `said` filters and `current_locale()` for
    <html lang>."""
    babel.init_app(app, locale_selector=dashboard_locale,
                   timezone_selector=dashboard_time_zone)
    # A {% trans %} block's line breaks and indentation are not part of its message.
    app.jinja_env.policies["ext.i18n.trimmed"] = True
    app.add_template_filter(count, "count")
    app.add_template_filter(capped, "capped")
    app.add_template_filter(said.shown, "said")  # what a job stored, in this language
    app.add_template_global(lambda: str(get_locale()), "current_locale")
