"""Calendar feeds: check an ICS address, fetch it safely, and list the events in a window.

Three independent parts, none of which touches the database or the dialogue:

``validate_feed_url``
    The syntactic check run when a user types ``/calendar add <url>``: http(s) only
    (``webcal://`` becomes ``https://``), no user name or password, a full host name, at
    most ``MAX_URL_LENGTH`` characters, and (unless private networks are allowed) no
    private, loopback or link-local IP literal. No DNS.

``fetch_feed``
    A conditional GET (ETag / Last-Modified) through an injected ``httpx.AsyncClient``,
    with an overall time limit, a size cap enforced while streaming (also after gzip),
    redirects followed by hand (at most ``MAX_REDIRECTS``, each hop validated again), and
    the destination's addresses resolved and vetted before every connection. The request
    then goes to the vetted IP itself (Host header and TLS SNI keep the name), so a DNS
    answer that changes between the check and the connection (DNS rebinding) cannot
    redirect it to a private address.

``read_feed`` / ``occurrences``
    Parse ICS bytes and list every occurrence overlapping a window, recurrences expanded
    by ``recurring-ical-events``. Hostile input is bounded: the text is pre-scanned and
    events far outside the window are dropped before parsing, repeat rules that could make
    the expansion run for minutes (more often than daily, never matching, starting
    centuries ago) are left out, counts are capped, and a time limit stops the rest.
    Series that cannot be read are left out and reported (``FeedReading.skipped``); the
    rest of the feed is still read.

Every problem a feed's owner should hear about is a ``FeedError`` whose message can be
shown as is: no stack traces, no resolved IP addresses. ``read_feed`` is CPU-bound and
synchronous: call it with ``asyncio.to_thread`` from async code.

``is_learning`` and ``duration_minutes`` help decide what to prompt for and how to prefill
the hours. See ``docs/calendar.md``.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import socket
import threading
import time
import warnings
import zlib
from collections.abc import Awaitable, Callable, Collection, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from functools import lru_cache
from html.parser import HTMLParser
from typing import Any, Final, Literal
from urllib.parse import urljoin
from zoneinfo import ZoneInfo, available_timezones

import httpx
import icalendar
import recurring_ical_events
from dateutil.rrule import rrulestr
from icalendar.error import GloballyUniqueTZIDGuessed
from icalendar.timezone.windows_to_olson import WINDOWS_TO_OLSON

from bot.core.calendar_rules import (
    _NOT_PUBLIC,
    DEFAULT_KEYWORDS,
    MAX_URL_LENGTH,
    FeedError,
    _ip_or_none,
    is_public_address,
    validate_feed_url,
)

__all__ = [
    "DEFAULT_KEYWORDS",
    "MAX_EVENTS",
    "MAX_OCCURRENCES",
    "MAX_REDIRECTS",
    "MAX_URL_LENGTH",
    "FeedError",
    "FeedReading",
    "FetchResult",
    "Occurrence",
    "Resolver",
    "duration_minutes",
    "fetch_feed",
    "is_learning",
    "is_public_address",
    "new_client",
    "occurrences",
    "public_addresses",
    "read_feed",
    "resolve_is_public",
    "system_resolver",
    "validate_feed_url",
]


# --------------------------------------------------------------------------------------
# Limits
# --------------------------------------------------------------------------------------

MAX_REDIRECTS: Final = 5
# Connection attempts per hop when a name has several public addresses (IPv6 then IPv4).
_MAX_ADDRESSES_TRIED: Final = 3
# Events (VEVENT blocks) that survive the window pre-filter and are fully parsed.
MAX_EVENTS: Final = 10_000
# Occurrences returned for one window.
MAX_OCCURRENCES: Final = 10_000
# CPU time for expanding one feed, after parsing (parsing itself is bounded by the size).
_TIME_LIMIT: Final = 10.0
# ICS bytes that read_feed accepts at all (fetch_feed's own default cap is 5 MB).
_MAX_ICS_BYTES: Final = 20_000_000
_MAX_NESTING: Final = 10
_MAX_TIMEZONES: Final = 100
_MAX_TIMEZONE_PARTS: Final = 400
_MAX_RDATES: Final = 1000
# dateutil walks every period (day, week, month, year) of a rule from its start, and every
# date the rule produces on the way, a few microseconds each. A series may need at most
# this many steps to reach the window: a daily series that started 137 years ago, a weekly
# one on every day of the week 240 years ago.
_MAX_STEPS: Final = 100_000
# Occurrences per day a rule may create through BYHOUR x BYMINUTE x BYSECOND.
_MAX_TIMES_PER_DAY: Final = 24
_MAX_TITLE: Final = 200
_MAX_DESCRIPTION: Final = 2000
_MAX_UID: Final = 255
# Notes in FeedReading.skipped (the last one counts the rest).
_MAX_NOTES: Final = 10
USER_AGENT: Final = "cpdbot (calendar feed reader)"

_NOT_A_CALENDAR: Final = (
    "This is not a calendar (iCalendar) file. Check that the link is the calendar's "
    "ICS / iCal address, not the web page that shows it."
)


Resolver = Callable[[str, int], Awaitable[Sequence[str]]]
"""``async (host, port) -> addresses``: how host names are resolved (injectable for tests)."""


async def system_resolver(host: str, port: int) -> list[str]:
    """Resolve ``host`` with the operating system's resolver (``getaddrinfo``)."""
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses: list[str] = []
    for *_, sockaddr in infos:
        address = str(sockaddr[0])
        if address not in addresses:
            addresses.append(address)
    return addresses


async def public_addresses(
    host: str, port: int = 443, *, resolver: Resolver | None = None
) -> list[str]:
    """Every address ``host`` resolves to, or ``FeedError`` unless all of them are public."""
    literal = _ip_or_none(host)
    if literal is not None:
        if not is_public_address(literal):
            raise FeedError(_NOT_PUBLIC)
        return [str(literal)]
    try:
        addresses = list(await (resolver or system_resolver)(host, port))
    except (OSError, UnicodeError):
        addresses = []
    if not addresses:
        raise FeedError(f"The calendar server {host} could not be found.")
    if not all(is_public_address(address) for address in addresses):
        raise FeedError(_NOT_PUBLIC)
    return addresses


async def resolve_is_public(host: str, *, resolver: Resolver | None = None) -> bool:
    """True when ``host`` resolves and every address it resolves to is public."""
    try:
        await public_addresses(host, resolver=resolver)
    except FeedError:
        return False
    return True


