"""Calendar feed queries: the feeds people connected and the occurrences already prompted.

Like `repo`, these functions flush but never commit: the caller owns the transaction.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import delete, or_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import defer
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from bot.core.model import FeedView, OccurrenceView
from storage.models import CalendarFeed, Person, SeenOccurrence


@dataclass(frozen=True)
class FeedToPoll:
    """What a poll needs, read before the (slow, outside any transaction) fetch."""

    feed_id: int
    person_id: int
    url: str
    owner_emails: tuple[str, ...]
    etag: str | None
    last_modified: str | None
    body: bytes | None
    last_polled_at: datetime | None
    last_ok_at: datetime | None
    failures: int
    failure_reported: bool
    timezone: str
    paused_until: date | None
    keywords: str | None
    all_events: bool
    # Calendar accounts (issue 15): ics | graph | caldav, the account shown to its owner,
    # the refresh token or password and the Graph access token, still encrypted
    # (storage.calendar_accounts.read_secret), and when the server allows the next poll.
    kind: str = "ics"
    account: str | None = None
    secret: bytes | None = None
    access_secret: bytes | None = None
    access_expires_at: datetime | None = None
    retry_at: datetime | None = None


def feed_views(session: Session, person_id: int) -> list[FeedView]:
    feeds = session.exec(
        select(CalendarFeed)
        .where(CalendarFeed.person_id == person_id)
        .order_by(col(CalendarFeed.id))
    ).all()
    return [
        FeedView(
            number=i,
            feed_id=int(f.id or 0),
            url=f.url,
            last_ok_at=f.last_ok_at,
            failures=f.failures,
            kind=f.kind,
            account=f.account or "",
        )
        for i, f in enumerate(feeds, 1)
    ]


def add_feed(
    session: Session, person_id: int, url: str, *, owner_emails: tuple[str, ...], now: datetime
) -> CalendarFeed:
    feed = CalendarFeed(
        person_id=person_id,
        url=url,
        owner_emails=",".join(owner_emails)[:500],
        created_at=now,
    )
    session.add(feed)
    session.flush()
    return feed


def remove_feed(session: Session, person_id: int, feed_id: int) -> bool:
    """Delete a feed of this person (its seen occurrences go with it)."""
    result = session.execute(
        delete(CalendarFeed)
        .where(col(CalendarFeed.id) == feed_id, col(CalendarFeed.person_id) == person_id)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount) == 1  # type: ignore[attr-defined]


def _owned(person_id: int, occurrence_id: int) -> SelectOfScalar[SeenOccurrence]:
    return (
        select(SeenOccurrence)
        .join(CalendarFeed, col(CalendarFeed.id) == col(SeenOccurrence.feed_id))
        .where(col(SeenOccurrence.id) == occurrence_id, col(CalendarFeed.person_id) == person_id)
    )


def occurrence_view(session: Session, person_id: int, occurrence_id: int) -> OccurrenceView | None:
    """The occurrence, if it belongs to one of this person's feeds (a forged id gets None)."""
    occ = session.exec(_owned(person_id, occurrence_id)).first()
    if occ is None:
        return None
    return OccurrenceView(
        id=int(occ.id or 0),
        title=occ.title,
        start=occ.start,
        end=occ.end,
        minutes=occ.minutes,
        decision=occ.decision,
        entry_number=occ.entry_number,
    )


def decide(
    session: Session,
    person_id: int,
    occurrence_id: int,
    *,
    decision: str,
    now: datetime,
    remind_at: datetime | None = None,
    entry_number: int | None = None,
) -> bool:
    occ = session.exec(_owned(person_id, occurrence_id)).first()
    if occ is None:
        return False
    occ.decision = decision
    occ.decided_at = now
    occ.remind_at = remind_at
    if entry_number is not None:
        occ.entry_number = entry_number
    session.add(occ)
    session.flush()
    return True


# ---------------------------------------------------------------- polling


def feeds_to_consider(session: Session, *, now: datetime | None = None) -> list[FeedToPoll]:
    """Every feed with its owner's settings (the job decides which are due); given `now`,
    not those a server asked to leave alone until later (`retry_at`, from Retry-After)."""
    query = (
        select(CalendarFeed, Person)
        .join(Person, col(Person.id) == col(CalendarFeed.person_id))
        # The stored body is read by claim_poll, only for the feeds actually polled.
        .options(defer(CalendarFeed.body))  # type: ignore[arg-type]
        .order_by(col(CalendarFeed.id))
    )
    if now is not None:
        query = query.where(
            or_(col(CalendarFeed.retry_at).is_(None), col(CalendarFeed.retry_at) <= now)
        )
    rows = session.exec(query).all()
    return [
        FeedToPoll(
            feed_id=int(f.id or 0),
            person_id=f.person_id,
            url=f.url,
            owner_emails=tuple(e for e in f.owner_emails.split(",") if e),
            etag=f.etag,
            last_modified=f.last_modified,
            body=None,
            last_polled_at=f.last_polled_at,
            last_ok_at=f.last_ok_at,
            failures=f.failures,
            failure_reported=f.failure_reported,
            timezone=p.timezone,
            paused_until=p.paused_until,
            keywords=p.calendar_keywords,
            all_events=p.calendar_all_events,
            kind=f.kind,
            account=f.account,
            secret=f.secret,
            access_secret=f.access_secret,
            access_expires_at=f.access_expires_at,
            retry_at=f.retry_at,
        )
        for f, p in rows
    ]


