"""Telegram throughput: N updates through the real adapter in webhook mode, fake Bot API.

    python bench/telegram.py [--users 300] [--concurrency 50] [--db URL]
                             [--replay-engine] [--httpx]

This process is the bot worker: the real adapter (aiohttp webhook endpoint, inbox,
per-chat queues, engine on a SQLite file, python-telegram-bot's HTTP client). A second
process plays Telegram: the fake Bot API server from tests/fake_telegram.py, plus
`--concurrency` people at a time, each going through a 10-step conversation (onboarding
with button presses, a guided entry with two reflections, a one-line entry, /status) and
waiting for the bot's answer before the next step, as a person does. Latency is from
Telegram POSTing an update to the webhook until the answer reaches the Bot API.

`--replay-engine` answers every step with the replies the real engine gave it once (no
dialogue, no entries; the inbox is still written): the cost of the adapter alone.
`--httpx` uses python-telegram-bot's default HTTP transport instead of `AiohttpRequest`.
Then the engine runs the same steps by itself, one after another, for comparison.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
# This file is named like the `telegram` package: take its folder off the import path.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(ROOT))

from sqlmodel import func, select  # noqa: E402
from telegram.ext import ExtBot  # noqa: E402
from telegram.request import HTTPXRequest  # noqa: E402

from adapters.telegram import (  # noqa: E402
    FloodControl,
    TelegramAdapter,
    WebhookConfig,
    build_bot,
    run_webhook,
)
from bot.core.model import IdentityKey, Incoming, Kind, Outgoing  # noqa: E402
from bot.core.parsing import warm_up  # noqa: E402
from bot.core.schemes import default_schemes  # noqa: E402
from bot.services.engine import Engine, Handled  # noqa: E402
from cpdbot.app import run_loop, settle_memory  # noqa: E402
from cpdbot.config import Settings  # noqa: E402
from cpdbot.platform_settings import telegram_settings  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.models import Entry  # noqa: E402

SECRET = "bench_secret"
# (kind, text or button label, a piece of the answer that completes the step)
SCRIPT: list[tuple[str, str, str]] = [
    ("say", "/start", "Which professional body"),
    ("tap", "IET", "time zone"),
    ("tap", "Europe/London", "All set"),
    ("say", "/log 1.5h webinar on arc-flash safety yesterday", "Which category?"),
    ("tap", "Events and seminars", "Reflection 1/2"),
    ("say", "Arc-flash boundaries and PPE categories", "Reflection 2/2"),
    ("say", "I will check panel labels before isolating", "Saved #1"),
    ("say", "/log 2h read the wiring regulations amendment yesterday #self_study", "Reflection"),
    ("tap", "Later", "Saved #2"),
    ("say", "/status", "of 30 h"),
]


# ---------------------------------------------------------------- Telegram's side


async def telegram_side(users: int, concurrency: int) -> None:
    """Run the fake Bot API and the people; print the port, then the results, as JSON."""
    from tests.fake_telegram import FakeTelegram

    fake = await FakeTelegram().start()
    print(json.dumps({"port": fake.port}), flush=True)
    await fake.wait_for(lambda: fake.webhook is not None, within=60)
    latencies: list[float] = []
    failures: list[str] = []
    gate = asyncio.Semaphore(concurrency)

    async def person(n: int) -> None:
        async with gate:
            user = fake.user(10_000_000 + n, f"User {n}")
            for kind, value, answer in SCRIPT:
                update = user.message(value) if kind == "say" else user.press(value)
                before = len(fake.sent(user.id))
                started = time.monotonic()
                status = await fake.deliver(update)
                if status != 200:
                    failures.append(f"webhook answered {status}")
                    return

                try:
                    call = await fake.next_message(
                        user.id,
                        lambda c, answer=answer: answer in (c.params.get("text") or ""),
                        after=before,
                        within=60,
                    )
                except TimeoutError:
                    failures.append(f"user {n}: no {answer!r} after {value!r}")
                    return
                latencies.append(call.at - started)

    started = time.monotonic()
    await asyncio.gather(*(person(n) for n in range(users)))
    elapsed = time.monotonic() - started
    calls: dict[str, int] = {}
    for call in fake.calls:
        # A method given in a webhook response costs the worker no request of its own.
        name = f"{call.method} (in webhook responses)" if call.via_webhook else call.method
        calls[name] = calls.get(name, 0) + 1
    cpu = time.process_time()
    print(
        json.dumps(
            {
                "elapsed": elapsed,
                "latencies": latencies,
                "failures": failures,
                "calls": calls,
                "side_cpu": cpu,
            }
        ),
        flush=True,
    )
    await fake.close()


# ---------------------------------------------------------------- the bot worker


def engine_alone(users: int) -> float:
    """The engine by itself on the same steps, one after another: turns per second."""
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite:///{tmp}/engine.db")
        db.create_all()
        engine = Engine(db, default_schemes())
        started = time.perf_counter()
        for n in range(users):
            me = IdentityKey("telegram", str(n))
            shown: dict[str, str] = {}
            for step, (kind, value, _) in enumerate(SCRIPT):
                extra: dict[str, Any] = {"dedupe_key": f"{n}-{step}", "chat_id": str(n)}
                event = (
                    Incoming.text_of(me, value, **extra)
                    if kind == "say"
                    else Incoming(me, Kind.CHOICE, choice=shown[value], **extra)
                )
                replies = engine.process(event).replies
                shown = {c.label: c.id for r in replies for c in r.choices}
        elapsed = time.perf_counter() - started
        db.dispose()
    return users * len(SCRIPT) / elapsed


class ReplayEngine(Engine):
    """Answers each step of SCRIPT with what the real engine answered it once."""

    def __init__(self, real: Engine) -> None:
        super().__init__(real.db, real.schemes, real.clock)
        self.answers: dict[str, tuple[Outgoing, ...]] = {}
        me = IdentityKey("telegram", "1")
        shown: dict[str, str] = {}
        for kind, value, _ in SCRIPT:
            if kind == "say":
                event = Incoming.text_of(me, value)
            else:
                event = Incoming(me, Kind.CHOICE, choice=shown[value])
            replies = real.process(event).replies
            self.answers[event.choice or event.text] = replies
            shown = {c.label: c.id for r in replies for c in r.choices}

    def process(self, event: Incoming, *, make_files: bool = True) -> Handled:
        text = event.text.replace("@cpd_test_bot", "")
        return Handled(self.answers[event.choice or text])


async def worker(args: argparse.Namespace, db_url: str) -> dict[str, Any]:
    db = Database(db_url)
    db.create_all()
    engine = Engine(db, default_schemes())
    warm_up()
    settle_memory()  # as `cpdbot run` does before serving
    if args.replay_engine:
        engine = ReplayEngine(engine)
    side = await asyncio.create_subprocess_exec(
        sys.executable,
        __file__,
        "--telegram-side",
        "--users",
        str(args.users),
        "--concurrency",
        str(args.concurrency),
        stdout=asyncio.subprocess.PIPE,
        cwd=ROOT,
    )
    assert side.stdout is not None
    port = json.loads(await side.stdout.readline())["port"]
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        telegram_bot_token="123456789:AAE-fake-token_for-tests",
        telegram_base_url=f"http://127.0.0.1:{port}/bot",
    )
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    config = WebhookConfig(f"http://127.0.0.1:{sock.getsockname()[1]}/telegram", SECRET)
    bot = build_bot(telegram_settings(settings))
    if args.httpx:  # python-telegram-bot's default transport, for comparison
        bot = ExtBot(
            settings.telegram_bot_token or "",
            base_url=settings.telegram_base_url or "",
            request=HTTPXRequest(connection_pool_size=64),
            rate_limiter=FloodControl(),
        )
    async with TelegramAdapter(engine, bot) as adapter:
        task = asyncio.create_task(run_webhook(adapter, config, sock=sock))
        cpu = time.process_time()
        results: dict[str, Any] = json.loads(await side.stdout.readline())
        results["worker_cpu"] = time.process_time() - cpu
        await side.wait()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    with db.transaction() as session:
        results["entries"] = session.exec(select(func.count()).select_from(Entry)).one()
    db.dispose()
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--db", default=None)
    parser.add_argument("--replay-engine", action="store_true")
    parser.add_argument("--httpx", action="store_true", help="PTB's HTTPXRequest transport")
    parser.add_argument("--telegram-side", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.telegram_side:
        asyncio.run(telegram_side(args.users, args.concurrency))
        return
    with tempfile.TemporaryDirectory() as tmp:
        # The worker's event loop is the one `cpdbot run` uses (uvloop where installed).
        results = run_loop(worker(args, args.db or f"sqlite:///{tmp}/bench.db"))
    baseline = None if args.replay_engine else engine_alone(min(args.users, 100))
    latencies = sorted(results["latencies"])
    updates = len(latencies)
    engine = "replayed answers (adapter alone)" if args.replay_engine else "the real engine"
    transport = "httpx" if args.httpx else "aiohttp"
    print(
        f"backend: {'sqlite file' if args.db is None else args.db.split(':')[0]}, "
        f"webhook mode, one worker process, {engine}, Bot API over {transport}"
    )
    print(
        f"people: {args.users} ({args.concurrency} at a time), updates: {updates}, "
        f"entries saved: {results['entries']} "
        f"(expected {'2, from recording the answers' if args.replay_engine else 2 * args.users})"
    )
    print(f"Bot API calls: {', '.join(f'{k} {v}' for k, v in sorted(results['calls'].items()))}")
    if results["failures"]:
        print(f"FAILURES: {len(results['failures'])}, e.g. {results['failures'][:3]}")
    if not latencies:
        raise SystemExit("no update was answered")
    p95 = latencies[max(0, int(len(latencies) * 0.95) - 1)]
    print(f"throughput:     {updates / results['elapsed']:.0f} updates/s")
    print(
        f"median latency: {statistics.median(latencies) * 1000:.1f} ms "
        f"(p95 {p95 * 1000:.1f} ms, max {latencies[-1] * 1000:.1f} ms)"
    )
    print(
        f"CPU during the run: worker {results['worker_cpu']:.1f} s "
        f"({results['worker_cpu'] / updates * 1000:.2f} ms per update), "
        f"Telegram side {results['side_cpu']:.1f} s"
    )
    if baseline is not None:
        print(
            f"engine alone:   {baseline:.0f} turns/s (same steps, one after another, no Telegram)"
        )


if __name__ == "__main__":
    main()
