"""The one CSV writer every export uses (the gift ledger, contacts; analytics next):
streamed in the caller's batches, UTF-8 with a BOM so spreadsheets read ø and emoji,
times in ISO 8601 UTC, and no cell a spreadsheet would run as a formula. A view:

    def batches():
        while found := session.execute(next_batch).all():
            rows = [values_of(row) for row in found]  # read while the transaction is open
            session.rollback()  # which ends before the client reads
            yield rows
    return export.download(export.lines(HEADER, batches()), "contacts.csv")

json_lines() writes the same batches as JSON Lines for developers (no BOM, values as
JSON, times by iso()), and download(..., JSON_LINES) sends them. For many rows, utc_iso()
has the database write a time column as iso() would, which costs far less than a
datetime made and formatted in Python for each cell.
"""
from __future__ import annotations

import csv
import io
import json
import math
import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime, timezone
from itertools import chain
from urllib.parse import quote

from flask import Response, stream_with_context
from sqlalchemy import String
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from widget.core.rawsql import as_datetime

BOM = "\ufeff"
CSV = "text/csv; charset=utf-8"
JSON_LINES = "application/x-ndjson"
# A spreadsheet runs a cell starting with one of these as a formula (DDE included).
# They are looked for after NFKC, so fullwidth ＝ ＋ － ＠ and the small, superscript
# and subscript forms count too.
TRIGGERS = frozenset("=+-@")
# As the very first character, tab and CR start a formula in some spreadsheets too.
# Inside a cell they are text: the writer quotes every cell holding CR or LF.
FIRST_TRIGGERS = ("\t", "\r")
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")  # Cc but tab, LF and CR
CONTROL_BYTES = bytes(c for c in range(128) if CONTROL.match(chr(c)))  # ASCII's
# Never in a file name: path separators, the quote (the header's own syntax), and
# controls, invisible characters (a right-to-left override can fake the extension) and
# line separators, by their Unicode category.
NAME_UNSAFE = frozenset('/\\"')
NAME_UNSAFE_KINDS = ("Cc", "Cf", "Zl", "Zp")
NAME_PLAIN = re.compile(r"[^A-Za-z0-9 ._()-]")  # what the ASCII fallback keeps as is
# Text neutralise() leaves as it is: empty, or a letter, digit or _ first (no such
# character is whitespace, invisible or a trigger once NFKC-normalised: a test checks
# every code point) and no control character after it. Most cells are like this, and one
# match is cheaper than neutralise()'s steps.
PLAIN = re.compile(r"(?:\w[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*)?")
# The types csv.writer writes as cell() would, when the text it writes passes the checks
# below: str and None as they are, an int or a float by str() (its own digits).
WRITTEN_AS_IS = frozenset((str, int, float, type(None)))
# How a cell of written CSV text starts when it may not start as PLAIN says: not with a
# \w character (after spaces, or after its quote and spaces), and not empty or blank
# unquoted. A quoted cell's own first character follows its quote (a doubled quote when
# it is one). SUSPECT finds such a start after a comma or a line break (inside a quoted
# cell too, which can only find more), each pattern scanning for its one character.
SUSPECT_START = r'(?:[^\w,\r" ]|"(?! *\w)| +[^\w ,\r])'
FIRST_SUSPECT = re.compile(SUSPECT_START)
SUSPECT = (re.compile("," + SUSPECT_START), re.compile("\n" + SUSPECT_START))


def neutralise(text: str) -> str:
    """Text as a cell no spreadsheet runs: NUL and the other control characters but tab,
    LF and CR removed; then, when the first character is tab or CR, or the first one that
    is neither whitespace nor invisible (format characters such as U+200B, U+FEFF) is
    = + - or @ once NFKC-normalised, a ' in front. The text itself stays as written."""
    text = CONTROL.sub("", text)
    return "'" + text if _runs(text) else text


def _runs(text: str) -> bool:
    if text.startswith(FIRST_TRIGGERS):
        return True
    for char in text:
        if not (char.isspace() or unicodedata.category(char) == "Cf"):
            # A copy of the one character is normalised: NFKC never makes one of the
            # triggers out of a following one, and the cell keeps its own text.
            return unicodedata.normalize("NFKC", char)[:1] in TRIGGERS
    return False


def iso(moment: datetime | str | None) -> str:
    """A moment in ISO 8601, in UTC with a Z (2025-01-31T09:30:00Z); a naive value (how
    SQLite returns one) is UTC; None is empty."""
    if not moment:
        return ""
    return as_datetime(moment).astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def cell(value) -> str | int | float:
    """One value as a CSV cell: None empty; an int or a finite float as the number it is
    (a minus sign included: a spreadsheet reads -1 as a number, never as a formula); a
    datetime by iso(); a date (a UTC day) as YYYY-MM-DD; anything else as neutralised
    text, so a number kept as text ("-1" in a name or a code) gets its '."""
    if value is None:
        return ""
    if isinstance(value, (int, float)) and math.isfinite(value):
        return value
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, date):
        return value.isoformat()
    return neutralise(str(value))


