"""PostgreSQL for the benchmarks: a scratch schema per run, bulk loading with COPY.

A benchmark given `--db postgresql://user@host/db` works in a schema of its own in that
database (`bench_turns`, `bench_record`, `bench_nudges`, `bench_send`): dropped and
created at the start, dropped again at the end, so it never touches `public` or the test
suite's schemas. Its tables are made by `Database.create_all()` as on SQLite.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import make_url

from storage.db import Database, normalise_url


def is_postgres(url: str | None) -> bool:
    """Whether `url` names a PostgreSQL database (plain `postgresql://` or with a driver)."""
    if not url or "://" not in url:
        return False
    return make_url(url).get_backend_name() == "postgresql"


def shown(url: str) -> str:
    """The URL without its password, for printing."""
    return make_url(url).render_as_string(hide_password=True)


def with_search_path(url: str, schema: str) -> str:
    """`url` with `-c search_path=schema` added to its libpq `options` (others kept, e.g.
    `?options=-csynchronous_commit%3Doff`)."""
    parsed = make_url(url)
    given = parsed.query.get("options")
    options = " ".join(given) if isinstance(given, tuple) else given
    path = f"-csearch_path={schema}"
    parsed = parsed.update_query_dict({"options": f"{options} {path}" if options else path})
    return parsed.render_as_string(hide_password=False)


@contextmanager
def scratch_schema(url: str, schema: str, *, keep: bool = False) -> Iterator[str]:
    """`url` with its search_path set to `schema`, which is new and empty.

    keep: the schema is neither dropped first nor at the end (a loaded database can be
    reused by the next run, as a SQLite file given with --db is).
    """
    admin = create_engine(normalise_url(url))

    def run(sql: str) -> None:
        with admin.begin() as conn:
            conn.exec_driver_sql(sql)

    try:
        if not keep:
            run(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        run(f"CREATE SCHEMA IF NOT EXISTS {schema}")
        yield with_search_path(url, schema)
    finally:
        if not keep:
            run(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        admin.dispose()


@contextmanager
def loading(db: Database) -> Iterator[Any]:
    """A psycopg connection for COPY; everything loaded through it commits at the end."""
    raw = db.engine.raw_connection()
    try:
        conn = raw.driver_connection
        assert conn is not None
        yield conn
        conn.commit()
    finally:
        raw.close()


def copy(conn: Any, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> float:
    """COPY `rows` into `table` (text format; psycopg adapts dates, datetimes, booleans
    and None). Returns the seconds it took."""
    t0 = time.perf_counter()
    with (
        conn.cursor() as cur,
        cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as out,
    ):
        for row in rows:
            out.write_row(row)
    return time.perf_counter() - t0


def after_load(db: Database, tables: Sequence[str]) -> float:
    """Move each table's id sequence past the ids loaded (rows were given their ids),
    then VACUUM ANALYZE them: planner statistics, as `ANALYZE` gives SQLite, and the
    visibility map a live database has from autovacuum. Returns the seconds it took."""
    t0 = time.perf_counter()
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for table in tables:
            conn.exec_driver_sql(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"coalesce(max(id), 0) + 1, false) FROM {table}"
            )
        for table in tables:
            conn.exec_driver_sql(f"VACUUM (ANALYZE) {table}")
    return time.perf_counter() - t0


def server_version(db: Database) -> str:
    with db.engine.connect() as conn:
        return str(conn.exec_driver_sql("SHOW server_version").scalar()).split()[0]


class StatementCounter:
    """Counts statements and transactions sent through `db`'s engine.

    On PostgreSQL each statement is one network round trip, and each transaction adds
    three: the pool's liveness ping when the connection is checked out, BEGIN and COMMIT.
    """

    def __init__(self, db: Database) -> None:
        self.statements = 0
        self.transactions = 0
        event.listen(db.engine, "before_cursor_execute", self._statement)
        event.listen(db.engine, "begin", self._begin)

    def _statement(self, *_: Any) -> None:
        self.statements += 1

    def _begin(self, *_: Any) -> None:
        self.transactions += 1
