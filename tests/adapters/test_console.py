"""The console bot and CLI end to end, through real subprocesses and a SQLite file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from adapters.console import render, to_event
from bot.core.model import Choice, IdentityKey, Kind, Outgoing


def cpdbot(
    *args: str, stdin: str = "", env_extra: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update({"TZ": "Europe/London", **(env_extra or {})})
    return subprocess.run(
        [sys.executable, "-m", "cpdbot.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=cwd,
    )


def test_choices_are_numbered_and_accept_number_or_label() -> None:
    shown = (Choice("cat:a", "Training courses"), Choice("cat:b", "Self-study"))
    assert render(Outgoing("Which category?", shown)) == (
        "Which category?\n  [1] Training courses\n  [2] Self-study"
    )
    me = IdentityKey("console", "x")
    assert to_event("2\n", me, shown, None).choice == "cat:b"
    assert to_event("training COURSES", me, shown, None).choice == "cat:a"
    assert to_event("3", me, shown, None).kind == Kind.TEXT  # not a shown number
    assert to_event("/log 1h x", me, shown, None).command == "log"


def test_hours_question_letters_its_picks_so_a_typed_number_is_hours(tmp_path: Path) -> None:
    # Issue 13: the picks were [1] 30 min … [6] 7 h, so typing 3 (3 hours) saved 1 h 30.
    url = f"sqlite:///{tmp_path / 'cpd.db'}"
    lines = ["/start", "1", "Europe/London"]
    for title, hours in (("webinar on arc-flash safety", "3"), ("site visit", "b")):
        lines += [f"/log {title} yesterday #training", hours, "Risk", "Better"]
    done = cpdbot(
        "chat", "--db", url, "--user", "dana", stdin="\n".join(lines) + "\n", cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "a bare number is hours up to 24, minutes above" in out
    assert "  [a] 30 min\n  [b] 1 h\n  [c] 1 h 30" in out
    assert "Saved #1: Webinar on arc-flash safety · yesterday · 3 h ·" in out
    assert "Saved #2: Site visit · yesterday · 1 h ·" in out
    me = IdentityKey("console", "x")
    shown = (Choice("min:30", "30 min"), Choice("min:60", "1 h"))
    assert to_event("b", me, shown, None, letters=True).choice == "min:60"
    assert to_event("2", me, shown, None, letters=True).kind == Kind.TEXT


def test_piped_session_logs_an_entry_and_exports_it(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cpd.db'}"
    script = (
        "\n".join(
            [
                "/start",
                "1",  # first scheme in the list (IES)
                "Europe/London",
                "/log 1.5h webinar on arc-flash safety yesterday #training",
                "Risk assessment for live work",
                "Better method statements for our clients",
                "/status",
            ]
        )
        + "\n"
    )
    done = cpdbot("chat", "--db", url, "--user", "dana", stdin=script, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "  [1] IES" in out
    assert "Saved #1: Webinar on arc-flash safety" in out
    assert "1 h 30 of 30 h" in out

    exported = cpdbot("export", "--user", "dana", "--db", url, "--format", "json", cwd=tmp_path)
    assert exported.returncode == 0, exported.stderr
    record = json.loads(exported.stdout)
    (entry,) = record["entries"]
    assert (entry["title"], entry["minutes"], entry["category"]) == (
        "Webinar on arc-flash safety",
        90,
        "formal_educational",
    )
    assert [r["answer"] for r in entry["reflections"]] == [
        "Risk assessment for live work",
        "Better method statements for our clients",
    ]

    out_file = tmp_path / "cpd.csv"
    as_csv = cpdbot(
        "export",
        "--user",
        "dana",
        "--db",
        url,
        "--format",
        "csv",
        "--out",
        str(out_file),
        cwd=tmp_path,
    )
    assert as_csv.returncode == 0, as_csv.stderr
    assert "Webinar on arc-flash safety" in out_file.read_text(encoding="utf-8-sig")


def test_export_of_unknown_user(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cpd.db'}"
    for kind in ("json", "pdf"):
        nobody = cpdbot("export", "--user", "nobody", "--db", url, "--format", kind, cwd=tmp_path)
        assert nobody.returncode == 1 and "No user 'nobody'" in nobody.stderr


def test_run_without_platforms_starts_the_console_bot(tmp_path: Path) -> None:
    done = cpdbot(
        "run",
        stdin="/help\n",
        cwd=tmp_path,
        env_extra={"DATABASE_URL": f"sqlite:///{tmp_path / 'run.db'}"},
    )
    assert done.returncode == 0, done.stderr
    assert "starting the console bot" in done.stderr
    assert "Which professional body" in done.stdout or "/log" in done.stdout
    assert (tmp_path / "run.db").exists()


def test_broken_user_scheme_gives_a_clear_error(tmp_path: Path) -> None:
    schemes = tmp_path / "schemes"
    schemes.mkdir()
    (schemes / "acme.toml").write_text('id = "acme"\nname = \n', encoding="utf-8")
    done = cpdbot(
        "chat",
        "--db",
        f"sqlite:///{tmp_path / 'x.db'}",
        stdin="",
        cwd=tmp_path,
        env_extra={"CPDBOT_SCHEMES_DIR": str(schemes)},
    )
    assert done.returncode == 2
    assert "acme.toml" in done.stderr and "not valid TOML" in done.stderr


@pytest.mark.parametrize("url", ["sqlite:///nested/dir/cpd.db"])
def test_db_upgrade_creates_the_file(tmp_path: Path, url: str) -> None:
    done = cpdbot("db", "upgrade", "--db", url, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "nested" / "dir" / "cpd.db").exists()