# --------------------------------------------------------------------------------------
# Fetching
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FetchResult:
    """What a fetch found: a new body, or ``not_modified`` (then ``body`` is None).

    ``etag`` and ``last_modified`` are the validators to send next time (on
    ``not_modified``, the server's new ones or else the ones that were sent).
    """

    status: Literal["ok", "not_modified"]
    body: bytes | None
    etag: str | None
    last_modified: str | None


@dataclass(frozen=True)
class _Redirect:
    location: str


def new_client(*, timeout: float = 15.0) -> httpx.AsyncClient:
    """An ``httpx.AsyncClient`` suited to ``fetch_feed``.

    ``trust_env=False`` so that proxy variables and ``~/.netrc`` credentials of the host
    running the bot are never applied to users' feed addresses.
    """
    return httpx.AsyncClient(
        trust_env=False,
        follow_redirects=False,
        timeout=timeout,
        headers={"User-Agent": USER_AGENT},
    )


def _seconds(value: float) -> str:
    return f"{value:g} s"


def _status_message(status: int) -> str:
    if status in (401, 403):
        return (
            f"The calendar server refused access ({status}). Is the calendar still shared, "
            "and is the address complete?"
        )
    if status in (404, 410):
        return (
            f"The calendar server has no calendar at that address ({status}). It may have "
            "been deleted, or its secret address reset."
        )
    if status == 429:
        return "The calendar server answered 429 (too many requests); it will be tried later."
    if status >= 500:
        return f"The calendar server answered {status} (a server error)."
    return f"The calendar server answered {status}, not a calendar."


def _too_large(max_bytes: int) -> FeedError:
    return FeedError(f"The calendar is too large (more than {max_bytes / 1e6:g} MB).")


async def _read_body(response: httpx.Response, max_bytes: int) -> bytes:
    """The body, decompressed, refusing more than ``max_bytes`` before holding them."""
    if response.is_stream_consumed:  # a transport that answered from memory (tests, mocks)
        if len(response.content) > max_bytes:
            raise _too_large(max_bytes)
        return response.content
    encoding = response.headers.get("content-encoding", "").strip().lower()
    decoder: Any = None
    if encoding in ("gzip", "x-gzip"):
        decoder = zlib.decompressobj(16 + zlib.MAX_WBITS)
    elif encoding == "deflate":
        decoder = zlib.decompressobj()
    elif encoding not in ("", "identity"):
        raise FeedError(
            f"The calendar server used a compression that cannot be read ({encoding[:20]})."
        )
    chunks: list[bytes] = []
    size = 0

    def keep(data: bytes) -> None:
        nonlocal size
        size += len(data)
        if size > max_bytes:
            raise _too_large(max_bytes)
        chunks.append(data)

    try:
        async for raw in response.aiter_raw():
            if decoder is None:
                keep(raw)
                continue
            # Inflate at most one byte past the cap: a small compressed chunk can
            # expand a thousandfold, and the cap is about what we hold in memory.
            keep(decoder.decompress(raw, max_bytes - size + 1))
            while decoder.unconsumed_tail:
                keep(decoder.decompress(decoder.unconsumed_tail, max_bytes - size + 1))
        if decoder is not None:
            keep(decoder.flush())
    except zlib.error:
        raise FeedError("The calendar server sent a damaged compressed answer.") from None
    return b"".join(chunks)


async def _handle(
    response: httpx.Response,
    *,
    etag: str | None,
    last_modified: str | None,
    max_bytes: int,
) -> FetchResult | _Redirect:
    status = response.status_code
    if status in (301, 302, 303, 307, 308):
        location = response.headers.get("location", "").strip()
        if not location:
            raise FeedError(f"The calendar server answered {status} without a new address.")
        return _Redirect(location)
    if status == 304:
        return FetchResult(
            "not_modified",
            None,
            response.headers.get("etag") or etag,
            response.headers.get("last-modified") or last_modified,
        )
    if status not in (200, 203):
        raise FeedError(_status_message(status))
    declared = response.headers.get("content-length", "").strip()
    if declared.isdigit() and int(declared) > max_bytes:
        raise _too_large(max_bytes)
    body = await _read_body(response, max_bytes)
    return FetchResult(
        "ok", body, response.headers.get("etag"), response.headers.get("last-modified")
    )


def _connect_message(host: str, error: Exception | None) -> str:
    if error is not None and "CERTIFICATE_VERIFY_FAILED" in str(error):
        return f"Could not make a secure connection to {host}: its certificate is not valid."
    return f"Could not connect to the calendar server {host}."


async def _fetch_once(
    url: str,
    *,
    client: httpx.AsyncClient,
    headers: dict[str, str],
    etag: str | None,
    last_modified: str | None,
    allow_private: bool,
    max_bytes: int,
    request_timeout: float,
    resolver: Resolver | None,
) -> FetchResult | _Redirect:
    parsed = httpx.URL(url)
    host = parsed.raw_host.decode("ascii")
    targets: list[tuple[httpx.URL, dict[str, str], dict[str, Any]]]
    if allow_private or _ip_or_none(parsed.host) is not None:
        # An IP literal was vetted by validate_feed_url; with allow_private nothing is.
        targets = [(parsed, {}, {})]
    else:
        port = parsed.port or (443 if parsed.scheme == "https" else 80)
        addresses = await public_addresses(host, port, resolver=resolver)
        # Connect to the vetted address itself: the name is not resolved a second time
        # (no DNS rebinding window). Host and SNI keep the name, so virtual hosting and
        # certificate checks work as they would with the name.
        netloc = parsed.netloc.decode("ascii")
        extensions: dict[str, Any] = {"sni_hostname": host} if parsed.scheme == "https" else {}
        targets = [
            (parsed.copy_with(host=address), {"Host": netloc}, extensions)
            for address in addresses[:_MAX_ADDRESSES_TRIED]
        ]
    last_error: Exception | None = None
    for wire_url, extra_headers, request_extensions in targets:
        try:
            async with client.stream(
                "GET",
                wire_url,
                headers={**headers, **extra_headers},
                extensions=request_extensions,
                follow_redirects=False,
                timeout=request_timeout,
            ) as response:
                return await _handle(
                    response, etag=etag, last_modified=last_modified, max_bytes=max_bytes
                )
        except httpx.ConnectError as error:
            last_error = error
            continue
        except httpx.TimeoutException:
            raise FeedError(
                f"The calendar server did not answer within {_seconds(request_timeout)}."
            ) from None
        except httpx.HTTPError:
            raise FeedError("The calendar server sent an answer that could not be read.") from None
    raise FeedError(_connect_message(host, last_error))