def lines(header: Sequence[str], batches: Iterable[Iterable[Sequence]]) -> Iterator[str]:
    """The CSV in text chunks: the BOM and the header row with the first batch, then one
    chunk a batch, each cell as cell() writes it (a batch that needs nothing of it goes
    to csv.writer as it is). The caller fetches each batch and turns it into values, so
    memory stays one batch, and ends its transaction before yielding it, or after a
    bounded time (gifts/ledger.py), so none is held long while the client reads."""
    out = io.StringIO()
    writer = csv.writer(out)  # quotes a cell holding a comma, a quote, CR or LF
    out.write(BOM)
    writer.writerow([cell(name) for name in header])
    for batch in batches:
        batch = batch if isinstance(batch, (list, tuple)) else list(batch)  # read twice
        if not _written_plain(writer, out, batch):
            writer.writerows(_cells(batch))
        yield _take(out)
    if out.tell():  # no batch came: the header alone
        yield _take(out)


def _written_plain(writer, out: io.StringIO, batch: Sequence[Sequence]) -> bool:
    """Write the batch as it is when that is what cell() by cell() would write: only
    WRITTEN_AS_IS types, and in the text written no control character (neutralise()
    drops them) and no SUSPECT cell start. Each check runs in C over the whole batch; a
    call a cell, or even a look at each distinct value, cost more than csv.writer itself.
    Otherwise nothing of the batch is left written and the answer is False."""
    if not WRITTEN_AS_IS.issuperset(map(type, chain.from_iterable(batch))):
        return False
    start = out.tell()
    writer.writerows(batch)
    text = out.getvalue()
    if (_has_control(text[start:]) or FIRST_SUSPECT.match(text, start)
            or any(suspect.search(text, start) for suspect in SUSPECT)):
        out.seek(start)
        out.truncate()
        return False
    return True


def _has_control(text: str) -> bool:
    """Whether CONTROL finds anything in `text`. ASCII text (known without a look) is
    searched as bytes, whose C loop is twice as fast as the pattern's."""
    if text.isascii():
        data = text.encode("ascii")
        return len(data.translate(None, CONTROL_BYTES)) != len(data)
    return CONTROL.search(text) is not None


def _cells(batch: Sequence[Sequence]) -> Iterable[Sequence]:
    """The batch's rows as cell() makes them. A call a cell would be the biggest cost of
    a large export after the database's own, so each distinct value is looked at once:
    text PLAIN vouches for, None and an int >= 0 are written as they are (cell() would
    not change them), and only a row holding anything else goes through cell(). A value
    equal to one of those (True to 1, 1.0 to 1) is one cell() leaves alone too."""
    try:
        distinct = set().union(*batch)
    except TypeError:  # an unhashable value: every cell through cell()
        return [[cell(value) for value in row] for row in batch]
    plain = PLAIN.fullmatch
    other = {value for value in distinct
             if not (value is None or (type(value) is str and plain(value))
                     or (type(value) is int and value >= 0))}
    if not other:
        return batch
    return [row if other.isdisjoint(row) else [cell(value) for value in row] for row in batch]


def json_lines(header: Sequence[str], batches: Iterable[Iterable[Sequence]]) -> Iterator[str]:
    """The same batches as JSON Lines, one chunk a batch: one object a row with the
    header's names as keys, times by iso(), other values as JSON has them. No cell is
    neutralised: no spreadsheet opens this, and a program should get the text as stored."""
    for batch in batches:
        yield "".join(json.dumps(dict(zip(header, (
            iso(value) if isinstance(value, datetime) else value for value in row))),
            ensure_ascii=False) + "\n" for row in batch)


class utc_iso(FunctionElement):
    """A time column as iso() writes it (2025-01-31T09:30:00Z), written by the database;
    NULL stays NULL (None). Both drop the fraction of a second rather than round it."""
    type = String()
    name = "utc_iso"
    inherit_cache = True


@compiles(utc_iso, "sqlite")
def _utc_iso_sqlite(element, compiler, **kw):
    # SQLAlchemy keeps a time in SQLite as UTC text, which strftime() reads.
    return f"strftime('%Y-%m-%dT%H:%M:%SZ', {compiler.process(element.clauses, **kw)})"


@compiles(utc_iso, "postgresql")
def _utc_iso_postgresql(element, compiler, **kw):
    return (f"to_char(({compiler.process(element.clauses, **kw)}) AT TIME ZONE 'UTC', "
            """'YYYY-MM-DD"T"HH24:MI:SS"Z"')""")


def _take(out: io.StringIO) -> str:
    text = out.getvalue()
    out.seek(0)
    out.truncate()
    return text


def disposition(filename: str) -> str:
    """Content-Disposition for a download: an ASCII filename every client reads (other
    characters as _), and the name itself as RFC 5987 filename* when it has more. No
    control character, path separator or quote gets through."""
    name = "".join("_" if c in NAME_UNSAFE or unicodedata.category(c) in NAME_UNSAFE_KINDS
                   else c for c in unicodedata.normalize("NFC", filename)).strip(" .")
    name = name or "export.csv"
    plain = "".join(c for c in unicodedata.normalize("NFKD", name)
                    if not unicodedata.combining(c))  # é becomes e; ø and emoji _ below
    fallback = NAME_PLAIN.sub("_", plain)
    value = f'attachment; filename="{fallback}"'
    if fallback != name:
        value += f"; filename*=UTF-8''{quote(name, safe='')}"
    return value


def download(chunks: Iterable[str], filename: str, content_type: str = CSV) -> Response:
    """The streamed response (in a view): CSV, or JSON_LINES, as an attachment named by
    disposition(), never cached or sniffed. The chunks run in the request's context, so
    they may use its database session."""
    resp = Response(stream_with_context(chunks), content_type=content_type)
    resp.headers["Content-Disposition"] = disposition(filename)
    resp.headers["Cache-Control"] = "no-store"
    resp.headers["X-Content-Type-Options"] = "nosniff"
    return resp
