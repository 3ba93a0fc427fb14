"""`cpdbot` command line: run, chat, export, import, db."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from cpdbot import logs

if TYPE_CHECKING:
    from bot.core.report import Report
    from bot.services.engine import Engine
    from bot.services.evidence_import import Restored
    from cpdbot.config import Settings
    from storage.db import Database
    from storage.secrets import SecretBox

# Only argparse is loaded to parse the command line (`cpdbot --help` stays fast); each
# handler imports what its command needs: the database, the engine, the documents, the
# scheduler and the platforms' libraries are heavy (bench/startup.py, tests/app/test_startup.py).


def _settings() -> Settings:
    from cpdbot.config import Settings

    return Settings()


def _database(url: str | None, settings: Settings) -> Database:
    """The database, its schema checked: created in an empty one, refused when outdated."""
    from storage import migrate
    from storage.db import Database

    db = Database(url or settings.database_url, secrets=_secret_box(settings))
    migrate.ensure_current(db)
    return db


def _secret_box(settings: Settings) -> SecretBox:
    """The box for secrets at rest, from CPDBOT_SECRET_KEY: a malformed key stops the
    start here, in one line (`ConfigError`)."""
    from cpdbot.config import ConfigError
    from storage.secrets import BadSecretKey, SecretBox

    key = settings.secret_key
    try:
        return SecretBox(key.get_secret_value() if key is not None else None)
    except BadSecretKey as exc:
        raise ConfigError(str(exc)) from None


def cmd_secret_key(args: argparse.Namespace, settings: Settings) -> int:
    """Print a new key for CPDBOT_SECRET_KEY."""
    from storage.secrets import new_key

    print(new_key())
    return 0


def _engine(db: Database, settings: Settings) -> Engine:
    from bot.core.schemes import load_schemes
    from bot.services.engine import Engine

    schemes = load_schemes(settings.cpdbot_schemes_dir)
    return Engine(
        db,
        schemes,
        allow_private_feeds=settings.calendar_allow_private_networks,
        microsoft=settings.microsoft_endpoints(),
        evidence=settings.evidence(),
    )


# The identity columns' lengths (storage.models.Identity; a test keeps them equal).
USER_ID_MAX = 128
WORKSPACE_MAX = 64


def _user(text: str) -> str:
    """--user: refused with one clear line (exit 2) if it cannot be stored as an identity."""
    from bot.core.model import IdentityKey
    from bot.core.sanitize import has_unsafe

    if not text.strip():
        raise argparse.ArgumentTypeError("it is empty; give a name, telegram:ID or slack:TEAM:USER")
    if has_unsafe(text) or any(c in text for c in "\t\n\r"):
        raise argparse.ArgumentTypeError("it holds control or invisible characters")
    key = IdentityKey.parse(text)
    if len(key.user_id) > USER_ID_MAX:
        raise argparse.ArgumentTypeError(
            f"the user id has {len(key.user_id):,} characters; at most {USER_ID_MAX} are allowed"
        )
    if len(key.workspace) > WORKSPACE_MAX:
        raise argparse.ArgumentTypeError(
            f"the team id has {len(key.workspace):,} characters; "
            f"at most {WORKSPACE_MAX} are allowed"
        )
    return text


def _default_user() -> str:
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "me"


def cmd_chat(args: argparse.Namespace, settings: Settings) -> int:
    import asyncio

    from adapters import console
    from bot.core.parsing import warm_up

    db = _database(args.db, settings)
    engine = _engine(db, settings)
    warm_up()
    user = args.user or _default_user()
    files = Path(args.files) if args.files else Path.cwd()
    main = console.chat(engine.handle, user, sys.stdin, sys.stdout, echo=args.echo, files=files)
    asyncio.run(main)
    return 0


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    from bot.core.parsing import warm_up
    from cpdbot import app

    app.check(settings)  # a missing secret stops the start here, in one line
    db = _database(args.db, settings)
    engine = _engine(db, settings)
    warm_up()
    app.settle_memory()
    app.run_loop(app.run(engine, settings, _default_user()))
    return 0


def cmd_export(args: argparse.Namespace, settings: Settings) -> int:
    from bot.core.model import IdentityKey
    from bot.services import records

    db = _database(args.db, settings)
    engine = _engine(db, settings)
    if args.format == "all":
        return _export_all(args, engine)
    try:
        report = records.report_for(engine, IdentityKey.parse(args.user), args.year)
    except records.YearOutOfRange as exc:
        print(f"--year {args.year}: {exc}", file=sys.stderr)
        return 2
    if report is None:
        print(f"No user {args.user!r} in {db.url}.", file=sys.stderr)
        return 1
    record = report.record
    if args.format == "evidence":
        return _export_evidence(args, engine, report)
    _, data, _ = records.render(report, args.format)
    if args.out:
        Path(args.out).write_bytes(data)
        print(f"Wrote {len(record.entries)} entries to {args.out}", file=sys.stderr)
    else:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    return 0


def _export_all(args: argparse.Namespace, engine: Engine) -> int:
    """`--format all`: the ZIP of everything held about the user (records.export_all)."""
    from bot.core.model import IdentityKey
    from bot.services import records

    if args.year is not None:
        print("--year does not apply to --format all: it holds every year.", file=sys.stderr)
        return 2
    key = IdentityKey.parse(args.user)
    data = records.export_all(
        engine.db, key, engine.schemes, now=engine.clock(), evidence=engine.evidence
    )
    if data is None:
        print(f"No user {args.user!r} in {engine.db.url}.", file=sys.stderr)
        return 1
    if args.out:
        Path(args.out).write_bytes(data)
        print(f"Wrote everything held about {args.user} to {args.out}", file=sys.stderr)
    else:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    return 0


def _export_evidence(args: argparse.Namespace, engine: Engine, report: Report) -> int:
    """`--format evidence`: the CPD year's evidence files and index.md as a ZIP."""
    from bot.core.model import IdentityKey
    from bot.services import records

    if not any(e.evidence for e in report.record.entries):
        print(f"No evidence kept in the CPD year {report.record.label}.", file=sys.stderr)
        return 1
    made = records.export_evidence(
        engine.db, IdentityKey.parse(args.user), report, evidence=engine.evidence
    )
    assert made is not None  # the report was made for this user
    name, data = made
    Path(args.out or name).write_bytes(data)
    print(f"Wrote the evidence of {report.record.label} to {args.out or name}", file=sys.stderr)
    return 0


