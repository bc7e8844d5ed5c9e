"""What an uploaded file is, decided from its content alone, in bounded memory.

Separate from storage on purpose: `check_upload(name, content)` takes the bytes and the
user's file name and returns the file's kind or raises `ValidationError`; whichever store
keeps the bytes (files on disk, PostgreSQL) calls the same check, and the stored download
name comes from `download_name` (the *detected* type's extension, never the user's).

Bounded work: a check never holds more than a few MB besides the upload itself.
* DOCX/XLSX are zips: only the central directory and `[Content_Types].xml` are read. Every
  member's declared size and compression ratio are checked first (`ZIP_MAX_TOTAL_BYTES`,
  `ZIP_MAX_RATIO`), and the one member we inflate is read in `CHUNK` pieces and at most
  `ZIP_MAX_READ_BYTES` (zipfile stops at the declared size and checks the CRC, so a member
  that lies about its size fails instead of inflating further). A 199 KB zip bomb that
  inflated to ~340 MB before is refused after reading its directory.
* CSV is decoded incrementally, line by line (`CSV_MAX_LINE` characters at most), never as a
  whole string: a 10 MB CSV costs one line at a time.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import unicodedata
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from .errors import ValidationError
from .settings import get_settings

MAX_PER_SUBMIT = 5
MSG_SIZE = "File size cannot exceed 10MB"
MSG_TYPE = "File type not allowed"

#: Zip containers (DOCX/XLSX): limits on what their members may expand to.
ZIP_MAX_TOTAL_BYTES = 200 * 1024 * 1024  # all members together, as declared
ZIP_MAX_RATIO = 100  # uncompressed / compressed, per member larger than ZIP_RATIO_FLOOR
ZIP_RATIO_FLOOR = 64 * 1024  # smaller members cannot do harm, whatever their ratio
ZIP_MAX_READ_BYTES = 1024 * 1024  # the most we ever inflate of one member ([Content_Types].xml)
CHUNK = 64 * 1024
MSG_ZIP_BOMB = (
    f"the archive expands too much to be checked safely (limits: {ZIP_MAX_TOTAL_BYTES // 2**20} MB in total, "
    f"{ZIP_MAX_RATIO}:1 compression)"
)

#: CSV: what a spreadsheet's text must look like.
CSV_DELIMITERS = ",;\t|"
CSV_SAMPLE_CHARS = 64 * 1024
CSV_MAX_LINE = 128 * 1024
MSG_CSV = f"{MSG_TYPE}: not a CSV file (no delimiter found, or rows with different numbers of columns)"
MSG_MARKUP = f"{MSG_TYPE}: it holds web markup or script (HTML, SVG, XML or a javascript: link)"
#: Markup that a browser (or Excel's HTML import) would act on; matched case-insensitively.
MARKUP = re.compile(
    r"<\s*(?:img|script|svg|html|!doctype|body|iframe|object|embed|math|link|meta|style|a\s|\?xml)"
    r"|xmlns|javascript\s*:|vbscript\s*:|data\s*:\s*text/html|\bon[a-z]+\s*=",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class FileKind:
    key: str  # the name used in settings.allowed_attachment_types
    mime: str
    extension: str
    other_extensions: tuple[str, ...] = ()

    def named(self, extension: str) -> bool:
        return extension.lower() in (self.extension, *self.other_extensions)


KINDS: dict[str, FileKind] = {
    k.key: k
    for k in (
        FileKind("png", "image/png", "png"),
        FileKind("jpeg", "image/jpeg", "jpg", ("jpeg", "jpe", "jfif")),
        FileKind("gif", "image/gif", "gif"),
        FileKind("webp", "image/webp", "webp"),
        FileKind("pdf", "application/pdf", "pdf"),
        FileKind("doc", "application/msword", "doc"),
        FileKind("xls", "application/vnd.ms-excel", "xls"),
        FileKind("docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx"),
        FileKind("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
        FileKind("csv", "text/csv", "csv"),
    )
}
MIME_TO_KIND = {k.mime: k.key for k in KINDS.values()}

_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


class Refused(Exception):
    """The content is of a recognised shape but may not be stored (the reason is the message)."""


def _utf16(name: str) -> bytes:
    return name.encode("utf-16-le")


def _sniff_ole2(content: bytes) -> str | None:
    """DOC or XLS: an OLE2 compound file whose directory names the Word or Excel stream."""
    if _utf16("WordDocument") in content:
        return "doc"
    if _utf16("Workbook") in content or _utf16("Book") in content:
        return "xls"
    return None


def _check_zip_sizes(infos: Sequence[zipfile.ZipInfo]) -> None:
    """Refuse before inflating anything when the declared sizes are a bomb's."""
    total = 0
    for info in infos:
        total += info.file_size
        if info.file_size > ZIP_RATIO_FLOOR and info.file_size > ZIP_MAX_RATIO * max(info.compress_size, 1):
            raise Refused(MSG_ZIP_BOMB)
    if total > ZIP_MAX_TOTAL_BYTES:
        raise Refused(MSG_ZIP_BOMB)


