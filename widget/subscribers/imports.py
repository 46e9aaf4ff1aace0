"""Contact imports, the reading side: an uploaded CSV kept in 1 MiB chunks (as gift files
are, so every process and worker reads the same file), how it is read, the mapping
guessed from its header, and each row checked and sorted against the list as new,
updated, unchanged or invalid. import_run.py runs the dry run and the import through
these, so the two can never judge a row differently.

A file is read as UTF-8 (with or without a BOM), as UTF-16 when it starts with that BOM
(Excel's "Unicode text"), else as Windows-1252 (what Excel on Windows saves as "CSV" in
Western Europe), which the preview says so the owner can check the names' letters. The
delimiter is the comma, semicolon or tab its first line holds most of.
"""
from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import islice

from flask_babel import gettext
from sqlalchemy import insert, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from werkzeug.datastructures import FileStorage

from widget.core.errors import ApiError
from widget.core.i18n import LANGS
from widget.core.said import stored
from widget.gifts.files import CHUNK, megabytes, safe_name
from widget.models import ContactImport, ContactTag, ImportChunk, Subscriber
from widget.sites.checks import CONTROL_CHARS, MAX_LEN, checked_email
from widget.subscribers import tags

MAX_BYTES = 50 << 20
PREVIEW_ROWS = 5
MAX_PROBLEMS = 500  # listed of each kind (invalid lines, notes); the counts are whole
TARGETS = ("email", "name", "last_name", "lang", "tags")
TARGET_WORDS = {"email": "E-mail", "name": "Name (or first name)", "last_name": "Last name",
                "lang": "Language", "tags": "Tags"}
ENCODING_WORDS = {"utf-8-sig": "UTF-8", "utf-16": "UTF-16", "cp1252": "Windows-1252"}
DELIMITER_WORDS = {",": "comma", ";": "semicolon", "\t": "tab"}
# Header words (lower-case, letters and digits only) → the field they name.
HEADERS = {
    "email": {"email", "emailaddress", "emailadresse", "emailadres", "epost", "epostadresse",
              "mail", "mailadresse", "correo", "courriel"},
    "name": {"name", "navn", "naam", "fullname", "fulltnavn", "volledigenaam", "firstname",
             "givenname", "fornavn", "vorname", "voornaam", "displayname"},
    "last_name": {"lastname", "surname", "familyname", "etternavn", "nachname", "achternaam"},
    "lang": {"language", "lang", "språk", "sprak", "sprache", "taal", "locale", "sprog"},
    "tags": {"tags", "tag", "labels", "label", "stikkord", "emneknagger", "etiketter",
             "schlagworte", "schlagwörter", "etiketten"},
}
LANG_WORDS = {"english": "en", "engelsk": "en", "englisch": "en", "engels": "en",
              "norsk": "nb", "norwegian": "nb", "bokmål": "nb", "bokmal": "nb",
              "norwegisch": "nb", "noors": "nb", "deutsch": "de", "german": "de",
              "tysk": "de", "duits": "de", "nederlands": "nl", "dutch": "nl",
              "nederlandsk": "nl", "niederländisch": "nl"}
SPACES = re.compile(r"\s+")
ZIPPED = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0")  # .xlsx / .ods and old .xls workbooks


# What this module stores in English, shown translated in the dashboard (core/said.py)
NOT_CSV = stored("The file can't be read as CSV (%(error)s).")


class ImportRefused(ValueError):
    """A file that can't be imported; the message tells the owner why, in their words (in
    the dashboard's language when refused during a dashboard upload)."""


@dataclass(frozen=True)
class Contact:
    """One valid row of the file, as it would be stored."""
    line: int
    email: str  # as given
    normalized: str  # as matched: the sign-ups' key
    name: str | None
    lang: str | None  # None: none given, or one we don't speak
    tags: tuple[str, ...]


@dataclass(frozen=True)
class Known:
    """A contact already on the list, as an import compares it."""
    id: int
    status: str
    name: str | None
    lang: str
    tags: frozenset[str]