def cmd_import(args: argparse.Namespace, settings: Settings) -> int:
    from bot.core.model import IdentityKey
    from bot.services import records

    db = _database(args.db, settings)
    engine = _engine(db, settings)
    try:
        data = Path(args.file).read_bytes()
        done = records.import_report(
            db,
            IdentityKey.parse(args.user),
            data,
            dict(engine.schemes),
            now=engine.clock(),
            scheme_id=args.scheme,
            skip_bad=args.skip_bad,
            evidence=engine.evidence,
        )
    except OSError as exc:
        print(f"Cannot read {args.file}: {exc.strerror}", file=sys.stderr)
        return 1
    except records.RecordImportError as exc:
        for problem in exc.problems:  # each bad row: file, row, what is wrong
            print(f"{args.file}: {problem}", file=sys.stderr)
        print(f"Cannot import {args.file}: {exc}", file=sys.stderr)
        return 1
    for problem in done.bad:
        print(f"{args.file}: {problem}", file=sys.stderr)
    if done.bad:
        n = len(done.bad)
        print(f"Skipped {n} bad entr{'y' if n == 1 else 'ies'} (listed above).", file=sys.stderr)
    added, skipped = done.added, done.skipped
    print(
        f"Imported {added} entr{'y' if added == 1 else 'ies'} for {args.user}; "
        f"skipped {skipped} already recorded."
    )
    for line in done.said():  # "#1 is now #12.", "Restored 2 other bodies, ..."
        print(line)
    _evidence_said(done.evidence)
    return 0


