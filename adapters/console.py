"""The console bot: lines on stdin, replies on stdout, choices as numbered options."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import IO

from bot.core.model import Choice, IdentityKey, Incoming, Kind, Outgoing

Handler = Callable[[Incoming], Awaitable[list[Outgoing]]]


def system_timezone() -> str | None:
    """The machine's IANA zone, if it can be told (TZ, /etc/timezone or /etc/localtime)."""
    tz = os.environ.get("TZ", "").lstrip(":")
    if "/" in tz or tz == "UTC":
        return tz
    try:
        text = Path("/etc/timezone").read_text().strip()
        if text:
            return text
    except OSError:
        pass
    try:
        target = os.readlink("/etc/localtime")
    except OSError:
        return None
    marker = "zoneinfo/"
    return target.split(marker, 1)[1] if marker in target else None


def render(reply: Outgoing) -> str:
    lines = [reply.text]
    lines += [f"  [{i}] {choice.label}" for i, choice in enumerate(reply.choices, 1)]
    if reply.attachment is not None:
        lines.append(f"  (file: {reply.attachment.filename})")
    return "\n".join(lines)


def to_event(
    line: str, identity: IdentityKey, shown: tuple[Choice, ...], zone: str | None
) -> Incoming:
    """A typed line: the number or label of a shown choice, a /command, or text."""
    text = line.rstrip("\r\n")
    stripped = text.strip()
    for i, choice in enumerate(shown, 1):
        if stripped == str(i) or stripped.casefold() == choice.label.casefold():
            return Incoming(identity, Kind.CHOICE, choice=choice.id, timezone_hint=zone)
    return Incoming.text_of(identity, text, timezone_hint=zone, chat_id=identity.user_id)


async def chat(
    handle: Handler, user: str, stdin: IO[str], stdout: IO[str], *, echo: bool = False
) -> None:
    """Talk until end of input. Works the same for a person at a terminal and for a pipe.

    `echo` repeats each input line as '> line' (for transcripts of piped sessions).
    """
    identity = IdentityKey("console", user)
    zone = system_timezone()
    shown: tuple[Choice, ...] = ()
    interactive = stdin.isatty()
    if interactive:
        stdout.write("cpdbot — type /help for commands, Ctrl-D to quit.\n")
    while True:
        if interactive:
            stdout.write("> ")
            stdout.flush()
        line = await asyncio.to_thread(stdin.readline)
        if not line:
            break
        if not line.strip():
            continue
        if echo:
            stdout.write(f"> {line.rstrip()}\n")
        replies = await handle(to_event(line, identity, shown, zone))
        for reply in replies:
            stdout.write(render(reply) + "\n")
        stdout.flush()
        with_choices = [r for r in replies if r.choices]
        shown = with_choices[-1].choices if with_choices else ()


class ConsoleSender:
    """`bot.core.model.Sender` for the console: a message the bot starts is printed on `out`."""

    platform = "console"

    def __init__(self, out: IO[str]) -> None:
        self.out = out

    async def send(self, identity: IdentityKey, chat_id: str | None, reply: Outgoing) -> None:
        self.out.write(render(reply) + "\n")
        self.out.flush()
