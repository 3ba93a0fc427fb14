"""What a PDF certificate says: its title, date, provider and CPD time, as a proposal.

``propose(pdf, today=...)`` reads the text of a certificate the member sent (pypdf) and
returns the facts it states, for the member to confirm with one tap; nothing here applies
them. The bot's own parsers read the dates and lengths (``bot.core.parsing``), so a
certificate's '12/03/2026' follows the member's date order like anything they type.

Bounded, since the file comes from a chat: at most ``MAX_BYTES`` of PDF, the first
``MAX_PAGES`` pages, ``MAX_CHARS`` of text, decoded streams capped well below pypdf's own
limits, and a time budget checked between pages and every few hundred content-stream
operators inside a page (a page that runs over is dropped, pages read before it are kept).
It is CPU work: callers on an event loop run it in a thread. An encrypted PDF that needs a
password to open, a broken file or anything that is not a PDF gives None, never an exception.
A PDF protected only against editing (no password to open it) is read, as any viewer would.

What is read, and what is left alone on purpose:

- Title: a labelled line ('Course: ...', 'Event title: ...'), else the words after 'has
  attended', 'for attending', 'for completing', '(successfully) completed', 'participated
  in' (the rest of that line, or the next line when the phrase ends its line), else a
  'Certificate of attendance/completion: ...' line that names it. A quoted title wins.
- Date: the activity's date, not the certificate's: dates labelled as issued, printed,
  generated, valid until or expiring are never proposed, and neither are dates after
  ``today``; a date near 'attended', 'completed', 'held' or 'date of ...' is preferred. A
  multi-day course ('12–14 March 2026', '30 Nov – 2 Dec 2025') gives its first day. A
  certificate with only an issue date gives no date.
- CPD time: '3 CPD hours', '1.5 hours', '90 minutes', '1 hour 30 minutes', 'CPD hours: 6'.
  CPD points, units and credits are not hours: schemes weigh them differently, so they give
  ``minutes`` None unless the certificate itself says one point is one hour ('1 CPD point =
  1 hour'); nothing is guessed. Days ('a 2-day course') are not turned into hours either.
- Provider: 'issued / provided / delivered / organised / hosted / awarded by ...', 'on behalf
  of ...' or 'Provider: ...'; else an organisation's line (Institution, University, Ltd,
  NHS, ...) near the signature, then anywhere; else the PDF's /Author when it names someone
  other than software ('presented by' comes late: it often names the speaker). /Producer
  and /Creator name the software that made the file, never the provider.

Images are not read: no OCR. There is no well-kept pure-Python OCR to depend on here, and
Tesseract is a system binary the bot's machines would have to install and keep; a scanned
certificate (a PDF that is one picture, or a photo) gives None and the member types the facts.
"""

from __future__ import annotations

import io
import re
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any, Final, cast

from pypdf import PdfReader, apply_configuration, get_configuration

from bot.core.parsing import DateOrder, parse_date_range, parse_duration

MAX_BYTES: Final = 20 * 1024 * 1024
MAX_PAGES: Final = 3
MAX_CHARS: Final = 20_000
BUDGET_SECONDS: Final = 2.0
_MAX_STREAM_BYTES: Final = 8_000_000  # a certificate page's content is kilobytes
_CLOCK_EVERY: Final = 256  # operators between two clock reads inside a page
_MAX_MINUTES: Final = 200 * 60
_MAX_TITLE: Final = 150
_MAX_DATES: Final = 30
_DATE_ORDERS: Final = ("DMY", "MDY", "YMD")


@dataclass(frozen=True)
class CertificateFacts:
    """What a certificate states; None where it does not say (or says it in a picture)."""

    title: str | None
    activity_date: date | None
    provider: str | None
    minutes: int | None


class _OutOfTime(Exception):
    """The time budget ran out inside a page."""


