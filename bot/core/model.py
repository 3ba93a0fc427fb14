"""Platform-free values exchanged between adapters, the engine and the dialogue."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any, Protocol


class Kind(StrEnum):
    TEXT = "text"
    COMMAND = "command"
    CHOICE = "choice"
    FORM = "form"  # a submitted form (Slack modal): field id -> raw value
    FILE = "file"  # a file the member sent (Incoming.file); its caption, if any, in text


@dataclass(frozen=True)
class IdentityKey:
    """Who sent an event: the same user id in two workspaces is two people."""

    platform: str
    user_id: str
    workspace: str = ""

    @staticmethod
    def parse(text: str) -> IdentityKey:
        """'NAME' (console), 'telegram:ID', 'slack:TEAM:USER' or 'teams:TENANT:AAD'
        (the tenant id and the person's Entra object id, as the Teams adapter keys them)."""
        platform, _, rest = text.partition(":")
        if platform == "telegram" and rest:
            return IdentityKey("telegram", rest)
        if platform in ("slack", "teams") and rest.count(":") == 1:
            workspace, user = rest.split(":")
            if workspace and user:
                return IdentityKey(platform, user, workspace)
        return IdentityKey("console", text)


@dataclass(frozen=True)
class Incoming:
    """One thing a person did: typed text, a /command, or pressed a choice (button)."""

    identity: IdentityKey
    kind: Kind
    text: str = ""
    command: str = ""  # lower-case, without the slash or @botname
    args: str = ""
    choice: str = ""  # the choice id carried by the button, never its label
    private: bool = True  # False in a group chat or channel: nothing personal is shown
    chat_id: str | None = None  # where to reach this person privately
    display_name: str = ""
    timezone_hint: str | None = None  # IANA zone the platform reports for the user
    dedupe_key: str | None = None  # platform update id: a repeat is processed once
    # When the person sent it, by the platform's clock (aware): "yesterday" means the day
    # before that, even if the update reaches the bot later (downtime, a replay).
    sent_at: datetime | None = None
    form: Mapping[str, str] = field(default_factory=dict)  # Kind.FORM: field id -> value
    file: IncomingFile | None = None  # Kind.FILE: what was sent (never stored in the inbox)

    @staticmethod
    def text_of(identity: IdentityKey, text: str, **extra: Any) -> Incoming:
        """Build an event from a line as a person types it: '/cmd args' or plain text."""
        stripped = text.strip()
        if stripped.startswith("/") and len(stripped) > 1 and not stripped[1].isspace():
            head, _, args = stripped[1:].partition(" ")
            command = head.split("@", 1)[0].lower()
            return Incoming(
                identity, Kind.COMMAND, text=text, command=command, args=args.strip(), **extra
            )
        return Incoming(identity, Kind.TEXT, text=text, **extra)


@dataclass(frozen=True)
class Choice:
    id: str
    label: str


@dataclass(frozen=True)
class FileRequest:
    """A file the engine makes after the event's transaction has committed (a PDF takes
    about a second to lay out: the write transaction is not held for it), then attaches
    to the reply that asked for it. kind: pdf | md (the report loaded for `Needs.report_year`)
    or all (everything held about the person, a ZIP)."""

    kind: str
    failed: str = ""  # the text sent instead when the file cannot be made
    # pdf | md | docx of another body followed (issue 16): its scheme id, and the year its
    # CPD year starts in (0: its current one); "": the main body's record.
    body: str = ""
    year: int = 0


@dataclass(frozen=True)
class SecretAsk:
    """Ask for a secret (a CalDAV password) where it stays out of the chat history."""

    field: str  # the answer comes back as Incoming(kind=Kind.FORM, form={field: value})
    label: str  # e.g. "Password for alice at caldav.fastmail.com"
    button: str = "Enter password"


@dataclass(frozen=True)
class AccountRequest:
    """A calendar account step the engine carries out after the event's transaction has
    committed, as it makes files (it talks to Microsoft or a CalDAV server), then answers
    in place of the reply that asked. kind: outlook (start a device-code sign-in) | caldav
    (check the password the event brought, at `url` for user `account`) | caldav_pick
    (connect calendar `pick` of the choice waiting). Never carries a secret: the password
    is read from the event itself, and these requests are not kept for a replay."""

    kind: str
    url: str = ""
    account: str = ""
    pick: int = 0


@dataclass(frozen=True)
class Outgoing:
    """A reply: text plus the choices a person can press (rendered per platform)."""

    text: str
    choices: tuple[Choice, ...] = ()
    attachment: Attachment | None = None
    # For a Kind.FORM event that failed validation: field id -> what is wrong with it.
    errors: Mapping[str, str] = field(default_factory=dict)
    # Set by the dialogue, replaced by `attachment` in the engine: adapters never see it.
    file: FileRequest | None = None
    # The answer itself is a number (hours): a console keys its choices with letters, not
    # numbers, so a typed '3' is the answer and never a pick. Buttons are unaffected.
    numeric_answer: bool = False
    # A button press the dialogue did not take (from an earlier message): adapters leave the
    # pressed message as it was instead of marking the choice on it.
    refused_press: bool = False
    # Ask for a secret out of the chat history: console without echo, a Slack modal, a Teams
    # card password input; on Telegram the member types it and the next reply scrubs it.
    secret: SecretAsk | None = None
    # The message just answered held a secret: delete it where the platform lets a bot
    # (Telegram); say so otherwise.
    scrub_incoming: bool = False
    # Set by the dialogue, carried out (and removed) by the engine after the commit.
    account: AccountRequest | None = None


@dataclass(frozen=True)
class FormField:
    """One field of the entry form; adapters render it (Slack: Block Kit input blocks).

    kind: text | longtext | date (ISO yyyy-mm-dd) | hours | select (one of options).
    """

    id: str  # title, date, hours, category, structured, r:<question id>
    label: str
    kind: str
    required: bool = True
    options: tuple[Choice, ...] = ()
    placeholder: str = ""
    max_length: int = 200


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    mime_type: str


@dataclass(frozen=True)
class PersonView:
    display_name: str
    timezone: str
    scheme_id: str
    status_id: str
    date_order: str
    languages: tuple[str, ...]
    onboarded: bool
    last_entry_number: int
    studying_he: bool = False
    year_start: tuple[int, int] | None = None
    # Scheduled messages: monthly nudge (day of month, local hour, on/off, always|behind),
    # a pause (nothing scheduled is sent before that local date), calendar event filter.
    nudge_day: int = 1
    nudge_hour: int = 9
    nudges_enabled: bool = True
    nudge_mode: str = "always"
    paused_until: date | None = None
    calendar_keywords: str | None = None  # comma-separated; None: the default keywords
    calendar_all_events: bool = False
    joined: datetime | None = None  # when the person first wrote (nothing due before is sent)
    full_name: str = ""  # for the record, with post-nominals ("" not given)
    membership_number: str = ""
    day_minutes: int | None = None  # a "full day" in minutes; None: the scheme's day_hours
    last_evidence_number: int = 0  # E-numbers given so far (the next one kept is this + 1)


@dataclass(frozen=True)
class ReflectionView:
    question_id: str
    question: str
    answer: str | None


@dataclass(frozen=True)
class EvidenceView:
    """One piece of evidence kept with an entry (a file or a link), as the record lists it.

    `number` is the member's evidence number (E1, E2, ... in the order received, never
    reused), the one the record, its index and the exported file names use."""

    number: int
    entry_number: int  # the entry's #number (0: not yet filed with an entry)
    kind: str  # "file" | "link"
    name: str  # the file's name as sent (cleaned), or the link
    mime: str  # detected from the content ("" for a link)
    size: int  # bytes (0 for a link)
    sha256: str  # hex of the content ("" for a link)
    received_at: datetime  # UTC
    url: str = ""  # a link's whole address (`name` may be shortened); "" for a file

    @property
    def label(self) -> str:
        return f"E{self.number}"


@dataclass(frozen=True)
class IncomingFile:
    """A file a member sent, as the adapter downloaded it (at most EVIDENCE_MAX_MB).

    `size` is what the platform declared; a file declared over the limit is not
    downloaded (`content` empty) so the dialogue can say so. The content decides the type,
    never `mime_hint` or the name."""

    name: str
    content: bytes
    size: int
    mime_hint: str = ""


@dataclass(frozen=True)
class EntryView:
    number: int
    title: str
    activity_date: date
    minutes: int
    category: str
    structured: bool | None
    source: str
    deleted: bool
    reflections: tuple[ReflectionView, ...] = ()
    end_date: date | None = None  # last day of a multi-day activity (None: one day)
    evidence: tuple[EvidenceView, ...] = ()  # kept with this entry, in E-number order

    @property
    def pending(self) -> tuple[ReflectionView, ...]:
        return tuple(r for r in self.reflections if r.answer is None)


@dataclass(frozen=True)
class YearSummary:
    start: date
    end: date  # exclusive
    minutes_by_category: dict[str, int]
    entries: int
    pending_entries: int  # entries with at least one reflection still to answer

    @property
    def total_minutes(self) -> int:
        return sum(self.minutes_by_category.values())


@dataclass(frozen=True)
class Tally:
    """A CPD year's live activities as the scheme rules (`bot.core.assess`) read them.

    Counted from a loaded record (`assess.tally`) or by the database (`tally.year_tally`).
    The totals cover every activity. Of the activities themselves only those a rule may
    have to name are kept, oldest first: every activity short of an answer that a
    per-activity check needs is among `unanswered`, and every activity on ethics among
    `ethics`. Either may hold other activities too: the rules look at each one.
    """

    entries: int
    pending_entries: int  # entries with at least one reflection still to answer
    minutes: Mapping[tuple[str, bool | None], int]  # by (category, structured)
    dates: tuple[date, ...] = ()  # the days with an activity, oldest first
    unanswered: tuple[EntryView, ...] = ()
    ethics: tuple[EntryView, ...] = ()


@dataclass(frozen=True)
class FeedView:
    """A connected calendar feed, as /calendar list shows it (never the full secret URL)."""

    number: int  # 1-based position in the person's list
    feed_id: int
    url: str
    last_ok_at: datetime | None
    failures: int
    kind: str = "ics"  # ics | graph (Outlook) | caldav
    account: str = ""  # the Microsoft account or CalDAV user name ("" for ICS)


@dataclass(frozen=True)
class SigninView:
    """A calendar sign-in under way: an Outlook device code waiting for the member (graph),
    or CalDAV calendars offered to choose from (caldav). Never the device code itself."""

    kind: str
    user_code: str
    verification_uri: str
    expires_at: datetime  # aware, UTC


@dataclass(frozen=True)
class OccurrenceView:
    """A calendar occurrence the bot asked about (the buttons of the prompt carry its id)."""

    id: int
    title: str
    start: datetime  # aware, UTC
    end: datetime
    minutes: int | None  # None: all-day or implausible as CPD hours, so the dialogue asks
    decision: str  # prompted | later | reasked | logged | not_cpd
    entry_number: int | None = None


# Effects: what the engine must write, in the same transaction as the new state.


@dataclass(frozen=True)
class SaveEntry:
    number: int
    title: str
    activity_date: date
    minutes: int
    category: str
    structured: bool | None
    source: str
    reflections: tuple[ReflectionView, ...]
    end_date: date | None = None  # last day of a multi-day activity (None: one day)


@dataclass(frozen=True)
class UpdateEntry:
    number: int
    fields: dict[str, object] = field(default_factory=dict)
    reflections: tuple[ReflectionView, ...] = ()


@dataclass(frozen=True)
class DeleteEntry:
    number: int


@dataclass(frozen=True)
class RestoreEntry:
    number: int


@dataclass(frozen=True)
class UpdatePerson:
    fields: dict[str, object]


@dataclass(frozen=True)
class AddFeed:
    url: str
    owner_emails: tuple[str, ...] = ()


@dataclass(frozen=True)
class RemoveFeed:
    feed_id: int


@dataclass(frozen=True)
class CancelSignin:
    """End the person's calendar sign-in under way (its device code or password goes)."""


@dataclass(frozen=True)
class DecideOccurrence:
    """The person's answer to a calendar prompt (later: ask again at `remind_at`)."""

    occurrence_id: int
    decision: str  # later | logged | not_cpd
    remind_at: datetime | None = None
    entry_number: int | None = None


# The plan (storage.plan_store). The dialogue checks each against the loaded plan first; a
# PlanError the engine still meets (a change made meanwhile) becomes a reply.


@dataclass(frozen=True)
class SetRole:
    text: str  # '' clears it


@dataclass(frozen=True)
class AddResponsibility:
    text: str


@dataclass(frozen=True)
class RemoveResponsibility:
    position: int  # 1-based


@dataclass(frozen=True)
class AddObjective:
    title: str
    area: str
    target_date: date | None = None


@dataclass(frozen=True)
class SetObjectiveDone:
    number: int
    done: bool = True


@dataclass(frozen=True)
class DeleteObjective:
    number: int


@dataclass(frozen=True)
class LinkEntry:
    entry_number: int
    objective_number: int
    link: bool = True  # False: unlink


@dataclass(frozen=True)
class SetEntryTags:
    entry_number: int
    tags: tuple[str, ...]


@dataclass(frozen=True)
class AddStatusPeriod:
    status_id: str
    start: date
    end: date  # included


@dataclass(frozen=True)
class AddGapNote:
    start: date
    end: date  # included
    text: str


@dataclass(frozen=True)
class SaveProfile:
    """Keep what /profile gathered so far (issue 16: the HCPC CPD profile): the picked
    entries' numbers, the summary of recent work and the five standards' statements."""

    entry_numbers: tuple[int, ...]
    summary: str
    standards: tuple[str, ...]


@dataclass(frozen=True)
class ProfileView:
    """The HCPC CPD profile as kept, with the two-year registration period it covers: its
    live entries (oldest first) and the gaps of three months or more, explained or not."""

    entry_numbers: tuple[int, ...] = ()
    summary: str = ""
    standards: tuple[str, ...] = ()
    start: date = date.min  # the period's first day
    end: date = date.min  # its last day (today)
    entries: tuple[EntryView, ...] = ()
    gaps: tuple[tuple[date, date, str], ...] = ()  # first day, last day, explanation ("" none)


@dataclass(frozen=True)
class FileEvidence:
    """File evidence E{number} (waiting, or with another entry) with entry #entry_number."""

    number: int
    entry_number: int


@dataclass(frozen=True)
class AttachLink:
    """Keep `url` (checked by the dialogue: http(s), no credentials) as link evidence."""

    entry_number: int
    url: str
    number: int = 0  # the E-number the dialogue said it gets (0: not said)


@dataclass(frozen=True)
class RemoveEvidence:
    number: int  # E{number}: it goes from the entry, its content if nothing else holds it


@dataclass(frozen=True)
class ForgetPerson:
    """Erase every row held about the person (storage.rights.forget_person), for real.

    The engine then writes nothing more for this event: not even the conversation,
    whose row is gone with the rest."""


@dataclass(frozen=True)
class SetBodies:
    """Several bodies (issue 16): the bodies the person follows besides their primary
    scheme, by scheme id (replacing the list; empty: none)."""

    scheme_ids: tuple[str, ...]


@dataclass(frozen=True)
class FileCategory:
    """The person's answer: entry #`entry_number` is in `category` of body `scheme_id`."""

    entry_number: int
    scheme_id: str
    category: str


Effect = (
    SaveEntry
    | UpdateEntry
    | DeleteEntry
    | RestoreEntry
    | UpdatePerson
    | AddFeed
    | RemoveFeed
    | CancelSignin
    | DecideOccurrence
    | SetRole
    | AddResponsibility
    | RemoveResponsibility
    | AddObjective
    | SetObjectiveDone
    | DeleteObjective
    | LinkEntry
    | SetEntryTags
    | AddStatusPeriod
    | AddGapNote
    | SaveProfile
    | ForgetPerson
    | FileEvidence
    | AttachLink
    | RemoveEvidence
    | SetBodies
    | FileCategory
)


# Outbound messages started by the bot (scheduler): each adapter provides a Sender.


class Unreachable(Exception):
    """The person cannot be reached on this platform (blocked the bot, left, deleted)."""


@dataclass(frozen=True)
class ConversationRef:
    """Where a Teams bot writes to a person first (nudges, summaries): the personal chat's
    conversation reference, as the last personal message brought it. `service_url` is kept
    whole, path included (e.g. https://smba.trafficmanager.net/emea/<tenant>/)."""

    service_url: str
    conversation_id: str
    tenant_id: str
    bot_id: str
    channel_id: str = "msteams"


class Sender(Protocol):
    """Sends a message to a person's private chat, within the platform's rate limits.

    Raises `Unreachable` when the platform says the person can never be reached there;
    waits out rate limits itself (without holding up messages to other people).
    """

    platform: str

    async def send(self, identity: IdentityKey, chat_id: str | None, reply: Outgoing) -> None: ...