def _evidence_said(kept: Restored) -> None:
    """What `cpdbot import` did with the evidence (nothing said if there was none)."""
    if kept.added or kept.skipped:
        n = kept.added
        print(
            f"Evidence: {n} piece{'' if n == 1 else 's'} kept; "
            f"skipped {kept.skipped} already there."
        )
    for was, now in kept.renumbered:  # the number was taken by evidence already held
        print(f"E{was} is now E{now} (E{was} was taken).")
    if kept.without_file:
        print(
            f"{kept.without_file} evidence file(s) listed but not imported: their content is "
            "in the /export all ZIP; import that to restore them."
        )
    for line in kept.left_out:  # a deleted entry's evidence: "E3 (cert.pdf) not imported: ..."
        print(line)


def _instant(text: str) -> datetime:
    """An ISO-8601 instant for --at; without an offset it is UTC."""
    try:
        at = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(
            f"not an ISO-8601 date-time: {text!r} (e.g. 2026-12-01T09:00:00+00:00)"
        ) from exc
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def cmd_tick(args: argparse.Namespace, settings: Settings) -> int:
    import asyncio

    from bot.core.schemes import load_schemes
    from cpdbot import delivery

    db = _database(args.db, settings)
    schemes = load_schemes(settings.cpdbot_schemes_dir)
    at = args.at or datetime.now(UTC)
    report = asyncio.run(delivery.tick(db, schemes, settings, at, print_all=args.print_all))
    for sent in report.sent:
        print(delivery.format_sent(sent))
    sys.stdout.flush()
    print(
        f"tick {at.isoformat()}: {len(report.sent)} sent, {report.enqueued} newly due, "
        f"{report.polled} calendar(s) read, {report.retried} to retry, {report.failed} failed",
        file=sys.stderr,
    )
    return 0


def _shown(db: Database) -> str:
    return db.engine.url.render_as_string(hide_password=True)


def cmd_db_upgrade(args: argparse.Namespace, settings: Settings) -> int:
    from storage import migrate
    from storage.db import Database

    db = Database(args.db or settings.database_url)
    before = migrate.current(db)
    migrate.upgrade(db)
    after = migrate.current(db)
    change = "already up to date" if before == after else f"{before or 'empty'} -> {after}"
    print(f"{_shown(db)}: schema {after} ({change})")
    return 0


def cmd_db_current(args: argparse.Namespace, settings: Settings) -> int:
    from storage import migrate
    from storage.db import Database

    db = Database(args.db or settings.database_url)
    at, latest = migrate.current(db), migrate.head()
    state = "up to date"
    if at != latest:
        state = f"this cpdbot expects {latest}: run `cpdbot db upgrade`"
    print(f"{_shown(db)}: schema {at or 'none'} ({state})")
    return 0 if at == latest else 1


def cmd_db_backup(args: argparse.Namespace, settings: Settings) -> int:
    from storage.backup import backup_sqlite
    from storage.db import Database

    db = Database(args.db or settings.database_url)
    if not db.is_sqlite:
        print(
            "cpdbot db backup copies SQLite files; for PostgreSQL use pg_dump "
            "(see the README's deployment guide), then copy EVIDENCE_DIR if it is set "
            "(docs/evidence.md).",
            file=sys.stderr,
        )
        return 2
    try:
        size = backup_sqlite(db, Path(args.file))
    except (ValueError, OSError) as exc:
        print(f"Backup failed: {exc}", file=sys.stderr)
        return 1
    print(f"Backed up {_shown(db)} to {args.file} ({size:,} bytes)")
    return _backup_evidence_dir(settings, Path(args.file))


