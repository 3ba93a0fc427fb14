"""`cpdbot` command line: run, chat, export, db."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from adapters import console
from bot.engine import Engine
from bot.export import to_csv, to_json
from bot.model import IdentityKey
from bot.parsing import warm_up
from bot.schemes import SchemeError, load_schemes
from cpdbot import app
from cpdbot.config import Settings
from storage.db import Database

EXPORTERS = {"json": to_json, "csv": to_csv}


def _settings() -> Settings:
    return Settings()


def _database(url: str | None, settings: Settings) -> Database:
    db = Database(url or settings.database_url)
    db.create_all()
    return db


def _engine(db: Database, settings: Settings) -> Engine:
    schemes = load_schemes(settings.cpdbot_schemes_dir)
    return Engine(db, schemes)


def _default_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "me"


def cmd_chat(args: argparse.Namespace, settings: Settings) -> int:
    db = _database(args.db, settings)
    engine = _engine(db, settings)
    warm_up()
    user = args.user or _default_user()
    asyncio.run(console.chat(engine.handle, user, sys.stdin, sys.stdout, echo=args.echo))
    return 0


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    db = _database(args.db, settings)
    engine = _engine(db, settings)
    warm_up()
    asyncio.run(app.run(engine, settings, _default_user()))
    return 0


def cmd_export(args: argparse.Namespace, settings: Settings) -> int:
    db = _database(args.db, settings)
    engine = _engine(db, settings)
    if args.format not in EXPORTERS:
        print(f"The {args.format} format is not available yet; use json or csv.", file=sys.stderr)
        return 2
    record = engine.record(IdentityKey.parse(args.user), args.year)
    if record is None:
        print(f"No user {args.user!r} in {db.url}.", file=sys.stderr)
        return 1
    data = EXPORTERS[args.format](record)
    if args.out:
        Path(args.out).write_bytes(data)
        print(f"Wrote {len(record.entries)} entries to {args.out}", file=sys.stderr)
    else:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    return 0


def cmd_db(args: argparse.Namespace, settings: Settings) -> int:
    db = _database(args.db, settings)
    print(f"Database ready: {db.engine.url.render_as_string(hide_password=True)}")
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="cpdbot", description="Log CPD from a chat.")
    sub = p.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="start the configured platforms (console if none)")
    run.add_argument("--db", help="database URL (default: DATABASE_URL or a local SQLite file)")
    run.set_defaults(func=cmd_run)

    chat = sub.add_parser("chat", help="the console bot: stdin in, stdout out")
    chat.add_argument("--db", help="database URL")
    chat.add_argument("--user", help="your name in the console (default: your login)")
    chat.add_argument("--echo", action="store_true", help="repeat each input line (transcripts)")
    chat.set_defaults(func=cmd_chat)

    export = sub.add_parser("export", help="write a CPD record")
    export.add_argument(
        "--user", required=True, help="console NAME, telegram:ID or slack:TEAM:USER"
    )
    export.add_argument("--db", help="database URL")
    export.add_argument("--year", type=int, help="the CPD year starting in YYYY (default: now)")
    export.add_argument("--format", required=True, choices=["csv", "md", "pdf", "json"])
    export.add_argument("--out", help="file to write (default: stdout)")
    export.set_defaults(func=cmd_export)

    db = sub.add_parser("db", help="database maintenance")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    upgrade = db_sub.add_parser("upgrade", help="create or upgrade the tables")
    upgrade.add_argument("--db", help="database URL")
    upgrade.set_defaults(func=cmd_db)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        settings = _settings()
        logging.basicConfig(
            level=settings.log_level.upper(),
            stream=sys.stderr,
            format="%(asctime)s %(levelname)s %(name)s %(message)s",
        )
        return int(args.func(args, settings))
    except SchemeError as exc:
        print(f"Scheme error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
