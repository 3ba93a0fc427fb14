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
    events far outside the window are dropped before parsing, invalid repeat rules
    (``INTERVAL=0``, ``COUNT=0``, ``BYHOUR=25``) and rules that could make the expansion run
    for minutes (more often than daily, never matching, starting centuries ago) are left
    out, counts are capped, and a time budget on an injectable monotonic clock, checked
    inside every walk of a rule as well as between series, stops the rest.
    Series that cannot be read are left out and reported (``FeedReading.skipped``); the
    rest of the feed is still read.

Every problem a feed's owner should hear about is a ``FeedError`` whose message can be
shown as is: no stack traces, no resolved IP addresses. ``read_feed`` is CPU-bound and
synchronous: call it with ``asyncio.to_thread`` from async code.

``is_learning`` and ``duration_minutes`` help decide what to prompt for and how to prefill
the hours. See ``docs/calendar.md``.

The package's modules do one job each: ``fetch`` (HTTP, address vetting, redirects),
``ics`` (decode, pre-filter, parse), ``tzids`` (the time zones feeds name), ``repeat_rules``
(refusing invalid and costly RRULEs), ``budget`` (the time budget, checked inside each
walk of a rule), ``expand`` (series and their occurrences), ``reading``
(``read_feed``), ``event_text`` (plain titles and descriptions), ``learning`` (which events
are learning) and ``bounds`` (every limit in one place).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Final

from bot.core.calendar_rules import (
    DEFAULT_KEYWORDS,
    MAX_URL_LENGTH,
    CredentialRejected,
    FeedBusy,
    FeedError,
    is_public_address,
    validate_feed_url,
)
from bot.services.calendar.bounds import MAX_EVENTS, MAX_OCCURRENCES, MAX_REDIRECTS
from bot.services.calendar.learning import duration_minutes, is_learning
from bot.services.calendar.occurrence import FeedReading, Occurrence

if TYPE_CHECKING:
    from bot.services.calendar.fetch import (
        FetchResult,
        Resolver,
        fetch_feed,
        new_client,
        public_addresses,
        resolve_is_public,
        system_resolver,
    )
    from bot.services.calendar.reading import occurrences, read_feed

# Names whose modules import httpx or icalendar: loaded on first use (see __getattr__), so
# that importing this package for FeedError or is_learning loads neither.
_LAZY: Final = {
    "FetchResult": "fetch",
    "Resolver": "fetch",
    "fetch_feed": "fetch",
    "new_client": "fetch",
    "public_addresses": "fetch",
    "resolve_is_public": "fetch",
    "system_resolver": "fetch",
    "occurrences": "reading",
    "read_feed": "reading",
}


def __getattr__(name: str) -> object:
    """Import the module behind a fetching or reading name when it is first used."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


__all__ = [
    "DEFAULT_KEYWORDS",
    "MAX_EVENTS",
    "MAX_OCCURRENCES",
    "MAX_REDIRECTS",
    "MAX_URL_LENGTH",
    "CredentialRejected",
    "FeedBusy",
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
