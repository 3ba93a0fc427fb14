"""Outbox queries: scheduled messages stored before they are sent, each under a unique key.

Like `repo`, these functions flush but never commit: the caller owns the transaction.

Exactly once, in storage terms: `enqueue` inserts (person, kind, key) or does nothing if
that key exists; `claim` moves due rows to `claimed` with a conditional UPDATE, so of two
workers only one gets a row; `mark_sent` records the send.

Claims live on the database's clock (`database_now`), never on a worker's own `now`: that
`now` says what is due ("as if at" for `cpdbot tick --at`) and may differ between hosts.
A claim not renewed for the claim timeout may be taken over (its worker died or hung).
A claim is identified by its token, (claimed_by, attempts): every claim of a row adds an
attempt, so a take-over, even by a worker of the same name, changes it. `renew` refreshes
claims still held under their token and says which are; `mark_*` write only under it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, delete, func, or_, select, text, update
from sqlalchemy.dialects import sqlite
from sqlmodel import Session, col

from storage.models import Conversation, Identity, Outbox, Person

if TYPE_CHECKING:
    from bot.core.agenda import Message

PENDING, CLAIMED, SENT, FAILED, EXPIRED = "pending", "claimed", "sent", "failed", "expired"
# A decision recorded with nothing to send (e.g. on pace in "only when behind" mode): the
# key is taken, so the same decision is not taken again every minute.
SKIPPED = "skipped"
FINISHED = (SENT, FAILED, EXPIRED, SKIPPED)
INSERT_CHUNK = 2000


@dataclass(frozen=True)
class NewMessage:
    person_id: int
    identity_id: int | None
    kind: str
    key: str
    payload: dict[str, Any]
    due_at: datetime
    expires_at: datetime | None = None
    state: str = PENDING
    note: str | None = None  # why it was skipped


def queued(person_id: int, identity_id: int, msg: Message) -> NewMessage:
    """The outbox row for a decided message (the planner's, a calendar poll's, a sign-in's)."""
    return NewMessage(
        person_id=person_id,
        identity_id=identity_id,
        kind=msg.kind,
        key=msg.key,
        payload=msg.payload(),
        due_at=msg.due_at,
        expires_at=msg.expires_at,
    )


@dataclass(frozen=True)
class Claimed:
    """A claimed row with where to send it."""

    id: int
    person_id: int
    identity_id: int
    kind: str
    key: str
    payload: dict[str, Any]
    attempts: int
    platform: str
    workspace: str
    user_id: str
    chat_id: str | None
    timezone: str = "UTC"
    paused_until: date | None = None

    @property
    def token(self) -> tuple[int, int]:
        """(row id, attempt): with the worker's name, what identifies this claim."""
        return (self.id, self.attempts)


def _row(msg: NewMessage, now: datetime) -> dict[str, Any]:
    return {
        "person_id": msg.person_id,
        "identity_id": msg.identity_id,
        "kind": msg.kind,
        "key": msg.key[:200],
        "payload": msg.payload,
        "due_at": msg.due_at,
        "expires_at": msg.expires_at,
        "state": msg.state,
        "attempts": 0,
        "last_error": msg.note,
        "created_at": now,
    }


def enqueue(session: Session, messages: Sequence[NewMessage], *, now: datetime) -> int:
    """Insert each message unless its (person, kind, key) exists: INSERT ... ON CONFLICT
    DO NOTHING. Returns how many new rows are to be sent (skipped decisions not counted)."""
    if not messages:
        return 0
    bind = session.get_bind()
    dialect = bind.dialect.name
    inserted = 0
    for i in range(0, len(messages), INSERT_CHUNK):
        rows = [_row(m, now) for m in messages[i : i + INSERT_CHUNK]]
        if dialect == "sqlite":
            stmt: Any = sqlite.insert(Outbox).on_conflict_do_nothing(
                index_elements=["person_id", "kind", "key"]
            )
        elif dialect == "postgresql":
            inserted += _enqueue_arrays(session, rows)
            continue
        else:  # pragma: no cover - other databases: one savepoint per row
            inserted += _enqueue_portable(session, rows)
            continue
        # INSERT ... ON CONFLICT DO NOTHING RETURNING, as a Core executemany (one compiled
        # statement, batched by SQLAlchemy): only the new rows come back.
        result = session.connection().execute(stmt.returning(col(Outbox.state)), rows)
        inserted += sum(1 for (state,) in result.all() if state == PENDING)
    session.flush()
    return inserted


# PostgreSQL: one short statement per chunk, each column sent as one array. The same rows
# as a multi-row INSERT ... VALUES made PostgreSQL parse 2,000 x 11 parameters a chunk
# (20-30 ms a statement); this takes a third of the time (docs/benchmarks.md, nudges).
_INSERT_ARRAYS = text(
    "INSERT INTO outbox (person_id, identity_id, kind, key, payload, due_at, expires_at,"
    " state, attempts, last_error, created_at)"
    " SELECT * FROM unnest(CAST(:person_id AS integer[]), CAST(:identity_id AS integer[]),"
    " CAST(:kind AS varchar[]), CAST(:key AS varchar[]), CAST(:payload AS json[]),"
    " CAST(:due_at AS timestamptz[]), CAST(:expires_at AS timestamptz[]),"
    " CAST(:state AS varchar[]), CAST(:attempts AS integer[]), CAST(:last_error AS varchar[]),"
    " CAST(:created_at AS timestamptz[]))"
    " ON CONFLICT (person_id, kind, key) DO NOTHING RETURNING state"
)


def _enqueue_arrays(session: Session, rows: list[dict[str, Any]]) -> int:
    columns: dict[str, list[Any]] = {name: [row[name] for row in rows] for name in rows[0]}
    columns["payload"] = [json.dumps(p) for p in columns["payload"]]  # as the JSON type does
    result = session.connection().execute(_INSERT_ARRAYS, columns)
    return sum(1 for (state,) in result.all() if state == PENDING)


def _enqueue_portable(session: Session, rows: list[dict[str, Any]]) -> int:  # pragma: no cover
    from sqlalchemy.exc import IntegrityError

    inserted = 0
    for row in rows:
        try:
            with session.begin_nested():
                session.add(Outbox(**row))
                session.flush()
        except IntegrityError:
            continue
        inserted += 1
    return inserted


def preferred_identities(
    session: Session, person_ids: Iterable[int] | None = None
) -> dict[int, int]:
    """person id -> the reachable identity to write to: the one they used most recently."""
    query = (
        select(col(Identity.person_id), col(Identity.id), col(Conversation.updated_at))
        .outerjoin(Conversation, col(Conversation.identity_id) == col(Identity.id))
        .where(col(Identity.unreachable).is_(False))
    )
    wanted = None if person_ids is None else set(person_ids)
    if wanted is not None and len(wanted) <= 5000:
        query = query.where(col(Identity.person_id).in_(sorted(wanted)))
    best: dict[int, tuple[datetime | None, int]] = {}
    for person_id, identity_id, updated in session.execute(query).all():
        if wanted is not None and person_id not in wanted:
            continue
        current = best.get(person_id)
        if current is None or _later((updated, identity_id), current):
            best[person_id] = (updated, identity_id)
    return {p: i for p, (_, i) in best.items()}


def _later(a: tuple[datetime | None, int], b: tuple[datetime | None, int]) -> bool:
    if (a[0] is None) != (b[0] is None):
        return a[0] is not None
    if a[0] is not None and b[0] is not None and a[0] != b[0]:
        return a[0] > b[0]
    return a[1] > b[1]


def database_now(session: Session) -> datetime:
    """The database's own clock (aware, UTC): the one clock every scheduler shares.

    PostgreSQL's `clock_timestamp()`; on SQLite (one machine's file) that machine's clock,
    read by SQLite itself, to the millisecond.
    """
    if session.get_bind().dialect.name == "postgresql":
        value = session.execute(text("SELECT clock_timestamp()")).scalar_one()
        assert isinstance(value, datetime)
        return value.astimezone(UTC)
    raw = session.execute(text("SELECT strftime('%Y-%m-%d %H:%M:%f', 'now')")).scalar_one()
    return datetime.fromisoformat(str(raw)).replace(tzinfo=UTC)


def _claimable(now: datetime, stale_before: datetime, max_attempts: int) -> Any:
    return and_(
        col(Outbox.attempts) < max_attempts,
        or_(col(Outbox.expires_at).is_(None), col(Outbox.expires_at) >= now),
        or_(
            and_(col(Outbox.state) == PENDING, col(Outbox.due_at) <= now),
            and_(col(Outbox.state) == CLAIMED, col(Outbox.claimed_at) < stale_before),
        ),
    )


def claim(
    session: Session,
    *,
    worker: str,
    now: datetime,
    timeout: timedelta,
    platforms: Iterable[str],
    limit: int,
    max_attempts: int,
) -> list[Claimed]:
    """Claim up to `limit` rows for `worker`: due at `now` (the worker's instant), or
    claimed by someone who has not renewed the claim for `timeout` on the database's clock.

    The UPDATE re-checks the state, so a row another worker claimed (or renewed) first is
    not taken: on PostgreSQL the second UPDATE waits for the first to commit and then
    matches nothing; SQLite runs one writer at a time. Rows come back oldest due first.
    """
    clock = database_now(session)
    claimable = _claimable(now, clock - timeout, max_attempts)
    candidates = [
        int(i)
        for (i,) in session.execute(
            select(col(Outbox.id))
            .join(Identity, col(Identity.id) == col(Outbox.identity_id))
            .where(claimable, col(Identity.platform).in_(list(platforms)))
            .order_by(col(Outbox.due_at), col(Outbox.id))
            .limit(limit)
        ).all()
    ]
    if not candidates:
        return []
    taken = session.execute(
        update(Outbox)
        .where(col(Outbox.id).in_(candidates), claimable)
        .values(state=CLAIMED, claimed_by=worker, claimed_at=clock, attempts=Outbox.attempts + 1)
        .returning(col(Outbox.id))
        .execution_options(synchronize_session=False)
    ).all()
    if not taken:
        return []
    rows = session.execute(
        select(Outbox, Identity, col(Person.timezone), col(Person.paused_until))
        .join(Identity, col(Identity.id) == col(Outbox.identity_id))
        .join(Person, col(Person.id) == col(Outbox.person_id))
        .where(col(Outbox.id).in_([int(i) for (i,) in taken]))
        .order_by(col(Outbox.due_at), col(Outbox.id))
    ).all()
    return [_claimed(o, ident, zone, paused_until) for o, ident, zone, paused_until in rows]


def _held(worker: str, tokens: Iterable[tuple[int, int]]) -> Any:
    """Rows still claimed under these tokens ((id, attempts) pairs) by `worker`."""
    by_attempt: dict[int, list[int]] = {}
    for row_id, attempts in tokens:
        by_attempt.setdefault(attempts, []).append(row_id)
    return and_(
        col(Outbox.state) == CLAIMED,
        col(Outbox.claimed_by) == worker,
        or_(
            *(
                and_(col(Outbox.attempts) == attempts, col(Outbox.id).in_(ids))
                for attempts, ids in sorted(by_attempt.items())
            )
        ),
    )


def renew(session: Session, tokens: Iterable[tuple[int, int]], *, worker: str) -> set[int]:
    """Renew `worker`'s claims on these rows (tokens: (id, attempts)) to the database's
    clock now; returns the ids still held. A row taken over, or finished, is not.

    Renewing and taking over are UPDATEs of the same row, so they are serialised: after a
    renewal, nobody can take the row over for a whole claim timeout.
    """
    tokens = list(tokens)
    if not tokens:
        return set()
    renewed = session.execute(
        update(Outbox)
        .where(_held(worker, tokens))
        .values(claimed_at=database_now(session))
        .returning(col(Outbox.id))
        .execution_options(synchronize_session=False)
    ).all()
    return {int(i) for (i,) in renewed}


def _claimed(o: Outbox, ident: Identity, zone: str, paused_until: date | None) -> Claimed:
    return Claimed(
        id=int(o.id or 0),
        person_id=o.person_id,
        identity_id=int(ident.id or 0),
        kind=o.kind,
        key=o.key,
        payload=dict(o.payload),
        attempts=o.attempts,
        platform=ident.platform,
        workspace=ident.workspace,
        user_id=ident.user_id,
        chat_id=ident.chat_id,
        timezone=zone,
        paused_until=paused_until,
    )


def _finish(
    session: Session, row_id: int, worker: str, attempts: int | None, **values: Any
) -> bool:
    """Write `values` if `worker` still holds the row (under claim `attempts`, if given)."""
    held = and_(
        col(Outbox.id) == row_id,
        col(Outbox.state) == CLAIMED,
        col(Outbox.claimed_by) == worker,
    )
    if attempts is not None:
        held = and_(held, col(Outbox.attempts) == attempts)
    result = session.execute(
        update(Outbox).where(held).values(**values).execution_options(synchronize_session=False)
    )
    return int(result.rowcount) == 1  # type: ignore[attr-defined]


def mark_sent(
    session: Session, row_id: int, *, worker: str, now: datetime, attempts: int | None = None
) -> bool:
    """Record the send; False if the claim was taken over meanwhile (sent twice)."""
    return _finish(session, row_id, worker, attempts, state=SENT, sent_at=now, last_error=None)


def mark_retry(
    session: Session,
    row_id: int,
    *,
    worker: str,
    retry_at: datetime,
    error: str,
    attempts: int | None = None,
) -> bool:
    return _finish(
        session, row_id, worker, attempts, state=PENDING, due_at=retry_at, claimed_by=None,
        claimed_at=None, last_error=error[:500],
    )  # fmt: skip


def mark_skipped(
    session: Session, row_id: int, *, worker: str, note: str, attempts: int | None = None
) -> bool:
    return _finish(session, row_id, worker, attempts, state=SKIPPED, last_error=note[:500])


def mark_failed(
    session: Session, row_id: int, *, worker: str, error: str, attempts: int | None = None
) -> bool:
    return _finish(session, row_id, worker, attempts, state=FAILED, last_error=error[:500])


def mark_unreachable(session: Session, identity_id: int) -> None:
    session.execute(
        update(Identity)
        .where(col(Identity.id) == identity_id)
        .values(unreachable=True)
        .execution_options(synchronize_session=False)
    )


def expire(session: Session, *, now: datetime, timeout: timedelta, max_attempts: int) -> int:
    """Rows that can no longer be sent: past their grace window at `now`, or claimed and
    abandoned too often (a claim is abandoned once not renewed for `timeout` on the
    database's clock). Returns how many were closed."""
    stale_before = database_now(session) - timeout
    expired = session.execute(
        update(Outbox)
        .where(
            col(Outbox.state).in_([PENDING, CLAIMED]),
            col(Outbox.expires_at).is_not(None),
            col(Outbox.expires_at) < now,
            or_(col(Outbox.state) == PENDING, col(Outbox.claimed_at) < stale_before),
        )
        .values(state=EXPIRED)
        .execution_options(synchronize_session=False)
    )
    failed = session.execute(
        update(Outbox)
        .where(
            or_(
                and_(col(Outbox.state) == CLAIMED, col(Outbox.claimed_at) < stale_before),
                col(Outbox.state) == PENDING,
            ),
            or_(col(Outbox.attempts) >= max_attempts, col(Outbox.identity_id).is_(None)),
        )
        .values(state=FAILED, last_error=func.coalesce(Outbox.last_error, "gave up"))
        .execution_options(synchronize_session=False)
    )
    return int(expired.rowcount) + int(failed.rowcount)  # type: ignore[attr-defined]


def prune(session: Session, *, due_before: datetime, limit: int) -> int:
    """Delete up to `limit` finished rows (sent, failed, expired, skipped) that were due
    before `due_before`; returns how many. Pending and claimed rows are never deleted.

    A key only guards against a second send while its grace window is open (at most a
    month), so rows long past it are history, kept a while for the record.
    """
    batch = (
        select(col(Outbox.id))
        .where(col(Outbox.state).in_(FINISHED), col(Outbox.due_at) < due_before)
        .order_by(col(Outbox.due_at))
        .limit(limit)
    )
    result = session.execute(
        delete(Outbox)
        .where(col(Outbox.id).in_(batch.scalar_subquery()))
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def waiting_by_platform(
    session: Session, *, now: datetime, exclude: Iterable[str] = ()
) -> dict[str, int]:
    """Pending rows due by `now`, per platform of their identity (those not excluded)."""
    rows = session.execute(
        select(col(Identity.platform), func.count())
        .join(Outbox, col(Outbox.identity_id) == col(Identity.id))
        .where(
            col(Outbox.state) == PENDING,
            col(Outbox.due_at) <= now,
            col(Identity.platform).not_in(list(exclude)),
        )
        .group_by(col(Identity.platform))
    ).all()
    return {str(p): int(n) for p, n in rows}


def counts(session: Session) -> dict[str, int]:
    """Rows per state (for logs and benchmarks)."""
    rows = session.execute(select(col(Outbox.state), func.count()).group_by(Outbox.state)).all()
    return {str(s): int(n) for s, n in rows}