def propose(
    pdf: bytes,
    *,
    date_order: str = "DMY",
    today: date,
    budget_seconds: float = BUDGET_SECONDS,
    clock: Callable[[], float] = time.monotonic,
) -> CertificateFacts | None:
    """The facts the certificate ``pdf`` states, or None when it states none we can read."""
    read = read_text(pdf, budget_seconds=budget_seconds, clock=clock)
    if read is None:
        return None
    text, author = read
    order = cast(DateOrder, date_order) if date_order in _DATE_ORDERS else "DMY"
    return facts_from_text(text, author=author, date_order=order, today=today)


def read_text(
    pdf: bytes,
    *,
    budget_seconds: float = BUDGET_SECONDS,
    clock: Callable[[], float] = time.monotonic,
) -> tuple[str, str | None] | None:
    """The text of the first pages and the /Author, or None (not a readable PDF, or no text)."""
    if len(pdf) > MAX_BYTES or b"%PDF-" not in pdf[:1024]:
        return None
    deadline = clock() + budget_seconds
    limits = get_configuration().with_overwrites(
        stream_parsing_work_maximum_count=500_000,
        zlib_maximum_output_length=_MAX_STREAM_BYTES,
        lzw_maximum_output_length=_MAX_STREAM_BYTES,
        run_length_maximum_output_length=_MAX_STREAM_BYTES,
        array_based_stream_maximum_output_length=_MAX_STREAM_BYTES,
        brotli_maximum_output_length=_MAX_STREAM_BYTES,
    )
    try:
        with apply_configuration(limits):
            reader = PdfReader(io.BytesIO(pdf))
            if reader.is_encrypted and not reader.decrypt(""):
                return None
            pages = _pages_text(reader, deadline, clock)
            author = _author(reader) if pages else None
    except Exception:  # pypdf raises many kinds on hostile files; the caller gets None
        return None
    return (pages, author) if pages else None


def _pages_text(reader: PdfReader, deadline: float, clock: Callable[[], float]) -> str:
    parts: list[str] = []
    count = 0

    def watch(*_: Any) -> None:
        nonlocal count
        count += 1
        if count % _CLOCK_EVERY == 0 and clock() > deadline:
            raise _OutOfTime

    for index in range(min(len(reader.pages), MAX_PAGES)):
        if clock() > deadline:
            break
        try:
            parts.append(reader.pages[index].extract_text(visitor_operand_before=watch))
        except _OutOfTime:
            break
        if sum(map(len, parts)) >= MAX_CHARS:
            break
    return "\n".join(parts)[:MAX_CHARS].strip()


_SOFTWARE_RE: Final = re.compile(
    r"\b(?:admin(?:istrator)?|user|owner|unknown|microsoft|word|excel|powerpoint|adobe|"
    r"acrobat|pdf\w*|fpdf\w*|reportlab|latex|tex|python|wkhtmltopdf|chrome|chromium|skia|"
    r"canva|docusign|libreoffice|openoffice|ghostscript|quartz|none|author)\b",
    re.IGNORECASE,
)


def _author(reader: PdfReader) -> str | None:
    try:
        metadata = reader.metadata
        author = None if metadata is None else metadata.author
    except Exception:  # a broken /Info dictionary is no reason to drop the text
        return None
    if not author:
        return None
    author = " ".join(str(author).split())
    if not 2 <= len(author) <= 100 or not re.search(r"[^\W\d_]", author):
        return None
    return None if _SOFTWARE_RE.search(author) else author


# --- the facts in the text ------------------------------------------------------------


def facts_from_text(
    text: str, *, author: str | None = None, date_order: DateOrder = "DMY", today: date
) -> CertificateFacts | None:
    """The facts in a certificate's extracted ``text``; None when it states none of them."""
    lines = _lines(text)
    title = _title(lines)
    facts = CertificateFacts(
        title=title,
        activity_date=_activity_date(lines, date_order, today),
        provider=_provider(lines, title, author),
        minutes=_minutes("\n".join(lines)),
    )
    if facts == CertificateFacts(None, None, None, None):
        return None
    return facts


def _lines(text: str) -> list[str]:
    text = unicodedata.normalize("NFKC", text)
    return [line for raw in text.splitlines() if (line := " ".join(raw.split()))]


