"""Helpers for the scheduler tests: a recording Sender, ticks at frozen instants, users."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlmodel import select

from bot.core.model import IdentityKey, Outgoing, ReflectionView
from bot.core.schemes import Scheme
from bot.services.engine import Engine
from bot.services.outbound.jobs import Jobs
from bot.services.outbound.sending import Sent, TickReport
from storage import entry_store, repo
from storage.db import Database
from storage.models import Outbox, Person
from tests.conftest import Chat, Clock


@dataclass
class Recorder:
    """A Sender that keeps what it was asked to send (optionally failing first)."""

    platform: str = "console"
    sent: list[tuple[IdentityKey, Outgoing]] = field(default_factory=list)
    fail_with: list[BaseException] = field(default_factory=list)

    async def send(self, identity: IdentityKey, chat_id: str | None, reply: Outgoing) -> None:
        if self.fail_with:
            raise self.fail_with.pop(0)
        self.sent.append((identity, reply))


def make_jobs(
    db: Database, schemes: dict[str, Scheme], clock: Clock, **kwargs: Any
) -> tuple[Jobs, Recorder]:
    recorder = Recorder()
    senders = kwargs.pop("senders", {"console": recorder})
    return Jobs(db, schemes, clock, senders=senders, **kwargs), recorder


def run_tick(jobs: Jobs, clock: Clock, at: datetime) -> TickReport:
    clock.now = at
    return asyncio.run(jobs.tick(at))


def tick(jobs: Jobs, clock: Clock, at: datetime) -> list[Sent]:
    return run_tick(jobs, clock, at).sent


def user(engine: Engine, name: str, zone: str = "Europe/London", scheme: str = "IET") -> Chat:
    chat = Chat(engine, IdentityKey("console", name))
    chat.say("/start")
    chat.press(scheme)
    chat.say(zone)
    assert "All set" in chat.text, chat.text
    return chat


def person_of(db: Database, name: str) -> Person:
    with db.transaction() as s:
        identity = repo.find_identity(s, IdentityKey("console", name))
        assert identity is not None
        person = s.get(Person, identity.person_id)
        assert person is not None
        return person


def set_person(db: Database, name: str, **fields: object) -> None:
    with db.transaction() as s:
        identity = repo.find_identity(s, IdentityKey("console", name))
        assert identity is not None
        person = s.get(Person, identity.person_id)
        assert person is not None
        repo.update_person(s, person.id, dict(fields))


def add_entry(
    db: Database,
    name: str,
    *,
    day: date,
    minutes: int,
    category: str = "training_courses",
    pending: bool = False,
    created_at: datetime,
    title: str = "Course",
) -> int:
    """Store an entry directly (answered reflections unless `pending`); its number."""
    with db.transaction() as s:
        identity = repo.find_identity(s, IdentityKey("console", name))
        assert identity is not None
        person = s.get(Person, identity.person_id)
        assert person is not None
        number = person.last_entry_number + 1
        answer = None if pending else "Learned something"
        entry_store.create_entry(
            s,
            person.id,
            number=number,
            title=title,
            activity_date=day,
            minutes=minutes,
            category=category,
            structured=None,
            source="chat",
            reflections=(
                ReflectionView("key_points", "Key points?", answer),
                ReflectionView("change", "What will you change?", answer),
            ),
            now=created_at,
        )
        return number


def outbox_rows(db: Database, kind: str | None = None) -> list[Outbox]:
    with db.transaction() as s:
        query = select(Outbox).order_by(Outbox.id)  # type: ignore[arg-type]
        if kind is not None:
            query = query.where(Outbox.kind == kind)
        return list(s.exec(query).all())


def sent_to(sent: list[Sent], kind: str | None = None) -> list[tuple[str, str, str]]:
    """(user, kind, key) of each sent message, optionally of one kind."""
    return [(m.recipient.user_id, m.kind, m.key) for m in sent if kind is None or m.kind == kind]
