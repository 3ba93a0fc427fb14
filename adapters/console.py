"""The console bot: lines on stdin, replies on stdout, choices as numbered options
(lettered where the answer itself is a number, so a typed '3' is never a pick)."""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import os
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import IO

from bot.core.model import (
    Attachment,
    Choice,
    IdentityKey,
    Incoming,
    IncomingFile,
    Kind,
    Outgoing,
    SecretAsk,
)
from bot.services.evidence import EvidenceSettings

try:
    import termios
except ImportError:  # not a POSIX system: getpass turns echo off its own way
    termios = None  # type: ignore[assignment]

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


# Choices the console never offers as a number or label: erasing everything must be typed
# in full (the forget dialogue's prompt says "Type FORGET"), not done by a stray "1".
TYPED_ONLY = frozenset({"forget:yes"})


def offered(choices: tuple[Choice, ...]) -> tuple[Choice, ...]:
    """The choices the console numbers (those that need no typed confirmation)."""
    return tuple(c for c in choices if c.id not in TYPED_ONLY)


def keys(count: int, letters: bool = False) -> list[str]:
    """What the person types to pick each of `count` choices: '1', '2' … or 'a', 'b' …"""
    if letters and count <= 26:
        return [chr(ord("a") + i) for i in range(count)]
    return [str(i) for i in range(1, count + 1)]


def render(reply: Outgoing, saved: Path | None = None) -> str:
    """The reply as printed; `saved` is where its attachment was written, if it was."""
    lines = [reply.text]
    choices = offered(reply.choices)
    picks = keys(len(choices), reply.numeric_answer)
    lines += [f"  [{key}] {choice.label}" for key, choice in zip(picks, choices, strict=True)]
    if reply.secret is not None:
        lines.append(f"  {reply.secret.label} (not shown as you type; Enter alone cancels):")
    if saved is not None:
        lines.append(f"  (saved: {saved})")
    elif reply.attachment is not None:
        lines.append(f"  (file: {reply.attachment.filename})")
    return "\n".join(lines)


def save_file(attachment: Attachment, directory: Path) -> Path:
    """Write the attachment into `directory` under its own name, never over an existing
    file: 'cpd-2026.pdf', then 'cpd-2026-1.pdf', 'cpd-2026-2.pdf' …"""
    name = Path(attachment.filename).name or "cpdbot-file"
    stem, suffix = Path(name).stem, "".join(Path(name).suffixes[-1:])
    directory.mkdir(parents=True, exist_ok=True)
    n = 0
    while True:
        path = directory / (name if n == 0 else f"{stem}-{n}{suffix}")
        try:
            with path.open("xb") as f:  # exclusive: fails if the file exists
                f.write(attachment.content)
        except FileExistsError:
            n += 1
            continue
        return path.resolve()


def _printed(reply: Outgoing, files: Path | None) -> str:
    if reply.attachment is None or files is None:
        return render(reply)
    try:
        return render(reply, save_file(reply.attachment, files))
    except OSError as exc:
        return render(reply) + f"\n  (could not save {reply.attachment.filename}: {exc})"


def to_event(
    line: str,
    identity: IdentityKey,
    shown: tuple[Choice, ...],
    zone: str | None,
    *,
    letters: bool = False,
) -> Incoming:
    """A typed line: the key (number, or letter when `letters`) or label of a shown
    choice, a /command, or text."""
    text = line.rstrip("\r\n")
    stripped = text.strip()
    choices = offered(shown)
    for key, choice in zip(keys(len(choices), letters), choices, strict=True):
        if stripped.casefold() in (key, choice.label.casefold()):
            return Incoming(identity, Kind.CHOICE, choice=choice.id, timezone_hint=zone)
    return Incoming.text_of(identity, text, timezone_hint=zone, chat_id=identity.user_id)


async def chat(
    handle: Handler,
    user: str,
    stdin: IO[str],
    stdout: IO[str],
    *,
    echo: bool = False,
    files: Path | None = None,
) -> None:
    """Talk until end of input. Works the same for a person at a terminal and for a pipe.

    `echo` repeats each input line as '> line' (for transcripts of piped sessions).
    `files`: the directory exported files are written to (their paths are printed).
    """
    identity = IdentityKey("console", user)
    zone = system_timezone()
    shown: tuple[Choice, ...] = ()
    letters = False
    secret: SecretAsk | None = None
    interactive = stdin.isatty()
    if interactive:
        stdout.write("cpdbot — type /help for commands, Ctrl-D to quit.\n")
    while True:
        if secret is not None:
            value = await read_secret(stdin, stdout)
            if value is None:
                break
            if echo:
                stdout.write("> (hidden)\n")
            event = _secret_event(identity, secret, value, zone)
            shown, letters, secret = _show(await handle(event), stdout, files)
            continue
        if interactive:
            stdout.write("> ")
            stdout.flush()
        line = await read_line(stdin)
        if not line:
            break
        if not line.strip():
            continue
        if echo:
            stdout.write(f"> {line.rstrip()}\n")
        typed = attach_event(line, identity, zone) or to_event(
            line, identity, shown, zone, letters=letters
        )
        if isinstance(typed, str):  # a file that cannot be read: said here, nothing sent
            stdout.write(typed + "\n")
            continue
        shown, letters, secret = _show(await handle(typed), stdout, files)