def _read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    """A member's bytes, inflated chunk by chunk and at most ZIP_MAX_READ_BYTES."""
    if info.file_size > ZIP_MAX_READ_BYTES:
        raise Refused(MSG_ZIP_BOMB)
    parts: list[bytes] = []
    size = 0
    with zf.open(info) as member:
        while chunk := member.read(CHUNK):
            size += len(chunk)
            if size > ZIP_MAX_READ_BYTES:  # cannot happen unless zipfile's own bound failed
                raise Refused(MSG_ZIP_BOMB)
            parts.append(chunk)
    return b"".join(parts)


def _sniff_zip(content: bytes) -> str | None:
    """DOCX or XLSX: a zip with [Content_Types].xml and the word/ or xl/ main part."""
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as zf:
            infos = zf.infolist()
            _check_zip_sizes(infos)
            by_name = {info.filename: info for info in infos}
            if "[Content_Types].xml" not in by_name:
                return None
            types = _read_member(zf, by_name["[Content_Types].xml"])
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError, OSError, RuntimeError, ValueError):
        return None
    if "word/document.xml" in by_name and b"wordprocessingml.document.main" in types:
        return "docx"
    if "xl/workbook.xml" in by_name and b"spreadsheetml.sheet.main" in types:
        return "xlsx"
    return None


