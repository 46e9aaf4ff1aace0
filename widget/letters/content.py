"""What a letter shows of a post: its summary as safe HTML (nh3, the Rust sanitiser
ammonia) and as plain text, and the letter's posts as a template takes them.

A feed's summary is the blog's HTML, often the whole post: kept are text formatting,
links and images (web addresses only; nothing of ours is added to them, so a letter
tracks nobody), dropped are scripts, styles, forms, frames and every attribute but a
link's target and an image's source and text."""
from __future__ import annotations

import html
import re

import nh3

TAGS = {"p", "br", "strong", "b", "em", "i", "u", "a", "ul", "ol", "li", "h2", "h3", "h4",
        "blockquote", "code", "pre", "hr", "img", "figure", "figcaption"}
ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "width", "height"}}
TEXT_LIMIT = 600  # characters of a post's summary in the plain-text part


def safe_html(summary: str) -> str:
    """The summary as HTML that may go into an e-mail or a page as it is."""
    return nh3.clean(summary or "", tags=TAGS, attributes=ATTRIBUTES,
                     url_schemes={"http", "https"}, link_rel="noopener noreferrer nofollow",
                     strip_comments=True)


def plain(summary: str, limit: int = TEXT_LIMIT) -> str:
    """The summary's words without markup, whitespace folded, at most `limit` characters
    (cut at a word, with an ellipsis)."""
    text = html.unescape(nh3.clean(re.sub(r"<(br|/p|/li|/h\d)\b[^>]*>", " ", summary or "",
                                          flags=re.I), tags=set()))
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0].rstrip(",.;:") + " …"


def for_template(items) -> list[dict]:
    """The posts as the letter's templates show them: title, link, summary both ways."""
    return [{"title": item.title or item.link or "", "url": item.link,
             "html": safe_html(item.summary), "text": plain(item.summary)} for item in items]
