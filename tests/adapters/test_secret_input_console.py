"""A secret asked for on the console (issue 15): read without echo, sent as a form.

The real console loop (`adapters.console.chat`, what `cpdbot chat` runs) talks to the real
engine; the `/calendar caldav` turn is answered here with the password question the
dialogue asks (`Outgoing.secret`) until that flow is wired to a secret key end to end, and
the form it sends is recorded. At a terminal (a
real pseudo-terminal here) the line discipline must not echo what is typed; in a piped
transcript (`--echo`) the typed password is not repeated either.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import os
import select
import termios
from typing import Any

import pytest

from adapters import console
from bot.core.model import Incoming, Kind, Outgoing, SecretAsk
from bot.services.engine import Engine

PASSWORD = "hunter2-Very-Secret"
CALDAV = "/calendar caldav http://127.0.0.1:9/dav/ alice"
ASK = Outgoing(
    "Now the password for alice at 127.0.0.1.",
    secret=SecretAsk(field="password", label="Password for alice at 127.0.0.1"),
)


async def _turn(engine: Engine, event: Incoming) -> list[Outgoing]:
    if event.kind == Kind.COMMAND and event.command == "calendar":
        return [ASK]
    if event.kind == Kind.FORM:
        return [Outgoing("Checking that password…")]
    return await engine.handle(event)


def test_the_prompt_says_typing_is_hidden() -> None:
    ask = SecretAsk(field="password", label="Password for alice at dav.example.org")
    shown = console.render(Outgoing("Now the password.", secret=ask))
    assert "Password for alice at dav.example.org (not shown as you type" in shown


class Typist(io.StringIO):
    """The console's stdout: each time the bot prompts, the person types the next line
    into the pseudo-terminal (so typing happens after the bot set the terminal up)."""

    def __init__(self, master: int, lines: list[str]) -> None:
        super().__init__()
        self.master, self.lines = master, lines

    def flush(self) -> None:
        super().flush()
        if self.getvalue().endswith("> ") and self.lines:
            os.write(self.master, (self.lines.pop(0) + "\n").encode())


def _terminal_output(master: int) -> str:
    """What the terminal echoed back (everything the line discipline wrote to the screen)."""
    out = b""
    while select.select([master], [], [], 0)[0]:
        try:
            chunk = os.read(master, 4096)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    return out.decode(errors="replace")


def test_at_a_terminal_the_password_is_not_echoed(
    sqlite_db: Any, schemes: Any, clock: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    engine = Engine(sqlite_db, schemes, clock, allow_private_feeds=True)
    master, slave = os.openpty()
    attrs = termios.tcgetattr(slave)  # as a person's terminal: lines, echoed
    attrs[3] |= termios.ECHO | termios.ICANON
    termios.tcsetattr(slave, termios.TCSANOW, attrs)
    stdin = os.fdopen(slave, "r", closefd=False)
    out = Typist(master, ["/start", "IET", "Europe/London", CALDAV, PASSWORD])
    seen: list[Incoming] = []

    async def handle(event: Incoming) -> list[Outgoing]:
        seen.append(event)
        replies = await _turn(engine, event)
        if not out.lines:  # all typed: end of input after this turn
            os.close(slave)
        return replies

    # The terminal closes under the reader after the last turn: the end of the session.
    with contextlib.suppress(OSError, ValueError):
        asyncio.run(console.chat(handle, "tess", stdin, out))
    echoed = _terminal_output(master)
    os.close(master)
    assert "IET" in echoed  # ordinary lines are echoed by the terminal, as always
    assert PASSWORD not in echoed  # the password is not
    assert PASSWORD not in out.getvalue()
    form = [e for e in seen if e.kind == Kind.FORM]
    assert form and form[-1].form == {"password": PASSWORD}
    assert PASSWORD not in caplog.text


def test_a_piped_transcript_hides_the_password_and_enter_alone_cancels(
    sqlite_db: Any, schemes: Any, clock: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    engine = Engine(sqlite_db, schemes, clock, allow_private_feeds=True)
    lines = ["/start", "IET", "Europe/London", CALDAV, PASSWORD, CALDAV, ""]
    stdin, out = io.StringIO("\n".join(lines) + "\n"), io.StringIO()
    seen: list[Incoming] = []

    async def handle(event: Incoming) -> list[Outgoing]:
        seen.append(event)
        return await _turn(engine, event)

    asyncio.run(console.chat(handle, "pip", stdin, out, echo=True))
    text = out.getvalue()
    assert PASSWORD not in text and PASSWORD not in caplog.text
    assert text.count("> (hidden)") == 2
    assert [e.form for e in seen if e.kind == Kind.FORM] == [{"password": PASSWORD}]
    assert seen[-1].command == "cancel"  # Enter alone: cancelled, not an empty password
