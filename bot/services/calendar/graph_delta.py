"""Reading an Outlook calendar through Microsoft Graph's ``calendarView/delta``.

How Graph works here (https://learn.microsoft.com/graph/api/event-delta and
https://learn.microsoft.com/graph/delta-query-events):

- A *round* starts with ``GET {graph_url}/v1.0/me/calendarView/delta?startDateTime=..
  &endDateTime=..``; its window is fixed by that first request (the state tokens encode
  it). Pages come with ``@odata.nextLink`` (more to read) and the last with
  ``@odata.deltaLink``, which the next read follows to get only what changed. Links are
  opaque: they are followed exactly as given, never rebuilt (we only check that they
  stay on ``graph_url``, since they carry the member's token).
- ``Prefer: odata.maxpagesize=50`` bounds a page; ``Prefer: outlook.timezone="UTC"``
  makes ``start``/``end`` UTC wall times (``{"dateTime": "2016-12-09T20:30:00.0000000",
  "timeZone": "UTC"}``). ``$select`` is not supported on delta, so every property comes.
- A removed event (deleted, or changed outside the window) is ``{"id": ..,
  "@removed": {"reason": "deleted"}}``; an updated one carries at least what changed, so
  changes are merged into what was kept.
- Occurrences of a series come as stubs (``type`` ``occurrence`` or ``exception``,
  ``seriesMasterId``, ``originalStart``, ``start``, ``end``) without a subject: subject,
  body, ``showAs``, ``isCancelled`` and ``responseStatus`` come from the series master,
  from the same pages or ``GET {graph_url}/v1.0/me/events/{id}?$select=..``
  (https://learn.microsoft.com/graph/api/event-get), kept in the state for the round.
- 410 Gone means the delta token is no longer valid: a new round starts. 429 and 503
  carry ``Retry-After`` (https://learn.microsoft.com/graph/throttling): ``FeedBusy``.
  401 means the access token expired: it is refreshed once, then ``CredentialRejected``.

New rounds start as time moves on (``round_every``), so the window always covers the
recent past and the coming days. Times, sizes and counts are bounded as for ICS feeds
(``bounds.py``). Tokens, subjects and bodies are never logged.
"""

from __future__ import annotations

import asyncio
import copy
import hashlib
import json
import zlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any, Final
from urllib.parse import quote, urlencode

import httpx

from bot.core.calendar_rules import CredentialRejected, FeedBusy, FeedError
from bot.services.calendar.bounds import (
    _MAX_UID,
    GRAPH_MAX_BYTES,
    GRAPH_MAX_EVENTS,
    GRAPH_MAX_MASTER_FETCHES,
    GRAPH_MAX_PAGES,
    GRAPH_PAGE_SIZE,
    GRAPH_TIMEOUT,
    USER_AGENT,
)
from bot.services.calendar.event_text import _plain_description, _plain_title
from bot.services.calendar.fetch import _read_body
from bot.services.calendar.graph_auth import MicrosoftEndpoints, retry_after
from bot.services.calendar.learning import ABSENCE_WORDS, is_absence
from bot.services.calendar.occurrence import Occurrence
from bot.services.calendar.tzids import _zone_for_name, _zoneinfo

AccessToken = Callable[[bool], Awaitable[str]]
"""``async (force_refresh) -> access token``; True after a 401 asks for a refreshed one."""

_MASTER_FIELDS: Final = "subject,body,bodyPreview,showAs,isCancelled,isAllDay,responseStatus,type"
_SERIES_TYPES: Final = frozenset({"occurrence", "exception"})
_STATE_VERSION: Final = 1
# Decompressed bytes DeltaState.from_bytes accepts (2,000 events with long bodies fit).
_MAX_STATE_BYTES: Final = 16_000_000