def _follow(current: str, location: str, *, allow_private: bool) -> str:
    try:
        target = validate_feed_url(urljoin(current, location), allow_private=allow_private)
    except FeedError as error:
        raise FeedError(
            f"The calendar server redirected to an address that cannot be used: {error}"
        ) from None
    if current.startswith("https://") and target.startswith("http://"):
        raise FeedError("The calendar server redirected to an insecure (http://) address.")
    return target


async def fetch_feed(
    url: str,
    *,
    client: httpx.AsyncClient,
    etag: str | None = None,
    last_modified: str | None = None,
    allow_private: bool = False,
    max_bytes: int = 5_000_000,
    # The API takes a plain number (one limit for the whole fetch, applied below with
    # asyncio.timeout), which is what the scheduler stores per feed.
    timeout: float = 15.0,  # noqa: ASYNC109
    resolver: Resolver | None = None,
) -> FetchResult:
    """GET a feed, conditionally; ``FeedError`` with a showable message on any failure.

    ``timeout`` bounds the whole fetch (DNS, connections, redirects and the body), so a
    server that trickles bytes cannot hold a poll. Redirects are followed here (the
    client's own setting is overridden), at most ``MAX_REDIRECTS``, and each new address
    is validated and resolved again; https never redirects to http. Unless
    ``allow_private``, every address the host resolves to must be public, and the request
    is sent to that vetted address (see the module docstring). ``resolver`` replaces the
    system resolver (tests, or a DNS-over-HTTPS resolver).
    """
    current = validate_feed_url(url, allow_private=allow_private)
    headers = {
        "Accept": "text/calendar, text/plain;q=0.5, */*;q=0.1",
        "Accept-Encoding": "gzip",
        "User-Agent": USER_AGENT,
    }
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    try:
        async with asyncio.timeout(timeout):
            for _hop in range(MAX_REDIRECTS + 1):
                outcome = await _fetch_once(
                    current,
                    client=client,
                    headers=headers,
                    etag=etag,
                    last_modified=last_modified,
                    allow_private=allow_private,
                    max_bytes=max_bytes,
                    request_timeout=timeout,
                    resolver=resolver,
                )
                if isinstance(outcome, FetchResult):
                    return outcome
                current = _follow(current, outcome.location, allow_private=allow_private)
    except TimeoutError:
        raise FeedError(f"The calendar server did not answer within {_seconds(timeout)}.") from None
    raise FeedError(f"The calendar address redirects too many times (more than {MAX_REDIRECTS}).")


# --------------------------------------------------------------------------------------
# Occurrences
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Occurrence:
    """One occurrence of an event, ready for the scheduler.

    ``(uid, recurrence_id)`` identifies it across polls: ``recurrence_id`` is '' for a
    single event and, for a recurring one, the original start of this instance (UTC,
    ``2020-11-16T14:15:00Z``; a date ``2024-10-28`` for all-day series), which stays the
    same when the instance is moved. ``start`` and ``end`` are aware UTC datetimes;
    all-day events run from midnight to midnight in the reader's ``default_tz``.
    """

    uid: str
    recurrence_id: str
    title: str
    description: str
    start: datetime
    end: datetime
    all_day: bool
    cancelled: bool
    declined: bool

    @property
    def key(self) -> tuple[str, str]:
        """``(uid, recurrence_id)``: unique within one feed and stable across polls."""
        return (self.uid, self.recurrence_id)


@dataclass(frozen=True)
class FeedReading:
    """The occurrences in a window, plus a note for each series that had to be left out."""

    occurrences: tuple[Occurrence, ...]
    skipped: tuple[str, ...]


class _SkipSeries(Exception):
    """This event's series cannot be expanded safely; the reason is for the owner."""


# ---- raw text pre-scan ---------------------------------------------------------------

_FOLD: Final = re.compile(r"(?:\r\n|\n|\r)[ \t]")
_LINE_BREAK: Final = re.compile(r"\r\n|\n|\r")
_NAME: Final = re.compile(r"[A-Za-z0-9-]+")
_DAY: Final = re.compile(r"(\d{4})(\d{2})(\d{2})")
_DURATION_DAYS: Final = re.compile(r"[+-]?P(?:(\d+)W)?(?:(\d+)D)?")
_CALENDAR_PROPERTIES: Final = frozenset(
    {"VERSION", "PRODID", "CALSCALE", "METHOD", "X-WR-TIMEZONE", "X-WR-CALNAME"}
)
_TZ_RULE_PARTS: Final = frozenset(
    {"FREQ", "BYMONTH", "BYDAY", "BYMONTHDAY", "BYSETPOS", "UNTIL", "COUNT", "INTERVAL", "WKST"}
)


def _split_line(line: str) -> tuple[str, str, str] | None:
    """``(NAME, ;params, value)`` of a content line; a colon inside quotes is no separator."""
    match = _NAME.match(line)
    if match is None:
        return None
    after_name = match.end()
    colon = line.find(":", after_name)
    if colon == -1:
        return None
    if line.find('"', after_name, colon) != -1:  # quoted parameters: walk them
        colon = -1
        quoted = False
        for index in range(after_name, len(line)):
            char = line[index]
            if char == '"':
                quoted = not quoted
            elif char == ":" and not quoted:
                colon = index
                break
        if colon == -1:
            return None
    return match.group().upper(), line[after_name:colon], line[colon + 1 :]


def _day(value: str | None) -> date | None:
    if value is None:
        return None
    match = _DAY.match(value.strip())
    if match is None:
        return None
    try:
        return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None


def _probe_never_matches(rule: str, month: int = 1, day: int = 1, hour: int = 0) -> bool:
    """Whether a repeat rule has no occurrence in the years 9992 to 9999.

    dateutil walks every period of a rule from its start, and for a rule whose parts
    contradict each other (the 30th of February) it walks to the year 9999: seconds per
    series. Starting the same rule (without UNTIL and COUNT) in 9992, a leap year, costs
    a few thousand periods and tells such rules apart.
    """
    parts = [
        part
        for part in rule.split(";")
        if part.split("=", 1)[0].strip().upper() not in ("UNTIL", "COUNT")
    ]
    try:
        probe = rrulestr(";".join(parts), dtstart=datetime(9992, month, day, hour))  # noqa: DTZ001
        return next(iter(probe), None) is None
    except (ValueError, TypeError, OverflowError, IndexError, KeyError):
        return True