def _lines(content: bytes, encoding: str) -> Iterator[str]:
    """The text's lines, decoded incrementally; each at most CSV_MAX_LINE characters."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    pending = ""
    for start in range(0, len(content), CHUNK):
        pending += decoder.decode(content[start : start + CHUNK], final=start + CHUNK >= len(content))
        *complete, pending = pending.split("\n")
        for line in complete:
            yield line + "\n"
        if len(pending) > CSV_MAX_LINE:
            raise Refused(f"{MSG_TYPE}: a line is longer than {CSV_MAX_LINE} characters")
    if pending:
        yield pending


def _checked_lines(content: bytes, encoding: str) -> Iterator[str]:
    """Lines with no control character but tab/CR/LF and no markup (Refused otherwise)."""
    for line in _lines(content, encoding):
        if any(unicodedata.category(ch) == "Cc" and ch not in "\r\n\t" for ch in line):
            raise Refused(f"{MSG_TYPE}: it holds control characters")
        if MARKUP.search(line):
            raise Refused(MSG_MARKUP)
        yield line


def _encoding(content: bytes) -> str | None:
    """UTF-8 (with or without BOM) if the whole file decodes so, else cp1252, else None."""
    for encoding in ("utf-8-sig", "cp1252"):
        decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
        try:
            for start in range(0, len(content), CHUNK):
                decoder.decode(content[start : start + CHUNK], final=start + CHUNK >= len(content))
        except UnicodeDecodeError:
            continue
        return encoding
    return None


def _sniff_csv(content: bytes) -> str | None:
    """CSV: text whose delimiter csv.Sniffer finds, every row with as many columns as the
    first, no NUL or other control characters and no markup. Markup (`<img onerror=…>`,
    namespaced SVG/XHTML, `javascript:` links) is Refused with its own message: it is
    what makes a "CSV" dangerous when a browser or spreadsheet opens it."""
    if b"\x00" in content:
        return None
    encoding = _encoding(content)
    if encoding is None:
        return None
    sample_lines: list[str] = []
    size = 0
    for line in _checked_lines(content, encoding):
        sample_lines.append(line)
        size += len(line)
        if size >= CSV_SAMPLE_CHARS:
            break
    sample = "".join(sample_lines)
    if not sample.strip():
        return None
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=CSV_DELIMITERS)
    except csv.Error:
        raise Refused(MSG_CSV) from None
    width: int | None = None
    try:
        for row in csv.reader(_checked_lines(content, encoding), dialect):
            if not row:
                continue  # blank lines are not rows
            if width is None:
                width = len(row)
            elif len(row) != width:
                raise Refused(MSG_CSV)
    except csv.Error:
        raise Refused(MSG_CSV) from None
    return "csv" if width else None


def sniff(content: bytes) -> str | None:
    """The kind of file the bytes are (a key of KINDS), or None when unrecognised or refused."""
    try:
        return _detect(content)
    except Refused:
        return None


def _detect(content: bytes) -> str | None:
    head = content[:16]
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "gif"
    if head.startswith(b"RIFF") and content[8:12] == b"WEBP":
        return "webp"
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(_OLE2):
        return _sniff_ole2(content)
    if head.startswith(b"PK\x03\x04"):
        return _sniff_zip(content)
    return _sniff_csv(content) if content else None


def clean_name(name: str) -> str:
    """The user's file name for display/download only: no path, no control characters."""
    base = re.split(r"[\\/]", name or "")[-1]
    base = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C").strip().strip(".")
    return (base or "attachment")[:255]


def download_name(name: str, kind: FileKind) -> str:
    """The name the file is stored and downloaded under: the user's name, ending in the
    extension of the type the content was detected as (`x.html` holding a PNG is `x.png`)."""
    base = clean_name(name)
    stem, dot, extension = base.rpartition(".")
    if dot and stem and kind.named(extension):
        return base
    stem = stem if dot and stem else base
    return f"{stem[: 255 - len(kind.extension) - 1]}.{kind.extension}"


def check_upload(name: str, content: bytes, *, field: str = "attachments") -> FileKind:
    """The file's kind if it may be stored; ValidationError naming the field and the file
    otherwise (too big, empty, a zip bomb, markup, or a type not on the allowed list)."""
    settings = get_settings()
    label = clean_name(name)
    if len(content) > settings.max_attachment_bytes:
        raise ValidationError({field: f"{label}: {MSG_SIZE}"})
    if not content:
        raise ValidationError({field: f"{label}: the file is empty"})
    try:
        kind = _detect(content)
    except Refused as exc:
        raise ValidationError({field: f"{label}: {exc}"}) from None
    if kind is None or kind not in settings.allowed_attachment_types:
        raise ValidationError({field: f"{label}: {MSG_TYPE}"})
    return KINDS[kind]


def check_uploads(files: Sequence[tuple[str, bytes]], *, field: str = "attachments") -> list[FileKind]:
    """Check a batch (at most MAX_PER_SUBMIT); every bad file is named in one error."""
    if len(files) > MAX_PER_SUBMIT:
        raise ValidationError({field: f"At most {MAX_PER_SUBMIT} attachments per submission"})
    kinds: list[FileKind] = []
    problems: list[str] = []
    for name, content in files:
        try:
            kinds.append(check_upload(name, content, field=field))
        except ValidationError as exc:
            problems.append(exc.errors[field])
    if problems:
        raise ValidationError({field: "; ".join(problems)})
    return kinds
