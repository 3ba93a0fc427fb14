"""What a file is, from its content alone (issue 16): never from its name or the platform's
MIME type, so an executable renamed .pdf is refused.

The allowed types are what CPD evidence comes as, and nothing that runs code: PDF
(certificates, slides), photos and screenshots (JPEG, PNG, HEIC/HEIF from iPhones, WebP
from Android and browsers, GIF), documents (DOCX, ODT), spreadsheets (XLSX: attendance
and hours logs) and plain text notes. Left out: anything that can carry macros or
scripts (DOC/XLS/PPT of the OLE era, DOCM/XLSM, HTML, SVG), archives (a ZIP that is not
one of the documents above), executables, audio and video.

A small table of signatures rather than a library (`filetype`, `puremagic`): the list is
short and each check must be exact, and neither library tells a DOCX from any other ZIP
by its `[Content_Types].xml`, which is what makes a DOCX a DOCX.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass

from bot.core.sanitize import clean_line

PDF = "application/pdf"
PNG = "image/png"
JPEG = "image/jpeg"
GIF = "image/gif"
WEBP = "image/webp"
HEIC = "image/heic"
HEIF = "image/heif"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ODT = "application/vnd.oasis.opendocument.text"
TEXT = "text/plain"


@dataclass(frozen=True)
class FileType:
    mime: str
    extension: str  # what a cleaned name ends with
    label: str  # as the member reads it


TYPES: dict[str, FileType] = {
    t.mime: t
    for t in (
        FileType(PDF, ".pdf", "PDF"),
        FileType(PNG, ".png", "PNG image"),
        FileType(JPEG, ".jpg", "JPEG photo"),
        FileType(GIF, ".gif", "GIF image"),
        FileType(WEBP, ".webp", "WebP image"),
        FileType(HEIC, ".heic", "HEIC photo"),
        FileType(HEIF, ".heif", "HEIF photo"),
        FileType(DOCX, ".docx", "Word document"),
        FileType(XLSX, ".xlsx", "Excel workbook"),
        FileType(ODT, ".odt", "OpenDocument text"),
        FileType(TEXT, ".txt", "text file"),
    )
}
ALLOWED_LABELS = "PDF, JPEG, PNG, HEIC, WebP, GIF, Word (DOCX), Excel (XLSX), ODT or plain text"

# ISO base media "ftyp" major/compatible brands of HEIC and HEIF still images.
_HEIC_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx"}
_HEIF_BRANDS = {b"mif1", b"msf1"}
_AVIF_BRANDS = {b"avif", b"avis"}  # AV1 images share HEIF's container: not allowed
# The main part's content type in [Content_Types].xml (macro-enabled variants differ).
_OOXML_MAIN = {
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml": DOCX,
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml": XLSX,
}
_CONTENT_TYPES_MAX = 1 << 20  # bytes of [Content_Types].xml read (a zip bomb reads no more)
# Control characters no text note holds (tab, newlines and form feed are fine).
_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")


def detect(content: bytes) -> str | None:
    """The MIME type of `content` if it is one of the allowed types, else None."""
    head = content[:64]
    if content[:1024].lstrip(b"\t\n\r ")[:5] == b"%PDF-":
        return PDF
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith((b"GIF87a", b"GIF89a")):
        return GIF
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    if head[4:8] == b"ftyp":
        return _heif(content)
    if head.startswith(b"PK\x03\x04"):
        return _zip_document(content)
    return TEXT if _is_text(content) else None


def _heif(content: bytes) -> str | None:
    size = int.from_bytes(content[:4], "big")
    if size < 16 or size > min(len(content), 4096):
        return None
    brands = {content[8:12]} | {content[i : i + 4] for i in range(16, size - 3, 4)}
    if brands & _AVIF_BRANDS:
        return None
    if brands & _HEIC_BRANDS:
        return HEIC
    if brands & _HEIF_BRANDS:
        return HEIF
    return None


def _zip_document(content: bytes) -> str | None:
    """DOCX or XLSX by the main part named in [Content_Types].xml; ODT by its `mimetype`
    entry; any other ZIP (or a broken one) is None."""
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            names = set(archive.namelist())
            if "mimetype" in names:
                with archive.open("mimetype") as part:
                    kind = part.read(100).strip().decode("ascii", "replace")
                return ODT if kind == ODT and "content.xml" in names else None
            if "[Content_Types].xml" not in names:
                return None
            with archive.open("[Content_Types].xml") as part:
                types = part.read(_CONTENT_TYPES_MAX).decode("utf-8", "replace")
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, RuntimeError):
        return None
    except (NotImplementedError, ValueError):  # an unknown compression or a bad header
        return None
    for main, mime in _OOXML_MAIN.items():
        if f'ContentType="{main}"' in types:
            body = "word/document.xml" if mime == DOCX else "xl/workbook.xml"
            return mime if body in names else None
    return None


def _is_text(content: bytes) -> bool:
    """UTF-8 text without NUL or other control characters (tab, newlines, form feed kept)."""
    if not content:
        return False
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return _CONTROLS.search(text) is None


NAME_MAX = 120


def clean_name(name: str, mime: str) -> str:
    """A file name safe to keep and to send back: no folders, no control, bidi or zero-width
    characters, no leading dots, at most NAME_MAX characters, ending with the extension of
    the detected type (a "report.exe" that is a PDF becomes "report.pdf")."""
    base = re.split(r"[\\/]", name)[-1]
    base = " ".join(clean_line(base).split()).lstrip(". ")
    extension = TYPES[mime].extension if mime in TYPES else ""
    stem, dot, old = base.rpartition(".")
    if dot and 1 <= len(old) <= 5 and old.isalnum() and not old.isdigit():
        base = stem.rstrip(". ")
    base = base[: NAME_MAX - len(extension)].rstrip(". ")
    return (base or "evidence") + extension
