"""A bonus text shown on the thank-you page, in the widget and on the gift page: the
owner's plain text or HTML, reduced to harmless formatting (nh3, the Rust sanitiser
ammonia) so it can be shown as HTML anywhere, the host page included."""
from __future__ import annotations

import re

import nh3
from markupsafe import Markup, escape

TAGS = {"p", "br", "strong", "b", "em", "i", "u", "a", "ul", "ol", "li", "h3", "h4",
        "blockquote", "code", "pre", "hr"}


def clean(text: str) -> str:
    """Safe HTML from the owner's bonus: plain text becomes paragraphs; HTML keeps only
    simple formatting and http(s)/mailto links, which open in a new tab."""
    text = (text or "").strip()
    if not re.search(r"<[a-zA-Z/!]", text):
        paragraphs = [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]
        return "".join(f"<p>{escape(p)}</p>".replace("\n", "<br>") for p in paragraphs)
    return nh3.clean(text, tags=TAGS, attributes={"a": {"href", "title"}},
                     url_schemes={"http", "https", "mailto"},
                     link_rel="noopener noreferrer nofollow",
                     set_tag_attribute_values={"a": {"target": "_blank"}})


def markup(html: str | None) -> Markup:
    """Stored bonus HTML for a template, cleaned once more on the way out."""
    return Markup(clean(html or ""))
