"""The HTTP underneath the caldav library, held to the feed reader's rules.

``caldav.DAVClient`` sends every request through ``client.session.request(...)``;
``GuardedSession`` takes that place. For each request it:

* vets the address as a feed address (``validate_feed_url``) and, unless
  ``allow_private``, checks that every address the host resolves to is public (the
  caldav library follows the hrefs a server returns, which may name other hosts; each
  one is vetted before it is used);
* follows redirects itself (at most ``MAX_REDIRECTS``, each target vetted, never
  https -> http);
* bounds the body (``max_bytes``, compressed bodies inflated under the same cap) and the
  whole conversation (``timeout`` seconds on an injectable monotonic clock, checked
  between chunks), so a hostile server can neither fill memory nor hold a poll;
* answers every status the caldav library need not see with a ``FeedError`` fit for the
  owner, and checks that a multistatus body is XML before the library parses it (the
  library logs unreadable bodies at INFO).

Proxies and ``~/.netrc`` of the host are ignored (``trust_env = False``). Known gap: the
name is resolved again by the HTTP library after the vetting (a short DNS-rebinding
window that ``fetch_feed`` closes by connecting to the vetted address).
"""

from __future__ import annotations

import socket
import time
import zlib
from collections.abc import Callable
from typing import Any, Final
from urllib.parse import urlsplit

import niquests
from lxml import etree

from bot.core.calendar_rules import (
    _NOT_PUBLIC,
    FeedBusy,
    FeedError,
    _ip_or_none,
    is_public_address,
    validate_feed_url,
)
from bot.services.calendar.bounds import MAX_REDIRECTS, USER_AGENT
from bot.services.calendar.fetch import _decoder, _follow, _too_large

_CHUNK: Final = 65_536
_DAV_METHODS: Final = frozenset({"PROPFIND", "REPORT"})
NOT_CALDAV: Final = (
    "That address does not answer as a CalDAV server. Give the server's CalDAV address "
    "(for example https://caldav.icloud.com/, https://caldav.fastmail.com/ or your "
    "Nextcloud's https://…/remote.php/dav)."
)
NOT_FOUND: Final = (
    "The server has no calendar at that address (404). It may have been deleted or moved."
)


def _seconds(value: float) -> str:
    return f"{value:g} s"


def _retry_after(value: str | None) -> float | None:
    text = (value or "").strip()
    return float(text) if text.isdigit() else None


def _status_error(status: int, retry_after: str | None) -> FeedError:
    """What the owner hears for a status the caldav library is not given."""
    if status in (429, 503):
        return FeedBusy(
            f"The calendar server is busy ({status}); it will be tried later.",
            _retry_after(retry_after),
        )
    if status in (404, 410):
        return FeedError(NOT_FOUND)
    if status >= 500:
        return FeedError(f"The calendar server answered {status} (a server error).")
    return FeedError(NOT_CALDAV)


