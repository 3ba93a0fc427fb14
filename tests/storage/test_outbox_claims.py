"""Two schedulers never send one message twice (issue 12, item 2).

Claims age on the database's clock, not on each process's own `now`; a worker renews the
claims it holds while it sends (a heartbeat) and re-checks each row just before sending
it; a row whose claim it lost is skipped. Each test runs two send loops over one database
(SQLite, then PostgreSQL) with a sender the test holds up and clocks that disagree.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from bot.core.model import IdentityKey, Outgoing
from bot.core.schemes import Scheme
from bot.services.engine import Engine
from bot.services.outbound import sending
from bot.services.outbound.jobs import Jobs
from storage import outbox
from storage.db import Database
from storage.models import Outbox
from tests.conftest import Clock
from tests.scheduling import make_jobs, person_of, user
from tests.storage.test_outbox import age_claims, identity_id, message

NINE = datetime(2026, 12, 1, 9, tzinfo=UTC)
AHEAD = NINE + timedelta(minutes=10)  # the second host's clock: ten minutes fast


class HeldSender:
    """A Sender whose every send waits until the test releases it (a slow platform)."""

    def __init__(self, in_flight_to_wait_for: int) -> None:
        self.wanted = in_flight_to_wait_for
        self.in_flight: list[str] = []
        self.sent: list[str] = []
        self.busy = asyncio.Event()  # `wanted` sends are under way
        self.release = asyncio.Event()

    async def send(self, identity: IdentityKey, chat_id: str | None, reply: Outgoing) -> None:
        self.in_flight.append(reply.text)
        if len(self.in_flight) >= self.wanted:
            self.busy.set()
        await self.release.wait()
        self.sent.append(reply.text)


class Beats:
    """The heartbeat's sleep, moved by the test: each `beat()` lets one renewal happen."""

    def __init__(self) -> None:
        self.asleep: asyncio.Queue[None] = asyncio.Queue()
        self.wake: asyncio.Queue[None] = asyncio.Queue()

    async def sleep(self, seconds: float) -> None:
        self.asleep.put_nowait(None)
        await self.wake.get()

    async def beat(self) -> bool:
        """Wake the heartbeat once and wait until it is asleep again, its renewal done
        (False if there is no heartbeat)."""
        try:
            await asyncio.wait_for(self.asleep.get(), 2)
            self.wake.put_nowait(None)
            await asyncio.wait_for(self.asleep.get(), 2)
        except TimeoutError:
            return False
        self.asleep.put_nowait(None)  # still asleep: the next beat finds it so
        return True


def people_with_messages(
    db: Database, schemes: dict[str, Scheme], people: int, each: int
) -> list[str]:
    """`people` people with `each` messages due at NINE; returns the texts."""
    engine = Engine(db, schemes, Clock(NINE))
    rows = []
    for p in range(people):
        name = f"p{p}"
        user(engine, name)
        pid, iid = person_of(db, name).id or 0, identity_id(db, name)
        rows += [message(pid, iid, f"{name}-{m:02d}") for m in range(each)]
    with db.transaction() as s:
        assert outbox.enqueue(s, rows, now=NINE) == len(rows)
    return [str(r.payload["text"]) for r in rows]


def scheduler(
    db: Database, schemes: dict[str, Scheme], name: str, at: datetime, sender: object
) -> tuple[Jobs, Beats]:
    """A scheduler process named `name` whose clock says `at`, its heartbeat held."""
    jobs, _ = make_jobs(db, schemes, Clock(at), senders={"console": sender}, worker=name)
    beats = Beats()
    jobs.sending.sleep = beats.sleep
    return jobs, beats


def sent_once(texts: list[str], *senders: list[str]) -> Counter[str]:
    """Texts not sent exactly once (empty when every one was)."""
    counts = Counter(t for sent in senders for t in sent)
    return Counter({t: counts[t] for t in texts if counts[t] != 1})


