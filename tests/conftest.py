"""Shared fixtures: a frozen clock, schemes, a real SQLite database and a chat driver."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.engine import Engine
from bot.model import Choice, IdentityKey, Incoming, Kind, Outgoing
from bot.schemes import Scheme, load_schemes
from storage.db import Database

SHARED = Path(__file__).resolve().parents[2] / "shared"
# Sunday 22 November 2026, 10:00 in London (UTC in winter).
NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)


class Clock:
    """A clock the tests set by hand: time never passes unless a test moves it."""

    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture(scope="session")
def schemes() -> dict[str, Scheme]:
    return dict(load_schemes())


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(f"sqlite:///{tmp_path / 'cpd.db'}")
    database.create_all()
    yield database
    database.dispose()


@pytest.fixture
def engine(db: Database, schemes: dict[str, Scheme], clock: Clock) -> Engine:
    return Engine(db, schemes, clock)


@dataclass
class Chat:
    """A person talking to the engine: `say` and `press` return the bot's replies."""

    engine: Engine
    identity: IdentityKey
    timezone_hint: str | None = None
    replies: list[Outgoing] = field(default_factory=list)

    def send(self, event: Incoming) -> list[Outgoing]:
        self.replies = self.engine.handle_sync(event)
        return self.replies

    def say(self, text: str) -> list[Outgoing]:
        return self.send(Incoming.text_of(self.identity, text, timezone_hint=self.timezone_hint))

    def press(self, label: str) -> list[Outgoing]:
        choice = self.choice(label)
        return self.send(Incoming(self.identity, Kind.CHOICE, choice=choice.id))

    def choice(self, label: str) -> Choice:
        shown = [c for r in self.replies for c in r.choices]
        for c in shown:
            if c.label == label:
                return c
        raise AssertionError(f"no choice {label!r} among {[c.label for c in shown]}")

    @property
    def text(self) -> str:
        return "\n".join(r.text for r in self.replies)

    def onboard(self, scheme: str = "IET", zone: str = "Europe/London") -> None:
        self.say("/start")
        self.press(scheme)
        self.press(zone)


@pytest.fixture
def chat(engine: Engine) -> Chat:
    c = Chat(engine, IdentityKey("console", "alice"))
    c.onboard()
    return c
