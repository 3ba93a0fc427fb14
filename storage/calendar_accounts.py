"""Calendar accounts (issue 15): feeds read with a credential, sign-ins under way, absences.

Account feeds are `calendarfeed` rows of kind graph (Outlook through Microsoft Graph) or
caldav, whose refresh token or password is stored encrypted by a `SecretBox`
(storage.secrets) and decrypted only when a poll needs it. A device-code sign-in under way
is a `calendar_signin` row, one per person and kind (an Outlook code waiting does not
stop a CalDAV calendar choice, nor the other way round), its device code encrypted too. Absences are
out-of-office stretches read from those calendars; nudges and prompts are held during them.

Like `repo` and `feeds`, these functions flush but never commit: the caller owns the
transaction. `/forget` erases all of it through the foreign keys (storage.rights); exports
name the secret columns but leave their contents out.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, delete, or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot.core.model import SigninView
from storage.models import Absence, CalendarFeed, CalendarSignin
from storage.secrets import SecretBox

ACCOUNT_KINDS = ("graph", "caldav")
# `retry_at` of a feed whose credential stopped working: not polled until its owner
# connects it again (a new refresh token or password through `set_tokens` lifts it).
CREDENTIAL_STOPPED = datetime(9999, 1, 1, tzinfo=UTC)

# ---------------------------------------------------------------- account feeds


def add_account_feed(
    session: Session,
    box: SecretBox,
    person_id: int,
    *,
    kind: str,
    url: str,
    account: str,
    secret: str,
    now: datetime,
    owner_emails: tuple[str, ...] = (),
) -> CalendarFeed:
    """A Graph or CalDAV calendar of this person, its refresh token or password encrypted.

    Raises `NoSecretKey` (nothing stored) when the bot has no CPDBOT_SECRET_KEY.
    """
    if kind not in ACCOUNT_KINDS:
        raise ValueError(f"not a calendar account kind: {kind!r}")
    token = box.encrypt(secret)  # before anything is added: no key, no row
    feed = CalendarFeed(
        person_id=person_id,
        kind=kind,
        url=url,
        account=account[:320],
        secret=token,
        owner_emails=",".join(owner_emails)[:500],
        created_at=now,
    )
    session.add(feed)
    session.flush()
    return feed


def set_tokens(
    session: Session,
    box: SecretBox,
    feed_id: int,
    refresh: str | None,
    access: str | None,
    access_expires_at: datetime | None,
) -> None:
    """Store the tokens a refresh returned, encrypted: a new refresh token replaces the old
    (None keeps it) and lifts a stop (`CREDENTIAL_STOPPED`); the access token and its
    expiry replace theirs (None clears them)."""
    values: dict[str, object] = {
        "access_secret": box.encrypt(access) if access is not None else None,
        "access_expires_at": access_expires_at if access is not None else None,
    }
    if refresh is not None:
        values["secret"] = box.encrypt(refresh)
    query = update(CalendarFeed).where(col(CalendarFeed.id) == feed_id)
    if refresh is not None:
        session.execute(
            query.where(col(CalendarFeed.retry_at) == CREDENTIAL_STOPPED)
            .values(retry_at=None)
            .execution_options(synchronize_session=False)
        )
    session.execute(query.values(**values).execution_options(synchronize_session=False))


def stop_feed(session: Session, feed_id: int, *, error: str) -> None:
    """The feed's credential stopped working: counted as a failure, reported (its owner
    is told by the caller, once), and not polled until connected again."""
    session.execute(
        update(CalendarFeed)
        .where(col(CalendarFeed.id) == feed_id)
        .values(
            retry_at=CREDENTIAL_STOPPED,
            failures=CalendarFeed.failures + 1,
            failure_reported=True,
            last_error=error[:500],
        )
        .execution_options(synchronize_session=False)
    )


def read_secret(box: SecretBox, token: bytes) -> str:
    """The secret in a stored token: `SecretUnreadable` if no key reads it (treat it as a
    credential that stopped working), `NoSecretKey` without a key."""
    return box.decrypt(token)


def set_delta_state(session: Session, feed_id: int, state: bytes | None) -> None:
    """Keep a Graph feed's delta state (compressed, in `body`); None starts afresh."""
    session.execute(
        update(CalendarFeed)
        .where(col(CalendarFeed.id) == feed_id)
        .values(body=zlib.compress(state, 6) if state is not None else None)
        .execution_options(synchronize_session=False)
    )


# ---------------------------------------------------------------- sign-ins under way


@dataclass(frozen=True)
class PendingSignin:
    """A device-code sign-in under way; `device_code` is still encrypted (read_secret)."""

    id: int
    person_id: int
    kind: str
    device_code: bytes
    user_code: str
    verification_uri: str
    interval: int
    expires_at: datetime
    next_poll_at: datetime


def _pending(row: CalendarSignin) -> PendingSignin:
    return PendingSignin(
        id=int(row.id or 0),
        person_id=row.person_id,
        kind=row.kind,
        device_code=row.device_code,
        user_code=row.user_code,
        verification_uri=row.verification_uri,
        interval=row.interval,
        expires_at=row.expires_at,
        next_poll_at=row.next_poll_at,
    )