def _timezone_block_ok(lines: list[str]) -> bool:
    """Whether a VTIMEZONE block is safe to hand to icalendar/dateutil.

    Real definitions repeat yearly (``FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU``) or list their
    transitions. Anything else could make every offset lookup walk centuries of periods.
    A refused block is dropped; times that use its TZID are then read by name.
    """
    parts = 0
    rdates = 0
    has_tzid = False
    for line in lines[1:-1]:
        split = _split_line(line)
        if split is None:
            continue
        name, _params, value = split
        if name == "BEGIN":
            parts += 1
        elif name == "TZID":
            has_tzid = True
        elif name == "RDATE":
            rdates += value.count(",") + 1
        elif name == "RRULE":
            rule = {
                key.strip().upper(): item.strip()
                for key, _, item in (p.partition("=") for p in value.split(";"))
            }
            if (
                rule.get("FREQ", "").upper() != "YEARLY"
                or not set(rule) <= _TZ_RULE_PARTS
                or any(item.count(",") > 31 for item in rule.values())
                or _probe_never_matches(value)
            ):
                return False
    return has_tzid and 0 < parts <= _MAX_TIMEZONE_PARTS and rdates <= _MAX_RDATES


def _event_relevant(lines: list[str], first: date, last: date) -> bool:
    """Whether a VEVENT block can matter for days ``first..last`` (widened by the caller).

    Recurring masters always matter; a single event or an override is kept when its
    span or its RECURRENCE-ID touches the days. Unreadable dates keep the event (the
    parser decides). Also removes spaces inside RRULE values (``BYDAY=MO, TU``, written
    by Microsoft CDO), in place.
    """
    values: dict[str, str] = {}
    depth = 0
    for index, line in enumerate(lines[1:-1], start=1):
        split = _split_line(line)
        if split is None:
            continue
        name, params, value = split
        if name == "BEGIN":
            depth += 1
        elif name == "END":
            depth -= 1
        elif depth == 0:
            if name in ("RRULE", "EXRULE"):
                lines[index] = name + params + ":" + "".join(value.split())
            values.setdefault(name, value)
    if "RRULE" in values or "RDATE" in values or "EXRULE" in values:
        return True
    start = _day(values.get("DTSTART"))
    if start is None:
        return True
    end = _day(values.get("DTEND")) or start
    if "DURATION" in values:
        match = _DURATION_DAYS.match(values["DURATION"].strip())
        if match is None:
            return True
        try:
            end = start + timedelta(weeks=int(match[1] or 0), days=int(match[2] or 0) + 1)
        except OverflowError:  # a duration beyond the year 9999
            return True
    if start <= last and max(start, end) >= first:
        return True
    recurrence_id = _day(values.get("RECURRENCE-ID"))
    return recurrence_id is not None and first <= recurrence_id <= last


def _decode(ics: bytes) -> str:
    try:
        text = ics.decode("utf-8")
    except UnicodeDecodeError:
        text = ics.decode("cp1252", errors="replace")
    return text.lstrip("\ufeff")


def _prefilter(text: str, first: date, last: date, max_events: int) -> str:
    """Check the structure and keep what the window needs: the text icalendar will parse.

    Unfolds lines, checks BEGIN/END nesting, keeps the calendar's own properties, safe
    VTIMEZONE blocks (first, so times can refer to them) and the VEVENT blocks relevant
    to ``first..last``; drops everything else (old events, VTODO, VJOURNAL, ...).
    """
    lines = _LINE_BREAK.split(_FOLD.sub("", text))
    head = next((line.strip() for line in lines if line.strip()), "")
    if head.upper() != "BEGIN:VCALENDAR":
        raise FeedError(_NOT_A_CALENDAR)
    calendar_lines: list[str] = []
    seen_properties: set[str] = set()
    timezones: list[str] = []
    events: list[str] = []
    kept_events = 0
    kept_timezones = 0
    stack: list[str] = []
    block: list[str] = []
    for line in lines:
        split = _split_line(line)
        if split is None:  # blank, or not a content line at all: ignored
            continue
        name = split[0]
        if name in ("BEGIN", "END"):
            component = split[2].strip().upper()
            if name == "BEGIN":
                if not stack and component != "VCALENDAR":
                    raise FeedError(_NOT_A_CALENDAR)
                stack.append(component)
                if len(stack) > _MAX_NESTING:
                    raise FeedError("The calendar could not be read: it is nested too deeply.")
                if len(stack) >= 2:
                    block.append(line)
                continue
            if not stack or stack[-1] != component:
                raise FeedError(
                    "The calendar could not be read: its BEGIN and END lines do not match."
                )
            stack.pop()
            if len(stack) >= 1:
                block.append(line)
            if len(stack) == 1:
                kind = block[0].split(":", 1)[1].strip().upper()
                if kind == "VEVENT" and _event_relevant(block, first, last):
                    kept_events += 1
                    if kept_events > max_events:
                        raise FeedError(
                            f"The calendar has too many events to read (more than "
                            f"{max_events:,} around the same dates)."
                        )
                    events.extend(block)
                elif (
                    kind == "VTIMEZONE"
                    and kept_timezones < _MAX_TIMEZONES
                    and _timezone_block_ok(block)
                ):
                    kept_timezones += 1
                    timezones.extend(block)
                block = []
            continue
        if len(stack) == 1:
            if name in _CALENDAR_PROPERTIES and name not in seen_properties:
                seen_properties.add(name)
                calendar_lines.append(line)
        elif len(stack) >= 2:
            block.append(line)
    if stack:
        raise FeedError("The calendar file is incomplete (it may have been cut off).")
    return "\r\n".join(["BEGIN:VCALENDAR", *calendar_lines, *timezones, *events, "END:VCALENDAR"])


# ---- time zones ------------------------------------------------------------------------

