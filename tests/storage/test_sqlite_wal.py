"""A new SQLite file opened by several workers at once: the switch to WAL waits its turn
instead of failing one of them with "database is locked"."""

from __future__ import annotations

import threading
from pathlib import Path

from sqlalchemy import text

from storage.db import Database


def test_workers_opening_one_new_file_at_once_all_get_a_wal_database(tmp_path: Path) -> None:
    errors: list[BaseException] = []
    modes: list[str] = []
    for attempt in range(30):
        url = f"sqlite:///{tmp_path / f'new{attempt}.db'}"
        workers = [Database(url) for _ in range(6)]
        barrier = threading.Barrier(len(workers))

        def open_file(db: Database, barrier: threading.Barrier = barrier) -> None:
            barrier.wait()
            try:
                with db.engine.connect() as conn:
                    modes.append(str(conn.execute(text("PRAGMA journal_mode")).scalar()))
            except BaseException as exc:  # recorded for the assertion below
                errors.append(exc)

        threads = [threading.Thread(target=open_file, args=(db,)) for db in workers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        for db in workers:
            db.dispose()
    assert errors == []
    assert modes == ["wal"] * 180
