"""Fetching a feed: public-address vetting, redirects by hand, size and time limits."""

from __future__ import annotations

import asyncio
import socket
import zlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urljoin

import httpx

from bot.core.calendar_rules import (
    _NOT_PUBLIC,
    FeedError,
    _ip_or_none,
    is_public_address,
    validate_feed_url,
)
from bot.services.calendar.bounds import _MAX_ADDRESSES_TRIED, MAX_REDIRECTS, USER_AGENT

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


def _decoder(content_encoding: str) -> Any:
    """A zlib decompressor for the body's Content-Encoding, None for none."""
    encoding = content_encoding.strip().lower()
    if encoding in ("gzip", "x-gzip"):
        return zlib.decompressobj(16 + zlib.MAX_WBITS)
    if encoding == "deflate":
        return zlib.decompressobj()
    if encoding not in ("", "identity"):
        raise FeedError(
            f"The calendar server used a compression that cannot be read ({encoding[:20]})."
        )
    return None


async def _read_body(response: httpx.Response, max_bytes: int) -> bytes:
    """The body, decompressed, refusing more than ``max_bytes`` before holding them."""
    if response.is_stream_consumed:  # a transport that answered from memory (tests, mocks)
        if len(response.content) > max_bytes:
            raise _too_large(max_bytes)
        return response.content
    decoder = _decoder(response.headers.get("content-encoding", ""))
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


_Target = tuple[httpx.URL, dict[str, str], dict[str, Any]]
"""Where one connection attempt goes: the URL on the wire, extra headers, extensions."""


async def _targets(
    parsed: httpx.URL, host: str, *, allow_private: bool, resolver: Resolver | None
) -> list[_Target]:
    """The connection attempts for one hop: the host's vetted public addresses."""
    if allow_private or _ip_or_none(parsed.host) is not None:
        # An IP literal was vetted by validate_feed_url; with allow_private nothing is.
        return [(parsed, {}, {})]
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    addresses = await public_addresses(host, port, resolver=resolver)
    # Connect to the vetted address itself: the name is not resolved a second time
    # (no DNS rebinding window). Host and SNI keep the name, so virtual hosting and
    # certificate checks work as they would with the name.
    netloc = parsed.netloc.decode("ascii")
    extensions: dict[str, Any] = {"sni_hostname": host} if parsed.scheme == "https" else {}
    return [
        (parsed.copy_with(host=address), {"Host": netloc}, extensions)
        for address in addresses[:_MAX_ADDRESSES_TRIED]
    ]


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
    targets = await _targets(parsed, host, allow_private=allow_private, resolver=resolver)
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


def _follow(current: str, location: str, vet: Callable[[str], str]) -> str:
    """Where a redirect from `current` leads, once `vet` accepts it; never https → http."""
    try:
        target = vet(urljoin(current, location))
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
                current = _follow(
                    current,
                    outcome.location,
                    lambda url: validate_feed_url(url, allow_private=allow_private),
                )
    except TimeoutError:
        raise FeedError(f"The calendar server did not answer within {_seconds(timeout)}.") from None
    raise FeedError(f"The calendar address redirects too many times (more than {MAX_REDIRECTS}).")