# Windows display names without a city that matches an IANA zone.
_DISPLAY_NAMES: Final = {
    "eastern time (us & canada)": "America/New_York",
    "central time (us & canada)": "America/Chicago",
    "mountain time (us & canada)": "America/Denver",
    "pacific time (us & canada)": "America/Los_Angeles",
    "atlantic time (canada)": "America/Halifax",
    "alaska": "America/Anchorage",
    "hawaii": "Pacific/Honolulu",
    "arizona": "America/Phoenix",
    "saskatchewan": "America/Regina",
    "newfoundland": "America/St_Johns",
    "indiana (east)": "America/Indiana/Indianapolis",
    "brasilia": "America/Sao_Paulo",
    "coordinated universal time": "UTC",
}
_DISPLAY_NAME: Final = re.compile(
    r"\(\s*(?:UTC|GMT)\s*(?:([+-])\s*(\d{1,2})(?::?(\d{2}))?)?\s*\)\s*(.*)", re.IGNORECASE
)
_ANY_OFFSET: Final = re.compile(r"(?:UTC|GMT)\s*([+-])\s*(\d{1,2}):?(\d{2})", re.IGNORECASE)
_SAFE_ZONE_KEY: Final = re.compile(r"[A-Za-z0-9_+\-]+(?:/[A-Za-z0-9_+\-]+)*")


def _zoneinfo(key: str) -> tzinfo | None:
    if not _SAFE_ZONE_KEY.fullmatch(key):
        return None
    try:
        return ZoneInfo(key)
    except Exception:  # ZoneInfoNotFoundError, IsADirectoryError, ValueError, ...
        return None


@lru_cache(maxsize=1)
def _zones_by_city() -> dict[str, list[str]]:
    cities: dict[str, list[str]] = {}
    for key in sorted(available_timezones()):
        city = key.rsplit("/", 1)[-1].replace("_", " ").lower()
        cities.setdefault(city, []).append(key)
    return cities


def _standard_offset(zone: tzinfo) -> timedelta | None:
    offsets = [datetime(2024, month, 15, 12, tzinfo=zone).utcoffset() for month in (1, 7)]
    known = [offset for offset in offsets if offset is not None]
    return min(known) if known else None


def _fixed_offset(sign: str, hours: str, minutes: str | None) -> tzinfo | None:
    delta = timedelta(hours=int(hours), minutes=int(minutes or 0))
    if delta >= timedelta(hours=15):
        return None
    return timezone(-delta if sign == "-" else delta)


@lru_cache(maxsize=512)
def _zone_for_name(name: str) -> tzinfo | None:
    """A time zone for a TZID or X-WR-TIMEZONE value that has no usable VTIMEZONE.

    Tries an IANA name, a Windows zone id (``GMT Standard Time``), the IANA name at the
    end of a "globally unique" id (``/mozilla.org/.../Europe/Berlin``), then Outlook
    display names (``(UTC-05:00) Eastern Time (US & Canada)``): a known name or a city
    whose zone has the stated standard offset, else that fixed offset.
    """
    key = name.strip().strip('"').strip()
    zone = _zoneinfo(key.strip("/")) or _zoneinfo(WINDOWS_TO_OLSON.get(key, ""))
    if zone is not None:
        return zone
    if key.startswith("/"):
        parts = key.strip("/").split("/")
        for index in range(1, len(parts)):
            zone = _zoneinfo("/".join(parts[index:]))
            if zone is not None:
                return zone
    match = _DISPLAY_NAME.fullmatch(key)
    if match is not None:
        sign, hours, minutes, rest = match.groups()
        stated = _fixed_offset(sign, hours, minutes) if sign else UTC
        stated_offset = stated.utcoffset(None) if stated is not None else None
        candidates: list[str] = []
        known = _DISPLAY_NAMES.get(rest.strip().lower())
        if known:
            candidates.append(known)
        for city in re.split(r"[,:/;]|\band\b", rest):
            candidates.extend(_zones_by_city().get(city.strip().rstrip(".").lower(), []))
        for candidate in candidates:
            zone = _zoneinfo(candidate)
            if zone is not None and _standard_offset(zone) == stated_offset:
                return zone
        return stated
    offset = _ANY_OFFSET.search(key)
    if offset is not None:
        return _fixed_offset(*offset.groups())
    return None


def _is_utc(value: datetime) -> bool:
    return (
        value.tzinfo is not None
        and value.utcoffset() == timedelta(0)
        and (value.tzname() or "").upper() in ("UTC", "Z")
    )


class _Times:
    """Makes every time of an event aware, the way calendar programs read them.

    - a TZID that icalendar could not resolve (no VTIMEZONE, or a refused one) is read
      by name (``_zone_for_name``);
    - floating times and unresolvable TZIDs are in the calendar's X-WR-TIMEZONE when it
      names a zone, else in the reader's zone;
    - with X-WR-TIMEZONE, UTC times are moved into that zone before recurrences are
      expanded, as Google means them (the x-wr-timezone convention); instants are
      unchanged, weekly series keep their local hour across DST changes.
    """

    def __init__(self, calendar_zone: tzinfo | None, reader_zone: tzinfo) -> None:
        self.calendar_zone = calendar_zone
        self.floating = calendar_zone or reader_zone

    def fix(self, value: Any, tzid: str | None) -> Any:
        if not isinstance(value, datetime):
            if isinstance(value, tuple):  # an RDATE period
                return tuple(self.fix(part, tzid) for part in value)
            return value
        if value.tzinfo is None:
            zone = _zone_for_name(tzid) if tzid else None
            return value.replace(tzinfo=zone or self.floating)
        if self.calendar_zone is not None and _is_utc(value):
            return value.astimezone(self.calendar_zone)
        return value

    def apply(self, event: icalendar.Event) -> None:
        for name in ("DTSTART", "DTEND", "RECURRENCE-ID"):
            prop = _first(event.get(name))
            if prop is None:
                continue
            try:
                value = prop.dt
            except Exception:
                value = None
            if not isinstance(value, date):  # unreadable, or a time or duration
                if name == "DTSTART":
                    raise _SkipSeries("its start time could not be read")
                del event[name]
                continue
            fixed = self.fix(value, _param(prop, "TZID"))
            new = icalendar.vDDDTypes(fixed)
            if name == "RECURRENCE-ID" and _param(prop, "RANGE"):
                new.params["RANGE"] = _param(prop, "RANGE")
            event[name] = new
        for name in ("EXDATE", "RDATE"):
            props = event.get(name)
            if props is None:
                continue
            fixed_lists = []
            count = 0
            for prop in props if isinstance(props, list) else [props]:
                try:
                    values = [item.dt for item in prop.dts]
                except Exception:
                    raise _SkipSeries(f"its {name} could not be read") from None
                count += len(values)
                tzid = _param(prop, "TZID")
                fixed_lists.append(icalendar.vDDDLists([self.fix(v, tzid) for v in values]))
            if name == "RDATE" and count > _MAX_RDATES:
                raise _SkipSeries("it lists too many extra dates")
            event[name] = fixed_lists if len(fixed_lists) > 1 else fixed_lists[0]


