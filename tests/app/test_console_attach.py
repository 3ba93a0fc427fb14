"""Issue 16: the console's '/attach 12 PATH' reads the file (~ expanded, its size checked
before it is read, never a folder) and sends it as a file captioned '/attach 12'; the bot
files it and /evidence 12 writes it back. Run in-process on both databases, and once
through `cpdbot chat` itself."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

import pytest

from adapters.console import attach_event, chat
from bot.core.model import IdentityKey, Kind
from bot.services.engine import Engine
from tests.adapters.test_console import cpdbot
from tests.dialogue.test_evidence_flow import PNG

ME = IdentityKey("console", "dana")
SETUP = ["/start", "1", "Europe/London", "/log 2h Design review yesterday #training"]
SETUP += ["later", "later"]


def talk(engine: Engine, lines: list[str], files: Path) -> str:
    out = io.StringIO()
    stdin = io.StringIO("\n".join(lines) + "\n")
    asyncio.run(chat(engine.handle, "dana", stdin, out, echo=True, files=files))
    return out.getvalue()


def test_attach_path_files_it_and_evidence_writes_it_back(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / "board.png").write_bytes(PNG)
    back = tmp_path / "back"
    back.mkdir()
    out = talk(engine, [*SETUP, "/attach 1 ~/board.png", "/evidence 1"], back)
    assert "Filed with #1 'Design review' as E1 (board.png, PNG, " in out
    assert (back / "board.png").read_bytes() == PNG


def test_wrong_paths_are_said_and_nothing_is_sent(engine: Engine, tmp_path: Path) -> None:
    out = talk(
        engine, [*SETUP, f"/attach 1 {tmp_path}", f"/attach 1 {tmp_path / 'none.pdf'}"], tmp_path
    )
    assert "is a folder: give the path of one file" in out
    assert "I can't read" in out and "No such file" in out
    assert "No evidence kept yet" in talk(engine, ["/evidence"], tmp_path)


def test_a_file_over_the_limit_is_not_read(tmp_path: Path) -> None:
    big = tmp_path / "big.pdf"
    big.write_bytes(b"%PDF-1.7\n" + b"0" * 2000)
    event = attach_event(f"/attach 3 {big}", ME, None, max_bytes=1000)
    assert not isinstance(event, str) and event is not None
    assert event.kind == Kind.FILE and event.text == "/attach 3"
    assert event.file is not None and event.file.content == b"" and event.file.size == 2009
    assert attach_event("/attach 3 https://example.org/x", ME, None) is None  # a link
    assert attach_event("/attach three x.pdf", ME, None) is None


def test_through_cpdbot_chat(tmp_path: Path) -> None:
    (tmp_path / "cert.png").write_bytes(PNG)
    url = f"sqlite:///{tmp_path / 'cpd.db'}"
    lines = [*SETUP, "/attach 1 cert.png", "/evidence"]
    done = cpdbot(
        "chat", "--db", url, "--user", "dana", stdin="\n".join(lines) + "\n", cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    assert "as E1 (cert.png, PNG" in done.stdout
    assert "#1: E1 cert.png" in done.stdout
