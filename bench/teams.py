"""Teams adapter throughput and reply latency: signed activities to the real endpoint.

    python bench/teams.py [--users 100] [--rate 50] [--seconds 10] [--db URL]

The bot (adapters/teams TeamsBot: POST /api/messages, token checks, inbox, engine; SQLite
file in a temp dir or --db) runs in its own process, as in production; this process runs
Microsoft's side from tests/fake_teams.py (OpenID metadata and signing keys, the token
endpoint, the Bot Connector that receives the replies) and the load. Activities are shaped
as tests/adapters/test_teams.py makes them (personal chat, Action.Submit presses with
`value` and `replyToId`), each with a bearer token signed by the fake's published key; as
the real connector does, a token is reused for many activities (a new one every minute).
Two phases:

1. conversations: --users people at once, each onboarding by card presses (scheme, time
   zone), logging an entry (a line, a category press, two reflection answers) and asking
   for `status`, each waiting for the bot's work before the next step, as a person would.
   The bot is saturated: this gives activities handled per second.
2. steady: "status" messages arriving at --rate per second for --seconds (open loop, as
   the connector sends them), below saturation. Reply latency is measured here: from
   sending the POST to the fake connector receiving the bot's reply.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import itertools
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from adapters.teams import TeamsBot, TeamsSettings
from bot.core.model import IdentityKey
from bot.core.parsing import warm_up
from bot.core.schemes import default_schemes
from bot.services.engine import Engine
from cpdbot.app import run_loop, settle_memory
from storage.db import Database
from tests.fake_teams import APP_ID, APP_PASSWORD, TENANT_ID, FakeTeams, Sent

BOT_ID = f"28:{APP_ID}"
TOKEN_REUSE = 60.0  # seconds one connector token is sent with
_ids = itertools.count(1)


# ---------------------------------------------------------------- the bot's process


async def serve_bot(db_url: str, fake_url: str) -> None:
    """The bot on a free port (printed on stdout) until stdin closes. Adds one bench-only
    routes: /bench/settled/<aad object id>, answering once that person's work is done, and
    /bench/cpu, this process's CPU seconds so far."""
    warm_up()
    settle_memory()  # as `cpdbot run` does before serving
    db = Database(db_url)
    db.create_all()
    settings = TeamsSettings(
        app_id=APP_ID,
        app_password=APP_PASSWORD,
        tenant_id=TENANT_ID,
        openid_metadata_url=f"{fake_url}/v1/.well-known/openidconfiguration",
        token_url=f"{fake_url}/{TENANT_ID}/oauth2/v2.0/token",
    )
    bot = TeamsBot(Engine(db, default_schemes()), settings)
    queues = bot._queues  # bench only: the per-person queues

    async def settled(request: web.Request) -> web.Response:
        await queues.settled(IdentityKey("teams", request.match_info["aad"], TENANT_ID))
        return web.Response(text="ok")

    async def cpu(request: web.Request) -> web.Response:
        return web.Response(text=f"{time.process_time():.6f}")

    app = bot.web_app()
    app.router.add_get("/bench/settled/{aad}", settled)
    app.router.add_get("/bench/cpu", cpu)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    print(f"PORT {site._server.sockets[0].getsockname()[1]}", flush=True)  # type: ignore[union-attr]
    await asyncio.to_thread(sys.stdin.read)
    await bot.close()
    await runner.cleanup()
    db.dispose()


# ---------------------------------------------------------------- Microsoft's side


class TimedFake(FakeTeams):
    """The fake connector, noting when each reply arrives for whoever waits on its chat."""

    def __init__(self) -> None:
        super().__init__()
        self.waiting: dict[str, collections.deque[asyncio.Future[float]]] = collections.defaultdict(
            collections.deque
        )

    def next_reply(self, conversation: str) -> asyncio.Future[float]:
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self.waiting[conversation].append(future)
        return future

    async def _activity(self, request: web.Request) -> web.Response:
        response = await super()._activity(request)
        sent = self.sent[-1]
        queue = self.waiting.get(sent.conversation_id)
        if sent.method == "POST" and queue:
            queue.popleft().set_result(time.perf_counter())
        return response


# ---------------------------------------------------------------- the load