def store(session: Session, site_id: str, actor: str, upload: FileStorage,
          max_bytes: int = MAX_BYTES) -> ContactImport:
    """Check an uploaded CSV, write it in chunks and guess how to read it (the caller
    commits). Raises ImportRefused: too large, empty, a workbook, not text we can read,
    or nothing below its header."""
    stream = upload.stream
    head = stream.read(CHUNK)
    if not head.strip():
        raise ImportRefused(gettext("The file is empty."))
    if head.startswith(ZIPPED):
        raise ImportRefused(gettext("This is a spreadsheet workbook, not a CSV file: in Excel "
                                    "or Numbers, save or export it as “CSV UTF-8”."))
    utf16 = head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
    if b"\0" in head and not utf16:
        raise ImportRefused(gettext("This is not a CSV file (it holds binary data). Export "
                                    "your list as CSV."))
    row = ContactImport(site_id=site_id, actor=actor[:300],
                        filename=safe_name(upload.filename, "csv")[:200], size=0,
                        status="uploaded", pace=600)
    session.add(row)
    session.flush()
    decoders = {name: codecs.getincrementaldecoder(name)()
                for name in (("utf-16",) if utf16 else ("utf-8-sig", "cp1252"))}
    size, seq, lines, last, data = 0, 0, 0, b"", head
    while data:
        size += len(data)
        if size > max_bytes:
            raise ImportRefused(gettext("The file is larger than %(mb)s MB.",
                                            mb=megabytes(max_bytes)))
        _decode(decoders, data, final=False)
        session.execute(insert(ImportChunk), [{"import_id": row.id, "seq": seq,
                                                "data": data}])
        lines, last, seq = lines + data.count(b"\n"), data[-1:], seq + 1
        data = stream.read(CHUNK)
    _decode(decoders, b"", final=True)
    if not decoders:
        raise ImportRefused(gettext("The file is neither UTF-8 nor Windows-1252 text: in "
                                    "Excel, save it as “CSV UTF-8”."))
    row.size = size
    encoding = next(iter(decoders))
    sample = _sample(head, encoding, complete=size == len(head))
    row.mapping = {"encoding": encoding, "delimiter": sample.delimiter}
    rows = [cells for cells in sample.rows if _filled(cells)]
    header = not any("@" in cell for cell in rows[0]) if rows else True
    if len(rows) < 1 + header:
        raise ImportRefused(gettext("The file has no rows below its header."))
    row.mapping.update(header=header, **guess(rows[0] if header else [], rows[header:]))
    # An estimate (line breaks inside quoted cells count too) for the check's progress
    # bar; the check counts the rows exactly.
    row.rows = max(1, lines + (last != b"\n") - header)
    return row


@dataclass(frozen=True)
class _Sample:
    delimiter: str
    rows: list[list[str]]


def _sample(head: bytes, encoding: str, complete: bool) -> _Sample:
    """The delimiter (the comma, semicolon or tab the first line holds most of) and the
    first records, read from the first chunk (the last record dropped when the chunk
    ends inside it)."""
    text = codecs.getincrementaldecoder(encoding)().decode(head, final=complete)
    first = text.lstrip().split("\n", 1)[0]
    counts = {d: first.count(d) for d in (",", ";", "\t")}
    delimiter = max(counts, key=counts.get)
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as exc:
        # stored by the worker's check in English, shown again translated (core/said.py)
        raise ImportRefused(gettext(NOT_CSV,
                                    error=exc)) from None
    return _Sample(delimiter, rows if complete else rows[:-1])


def _filled(cells: list[str]) -> bool:
    return any(cell.strip() for cell in cells)


def _decode(decoders: dict, data: bytes, final: bool) -> None:
    """Feed the candidate decoders; drop each that fails (UTF-8 is preferred to 1252)."""
    for name in list(decoders):
        try:
            decoders[name].decode(data, final=final)
        except UnicodeDecodeError:
            del decoders[name]
    if final and "utf-8-sig" in decoders:
        decoders.pop("cp1252", None)


def _key(header: str) -> str:
    return "".join(ch for ch in header.casefold() if ch.isalnum())


def guess(header: list[str], rows: list[list[str]]) -> dict[str, int | None]:
    """Which column each field comes from, by the header's words (English, Norwegian,
    German, Dutch), else the e-mail from the first column of addresses."""
    keys = [_key(cell) for cell in header]
    found: dict[str, int | None] = {}
    for target in TARGETS:
        exact = [i for i, key in enumerate(keys) if key in HEADERS[target]
                 and i not in found.values()]
        found[target] = exact[0] if exact else None
    if found["email"] is None:
        loose = [i for i, key in enumerate(keys) if ("mail" in key or "epost" in key)
                 and i not in found.values()]
        width = max(map(len, rows), default=0)
        addresses = [i for i in range(width) if any(
            "@" in row[i] for row in rows if i < len(row)) and i not in found.values()]
        found["email"] = (loose or addresses or [None])[0]
    return found


class _Chunks(io.RawIOBase):
    """The stored file as a stream, one chunk read at a time on a connection taken only
    for that read (a long import holds none between its batches)."""

    def __init__(self, engine: Engine, import_id: int):
        super().__init__()
        self.engine, self.import_id, self.seq, self.left = engine, import_id, 0, b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if not self.left:
            with self.engine.connect() as conn:
                data = conn.scalar(select(ImportChunk.data).where(
                    ImportChunk.import_id == self.import_id, ImportChunk.seq == self.seq))
            if data is None:
                return 0
            self.left, self.seq = bytes(data), self.seq + 1
        n = min(len(buffer), len(self.left))
        buffer[:n], self.left = self.left[:n], self.left[n:]
        return n


