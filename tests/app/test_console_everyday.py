"""Issue 13, end to end in the console: what members actually type is read as they mean it,
echoed before it is saved, and nothing they type is lost.

The console adapter (adapters.console.chat, the loop `cpdbot chat` runs) talks to the real
engine on a SQLite file, lines on stdin, replies on stdout, with a clock fixed at Friday
4 December 2026, noon in London, so "on Monday" is always Mon 30 Nov. Every assertion is on
what the member sees (the echo, the Saved line, /list rows, the exported file) and on what
was stored.
"""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from adapters import console
from bot.core import text as fmt
from bot.core.model import EntryView, IdentityKey
from bot.core.schemes import Scheme
from bot.services.engine import Engine
from storage.db import Database
from tests.adapters.test_console import cpdbot
from tests.conftest import Clock

FRIDAY = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)  # Fri 4 Dec 2026, noon in London
TODAY = FRIDAY.date()
ONBOARD = ["/start", "IET", "Europe/London"]
ME = IdentityKey("console", "dana")


@pytest.fixture
def engine(sqlite_db: Database, schemes: dict[str, Scheme]) -> Engine:
    return Engine(sqlite_db, schemes, Clock(FRIDAY))


def talk(engine: Engine, lines: list[str], files: Path | None = None) -> list[tuple[str, str]]:
    """Onboard an IET member, type `lines`, and return (typed line, what the bot printed)."""
    stdin = io.StringIO("".join(f"{line}\n" for line in [*ONBOARD, *lines]))
    out = io.StringIO()
    asyncio.run(console.chat(engine.handle, ME.user_id, stdin, out, echo=True, files=files))
    turns: list[tuple[str, list[str]]] = []
    for printed in out.getvalue().splitlines():
        if printed.startswith("> "):
            turns.append((printed[2:], []))
        elif turns:
            turns[-1][1].append(printed)
    return [(typed, "\n".join(said)) for typed, said in turns[len(ONBOARD) :]]


def reply_to(turns: list[tuple[str, str]], typed: str, occurrence: int = 0) -> str:
    """What the bot printed after the `occurrence`-th time `typed` was typed."""
    said = [reply for line, reply in turns if line == typed]
    assert len(said) > occurrence, (typed, turns)
    return said[occurrence]


def everything(turns: list[tuple[str, str]]) -> str:
    return "\n".join(f"> {typed}\n{reply}" for typed, reply in turns)


def entries(engine: Engine, year: int | None = None) -> tuple[EntryView, ...]:
    record = engine.record(ME, year)
    assert record is not None
    return record.entries


def day_minutes(schemes: dict[str, Scheme]) -> int:
    return round(schemes["iet"].day_hours * 60)


def test_a_bare_3_at_the_hours_question_is_echoed_as_3_h_and_saved_as_3_h(
    engine: Engine,
) -> None:
    turns = talk(engine, ["/log webinar on grid protection yesterday", "3", "later"])
    asked = reply_to(turns, "/log webinar on grid protection yesterday")
    assert "How long did it take?" in asked and "  [a] 30 min" in asked, asked
    echoed = reply_to(turns, "3")
    assert echoed.startswith(
        "Got it: 'Webinar on grid protection' · yesterday · 3 h · Events and seminars"
    ), everything(turns)
    assert "Saved" not in echoed  # echoed before it is saved: a reflection is asked next
    saved = reply_to(turns, "later")
    assert "Saved #1: Webinar on grid protection · yesterday · 3 h · Events and seminars" in saved
    (entry,) = entries(engine)
    assert entry.minutes == 180


def test_spent_2h_on_monday_is_read_out_of_the_title(engine: Engine) -> None:
    line = "/log spent 2h on Monday reviewing a colleague's design"
    turns = talk(engine, [line, "Work experience", "later"])
    assert reply_to(turns, line).startswith(
        "Got it: 'Reviewing a colleague's design' · Mon 30 Nov · 2 h"
    ), everything(turns)
    assert "Which category?" in reply_to(turns, line)
    assert (
        "Saved #1: Reviewing a colleague's design · Mon 30 Nov · 2 h · Work experience"
        in reply_to(turns, "later")
    ), everything(turns)
    (entry,) = entries(engine)
    assert (entry.title, entry.activity_date, entry.minutes) == (
        "Reviewing a colleague's design",
        date(2026, 11, 30),
        120,
    )