class Person:
    def __init__(self, n: int) -> None:
        self.name = f"Member {n}"
        self.aad = f"00000000-0000-4000-8000-{n:012d}"
        self.conversation = f"a:1{n:064x}{'b' * 60}-personal"  # ~130 characters, as Teams'

    def activity(self, fake: FakeTeams, text: str | None = None, **extra: Any) -> dict[str, Any]:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
        body: dict[str, Any] = {
            "type": "message",
            "id": f"17{next(_ids):011d}",
            "timestamp": stamp,
            "serviceUrl": fake.service_url,
            "channelId": "msteams",
            "from": {"id": f"29:1{self.aad}", "name": self.name, "aadObjectId": self.aad},
            "conversation": {
                "conversationType": "personal",
                "tenantId": TENANT_ID,
                "id": self.conversation,
            },
            "recipient": {"id": BOT_ID, "name": "cpdbot"},
            "textFormat": "plain",
            "locale": "en-GB",
            "localTimezone": "Europe/London",
            "entities": [{"type": "clientInfo", "locale": "en-GB", "timezone": "Europe/London"}],
            "channelData": {"tenant": {"id": TENANT_ID}},
        }
        if text is not None:
            body["text"] = text
        body.update(extra)
        return body


def buttons(sent: Sent) -> list[dict[str, Any]]:
    return [
        action
        for attachment in sent.body.get("attachments") or []
        for block in attachment["content"]["body"]
        if block["type"] == "ActionSet"
        for action in block["actions"]
    ]


class Load:
    def __init__(self, fake: TimedFake, http: aiohttp.ClientSession, base: str) -> None:
        self.fake, self.http, self.base = fake, http, base
        self.acks: list[float] = []
        self.done: list[float] = []
        self.replies: list[float] = []
        self.failures = 0
        self._token, self._signed = "", 0.0

    def reset(self) -> None:
        self.acks, self.done, self.replies, self.failures = [], [], [], 0

    def token(self) -> str:
        if time.monotonic() - self._signed > TOKEN_REUSE:
            self._token, self._signed = self.fake.sign(), time.monotonic()
        return self._token

    async def post(self, activity: dict[str, Any]) -> float:
        headers = {"Authorization": f"Bearer {self.token()}"}
        started = time.perf_counter()
        async with self.http.post(
            f"{self.base}/api/messages", json=activity, headers=headers
        ) as response:
            await response.read()
            if response.status != 200:
                self.failures += 1
        self.acks.append((time.perf_counter() - started) * 1000)
        return started

    async def cpu(self) -> tuple[float, float]:
        """CPU seconds so far: the bot's process, and this one (the fake and the load)."""
        async with self.http.get(f"{self.base}/bench/cpu") as response:
            return float(await response.text()), time.process_time()

    async def settled(self, person: Person) -> None:
        async with self.http.get(f"{self.base}/bench/settled/{person.aad}") as response:
            await response.read()

    async def step(self, person: Person, activity: dict[str, Any]) -> None:
        started = await self.post(activity)
        await self.settled(person)
        self.done.append((time.perf_counter() - started) * 1000)

    async def say(self, person: Person, text: str) -> None:
        await self.step(person, person.activity(self.fake, text))

    async def press(self, person: Person, label: str) -> None:
        for sent in reversed(self.fake.sent):
            if sent.method != "POST" or sent.conversation_id != person.conversation:
                continue
            for button in buttons(sent):
                if button["title"] == label:
                    channel_data = {"tenant": {"id": TENANT_ID}, "source": {"name": "message"}}
                    press = person.activity(
                        self.fake,
                        value=dict(button["data"]),
                        replyToId=sent.id,
                        channelData=channel_data,
                    )
                    await self.step(person, press)
                    return
        raise AssertionError(f"no button {label!r} for {person.name}")

    async def asked(self, person: Person, text: str) -> None:
        """Send `text` and note when its (first) reply reaches the connector."""
        reply = self.fake.next_reply(person.conversation)
        started = await self.post(person.activity(self.fake, text))
        self.replies.append((await reply - started) * 1000)

    async def conversation(self, person: Person) -> None:
        await self.say(person, "hello")
        await self.press(person, "IET")
        await self.press(person, "Europe/London")
        await self.say(person, "log 1.5h arc-flash briefing yesterday")
        await self.press(person, "Events and seminars")
        await self.say(person, "Arc-flash boundaries and PPE categories")
        await self.say(person, "I will check panel labels before isolating")
        await self.say(person, "status")


