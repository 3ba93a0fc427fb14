"""adapters/downloads.py against a real HTTP server on 127.0.0.1: which URLs are fetched,
errors, and a server that stops sending (the read deadline, not a hang)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web

from adapters.downloads import FetchFailed, allowed_url, clean_name, fetch


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://files.slack.com/files-pri/T1-F1/download/a.pdf", True),
        ("http://127.0.0.1:8080/file/bot1:x/documents/file_1.pdf", True),
        ("http://localhost/x", True),
        ("http://[::1]/x", True),
        ("http://example.org/a.pdf", False),  # plain http off this machine
        ("http://10.0.0.1/a.pdf", False),
        ("file:///etc/passwd", False),
        ("ftp://example.org/a.pdf", False),
        ("https:///no-host", False),
        ("", False),
    ],
)
def test_only_https_or_loopback_urls_are_allowed(url: str, allowed: bool) -> None:
    assert allowed_url(url) is allowed


def test_names_lose_their_folders() -> None:
    assert clean_name("../../etc/passwd", "f") == "passwd"
    assert clean_name("C:\\Users\\me\\cert.pdf", "f") == "cert.pdf"
    assert clean_name("", "file-1.pdf") == "file-1.pdf"


@pytest.fixture
async def server() -> AsyncIterator[tuple[str, asyncio.Event]]:
    release = asyncio.Event()

    async def stalls(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        await response.prepare(request)
        await response.write(b"%PDF-1.4\n")
        await release.wait()  # then nothing more until the test ends
        return response

    async def missing(request: web.Request) -> web.Response:
        return web.Response(status=404)

    app = web.Application()
    app.router.add_get("/stalls", stalls)
    app.router.add_get("/missing", missing)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}", release
    finally:
        release.set()
        await runner.cleanup()


async def test_a_server_that_stops_sending_fails_the_fetch(
    server: tuple[str, asyncio.Event],
) -> None:
    url, _ = server
    timing = aiohttp.ClientTimeout(total=5, sock_read=0.1)
    async with aiohttp.ClientSession() as session:
        with pytest.raises(FetchFailed, match="Timeout"):
            await fetch(session, f"{url}/stalls", name="a.pdf", limit=1000, timing=timing)
        with pytest.raises(FetchFailed, match="HTTP 404"):
            await fetch(session, f"{url}/missing", name="a.pdf", limit=1000)
        with pytest.raises(FetchFailed):
            await fetch(session, "http://example.org/a.pdf", name="a.pdf", limit=1000)