def _reader(engine: Engine, import_id: int, encoding: str,
            delimiter: str) -> Iterator[tuple[int, list[str]]]:
    """Every record of the file as (the line it starts on, its cells); [] for a blank
    line. Raises ImportRefused where the file can't be read on."""
    text = io.TextIOWrapper(io.BufferedReader(_Chunks(engine, import_id), CHUNK),
                            encoding=encoding, newline="")
    reader = csv.reader(text, delimiter=delimiter)
    line = 1
    try:
        for cells in reader:
            yield line, cells
            line = reader.line_num + 1
    except csv.Error as exc:
        raise ImportRefused(f"Line {line}: the file can't be read from here on ({exc}). "
                            f"Fix it and upload it again.") from None
    except UnicodeDecodeError:  # read ahead in blocks: somewhere past this line
        words = ENCODING_WORDS.get(encoding, encoding)
        raise ImportRefused(f"After line {line - 1}, the file is no longer {words} text. "
                            f"Fix it and upload it again.") from None


def records(engine: Engine, import_id: int,
            mapping: dict) -> Iterator[tuple[int, list[str]]]:
    """An import's data rows as (line, cells): no header, no blank lines."""
    found = _reader(engine, import_id, mapping["encoding"], mapping["delimiter"])
    skip = mapping["header"]
    for line, cells in found:
        if not _filled(cells):
            continue
        if skip:
            skip = False
            continue
        yield line, cells


def preview(engine: Engine, row: ContactImport) -> tuple[list[str], list[list[str]]]:
    """The column names (the header's, else Column 1, 2, …) and the first rows."""
    mapping = row.mapping
    first = [cells for _, cells in islice(_reader(engine, row.id, mapping["encoding"],
                                                  mapping["delimiter"]), 50) if _filled(cells)]
    header = first[0] if mapping["header"] else []
    rows = first[1:] if mapping["header"] else first
    rows = rows[:PREVIEW_ROWS]
    width = max([len(header), *map(len, rows)])
    names = [(header[i].strip() if i < len(header) else "") or f"Column {i + 1}"
             for i in range(width)]
    return names, [[cell[:80] for cell in r] + [""] * (width - len(r)) for r in rows]


def language(raw: str) -> str | None:
    """A language cell as a code we speak ('nb-NO', 'no', 'Norsk' → 'nb'), or None."""
    value = raw.strip().casefold()
    value = LANG_WORDS.get(value, value.replace("_", "-").split("-")[0])
    value = {"no": "nb", "nn": "nb"}.get(value, value)
    return value if value in LANGS else None


def check_row(line: int, cells: list[str], mapping: dict,
              extra_tags: Iterable[str] = ()) -> Contact | str:
    """One data row as a Contact, or the reason it is invalid (the dry run's words)."""
    def cell(target: str) -> str:
        index = mapping.get(target)
        return cells[index] if index is not None and index < len(cells) else ""

    raw = cell("email").strip()
    if not raw:
        return "No e-mail address."
    if CONTROL_CHARS.search(raw):
        return "The address holds a control character."
    if len(raw) > MAX_LEN["email"]:
        return "The address is longer than e-mail allows."
    try:
        email, normalized = checked_email(raw)
    except ApiError as exc:
        return exc.message
    name = SPACES.sub(" ", f"{cell('name')} {cell('last_name')}").strip()
    if CONTROL_CHARS.search(name):
        return "The name holds a control character."
    if len(name) > MAX_LEN["name"]:
        return f"The name is longer than {MAX_LEN['name']} characters."
    parts = [part.strip().strip('"') for part in cell("tags").split(",")]
    try:  # Mailchimp writes a contact's tags as "a","b" inside the cell
        found = tags.parse([*(p for p in parts if p), *extra_tags])
    except tags.BadTags as exc:
        return str(exc)
    return Contact(line, email, normalized, name or None, language(cell("lang")), found)


def known(session: Session, site_id: str, normalized: list[str]) -> dict[str, Known]:
    """The contacts already on the site's list among these addresses, with their tags."""
    if not normalized:
        return {}
    people = session.execute(select(
        Subscriber.id, Subscriber.email_normalized, Subscriber.status, Subscriber.name,
        Subscriber.lang).where(Subscriber.site_id == site_id,
                               Subscriber.email_normalized.in_(normalized))).all()
    tagged: dict[int, set[str]] = {}
    for subscriber_id, tag in session.execute(select(ContactTag.subscriber_id, ContactTag.tag)
                                              .where(ContactTag.subscriber_id.in_(
                                                  [p.id for p in people]))):
        tagged.setdefault(subscriber_id, set()).add(tag)
    return {p.email_normalized: Known(p.id, p.status, p.name, p.lang,
                                      frozenset(tagged.get(p.id, ()))) for p in people}


def changes(contact: Contact, person: Known) -> tuple[str | None, str | None, list[str]]:
    """What the row changes on a contact on the list: a name and a language the file
    gives differently (an empty cell changes nothing), and tags it lacks."""
    name = contact.name if contact.name and contact.name != person.name else None
    lang = contact.lang if contact.lang and contact.lang != person.lang else None
    return name, lang, [tag for tag in contact.tags if tag not in person.tags]


def outcome(contact: Contact, person: Known | None) -> str:
    """new, updated, unchanged, or unsubscribed (left as it is: counted as unchanged)."""
    if person is None:
        return "new"
    if person.status == "unsubscribed":
        return "unsubscribed"
    name, lang, added = changes(contact, person)
    return "updated" if name or lang or added else "unchanged"
