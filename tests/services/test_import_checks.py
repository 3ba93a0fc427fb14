"""`cpdbot import` trusts nothing (issue 12, item 6).

Every row is checked with the dialogue's rules; each bad row is named (file, row, what is
wrong); a file with a bad row imports nothing unless `--skip-bad` is given; hostile files
(deep nesting, inf/NaN, huge fields, non-UTF-8) get one clear line, never a traceback;
concurrent imports of one file never crash and add each entry once.
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.core import entry_rules
from bot.core.model import IdentityKey
from bot.core.schemes import Scheme
from bot.dialogue import common
from bot.services import records
from bot.services.engine import Engine
from cpdbot.cli import main
from storage.db import Database
from tests.conftest import Clock

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
KEY = IdentityKey("console", "sam")


def good(n: int = 1, **changes: Any) -> dict[str, Any]:
    e: dict[str, Any] = {
        "number": n,
        "title": f"Site visit {n}",
        "activity_date": "2026-02-03",
        "minutes": 90,
        "category": "work_experience",
        "structured": None,
        "source": "chat",
        "reflections": [{"question_id": "key_points", "question": "Key points?", "answer": "A"}],
    }
    e.update(changes)
    return e


def payload(*entries: dict[str, Any]) -> bytes:
    return json.dumps(
        {
            "format": "cpdbot-record",
            "version": 1,
            "person": {"scheme": "iet", "timezone": "Europe/London"},
            "entries": list(entries),
        }
    ).encode()


def titles(db: Database, schemes: dict[str, Scheme]) -> list[str]:
    record = Engine(db, schemes, Clock(NOW)).record(KEY, 2026)
    if record is None:
        return []
    return sorted(e.title for e in record.entries)


def run_import(db: Database, path: Path, *extra: str) -> int:
    return main(["import", "--db", db.url, "--user", "sam", *extra, str(path)])


def two(question_id: str = "key_points") -> list[dict[str, Any]]:
    return [
        {"question_id": question_id, "question": "Q?", "answer": "a"},
        {"question_id": question_id, "question": "Q?", "answer": "b"},
    ]


BAD_JSON = [
    (good(2, minutes=-30), "minutes must be a whole number from 1 to 1440, not -30"),
    (good(3, minutes=0), "minutes must be a whole number from 1 to 1440, not 0"),
    (good(4, minutes=1.5), "minutes must be a whole number from 1 to 1440, not 1.5"),
    (good(5, minutes=True), "minutes must be a whole number from 1 to 1440, not true"),
    (good(6, minutes=10**9), "minutes must be a whole number from 1 to 1440"),
    (good(7, minutes="90"), "minutes must be a whole number from 1 to 1440, not '90'"),
    (good(8, activity_date="2099-01-01"), "activity_date 2099-01-01 is in the future"),
    (good(9, activity_date="0001-01-01"), "activity_date 0001-01-01 is before 1950"),
    (good(10, activity_date="yesterday"), "activity_date must be a date like 2026-02-03"),
    (good(11, category="partying"), "category 'partying' is not one of the IET scheme's"),
    (good(12, title="x" * 5000), "title is 5,000 characters; the limit is 200"),
    (good(13, title="   "), "title is empty"),
    (good(14, title=["a"]), "title must be text"),
    (good(15, structured="yes"), "structured must be true, false or null, not 'yes'"),
    (good(16, reflections=two()), "question key_points is answered twice"),
    (
        good(17, reflections=[{"question_id": "key_points", "answer": "a" * 3001}]),
        "the answer to key_points is 3,001 characters; the limit is 3,000",
    ),
    (good(18, deleted="no"), "deleted must be true or false"),
    (good(19, number=-1), "number must be a whole number from 1"),
    (good(20, reflections="none"), "reflections must be a list"),
    (good(21, source="x" * 40), "source is 40 characters; the limit is 16"),
]


def test_the_limits_are_the_dialogues() -> None:
    assert entry_rules.TITLE_MAX == common.TITLE_MAX
    assert entry_rules.REFLECTION_MAX == common.REFLECTION_MAX
    assert entry_rules.MAX_DAY_MINUTES == common.MAX_DAY_MINUTES


def test_a_json_file_with_bad_rows_imports_nothing_and_names_each_row(
    db: Database, schemes: dict[str, Scheme], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "cpd.json"
    path.write_bytes(payload(good(1), *(e for e, _ in BAD_JSON)))
    assert run_import(db, path) == 1
    err = capsys.readouterr().err
    for (bad, message), number in zip(BAD_JSON, range(2, 99), strict=False):
        assert f"{path}: entry {number}: {message}" in err, (bad, err)
    assert f"Nothing was imported: {len(BAD_JSON)} bad entries" in err
    assert "--skip-bad" in err and "Traceback" not in err
    assert titles(db, schemes) == []
    # Asked to skip them, the good entry goes in and each bad one is named as skipped.
    assert run_import(db, path, "--skip-bad") == 0
    out = capsys.readouterr()
    assert "Imported 1 entry for sam; skipped 0 already recorded" in out.out
    assert f"Skipped {len(BAD_JSON)} bad entries" in out.err
    assert f"{path}: entry 12: title is 5,000 characters" in out.err
    assert titles(db, schemes) == ["Site visit 1"]


def test_deleted_entries_are_not_imported_as_live(
    db: Database, schemes: dict[str, Scheme], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "cpd.json"
    path.write_bytes(payload(good(1), good(2, deleted=True), good(3, deleted=False)))
    assert run_import(db, path) == 0
    assert "Imported 2 entries" in capsys.readouterr().out
    assert titles(db, schemes) == ["Site visit 1", "Site visit 3"]


CSV_HEAD = (
    "number,date,title,hours,category,structured,source,What were the key points? [key_points]\r\n"
)
BAD_CSV = [
    ("2,2026-02-03,Walk,-1,Work experience,,chat,a", "hours must be a number like 1.5, not '-1'"),
    ("3,2026-02-03,Walk,inf,Work experience,,chat,a", "hours must be a number like 1.5, not 'inf'"),
    ("4,2026-02-03,Walk,nan,Work experience,,chat,a", "hours must be a number like 1.5, not 'nan'"),
    ("5,2026-02-03,Walk,1e9,Work experience,,chat,a", "hours must be a number like 1.5, not '1e9'"),
    ("6,2026-02-03,Walk,0,Work experience,,chat,a", "hours must be more than 0 and at most 24"),
    ("7,2026-02-03,Walk,25,Work experience,,chat,a", "at most 24, not '25'"),
    ("8,2026-02-03,Walk,0.01,Work experience,,chat,a", "hours 0.01 is not a whole number"),
    ("9,2099-02-03,Walk,1,Work experience,,chat,a", "activity_date 2099-02-03 is in the future"),
    ("10,2026-02-03,Walk,1,Partying,,chat,a", "category 'Partying' is not one of"),
    ("11,2026-02-03,Walk,1,Work experience,maybe,chat,a", "structured must be 'structured'"),
    ("12,2026-02-03,Walk,1", "the row has 4 cells; expected 8"),
]


def test_a_csv_file_with_bad_rows_imports_nothing_and_names_each_line(
    db: Database, schemes: dict[str, Scheme], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "cpd.csv"
    rows = ["1,2026-02-03,Walk,1.5,Work experience,structured,chat,a", *(r for r, _ in BAD_CSV)]
    path.write_text(CSV_HEAD + "\r\n".join(rows) + "\r\n", encoding="utf-8")
    assert main(["import", "--db", db.url, "--user", "sam", "--scheme", "iet", str(path)]) == 1
    err = capsys.readouterr().err
    for line, (_, message) in enumerate(BAD_CSV, 3):
        assert f"{path}: line {line}: " in err and message in err, (line, message, err)
    assert titles(db, schemes) == []
    assert run_import(db, path, "--scheme", "iet", "--skip-bad") == 0
    assert titles(db, schemes) == ["Walk"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'{"format": "cpdbot-record", "entries": ' + b"[" * 100_000, "nested too deeply"),
        (
            json.dumps(
                {"format": "cpdbot-record", "entries": [good(1, minutes=float("inf"))]}
            ).encode(),
            "Infinity is not a number",
        ),
        (payload(good(1)).replace(b'"minutes": 90', b'"minutes": NaN'), "NaN is not a number"),
        (payload(good(1)).replace(b'"minutes": 90', b'"minutes": ' + b"9" * 5000), "too long"),
        (
            CSV_HEAD.encode() + b'1,2026-02-03,"' + b"x" * 300_000 + b'",1,Work experience,,,a\r\n',
            "line 2: a cell is longer than",
        ),
        (
            CSV_HEAD.encode()
            + "1,2026-02-03,Caf\u00e9,1,Work experience,,,a\r\n".encode("latin-1"),
            "not UTF-8 text",
        ),
        (b"\xff\xfe{\x00", "not UTF-8 text"),
        (b'{"format": "cpdbot-record", "entries": {"a": 1}}', "entries must be a list"),
        (b'{"format": "cpdbot-record", "entries": [1, 2]}', "entry 1: must be an object"),
    ],
)
def test_hostile_files_get_one_clear_line_not_a_traceback(
    content: bytes,
    message: str,
    db: Database,
    schemes: dict[str, Scheme],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = tmp_path / "hostile.json"
    path.write_bytes(content)
    assert run_import(db, path, "--scheme", "iet") == 1
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err, err
    assert len(err) < 2_000  # the field is not echoed back
    assert titles(db, schemes) == []


def test_concurrent_imports_of_one_file_add_each_entry_once(
    db: Database, schemes: dict[str, Scheme]
) -> None:
    data = payload(*(good(n) for n in range(1, 21)))
    start = threading.Barrier(4)
    results: list[tuple[int, int]] = []
    errors: list[BaseException] = []

    def one() -> None:
        start.wait()
        try:
            results.append(records.import_file(db, KEY, data, schemes, now=NOW))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=one) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(results) == [(0, 20), (0, 20), (0, 20), (20, 0)]
    assert titles(db, schemes) == sorted(f"Site visit {n}" for n in range(1, 21))