def claim_poll(session: Session, feed: FeedToPoll, *, now: datetime) -> FeedToPoll | None:
    """Take this poll (compare-and-set on last_polled_at), so two workers never poll one
    feed at once; returns the feed with its stored body, or None if another worker won."""
    condition = (
        col(CalendarFeed.last_polled_at).is_(None)
        if feed.last_polled_at is None
        else col(CalendarFeed.last_polled_at) == feed.last_polled_at
    )
    result = session.execute(
        update(CalendarFeed)
        .where(col(CalendarFeed.id) == feed.feed_id, condition)
        .values(last_polled_at=now)
        .execution_options(synchronize_session=False)
    )
    if int(result.rowcount) != 1:  # type: ignore[attr-defined]
        return None
    stored = session.exec(select(CalendarFeed.body).where(CalendarFeed.id == feed.feed_id)).first()
    body = zlib.decompress(stored) if stored else None
    return FeedToPoll(**{**feed.__dict__, "body": body})


def record_ok(
    session: Session,
    feed_id: int,
    *,
    now: datetime,
    etag: str | None,
    last_modified: str | None,
    body: bytes | None,
) -> None:
    """A successful poll: the window for the next one starts now; failures (and a
    server's request to wait) are forgotten.

    The body is kept (compressed) only with a validator, for reading it again after a 304.
    """
    values: dict[str, object] = {
        "last_ok_at": now,
        "failures": 0,
        "failure_reported": False,
        "last_error": None,
        "retry_at": None,
        "etag": etag[:500] if etag else None,
        "last_modified": last_modified[:100] if last_modified else None,
    }
    if body is not None:
        values["body"] = zlib.compress(body, 6) if (etag or last_modified) else None
    session.execute(
        update(CalendarFeed)
        .where(col(CalendarFeed.id) == feed_id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )


def record_failure(session: Session, feed_id: int, *, error: str) -> None:
    session.execute(
        update(CalendarFeed)
        .where(col(CalendarFeed.id) == feed_id)
        .values(failures=CalendarFeed.failures + 1, last_error=error[:500])
        .execution_options(synchronize_session=False)
    )


def set_retry_at(session: Session, feed_id: int, at: datetime | None) -> None:
    """The server asked to wait (429/503 Retry-After): not polled before `at`."""
    session.execute(
        update(CalendarFeed)
        .where(col(CalendarFeed.id) == feed_id)
        .values(retry_at=at)
        .execution_options(synchronize_session=False)
    )


def mark_failure_reported(session: Session, feed_id: int) -> None:
    session.execute(
        update(CalendarFeed)
        .where(col(CalendarFeed.id) == feed_id)
        .values(failure_reported=True)
        .execution_options(synchronize_session=False)
    )


def add_seen(
    session: Session,
    feed_id: int,
    *,
    uid: str,
    recurrence_id: str,
    title: str,
    start: datetime,
    end: datetime,
    minutes: int | None,
    now: datetime,
) -> int | None:
    """Record an occurrence as prompted; its id, or None if it was seen before."""
    uid, recurrence_id = uid[:500], recurrence_id[:64]
    known = session.exec(
        select(SeenOccurrence.id).where(
            SeenOccurrence.feed_id == feed_id,
            SeenOccurrence.uid == uid,
            SeenOccurrence.recurrence_id == recurrence_id,
        )
    ).first()
    if known is not None:
        return None
    row = SeenOccurrence(
        feed_id=feed_id,
        uid=uid,
        recurrence_id=recurrence_id,
        title=title[:200],
        start=start,
        end=end,
        minutes=minutes,
        created_at=now,
    )
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:  # another worker recorded it between our check and our insert
        return None
    return int(row.id or 0)


@dataclass(frozen=True)
class Reask:
    occurrence: OccurrenceView
    person_id: int
    timezone: str
    paused_until: date | None


def due_reasks(session: Session, *, now: datetime) -> list[Reask]:
    """Occurrences answered "Later" whose time to ask again has come."""
    rows = session.exec(
        select(SeenOccurrence, Person)
        .join(CalendarFeed, col(CalendarFeed.id) == col(SeenOccurrence.feed_id))
        .join(Person, col(Person.id) == col(CalendarFeed.person_id))
        .where(SeenOccurrence.decision == "later", col(SeenOccurrence.remind_at) <= now)
    ).all()
    return [
        Reask(
            OccurrenceView(
                id=int(o.id or 0),
                title=o.title,
                start=o.start,
                end=o.end,
                minutes=o.minutes,
                decision=o.decision,
            ),
            int(p.id or 0),
            p.timezone,
            p.paused_until,
        )
        for o, p in rows
    ]


def mark_reasked(session: Session, occurrence_id: int) -> bool:
    """later -> reasked, once (compare-and-set): False if another worker did it first."""
    result = session.execute(
        update(SeenOccurrence)
        .where(col(SeenOccurrence.id) == occurrence_id, col(SeenOccurrence.decision) == "later")
        .values(decision="reasked")
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount) == 1  # type: ignore[attr-defined]
