"""CalDAV calendars (iCloud, Fastmail, Nextcloud, Radicale): discovery and reading.

``discover`` takes the server root a member types (``https://caldav.icloud.com/``,
``https://caldav.fastmail.com/``, a Nextcloud ``…/remote.php/dav``, a Radicale root),
finds the signed-in principal's calendar home with the ``caldav`` library and lists the
calendars that hold events (task lists are left out). ``read_caldav`` sends one
time-range ``calendar-query`` REPORT with server-side expansion (RFC 4791 ``expand``) and
reads the returned events with the ICS reader (``read_feed``), so the occurrences follow
exactly the rules of an ICS feed: titles, all-day days in ``default_tz``, cancelled,
declined, ``(uid, recurrence_id)``. A server that ignores ``expand`` returns its series
whole; ``read_feed`` then expands them itself, under its own bounds.

Both functions are synchronous and block on the network (the caldav library is
synchronous): callers run them in a worker thread (``asyncio.to_thread``). All HTTP goes
through ``GuardedSession`` (caldav_http.py): vetted addresses, size and time bounds.
Every failure is a ``FeedError`` whose message is shown to the member as is; no message,
log line or exception text carries the password (exceptions of the libraries are
replaced, never chained).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final, TypeVar

import niquests
from caldav.davclient import DAVClient
from caldav.lib import error as caldav_error

from bot.core.calendar_rules import CredentialRejected, FeedBusy, FeedError
from bot.services.calendar.bounds import _TIME_LIMIT, MAX_EVENTS
from bot.services.calendar.caldav_http import NOT_CALDAV, NOT_FOUND, GuardedSession
from bot.services.calendar.learning import ABSENCE_WORDS
from bot.services.calendar.occurrence import FeedReading
from bot.services.calendar.reading import read_feed

REFUSED: Final = (
    "The server refused that user name and password (iCloud needs an app-specific "
    "password: appleid.apple.com → Sign-In and Security → App-Specific Passwords)."
)
_CALDAV_NS: Final = "urn:ietf:params:xml:ns:caldav"
_CALENDAR_DATA: Final = f"{{{_CALDAV_NS}}}calendar-data"
# The query reaches two days past the window, as read_feed reads it: all-day and floating
# events are matched by the server in its own zone (often UTC), not the member's.
_MARGIN: Final = timedelta(days=2)
_T = TypeVar("_T")


@dataclass(frozen=True)
class CalDavCalendar:
    """One calendar found on a CalDAV server: its address and its display name."""

    url: str
    name: str


def _client(url: str, username: str, password: str, session: GuardedSession) -> Any:
    """A caldav client whose HTTP goes through ``session``; no DNS service discovery."""
    client = DAVClient(
        url=url,
        username=username,
        password=password,
        enable_rfc6764=False,
        rate_limit_handle=False,
        timeout=None,
    )
    client.session.close()
    client.session = session  # type: ignore[assignment]  # duck-typed: request() and close()
    return client


def _replacement(error: Exception, *, known_good: bool) -> FeedError:
    """What the member reads for an error of the libraries (never their own text).

    ``known_good``: the credential worked before, so a refusal now is a
    ``CredentialRejected`` (the owner is told once, with how to reconnect).
    """
    if isinstance(error, caldav_error.AuthorizationError):
        return CredentialRejected(REFUSED) if known_good else FeedError(REFUSED)
    if isinstance(error, caldav_error.RateLimitError):
        return FeedBusy(
            "The calendar server is busy; it will be tried later.", error.retry_after_seconds
        )
    if isinstance(error, caldav_error.NotFoundError):
        return FeedError(NOT_FOUND)
    if isinstance(error, niquests.exceptions.SSLError):
        return FeedError(
            "Could not make a secure connection to the calendar server: its certificate is "
            "not valid."
        )
    if isinstance(error, niquests.exceptions.Timeout):
        return FeedError("The calendar server did not answer in time.")
    if isinstance(error, niquests.exceptions.ConnectionError):
        return FeedError("Could not connect to the calendar server.")
    # The libraries' other errors may quote addresses and bodies: never shown.
    return FeedError(NOT_CALDAV)


def _guarded(call: Callable[[], _T], *, known_good: bool) -> _T:
    """``call()``, its failures replaced by ``FeedError``s raised outside the handler, so
    that no exception of the libraries travels along as ``__context__``."""
    failure: FeedError | None = None
    try:
        return call()
    except FeedError:
        raise
    except Exception as error:
        failure = _replacement(error, known_good=known_good)
    raise failure


def discover(
    server_url: str,
    username: str,
    password: str,
    *,
    allow_private: bool = False,
    timeout: float = 15.0,
    clock: Callable[[], float] = time.monotonic,
) -> list[CalDavCalendar]:
    """The event calendars of ``username`` on the CalDAV server at ``server_url``.

    Synchronous (blocks on the network): run it in a thread. ``timeout`` bounds the
    whole discovery. Calendars that hold only tasks or journals (their
    supported-calendar-component-set has no VEVENT) are left out. ``FeedError`` for an
    address that cannot be used, a refused password (``REFUSED``), a server that is not
    CalDAV, a timeout or a TLS failure.
    """
    session = GuardedSession(
        allow_private=allow_private, timeout=timeout, max_bytes=1_000_000, clock=clock
    )
    try:
        url = session.vet(server_url)
        return _guarded(
            lambda: _event_calendars(_client(url, username, password, session)),
            known_good=False,
        )
    finally:
        session.close()


def _event_calendars(client: Any) -> list[CalDavCalendar]:
    found: list[CalDavCalendar] = []
    for calendar in client.get_principal().get_calendars():
        components = [str(c).upper() for c in calendar.get_supported_components()]
        if "VEVENT" not in components:
            continue
        name = " ".join(str(calendar.get_display_name() or "").split())
        found.append(CalDavCalendar(str(calendar.url), name or "Calendar"))
    return found


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _query(start: datetime, end: datetime) -> str:
    """A calendar-query REPORT for the events overlapping ``[start, end)``, expanded."""
    span = f'start="{_stamp(start)}" end="{_stamp(end)}"'
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        f'<C:calendar-query xmlns:D="DAV:" xmlns:C="{_CALDAV_NS}">'
        f"<D:prop><C:calendar-data><C:expand {span}/></C:calendar-data></D:prop>"
        '<C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT">'
        f"<C:time-range {span}/>"
        "</C:comp-filter></C:comp-filter></C:filter>"
        "</C:calendar-query>"
    )


def _calendar_data(response: Any) -> list[str]:
    """The iCalendar texts of a calendar-query multistatus (one per calendar object)."""
    tree = getattr(response, "tree", None)
    if tree is None:
        return []
    texts: list[str] = []
    for element in tree.iter(_CALENDAR_DATA):
        text = (element.text or "").strip()
        if text[:15].upper() == "BEGIN:VCALENDAR":
            texts.append(text)
    return texts


def read_caldav(
    calendar_url: str,
    username: str,
    password: str,
    *,
    start: datetime,
    end: datetime,
    default_tz: str,
    owner_emails: Collection[str] = (),
    allow_private: bool = False,
    timeout: float = 15.0,
    max_bytes: int = 5_000_000,
    max_events: int = MAX_EVENTS,
    clock: Callable[[], float] = time.monotonic,
    absence_words: Sequence[str] = ABSENCE_WORDS,
) -> FeedReading:
    """Every occurrence of the CalDAV calendar at ``calendar_url`` overlapping ``[start, end)``.

    The same result as ``read_feed`` on the calendar's events (see there for
    ``default_tz``, ``owner_emails`` and ``absence_words``). Synchronous (blocks on the
    network and the CPU): run it in a thread. ``timeout`` seconds bound the request and
    the reading together; ``max_bytes`` bounds the answer, ``max_events`` the events read. The
    credential is taken to have worked before: a refusal is ``CredentialRejected``.
    """
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("start and end must be timezone-aware")
    session = GuardedSession(
        allow_private=allow_private, timeout=timeout, max_bytes=max_bytes, clock=clock
    )
    try:
        url = session.vet(calendar_url)
        query = _query(start - _MARGIN, end + _MARGIN)
        texts = _guarded(
            lambda: _calendar_data(
                _client(url, username, password, session).report(url, query, depth=1)
            ),
            known_good=True,
        )
        left = session.check_time()
    finally:
        session.close()
    if not texts:
        return FeedReading((), ())
    reading = read_feed(
        "\r\n".join(texts).encode("utf-8"),
        start=start,
        end=end,
        default_tz=default_tz,
        owner_emails=owner_emails,
        max_events=max_events,
        time_limit=min(left, _TIME_LIMIT),
        clock=clock,
        absence_words=absence_words,
    )
    return reading  # read_feed marks absences as for any ICS feed