def _first(prop: Any) -> Any:
    """A property that should occur once but may be repeated: its first occurrence."""
    if isinstance(prop, list):
        return prop[0] if prop else None
    return prop


def _value(prop: Any) -> Any:
    """The Python value of a parsed property (``BrokenCalendarProperty`` if unparsable)."""
    return prop.dt


def _ical_text(prop: Any) -> str:
    try:
        raw = prop.to_ical()
    except Exception:  # a broken value
        return str(prop)
    return raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else str(raw)


def _param(prop: Any, name: str) -> str | None:
    params = getattr(prop, "params", None)
    if not params:
        return None
    value = params.get(name)
    return str(value) if value else None


# ---- repeat rules ----------------------------------------------------------------------

_PERIOD_DAYS: Final = {"DAILY": 1, "WEEKLY": 7, "MONTHLY": 30, "YEARLY": 365}


def _dates_per_period(rule: Any, frequency: str) -> int:
    """An upper estimate of the dates a rule produces in one period (before BYSETPOS)."""

    def count(part: str) -> int:
        return len(rule.get(part) or [])

    weekdays = [str(day) for day in rule.get("BYDAY") or []]
    if frequency == "DAILY":
        return 1
    if frequency == "WEEKLY":
        return max(1, min(7, len(weekdays)))
    months = 1 if frequency == "MONTHLY" else count("BYMONTH")  # 0: the whole year
    if count("BYYEARDAY"):
        estimate = count("BYYEARDAY")
    elif count("BYWEEKNO"):
        estimate = count("BYWEEKNO") * (len(weekdays) or 7)
    elif count("BYMONTHDAY"):
        estimate = (months or 12) * count("BYMONTHDAY")
    elif weekdays:
        # "-1SU" is one day a month (or year); "SU" every Sunday of it.
        every = 5 if months else 53
        per_day = [1 if any(c.isdigit() for c in day) else every for day in weekdays]
        estimate = (months or 1) * sum(per_day)
    else:
        estimate = months or 1
    return max(1, min(366, estimate))


def _check_rules(event: icalendar.Event, window_end: datetime) -> None:
    """Refuse repeat rules whose expansion could run for seconds or minutes."""
    rules = event.get("RRULE")
    if rules is None:
        return
    start = _value(event["DTSTART"])
    first_day = start.date() if isinstance(start, datetime) else start
    hour = start.hour if isinstance(start, datetime) else 0
    for rule in rules if isinstance(rules, list) else [rules]:
        if not isinstance(rule, icalendar.vRecur):
            raise _SkipSeries("its repeat rule could not be read")
        frequency = str((rule.get("FREQ") or [""])[0]).upper()
        if frequency in ("SECONDLY", "MINUTELY", "HOURLY"):
            raise _SkipSeries("it repeats more often than daily")
        if frequency not in _PERIOD_DAYS:
            raise _SkipSeries("its repeat rule could not be read")
        try:
            interval = max(1, int((rule.get("INTERVAL") or [1])[0]))
        except (TypeError, ValueError):
            raise _SkipSeries("its repeat rule could not be read") from None
        times = 1
        for part in ("BYHOUR", "BYMINUTE", "BYSECOND"):
            times *= max(1, len(rule.get(part) or []))
        if times > _MAX_TIMES_PER_DAY:
            raise _SkipSeries("it repeats more often than the bot can follow")
        periods = (window_end.date() - first_day).days / (_PERIOD_DAYS[frequency] * interval)
        if periods * (1 + _dates_per_period(rule, frequency) * times) > _MAX_STEPS:
            raise _SkipSeries("it started too long ago")
        text = _ical_text(rule)
        if _probe_never_matches(text, first_day.month, first_day.day, hour):
            raise _SkipSeries("its repeat rule never produces a date")


# ---- text ------------------------------------------------------------------------------

_BLOCK_TAGS: Final = frozenset(
    {"br", "p", "div", "li", "ul", "ol", "tr", "table", "h1", "h2", "h3", "h4", "h5", "h6"}
)
_HTML_TAG: Final = re.compile(r"<(?:/?[A-Za-z][A-Za-z0-9]*)(?:\s[^<>]*)?/?>")
_MEET_BLOCK: Final = re.compile(r"-::~:~::~:~.*", re.DOTALL)


class _TextOfHtml(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._skip = max(0, self._skip - 1)
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _plain_title(value: Any) -> str:
    return _shorten(" ".join(str(value or "").split()), _MAX_TITLE)


def _plain_description(value: Any) -> str:
    text = _MEET_BLOCK.sub("", str(value or "")[: _MAX_DESCRIPTION * 10])
    if _HTML_TAG.search(text):
        parser = _TextOfHtml()
        parser.feed(text)
        parser.close()
        text = "".join(parser.parts)
    lines = [" ".join(line.split()) for line in text.splitlines()]
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
    return _shorten(text, _MAX_DESCRIPTION)


def _address(value: str) -> str:
    text = value.strip().lower()
    return text[7:] if text.startswith("mailto:") else text


def _declined(event: Any, owners: frozenset[str]) -> bool:
    if not owners:
        return False
    attendees = event.get("ATTENDEE")
    if attendees is None:
        return False
    for attendee in attendees if isinstance(attendees, list) else [attendees]:
        if (_param(attendee, "PARTSTAT") or "").upper() != "DECLINED":
            continue
        addresses = {_address(str(attendee)), _address(_param(attendee, "EMAIL") or "")}
        if addresses & owners:
            return True
    return False


# ---- expansion -------------------------------------------------------------------------

_PARSE_LOCK: Final = threading.Lock()


def _forget_timezone_definitions() -> None:
    """Empty icalendar's process-wide cache of VTIMEZONE definitions.

    icalendar caches each custom TZID's definition for the whole process, first come
    first served: one feed's (possibly hostile) definition would be used for another
    feed's identically named zone. Parsing happens under ``_PARSE_LOCK`` between two
    clears, so each feed sees only its own definitions.
    """
    cache = getattr(icalendar.timezone.tzp, "_TZP__tz_cache", None)
    if isinstance(cache, dict):
        cache.clear()


def _parse(text: str) -> icalendar.Calendar:
    with _PARSE_LOCK, warnings.catch_warnings():
        # Guessing Europe/Berlin from /mozilla.org/.../Europe/Berlin is what we want.
        warnings.simplefilter("ignore", GloballyUniqueTZIDGuessed)
        _forget_timezone_definitions()
        try:
            parsed = icalendar.Calendar.from_ical(text)
        except Exception:
            raise FeedError("The calendar could not be read: it is malformed.") from None
        finally:
            _forget_timezone_definitions()
    if not isinstance(parsed, icalendar.Calendar):
        raise FeedError(_NOT_A_CALENDAR)
    return parsed


def _check_deadline(deadline: float) -> None:
    if time.monotonic() > deadline:
        raise FeedError("The calendar is too complex to read in time.")


def _uid(event: icalendar.Event) -> str:
    uid = " ".join(str(event.get("UID") or "").split())
    if not uid:
        start = _first(event.get("DTSTART"))
        seed = f"{_ical_text(start) if start is not None else ''}|{event.get('SUMMARY')}"
        return "nouid:" + hashlib.sha256(seed.encode()).hexdigest()[:32]
    if len(uid) > _MAX_UID:
        return "sha256:" + hashlib.sha256(uid.encode()).hexdigest()
    return uid


def _to_utc(value: date, zone: tzinfo) -> datetime:
    if isinstance(value, datetime):
        aware = value if value.tzinfo is not None else value.replace(tzinfo=zone)
        return aware.astimezone(UTC)
    return datetime(value.year, value.month, value.day, tzinfo=zone).astimezone(UTC)


def _recurrence_id(value: Any, all_day_series: bool, zone: tzinfo) -> str:
    if isinstance(value, datetime):
        if all_day_series:
            return value.date().isoformat()
        return _to_utc(value, zone).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, date):
        return value.isoformat()
    return ""


