"""Files members send (evidence), fetched from their platform with limits.

Every adapter turns a photo or document into `Incoming(kind=Kind.FILE, file=IncomingFile)`
the same way: the platform's declared size is checked first (a file declared over
EVIDENCE_MAX_MB is not fetched at all: the event carries its size and no content, so the
dialogue can say so), then the download is bounded while it streams (a platform, or
whoever forged a URL, that lies about the size is cut off one chunk past the limit), and
it is given a wall-clock deadline. Only https URLs are fetched, or http on a loopback
address (the test fakes, a local Bot API server). What is fetched stays in memory and
goes to the engine; the inbox keeps only the platform's payload (file ids), so a replay
after a restart downloads again.

Logs name the platform and the failure, never the URL (Telegram's holds the bot token,
Slack's and SharePoint's name the member's file) nor the file's name.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from bot.core.model import IncomingFile

log = logging.getLogger("cpdbot.downloads")

CHUNK = 64 * 1024
# Connect within 10 s, a read every 20 s, the whole file within 60 s (10 MB at 1.4 Mbit/s).
TIMEOUT = aiohttp.ClientTimeout(total=60.0, sock_connect=10.0, sock_read=20.0)
NAME_MAX = 200  # characters of a file name kept (the dialogue cleans it further)

# The adapters' own reply when a file could not be fetched (the engine never sees it).
FETCH_FAILED = (
    "I could not fetch that file from {platform} just now, so I did not keep it. "
    "Please send it again in a minute."
)


class FetchFailed(Exception):
    """The platform did not hand the file over (an error status, a timeout, a bad URL)."""


def allowed_url(url: str) -> bool:
    """https anywhere; plain http only to a loopback address."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    if parts.scheme == "https" and parts.hostname:
        return True
    if parts.scheme != "http":
        return False
    host = parts.hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def clean_name(name: object, fallback: str) -> str:
    """The file's name as sent, without any folder part; `fallback` if there is none."""
    text = str(name or "").replace("\\", "/").rsplit("/", 1)[-1].strip()
    return text[:NAME_MAX] or fallback


def too_big(name: str, declared: int, limit: int, mime_hint: str = "") -> IncomingFile | None:
    """A file declared over the limit: its event, with no content (None: fetch it)."""
    if declared > limit:
        return IncomingFile(name, b"", declared, mime_hint)
    return None


async def fetch(
    session: aiohttp.ClientSession,
    url: str,
    *,
    name: str,
    limit: int,
    declared: int = 0,
    mime_hint: str = "",
    headers: Mapping[str, str] | None = None,
    timing: aiohttp.ClientTimeout = TIMEOUT,
) -> IncomingFile:
    """GET `url`, at most `limit` bytes of it; `FetchFailed` when the file cannot be had.

    Over the limit (declared, announced by Content-Length, or found while streaming): an
    `IncomingFile` with no content and the size known so far (over the limit).
    """
    small = too_big(name, declared, limit, mime_hint)
    if small is not None:
        return small
    if not allowed_url(url):
        raise FetchFailed("not an https (or loopback) URL")
    try:
        async with session.get(
            url, headers=dict(headers or {}), timeout=timing, allow_redirects=True
        ) as response:
            if response.status != 200:
                raise FetchFailed(f"HTTP {response.status}")
            length = response.content_length or 0
            if length > limit:
                return IncomingFile(name, b"", length, mime_hint)
            content = await _bounded(response, limit)
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise FetchFailed(type(exc).__name__) from None
    if content is None:
        return IncomingFile(name, b"", max(declared, limit + 1), mime_hint)
    return IncomingFile(name, content, len(content), mime_hint)


async def _bounded(response: aiohttp.ClientResponse, limit: int) -> bytes | None:
    """The body, or None as soon as it passes `limit` bytes (the rest is not read)."""
    body = bytearray()
    async for chunk in response.content.iter_chunked(CHUNK):
        body += chunk
        if len(body) > limit:
            response.close()
            return None
    return bytes(body)


def log_failure(platform: str, exc: BaseException, extra: Any = "") -> None:
    """One line for a failed fetch: the platform and what went wrong, never the URL."""
    log.warning("%s: a file could not be fetched (%s)%s", platform, exc, extra)
