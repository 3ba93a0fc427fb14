"""Start-up: how long `cpdbot --help` and the first reply of `cpdbot chat` take, and which
heavy libraries each loads.

    python bench/startup.py [--runs 7]

Every run is a fresh process. `--help` is timed from process start to exit; `chat` from
process start to the first line of output for the piped input "/help", on a SQLite file
made (and migrated) by one untimed run first. Prints the median and range of each, then
the heavy libraries each imports (read from `sys.modules` in a child process at exit).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# The libraries issue 11 names: none for --help, the second set not for a console turn.
HELP_FREE = (
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
)
CHAT_FREE = (
    "matplotlib",
    "fpdf",
    "icalendar",
    "apscheduler",
    "alembic",
    "telegram",
    "slack_bolt",
    "slack_sdk",
    "aiohttp",
)

# Runs cpdbot's CLI in this process and, at exit, writes which heavy libraries it loaded.
PROBE = """
import atexit, sys
names = sys.argv[1].split(",")
out = sys.argv[2]
def _write():
    with open(out, "w") as f:
        f.write(",".join(n for n in names if n in sys.modules))
atexit.register(_write)
from cpdbot.cli import main
try:
    code = main(sys.argv[3:])
except SystemExit as exc:
    code = exc.code
sys.exit(code)
"""


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


def _command(args: list[str]) -> list[str]:
    return [sys.executable, "-m", "cpdbot.cli", *args]


def time_help(cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run(_command(["--help"]), cwd=cwd, env=_env(), check=True, capture_output=True)
    return time.perf_counter() - start


def time_first_reply(cwd: Path, db_url: str) -> float:
    """Seconds from process start to the first line the console bot writes for "/help"."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        _command(["chat", "--db", db_url, "--user", "bench"]),
        cwd=cwd,
        env=_env(),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(b"/help\n")
    proc.stdin.close()
    first = proc.stdout.readline()
    elapsed = time.perf_counter() - start
    proc.stdout.read()
    if proc.wait() != 0 or not first:
        raise SystemExit(f"cpdbot chat failed (exit {proc.returncode})")
    return elapsed


def heavy_modules(cwd: Path, names: tuple[str, ...], args: list[str], stdin: bytes) -> list[str]:
    """The `names` that are in `sys.modules` when `cpdbot <args>` exits."""
    out = cwd / "modules.txt"
    subprocess.run(
        [sys.executable, "-c", PROBE, ",".join(names), str(out), *args],
        cwd=cwd,
        env=_env(),
        input=stdin,
        capture_output=True,
        check=True,
    )
    found = out.read_text(encoding="utf-8")
    return found.split(",") if found else []


def _figures(label: str, times: list[float]) -> str:
    ms = sorted(t * 1000 for t in times)
    return (
        f"{label:<28} median {statistics.median(ms):7.0f} ms"
        f"   (min {ms[0]:.0f}, max {ms[-1]:.0f}, {len(ms)} runs)"
    )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=7)
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        cwd = Path(tmp)
        db_url = f"sqlite:///{cwd / 'bench.db'}"
        time_first_reply(cwd, db_url)  # makes and migrates the database, untimed
        helps = [time_help(cwd) for _ in range(args.runs)]
        replies = [time_first_reply(cwd, db_url) for _ in range(args.runs)]
        chat_args = ["chat", "--db", db_url, "--user", "bench"]
        help_loaded = heavy_modules(cwd, HELP_FREE, ["--help"], b"")
        chat_loaded = heavy_modules(cwd, HELP_FREE, chat_args, b"/help\n")
    print(_figures("cpdbot --help", helps))
    print(_figures("cpdbot chat, first reply", replies))
    print(f"--help imports:          {', '.join(help_loaded) or 'none'} (of {len(HELP_FREE)})")
    banned = [name for name in chat_loaded if name in CHAT_FREE]
    print(f"console /help imports:   {', '.join(chat_loaded) or 'none'} (of {len(HELP_FREE)})")
    print(f"  of which it should not:  {', '.join(banned) or 'none'}")


if __name__ == "__main__":
    main()