def _resolve_public(host: str, port: int) -> None:
    """``FeedError`` unless ``host`` resolves and every address it has is public."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        infos = []
    addresses = {str(sockaddr[0]) for *_, sockaddr in infos}
    if not addresses:
        raise FeedError(f"The calendar server {host} could not be found.")
    if not all(is_public_address(address) for address in addresses):
        raise FeedError(_NOT_PUBLIC)


class GuardedSession:
    """A stand-in for the caldav library's HTTP session; see the module docstring."""

    def __init__(
        self,
        *,
        allow_private: bool,
        timeout: float,
        max_bytes: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._session = niquests.Session()
        self._session.trust_env = False
        self._allow_private = allow_private
        self._timeout = timeout
        self._max_bytes = max_bytes
        self._clock = clock
        self._deadline = clock() + timeout
        self._vetted: set[tuple[str, int]] = set()

    def close(self) -> None:
        self._session.close()

    def check_time(self) -> float:
        """Seconds left, or ``FeedError`` when the conversation has run out of time."""
        left = self._deadline - self._clock()
        if left <= 0:
            raise FeedError(f"The calendar server did not answer within {_seconds(self._timeout)}.")
        return left

    def vet(self, url: str) -> str:
        """The normalised address, once its host has been found acceptable."""
        current = validate_feed_url(url, allow_private=self._allow_private)
        if current.startswith("http://") and not self._allow_private:
            raise FeedError(
                "Please give the server's https:// address: a password is never sent "
                "over an unencrypted connection."
            )
        parsed = urlsplit(current)
        host = (parsed.hostname or "").lower()
        port = parsed.port or (443 if parsed.scheme == "https" else 80)
        if (host, port) not in self._vetted:
            if not self._allow_private and _ip_or_none(host) is None:
                _resolve_public(host, port)
            self._vetted.add((host, port))
        return current

    def request(self, method: str, url: str, **kwargs: Any) -> Any:
        """``Session.request`` as the caldav library calls it, under the guard's rules."""
        current = self.vet(url)
        headers = dict(kwargs.get("headers") or {})
        headers["User-Agent"] = USER_AGENT
        headers["Accept-Encoding"] = "gzip, deflate"
        for _hop in range(MAX_REDIRECTS + 1):
            response = self._session.request(
                method,
                current,
                data=kwargs.get("data"),
                headers=headers,
                auth=kwargs.get("auth"),
                timeout=min(self._timeout, self.check_time()),
                verify=kwargs.get("verify", True),
                allow_redirects=False,
                stream=True,
            )
            status = response.status_code
            location = response.headers.get("location", "").strip()
            if status in (301, 302, 303, 307, 308) and location:
                response.close()
                current = _follow(current, location, self.vet)
                continue
            try:
                self._settle(method, response)
            finally:
                response.close()
            return response
        raise FeedError(
            f"The calendar address redirects too many times (more than {MAX_REDIRECTS})."
        )

    def _settle(self, method: str, response: Any) -> None:
        """Read the body under the bounds; refuse what the caldav library need not see."""
        status = int(response.status_code)
        if status not in (207, 401, 403) and not (200 <= status < 300):
            raise _status_error(status, response.headers.get("retry-after"))
        if method in _DAV_METHODS and status != 207 and status not in (401, 403):
            raise FeedError(NOT_CALDAV)
        declared = response.headers.get("content-length", "").strip()
        if declared.isdigit() and int(declared) > self._max_bytes:
            raise _too_large(self._max_bytes)
        body = self._read(response)
        if status == 207 and not _is_xml(body):
            raise FeedError(NOT_CALDAV)
        response._content = body
        response._content_consumed = True
        # The body is held decoded now; the library must not decode it again.
        response.headers.pop("content-encoding", None)

    def _read(self, response: Any) -> bytes:
        decoder = _decoder(response.headers.get("content-encoding", ""))
        chunks: list[bytes] = []
        size = 0

        def keep(data: bytes) -> None:
            nonlocal size
            size += len(data)
            if size > self._max_bytes:
                raise _too_large(self._max_bytes)
            chunks.append(data)

        try:
            while raw := self._chunk(response):
                if decoder is None:
                    keep(raw)
                    continue
                # At most one byte past the cap: a small chunk may inflate a thousandfold.
                keep(decoder.decompress(raw, self._max_bytes - size + 1))
                while decoder.unconsumed_tail:
                    keep(decoder.decompress(decoder.unconsumed_tail, self._max_bytes - size + 1))
            if decoder is not None:
                keep(decoder.flush())
        except zlib.error:
            raise FeedError("The calendar server sent a damaged compressed answer.") from None
        return b"".join(chunks)

    def _chunk(self, response: Any) -> bytes:
        self.check_time()
        return bytes(response.raw.read(_CHUNK, decode_content=False) or b"")


def _is_xml(body: bytes) -> bool:
    if not body.strip():
        return False
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    try:
        etree.fromstring(body, parser=parser)
    except etree.XMLSyntaxError:
        return False
    return True
