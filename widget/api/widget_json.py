"""The widget config a host page receives: what to show, when, and in which words."""
from __future__ import annotations

import hashlib
import json

from widget.core import assets, i18n
from widget.sites.snapshot import GiftView, SiteView, WidgetView


def site_config(site: SiteView, lang_hint: str | None) -> tuple[bytes, str]:
    """The JSON body and ETag of the site's live widgets for a page in `lang_hint`,
    rendered once per snapshot and language."""
    page_lang = i18n.best_lang(lang_hint, site.default_lang)
    cached = site.rendered.get(page_lang)
    if cached is None:
        body = json.dumps(_build(site, page_lang), ensure_ascii=False,
                          separators=(",", ":")).encode()
        cached = site.rendered[page_lang] = (body, hashlib.sha256(body).hexdigest()[:32])
    return cached


TRIGGER_KEYS = {"exit_intent": "x", "time": "t", "scroll": "s", "idle": "i"}


FRESHNESS = 60  # seconds: the longest an owner's change takes to reach every visitor


def config_headers(etag: str, snapshot_seconds: int) -> list[tuple[str, str]]:
    """Caching headers of a config answer. Browsers may keep it for what is left of a
    minute once a process's site snapshot (up to `snapshot_seconds` old) is counted."""
    max_age = max(0, FRESHNESS - snapshot_seconds)
    return [("ETag", f'"{etag}"'), ("Cache-Control", f"public, max-age={max_age}")]


def gift_success(gift: GiftView, double_opt_in: bool, lang: str) -> str:
    """What a visitor reads after signing up for a gated gift: on its way, or waiting
    for the address to be confirmed."""
    key = "gift.pending" if double_opt_in else "gift.sent"
    return i18n.fill(i18n.text(key, lang), {"gift": gift.title})


def _gift(site: SiteView, w: WidgetView, gift: GiftView, lang: str) -> dict:
    """A gift widget's own part: its gift, how it is given, and the built-in copy."""
    gated = w.gift_mode == "gated"
    newsletter = i18n.success_text(site.double_opt_in, lang)
    return {
        "title": w.title or gift.title,
        "description": w.description or gift.description or "",
        "button": w.button_label or i18n.text("gift.send_me" if gated else "gift.get", lang),
        "success": w.success_message or (gift_success(gift, site.double_opt_in, lang)
                                         if gated else newsletter),
        # For the UI: how it is given (f first, g gated), what kind it is, whether none
        # is left, whether to show the true number left (counted live on show), and
        # what a sign-up for the newsletter alone says.
        "gift": {"id": gift.id, "mode": "g" if gated else "f", "kind": gift.kind,
                 "name": gift.title, "out": gift.out, "count": gift.show_left,
                 "ok": newsletter},
    }


def _giveback(site: SiteView, w: WidgetView, lang: str) -> dict:
    """A story widget's copy, or a proof widget's stories (text only: the UI never
    renders them as HTML)."""
    if w.kind == "story":
        return {"title": w.title or i18n.text("story.title", lang),
                "description": w.description or i18n.text("story.description", lang),
                "button": w.button_label or i18n.text("story.submit", lang),
                "success": w.success_message or i18n.text("story.thanks", lang)}
    return {"title": w.title or i18n.text("proof.title", lang),
            "description": w.description or "", "style": w.style,
            "stories": [{"name": s.name, "text": s.text, "rating": s.rating}
                        for s in site.stories]}


def _entry(site: SiteView, w: WidgetView, page_lang: str) -> dict:
    """One widget (or one variant of it) as the loader and the UI read it."""
    lang = i18n.best_lang(w.lang, page_lang)
    gift = site.offer(w)
    on = [] if w.layout == "inline" else [[TRIGGER_KEYS[kind], value]
                                          for kind, value in w.triggers]
    return {
        "id": w.id, "kind": w.kind, "layout": w.layout,
        # For the loader: triggers (x exit intent, t seconds, s % scrolled, i idle
        # seconds), whether all must happen (never with none: no trigger, no pop-up),
        # and the targeting rules.
        "on": on, "all": w.trigger_match == "all" and bool(on),
        "if": [list(r) for r in w.rules],
        # A/B test: the variant, and which browsers get it (sites/abtests.pick).
        **({"v": w.variant, "a": w.pick} if w.variant else {}),
        "lang": lang,
        "title": w.title or i18n.text("title", lang),
        "description": w.description or i18n.text("description", lang),
        "button": w.button_label or i18n.text("submit", lang),
        "success": w.success_message or i18n.success_text(site.double_opt_in, lang),
        "no_thanks": w.no_thanks_label or i18n.text("no_thanks", lang),
        "quiet_days_after_close": w.quiet_days_after_close,
        "quiet_days_after_signup": w.quiet_days_after_signup,
        "theme": dict(w.theme) if w.theme else None,
        **(_gift(site, w, gift, lang) if gift else {}),
        **(_giveback(site, w, lang) if w.kind in ("story", "proof") else {}),
    }


def _build(site: SiteView, page_lang: str) -> dict:
    widgets = [_entry(site, view, page_lang)
               for w in site.widgets
               if w.is_live and (not w.page_langs or page_lang in w.page_langs)
               for view in (w.variants or (w,))]
    langs = sorted({w["lang"] for w in widgets} | {page_lang})
    groups = {w["kind"] for w in widgets if w["kind"] in ("story", "proof")}
    groups |= {"gift"} if any("gift" in w for w in widgets) else set()
    groups |= {"count"} if site.count is not None else set()
    return {
        "site": site.id, "cap": site.popup_cap, "reset": site.reset_count,
        "require_consent": site.require_consent,
        "consent_text": site.consent_text,
        "widgets": widgets,
        "strings": {lang: i18n.client_strings(lang, sorted(groups)) for lang in langs},
        # The confirmed subscribers, exact, once the owner's threshold is reached.
        "count": site.count,
        "ui": assets.url("js/ui.js"),
        "css": assets.url("css/ui.css"),
    }