@dataclass
class DeltaState:
    """Where a calendar's delta rounds stand: stored between polls (``to_bytes``).

    ``round_start`` is when the current round began; ``window_start``/``window_end`` is
    the window its first request fixed. ``events`` maps event ids to what we keep of each
    (compact: title, start, end, flags, series links); ``masters`` caches series masters.
    """

    delta_link: str
    round_start: datetime
    window_start: datetime
    window_end: datetime
    events: dict[str, dict[str, Any]] = field(default_factory=dict)
    masters: dict[str, dict[str, Any]] = field(default_factory=dict)

    def to_bytes(self) -> bytes:
        """zlib-compressed JSON (at most ``GRAPH_MAX_EVENTS`` events: ``read_graph`` caps)."""
        data = {
            "v": _STATE_VERSION,
            "delta_link": self.delta_link,
            "round_start": self.round_start.isoformat(),
            "window_start": self.window_start.isoformat(),
            "window_end": self.window_end.isoformat(),
            "events": self.events,
            "masters": self.masters,
        }
        return zlib.compress(json.dumps(data, separators=(",", ":")).encode(), 6)

    @classmethod
    def from_bytes(cls, blob: bytes) -> DeltaState:
        """The state ``to_bytes`` made; ``ValueError`` for anything else (start a new round)."""
        try:
            inflater = zlib.decompressobj()
            raw = inflater.decompress(blob, _MAX_STATE_BYTES)
            if inflater.unconsumed_tail:
                raise ValueError("state too large")
            data = json.loads(raw)
            if data.get("v") != _STATE_VERSION:
                raise ValueError("unknown state version")
            state = cls(
                str(data["delta_link"]),
                _aware(data["round_start"]),
                _aware(data["window_start"]),
                _aware(data["window_end"]),
                dict(data["events"]),
                dict(data["masters"]),
            )
        except (zlib.error, KeyError, TypeError, AttributeError) as error:
            raise ValueError(f"not a Graph delta state: {type(error).__name__}") from None
        if not all(isinstance(v, dict) for v in (*state.events.values(), *state.masters.values())):
            raise ValueError("not a Graph delta state")
        return state


def _aware(text: str) -> datetime:
    value = datetime.fromisoformat(text)
    if value.tzinfo is None:
        raise ValueError("naive time in state")
    return value


@dataclass(frozen=True)
class GraphReading:
    """The occurrences in the round's window, and the state to store for the next read."""

    occurrences: tuple[Occurrence, ...]
    state: DeltaState


class _Gone(Exception):
    """410: the delta token is no longer valid."""


def _graph_time(value: Any) -> tuple[str, str] | None:
    """``(UTC ISO time, the wall date)`` of a Graph ``dateTimeTimeZone``, or None."""
    if not isinstance(value, dict) or not isinstance(value.get("dateTime"), str):
        return None
    text = value["dateTime"].strip()[:26]  # seven fractional digits: keep six
    try:
        wall = datetime.fromisoformat(text)
    except ValueError:
        return None
    zone_name = value.get("timeZone")
    zone = _zone_for_name(zone_name) if isinstance(zone_name, str) and zone_name else UTC
    if wall.tzinfo is None:
        wall = wall.replace(tzinfo=zone or UTC)
    return wall.astimezone(UTC).isoformat(), wall.date().isoformat()


def _compact(item: dict[str, Any]) -> dict[str, Any]:
    """What we keep of one event (only the properties it carries: changes merge)."""
    kept: dict[str, Any] = {}
    if "subject" in item:
        kept["subject"] = _plain_title(item.get("subject"))
    body = item.get("body")
    if isinstance(body, dict) and isinstance(body.get("content"), str) and body["content"]:
        kept["body"] = _plain_description(body["content"])
    elif isinstance(item.get("bodyPreview"), str):
        kept["body"] = _plain_description(item["bodyPreview"])
    for name in ("start", "end"):
        parsed = _graph_time(item.get(name))
        if parsed is not None:
            kept[name], kept[f"{name}_date"] = parsed
    for name in ("isAllDay", "isCancelled"):
        if isinstance(item.get(name), bool):
            kept[name] = item[name]
    for name in ("showAs", "type", "seriesMasterId", "originalStart"):
        if isinstance(item.get(name), str):
            kept[name] = item[name][:300]
    status = item.get("responseStatus")
    if isinstance(status, dict) and isinstance(status.get("response"), str):
        kept["response"] = status["response"]
    return kept