# Dates: the forms certificates print, each handed to the bot's own range parser.
_DAY: Final = r"\d{1,2}(?:st|nd|rd|th)?"
_MONTH: Final = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_TO: Final = r"\s*(?:[-–—]|to|until)\s*"
_NUMERIC: Final = r"\d{1,2}[/.]\d{1,2}[/.]\d{2}(?:\d{2})?|\d{4}-\d{2}-\d{2}"
_DATE_RE: Final = re.compile(
    rf"""(?<![\w/.-])(?:
        {_DAY}(?:\s+{_MONTH})?(?:{_TO}{_DAY})?\s+(?:of\s+)?{_MONTH},?\s+\d{{4}}
      | {_MONTH}\s+{_DAY}(?:{_TO}(?:{_MONTH}\s+)?{_DAY})?,?\s+\d{{4}}
      | (?:{_NUMERIC})(?:{_TO}(?:{_NUMERIC}))?
    )(?![\w/])""",
    re.IGNORECASE | re.VERBOSE,
)
_NOT_ACTIVITY_RE: Final = re.compile(
    r"\b(?:issued?|issuing|printed|generated|expir\w*|valid|renew\w*|birth|dob|revised|"
    r"version|downloaded|registered|awarded\s+on)\b",
    re.IGNORECASE,
)
_ACTIVITY_RE: Final = re.compile(
    r"\b(?:attend\w*|complet\w*|held|took\s+place|participat\w*|dates?\s+of|event|course|"
    r"activity|training|session|webinar|conference|on)\b",
    re.IGNORECASE,
)


def _activity_date(lines: list[str], date_order: DateOrder, today: date) -> date | None:
    preferred: date | None = None
    plain: date | None = None
    seen = 0
    for i, line in enumerate(lines):
        for m in _DATE_RE.finditer(line):
            seen += 1
            if seen > _MAX_DATES:
                return preferred or plain
            context = line[: m.start()]
            if not context.strip(" :–-") and i:
                context = lines[i - 1]  # 'Date of issue' on the line above the date
            found = parse_date_range(m.group(), today=today, date_order=date_order)
            if found is None or found[0] > today or _NOT_ACTIVITY_RE.search(context):
                continue
            if preferred is None and _ACTIVITY_RE.search(context):
                preferred = found[0]
            plain = plain or found[0]
    return preferred or plain


# CPD time.
_AMOUNT: Final = r"\d{1,3}(?:[.,]\d{1,2})?"
_HOURS_RE: Final = re.compile(
    rf"(?<![\w.,])(?P<n>{_AMOUNT})[\s-]*(?:(?P<cpd>cpd|learning|study|contact)\s+)?"
    r"(?P<u>hours?|hrs?|minutes?|mins?)\b"
    r"(?:\s*(?:and\s+)?(?P<m>\d{1,2})\s*(?:minutes?|mins?)\b)?",
    re.IGNORECASE,
)
_HM_RE: Final = re.compile(r"(?<![\w.,])(?P<h>\d{1,2})\s*h\s*(?P<m>\d{1,2})\s*m(?:ins?)?\b", re.I)
_HOURS_LABEL_RE: Final = re.compile(
    rf"\b(?:cpd\s+)?hours(?:\s+(?:awarded|claimed|recorded|earned|completed))?\s*[:=]\s*"
    rf"(?P<n>{_AMOUNT})(?![\w.,]|\s*(?:points?|units?|credits?)\b)",
    re.IGNORECASE,
)
_NOT_LENGTH_RE: Final = re.compile(
    r"\b(?:within|every|per|allow|after|before|up\s+to|valid|ago|each|available)\s+$", re.I
)
_POINTS_RE: Final = re.compile(
    rf"(?<![\w.,])(?P<n>{_AMOUNT})\s*(?:cpd\s+)?(?:points?|units?|credits?)\b"
    rf"|\bcpd\s+(?:points?|units?|credits?)(?:\s+awarded)?\s*[:=]\s*(?P<l>{_AMOUNT})\b",
    re.IGNORECASE,
)
_POINT_IS_HOUR_RE: Final = re.compile(
    r"\b(?:1|one|each|every)\s+(?:cpd\s+)?(?:point|unit|credit)\s*(?:=|equals|is\s+equal\s+to|"
    r"is\s+equivalent\s+to|is|represents|corresponds\s+to)\s*(?:1|one)\s+(?:cpd\s+)?hour\b"
    r"|\b(?:1|one)\s+(?:cpd\s+)?(?:point|unit|credit)\s+(?:for\s+)?(?:each|every|per)\s+hour\b",
    re.IGNORECASE,
)


