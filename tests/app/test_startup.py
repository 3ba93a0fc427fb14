"""Start-up loads only what the answer needs (bench/startup.py measures the time it takes).

Each check runs cpdbot's CLI in a fresh Python and reads `sys.modules` when it is done.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from storage import migrate
from tests.conftest import new_sqlite

ROOT = Path(__file__).resolve().parents[2]

# `cpdbot --help` parses the command line and nothing more.
NOT_FOR_HELP = {
    "jwt",
    "cryptography",
    "microsoft_agents",
    "azure",
    "sqlalchemy",
    "sqlmodel",
    "dateparser",
    "httpx",
    "icalendar",
    "alembic",
    "matplotlib",
    "fpdf",
    "telegram",
    "slack_bolt",
    "slack_sdk",
    "apscheduler",
    "aiohttp",
}
# A console turn that makes no file and reads no calendar: no documents, calendars,
# scheduler, migrations or platforms.
NOT_FOR_A_CONSOLE_TURN = {
    "jwt",
    "microsoft_agents",
    "azure",
    "matplotlib",
    "fpdf",
    "icalendar",
    "recurring_ical_events",
    "apscheduler",
    "alembic",
    "telegram",
    "slack_bolt",
    "slack_sdk",
    "aiohttp",
}

CHILD = """
import json, sys
from cpdbot.cli import main
try:
    code = main(sys.argv[2:])
except SystemExit as exc:
    code = exc.code
with open(sys.argv[1], "w") as out:
    json.dump(sorted({name.split(".")[0] for name in sys.modules}), out)
sys.exit(code)
"""


def loaded_by(tmp_path: Path, *args: str, stdin: str = "") -> tuple[set[str], str]:
    """The top-level packages `cpdbot <args>` has imported when it is done, and its output."""
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update({"TZ": "Europe/London", "PYTHONPATH": str(ROOT)})
    modules = tmp_path / "modules.json"
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(modules), *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    return set(json.loads(modules.read_text(encoding="utf-8"))), done.stdout


def test_help_imports_no_heavy_library(tmp_path: Path) -> None:
    loaded, out = loaded_by(tmp_path, "--help")
    assert "usage: cpdbot" in out
    assert loaded & NOT_FOR_HELP == set()


def test_a_console_turn_imports_no_document_calendar_scheduler_or_platform_library(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'cpd.db'}"
    new_sqlite(tmp_path / "cpd.db").dispose()  # an existing, current database
    turns = "/help\n/start\nIET\nEurope/London\n/help\n/status\n"
    loaded, out = loaded_by(tmp_path, "chat", "--db", url, "--user", "u", stdin=turns)
    assert "All set: IET" in out and "/log" in out
    assert loaded & NOT_FOR_A_CONSOLE_TURN == set()
    made = {p.name for p in tmp_path.iterdir() if not p.name.startswith("cpd.db")}
    assert made == {"modules.json"}  # the turns made no file


def test_the_newest_revision_read_without_alembic_is_alembics_head() -> None:
    assert migrate.newest_revision() == migrate.head()