@dataclass(frozen=True)
class _Series:
    uid: str
    events: list[icalendar.Event]
    recurring: bool
    all_day: bool
    title: str


def _group(
    calendar: icalendar.Calendar, times: _Times, window_end: datetime, deadline: float
) -> tuple[list[_Series], list[str]]:
    groups: dict[str, list[icalendar.Event]] = {}
    broken: dict[str, str] = {}
    titles: dict[str, str] = {}
    for event in calendar.subcomponents:
        if not isinstance(event, icalendar.Event):
            continue
        _check_deadline(deadline)
        uid = _uid(event)
        titles.setdefault(uid, _plain_title(event.get("SUMMARY")) or "an untitled event")
        groups.setdefault(uid, []).append(event)
        if uid in broken:
            continue
        try:
            if event.get("DTSTART") is None:
                raise _SkipSeries("it has no start time")
            times.apply(event)
            _check_rules(event, window_end)
        except _SkipSeries as reason:
            broken[uid] = str(reason)
    series: list[_Series] = []
    for uid, events in groups.items():
        if uid in broken:
            continue
        masters = [e for e in events if e.get("RECURRENCE-ID") is None]
        recurring = len(masters) < len(events) or any(
            e.get("RRULE") is not None or e.get("RDATE") is not None for e in masters
        )
        first = _value((masters or events)[0]["DTSTART"])
        series.append(_Series(uid, events, recurring, not isinstance(first, datetime), titles[uid]))
    skipped = [f"'{titles[uid]}' was left out: {reason}." for uid, reason in broken.items()]
    return series, skipped


def _this_and_future_offsets(series: _Series, floating: tzinfo) -> dict[str, timedelta]:
    """For each RANGE=THISANDFUTURE modification: how far it moved its instances."""
    offsets: dict[str, timedelta] = {}
    for event in series.events:
        prop = event.get("RECURRENCE-ID")
        if prop is None or (_param(prop, "RANGE") or "").upper() != "THISANDFUTURE":
            continue
        original, moved = _value(prop), _value(event["DTSTART"])
        if isinstance(original, datetime) == isinstance(moved, datetime):
            offsets[_recurrence_id(original, series.all_day, floating)] = moved - original
    return offsets


def _lazily_between(query: Any, low: datetime, high: datetime) -> Iterator[Any]:
    """``query.between(low, high)`` one component at a time.

    ``CalendarQuery.between`` builds the whole list first; walking its ``series`` (a
    ``Series.between`` generator each) lets the caller stop at the occurrence cap.
    """
    for series in query.series:
        for occurrence in series.between(low, high):
            yield occurrence.as_component(False)


def _expand(
    series: _Series,
    low: datetime,
    high: datetime,
    *,
    start: datetime,
    end: datetime,
    reader_zone: tzinfo,
    floating: tzinfo,
    owners: frozenset[str],
) -> Iterator[Occurrence]:
    calendar = icalendar.Calendar()
    for event in series.events:
        calendar.add_component(event)
    moved_from = _this_and_future_offsets(series, floating)
    query = recurring_ical_events.CalendarQuery(calendar, False, ("VEVENT",), False)
    for component in _lazily_between(query, low, high):
        begin = component["DTSTART"].dt
        finish = component["DTEND"].dt if component.get("DTEND") is not None else begin
        all_day = not isinstance(begin, datetime)
        if all_day:
            last_day = finish.date() if isinstance(finish, datetime) else finish
            if last_day <= begin:
                last_day = begin + timedelta(days=1)
            occurrence_start = _to_utc(begin, reader_zone)
            occurrence_end = _to_utc(last_day, reader_zone)
        else:
            occurrence_start = _to_utc(begin, floating)
            occurrence_end = max(occurrence_start, _to_utc(finish, floating))
        if occurrence_start >= end or (
            occurrence_end <= start and not occurrence_start == occurrence_end == start
        ):
            continue
        recurrence_id = ""
        if series.recurring:
            prop = component.get("RECURRENCE-ID")
            raw = prop.dt if prop is not None else begin
            if prop is not None and (_param(prop, "RANGE") or "").upper() == "THISANDFUTURE":
                # Every later instance carries the modification's RECURRENCE-ID; its
                # own original start is its start less the modification's move.
                offset = moved_from.get(_recurrence_id(raw, series.all_day, floating))
                if offset is not None:
                    raw = begin - offset
            recurrence_id = _recurrence_id(raw, series.all_day, floating)
        yield Occurrence(
            uid=series.uid,
            recurrence_id=recurrence_id,
            title=_plain_title(component.get("SUMMARY")),
            description=_plain_description(component.get("DESCRIPTION")),
            start=occurrence_start,
            end=occurrence_end,
            all_day=all_day,
            cancelled=str(component.get("STATUS") or "").strip().upper() == "CANCELLED",
            declined=_declined(component, owners),
        )