def _minutes(original: str) -> int | None:
    """The CPD time stated: hours and minutes, else points said to be hours; else None."""
    found: list[tuple[bool, int]] = []  # (says CPD, minutes), in the order of the text
    text = _POINT_IS_HOUR_RE.sub(lambda m: "#" * len(m.group()), original)  # the rule, not a length
    for m in _HOURS_RE.finditer(text):
        if _NOT_LENGTH_RE.search(text, max(0, m.start() - 20), m.start()):
            continue
        extra = f" {m.group('m')} minutes" if m.group("m") else ""
        phrase = f"{m.group('n')} {m.group('u')}{extra}"
        minutes = parse_duration(phrase)
        line = _line_at(text, m.start())
        found.extend(_kept(minutes, bool(m.group("cpd")) or "cpd" in line.lower()))
    for m in _HM_RE.finditer(text):
        minutes = parse_duration(f"{m.group('h')}h{m.group('m')}")
        found.extend(_kept(minutes, "cpd" in _line_at(text, m.start()).lower()))
    for m in _HOURS_LABEL_RE.finditer(text):
        found.extend(_kept(parse_duration(f"{m.group('n')} hours"), True))
    if found:
        return next((minutes for cpd, minutes in found if cpd), found[0][1])
    return _points_as_hours(original)


def _kept(minutes: int | None, cpd: bool) -> list[tuple[bool, int]]:
    return [(cpd, minutes)] if minutes is not None and 0 < minutes <= _MAX_MINUTES else []


def _line_at(text: str, pos: int) -> str:
    start = text.rfind("\n", 0, pos) + 1
    end = text.find("\n", pos)
    return text[start : len(text) if end < 0 else end]


def _points_as_hours(text: str) -> int | None:
    if not _POINT_IS_HOUR_RE.search(text):
        return None
    for m in _POINTS_RE.finditer(text):
        amount = m.group("n") or m.group("l")
        if m.group("n") and _POINT_IS_HOUR_RE.match(text, m.start()):
            continue  # '1 CPD point = 1 hour' is the rule, not the award
        minutes = parse_duration(f"{amount} hours")
        if minutes is not None and 0 < minutes <= _MAX_MINUTES:
            return minutes
    return None