def attach_event(
    line: str, identity: IdentityKey, zone: str | None, max_bytes: int | None = None
) -> Incoming | str | None:
    """'/attach 12 PATH': the file read from PATH (~ expanded), sent as a file with the
    caption '/attach 12'; what is wrong with PATH as a line to print; None for any other
    line (a link after /attach is the dialogue's). A file over the limit is not read: it
    goes with its size and no content, so the bot says so."""
    words = line.strip().split(maxsplit=2)
    if len(words) != 3 or words[0].lower() != "/attach" or not words[1].lstrip("#").isdigit():
        return None
    if "://" in words[2]:
        return None
    limit = EvidenceSettings().max_bytes if max_bytes is None else max_bytes
    path = Path(words[2].strip().strip("'\"")).expanduser()
    try:
        if path.is_dir():
            return f"  {path} is a folder: give the path of one file."
        size = path.stat().st_size
        content = path.read_bytes() if size <= limit else b""
    except OSError as exc:
        return f"  I can't read {path}: {exc.strerror or exc}."
    sent = IncomingFile(path.name, content, size)
    caption = f"/attach {words[1]}"
    return Incoming(
        identity, Kind.FILE, text=caption, file=sent, timezone_hint=zone, chat_id=identity.user_id
    )


def _secret_event(identity: IdentityKey, ask: SecretAsk, value: str, zone: str | None) -> Incoming:
    """The secret typed, as a form; Enter alone (or /cancel) cancels instead."""
    if value.strip() in ("", "/cancel"):
        return Incoming.text_of(identity, "/cancel", timezone_hint=zone, chat_id=identity.user_id)
    return Incoming(
        identity, Kind.FORM, form={ask.field: value}, timezone_hint=zone, chat_id=identity.user_id
    )


def _show(
    replies: list[Outgoing], stdout: IO[str], files: Path | None
) -> tuple[tuple[Choice, ...], bool, SecretAsk | None]:
    """Print the replies; what the next line answers: the choices shown last, whether they
    are lettered, and the secret the last reply asks for (read without echo)."""
    for reply in replies:
        stdout.write(_printed(reply, files) + "\n")
    stdout.flush()
    with_choices = [r for r in replies if r.choices]
    shown = with_choices[-1].choices if with_choices else ()
    letters = bool(with_choices) and with_choices[-1].numeric_answer
    secret = replies[-1].secret if replies else None
    return shown, letters, secret


async def read_secret(stdin: IO[str], stdout: IO[str]) -> str | None:
    """The next line, typed without echo when `stdin` is a terminal (None: end of input).

    Echo is turned off on `stdin` itself, as getpass does on the terminal, because getpass
    reads /dev/tty rather than the stream given (a piped session's secret comes down the
    pipe, which echoes nothing). The terminal's settings come back even on Ctrl-C."""
    saved = None
    if stdin.isatty() and termios is not None:
        fd = stdin.fileno()
        saved = termios.tcgetattr(fd)
        quiet = termios.tcgetattr(fd)
        quiet[3] &= ~termios.ECHO
        termios.tcsetattr(fd, termios.TCSAFLUSH, quiet)
    elif stdin.isatty():
        return await asyncio.to_thread(getpass.getpass, "> ")
    try:
        if saved is not None:
            stdout.write("> ")
            stdout.flush()
        line = await read_line(stdin)
    finally:
        if saved is not None:
            termios.tcsetattr(stdin.fileno(), termios.TCSAFLUSH, saved)
            stdout.write("\n")  # the Enter typed was not echoed either
            stdout.flush()
    return line.rstrip("\r\n") if line else None


class ConsoleSender:
    """`bot.core.model.Sender` for the console: a message the bot starts is printed on `out`."""

    platform = "console"

    def __init__(self, out: IO[str]) -> None:
        self.out = out

    async def send(self, identity: IdentityKey, chat_id: str | None, reply: Outgoing) -> None:
        self.out.write(render(reply) + "\n")
        self.out.flush()


async def read_line(stdin: IO[str]) -> str:
    """The next line of `stdin`, read on a daemon thread: a blocked read never keeps the
    process from ending (asyncio's default executor would wait for it on Ctrl-C)."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[str] = loop.create_future()

    def settle(line: str | None, error: BaseException | None) -> None:
        if future.done():  # cancelled meanwhile (Ctrl-C)
            return
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(line or "")

    def read() -> None:
        line: str | None = None
        error: BaseException | None = None
        try:
            line = stdin.readline()
        except Exception as exc:  # a closed or broken stream: the reader sees the error
            error = exc
        with contextlib.suppress(RuntimeError):  # the loop has closed: nobody is waiting
            loop.call_soon_threadsafe(settle, line, error)

    threading.Thread(target=read, name="console-stdin", daemon=True).start()
    return await future