def test_on_the_2nd_is_the_date_and_leaves_the_title(engine: Engine) -> None:
    line = "/log team meeting on the 2nd 1h"
    turns = talk(engine, [line, "Work experience", "later"])
    assert reply_to(turns, line).startswith("Got it: 'Team meeting' · Wed 2 Dec · 1 h"), everything(
        turns
    )
    assert "Saved #1: Team meeting · Wed 2 Dec · 1 h · Work experience" in reply_to(turns, "later")
    (entry,) = entries(engine)
    assert (entry.title, entry.activity_date) == ("Team meeting", date(2026, 12, 2))


def test_a_full_day_is_the_schemes_day(engine: Engine, schemes: dict[str, Scheme]) -> None:
    day = day_minutes(schemes)  # 7 h unless IET's scheme file says otherwise
    line = "/log full day workshop on substation design yesterday"
    turns = talk(engine, [line, "later"])
    assert reply_to(turns, line).startswith(
        f"Got it: 'Workshop on substation design' · yesterday · {fmt.hours(day)} · "
        "Events and seminars"
    ), everything(turns)
    (entry,) = entries(engine)
    assert (entry.title, entry.minutes) == ("Workshop on substation design", day)


def test_1_to_2pm_is_one_hour(engine: Engine) -> None:
    line = "/log 1-2pm webinar on battery storage yesterday"
    turns = talk(engine, [line, "later"])
    assert reply_to(turns, line).startswith(
        "Got it: 'Webinar on battery storage' · yesterday · 1 h · Events and seminars"
    ), everything(turns)
    assert "Saved #1: Webinar on battery storage · yesterday · 1 h" in reply_to(turns, "later")
    (entry,) = entries(engine)
    assert (entry.title, entry.minutes) == ("Webinar on battery storage", 60)


def test_a_two_day_conference_is_one_entry_with_a_range(engine: Engine, tmp_path: Path) -> None:
    line = "/log conference 14-15 Nov 7h"
    turns = talk(engine, [line, "later", "/list", "/export csv"], files=tmp_path)
    assert reply_to(turns, line).startswith(
        "Got it: 'Conference' · Sat 14 – Sun 15 Nov · 7 h · Events and seminars"
    ), everything(turns)
    assert "Saved #1: Conference · Sat 14 – Sun 15 Nov · 7 h" in reply_to(turns, "later")
    assert "#1 · Sat 14 – Sun 15 Nov · 7 h · Events and seminars · Conference" in reply_to(
        turns, "/list"
    ), everything(turns)
    (entry,) = entries(engine)
    assert (entry.activity_date, entry.end_date, entry.minutes) == (
        date(2026, 11, 14),
        date(2026, 11, 15),
        420,
    )
    (exported,) = tmp_path.glob("*.csv")
    header, *rows = list(csv.reader(io.StringIO(exported.read_text(encoding="utf-8-sig"))))
    (row,) = [r for r in rows if r and r[0] == "1"]  # one entry (then the totals)
    assert (row[header.index("date")], row[header.index("end_date")]) == (
        "2026-11-14",
        "2026-11-15",
    ), (header, row)