# Titles.
_TITLE_LABEL_RE: Final = re.compile(
    r"^(?:course|course\s+(?:title|name)|event|event\s+(?:title|name)|activity|module|"
    r"programme|program|session|webinar|training|title|subject|topic|learning)\s*[:–—]\s*"
    r"(?P<t>.+)$",
    re.IGNORECASE,
)
_TITLE_PHRASE_RE: Final = re.compile(
    r"\b(?:(?:has|have)\s+)?(?:successfully\s+)?(?:attended(?:\s+and\s+(?:successfully\s+)?"
    r"completed)?|completed|participated\s+in|"
    r"for\s+(?:successfully\s+)?(?:attending|completing|participating\s+in))\b(?!\s*:)"
    r"(?P<t>.*)$",
    re.IGNORECASE,
)
_CERT_OF_RE: Final = re.compile(
    r"^certificate\s+of\s+(?:attendance|completion|participation|achievement|learning|cpd)"
    r"\b\s*(?:[:–—-]|\bfor\b|\bin\b)?\s*(?P<t>.*)$",
    re.IGNORECASE,
)
_INTRO_RE: Final = re.compile(
    r"^(?:this\s+is\s+to\s+certify|this\s+certifies|this\s+certificate|we\s+certify|"
    r"(?:is\s+)?(?:awarded|presented)\s+to|certifies\s+that)\b",
    re.IGNORECASE,
)
_QUOTED_RE: Final = re.compile(r"[\"“‘'](?P<q>[^\"“”‘’']{3,})[\"”’']")
_GENERIC_LEAD_RE: Final = re.compile(
    r"^(?:the\s+)?(?:following\s+)?(?:(?:online|e-learning|elearning|live|training|short|"
    r"cpd)\s+)?(?:course|webinar|module|programme|program|session|e-learning|elearning|event)"
    r"(?:\s*[:–—-]\s*|\s+(?=(?-i:[A-Z0-9])))",
    re.IGNORECASE,
)
_GENERIC_ONLY_RE: Final = re.compile(
    r"(?:(?:the|a|an)\s+)?(?:following\s+)?(?:(?:[\w-]+-day|online|e-learning|live|training|"
    r"short|cpd|accredited)\s+)*(?:course|webinar|module|programme|program|session|e-learning|"
    r"elearning|event|workshop|seminar|conference|training)?",
    re.IGNORECASE,
)
_TITLE_STOP_RE: Final = re.compile(
    r"\s*(?:\b(?:held|which\s+took\s+place|that\s+took\s+place|took\s+place|delivered\s+by|"
    r"presented\s+by|provided\s+by|organi[sz]ed\s+by|hosted\s+by|issued\s+by|run\s+by|"
    r"awarded\s+by|lasting|totalling|totaling|worth|with\s+a\s+duration|and\s+(?:is|has)\s+"
    r"been\s+awarded|and\s+(?:achieved|earned|gained)|awarding|on\s+behalf\s+of)\b|\(|\bon\s+"
    r"(?=(?:mon|tue|wed|thu|fri|sat|sun)|\d)).*$",
    re.IGNORECASE,
)
_CONTINUES_RE: Final = re.compile(r"(?:[:–—&,-]|\b(?:and|of|for|in|to|the|on|with|a))$", re.I)


def _title(lines: list[str]) -> str | None:
    for line in lines:
        if (m := _TITLE_LABEL_RE.match(line)) and (title := _tidy_title(m.group("t"))):
            return title
    for i, line in enumerate(lines):
        if (m := _TITLE_PHRASE_RE.search(line)) is None:
            continue
        rest = m.group("t").strip(" :")
        if _GENERIC_ONLY_RE.fullmatch(rest):
            rest = ""  # 'has completed the course' with the title on the next line
        if not rest and i + 1 < len(lines):
            rest = _with_continuation(lines, i + 1)
        elif rest and _CONTINUES_RE.search(rest) and i + 1 < len(lines):
            rest = f"{rest} {lines[i + 1]}"
        if title := _tidy_title(rest):
            return title
    return _certificate_of_title(lines)


def _with_continuation(lines: list[str], i: int) -> str:
    line = lines[i]
    if _CONTINUES_RE.search(line) and i + 1 < len(lines):
        return f"{line} {lines[i + 1]}"
    return line


def _certificate_of_title(lines: list[str]) -> str | None:
    for i, line in enumerate(lines):
        if (m := _CERT_OF_RE.match(line)) is None:
            continue
        if m.group("t"):
            return _tidy_title(m.group("t"))
        # The title between the heading and 'awarded to ...'; never the member's name.
        if i + 2 < len(lines) and _INTRO_RE.match(lines[i + 2]):
            return _tidy_title(lines[i + 1])
    return None


def _tidy_title(text: str) -> str | None:
    quoted = _QUOTED_RE.search(text)
    if quoted:
        text = quoted.group("q")
    else:
        text = _TITLE_STOP_RE.sub("", text)
        if (date := _DATE_RE.search(text)) is not None:
            text = text[: date.start()]
        text = re.sub(r"\s+(?:on|at|in)$", "", text.strip(), flags=re.IGNORECASE)
        text = _GENERIC_LEAD_RE.sub("", re.sub(r"^the\s+", "", text))
    text = text.strip(" .,;:–—-\"'“”‘’")
    if not 3 <= len(text) <= _MAX_TITLE or not re.search(r"[^\W\d_]{2}", text):
        return None
    if _INTRO_RE.match(text) or _CERT_OF_RE.match(text):
        return None
    return text


