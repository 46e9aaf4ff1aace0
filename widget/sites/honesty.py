"""The "No thanks" rule: a way out that is visible and carries no guilt trip.

A heuristic for the common patterns, not a proof: it refuses text with nothing to read
(only spaces, zero-width or format characters, dots) and confirmshaming, the visitor made
to speak badly of themselves or of the offer ("No thanks, I don't like saving money",
"I'd rather pay full price"), in en, nb, de and nl. Written by hand because no maintained
library checks confirmshaming. The dashboard's widget form calls it, and so should every
other place an owner's "No thanks" text is saved.
"""
from __future__ import annotations

import re
import unicodedata

from flask_babel import gettext


def _suggestion() -> str:
    return gettext("Try “No thanks”, “Not now” or “Maybe later”, or leave it empty for the "
                   "built-in text in the visitor's language.")


def _hidden() -> str:
    return gettext("The “No thanks” text has no letter or digit a visitor can read, so the "
                   "way out would be hidden.") + " " + _suggestion()


def _shaming(found: str) -> str:
    return gettext("The “No thanks” text is a guilt trip (%(found)s): it makes the visitor "
                   "speak badly of themselves or of your offer for saying no.",
                   found=found) + " " + _suggestion()


# Per language: first-person words, and the negations and value or preference words
# that turn them into a guilt trip. Pairs are matched within one language, because a
# word of one is harmless in another (Norwegian "i" is "in"). Longer words first, so
# the message quotes "I'd" rather than "I".
LANGUAGES = {
    "en": (r"i'm|i'd|i'll|i've|myself|me|my|i",
           r"don't|do not|dont|never|hate|rather|prefer|like|enjoy|want|wish|love|need"),
    "nb": (r"jeg|meg|min|mitt|mine",
           r"ikke|aldri|hater|heller|foretrekker|liker|vil|trenger|elsker"),
    "de": (r"ich|mich|mir|mein\w*",
           r"nicht|kein\w*|nie|hasse|lieber|bevorzuge|mag|will|möchte|brauche|liebe"),
    "nl": (r"ik|mij|me|mijn",
           r"niet|geen|nooit|haat|liever|hou van|houd van|wil|hoef"),
}
PAIRS = [(re.compile(rf"\b(?:{me})\b", re.IGNORECASE), re.compile(rf"\b(?:{value})\b",
                                                                   re.IGNORECASE))
         for me, value in LANGUAGES.values()]
# Guilt trips that need no first person.
PHRASES = re.compile(r"\b(?:full price|stay (?:uninformed|ignorant)"
                     r"|miss(?:ing)? out|full pris|gå glipp|uvitende|vollen? preis|voller preis"
                     r"|uninformiert|ahnungslos|volle prijs|onwetend|ongeïnformeerd)\b",
                     re.IGNORECASE)
APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "ʼ": "'", "`": "'"})


def no_thanks_problems(label: str | None) -> list[str]:
    """What is wrong with an owner's "No thanks" text, in words an owner can act on (in the
    dashboard's language; English outside a request); [] when fine. None or "" is fine (the
    built-in kind text in the visitor's language is used)."""
    if not label:
        return []
    # Compatibility forms folded and invisible characters dropped, so neither "ｌｉｋｅ"
    # nor a zero-width space inside "do\u200bn't" slips past the words below.
    text = "".join(c for c in unicodedata.normalize("NFKC", label)
                   if not unicodedata.category(c).startswith("C"))
    if not any(unicodedata.category(c)[0] in "LN" for c in text):
        return [_hidden()]
    text = " ".join(text.translate(APOSTROPHES).split())
    found = [gettext("“%(me)s” with “%(word)s”", me=who.group(), word=what.group())
             for me, value in PAIRS
             if (who := me.search(text)) and (what := value.search(text))][:1]
    found += [f"“{phrase.group()}”" for phrase in PHRASES.finditer(text)]
    return [_shaming(", ".join(found))] if found else []
