"""How every page behind a link answers (confirm, unsubscribe, gift, rating, share): in
the person's language, never cached, and naming no referrer, since its URL holds a
token."""
from __future__ import annotations

from flask import Response, render_template, request

from widget.core import i18n

NO_STORE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


def visitor_lang(*fallbacks: str | None) -> str:
    """The visitor's browser's language if we speak it, else the first fallback we do."""
    return i18n.best_lang(request.accept_languages.best_match(i18n.LANGS), *fallbacks)


def render(template: str, lang: str, status: int = 200, **context) -> Response:
    """A public template in `lang` (its `t` translates)."""
    body = render_template(template, lang=lang, t=i18n.translator(lang), **context)
    return Response(body, status=status, headers=NO_STORE)


def message(lang: str, key: str, values: dict | None = None, status: int = 200,
            form: tuple | None = None, **extra) -> Response:
    """The title and text of page.`key`, at most one button (form = (action URL, button
    string key)), and whatever else public/message.html shows (gifts, share)."""
    t, values = i18n.translator(lang), values or {}
    return render("public/message.html", lang, status,
                  title=i18n.fill(t(f"page.{key}.title"), values),
                  text=i18n.fill(t(f"page.{key}.text"), values),
                  form={"action": form[0], "button": t(form[1])} if form else None, **extra)


def invalid(status: int = 400) -> Response:
    """A link that does not work: tampered, cut short, or made for something else."""
    return message(visitor_lang(), "invalid", status=status)
