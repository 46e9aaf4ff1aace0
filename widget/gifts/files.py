"""Gift files: checked and stored on upload, streamed on download.

The bytes live in the database in 1 MiB chunks, so every app instance (and every worker
behind a load balancer) reads the same file, backups hold it, and no visitor can name a
path: a download finds its file through the grant, never through a name in the URL.
A file's type comes from its content (the `filetype` library reads magic numbers), not
from its name, and only types a browser will not run are accepted.
"""
from __future__ import annotations

import codecs
import hashlib
import io
import re
import unicodedata

import filetype
from flask_babel import gettext
from flask_babel.speaklater import LazyString
from sqlalchemy import insert
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from werkzeug.datastructures import FileStorage

from widget.core.rawsql import Tx
from widget.models import GiftFile, GiftFileChunk
from widget.sites.accounts import N_

CHUNK = 1 << 20
CHUNK_SQL = "SELECT data FROM gift_file_chunks WHERE file_id = :file_id AND seq = :seq"
# Sniffed type -> what it is called to the owner. Nothing a browser would render as a
# page or run (HTML, SVG, XML, scripts, programs) is here.
ALLOWED = {
    "application/pdf": "PDF", "application/epub+zip": "EPUB", "application/zip": "ZIP",
    "image/png": "PNG", "image/jpeg": "JPEG", "image/gif": "GIF", "image/webp": "WebP",
    "audio/mpeg": "MP3", "audio/mp4": "M4A", "video/mp4": "MP4",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "Word",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "Excel",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": "PowerPoint",
    "application/vnd.oasis.opendocument.text": N_("OpenDocument text"),
    "application/vnd.oasis.opendocument.spreadsheet": N_("OpenDocument spreadsheet"),
}
# Plain text has no magic number: these names are accepted when the bytes are UTF-8.
TEXT_TYPES = {"txt": "text/plain", "md": "text/markdown", "csv": "text/csv"}  # UTF-8


def _allowed_words() -> str:
    """The accepted kinds as the owner reads them, in the dashboard's language."""
    return ", ".join(sorted({gettext(name) for name in ALLOWED.values()})
                     + [gettext("plain text (.txt, .md, .csv)")])


# Lazy: read while a page is made, so in that page's language.
ALLOWED_WORDS = LazyString(_allowed_words)
UNSAFE_NAME = re.compile(r'[\x00-\x1f\x7f"\\/:*?<>|;]+')


class FileRefused(ValueError):
    """The upload can't be a gift; the message tells the owner why (in the dashboard's
    language during a dashboard request)."""


def size_words(size: int, lang: str = "en") -> str:
    """A file's size as people read it: 1.2 MB, 840 kB (a decimal comma but in English)."""
    text = f"{size / 1e6:.1f} MB" if size >= 100_000 else f"{max(1, size // 1000)} kB"
    return text if lang == "en" else text.replace(".", ",")


def megabytes(size: int) -> str:
    """A byte count in (binary) megabytes as an owner reads it: 50, 1.5, 0.25."""
    return f"{size / (1 << 20):.2f}".rstrip("0").rstrip(".")


def safe_name(raw: str | None, extension: str) -> str:
    """A download name from the uploaded one: no folders, quotes, control characters or
    separators a browser or shell would trip on, at most 120 characters, and the
    extension of what the file really is."""
    name = unicodedata.normalize("NFC", (raw or "").replace("\\", "/").rsplit("/", 1)[-1])
    stem = UNSAFE_NAME.sub(" ", name.rsplit(".", 1)[0] if "." in name else name)
    stem = " ".join(stem.split()).strip(" .")[:100] or "gift"
    return f"{stem}.{extension}"


