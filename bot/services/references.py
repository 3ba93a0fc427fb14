"""Teams conversation references for the adapter (which may not import storage).

`remember` after each personal message the engine has handled (so the identity exists;
the Teams adapter does the same within its inbox batch, `Inbox.finish(reference=...)`):
it writes only when the reference changed, or when the identity had been marked
unreachable (a message from them shows the bot can reach them again). `reference_for`
when sending a message the bot starts. Both are blocking: run them where the adapter's
database work belongs (`bot.services.db_work`; on SQLite a write takes turns with the
others). The sender raises `Unreachable` on 403/404 and the send loop marks the identity
(`storage.outbox.mark_unreachable`), as for Telegram. `/forget` erases the reference with
the identity.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Protocol

from bot.core.model import ConversationRef, IdentityKey
from storage import references
from storage.db import Database

log = logging.getLogger("cpdbot.references")


class Source(Protocol):
    """The engine, or anything with its database and clock."""

    db: Database

    def clock(self) -> datetime: ...


def _db_and_now(source: Database | Source) -> tuple[Database, datetime]:
    if isinstance(source, Database):
        return source, datetime.now(UTC)
    return source.db, source.clock()


def remember(source: Database | Source, key: IdentityKey, ref: ConversationRef) -> bool:
    """Hold `ref` as where to write to `key` first; returns whether anything was written.

    A reference that does not fit (a field empty or too long) is not stored, cut short or
    otherwise: that is logged (field and length, no content) and False returned, so the
    person's own message is still answered.
    """
    db, now = _db_and_now(source)
    if not fits(key, ref):
        return False
    with db.transaction() as session:
        return references.remember(session, key, ref, now=now)


def fits(key: IdentityKey, ref: ConversationRef) -> bool:
    """Whether `ref` can be stored as it is; if not, that is logged (field and length, no
    content). The Teams adapter checks this before handing a reference to its inbox batch
    (`bot.services.intake.Inbox.finish`)."""
    why = references.problem(ref)
    if why is not None:
        log.warning("teams reference for %s not stored: %s", key.platform, why)
        return False
    return True


def reference_for(source: Database | Source, key: IdentityKey) -> ConversationRef | None:
    """Where to write to `key` first, or None if no personal message brought one yet."""
    db, _ = _db_and_now(source)
    with db.transaction() as session:
        return references.reference_for(session, key)