def _apply(state: DeltaState, item: Any) -> None:
    if not isinstance(item, dict) or not isinstance(item.get("id"), str):
        return
    event_id = item["id"]
    if "@removed" in item:
        state.events.pop(event_id, None)
        state.masters.pop(event_id, None)
        return
    kept = _compact(item)
    if kept.get("type") == "seriesMaster":
        state.masters[event_id] = {**state.masters.get(event_id, {}), **kept}
    else:
        state.events[event_id] = {**state.events.get(event_id, {}), **kept}


class _Session:
    """GETs to Graph for one read: the token (refreshed once on 401), bytes, errors."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        ep: MicrosoftEndpoints,
        access_token: AccessToken,
        now: datetime,
        max_bytes: int,
        timeout: float,
    ) -> None:
        self.client, self.ep, self.access_token = client, ep, access_token
        self.now, self.bytes_left, self.timeout = now, max_bytes, timeout
        self.refreshed = False
        self.base = ep.graph_url.rstrip("/") + "/"

    def checked(self, link: str) -> str:
        """A link Graph gave, unchanged, if it stays on Graph (it gets the token)."""
        if not link.startswith(self.base):
            raise FeedError(
                "Microsoft's calendar service sent a link to another site; it was not followed."
            )
        return link

    async def get_json(self, url: str) -> dict[str, Any]:
        force = False
        while True:
            token = await self.access_token(force)
            status, headers, body = await self._get(url, token)
            if status == 401 and not self.refreshed:
                self.refreshed = force = True  # once per read: then CredentialRejected
                continue
            break
        if status == 200:
            try:
                data = json.loads(body)
            except ValueError:
                data = None
            if not isinstance(data, dict):
                raise FeedError("Microsoft's calendar service sent an answer that is not JSON.")
            return data
        if status == 401:
            raise CredentialRejected(
                "Microsoft no longer accepts the Outlook sign-in. "
                "Type /calendar outlook to sign in again."
            )
        if status == 410:
            raise _Gone
        if status in (429, 503) or status >= 500:
            raise FeedBusy(
                f"Microsoft's calendar service is busy ({status}); it will be tried later.",
                retry_after(headers.get("retry-after"), self.now),
            )
        if status == 403:
            raise FeedError(
                "Microsoft refused access to the calendar (403). An administrator may need "
                "to allow the bot to read calendars."
            )
        if status == 404:
            raise FeedError("Microsoft found no Outlook calendar for this sign-in (404).")
        raise FeedError(f"Microsoft's calendar service answered {status}.")

    async def _get(self, url: str, token: str) -> tuple[int, httpx.Headers, bytes]:
        headers = [
            ("Authorization", f"Bearer {token}"),
            ("Accept", "application/json"),
            ("Accept-Encoding", "gzip"),
            ("User-Agent", USER_AGENT),
            ("Prefer", f"odata.maxpagesize={GRAPH_PAGE_SIZE}"),
            ("Prefer", 'outlook.timezone="UTC"'),
        ]
        try:
            async with self.client.stream(
                "GET", url, headers=headers, timeout=self.timeout, follow_redirects=False
            ) as response:
                if response.status_code != 200:
                    return response.status_code, response.headers, b""
                body = await _read_body(response, max(self.bytes_left, 0))
        except httpx.TimeoutException:
            raise FeedBusy("Microsoft's calendar service did not answer in time.") from None
        except httpx.HTTPError:
            raise FeedBusy("Could not reach Microsoft's calendar service.") from None
        self.bytes_left -= len(body)
        return 200, response.headers, body


async def _follow_round(
    session: _Session, url: str, state: DeltaState, max_pages: int, max_events: int
) -> DeltaState:
    """Read pages from ``url`` to the delta link, applying each to ``state``."""
    for _page in range(max_pages):
        page = await session.get_json(url)
        items = page.get("value")
        for item in items if isinstance(items, list) else []:
            _apply(state, item)
        if len(state.events) + len(state.masters) > max_events:
            raise FeedError(
                f"The calendar has too many events in the period (more than {max_events:,})."
            )
        next_link, delta_link = page.get("@odata.nextLink"), page.get("@odata.deltaLink")
        if isinstance(next_link, str):
            url = session.checked(next_link)
        elif isinstance(delta_link, str):
            state.delta_link = session.checked(delta_link)
            return state
        else:
            raise FeedError("Microsoft's calendar service sent a page without a next link.")
    raise FeedError(f"The calendar has too many changes to read at once ({max_pages} pages).")


async def _fetch_masters(session: _Session, state: DeltaState) -> None:
    """Series masters that occurrences need and the pages did not carry."""
    wanted = sorted(
        {
            str(event["seriesMasterId"])
            for event in state.events.values()
            if event.get("type") in _SERIES_TYPES and event.get("seriesMasterId")
        }
        - set(state.masters)
    )
    for master_id in wanted[:GRAPH_MAX_MASTER_FETCHES]:
        url = f"{session.base}v1.0/me/events/{quote(master_id, safe='')}?" + urlencode(
            {"$select": _MASTER_FIELDS}, safe="$,"
        )
        try:
            master = await session.get_json(url)
        except FeedError as error:
            if isinstance(error, FeedBusy | CredentialRejected):
                raise
            master = {}  # deleted or unreadable: its occurrences keep what they carry
        except _Gone:
            master = {}
        state.masters[master_id] = _compact(master)


async def read_graph(
    client: httpx.AsyncClient,
    ep: MicrosoftEndpoints,
    access_token: AccessToken,
    state: DeltaState | None,
    now: datetime,
    *,
    default_tz: str = "UTC",
    window_back: timedelta = timedelta(days=2),
    window_ahead: timedelta = timedelta(days=14),
    round_every: timedelta = timedelta(days=1),
    max_pages: int = GRAPH_MAX_PAGES,
    max_bytes: int = GRAPH_MAX_BYTES,
    max_events: int = GRAPH_MAX_EVENTS,
    timeout: float = GRAPH_TIMEOUT,  # noqa: ASYNC109
    absence_words: Sequence[str] = ABSENCE_WORDS,
) -> GraphReading:
    """The calendar's occurrences now, and the state to store for next time.

    Follows ``state``'s delta link, or starts a new round (window ``now - window_back``
    to ``now + window_ahead``) when there is no state, the round is ``round_every`` old,
    or Graph answers 410. ``state`` is not changed: store the returned one only after
    using it. ``timeout`` seconds bound the whole read. Raises ``FeedError`` (its
    subclasses ``FeedBusy`` with ``retry_after``, and ``CredentialRejected``).
    ``default_tz`` is the member's zone: all-day events run midnight to midnight there;
    ``absence_words`` make an all-day event an absence (``learning.is_absence``).
    """
    zone = _zoneinfo(default_tz)
    if zone is None or now.tzinfo is None:
        raise ValueError("now must be aware and default_tz a known zone")
    session = _Session(client, ep, access_token, now, max_bytes, timeout)
    try:
        async with asyncio.timeout(timeout):
            current = await _sync(
                session, state, now, window_back, window_ahead, round_every, max_pages, max_events
            )
            await _fetch_masters(session, current)
    except TimeoutError:
        raise FeedBusy(
            f"Microsoft's calendar service did not answer within {timeout:g} s."
        ) from None
    return GraphReading(_occurrences(current, zone, absence_words), current)


async def _sync(
    session: _Session,
    state: DeltaState | None,
    now: datetime,
    window_back: timedelta,
    window_ahead: timedelta,
    round_every: timedelta,
    max_pages: int,
    max_events: int,
) -> DeltaState:
    if (
        state is not None
        and state.delta_link.startswith(session.base)  # else GRAPH_URL changed: a new round
        and state.round_start <= now < (state.round_start + round_every)
    ):
        try:
            return await _follow_round(
                session,
                state.delta_link,
                copy.deepcopy(state),
                max_pages,
                max_events,
            )
        except _Gone:
            pass  # the delta token expired: a new round
    fresh = DeltaState("", now, now - window_back, now + window_ahead)
    query = urlencode(
        {"startDateTime": _utc_text(fresh.window_start), "endDateTime": _utc_text(fresh.window_end)}
    )
    url = f"{session.base}v1.0/me/calendarView/delta?{query}"
    try:
        return await _follow_round(session, url, fresh, max_pages, max_events)
    except _Gone:
        raise FeedBusy(
            "Microsoft's calendar service could not start reading; it will be tried later."
        ) from None


def _utc_text(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _occurrences(
    state: DeltaState, zone: tzinfo, absence_words: Sequence[str]
) -> tuple[Occurrence, ...]:
    found = [
        occ
        for event_id, event in state.events.items()
        if (occ := _occurrence(event_id, event, state.masters, zone, absence_words)) is not None
    ]
    found.sort(key=lambda o: (o.start, o.end, o.uid, o.recurrence_id))
    return tuple(found)


def _uid(event_id: str) -> str:
    if len(event_id) > _MAX_UID:
        return "sha256:" + hashlib.sha256(event_id.encode()).hexdigest()
    return event_id


def _span(event: dict[str, Any], all_day: bool, zone: tzinfo) -> tuple[datetime, datetime] | None:
    """Start and end in UTC; all-day events midnight to midnight in ``zone``, a day at least."""
    try:
        if all_day:
            first = date.fromisoformat(event["start_date"])
            last = date.fromisoformat(event.get("end_date") or event["start_date"])
            last = max(last, first + timedelta(days=1))
            return _midnight(first, zone), _midnight(last, zone)
        start = datetime.fromisoformat(event["start"]).astimezone(UTC)
        end = datetime.fromisoformat(event.get("end") or event["start"]).astimezone(UTC)
    except (KeyError, TypeError, ValueError):
        return None
    return start, max(start, end)


def _midnight(day: date, zone: tzinfo) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=zone).astimezone(UTC)


def _recurrence_id(original: Any, start: datetime, all_day: bool) -> str:
    """The instance's original start in UTC (``2020-11-16T14:15:00Z``); a date for all-day
    series. An all-day original start is midnight in the organiser's zone, expressed in
    UTC: twelve hours later is the same day for every zone from UTC-12 to UTC+12."""
    try:
        value = datetime.fromisoformat(str(original).strip()[:26].replace("Z", "+00:00"))
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
    except ValueError:
        value = start
    if all_day:
        return (value.astimezone(UTC) + timedelta(hours=12)).date().isoformat()
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _occurrence(
    event_id: str,
    event: dict[str, Any],
    masters: dict[str, dict[str, Any]],
    zone: tzinfo,
    absence_words: Sequence[str] = ABSENCE_WORDS,
) -> Occurrence | None:
    master_id = event.get("seriesMasterId") if event.get("type") in _SERIES_TYPES else None
    master = masters.get(master_id, {}) if isinstance(master_id, str) else {}

    def pick(name: str, default: Any) -> Any:
        return event[name] if name in event else master.get(name, default)

    all_day = bool(pick("isAllDay", False))
    span = _span(event, all_day, zone)
    if span is None:
        return None
    title = str(pick("subject", ""))
    return Occurrence(
        uid=_uid(master_id or event_id),
        recurrence_id=_recurrence_id(event.get("originalStart"), span[0], all_day)
        if master_id
        else "",
        title=title,
        description=str(pick("body", "")),
        start=span[0],
        end=span[1],
        all_day=all_day,
        cancelled=bool(pick("isCancelled", False)),
        declined=pick("response", "") == "declined",
        absence=is_absence(title, all_day, str(pick("showAs", "")) or None, absence_words),
    )
