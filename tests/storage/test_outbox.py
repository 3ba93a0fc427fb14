"""The outbox: unique keys, exclusive claims, crash between claim and send, retries,
expiry, rate limits, and two `cpdbot tick` processes on one SQLite file."""

from __future__ import annotations

import asyncio
import itertools
import os
import re
import subprocess
import sys
import threading
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import col, select

from bot.core.model import IdentityKey, Incoming, Unreachable
from bot.core.schemes import Scheme
from bot.services.engine import Engine
from bot.services.outbound import planner, rate_limits, sending
from bot.services.outbound.jobs import Jobs
from bot.services.outbound.rate_limits import RateLimit, RateLimiter
from storage import conversations, outbox
from storage.db import Database
from storage.models import Identity, Outbox, ProcessedEvent
from tests.conftest import Chat, Clock, new_sqlite
from tests.scheduling import make_jobs, outbox_rows, person_of, run_tick, tick, user

NINE = datetime(2026, 12, 1, 9, tzinfo=UTC)  # 09:00 in London: the December nudge is due


def message(person_id: int, identity_id: int, key: str, **kw: object) -> outbox.NewMessage:
    fields: dict[str, object] = {
        "person_id": person_id,
        "identity_id": identity_id,
        "kind": "test",
        "key": key,
        "payload": {"text": f"hello {key}", "choices": []},
        "due_at": NINE,
    }
    fields.update(kw)
    return outbox.NewMessage(**fields)  # type: ignore[arg-type]


def identity_id(db: Database, name: str) -> int:
    with db.transaction() as s:
        from storage import repo

        found = repo.find_identity(s, IdentityKey("console", name))
        assert found is not None and found.id is not None
        return found.id


def age_claims(db: Database, by: timedelta) -> None:
    """As if the database's clock had moved on `by` since the claims were made or renewed
    (a send that hangs that long, or a process suspended that long)."""
    with db.transaction() as s:
        for row in s.exec(select(Outbox).where(col(Outbox.state) == outbox.CLAIMED)):
            assert row.claimed_at is not None
            row.claimed_at -= by


def test_enqueue_twice_stores_once(db: Database, schemes: dict[str, Scheme]) -> None:
    clock = Clock(NINE)
    user(Engine(db, schemes, clock), "ann")
    pid, iid = person_of(db, "ann").id or 0, identity_id(db, "ann")
    with db.transaction() as s:
        assert outbox.enqueue(s, [message(pid, iid, "a"), message(pid, iid, "b")], now=NINE) == 2
    with db.transaction() as s:
        again = [message(pid, iid, "a", payload={"text": "changed"}), message(pid, iid, "c")]
        assert outbox.enqueue(s, again, now=NINE) == 1
    rows = outbox_rows(db, "test")
    assert [(r.key, r.payload["text"]) for r in rows] == [
        ("a", "hello a"),
        ("b", "hello b"),
        ("c", "hello c"),
    ]


