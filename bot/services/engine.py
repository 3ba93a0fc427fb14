"""The engine: one incoming event -> one transaction -> replies.

Per event it loads the identity, person and conversation, asks the dialogue what else it
needs, runs the pure `step`, and writes the new state and the effects in the same
transaction. Conversation state lives in the database, so a restart mid-dialogue resumes
where it was, and a concurrent event for the same conversation is retried, never merged.

Files a reply asks for (`Outgoing.file`: a PDF or Markdown record, everything as a ZIP)
are made after that transaction has committed, so laying out a PDF never holds the
database's write lock; so is a PDF certificate's text read outside it (before, or after
a rollback: bot.services.evidence_effects). What is read for a step is in
bot.services.loading, how its effects are written in bot.services.effects. `/forget`
erases the person inside the transaction; nothing is written after it, not even the
conversation (its row is gone with the rest).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import Session

from bot import dialogue
from bot.core.model import (
    Attachment,
    Effect,
    FileRequest,
    FormField,
    IdentityKey,
    Incoming,
    Kind,
    Outgoing,
    PersonView,
)
from bot.core.plan import PlanError
from bot.core.record import MIME, Record, everything_name
from bot.core.report import Report
from bot.core.schemes import Scheme, default_schemes, scheme_for
from bot.core.snapshot import Snapshot
from bot.core.zones import is_zone, local_today
from bot.dialogue import Context, Conv
from bot.services import (
    audit_packs,
    bodies,
    calendar_signin,
    effects,
    evidence_effects,
    loading,
    records,
)
from bot.services.calendar.graph_auth import MicrosoftEndpoints
from bot.services.evidence import EvidenceSettings
from storage import conversations, entry_store, repo
from storage.db import Database, is_disk_full

log = logging.getLogger("cpdbot.engine")

Clock = Callable[[], datetime]
MAX_ATTEMPTS = 6
DISK_FULL = (
    "I couldn't save that: the server's disk is full, so nothing was saved and we are still "
    "at the same step. Please send it again in a while; the people running me have been told."
)
ECHO_MAX = 3500  # characters of the person's own text given back when it could not be saved
# Who writes in a group chat or channel: no person is read or created for it.
ANONYMOUS = PersonView("", "UTC", "generic", "", "DMY", ("en",), True, 0)


def utcnow() -> datetime:
    return datetime.now(UTC)


class _Duplicate(Exception):
    """The update was handled before: what it was answered, if not yet confirmed delivered."""

    def __init__(self, outcome: _Outcome) -> None:
        super().__init__("duplicate")
        self.outcome = outcome


class _Refused(Exception):
    """An effect storage refused (PlanError): the whole event is rolled back."""


@dataclass(frozen=True)
class _Outcome:
    """What one transaction produced: the replies, and the report their files are made from."""

    replies: tuple[Outgoing, ...]
    report: Report | None = None


@dataclass(frozen=True)
class Handled:
    """What one event produced (replies) and how it went, for logs and adapters."""

    replies: tuple[Outgoing, ...]
    duplicate: bool = False
    attempts: int = 1
    # process(make_files=False): what the files the replies ask for are to be made from.
    report: Report | None = None
    # A press of a button the dialogue no longer accepts: nothing was taken, so adapters
    # leave its card (or message) as it was rather than marking the choice as made.
    stale_press: bool = False

    @property
    def wants_files(self) -> bool:
        """Some reply still asks for a file or an account step (see `Engine.make_files`)."""
        return any(r.file is not None or r.account is not None for r in self.replies)


class Engine:
    def __init__(
        self,
        db: Database,
        schemes: Mapping[str, Scheme] | None = None,
        clock: Clock = utcnow,
        *,
        allow_private_feeds: bool = False,
        microsoft: MicrosoftEndpoints | None = None,
        evidence: EvidenceSettings | None = None,
    ) -> None:
        self.db = db
        self.schemes = schemes if schemes is not None else default_schemes()
        self.clock = clock
        # CALENDAR_ALLOW_PRIVATE_NETWORKS: calendar URLs on private addresses are accepted.
        self.allow_private_feeds = allow_private_feeds
        self.microsoft = microsoft  # MICROSOFT_CLIENT_ID etc.: /calendar outlook (None: off)
        self.evidence = evidence or EvidenceSettings()  # EVIDENCE_MAX_MB, _QUOTA_MB, _DIR

    async def handle(self, event: Incoming) -> list[Outgoing]:
        """Handle one event off the event loop (database work runs in a worker thread)."""
        handled = await asyncio.to_thread(self.process, event)
        return list(handled.replies)

    def handle_sync(self, event: Incoming) -> list[Outgoing]:
        return list(self.process(event).replies)

    def process(self, event: Incoming, *, make_files: bool = True) -> Handled:
        """Handle one event in one transaction. Files the replies ask for (exports) are
        made after the commit; `make_files=False` leaves that to `make_files`, so a caller
        on an event loop can make them in a thread (a PDF is 0.3-1 s of CPU)."""
        started = time.perf_counter()
        readings = evidence_effects.read_before(event)  # a PDF's text: CPU, before the lock
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                outcome = self._transaction(event, readings)
            except _Duplicate as repeat:
                # Handled before. Replies still kept were lost (a crash before they were
                # sent): they go out again; once delivered, a repeat says nothing.
                outcome = repeat.outcome
                self._log(event, started, "duplicate" if not outcome.replies else "resent")
                if not make_files:
                    return Handled(
                        outcome.replies,
                        duplicate=True,
                        attempts=attempt,
                        report=outcome.report,
                        stale_press=_stale_press(event, outcome.replies),
                    )
                return Handled(
                    self._files(event, outcome),
                    duplicate=True,
                    attempts=attempt,
                    stale_press=_stale_press(event, outcome.replies),
                )
            except _Refused as exc:
                # Checked against the data the step saw, yet refused on writing (changed
                # meanwhile): nothing of this event was kept; the dialogue stays where it was.
                self._log(event, started, "refused")
                text = f"I couldn't make that change: {exc}. Nothing was changed; /plan shows it."
                return Handled((Outgoing(text),), attempts=attempt)
            except (conversations.ConflictError, IntegrityError, OperationalError) as exc:
                if is_disk_full(exc):  # no retry helps; nothing of this event was kept
                    return self._disk_full(event, started, attempt)
                # Another event for this person committed first (or the database was busy):
                # nothing of ours was written, so run the whole event again on fresh data.
                if attempt == MAX_ATTEMPTS:
                    self._log(event, started, f"gave up: {type(exc).__name__}")
                    raise
                time.sleep(0.005 * attempt)
                continue
            self._log(event, started, "ok")
            stale = _stale_press(event, outcome.replies)
            if not make_files:
                return Handled(
                    outcome.replies, attempts=attempt, report=outcome.report, stale_press=stale
                )
            return Handled(self._files(event, outcome), attempts=attempt, stale_press=stale)
        raise AssertionError("unreachable")

    def _transaction(self, event: Incoming, readings: evidence_effects.Readings) -> _Outcome:
        """The event's one transaction. A certificate it needs read (`Unread`, pressing
        [Use these] on one kept earlier) is read once that transaction has rolled back,
        never while it holds the write lock; the event then runs again with its text."""
        while True:
            try:
                with self.db.transaction() as session:
                    return self._handle(session, event, readings)
            except evidence_effects.Unread as unread:
                if unread.sha256 in readings:  # never: what was read is used, not asked again
                    raise AssertionError("a certificate asked for twice") from None
                readings[unread.sha256] = evidence_effects.read(unread.content)

    def delivered(self, event: Incoming) -> None:
        """The adapter sent `event`'s replies: they are no longer kept for a replay."""
        if event.dedupe_key:
            with self.db.transaction() as session:
                conversations.confirm_delivered(session, event.identity.platform, event.dedupe_key)

    def _disk_full(self, event: Incoming, started: float, attempt: int) -> Handled:
        """The database's disk is full: the transaction was rolled back, so the dialogue is
        where it was and sending the same again works once there is room. What the person
        typed is given back to them, since it could not be kept."""
        log.error("the database's disk is full: an event could not be saved")
        self._log(event, started, "disk full")
        text = DISK_FULL
        if event.text and event.text.strip():
            text += "\n\nWhat you sent, to send again:\n" + event.text.strip()[:ECHO_MAX]
        return Handled((Outgoing(text),), attempts=attempt)

    def make_files(self, event: Incoming, handled: Handled) -> Handled:
        """Make the files `handled`'s replies ask for (after `process(make_files=False)`)."""
        made = self._files(event, _Outcome(handled.replies, handled.report))
        return replace(handled, replies=made, report=None)

    def _files(self, event: Incoming, outcome: _Outcome) -> tuple[Outgoing, ...]:
        """Make the files the replies ask for, now that the transaction has committed (and
        carry out the calendar account steps they ask for: bot.services.calendar_signin)."""
        replies = calendar_signin.carry_out(self, event, outcome.replies)
        replies = evidence_effects.carry_out(self, event, replies)
        if not any(r.file for r in replies):
            return replies
        made = []
        for reply in replies:
            request = reply.file
            report = outcome.report
            if request is not None and request.kind in records.RECORD_KINDS:
                report = self._record_report(event.identity, request, report)
            if request is None or request.kind in audit_packs.KINDS:
                made += (
                    [reply]
                    if request is None
                    else audit_packs.replies(self, event.identity, reply, report)
                )
                continue
            try:
                attachment = self._make_file(event.identity, request.kind, report)
            except Exception:
                log.exception("making the %s file failed", request.kind)
                attachment = None
            if attachment is None:
                made.append(Outgoing(request.failed or "I couldn't make that file just now."))
            else:
                made.append(replace(reply, attachment=attachment, file=None))
        return tuple(made)

    def _record_report(
        self, key: IdentityKey, request: FileRequest, report: Report | None
    ) -> Report | None:
        """The report a pdf/md/docx is made from: another body's (issue 16), or the main
        one with a line per other body followed (None, and the failed reply, on error)."""
        try:
            return records.file_report(self, key, request, report)
        except Exception:
            log.exception("loading the %s record failed", request.kind)
            return None

    def _make_file(self, key: IdentityKey, kind: str, report: Report | None) -> Attachment | None:
        if kind == "all":
            now = self.clock()
            data = records.export_all(self.db, key, self.schemes, now=now, evidence=self.evidence)
            if data is None:
                return None
            return Attachment(everything_name(now.date()), data, MIME["zip"])
        if report is None:
            return None
        if kind == "evidence":  # the CPD year's evidence files and their index, as a ZIP
            made = records.export_evidence(self.db, key, report, evidence=self.evidence)
            return None if made is None else Attachment(made[0], made[1], MIME["zip"])
        name, content, mime = records.render(report, kind)
        return Attachment(name, content, mime)

    def record(self, key: IdentityKey, year: int | None = None) -> Record | None:
        """A person's CPD record for the CPD year starting in `year` (default: the current one)."""
        with self.db.transaction() as session:
            found = repo.find_person(session, key)
            if found is None:
                return None
            person_id, view = found
            today = local_today(self.clock(), view.timezone)
            scheme = self._scheme(view.scheme_id)
            return records.year_record(session, person_id, view, scheme, today=today, year=year)

    def _scheme(self, scheme_id: str) -> Scheme:
        return scheme_for(self.schemes, scheme_id)

    def entry_form(
        self, key: IdentityKey, timezone_hint: str | None = None
    ) -> tuple[FormField, ...]:
        """The entry form (fields, categories, reflection questions) for this person's scheme."""
        with self.db.transaction() as session:
            _, person, _ = repo.get_or_create_identity(
                session, key, now=self.clock(), timezone=_valid_zone(timezone_hint)
            )
            return dialogue.entry_form(self._scheme(person.scheme_id))

    def home(self, key: IdentityKey, timezone_hint: str | None = None) -> list[Outgoing]:
        """Progress this CPD year and recent entries, read-only (e.g. Slack App Home)."""
        with self.db.transaction() as session:
            now = self.clock()
            _, person, created = repo.get_or_create_identity(
                session, key, now=now, timezone=_valid_zone(timezone_hint)
            )
            assert person.id is not None
            view = repo.person_view(person)
            scheme = self._scheme(view.scheme_id)
            today = local_today(now, view.timezone)
            summary, assessment = records.standing(session, person.id, view, scheme, today)
            snap = Snapshot(
                now=now,
                person=view,
                is_new=created,
                summary=summary,
                assessment=assessment,
                recent=tuple(entry_store.recent_entries(session, person.id, dialogue.LIST_DEFAULT)),
            )
            return list(dialogue.home(Context(snap, self.schemes)))

    def _log(self, event: Incoming, started: float, outcome: str) -> None:
        log.info(
            "event platform=%s kind=%s latency_ms=%.1f outcome=%s",
            event.identity.platform,
            event.kind,
            (time.perf_counter() - started) * 1000,
            outcome,
        )

    def _handle(
        self, session: Session, event: Incoming, readings: evidence_effects.Readings
    ) -> _Outcome:
        now = self.clock()
        if not event.private:
            # A group chat or channel: the dialogue only points to a private chat, so no
            # person, identity or conversation is read or created for it.
            result = dialogue.step(Conv(), event, Context(Snapshot(now, ANONYMOUS), self.schemes))
            self._mark(session, event, _Outcome(result.replies), None, now)
            return _Outcome(result.replies)
        zone = _valid_zone(event.timezone_hint)
        who = conversations.who(
            session,
            event.identity,
            now=now,
            display_name=event.display_name,
            chat_id=event.chat_id,
            timezone=zone,
        )
        row = conversations.load_conversation(session, who.identity_id, now=now)
        conv = Conv.load(row.state, row.data)
        # The dialogue reads dates and "today" as of when the person wrote; what is stored
        # is stamped with the engine's own clock.
        said = min(now, event.sent_at) if event.sent_at is not None else now
        snap = loading.load(
            self, session, who, conv, event, said=said, now=now, zone=zone, readings=readings
        )
        result = dialogue.step(conv, event, Context(snap, self.schemes))
        # The dedupe key is recorded before any effect, with the replies (kept until they
        # are delivered); a repeat stops here, and all read or made so far is rolled back.
        self._mark(session, event, _Outcome(result.replies, snap.report), who, now)
        try:
            forgotten = effects.apply_all(
                session, self.evidence, who.person_id, result.effects, now
            )
        except PlanError as exc:
            raise _Refused(str(exc)) from exc
        if not forgotten:
            # After /forget the conversation's row is gone with the person: saving it
            # would fail its version check (and retry the whole event on a new person).
            asked, kept = bodies.ask_after_save(
                session, who.person_id, snap.person, self.schemes, result
            )
            conversations.save_conversation(
                session, row, state=str(kept.state), data=kept.dump(), now=now
            )
            return _Outcome(result.replies + asked, snap.report)
        return _Outcome(result.replies, snap.report)

    def _mark(
        self,
        session: Session,
        event: Incoming,
        outcome: _Outcome,
        who: conversations.Who | None,
        now: datetime,
    ) -> None:
        """Record the event's dedupe key with its replies, or raise _Duplicate with the
        replies an earlier handling of it kept (not yet delivered), their files' report
        loaded afresh."""
        if not event.dedupe_key:
            return
        platform, key = event.identity.platform, event.dedupe_key
        year = outcome.report.record.start.year if outcome.report is not None else None
        kept = conversations.encode_replies(outcome.replies, year)
        person_id = who.person_id if who is not None else None
        if conversations.mark_processed(
            session, platform, key, now=now, replies=kept, person_id=person_id
        ):
            return
        stored = conversations.kept_replies(session, platform, key)
        if stored is None:
            raise _Duplicate(_Outcome(()))
        replies, year = conversations.decode_replies(stored)
        report = None
        if who is not None and year is not None and any(r.file for r in replies):
            view = who.person
            today = local_today(now, view.timezone)
            scheme = self._scheme(view.scheme_id)
            report = records.year_report(
                session, who.person_id, view, scheme, today=today, year=year
            )
        raise _Duplicate(_Outcome(replies, report))

    def _apply(self, session: Session, person_id: int, effect: Effect, now: datetime) -> None:
        """Write one effect (bot.services.effects)."""
        effects.apply(session, self.evidence, person_id, effect, now)


def _stale_press(event: Incoming, replies: tuple[Outgoing, ...]) -> bool:
    """The event pressed a button and the dialogue did not take it (see Handled)."""
    return event.kind == Kind.CHOICE and bool(replies) and replies[0].refused_press


def _valid_zone(zone: str | None) -> str | None:
    """The platform's time zone hint if it is a zone this machine knows, else None."""
    return zone if is_zone(zone) else None
