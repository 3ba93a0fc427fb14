"""A PDF certificate's text (pypdf, up to 2 s of CPU) is never read while the event's
transaction is open: it would hold SQLite's write lock, and every other member's message
would wait behind it. Checked on a certificate sent, and on [Use these] and [Log it]
pressed later, through the real engine on both databases: the engine's transactions are
counted, and on SQLite another connection must be able to take the write lock while the
PDF is read."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlmodel import Session

from bot.core.model import Incoming, IncomingFile, Kind
from bot.services import certificate
from tests.conftest import Chat
from tests.services.test_certificate import IET_ACADEMY, _pdf

CERT = _pdf([IET_ACADEMY])
SAYS = "The certificate says: 'Introduction to Functional Safety', 5 Mar 2026, 6 h"


@dataclass
class Watch:
    """The engine's open transactions, and what was seen each time a PDF was read."""

    sqlite_path: str | None
    open: int = 0
    reads: list[tuple[int, bool]] = field(default_factory=list)  # (open, write lock free)

    def lock_free(self) -> bool:
        """Whether another connection can take SQLite's write lock now (True elsewhere)."""
        if self.sqlite_path is None:
            return True
        other = sqlite3.connect(self.sqlite_path, timeout=0, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")
            other.execute("ROLLBACK")
            return True
        except sqlite3.OperationalError:
            return False
        finally:
            other.close()

    def seen(self) -> None:
        self.reads.append((self.open, self.lock_free()))


@pytest.fixture
def watch(chat: Chat, monkeypatch: pytest.MonkeyPatch) -> Watch:
    db = chat.engine.db
    watch = Watch(db.engine.url.database if db.is_sqlite else None)
    opened = db.transaction

    @contextmanager
    def counted() -> Iterator[Session]:
        with opened() as session:
            watch.open += 1
            try:
                yield session
            finally:
                watch.open -= 1

    monkeypatch.setattr(db, "transaction", counted)
    read_text, propose = certificate.read_text, certificate.propose

    def reading(*args: Any, **kwargs: Any) -> Any:
        watch.seen()
        return read_text(*args, **kwargs)

    def proposing(*args: Any, **kwargs: Any) -> Any:
        watch.seen()
        return propose(*args, **kwargs)

    monkeypatch.setattr(certificate, "read_text", reading)
    monkeypatch.setattr(certificate, "propose", proposing)
    return watch


def send_certificate(chat: Chat) -> None:
    sent = IncomingFile("certificate.pdf", CERT, len(CERT))
    chat.send(Incoming(chat.identity, Kind.FILE, file=sent))


def log(chat: Chat, line: str) -> None:
    chat.say(line)
    for _ in range(6):
        if "Saved #" in chat.text:
            return
        chat.say("later")
    raise AssertionError(chat.text)


def assert_read_outside(watch: Watch) -> None:
    assert watch.reads, "the certificate was not read at all"
    assert watch.reads == [(0, True)] * len(watch.reads)


def test_a_certificate_sent_is_read_before_the_transaction(chat: Chat, watch: Watch) -> None:
    log(chat, "/log 2h Safety course yesterday training")
    send_certificate(chat)
    assert SAYS in chat.text
    assert_read_outside(watch)


def test_use_these_reads_the_kept_certificate_outside_the_transaction(
    chat: Chat, watch: Watch
) -> None:
    log(chat, "/log 2h Safety course yesterday training")
    send_certificate(chat)
    use = chat.choice("Use these")
    watch.reads.clear()
    chat.send(Incoming(chat.identity, Kind.CHOICE, choice=use.id))
    assert "Updated #1 from the certificate" in chat.text
    assert_read_outside(watch)
    record = chat.engine.record(chat.identity)
    assert record is not None
    assert [(e.title, e.minutes) for e in record.entries] == [
        ("Introduction to Functional Safety", 360)
    ]


def test_log_it_reads_the_kept_certificate_outside_the_transaction(
    chat: Chat, watch: Watch
) -> None:
    send_certificate(chat)
    watch.reads.clear()
    chat.press("Log it")
    assert "Logging it from the certificate ('Introduction to Functional Safety'" in chat.text
    assert_read_outside(watch)
