"""Issue 12 item 8: inputs and conditions that crashed get a clear answer instead.

/export of a year out of range, `cpdbot export --year` out of range, a full disk during a
turn, a missing webhook secret at start, and two workers creating the schema at once.
(The Telegram and Slack request edges are in test_telegram_edges.py / test_slack_edges.py.)
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import event

from bot.core.schemes import Scheme
from cpdbot.cli import main
from storage import migrate
from storage.db import Database
from tests.conftest import Chat
from tests.storage.test_migrations import cpdbot, differences, empty_db  # noqa: F401  (fixture)

# ---------------------------------------------------------------- /export YEAR


@pytest.mark.parametrize("args", ["9999", "pdf 9999", "json 9999", "md 1000", "0001", "2099"])
def test_export_of_a_year_out_of_range_names_the_valid_range(chat: Chat, args: str) -> None:
    chat.say("/export " + args)
    assert "from 1950 to 2026" in chat.text, chat.text
    assert all(r.attachment is None and r.file is None for r in chat.replies)
    chat.say("/export 2026")  # the dialogue is where it was: the next export works
    assert chat.text.startswith("Your CPD record for 2026")


def test_export_of_a_past_year_in_range_still_works(chat: Chat) -> None:
    chat.say("/export 1950")
    assert chat.text.startswith("Your CPD record for 1950: 0 entries")


# ---------------------------------------------------------------- cpdbot export --year


@pytest.mark.parametrize("year", ["0", "9999", "-5", "1949"])
def test_cli_export_of_a_year_out_of_range_is_one_clear_line(
    chat: Chat,
    db: Database,
    schemes: dict[str, Scheme],
    year: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # The CLI reads the wall clock: the current CPD year is today's.
    latest = schemes["iet"].year_bounds(datetime.now(UTC).date())[0].year
    args = ["export", "--db", db.url, "--user", "alice", "--format", "csv", "--year", year]
    assert main(args) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert f"--year {year}" in err and f"from 1950 to {latest}" in err


# ---------------------------------------------------------------- a full disk


@contextmanager
def disk_full(db: Database) -> Iterator[None]:
    """Writes that need more room fail as the database does when its disk is full:
    SQLite's "database or disk is full" (a page limit on every connection), PostgreSQL's
    disk_full (53100, raised by a trigger as the server raises it)."""
    if db.is_sqlite:
        with db.engine.connect() as conn:
            pages = conn.exec_driver_sql("PRAGMA page_count").scalar()

        def limit(dbapi_conn: object, _record: object) -> None:
            dbapi_conn.execute(f"PRAGMA max_page_count={pages}")  # type: ignore[attr-defined]

        db.engine.dispose()
        event.listen(db.engine, "connect", limit)
        try:
            yield
        finally:
            event.remove(db.engine, "connect", limit)
            db.engine.dispose()
        return
    with db.engine.begin() as conn:
        conn.exec_driver_sql(
            "CREATE FUNCTION edges_full() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION "
            "'could not extend file: No space left on device' USING ERRCODE = 'disk_full'; "
            "END $$ LANGUAGE plpgsql"
        )
        conn.exec_driver_sql(
            "CREATE TRIGGER edges_full BEFORE INSERT ON reflection "
            "FOR EACH ROW EXECUTE FUNCTION edges_full()"
        )
    try:
        yield
    finally:
        with db.engine.begin() as conn:
            conn.exec_driver_sql("DROP TRIGGER edges_full ON reflection")
            conn.exec_driver_sql("DROP FUNCTION edges_full()")


def test_a_full_disk_keeps_the_reflection_and_the_dialogue_where_it_was(
    chat: Chat, db: Database
) -> None:
    chat.say("/log 1h webinar on arc-flash safety yesterday")
    assert "Got it: 'Webinar on arc-flash safety' · yesterday · 1 h · Events and seminars" in (
        chat.text
    )
    assert "Reflection 1/2" in chat.text
    first = "Arc-flash boundaries and PPE categories. " * 70  # long: it needs new pages
    second = "I will check panel labels before isolating. " * 64
    chat.say(first)
    assert "Reflection 2/2" in chat.text
    with disk_full(db):
        chat.say(second)  # no exception reaches the person
        assert "disk is full" in chat.text and "nothing was saved" in chat.text, chat.text
        assert second.strip()[:200] in chat.text  # what they typed, to send again
        assert chat.engine.record(chat.identity).entries == ()  # type: ignore[union-attr]
    chat.say(second)  # room again: the same answer, re-sent, completes the entry
    assert "Saved #1" in chat.text
    (entry,) = chat.engine.record(chat.identity).entries  # type: ignore[union-attr]
    assert [r.answer for r in entry.reflections] == [first.strip(), second.strip()]


# ---------------------------------------------------------------- a missing webhook secret


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"TELEGRAM_WEBHOOK_URL": "https://bot.example/tg"}, "TELEGRAM_WEBHOOK_SECRET"),
        (
            {"TELEGRAM_WEBHOOK_URL": "https://bot.example/tg", "TELEGRAM_WEBHOOK_SECRET": "a b"},
            "TELEGRAM_WEBHOOK_SECRET",
        ),
        ({"SLACK_BOT_TOKEN": "xoxb-test"}, "SLACK_SIGNING_SECRET"),  # HTTP mode, no secret
    ],
)
def test_a_missing_webhook_secret_stops_the_start_with_one_line(
    tmp_path: Path, env: dict[str, str], named: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TELEGRAM_WEBHOOK_SECRET", raising=False)
    for name in ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123456789:AAtest")
    monkeypatch.setenv("TELEGRAM_BASE_URL", "http://127.0.0.1:9/bot")  # never reached
    monkeypatch.setenv("SCHEDULER_ENABLED", "false")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    started = cpdbot("run", "--db", f"sqlite:///{tmp_path / 'run.db'}", cwd=tmp_path)
    assert started.returncode == 2
    assert "Traceback" not in started.stderr
    lines = started.stderr.strip().splitlines()
    assert len(lines) == 1 and named in lines[0], started.stderr


# ---------------------------------------------------------------- two workers, one empty database


def test_two_workers_create_the_schema_at_once(empty_db: Database) -> None:  # noqa: F811
    workers = [Database(empty_db.url) for _ in range(2)]
    barrier = threading.Barrier(len(workers))
    errors: list[BaseException] = []

    def start(db: Database) -> None:
        barrier.wait()
        try:
            migrate.ensure_current(db)
        except BaseException as exc:  # recorded for the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=start, args=(db,)) for db in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    for db in workers:
        db.dispose()
    assert errors == []
    assert migrate.current(empty_db) == migrate.head()
    assert differences(empty_db) == []
