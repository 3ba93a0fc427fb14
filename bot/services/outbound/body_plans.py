"""Several bodies, one record (issue 16), in the planner: the monthly check-in gains a
line per other body the member follows, and each other body's year-end summary is
planned when that body's own CPD year ends (STEP's on 1 April), one per body and year."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime, timedelta

from sqlmodel import Session

from bot.core import agenda, body_notices, zones
from bot.core.model import PersonView
from bot.core.schemes import Scheme
from bot.services import bodies as body_service
from storage import bodies, outbox, recipients
from storage.db import Database

CHUNK = 500  # people per transaction


def with_bodies(
    session: Session,
    person_id: int,
    person: PersonView,
    schemes: Mapping[str, Scheme],
    followed: list[tuple[str, str]],
    message: agenda.Message,
    now: datetime,
) -> agenda.Message:
    """The monthly check-in with a line per other body, each in its own CPD year."""
    today = zones.local_today(now, person.timezone)
    found = []
    for body in followed:
        view = body_service.view_of(session, person_id, person, schemes, body, today)
        if view is not None:
            found.append((schemes[body[0]], view))
    lines = body_notices.nudge_lines(person, found, now)
    if not lines:
        return message
    return replace(message, text=message.text + "\nYour other bodies:\n" + "\n".join(lines))


def plan_year_end(db: Database, schemes: Mapping[str, Scheme], now: datetime) -> int:
    """Each other body's year-end summary due now, for everyone who follows one, enqueued
    in short transactions; returns how many rows were new."""
    with db.transaction() as session:
        ids = bodies.followers(session)
    total = 0
    for i in range(0, len(ids), CHUNK):
        with db.transaction() as session:
            people = recipients.people(session, ids[i : i + CHUNK])
            identities = outbox.preferred_identities(session, people)
            followed = bodies.followed_by(session, list(people))
            rows = []
            for pid, person in people.items():
                identity = identities.get(pid)
                if identity is None:
                    continue
                for body in followed.get(pid, []):
                    msg = _summary(session, pid, person, schemes, body, now)
                    if msg is not None:
                        rows.append(outbox.queued(pid, identity, msg))
            total += outbox.enqueue(session, rows, now=now)
    return total


def _summary(
    session: Session,
    person_id: int,
    person: PersonView,
    schemes: Mapping[str, Scheme],
    body: tuple[str, str],
    now: datetime,
) -> agenda.Message | None:
    scheme = schemes.get(body[0])
    if scheme is None or scheme.id == person.scheme_id:
        return None
    seen = body_notices.as_member_of(person, scheme, body[1])
    found = agenda.summary_due(seen, scheme, now)
    if found is None:
        return None
    ended, new_year, due = found
    if bodies.decided(session, person_id, agenda.YEAR_END, f"{scheme.id}:{ended.isoformat()}"):
        return None
    last_day = new_year - timedelta(days=1)
    view = body_service.view_of(session, person_id, person, schemes, body, last_day)
    return None if view is None else body_notices.year_end(seen, scheme, view, due=due)
