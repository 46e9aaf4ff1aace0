"""Coupon codes: imported from the owner's CSV or generated from a pattern, each stored
once per gift (the unique key), each given to exactly one person (ledger.give)."""
from __future__ import annotations

import csv
import io
import math
import re
import secrets

from flask_babel import format_number, gettext
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from widget.models import Coupon

MAX_CODES = 10_000  # per import or generation
MAX_LEN = 100
CODE = re.compile(r"[\w.\-/#+]+")  # letters (any script), digits and a few separators
# Pattern characters: # a digit, ? a letter, * either. Letters that read alike (I, O)
# and digits that look like them (0, 1) stay out, so codes survive being typed.
SLOTS = {"#": "23456789", "?": "ABCDEFGHJKLMNPQRSTUVWXYZ",
         "*": "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"}


class CodesRefused(ValueError):
    """The codes can't be taken; the message says which and why (in the dashboard's
    language during a dashboard request)."""


def parse_csv(text: str) -> list[str]:
    """Codes from the first column of a CSV (or one code a line); a header row named
    "code" is skipped, blank lines and repeats too. Columns may be separated by commas,
    semicolons (what Excel writes in Norwegian, German or Dutch) or tabs."""
    codes: list[str] = []
    first = text.lstrip("\ufeff").split("\n", 1)[0]
    delimiter = max(",;\t", key=first.count) if any(c in first for c in ",;\t") else ","
    for number, row in enumerate(csv.reader(io.StringIO(text.lstrip("\ufeff")),
                                            delimiter=delimiter), start=1):
        value = row[0].strip() if row else ""
        if not value or (number == 1 and value.lower() in ("code", "codes", "coupon")):
            continue
        if len(value) > MAX_LEN or not CODE.fullmatch(value):
            raise CodesRefused(gettext(
                "Line %(line)s: %(value)s is not a code (letters, digits and - . / # +, "
                "at most %(max)s characters).", line=format_number(number),
                value=repr(value[:40]), max=format_number(MAX_LEN)))
        codes.append(value)
    if not codes:
        raise CodesRefused(gettext("No codes found: put one code on each line."))
    return list(dict.fromkeys(codes))


def generate(pattern: str, count: int, taken: set[str]) -> list[str]:
    """`count` new codes from a pattern such as BREAD-####, none in `taken`. Refuses
    patterns too small to stay hard to guess (each code one of ≥ 100 × count)."""
    pattern = pattern.strip()
    slots = [SLOTS[c] for c in pattern if c in SLOTS]
    if not 1 <= count <= MAX_CODES:
        raise CodesRefused(gettext("Generate between 1 and %(max)s codes at a time.",
                                   max=format_number(MAX_CODES)))
    if len(pattern) > MAX_LEN or not CODE.fullmatch(pattern.replace("?", "").replace("*", "")
                                                    or "x"):
        raise CodesRefused(gettext("Use letters, digits, - . / + and # ? * in the pattern."))
    if math.prod(len(s) for s in slots) < 100 * (count + len(taken)):
        raise CodesRefused(gettext("The pattern has too few # ? * places for that many "
                                   "codes: codes would be easy to guess. Add a few more."))
    codes: set[str] = set()
    while len(codes) < count:
        code = "".join(secrets.choice(SLOTS[c]) if c in SLOTS else c for c in pattern)
        if code not in taken:
            codes.add(code)
    return sorted(codes)


def add(session: Session, gift_id: str, codes: list[str]) -> tuple[int, int]:
    """Store new codes for a gift (the caller commits); returns (added, already there).
    A code another import stored meanwhile is skipped by the unique key, not an error."""
    if len(codes) > MAX_CODES:
        raise CodesRefused(gettext("At most %(max)s codes at a time.",
                                   max=format_number(MAX_CODES)))
    known = taken(session, gift_id)
    new = [c for c in codes if c not in known]
    if new:
        dialect = session.get_bind().dialect.name
        stmt = _dialect_insert(dialect)(Coupon).on_conflict_do_nothing(
            index_elements=["gift_id", "code"])
        session.execute(stmt, [{"gift_id": gift_id, "code": c} for c in new])
    return len(new), len(codes) - len(new)


def _dialect_insert(dialect: str):
    return pg_insert if dialect == "postgresql" else sqlite_insert


def taken(session: Session, gift_id: str) -> set[str]:
    """Every code the gift has, given or not."""
    return set(session.scalars(select(Coupon.code).where(Coupon.gift_id == gift_id)))