def test_a_scheduler_whose_clock_is_ahead_leaves_fresh_claims_alone(
    db: Database, schemes: dict[str, Scheme], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A slow batch on host A; host B, ten minutes fast, runs meanwhile: it sends only
    what A has not claimed, and every message goes out once."""
    texts = people_with_messages(db, schemes, people=10, each=10)
    monkeypatch.setattr(sending, "CLAIM_MAX", 40)  # A's batch: four people's messages
    slow = HeldSender(in_flight_to_wait_for=4)  # each of the four's first message, held
    fast = HeldSender(in_flight_to_wait_for=1)
    fast.release.set()
    a, _ = scheduler(db, schemes, "host-a", NINE, slow)
    b, _ = scheduler(db, schemes, "host-b", AHEAD, fast)

    async def main() -> None:
        sending_a = asyncio.create_task(a.send_due(NINE))
        await asyncio.wait_for(slow.busy.wait(), 10)
        await b.send_due(AHEAD)
        slow.release.set()
        await sending_a

    asyncio.run(main())
    assert sent_once(texts, slow.sent, fast.sent) == Counter()
    assert not set(slow.sent) & set(fast.sent)


def test_a_claim_renewed_while_a_send_hangs_is_not_taken_over(
    db: Database, schemes: dict[str, Scheme]
) -> None:
    """A's sends hang for longer than the claim timeout on the database's clock; its
    heartbeat renews what it holds, so B (clock fast as well) takes none of it."""
    texts = people_with_messages(db, schemes, people=3, each=4)
    slow = HeldSender(in_flight_to_wait_for=3)
    fast = HeldSender(in_flight_to_wait_for=1)
    fast.release.set()
    a, beats = scheduler(db, schemes, "host-a", NINE, slow)
    b, _ = scheduler(db, schemes, "host-b", AHEAD, fast)

    async def main() -> None:
        sending_a = asyncio.create_task(a.send_due(NINE))
        await asyncio.wait_for(slow.busy.wait(), 10)
        await asyncio.to_thread(age_claims, db, sending.CLAIM_TIMEOUT + timedelta(minutes=1))
        await beats.beat()  # A's heartbeat, due in that time, renews its claims
        await b.send_due(AHEAD)
        slow.release.set()
        await sending_a

    asyncio.run(main())
    assert fast.sent == []
    assert sorted(slow.sent) == sorted(texts)
    with db.transaction() as s:
        rows = s.exec(select(Outbox)).all()
    assert {(r.state, r.claimed_by, r.attempts) for r in rows} == {("sent", "host-a", 1)}


def test_a_worker_never_sends_a_row_it_no_longer_holds(
    db: Database, schemes: dict[str, Scheme]
) -> None:
    """A is suspended mid-batch (no heartbeat) past the claim timeout and B takes its rows
    over and sends them. When A wakes it finishes only the sends already under way (the
    one window no scheduler can close) and skips every row it lost."""
    texts = people_with_messages(db, schemes, people=3, each=4)
    slow = HeldSender(in_flight_to_wait_for=3)
    fast = HeldSender(in_flight_to_wait_for=1)
    fast.release.set()
    a, _ = scheduler(db, schemes, "host-a", NINE, slow)  # its heartbeat never wakes
    b, _ = scheduler(db, schemes, "host-b", NINE, fast)

    async def main() -> None:
        sending_a = asyncio.create_task(a.send_due(NINE))
        await asyncio.wait_for(slow.busy.wait(), 10)
        await asyncio.to_thread(age_claims, db, sending.CLAIM_TIMEOUT + timedelta(minutes=1))
        await b.send_due(NINE)
        slow.release.set()
        await sending_a

    asyncio.run(main())
    assert sorted(fast.sent) == sorted(texts)  # B sent everything it took over
    assert sorted(slow.sent) == sorted(slow.in_flight[:3])  # A: only what was under way
    assert [t.rsplit("-", 1)[1] for t in slow.sent] == ["00"] * 3
    with db.transaction() as s:
        rows = s.exec(select(Outbox)).all()
    assert {(r.state, r.claimed_by, r.attempts) for r in rows} == {("sent", "host-b", 2)}