def cmd_db_evidence_sweep(args: argparse.Namespace, settings: Settings) -> int:
    """Remove the directory store's files no evidence names (a transaction rolled back
    after its file was written), older than an hour (younger may be about to commit)."""
    from storage.db import Database
    from storage.evidence import sweep_directory

    if settings.evidence_dir is None:
        print("EVIDENCE_DIR is not set: evidence is in the database, nothing to sweep.")
        return 0
    db = Database(args.db or settings.database_url)
    with db.transaction() as session:
        removed = sweep_directory(session, settings.evidence_dir.expanduser())
    print(f"Removed {len(removed):,} file(s) no evidence names from {settings.evidence_dir}")
    return 0


def _backup_evidence_dir(settings: Settings, backup: Path) -> int:
    """With a directory store (EVIDENCE_DIR), its files go next to the database's copy, in
    BACKUP.evidence/ (after it: see storage.evidence.copy_directory)."""
    from storage.evidence import copy_directory

    if settings.evidence_dir is None:
        return 0
    target = backup.with_name(backup.name + ".evidence")
    try:
        copied = copy_directory(settings.evidence_dir.expanduser(), target)
    except OSError as exc:
        print(f"Backup of the evidence files failed: {exc}", file=sys.stderr)
        return 1
    print(f"Evidence files (EVIDENCE_DIR) copied to {target} ({copied:,} new)")
    return 0


def cmd_teams_package(args: argparse.Namespace, settings: Settings) -> int:
    """The Teams app package: refused in one line (exit 2, nothing written) if Teams
    would refuse it."""
    from cpdbot import teams_package as tp

    app_id = args.app_id or settings.teams_app_id
    try:
        if not app_id:
            raise tp.PackageError("no app id: give --app-id GUID or set TEAMS_APP_ID")
        tp.check_guid(app_id, "the bot's app id (--app-id or TEAMS_APP_ID)")
        developer = tp.developer_for(
            args.domain or (), args.developer, args.website_url, args.privacy_url, args.terms_url
        )
        data = tp.build(
            app_id,
            teams_app_id=args.teams_app_id,
            version=args.version,
            domains=args.domain or (),
            developer=developer,
        )
    except tp.PackageError as exc:
        print(f"cpdbot teams package: {exc}", file=sys.stderr)
        return 2
    try:
        Path(args.out).write_bytes(data)
    except OSError as exc:
        print(f"cpdbot teams package: cannot write {args.out}: {exc.strerror}", file=sys.stderr)
        return 2
    print(f"Wrote the Teams app package to {args.out}: upload it in Teams (manifest/teams/).")
    return 0


