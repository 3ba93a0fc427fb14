"""Inbox queries: updates recorded before they are acknowledged, replayed if never handled.

Like `repo`, these functions flush but never commit: the caller owns the transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from storage.models import InboxUpdate


def record(
    session: Session, platform: str, items: Iterable[tuple[str, str]], *, now: datetime
) -> list[str]:
    """Store (key, payload) pairs; return the keys that were new (the rest were already seen)."""
    fresh: list[str] = []
    for key, payload in items:
        known = session.exec(
            select(InboxUpdate.id).where(InboxUpdate.platform == platform, InboxUpdate.key == key)
        ).first()
        if known is not None:
            continue
        try:
            with session.begin_nested():
                session.add(
                    InboxUpdate(platform=platform, key=key, payload=payload, received_at=now)
                )
                session.flush()
        except IntegrityError:  # another worker stored it between our check and our insert
            continue
        fresh.append(key)
    return fresh


def finish(session: Session, platform: str, keys: Sequence[str], *, now: datetime) -> None:
    """Mark updates handled; they stay (for `prune`) so a late repeat is still recognised."""
    if not keys:
        return
    session.execute(
        update(InboxUpdate)
        .where(col(InboxUpdate.platform) == platform, col(InboxUpdate.key).in_(keys))
        .values(done_at=now)
        .execution_options(synchronize_session=False)
    )


def unfinished(session: Session, platform: str) -> list[tuple[str, str]]:
    """(key, payload) of updates recorded but never marked handled, oldest first."""
    rows = session.exec(
        select(InboxUpdate.key, InboxUpdate.payload)
        .where(InboxUpdate.platform == platform, col(InboxUpdate.done_at).is_(None))
        .order_by(col(InboxUpdate.id))
    ).all()
    return [(key, payload) for key, payload in rows]


def prune(session: Session, platform: str, *, done_before: datetime) -> int:
    """Forget handled updates older than `done_before`; returns how many were removed."""
    result = session.execute(
        delete(InboxUpdate)
        .where(
            col(InboxUpdate.platform) == platform,
            col(InboxUpdate.done_at).is_not(None),
            col(InboxUpdate.done_at) < done_before,
        )
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