# Providers.
_BY_RE: Final = re.compile(
    r"\b(?P<how>issued|provided|delivered|organi[sz]ed|hosted|run|awarded|certified|presented)"
    r"\s+by\b\s*:?\s*|\bon\s+behalf\s+of\s+",
    re.IGNORECASE,
)
_PROVIDER_LABEL_RE: Final = re.compile(
    r"^(?:(?:training|course|learning|cpd|event)\s+)?(?:provider|organiser|organizer|"
    r"issuing\s+(?:organisation|organization|body)|awarding\s+body)\s*[:–—]\s*(?P<p>.+)$",
    re.IGNORECASE,
)
_ORG_RE: Final = re.compile(
    r"\b(?:institution|institute|university|college|society|association|academy|trust|nhs|"
    r"council|ltd|limited|plc|inc|llc|gmbh|foundation|agency|board|federation|school|company|"
    r"organisation|organization|e-learning\s+for\s+healthcare|health\s+education\s+england)\b",
    re.IGNORECASE,
)
_NOT_ORG_LINE_RE: Final = re.compile(
    r"\d|\b(?:certif\w*|attended|completed|awarded|presented|has|this|hours?|points?|date|"
    r"registered|charity|accredit\w*|approved|member|registration|course|module|webinar)\b",
    re.IGNORECASE,
)
_SIGNATURE_RE: Final = re.compile(
    r"\b(?:signed|signature|director|chief\s+executive|ceo|president|chair|head\s+of|"
    r"leader|registrar|dean|manager|secretary)\b",
    re.IGNORECASE,
)
_PROVIDER_STOP_RE: Final = re.compile(
    r"\s*(?:[.;(]|,\s*(?:on|in|at)\b|\b(?:on|in\s+(?:partnership|association)|for|at|and\s+"
    r"(?:is|has))\s).*$",
    re.IGNORECASE,
)


def _provider(lines: list[str], title: str | None, author: str | None) -> str | None:
    """The organisation that gave the certificate; the best of the candidates found."""
    ranked: list[tuple[int, str]] = []
    for line in lines:
        if (m := _PROVIDER_LABEL_RE.match(line)) and (name := _tidy_provider(m.group("p"))):
            ranked.append((0, name))
        ranked.extend(_by_phrases(line))
    signed = False
    for line in lines:
        signed = signed or _SIGNATURE_RE.search(line) is not None
        if _is_org_line(line, title):
            ranked.append((2 if signed else 4, line))
    if author is not None:
        ranked.append((5, author))
    return min(ranked, key=lambda pair: pair[0])[1] if ranked else None


def _by_phrases(line: str) -> list[tuple[int, str]]:
    """'issued by X', 'hosted by X on behalf of Y': each name ranked (organisations first)."""
    found: list[tuple[int, str]] = []
    marks = list(_BY_RE.finditer(line))
    ends = [m.start() for m in marks[1:]] + [len(line)]
    for by, end in zip(marks, ends, strict=False):
        name = _tidy_provider(line[by.end() : end])
        if name is None:
            continue
        presented = (by.group("how") or "").lower() == "presented"
        organisation = _ORG_RE.search(name) is not None
        found.append((1 if organisation else 4 if presented else 3, name))
    return found


def _is_org_line(line: str, title: str | None) -> bool:
    if len(line) > 90 or len(line.split()) > 12 or _ORG_RE.search(line) is None:
        return False
    if _NOT_ORG_LINE_RE.search(line) or _SIGNATURE_RE.search(line):
        return False
    return title is None or title.lower() not in line.lower()


def _tidy_provider(text: str) -> str | None:
    text = re.sub(r"^the\s+", "", text.strip())  # 'issued by the IET'; 'The IET' stays
    text = _PROVIDER_STOP_RE.sub("", text)
    if (date := _DATE_RE.search(text)) is not None:
        text = text[: date.start()]
    text = text.strip(" .,;:–—-\"'“”‘’")
    if not 2 <= len(text) <= 100 or not re.search(r"[^\W\d_]{2}", text):
        return None
    return text