def _teams_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    teams = sub.add_parser("teams", help="Microsoft Teams: the app package")
    teams_sub = teams.add_subparsers(dest="teams_command", required=True)
    package = teams_sub.add_parser("package", help="write the app package a Teams admin uploads")
    package.add_argument("--out", required=True, help="the zip to write, e.g. cpdbot-teams.zip")
    package.add_argument("--app-id", help="the bot's Entra app id (default: TEAMS_APP_ID)")
    package.add_argument(
        "--teams-app-id", help="the Teams app's own id (default: derived from the app id)"
    )
    package.add_argument("--version", default="1.0.0", help="the app version; raise it to update")
    package.add_argument(
        "--domain", action="append", help="a valid domain, e.g. cpd.example.org (repeatable)"
    )
    package.add_argument("--developer", default="cpdbot", help="the publisher's name")
    package.add_argument("--website-url", help="https://… (default: https://<first --domain>/)")
    package.add_argument("--privacy-url", help="https://… (default: the website)")
    package.add_argument("--terms-url", help="https://… (default: the website)")
    package.set_defaults(func=cmd_teams_package)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="cpdbot", description="Log CPD from a chat.")
    sub = p.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="start the configured platforms (console if none)")
    run.add_argument("--db", help="database URL (default: DATABASE_URL or a local SQLite file)")
    run.set_defaults(func=cmd_run)

    chat = sub.add_parser("chat", help="the console bot: stdin in, stdout out")
    chat.add_argument("--db", help="database URL")
    chat.add_argument("--user", type=_user, help="your name in the console (default: your login)")
    chat.add_argument("--echo", action="store_true", help="repeat each input line (transcripts)")
    chat.add_argument("--files", help="directory for /export files (default: the current one)")
    chat.set_defaults(func=cmd_chat)

    export = sub.add_parser("export", help="write a CPD record")
    export.add_argument(
        "--user", type=_user, required=True, help="console NAME, telegram:ID or slack:TEAM:USER"
    )
    export.add_argument("--db", help="database URL")
    export.add_argument("--year", type=int, help="the CPD year starting in YYYY (default: now)")
    export.add_argument(
        "--format",
        required=True,
        choices=["csv", "md", "pdf", "json", "all", "evidence"],
        help="all: a ZIP of everything held about the user; evidence: the CPD year's "
        "evidence files and their index as a ZIP (written to --out, or cpd-evidence-YEAR.zip)",
    )
    export.add_argument("--out", help="file to write (default: stdout)")
    export.set_defaults(func=cmd_export)

    imp = sub.add_parser("import", help="restore entries from a cpdbot export (json|csv|all)")
    imp.add_argument(
        "--user", type=_user, required=True, help="console NAME, telegram:ID or slack:TEAM:USER"
    )
    imp.add_argument("--db", help="database URL")
    imp.add_argument("--scheme", help="scheme id for a new user (default: the file's, or generic)")
    imp.add_argument(
        "--skip-bad",
        action="store_true",
        help="import the good rows of a file with bad ones (default: a bad row imports nothing)",
    )
    imp.add_argument("file", help="a file of `cpdbot export --format json|csv|all` (ZIP)")
    imp.set_defaults(func=cmd_import)

    tick = sub.add_parser("tick", help="run every scheduled job once and print what was sent")
    tick.add_argument("--db", help="database URL")
    tick.add_argument(
        "--at", type=_instant, help="as if at this ISO-8601 instant (default: now; no offset: UTC)"
    )
    tick.add_argument(
        "--print-all",
        action="store_true",
        help="print (and record as sent) messages for platforms with no token configured",
    )
    tick.set_defaults(func=cmd_tick)

    db = sub.add_parser("db", help="database maintenance")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    upgrade = db_sub.add_parser("upgrade", help="apply the schema migrations")
    upgrade.add_argument("--db", help="database URL")
    upgrade.set_defaults(func=cmd_db_upgrade)
    current = db_sub.add_parser("current", help="the schema revision (exit 1 if outdated)")
    current.add_argument("--db", help="database URL")
    current.set_defaults(func=cmd_db_current)
    backup = db_sub.add_parser("backup", help="copy a SQLite database while the bot runs")
    backup.add_argument("file", help="the backup file to write")
    backup.add_argument("--db", help="database URL")
    backup.set_defaults(func=cmd_db_backup)
    sweep = db_sub.add_parser(
        "evidence-sweep", help="remove files in EVIDENCE_DIR that no evidence names"
    )
    sweep.add_argument("--db", help="database URL")
    sweep.set_defaults(func=cmd_db_evidence_sweep)
    secret_key = sub.add_parser(
        "secret-key", help="print a new key for CPDBOT_SECRET_KEY (encrypts sign-ins at rest)"
    )
    secret_key.set_defaults(func=cmd_secret_key)
    _teams_parser(sub)
    return p


def _refusal(exc: Exception) -> str | None:
    """What to print for an error that is the user's to fix (None: not one of those)."""
    from bot.core.schemes import SchemeError
    from cpdbot.config import ConfigError
    from storage.migrate import SchemaError

    if isinstance(exc, ConfigError):
        return f"Configuration: {exc}"
    if isinstance(exc, SchemeError):
        return f"Scheme error: {exc}"
    if isinstance(exc, SchemaError):
        return f"Database schema: {exc}"
    return None


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        settings = _settings()
        logs.setup(settings.log_level, settings.log_format)
        return int(args.func(args, settings))
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        message = _refusal(exc)
        if message is None:
            raise
        print(message, file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
