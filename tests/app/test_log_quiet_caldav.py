"""At LOG_LEVEL=DEBUG the operator's log must not carry what a member's CalDAV server
holds: urllib3 (under the caldav library) logs each request's path, which names the
member's account and calendars, and the caldav library logs raw response bodies (event
titles and descriptions)."""

from __future__ import annotations

import logging

import pytest

from bot.services.calendar.caldav_source import discover
from cpdbot import logs
from tests.radicale_server import RadicaleServer


def test_debug_logs_carry_no_caldav_paths_or_bodies(
    radicale: RadicaleServer, capfd: pytest.CaptureFixture[str]
) -> None:
    logs.setup("DEBUG")
    try:
        found = discover(
            radicale.url, radicale.username, radicale.password, allow_private=True, timeout=10.0
        )
        logging.getLogger("cpdbot.test").debug("the bot's own debug lines still show")
    finally:
        logs.setup("WARNING")
    err = capfd.readouterr().err
    assert {c.name for c in found} >= {"Work", "Personal"}
    assert "the bot's own debug lines still show" in err
    assert f"/{radicale.username}/" not in err
    assert "Clinical audit course" not in err and radicale.password not in err