def _unique_keys(found: list[Occurrence]) -> list[Occurrence]:
    """Guarantee distinct keys even for odd data (two instances claiming one original).

    A repeated key gets its start appended; the first holder keeps the plain key.
    """
    seen: set[tuple[str, str]] = set()
    unique: list[Occurrence] = []
    for occ in found:
        if occ.key in seen:
            occ = replace(occ, recurrence_id=f"{occ.recurrence_id}+{occ.start:%Y%m%dT%H%M%SZ}")
        seen.add(occ.key)
        unique.append(occ)
    return unique


def read_feed(
    ics: bytes,
    *,
    start: datetime,
    end: datetime,
    default_tz: str = "UTC",
    owner_emails: Collection[str] = (),
    max_events: int = MAX_EVENTS,
    max_occurrences: int = MAX_OCCURRENCES,
    time_limit: float = _TIME_LIMIT,
) -> FeedReading:
    """Every occurrence overlapping ``[start, end)``, plus notes on series left out.

    ``start`` and ``end`` must be aware; keep the window short (the scheduler looks at
    the last day or so). ``default_tz`` is the reader's IANA zone: all-day events run
    midnight to midnight there, and floating times are read there unless the calendar
    names its own zone (X-WR-TIMEZONE). ``owner_emails`` are the feed owner's addresses,
    for ``Occurrence.declined``. Raises ``FeedError`` for input that is not a calendar,
    is malformed as a whole, or exceeds the limits; a series that alone cannot be read
    is left out and named in ``FeedReading.skipped``. Synchronous and CPU-bound.
    """
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("start and end must be timezone-aware")
    reader_zone = _zoneinfo(default_tz)
    if reader_zone is None:
        raise ValueError(f"unknown time zone {default_tz!r}")
    deadline = time.monotonic() + time_limit
    if len(ics) > _MAX_ICS_BYTES:
        raise FeedError(f"The calendar is too large (more than {_MAX_ICS_BYTES / 1e6:g} MB).")
    window_start = start.astimezone(UTC)
    window_end = end.astimezone(UTC)
    # Two days either side cover every UTC offset and the all-day/floating readings.
    low = window_start - timedelta(days=2)
    high = window_end + timedelta(days=2)
    text = _prefilter(_decode(ics), low.date(), high.date(), max_events)
    calendar = _parse(text)
    x_wr = calendar.get("X-WR-TIMEZONE")
    calendar_zone = _zone_for_name(str(x_wr)) if x_wr else None
    times = _Times(calendar_zone, reader_zone)
    owners = frozenset(_address(email) for email in owner_emails if email.strip())
    series_list, skipped = _group(calendar, times, high, deadline)
    found: list[Occurrence] = []
    for series in series_list:
        _check_deadline(deadline)
        expanding = _expand(
            series,
            low,
            high,
            start=window_start,
            end=window_end,
            reader_zone=reader_zone,
            floating=times.floating,
            owners=owners,
        )
        expanded: list[Occurrence] = []
        while True:
            try:
                occurrence = next(expanding, None)
            except Exception:  # whatever the libraries raise for one broken series
                skipped.append(f"'{series.title}' was left out: its dates could not be read.")
                expanded = []
                break
            if occurrence is None:
                break
            expanded.append(occurrence)
            if len(found) + len(expanded) > max_occurrences:
                raise FeedError(
                    "The calendar has too many events in the period "
                    f"(more than {max_occurrences:,})."
                )
            if len(expanded) % 256 == 0:
                _check_deadline(deadline)
        found.extend(expanded)
    found.sort(key=lambda o: (o.start, o.end, o.uid, o.recurrence_id))
    found = _unique_keys(found)
    if len(skipped) > _MAX_NOTES:
        more = len(skipped) - _MAX_NOTES + 1
        skipped = [*skipped[: _MAX_NOTES - 1], f"{more} more events were left out."]
    return FeedReading(tuple(found), tuple(skipped))


def occurrences(
    ics: bytes,
    *,
    start: datetime,
    end: datetime,
    default_tz: str = "UTC",
    owner_emails: Collection[str] = (),
) -> list[Occurrence]:
    """``read_feed(...).occurrences`` as a list: see ``read_feed``."""
    reading = read_feed(ics, start=start, end=end, default_tz=default_tz, owner_emails=owner_emails)
    return list(reading.occurrences)


# --------------------------------------------------------------------------------------
# Which events are learning, and for how long
# --------------------------------------------------------------------------------------


CPD_TAG: Final = "#cpd"
# Everyday phrases that contain a keyword but are not about learning.
_NOT_LEARNING: Final = re.compile(
    r"(?<!\w)(?:of\s+course|in\s+due\s+course|golf\s+course|race\s+course|main\s+course|"
    r"course\s+of\s+action|(?:over|during)\s+the\s+course\s+of)(?!\w)",
    re.IGNORECASE,
)


@lru_cache(maxsize=64)
def _keyword_pattern(keywords: tuple[str, ...]) -> re.Pattern[str] | None:
    words = {" ".join(k.split()).lower() for k in keywords if k.strip()}
    if not words:
        return None
    alternatives = sorted(
        (r"\s+".join(re.escape(part) for part in word.split()) for word in words),
        key=len,
        reverse=True,
    )
    return re.compile(r"(?<!\w)(?:" + "|".join(alternatives) + r")(?:e?s)?(?!\w)", re.IGNORECASE)


def is_learning(occ: Occurrence, keywords: Sequence[str] = DEFAULT_KEYWORDS) -> bool:
    """Whether the title or description names a keyword as a whole word, or has ``#cpd``.

    Case-insensitive; a keyword's plural counts (``courses``, ``masterclasses``);
    ``#cpd`` matches whatever the keywords are. A few everyday phrases ("of course",
    "golf course") do not count.
    """
    text = f"{occ.title}\n{occ.description}"
    if CPD_TAG in text.lower():
        return True
    pattern = _keyword_pattern(tuple(keywords))
    return pattern is not None and pattern.search(_NOT_LEARNING.sub(" ", text)) is not None


def duration_minutes(occ: Occurrence) -> int | None:
    """Minutes to prefill as the hours of CPD, or None when the user should be asked.

    None for all-day events, zero-length events and anything longer than 24 hours (a
    multi-day span says nothing about the hours spent learning).
    """
    if occ.all_day:
        return None
    minutes = round((occ.end - occ.start).total_seconds() / 60)
    if minutes <= 0 or minutes > 24 * 60:
        return None
    return int(minutes)