def pct(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, int(len(ordered) * fraction + 0.5) - 1)]


async def report(
    load: Load, title: str, count: int, elapsed: float, cpu: tuple[float, float]
) -> None:
    print(f"{title}: {count} activities in {elapsed:.2f} s = {count / elapsed:.0f} activities/s")
    bot, here = (after - before for after, before in zip(await load.cpu(), cpu, strict=True))
    print(
        f"  CPU: bot {bot:.2f} s ({bot / count * 1000:.2f} ms an activity), "
        f"fake Microsoft and load {here:.2f} s"
    )
    print(
        f"  200 latency: median {statistics.median(load.acks):.1f} ms, "
        f"p99 {pct(load.acks, 0.99):.1f} ms, max {max(load.acks):.1f} ms"
    )
    if load.done:
        print(
            f"  until the work was done (replies sent): median "
            f"{statistics.median(load.done):.1f} ms, p99 {pct(load.done, 0.99):.1f} ms"
        )
    if load.replies:
        print(
            f"  reply latency (POST to the connector receiving the reply): p50 "
            f"{pct(load.replies, 0.5):.1f} ms, p99 {pct(load.replies, 0.99):.1f} ms, "
            f"max {max(load.replies):.1f} ms"
        )
    if load.failures:
        print(f"  NON-200 RESPONSES: {load.failures}")


async def phases(load: Load, people: list[Person], args: argparse.Namespace) -> None:
    warm = Person(10**9)
    await load.say(warm, "hello")  # keys and the bot's token fetched, first connections
    load.reset()

    cpu, t0 = await load.cpu(), time.perf_counter()
    await asyncio.gather(*(load.conversation(p) for p in people))
    title = f"conversations ({args.users} people at once, saturated)"
    await report(load, title, len(load.acks), time.perf_counter() - t0, cpu)
    load.reset()

    total = int(args.rate * args.seconds)
    cpu, t0 = await load.cpu(), time.perf_counter()
    sent: list[asyncio.Task[None]] = []
    for n in range(total):  # open loop: one activity every 1/rate s, whatever happens
        await asyncio.sleep(max(0.0, t0 + n / args.rate - time.perf_counter()))
        sent.append(asyncio.create_task(load.asked(people[n % len(people)], "status")))
    await asyncio.gather(*sent)
    title = f"steady ({args.rate:g} messages/s for {args.seconds:g} s)"
    await report(load, title, total, time.perf_counter() - t0, cpu)


async def run_load(args: argparse.Namespace, db_url: str) -> None:
    fake = TimedFake()
    await fake.start()
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        __file__,
        "--serve-bot",
        "--db",
        db_url,
        "--fake-url",
        fake.url,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    assert child.stdout is not None and child.stdin is not None
    line = (await child.stdout.readline()).decode()
    if not line.startswith("PORT "):
        await child.wait()
        await fake.stop()
        raise SystemExit("the bot process did not start (its error is above)")
    base = f"http://127.0.0.1:{int(line.split()[1])}"
    people = [Person(n) for n in range(args.users)]
    try:
        connector = aiohttp.TCPConnector(limit=100)
        async with aiohttp.ClientSession(connector=connector) as http:
            await phases(Load(fake, http, base), people, args)
    finally:
        child.stdin.close()
        await child.wait()
        await fake.stop()
    db = Database(db_url)
    engine = Engine(db)
    entries = sum(
        len(r.entries)
        for p in people
        if (r := engine.record(IdentityKey("teams", p.aad, TENANT_ID))) is not None
    )
    db.dispose()
    assert entries == args.users, f"{entries} entries for {args.users} people"
    print(f"checked: {entries} entries in the database, one per person")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--rate", type=float, default=50.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--db", default=None)
    parser.add_argument("--serve-bot", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--fake-url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_bot:
        run_loop(serve_bot(args.db, args.fake_url))  # the event loop `cpdbot run` uses
        return
    with tempfile.TemporaryDirectory() as tmp:
        db_url = args.db or f"sqlite:///{tmp}/bench.db"
        print(
            f"backend: {db_url.split(':')[0]}; python {sys.version.split()[0]}; "
            f"bot in its own process; {os.cpu_count()} CPUs, load average "
            f"{os.getloadavg()[0]:.2f} at start"
        )
        asyncio.run(run_load(args, db_url))


if __name__ == "__main__":
    main()