def _kind(head: bytes, name: str | None) -> tuple[str, str]:
    """The content type and extension of a file from its first bytes."""
    found = filetype.guess(head)
    if found is not None:
        if found.mime not in ALLOWED:
            raise FileRefused(gettext("A %(kind)s file can't be a gift. Allowed: %(types)s.",
                                      kind=found.extension.upper(), types=ALLOWED_WORDS))
        return found.mime, found.extension
    extension = (name or "").rsplit(".", 1)[-1].lower() if "." in (name or "") else ""
    if extension in TEXT_TYPES and b"\0" not in head:
        return TEXT_TYPES[extension], extension  # served with charset=utf-8
    raise FileRefused(gettext("This kind of file can't be a gift (web pages, SVG images and "
                              "programs never can). Allowed: %(types)s.", types=ALLOWED_WORDS))


def store(session: Session, site_id: str, upload: FileStorage, max_bytes: int) -> GiftFile:
    """Check an uploaded file and write it in chunks (the caller commits)."""
    stream = upload.stream
    head = _read(stream, 8192)
    if not head:
        raise FileRefused(gettext("The file is empty."))
    content_type, extension = _kind(head, upload.filename)
    row = GiftFile(site_id=site_id, name=safe_name(upload.filename, extension),
                   content_type=content_type, size=0, sha256="")
    session.add(row)
    session.flush()
    digest, size, seq = hashlib.sha256(), 0, 0
    # Text must be UTF-8 throughout; a character may straddle two chunks.
    utf8 = codecs.getincrementaldecoder("utf-8")() if content_type.startswith("text/") else None
    pending = head
    while pending:
        pending += _read(stream, CHUNK - len(pending))
        size += len(pending)
        if size > max_bytes:
            raise FileRefused(gettext("The file is larger than %(mb)s MB.",
                                          mb=megabytes(max_bytes)))
        _utf8(utf8, pending, final=len(pending) < CHUNK)
        digest.update(pending)
        session.execute(insert(GiftFileChunk), [{"file_id": row.id, "seq": seq,
                                                 "data": pending}])
        seq += 1
        pending = _read(stream, CHUNK) if len(pending) == CHUNK else b""
    _utf8(utf8, b"", final=True)
    row.size, row.sha256 = size, digest.hexdigest()
    return row


def _read(stream, size: int) -> bytes:
    """Up to `size` bytes, fewer only at the end: a stream may return short reads."""
    parts, left = [], size
    while left > 0 and (part := stream.read(left)):
        parts.append(part)
        left -= len(part)
    return b"".join(parts)


def _utf8(decoder, data: bytes, final: bool) -> None:
    if decoder is None:
        return
    try:
        decoder.decode(data, final=final)
    except UnicodeDecodeError:
        raise FileRefused(gettext("A text file must be UTF-8.")) from None


class ChunkReader(io.RawIOBase):
    """A read-only, seekable file over a gift file's chunks, reading one chunk at a time
    on a pooled connection taken only for that read, so a download (and any Range of
    it) streams with little memory and holds no connection while the client reads."""

    def __init__(self, engine: Engine, file_id: int, size: int):
        super().__init__()
        self.engine, self.file_id, self.size = engine, file_id, size
        self.pos = 0
        self.cached: tuple[int, bytes] | None = None

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self.pos, io.SEEK_END: self.size}[whence]
        self.pos = max(0, base + offset)
        return self.pos

    def _chunk(self, seq: int) -> bytes:
        if self.cached is None or self.cached[0] != seq:
            conn = self.engine.raw_connection()
            try:
                # psycopg sends bytea as hex text unless asked for binary: 4x the work.
                postgres = self.engine.dialect.name == "postgresql"
                cursor = conn.cursor(binary=True) if postgres else conn.cursor()
                row = Tx.on_cursor(cursor, self.engine.dialect.name).one(
                    CHUNK_SQL, file_id=self.file_id, seq=seq)
            finally:
                conn.close()  # back to the pool: none is held while the client reads
            self.cached = (seq, bytes(row[0]) if row else b"")
        return self.cached[1]

    def readinto(self, buffer) -> int:
        if self.pos >= self.size:
            return 0
        chunk = self._chunk(self.pos // CHUNK)
        start = self.pos % CHUNK
        n = min(len(buffer), len(chunk) - start)
        if n <= 0:
            return 0
        buffer[:n] = chunk[start:start + n]
        self.pos += n
        return n
