"""The dashboard's message catalogues (widget/translations/<lang>/LC_MESSAGES/messages.po
and .mo), with babel's Python API so no other tool is needed:

    python -m widget.catalog update    # extract (babel.cfg) and update nb, de, nl's .po
    python -m widget.catalog compile   # write each .mo from its .po (both are committed)
"""
from __future__ import annotations

import io
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent  # a clone: babel.cfg, widget/, templates/
TRANSLATIONS = Path(__file__).resolve().parent / "translations"
LANGS = ("nb", "de", "nl")  # English is the source language: its msgids are the text
KEYWORDS = {**DEFAULT_KEYWORDS, "lazy_gettext": None, "lazy_ngettext": (1, 2),
            "stored": None}  # core/said.py: messages stored in English, shown translated


def extract() -> Catalog:
    """Every message the sources (as babel.cfg maps them) ask to translate."""
    with open(ROOT / "babel.cfg", encoding="utf-8") as cfg:
        method_map, options_map = parse_mapping_cfg(cfg, "babel.cfg")
    found = Catalog(project="reciprocity-widgets", fuzzy=False)
    walked = ("widget", "templates")
    for filename, lineno, message, comments, context in extract_from_dir(
            ROOT, method_map, options_map, keywords=KEYWORDS,
            directory_filter=lambda d: Path(d).relative_to(ROOT).parts[0] in walked):
        found.add(message, locations=[(filename, lineno)], auto_comments=comments,
                  context=context)
    return found


def po_path(lang: str) -> Path:
    return TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po"


def read(lang: str) -> Catalog:
    """A language's catalogue as committed."""
    with open(po_path(lang), "rb") as f:
        return read_po(f, locale=lang)


def update() -> None:
    """Each language's .po gets the sources' messages: new ones empty (never a fuzzy
    guess), gone ones dropped, translations of the rest kept."""
    template = extract()
    for lang in LANGS:
        path = po_path(lang)
        if path.exists():
            catalog = read(lang)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            catalog = Catalog(locale=lang, project="reciprocity-widgets", fuzzy=False)
        catalog.update(template, no_fuzzy_matching=True, update_creation_date=False)
        with open(path, "wb") as f:
            write_po(f, catalog, ignore_obsolete=True, include_lineno=False)


def compiled(lang: str) -> bytes:
    """The .mo that the language's .po compiles to (fuzzy entries left out)."""
    out = io.BytesIO()
    write_mo(out, read(lang))
    return out.getvalue()


def compile_all() -> None:
    """Write every language's .mo from its .po."""
    for lang in LANGS:
        po_path(lang).with_suffix(".mo").write_bytes(compiled(lang))


def main(argv: list[str]) -> int:
    actions = {"update": update, "compile": compile_all}
    if len(argv) != 1 or argv[0] not in actions:
        print(__doc__, file=sys.stderr)
        return 2
    actions[argv[0]]()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