def start_signin(
    session: Session,
    box: SecretBox,
    person_id: int,
    *,
    device_code: str,
    user_code: str,
    verification_uri: str,
    interval: int,
    expires_at: datetime,
    now: datetime,
    kind: str = "graph",
) -> PendingSignin:
    """Record a sign-in under way, replacing the person's pending one of this `kind` (one
    per person and kind: a CalDAV calendar choice leaves an Outlook sign-in waiting).

    The device code is encrypted (`NoSecretKey` without a key: nothing stored). The first
    poll is due after `interval` seconds.
    """
    every = max(1, interval)
    values: dict[str, Any] = {
        "kind": kind,
        "device_code": box.encrypt(device_code),  # first: no key, nothing changes
        "user_code": user_code[:32],
        "verification_uri": verification_uri[:300],
        "interval": every,
        "expires_at": expires_at,
        "next_poll_at": now + timedelta(seconds=every),
        "created_at": now,
    }
    mine = (col(CalendarSignin.person_id) == person_id) & (col(CalendarSignin.kind) == kind)
    session.execute(delete(CalendarSignin).where(mine).execution_options(synchronize_session=False))
    try:
        with session.begin_nested():
            session.add(CalendarSignin(person_id=person_id, **values))
            session.flush()
    except IntegrityError:  # another worker started one meanwhile: this one replaces it
        session.execute(
            update(CalendarSignin)
            .where(mine)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
    found = signin_of(session, person_id, kind)
    if found is None:  # cannot happen: inserted or updated just now, in this transaction
        raise RuntimeError("the sign-in just recorded is missing")
    return found


def signin_of(session: Session, person_id: int, kind: str = "graph") -> PendingSignin | None:
    """The person's sign-in under way of this kind (graph: Outlook; caldav: a CalDAV
    calendar choice), if any."""
    row = session.exec(
        select(CalendarSignin)
        .where(CalendarSignin.person_id == person_id, CalendarSignin.kind == kind)
        # A bulk update may have changed it under an object the session holds.
        .execution_options(populate_existing=True)
    ).first()
    return _pending(row) if row is not None else None


def due_signins(session: Session, now: datetime) -> list[PendingSignin]:
    """Sign-ins whose next poll is due, or that expired (to tell their owner)."""
    rows = session.exec(
        select(CalendarSignin)
        .where(or_(col(CalendarSignin.next_poll_at) <= now, col(CalendarSignin.expires_at) <= now))
        .order_by(col(CalendarSignin.next_poll_at))
    ).all()
    return [_pending(r) for r in rows]


def set_next_poll(
    session: Session,
    signin_id: int,
    *,
    at: datetime,
    interval: int | None = None,
    was: datetime | None = None,
) -> bool:
    """Poll this sign-in again at `at` (and every `interval` seconds after `slow_down`).

    Given `was` (the next_poll_at the caller read), a compare-and-set: False if another
    worker moved it first, so two workers never poll one sign-in at once.
    """
    query = update(CalendarSignin).where(col(CalendarSignin.id) == signin_id)
    if was is not None:
        query = query.where(col(CalendarSignin.next_poll_at) == was)
    values: dict[str, object] = {"next_poll_at": at}
    if interval is not None:
        values["interval"] = max(1, interval)
    result = session.execute(query.values(**values).execution_options(synchronize_session=False))
    return int(result.rowcount) == 1  # type: ignore[attr-defined]


def signin_view(session: Session, person_id: int) -> SigninView | None:
    """The person's sign-in under way as /calendar list shows it (no device code): the
    Outlook one if any (it waits for the member, a calendar choice waits on screen), else a
    CalDAV calendar choice."""
    found = signin_of(session, person_id, "graph") or signin_of(session, person_id, "caldav")
    if found is None:
        return None
    return SigninView(found.kind, found.user_code, found.verification_uri, found.expires_at)


def cancel_signin(session: Session, person_id: int, kind: str | None = None) -> bool:
    """Delete the person's sign-ins under way (/calendar remove), of `kind` only if given:
    False if there was none."""
    query = delete(CalendarSignin).where(col(CalendarSignin.person_id) == person_id)
    if kind is not None:
        query = query.where(col(CalendarSignin.kind) == kind)
    result = session.execute(query.execution_options(synchronize_session=False))
    return int(result.rowcount) >= 1  # type: ignore[attr-defined]


def end_signin(session: Session, signin_id: int) -> bool:
    """Delete a sign-in (done, declined, expired or cancelled): False if already gone."""
    result = session.execute(
        delete(CalendarSignin)
        .where(col(CalendarSignin.id) == signin_id)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount) == 1  # type: ignore[attr-defined]


# ---------------------------------------------------------------- absences


@dataclass(frozen=True)
class AbsenceChanges:
    added: int = 0
    moved: int = 0
    released: int = 0


@dataclass(frozen=True)
class AbsenceView:
    id: int
    person_id: int
    feed_id: int
    starts_at: datetime
    ends_at: datetime


def _overlaps(a_start: datetime, a_end: datetime, b_start: datetime, b_end: datetime) -> bool:
    return a_start < b_end and b_start < a_end


def record_absences(
    session: Session,
    feed_id: int,
    person_id: int,
    found: Iterable[tuple[str, datetime, datetime]],
    *,
    window: tuple[datetime, datetime],
) -> AbsenceChanges:
    """Make the feed's absences match what a poll `found` in `window` (uid, start, end).

    New ones are added; one whose event moved (same uid, another start) is updated, still
    told if its new time overlaps the old; those of this feed overlapping the window that
    were not found (cancelled, deleted, no longer out of office) are released, as are
    those that ended before the window began (no poll will see them again).
    """
    wanted: dict[tuple[str, datetime], datetime] = {}
    for uid, start, end in found:
        if end > start:
            wanted[(uid[:500], start)] = end
    begin, finish = window
    uids = sorted({uid for uid, _ in wanted})
    scope = _overlapping(begin, finish)
    if uids:
        scope = or_(scope, col(Absence.uid).in_(uids))
    rows = session.exec(select(Absence).where(Absence.feed_id == feed_id, scope)).all()
    unmatched: dict[str, list[Absence]] = {}
    for row in rows:
        end = wanted.pop((row.uid, row.starts_at), row.starts_at)
        if end == row.starts_at:  # not found again (a found one ends after it starts)
            unmatched.setdefault(row.uid, []).append(row)
        elif end != row.ends_at:
            row.ends_at = end
            session.add(row)
    added = moved = 0
    for (uid, start), end in wanted.items():
        old = unmatched.get(uid)
        if old:
            row = old.pop()
            row.told = row.told and _overlaps(row.starts_at, row.ends_at, start, end)
            row.starts_at, row.ends_at = start, end
            session.add(row)
            moved += 1
        else:
            session.add(
                Absence(person_id=person_id, feed_id=feed_id, uid=uid, starts_at=start, ends_at=end)
            )
            added += 1
    gone = [
        r
        for rest in unmatched.values()
        for r in rest
        if r.ends_at <= begin or _overlaps(r.starts_at, r.ends_at, begin, finish)
    ]
    for row in gone:
        session.delete(row)
    session.flush()
    return AbsenceChanges(added=added, moved=moved, released=len(gone))


def _overlapping(begin: datetime, finish: datetime) -> ColumnElement[bool]:
    """Absences overlapping the window, or over before it began."""
    return or_(
        (col(Absence.starts_at) < finish) & (col(Absence.ends_at) > begin),
        col(Absence.ends_at) <= begin,
    )


def absent_until(session: Session, person_ids: Sequence[int], at: datetime) -> dict[int, datetime]:
    """{person id: when their absence ends} for those of `person_ids` away at `at`."""
    if not person_ids:
        return {}
    rows = session.exec(
        select(Absence.person_id, Absence.ends_at).where(
            col(Absence.person_id).in_(list(person_ids)),
            col(Absence.starts_at) <= at,
            col(Absence.ends_at) > at,
        )
    ).all()
    until: dict[int, datetime] = {}
    for person_id, ends_at in rows:
        if person_id not in until or ends_at > until[person_id]:
            until[person_id] = ends_at
    return until


def untold_absences(session: Session, *, now: datetime) -> list[AbsenceView]:
    """Absences under way at `now` whose person has not been told of them yet."""
    rows = session.exec(
        select(Absence)
        .where(
            col(Absence.told).is_(False),
            col(Absence.starts_at) <= now,
            col(Absence.ends_at) > now,
        )
        .order_by(col(Absence.id))
    ).all()
    return [
        AbsenceView(int(r.id or 0), r.person_id, r.feed_id, r.starts_at, r.ends_at) for r in rows
    ]


def absences_between(
    session: Session, person_id: int, start: datetime, end: datetime
) -> list[tuple[datetime, datetime]]:
    """(start, end) of the person's absences (any feed) overlapping `[start, end]`."""
    rows = session.exec(
        select(Absence.starts_at, Absence.ends_at).where(
            Absence.person_id == person_id,
            col(Absence.starts_at) <= end,
            col(Absence.ends_at) >= start,
        )
    ).all()
    return [(a, b) for a, b in rows]


def untold_absences_of_feed(session: Session, feed_id: int, *, now: datetime) -> list[AbsenceView]:
    """The feed's absences not over at `now` whose person has not been told yet."""
    rows = session.exec(
        select(Absence)
        .where(
            Absence.feed_id == feed_id,
            col(Absence.told).is_(False),
            col(Absence.ends_at) > now,
        )
        .order_by(col(Absence.starts_at), col(Absence.id))
    ).all()
    return [
        AbsenceView(int(r.id or 0), r.person_id, r.feed_id, r.starts_at, r.ends_at) for r in rows
    ]


def mark_told(session: Session, absence_id: int) -> bool:
    """untold -> told, once (compare-and-set): False if another worker did it first."""
    result = session.execute(
        update(Absence)
        .where(col(Absence.id) == absence_id, col(Absence.told).is_(False))
        .values(told=True)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount) == 1  # type: ignore[attr-defined]
