"""Tables. Every datetime column is UTC (`UTCDateTime`); dates are the user's local dates."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, ForeignKey, Integer, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime


def _utc(nullable: bool = False) -> Any:
    return Field(sa_column=Column(UTCDateTime(), nullable=nullable))


def _fk(target: str, *, index: bool = True) -> Any:
    return Field(
        sa_column=Column(
            Integer, ForeignKey(target, ondelete="CASCADE"), nullable=False, index=index
        )
    )


class Person(SQLModel, table=True):
    """One professional; may be reachable through several platform identities."""

    id: int | None = Field(default=None, primary_key=True)
    display_name: str = Field(default="", max_length=200)
    timezone: str = Field(default="UTC", max_length=64)
    scheme_id: str = Field(default="generic", max_length=64)
    status_id: str = Field(default="", max_length=64)
    date_order: str = Field(default="DMY", max_length=3)
    languages: str = Field(default="en", max_length=64)
    # CPD year start override (month, day); None means the scheme's.
    year_start_month: int | None = None
    year_start_day: int | None = None
    studying_he: bool = False
    onboarded: bool = False
    # Monthly nudge preferences (day of month, local hour, on/off, "always" | "behind").
    nudge_day: int = 1
    nudge_hour: int = 9
    nudges_enabled: bool = True
    nudge_mode: str = Field(default="always", max_length=16)
    paused_until: date | None = None
    last_entry_number: int = 0
    created_at: datetime = _utc()


class Identity(SQLModel, table=True):
    """A platform account (platform + workspace + user id) linked to a person."""

    __table_args__ = (UniqueConstraint("platform", "workspace", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = _fk("person.id")
    platform: str = Field(max_length=16)
    workspace: str = Field(default="", max_length=64)
    user_id: str = Field(max_length=128)
    chat_id: str | None = Field(default=None, max_length=128)
    unreachable: bool = False
    created_at: datetime = _utc()


class Entry(SQLModel, table=True):
    """One CPD activity. `number` is the short id the person sees (#1, #2, ...)."""

    __table_args__ = (UniqueConstraint("person_id", "number"),)

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = _fk("person.id")
    number: int
    title: str = Field(max_length=200)
    activity_date: date = Field(index=True)
    minutes: int
    category: str = Field(max_length=64)
    structured: bool | None = None
    source: str = Field(default="chat", max_length=16)
    evidence_url: str | None = Field(default=None, max_length=500)
    created_at: datetime = _utc()
    updated_at: datetime = _utc()
    deleted_at: datetime | None = _utc(nullable=True)


class Reflection(SQLModel, table=True):
    """An answer to one of the scheme's reflection questions; answer None = pending."""

    __table_args__ = (UniqueConstraint("entry_id", "question_id"),)

    id: int | None = Field(default=None, primary_key=True)
    entry_id: int = _fk("entry.id")
    question_id: str = Field(max_length=64)
    question: str = Field(max_length=300)
    answer: str | None = Field(default=None, max_length=4000)
    answered_at: datetime | None = _utc(nullable=True)


class Conversation(SQLModel, table=True):
    """Dialogue state per identity; `version` guards against concurrent updates."""

    id: int | None = Field(default=None, primary_key=True)
    identity_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("identity.id", ondelete="CASCADE"), nullable=False, unique=True
        )
    )
    state: str = Field(default="idle", max_length=32)
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    version: int = 0
    updated_at: datetime = _utc()


class ProcessedEvent(SQLModel, table=True):
    """Platform update ids already handled, so retries and duplicates are processed once."""

    __table_args__ = (UniqueConstraint("platform", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=16)
    key: str = Field(max_length=200)
    created_at: datetime = _utc()


class InboxUpdate(SQLModel, table=True):
    """A platform update recorded before it is acknowledged; `done_at` is set once handled.

    An adapter writes the row before it confirms the update to the platform, so a crash
    between the two loses nothing: rows without `done_at` are replayed on the next start.
    """

    __table_args__ = (UniqueConstraint("platform", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=16)
    key: str = Field(max_length=200)
    payload: str = Field(sa_column=Column(Text, nullable=False))
    received_at: datetime = _utc()
    done_at: datetime | None = _utc(nullable=True)