def test_two_workers_never_claim_the_same_row(db: Database, schemes: dict[str, Scheme]) -> None:
    clock = Clock(NINE)
    engine = Engine(db, schemes, clock)
    for i in range(5):
        user(engine, f"u{i}")
    with db.transaction() as s:
        rows = [
            message(person_of(db, f"u{i}").id or 0, identity_id(db, f"u{i}"), f"k{j}")
            for i in range(5)
            for j in range(40)
        ]
        outbox.enqueue(s, rows, now=NINE)
    workers = [Jobs(db, schemes, clock, worker=f"w{i}") for i in range(4)]
    barrier = threading.Barrier(len(workers))
    claimed: dict[str, list[int]] = {}

    def work(jobs: Jobs) -> None:
        barrier.wait()
        got: list[int] = []
        while batch := jobs.sending.claim("console", NINE, 7):
            got += [r.id for r in batch]
        claimed[jobs.worker] = got

    threads = [threading.Thread(target=work, args=(w,)) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    every = [i for got in claimed.values() for i in got]
    assert len(every) == 200 and len(set(every)) == 200


def test_crash_between_claim_and_send_is_retried_once_the_claim_is_stale(
    db: Database, schemes: dict[str, Scheme]
) -> None:
    clock = Clock(datetime(2026, 11, 20, tzinfo=UTC))
    user(Engine(db, schemes, clock), "cat")
    # A worker plans and claims the nudge, then dies before sending it.
    dead = Jobs(db, schemes, clock, senders={}, worker="dead")
    dead.plan(NINE)
    (claimed,) = dead.sending.claim("console", NINE, 10)
    (row,) = outbox_rows(db, "nudge")
    assert (row.state, row.claimed_by, row.attempts) == ("claimed", "dead", 1)
    jobs, recorder = make_jobs(db, schemes, clock)
    assert tick(jobs, clock, NINE + timedelta(minutes=1)) == []  # the claim is fresh
    # Claims age on the database's clock (issue 12), not on the scheduler's: a tick "as
    # if" an hour later leaves the claim alone ...
    assert tick(jobs, clock, NINE + timedelta(hours=1)) == []
    age_claims(db, sending.CLAIM_TIMEOUT - timedelta(seconds=5))
    assert tick(jobs, clock, NINE + timedelta(hours=1)) == []  # not older than the timeout
    # ... until the database's clock has moved past the timeout since it was made.
    age_claims(db, timedelta(seconds=6))
    sent = tick(jobs, clock, NINE + timedelta(hours=1))
    assert [(m.kind, m.key) for m in sent] == [("nudge", "2026-12")]
    (row,) = outbox_rows(db, "nudge")
    assert (row.state, row.claimed_by, row.attempts) == ("sent", jobs.worker, 2)
    # The dead worker's late "sent" does not overwrite the record.
    with db.transaction() as s:
        assert not outbox.mark_sent(s, claimed.id, worker="dead", now=NINE)
    assert tick(jobs, clock, NINE + timedelta(hours=1)) == []
    assert len(recorder.sent) == 1


def test_errors_are_retried_with_backoff_then_given_up(
    db: Database, schemes: dict[str, Scheme]
) -> None:
    clock = Clock(datetime(2026, 11, 20, tzinfo=UTC))
    user(Engine(db, schemes, clock), "flaky")
    user(Engine(db, schemes, clock), "broken")
    jobs, recorder = make_jobs(db, schemes, clock)
    recorder.fail_with += [ConnectionError("reset"), ConnectionError("reset")] * 2
    # Both fail at 09:00 (attempt 1) ...
    report = run_tick(jobs, clock, NINE)
    assert (report.sent, report.retried) == ([], 2)
    assert {r.state for r in outbox_rows(db, "nudge")} == {"pending"}
    assert {r.due_at for r in outbox_rows(db, "nudge")} == {NINE + timedelta(minutes=1)}
    assert tick(jobs, clock, NINE + timedelta(seconds=59)) == []  # backing off
    # ... both fail again at 09:01 (attempt 2: the next wait is two minutes) ...
    report = run_tick(jobs, clock, NINE + timedelta(minutes=1))
    assert (report.sent, report.retried) == ([], 2)
    # ... and both succeed at 09:03.
    sent = tick(jobs, clock, NINE + timedelta(minutes=3))
    assert sorted(m.recipient.user_id for m in sent) == ["broken", "flaky"]
    assert [r.attempts for r in outbox_rows(db, "nudge")] == [3, 3]
    # A message that keeps failing is given up after MAX_ATTEMPTS.
    recorder.fail_with += [RuntimeError("500")] * 10
    at = datetime(2027, 1, 1, 9, tzinfo=UTC)
    for _ in range(sending.MAX_ATTEMPTS + 2):
        run_tick(jobs, clock, at)
        at += timedelta(hours=2)
    january = [r for r in outbox_rows(db, "nudge") if r.key == "2027-01"]
    assert [(r.state, r.attempts) for r in january] == [("failed", sending.MAX_ATTEMPTS)] * 2
    assert "RuntimeError: 500" in (january[0].last_error or "")


def test_unreachable_marks_the_identity_and_fails_the_row(
    db: Database, schemes: dict[str, Scheme]
) -> None:
    clock = Clock(datetime(2026, 11, 20, tzinfo=UTC))
    user(Engine(db, schemes, clock), "left")
    jobs, recorder = make_jobs(db, schemes, clock)
    recorder.fail_with.append(Unreachable("blocked the bot"))
    report = run_tick(jobs, clock, NINE)
    assert (report.sent, report.failed) == ([], 1)
    (row,) = outbox_rows(db, "nudge")
    assert row.state == "failed" and row.last_error == "blocked the bot"
    with db.transaction() as s:
        ident = s.get(Identity, identity_id(db, "left"))
        assert ident is not None and ident.unreachable
    assert run_tick(jobs, clock, datetime(2027, 1, 1, 9, tzinfo=UTC)).enqueued == 0


def test_rows_past_their_grace_window_expire_unsent(
    db: Database, schemes: dict[str, Scheme]
) -> None:
    clock = Clock(datetime(2026, 11, 20, tzinfo=UTC))
    user(Engine(db, schemes, clock), "late")
    jobs, recorder = make_jobs(db, schemes, clock, senders={})  # nobody to send with
    assert tick(jobs, clock, NINE) == []
    (row,) = outbox_rows(db, "nudge")
    assert row.state == "pending" and row.expires_at == NINE + timedelta(days=3)
    jobs.senders["console"] = recorder
    assert tick(jobs, clock, NINE + timedelta(days=3, seconds=1)) == []
    assert outbox_rows(db, "nudge")[0].state == "expired" and recorder.sent == []


def test_messages_to_one_person_keep_their_order(db: Database, schemes: dict[str, Scheme]) -> None:
    clock = Clock(NINE)
    user(Engine(db, schemes, clock), "ord")
    pid, iid = person_of(db, "ord").id or 0, identity_id(db, "ord")
    with db.transaction() as s:
        outbox.enqueue(s, [message(pid, iid, f"{i:02d}") for i in range(12)], now=NINE)
    jobs, recorder = make_jobs(db, schemes, clock)
    asyncio.run(jobs.send_due(NINE))
    assert [r.text for _, r in recorder.sent] == [f"hello {i:02d}" for i in range(12)]


def test_rate_limiter_spaces_sends_per_platform_and_per_recipient() -> None:
    now = [0.0]
    log: list[tuple[str, float]] = []

    async def fake_sleep(seconds: float) -> None:
        now[0] += seconds

    limiter = RateLimiter(
        {"telegram": RateLimit(per_second=30, per_recipient=1.0), "console": RateLimit()},
        clock=lambda: now[0],
        sleep=fake_sleep,
    )

    async def send(platform: str, to: str) -> None:
        await limiter.wait(platform, to)
        log.append((f"{platform}:{to}", now[0]))

    async def main() -> None:
        for i in range(60):
            await send("telegram", f"user{i}")
        await send("telegram", "user0")  # the same chat again: a second after its first
        for _ in range(100):
            await send("console", "me")

    asyncio.run(main())
    telegram = [t for who, t in log if who.startswith("telegram")]
    gaps = [b - a for a, b in itertools.pairwise(telegram[:60])]
    assert all(abs(g - 1 / 30) < 1e-9 for g in gaps)
    assert telegram[60] >= telegram[0] + 1.0
    assert {t for who, t in log if who.startswith("console")} == {telegram[60]}  # no waiting


# ---------------------------------------------------------------- the CLI


def cpdbot(*args: str, env_extra: dict[str, str] | None = None) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "TELEGRAM"))}
    env.pop("SLACK_BOT_TOKEN", None)
    env.update(env_extra or {})
    return subprocess.Popen(
        [sys.executable, "-m", "cpdbot.cli", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=Path(__file__).resolve().parents[2],
    )


def finish(proc: subprocess.Popen[str]) -> tuple[str, str]:
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    return out, err


HEADER = re.compile(r"^--- to (\S+) \[(\w+) (\S+)\]$", re.M)


def test_two_concurrent_ticks_on_one_database_send_each_message_once(
    db: Database, schemes: dict[str, Scheme]
) -> None:
    """Two scheduler processes (cron on two machines) on one SQLite file or PostgreSQL."""
    clock = Clock(datetime(2026, 11, 20, tzinfo=UTC))
    engine = Engine(db, schemes, clock)
    names = [f"user{i:02d}" for i in range(40)]
    for i, name in enumerate(names):
        user(engine, name, ["Europe/London", "Europe/Dublin"][i % 2])
    db.dispose()
    url = db.url
    for at in ("2026-12-01T09:00:00+00:00", "2027-01-01T09:00:00Z"):
        procs = [cpdbot("tick", "--at", at, "--db", url) for _ in range(2)]
        outputs = [finish(p)[0] for p in procs]
        headers = [h for out in outputs for h in HEADER.findall(out)]
        counts = Counter(headers)
        assert len(counts) == len(names), (at, len(counts))
        assert set(counts.values()) == {1}, [h for h, n in counts.items() if n > 1]
        assert {who for who, _, _ in counts} == {f"console:{n}" for n in names}
        # A third tick at the same instant sends nothing.
        again, _ = finish(cpdbot("tick", "--at", at, "--db", url))
        assert HEADER.findall(again) == []


def test_tick_prints_what_it_sent_and_leaves_unconfigured_platforms_pending(
    tmp_path: Path, schemes: dict[str, Scheme]
) -> None:
    db = new_sqlite(tmp_path / "cpd.db")
    clock = Clock(datetime(2026, 11, 20, tzinfo=UTC))
    engine = Engine(db, schemes, clock)
    user(engine, "ann")
    tg = Chat(engine, IdentityKey("telegram", "4242"))
    tg.say("/start")
    tg.press("IET")
    tg.press("Europe/London")
    db.dispose()
    url = f"sqlite:///{tmp_path / 'cpd.db'}"
    out, err = finish(cpdbot("tick", "--at", "2026-12-01T09:00:00", "--db", url))
    assert HEADER.findall(out) == [("console:ann", "nudge", "2026-12")]
    assert "Your monthly CPD check-in" in out and "  [1] Log now" in out
    assert "1 telegram message(s) due but not sent" in err
    out, _ = finish(cpdbot("tick", "--at", "2026-12-01T09:05:00Z", "--db", url, "--print-all"))
    assert HEADER.findall(out) == [("telegram:4242", "nudge", "2026-12")]
    out, err = finish(cpdbot("tick", "--at", "2026-12-01T09:05:00Z", "--db", url, "--print-all"))
    assert out == "" and "0 sent" in err


def test_tick_rejects_a_bad_instant(tmp_path: Path) -> None:
    proc = cpdbot("tick", "--at", "next tuesday", "--db", f"sqlite:///{tmp_path / 'x.db'}")
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 2 and "not an ISO-8601 date-time" in err


@pytest.mark.parametrize("platform", ["telegram", "slack"])
def test_default_limits_cover_the_platforms(platform: str) -> None:
    limit = rate_limits.DEFAULT_LIMITS[platform]
    assert limit.per_second and limit.per_recipient >= 1.0


# ---------------------------------------------------------------- retention


def test_old_dedupe_keys_are_forgotten_while_recent_ones_still_stop_repeats(
    db: Database, schemes: dict[str, Scheme]
) -> None:
    clock = Clock(datetime(2026, 10, 1, 9, tzinfo=UTC))
    engine = Engine(db, schemes, clock)
    me = IdentityKey("telegram", "77")
    Chat(engine, me).onboard()
    for n in range(3):
        engine.process(Incoming.text_of(me, "/list", dedupe_key=f"old-{n}"))
    clock.now = datetime(2026, 11, 20, 9, tzinfo=UTC)  # 50 days on
    recent = Incoming.text_of(me, "/log 1h webinar on earthing yesterday #events", dedupe_key="new")
    assert engine.process(recent).replies
    jobs, _ = make_jobs(db, schemes, clock)
    assert jobs.prune(clock.now) == (3, 0)
    with db.transaction() as s:
        assert s.exec(select(ProcessedEvent.key)).all() == ["new"]
    assert engine.process(recent).duplicate  # a redelivery of the recent update: once only
    assert jobs.prune(clock.now) == (0, 0)


def test_finished_outbox_rows_go_after_their_keep_and_pending_ones_never(
    db: Database, schemes: dict[str, Scheme]
) -> None:
    clock = Clock(NINE)
    user(Engine(db, schemes, clock), "ann")
    pid, iid = person_of(db, "ann").id or 0, identity_id(db, "ann")
    long_ago = NINE - planner.KEEP_OUTBOX - timedelta(days=1)
    with db.transaction() as s:
        outbox.enqueue(
            s,
            [
                message(pid, iid, "sent-long-ago", due_at=long_ago),
                message(pid, iid, "skipped-long-ago", due_at=long_ago, state=outbox.SKIPPED),
                message(pid, iid, "pending-long-ago", due_at=long_ago),
                message(pid, iid, "sent-lately", due_at=NINE - timedelta(days=30)),
            ],
            now=long_ago,
        )
    with db.transaction() as s:
        for row in s.exec(select(Outbox).where(col(Outbox.key).like("sent-%"))):
            row.state = outbox.SENT
    jobs, _ = make_jobs(db, schemes, clock)
    assert jobs.prune(NINE) == (0, 2)
    assert sorted(r.key for r in outbox_rows(db, "test")) == ["pending-long-ago", "sent-lately"]


def test_pruning_a_backlog_goes_in_batches(
    db: Database, schemes: dict[str, Scheme], monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = Clock(NINE)
    user(Engine(db, schemes, clock), "ann")
    old = NINE - planner.KEEP_PROCESSED - timedelta(days=1)
    with db.transaction() as s:
        for n in range(25):
            conversations.mark_processed(s, "telegram", f"u{n}", now=old)
        conversations.mark_processed(s, "telegram", "today", now=NINE)
    monkeypatch.setattr(planner, "PRUNE_BATCH", 10)
    monkeypatch.setattr(planner, "PRUNE_BATCHES", 2)
    jobs, _ = make_jobs(db, schemes, clock)
    assert jobs.prune(NINE) == (20, 0)  # two batches this run
    assert jobs.prune(NINE) == (5, 0)  # the rest on the next
    with db.transaction() as s:
        assert s.exec(select(ProcessedEvent.key)).all() == ["today"]


def test_the_planner_prunes_at_most_hourly(db: Database, schemes: dict[str, Scheme]) -> None:
    clock = Clock(NINE)
    user(Engine(db, schemes, clock), "ann")
    jobs, _ = make_jobs(db, schemes, clock)
    old = NINE - planner.KEEP_PROCESSED - timedelta(days=1)

    def add_old(key: str) -> None:
        with db.transaction() as s:
            conversations.mark_processed(s, "telegram", key, now=old)

    def keys() -> list[str]:
        with db.transaction() as s:
            return sorted(s.exec(select(ProcessedEvent.key)).all())

    add_old("a")
    jobs.plan(NINE)
    add_old("b")
    jobs.plan(NINE + timedelta(minutes=30))
    assert keys() == ["b"]  # not pruned again within the hour
    jobs.plan(NINE + timedelta(hours=1))
    assert keys() == []
