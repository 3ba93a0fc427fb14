"""The planner: decides which time-based messages are due for whom and enqueues them.

Monthly nudges, the six-weeks-left warning and the year-end summary, reflection reminders,
re-asks after "Later"; also expiring undeliverable rows and pruning old ones. Decisions
are the pure functions of `bot.core.agenda` (when) and `bot.core.notices` (what); the
queries are `storage.recipients`'s; each kind runs in its own short transactions.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta

from sqlmodel import Session

from bot.core import agenda, notices, zones
from bot.core.model import PersonView
from bot.core.schemes import Scheme, scheme_for
from bot.services.outbound import body_plans
from bot.services.outbound.sending import CLAIM_TIMEOUT, MAX_ATTEMPTS
from storage import bodies as body_store
from storage import (
    calendar_accounts,
    conversations,
    entry_store,
    outbox,
    plan_store,
    recipients,
    tally,
)
from storage import feeds as feed_store
from storage.db import Database

log = logging.getLogger("cpdbot.jobs")

# People decided per transaction: on SQLite a transaction holds the write lock, so a busy
# month start is cut into short transactions and chat messages never wait long.
PLAN_CHUNK = 2000
REMIND_ONCE_WITHIN = timedelta(hours=20)  # one reflection reminder a day at most
# Retention. A dedupe key must outlive every redelivery of its update (Telegram re-sends
# for up to 24 h, the adapters' inbox replays for 2 days, Slack retries for minutes); an
# outbox key guards against a second send only while its grace window is open (a month
# at most), after which the row is a record of what was sent, kept a year and a bit.
KEEP_PROCESSED = timedelta(days=30)
KEEP_OUTBOX = timedelta(days=400)
PRUNE_EVERY = timedelta(hours=1)
PRUNE_BATCH = 5000  # rows per transaction, so a backlog never holds the write lock long
PRUNE_BATCHES = 20  # per run; a larger backlog goes on the next run

Decide = Callable[[Session, Mapping[int, PersonView], datetime], list[outbox.NewMessage]]


class Planner:
    """Every time-based decision, against one database."""

    def __init__(self, db: Database, schemes: Mapping[str, Scheme]) -> None:
        self.db = db
        self.schemes = schemes
        self._pruned_at: datetime | None = None

    def _scheme(self, scheme_id: str) -> Scheme:
        return scheme_for(self.schemes, scheme_id)

    def plan(self, now: datetime) -> int:
        """Decide and enqueue every time-based message due at `now`; returns how many
        rows were new. Each kind runs in its own short transaction."""
        total = 0
        for job in (
            self.plan_monthly,
            self.plan_year_end,
            self.plan_body_year_end,
            self.plan_reminders,
            self.plan_reasks,
        ):
            try:
                total += job(now)
            except Exception:  # one broken job must not stop the others
                log.exception("job %s failed", job.__name__)
        with self.db.transaction() as session:
            outbox.expire(session, now=now, timeout=CLAIM_TIMEOUT, max_attempts=MAX_ATTEMPTS)
        if self._pruned_at is None or now - self._pruned_at >= PRUNE_EVERY:
            self._pruned_at = now
            try:
                self.prune(now)
            except Exception:
                log.exception("pruning old rows failed")
        return total

    def prune(self, now: datetime) -> tuple[int, int]:
        """Forget dedupe keys older than KEEP_PROCESSED and finished outbox rows older than
        KEEP_OUTBOX, in short transactions; returns (keys, rows) deleted."""
        keys = _in_batches(
            self.db,
            lambda session: conversations.prune_processed(
                session, before=now - KEEP_PROCESSED, limit=PRUNE_BATCH
            ),
        )
        rows = _in_batches(
            self.db,
            lambda session: outbox.prune(session, due_before=now - KEEP_OUTBOX, limit=PRUNE_BATCH),
        )
        if keys or rows:
            log.info("pruned %d old dedupe key(s) and %d old outbox row(s)", keys, rows)
        return keys, rows

    # ------------------------------------------------------------ monthly nudges

    def plan_monthly(self, now: datetime) -> int:
        """Monthly nudges due now. Due times are worked out once per (zone, day, hour)
        group, not per person; then only the people of due groups who have no row for
        that month yet are loaded (the outbox key doubles as "already decided")."""
        with self.db.transaction() as session:
            by_period: dict[str, list[recipients.NudgeGroup]] = defaultdict(list)
            for tz, day, hour in recipients.nudge_groups(session):
                found = agenda.monthly_due_at(tz, day, hour, now)
                if found is not None:
                    by_period[found[0]].append((tz, day, hour))
            todo = [
                recipients.nudge_candidates(session, members, kind=agenda.NUDGE, key=period)
                for period, members in by_period.items()
            ]
        return self._in_chunks(todo, self._nudges, now)

    def _in_chunks(self, id_lists: Iterable[Sequence[int]], decide: Decide, now: datetime) -> int:
        """Decide and enqueue for these people, PLAN_CHUNK per transaction."""
        total = 0
        for ids in id_lists:
            for i in range(0, len(ids), PLAN_CHUNK):
                with self.db.transaction() as session:
                    people = recipients.people(session, ids[i : i + PLAN_CHUNK])
                    total += outbox.enqueue(session, decide(session, people, now), now=now)
        return total

    def _nudges(
        self, session: Session, people: Mapping[int, PersonView], now: datetime
    ) -> list[outbox.NewMessage]:
        identities = outbox.preferred_identities(session, people)
        due = {pid: found for pid, p in people.items() if (found := agenda.monthly_due(p, now))}
        away = _away(session, people, {pid: due_at for pid, (_, due_at) in due.items()})
        # A nudge held by an absence speaks of the day it is read: the first day back.
        bounds = {pid: self._bounds(people[pid], max(now, away.get(pid, now))) for pid in due}
        summaries = tally.year_summaries(session, bounds)
        periods = plan_store.status_periods_of(session, list(due))
        followed = body_store.followed_by(session, list(due))
        messages: list[outbox.NewMessage] = []
        for pid, (period, due_at) in due.items():
            person = people[pid]
            identity = identities.get(pid)
            message, back = None, away.get(pid)
            note = _held_back(person, identity, due_at)
            if note is None and back and agenda.held_nudge_superseded(person, period, back):
                note = "away until the next nudge"
            if note is None:
                message = notices.monthly_nudge(
                    person,
                    self._scheme(person.scheme_id),
                    summaries[pid],
                    period=period,
                    due=back or due_at,
                    now=max(now, back or now),
                    periods=periods.get(pid, ()),
                )
                if message is not None and pid in followed:
                    at = max(now, back or now)
                    message = body_plans.with_bodies(
                        session, pid, person, self.schemes, followed[pid], message, at
                    )
                note = "on pace (only when behind)"
            if message is not None and identity is not None:
                messages.append(outbox.queued(pid, identity, message))
            else:
                messages.append(_skip(pid, identity, agenda.NUDGE, period, now, note))
        return messages

    def _bounds(self, person: PersonView, now: datetime) -> tuple[date, date]:
        today = zones.local_today(now, person.timezone)
        return agenda.year_bounds(self._scheme(person.scheme_id), person, today)

    # ------------------------------------------------------------ year end

    def plan_year_end(self, now: datetime) -> int:
        """Six-weeks-left warnings and year-end summaries due now: decided per group of
        people sharing zone, hour, scheme, status and year start; then only the people
        of due groups without a row for that year yet."""
        with self.db.transaction() as session:
            warn: dict[str, list[recipients.YearEndGroup]] = defaultdict(list)
            summary: dict[str, list[recipients.YearEndGroup]] = defaultdict(list)
            for group in recipients.year_end_groups(session):
                model = _group_member(group)
                scheme = self._scheme(model.scheme_id)
                if (found := agenda.warning_due(model, scheme, now)) is not None:
                    warn[found[0].isoformat()].append(group)
                if (found := agenda.summary_due(model, scheme, now)) is not None:
                    summary[found[0].isoformat()].append(group)
            warn_ids = [
                recipients.year_end_candidates(session, m, kind=agenda.YEAR_WARNING, key=key)
                for key, m in warn.items()
            ]
            summary_ids = [
                recipients.year_end_candidates(session, m, kind=agenda.YEAR_END, key=key)
                for key, m in summary.items()
            ]
        return self._in_chunks(warn_ids, self._warnings, now) + self._in_chunks(
            summary_ids, self._summaries_due, now
        )

    def _warnings(
        self, session: Session, people: Mapping[int, PersonView], now: datetime
    ) -> list[outbox.NewMessage]:
        identities = outbox.preferred_identities(session, people)
        due = {
            pid: found
            for pid, p in people.items()
            if (found := agenda.warning_due(p, self._scheme(p.scheme_id), now))
        }
        sums = tally.year_summaries(
            session, {pid: (start, end) for pid, (start, end, _) in due.items()}
        )
        periods = plan_store.status_periods_of(session, list(due))
        away = _away(session, people, {pid: found[2] for pid, found in due.items()})
        messages: list[outbox.NewMessage] = []
        for pid, (start, end, due_at) in due.items():
            person, identity, msg = people[pid], identities.get(pid), None
            note, back = _held_back(person, identity, due_at), away.get(pid)
            if note is None and back and zones.local_today(back, person.timezone) >= end:
                note = "away until the year ended"
            if note is None:
                scheme = self._scheme(person.scheme_id)
                msg = notices.year_end_warning(
                    person,
                    scheme,
                    sums[pid],
                    due=back or due_at,
                    now=max(now, back or now),
                    periods=periods.get(pid, ()),
                )
                note = "on target"
            if msg is not None and identity is not None:
                messages.append(outbox.queued(pid, identity, msg))
            else:
                key = start.isoformat()
                messages.append(_skip(pid, identity, agenda.YEAR_WARNING, key, now, note))
        return messages

    def _summaries_due(
        self, session: Session, people: Mapping[int, PersonView], now: datetime
    ) -> list[outbox.NewMessage]:
        identities = outbox.preferred_identities(session, people)
        due = {
            pid: found
            for pid, p in people.items()
            if (found := agenda.summary_due(p, self._scheme(p.scheme_id), now))  # not paused
        }
        sums = tally.year_summaries(
            session, {pid: (start, end) for pid, (start, end, _) in due.items()}
        )
        periods = plan_store.status_periods_of(session, list(due))
        # Like a pause, an absence delays the year-end record: to the first day back.
        away = _away(session, people, {pid: found[2] for pid, found in due.items()})
        messages: list[outbox.NewMessage] = []
        for pid, (start, _, due_at) in due.items():
            person, identity = people[pid], identities.get(pid)
            note = _held_back(person, identity, due_at, pausable=False)
            ready: list[agenda.Message] = []
            if note is None:
                scheme = self._scheme(person.scheme_id)
                ready = notices.year_end_summary(
                    person,
                    scheme,
                    sums[pid],
                    due=away.get(pid, due_at),
                    periods=periods.get(pid, ()),
                )
            if ready and identity is not None:
                messages += [outbox.queued(pid, identity, m) for m in ready]
            else:
                note = note or "no entries"
                key = start.isoformat()
                messages.append(_skip(pid, identity, agenda.YEAR_END, key, now, note))
        return messages

    def plan_body_year_end(self, now: datetime) -> int:
        """The year-end summaries of the other bodies people follow, each when its own
        CPD year ends (issue 16)."""
        return body_plans.plan_year_end(self.db, self.schemes, now)

    # ------------------------------------------------------------ reminders, re-asks

    def plan_reminders(self, now: datetime) -> int:
        """One reflection reminder a day at most per person, for entries pending two days
        or more and never reminded (both checked in SQL: the outbox keys are the record)."""
        with self.db.transaction() as session:
            oldest = recipients.entries_to_remind(
                session,
                kind=agenda.REFLECT,
                now=now,
                pending_since=agenda.REMINDER_AFTER,
                max_age=agenda.REMINDER_MAX_AGE,
                once_within=REMIND_ONCE_WITHIN,
            )
            # Away (out of office): not reminded now, as when paused; asked once back.
            for pid in calendar_accounts.absent_until(session, sorted(oldest), now):
                del oldest[pid]
            if not oldest:
                return 0
            people = recipients.people(session, sorted(oldest))
            identities = outbox.preferred_identities(session, oldest)
            pending_totals = recipients.pending_counts(session, oldest)
            views = dict(
                zip(oldest, entry_store.entry_views(session, list(oldest.values())), strict=True)
            )
            messages: list[outbox.NewMessage] = []
            for pid, entry in oldest.items():
                person, view = people.get(pid), views[pid]
                if person is None or pid not in identities:
                    continue
                msg = notices.reflection_reminder(
                    person,
                    self._scheme(person.scheme_id),
                    [notices.PendingEntry(view, entry.created_at)],
                    pending_total=pending_totals.get(pid, 0),
                    now=now,
                )
                if msg is not None:
                    messages.append(outbox.queued(pid, identities[pid], msg))
            return outbox.enqueue(session, messages, now=now)

    def plan_reasks(self, now: datetime) -> int:
        """The one re-ask of each calendar prompt answered "Later", once its time has come."""
        with self.db.transaction() as session:
            due = feed_store.due_reasks(session, now=now)
            if not due:
                return 0
            identities = outbox.preferred_identities(session, {r.person_id for r in due})
            messages: list[outbox.NewMessage] = []
            for item in due:
                if not feed_store.mark_reasked(session, item.occurrence.id):
                    continue  # another worker took it
                paused = agenda.pause_holds(item.paused_until, item.timezone, now)
                if paused or item.person_id not in identities:
                    continue  # paused (or unreachable): the one re-ask is dropped
                occ = item.occurrence
                facts = notices.EventFacts(occ.id, occ.title, occ.start, occ.end, occ.minutes)
                msg = notices.reask(facts, item.timezone, due=now, now=now)
                messages.append(outbox.queued(item.person_id, identities[item.person_id], msg))
            return outbox.enqueue(session, messages, now=now)


def _group_member(group: recipients.YearEndGroup) -> PersonView:
    """A stand-in for everyone in a year-end group: only the settings the group shares
    (no pause, no join date: those are checked per person once the group is due)."""
    tz, hour, scheme_id, status_id, month, day, enabled = group
    return PersonView(
        display_name="",
        timezone=tz,
        scheme_id=scheme_id,
        status_id=status_id,
        date_order="DMY",
        languages=("en",),
        onboarded=True,
        last_entry_number=0,
        year_start=(month, day) if month and day else None,
        nudge_hour=hour,
        nudges_enabled=enabled,
    )


def _in_batches(db: Database, delete: Callable[[Session], int]) -> int:
    """Run `delete` (at most PRUNE_BATCH rows) in one transaction after another until it
    deletes less than a batch, at most PRUNE_BATCHES times; returns the total."""
    total = 0
    for _ in range(PRUNE_BATCHES):
        with db.transaction() as session:
            deleted = delete(session)
        total += deleted
        if deleted < PRUNE_BATCH:
            break
    return total


def _away(
    session: Session, people: Mapping[int, PersonView], due: Mapping[int, datetime]
) -> dict[int, datetime]:
    """person id -> when they are back (`agenda.back_at`), for each of `due`'s people who
    is away (an out-of-office stretch from their calendar) when their message falls due."""
    by_instant: defaultdict[datetime, list[int]] = defaultdict(list)
    for pid, at in due.items():
        by_instant[at].append(pid)
    back: dict[int, datetime] = {}
    for at, pids in by_instant.items():
        for pid, until in calendar_accounts.absent_until(session, pids, at).items():
            person = people[pid]
            back[pid] = agenda.back_at(person.timezone, person.nudge_hour, until)
    return back


def _held_back(
    person: PersonView, identity_id: int | None, due_at: datetime, *, pausable: bool = True
) -> str | None:
    """Why a message due at `due_at` is not sent (recorded as skipped), or None to decide it."""
    if identity_id is None:
        return "no reachable identity"
    if agenda.before_joining(person, due_at):
        return "due before the person joined"
    if pausable and agenda.paused(person, due_at):
        return "paused"
    return None


def _skip(
    person_id: int, identity_id: int | None, kind: str, key: str, now: datetime, note: str
) -> outbox.NewMessage:
    """The decision "nothing to send" recorded under the message's key."""
    return outbox.NewMessage(
        person_id=person_id,
        identity_id=identity_id,
        kind=kind,
        key=key,
        payload={},
        due_at=now,
        state=outbox.SKIPPED,
        note=note,
    )
