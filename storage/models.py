"""Tables. Every datetime column is UTC (`UTCDateTime`); dates are the user's local dates."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime

# Column.info key of columns holding a secret's ciphertext: never exported (storage.rights).
SECRET_COLUMN = "secret"


def _utc(nullable: bool = False) -> Any:
    return Field(sa_column=Column(UTCDateTime(), nullable=nullable))


def _secret(*, nullable: bool = True) -> Any:
    """Encrypted bytes (storage.secrets): marked so that exports leave them out."""
    return Field(
        default=None,
        sa_column=Column(LargeBinary, nullable=nullable, info={SECRET_COLUMN: True}),
    )


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
    # For the record (issue 13): full name with post-nominals, membership number; "" unset.
    full_name: str = Field(default="", max_length=200)
    membership_number: str = Field(default="", max_length=64)
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
    paused_until: date | None = None  # nothing scheduled is sent before this local date
    # Calendar prompts: learning keywords (comma-separated; None: the defaults) or all events.
    calendar_keywords: str | None = Field(default=None, max_length=1000)
    calendar_all_events: bool = False
    # Minutes in a "full day" of CPD ("half day" is half); None: the scheme's day_hours.
    day_minutes: int | None = None
    last_entry_number: int = 0
    last_evidence_number: int = 0  # E-numbers are never reused (issue 16)
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


class ConversationReference(SQLModel, table=True):
    """Where to write first to an identity on Teams (issue 14): its personal chat's
    conversation reference, as the latest personal message brought it. Too long for
    `identity.chat_id` (service URLs keep their path; conversation ids run to ~130
    characters). Erased with the identity (its foreign key)."""

    __tablename__ = "conversation_reference"

    id: int | None = Field(default=None, primary_key=True)
    identity_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("identity.id", ondelete="CASCADE"), nullable=False, unique=True
        )
    )
    service_url: str = Field(max_length=2048)
    conversation_id: str = Field(max_length=512)
    tenant_id: str = Field(max_length=64)
    bot_id: str = Field(max_length=128)
    channel_id: str = Field(max_length=32)
    updated_at: datetime = _utc()


class Entry(SQLModel, table=True):
    """One CPD activity. `number` is the short id the person sees (#1, #2, ...)."""

    __table_args__ = (UniqueConstraint("person_id", "number"),)

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = _fk("person.id")
    number: int
    title: str = Field(max_length=200)
    activity_date: date = Field(index=True)
    # Last day of a multi-day activity (None: one day). The entry belongs to the CPD year
    # of its first day (activity_date) and counts its minutes once, not per day.
    end_date: date | None = None
    minutes: int
    category: str = Field(max_length=64)
    structured: bool | None = None
    source: str = Field(default="chat", max_length=16)
    evidence_url: str | None = Field(default=None, max_length=500)
    created_at: datetime = _utc()
    updated_at: datetime = _utc()
    deleted_at: datetime | None = _utc(nullable=True)


class EvidenceBlob(SQLModel, table=True):
    """A file's bytes, once, keyed by their SHA-256 (storage.evidence). `content` is None
    when the bytes are in the directory store (EVIDENCE_DIR, a file named by the hash).
    Not linked to a person: deleted with its last `evidence` link."""

    __tablename__ = "evidence_blob"

    sha256: str = Field(primary_key=True, max_length=64)
    size: int
    content: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    created_at: datetime = _utc()


class Evidence(SQLModel, table=True):
    """A piece of a person's evidence, E`number` (never reused): a file (its bytes in
    `evidence_blob`, by `sha256`) or a link (`url`), filed with an entry (`entry_id`; None
    while it waits for one). The same content twice on one entry is refused."""

    __table_args__ = (
        UniqueConstraint("person_id", "number"),
        UniqueConstraint("entry_id", "sha256"),
    )

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = _fk("person.id")
    number: int
    entry_id: int | None = Field(
        default=None,
        sa_column=Column(
            Integer, ForeignKey("entry.id", ondelete="CASCADE"), nullable=True, index=True
        ),
    )
    kind: str = Field(max_length=8)  # "file" | "link"
    name: str = Field(max_length=120)
    mime: str = Field(default="", max_length=100)
    size: int = 0
    sha256: str | None = Field(
        default=None,
        sa_column=Column(String(64), ForeignKey("evidence_blob.sha256"), nullable=True, index=True),
    )
    url: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    received_at: datetime = _utc()


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
    """Platform update ids already handled, so retries and duplicates are processed once.

    `replies` keeps what the update was answered (storage.conversations' JSON of the
    replies) until the adapter confirms it sent them, so a replay after a crash re-sends
    them; None once delivered (or when there was nothing to say). `recipient_id` is the
    person they are for (no foreign key: `/forget` clears the replies and the link, the key
    stays so a redelivered update is still recognised).
    """

    __table_args__ = (UniqueConstraint("platform", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=16)
    key: str = Field(max_length=200)
    created_at: datetime = _utc()
    replies: dict[str, Any] | None = Field(
        default=None, sa_column=Column(JSON(none_as_null=True), nullable=True)
    )
    recipient_id: int | None = Field(default=None, index=True)


class InboxUpdate(SQLModel, table=True):
    """A platform update recorded before it is acknowledged; `done_at` is set once handled.

    An adapter writes the row before it confirms the update to the platform, so a crash
    between the two loses nothing: rows without `done_at` are replayed on the next start.
    `payload` is emptied once handled. `sender` ("platform:workspace:user", as in
    `identity`; "" if unknown) is who sent it, so /export all shows it and /forget erases it.
    """

    __table_args__ = (UniqueConstraint("platform", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=16)
    key: str = Field(max_length=200)
    payload: str = Field(sa_column=Column(Text, nullable=False))
    sender: str = Field(default="", max_length=210, index=True)
    received_at: datetime = _utc()
    done_at: datetime | None = _utc(nullable=True)


class CalendarFeed(SQLModel, table=True):
    """A calendar a person connected; polled for events that just ended.

    kind: ics (a secret address), graph (Outlook through Microsoft Graph: `url` is the
    Graph base URL) or caldav (`url` is the calendar collection). `account` is the
    Microsoft account or CalDAV user name shown in /calendar list. `secret` is the
    encrypted refresh token or password, `access_secret` the encrypted Graph access token
    (storage.secrets; never exported). `body` keeps the last ICS body, or the Graph delta
    state (zlib), so a 304 Not Modified can still be read for events that ended since.
    `failures` counts consecutive failed polls; `retry_at`: not polled before (a server's
    Retry-After).
    """

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = _fk("person.id")
    kind: str = Field(
        default="ics", sa_column=Column(String(10), nullable=False, server_default="ics")
    )
    url: str = Field(sa_column=Column(Text, nullable=False))
    account: str | None = Field(default=None, max_length=320)
    secret: bytes | None = _secret()
    access_secret: bytes | None = _secret()
    access_expires_at: datetime | None = _utc(nullable=True)
    retry_at: datetime | None = _utc(nullable=True)
    owner_emails: str = Field(default="", max_length=500)  # comma-separated, lower-case
    etag: str | None = Field(default=None, max_length=500)
    last_modified: str | None = Field(default=None, max_length=100)
    body: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    last_polled_at: datetime | None = _utc(nullable=True)
    last_ok_at: datetime | None = _utc(nullable=True)
    failures: int = 0
    failure_reported: bool = False
    last_error: str | None = Field(default=None, max_length=500)
    created_at: datetime = _utc()


class CalendarSignin(SQLModel, table=True):
    """A sign-in under way: an Outlook device code (kind graph) or CalDAV calendars offered
    to choose from (kind caldav). One per person and kind: a new one replaces that kind's,
    so choosing a CalDAV calendar never loses an Outlook sign-in.

    The device code is a credential (whoever holds it gets the tokens once the person
    signs in): stored encrypted, never exported. Polled no sooner than `next_poll_at`.
    """

    __tablename__ = "calendar_signin"
    __table_args__ = (UniqueConstraint("person_id", "kind"),)

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(
        sa_column=Column(Integer, ForeignKey("person.id", ondelete="CASCADE"), nullable=False)
    )
    kind: str = Field(default="graph", max_length=10)
    device_code: bytes = _secret(nullable=False)
    user_code: str = Field(max_length=32)
    verification_uri: str = Field(max_length=300)
    interval: int  # seconds between polls, as the identity platform asked
    expires_at: datetime = _utc()
    next_poll_at: datetime = _utc()
    created_at: datetime = _utc()


class Absence(SQLModel, table=True):
    """An out-of-office stretch read from a calendar: nudges and prompts are held during
    it; `told` once the person has been told so."""

    __table_args__ = (UniqueConstraint("feed_id", "uid", "starts_at"),)

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = _fk("person.id")
    feed_id: int = _fk("calendarfeed.id")
    uid: str = Field(max_length=500)
    starts_at: datetime = _utc()
    ends_at: datetime = _utc()
    told: bool = False


class SeenOccurrence(SQLModel, table=True):
    """One calendar occurrence (feed, UID, recurrence id) already prompted: never twice.

    decision: prompted | later | reasked | logged | not_cpd.
    """

    __table_args__ = (UniqueConstraint("feed_id", "uid", "recurrence_id"),)

    id: int | None = Field(default=None, primary_key=True)
    feed_id: int = _fk("calendarfeed.id")
    uid: str = Field(max_length=500)
    recurrence_id: str = Field(default="", max_length=64)
    title: str = Field(max_length=200)
    start: datetime = _utc()
    end: datetime = _utc()
    minutes: int | None = None  # None: all-day or not a plausible CPD duration (ask)
    decision: str = Field(default="prompted", max_length=16)
    remind_at: datetime | None = _utc(nullable=True)  # "Later": when to ask again
    entry_number: int | None = None
    created_at: datetime = _utc()
    decided_at: datetime | None = _utc(nullable=True)


class Outbox(SQLModel, table=True):
    """A message the bot starts, stored before it is sent; the unique key sends it once.

    state: pending -> claimed -> sent, or failed (gave up / unreachable) or expired (its
    grace window passed before it could be sent). A claim not renewed for the claim timeout
    (on the database's clock) is taken over by the next sender (a crash between claim and
    send is retried); (claimed_by, attempts) is the claim's token.
    """

    __table_args__ = (
        UniqueConstraint("person_id", "kind", "key"),
        Index("ix_outbox_state_due", "state", "due_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = _fk("person.id", index=False)
    identity_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("identity.id", ondelete="SET NULL"), nullable=True),
    )
    kind: str = Field(max_length=16)
    key: str = Field(max_length=200)
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    due_at: datetime = _utc()
    expires_at: datetime | None = _utc(nullable=True)
    state: str = Field(default="pending", max_length=16)
    claimed_at: datetime | None = _utc(nullable=True)
    claimed_by: str | None = Field(default=None, max_length=100)
    sent_at: datetime | None = _utc(nullable=True)
    attempts: int = 0
    last_error: str | None = Field(default=None, max_length=500)
    created_at: datetime = _utc()


# ---------------------------------------------------------------- the plan (issue 6)


class Role(SQLModel, table=True):
    """A person's professional role, as they describe it in their plan."""

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("person.id", ondelete="CASCADE"), nullable=False, unique=True
        )
    )
    text: str = Field(max_length=300)
    updated_at: datetime = _utc()


class Responsibility(SQLModel, table=True):
    """One key responsibility of the person's role (STEP: the top 5-7), in their order."""

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = _fk("person.id")
    text: str = Field(max_length=300)
    position: int


class Objective(SQLModel, table=True):
    """A development objective; `number` is the short id the person sees (O1, O2, ...).

    area: technical | ethics | business | management | personal. status: open | done.
    """

    __table_args__ = (UniqueConstraint("person_id", "number"),)

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = _fk("person.id")
    number: int
    title: str = Field(max_length=200)
    area: str = Field(max_length=16)
    target_date: date | None = None
    status: str = Field(default="open", max_length=8)
    created_at: datetime = _utc()
    done_at: datetime | None = _utc(nullable=True)


class EntryObjective(SQLModel, table=True):
    """An entry linked to an objective it served."""

    __table_args__ = (UniqueConstraint("entry_id", "objective_id"),)

    id: int | None = Field(default=None, primary_key=True)
    entry_id: int = _fk("entry.id")
    objective_id: int = _fk("objective.id")


class EntryTag(SQLModel, table=True):
    """A competence tag on an entry, e.g. UK-SPEC 'A' to 'E'."""

    __table_args__ = (UniqueConstraint("entry_id", "tag"),)

    id: int | None = Field(default=None, primary_key=True)
    entry_id: int = _fk("entry.id")
    tag: str = Field(max_length=16)


class StatusPeriodRow(SQLModel, table=True):
    """A membership status held for part of the time (e.g. parental leave), days included."""

    __tablename__ = "status_period"

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = _fk("person.id")
    status_id: str = Field(max_length=64)
    start: date
    end: date


class GapNoteRow(SQLModel, table=True):
    """The person's explanation for a stretch without CPD (days included)."""

    __tablename__ = "gap_note"

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = _fk("person.id")
    start: date
    end: date
    text: str = Field(max_length=500)


# ---------------------------------------------------------------- several bodies (issue 16)


class PersonScheme(SQLModel, table=True):
    """Another body a person follows besides their primary scheme (`person.scheme_id`),
    with their membership status in it ("" = the scheme's default)."""

    __tablename__ = "person_scheme"
    __table_args__ = (UniqueConstraint("person_id", "scheme_id"),)

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = _fk("person.id")
    scheme_id: str = Field(max_length=64)
    status_id: str = Field(default="", max_length=64)
    created_at: datetime = _utc()


class EntryCategory(SQLModel, table=True):
    """An entry's category in another body the person follows: derived from the primary
    category (the schemes' `maps_to`), or the person's answer (`chosen`: kept when the
    primary category changes). `category` None: not mappable, still to be asked."""

    __tablename__ = "entry_category"
    __table_args__ = (UniqueConstraint("entry_id", "scheme_id"),)

    id: int | None = Field(default=None, primary_key=True)
    entry_id: int = _fk("entry.id")
    scheme_id: str = Field(max_length=64)
    category: str | None = Field(default=None, max_length=64)
    chosen: bool = False


# ---------------------------------------------------------------- HCPC profile (issue 16)


class CpdProfile(SQLModel, table=True):
    """What /profile gathered for the HCPC CPD profile (`/export hcpc`): the entries picked
    (their numbers), the summary of recent work and a statement per CPD standard (five)."""

    __tablename__ = "cpd_profile"

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("person.id", ondelete="CASCADE"), nullable=False, unique=True
        )
    )
    entry_numbers: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    summary: str = Field(default="", sa_column=Column(Text, nullable=False))
    standards: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    updated_at: datetime = _utc()