def test_a_new_log_line_mid_dialogue_parks_the_first_and_offers_it_back(engine: Engine) -> None:
    first = "/log webinar on cable sizing yesterday"  # no hours: the bot asks for them
    second = "/log 1h site visit to a substation yesterday"
    turns = talk(engine, [first, second, "Work experience", "later", "1", "2", "later", "/list"])
    parked = reply_to(turns, second)
    assert "We're in the middle" not in parked, everything(turns)
    assert "I've put 'Webinar on cable sizing' aside" in parked, everything(turns)
    assert "Got it: 'Site visit to a substation' · yesterday · 1 h" in parked
    after_save = reply_to(turns, "later")
    assert "Saved #1: Site visit to a substation" in after_save
    offer = after_save[after_save.index("You also have") :]
    assert offer.startswith("You also have 'Webinar on cable sizing'"), everything(turns)
    assert "unfinished" in offer and "[1] Continue" in offer, everything(turns)
    assert "How long did it take?" in reply_to(turns, "1"), everything(turns)  # [1] Continue
    assert reply_to(turns, "2").startswith(
        "Got it: 'Webinar on cable sizing' · yesterday · 2 h · Events and seminars"
    ), everything(turns)
    assert "Saved #2: Webinar on cable sizing · yesterday · 2 h" in reply_to(turns, "later", 1)
    listed = reply_to(turns, "/list")
    assert "Site visit to a substation" in listed and "Webinar on cable sizing" in listed
    assert sorted(e.title for e in entries(engine)) == [
        "Site visit to a substation",
        "Webinar on cable sizing",
    ]


def test_a_mistyped_command_gets_did_you_mean(engine: Engine) -> None:
    turns = talk(engine, ["/stauts", "1"])
    assert "Did you mean /status?" in reply_to(turns, "/stauts"), everything(turns)
    assert reply_to(turns, "1").startswith("CPD year 2026 (IET"), everything(turns)


def test_a_plural_category_hint_is_understood(engine: Engine) -> None:
    line = "/log 1h talk on earthing systems yesterday #webinars"
    turns = talk(engine, [line, "later"])
    said = reply_to(turns, line)
    assert "I don't know the category" not in said, everything(turns)
    assert said.startswith(
        "Got it: 'Talk on earthing systems' · yesterday · 1 h · Events and seminars"
    ), everything(turns)
    assert "Saved #1: Talk on earthing systems · yesterday · 1 h · Events and seminars" in (
        reply_to(turns, "later")
    )


@pytest.mark.parametrize(
    ("typed", "meant"), [("25/12", date(2025, 12, 25)), ("29/2", date(2024, 2, 29))]
)
def test_a_date_in_an_earlier_cpd_year_is_asked_about_and_kept_there_if_meant(
    engine: Engine, typed: str, meant: date
) -> None:
    shown, year = fmt.day(meant, TODAY), meant.year  # 'Thu 25 Dec 2025', 'Thu 29 Feb 2024'
    line = f"/log 1h seminar on lightning protection {typed}"
    turns = talk(engine, [line, "1", "later"])  # [1] Yes, log it in that year
    asked = reply_to(turns, line)
    assert f"'{typed}' is {shown}, in your {year} CPD year, not 2026" in asked, everything(turns)
    assert "Saved" not in asked
    assert f"Saved #1: Seminar on lightning protection · {shown} · 1 h" in reply_to(
        turns, "later"
    ), everything(turns)
    assert entries(engine) == ()  # not in this year's record
    (entry,) = entries(engine, year)
    assert entry.activity_date.year == year


def test_a_date_in_an_earlier_cpd_year_can_be_changed_instead(engine: Engine) -> None:
    line = "/log 1h seminar on lightning protection 25/12"
    turns = talk(engine, [line, "2", "yesterday", "later"])  # [2] No, another date
    assert "When was it?" in reply_to(turns, "2"), everything(turns)
    assert "Saved #1: Seminar on lightning protection · yesterday · 1 h" in reply_to(
        turns, "later"
    ), everything(turns)
    (entry,) = entries(engine)
    assert entry.activity_date == date(2026, 12, 3)


def test_cpdbot_chat_echoes_a_typed_3_as_3_h_before_saving(tmp_path: Path) -> None:
    # The same through the real `cpdbot chat` process (the wall clock: "today" is today).
    url = f"sqlite:///{tmp_path / 'cpd.db'}"
    script = [*ONBOARD, "/log webinar on grid protection today", "3", "later"]
    done = cpdbot("chat", "--db", url, "--user", "dana", stdin="\n".join(script) + "\n")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    echo = "Got it: 'Webinar on grid protection' · today · 3 h · Events and seminars"
    assert echo in out, out
    assert out.index(echo) < out.index("Saved #1: Webinar on grid protection · today · 3 h"), out
