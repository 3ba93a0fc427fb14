"""Issue 13: console exports land as files, `cpdbot export --format all`, /forget in the
console needs the typed word, and `cpdbot run` ends cleanly when input ends or on Ctrl-C."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

from adapters.console import render, save_file, to_event
from bot.core.model import Attachment, Choice, IdentityKey, Kind, Outgoing
from bot.services.outbound.scheduler import stoppable
from tests.adapters.test_console import cpdbot

START = "/start\n1\nEurope/London\n/log 1h webinar on risk yesterday #training\nSkip\nSkip\n"


def test_console_export_writes_the_file_and_prints_its_path(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cpd.db'}"
    work = tmp_path / "work"
    work.mkdir()
    script = START + "/export pdf\n/export pdf\n/export csv\n/export all\n"
    done = cpdbot("chat", "--db", url, "--user", "dana", stdin=script, cwd=work)
    assert done.returncode == 0, done.stderr
    pdfs = sorted(p.name for p in work.glob("*.pdf"))
    assert len(pdfs) == 2, (pdfs, done.stdout)  # the second did not overwrite the first
    first, second = sorted(work.glob("*.pdf"), key=lambda p: len(p.name))
    assert second.stem == first.stem + "-1"
    assert first.read_bytes().startswith(b"%PDF") and second.read_bytes().startswith(b"%PDF")
    assert f"(saved: {first.resolve()})" in done.stdout
    assert f"(saved: {second.resolve()})" in done.stdout
    (csv,) = work.glob("*.csv")
    assert "webinar on risk" in csv.read_text().lower()
    (everything,) = work.glob("*.zip")
    assert zipfile.is_zipfile(everything) and f"(saved: {everything.resolve()})" in done.stdout
    assert "(file:" not in done.stdout


def test_console_files_option_chooses_the_directory(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cpd.db'}"
    out = tmp_path / "exports"
    script = START + "/export json\n"
    done = cpdbot(
        "chat", "--db", url, "--user", "d", "--files", str(out), stdin=script, cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    (saved,) = out.glob("*.json")
    assert f"(saved: {saved.resolve()})" in done.stdout


def test_save_file_never_overwrites(tmp_path: Path) -> None:
    a = Attachment("cpd-2026.pdf", b"one", "application/pdf")
    (tmp_path / "cpd-2026.pdf").write_bytes(b"mine")
    (tmp_path / "cpd-2026-1.pdf").write_bytes(b"mine too")
    path = save_file(a, tmp_path)
    assert path.name == "cpd-2026-2.pdf" and path.read_bytes() == b"one"
    assert (tmp_path / "cpd-2026.pdf").read_bytes() == b"mine"
    assert render(Outgoing("Here", attachment=a), path).endswith(f"(saved: {path})")


def test_cli_export_all_writes_the_zip_of_everything(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cpd.db'}"
    done = cpdbot("chat", "--db", url, "--user", "dana", stdin=START, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    target = tmp_path / "all.zip"
    args = ("export", "--user", "dana", "--db", url, "--format", "all", "--out", str(target))
    exported = cpdbot(*args, cwd=tmp_path)
    assert exported.returncode == 0, exported.stderr
    with zipfile.ZipFile(target) as z:
        names = set(z.namelist())
        assert {"data.json", "record.json", "record.csv"} <= names
        assert b"webinar on risk" in z.read("record.csv").lower()
    unknown = cpdbot("export", "--user", "nobody", "--db", url, "--format", "all", cwd=tmp_path)
    assert unknown.returncode == 1 and "No user 'nobody'" in unknown.stderr
    with_year = cpdbot(*args, "--year", "2025", cwd=tmp_path)
    assert with_year.returncode == 2 and "--year does not apply" in with_year.stderr


def test_console_forget_is_not_a_numbered_button() -> None:
    prompt = Outgoing(
        "Type FORGET or press Erase everything to go ahead; Keep changes nothing.",
        (Choice("forget:yes", "Erase everything"), Choice("forget:no", "Keep")),
    )
    assert render(prompt).splitlines()[1:] == ["  [1] Keep"]
    me = IdentityKey("console", "x")
    assert to_event("1", me, prompt.choices, None).choice == "forget:no"
    assert to_event("Erase everything", me, prompt.choices, None).kind == Kind.TEXT


def test_console_forget_needs_the_typed_word(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cpd.db'}"
    script = START + "/forget\n1\n/forget\nErase everything\nFORGET\n/status\n"
    done = cpdbot("chat", "--db", url, "--user", "dana", stdin=script, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "Kept. Nothing was erased." in done.stdout
    assert "To erase everything, type FORGET" in done.stdout
    assert done.stdout.count("Erased:") == 1


def test_a_job_cancelled_at_shutdown_ends_quietly() -> None:
    started = asyncio.Event()

    async def planning() -> None:
        started.set()
        await asyncio.sleep(60)

    async def main() -> None:
        task = asyncio.create_task(stoppable(planning)())
        await started.wait()
        task.cancel()
        await task  # no CancelledError for APScheduler to log as a failed job

    asyncio.run(main())


def test_run_ends_without_a_traceback_when_input_ends(tmp_path: Path) -> None:
    for i in range(3):  # planning is often still running when input ends
        url = f"sqlite:///{tmp_path / f'cpd{i}.db'}"
        done = cpdbot("run", "--db", url, stdin="/start\nIET\nEurope/London\n", cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        assert "Traceback" not in done.stderr and "CancelledError" not in done.stderr


def test_ctrl_c_quits_chat_at_once(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    for command in ("chat",):
        url = f"sqlite:///{tmp_path / f'{command}.db'}"
        proc = subprocess.Popen(
            [sys.executable, "-m", "cpdbot.cli", command, "--db", url],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            cwd=tmp_path,
        )
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write("/start\n")
        proc.stdin.flush()
        proc.stdout.readline()  # the bot has answered: it is up and waiting for input
        time.sleep(0.5)
        proc.send_signal(signal.SIGINT)
        # Input stays open until it has quit: it is Ctrl-C that ends it, not end of input.
        proc.wait(timeout=15)
        assert proc.stderr is not None
        err = proc.stderr.read()
        proc.stdin.close()
        proc.stdout.close()
        proc.stderr.close()
        assert proc.returncode == 130, err
        assert "Traceback" not in err, err


def test_render_without_a_directory_still_names_the_file() -> None:
    a = Attachment("cpd-2026.md", b"x", "text/markdown")
    assert render(Outgoing("Here", attachment=a)) == "Here\n  (file: cpd-2026.md)"
