"""Slack adapter throughput and ack latency: signed HTTP requests to the real bolt app.

    python bench/slack.py [--users 100] [--rate 50] [--seconds 10] [--burst 1000] [--db URL]

The bot (SlackBot in HTTP mode, engine, SQLite file or --db) runs in its own process, as
in production; this process runs the fake Web API from tests/fake_slack.py (the bot's
SLACK_API_URL) and the load. Ack latency is measured here: from sending a signed request
to receiving the HTTP response. Three phases:

1. conversations: --users people at once, each onboarding by buttons, logging an entry
   (DM line, category button, two reflection answers), then `/cpd status` and App Home,
   each waiting for the bot's work before the next step, as a person would. The bot is
   saturated: this gives requests handled per second.
2. steady: DMs ("status") arriving at --rate per second for --seconds (open loop, as
   Slack sends them), below saturation: ack latency in normal operation.
3. burst: --burst DMs sent all at once over 100 connections: how long until all are
   acked (Slack retries what is not acked within 3 s) and until all were answered.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import itertools
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from adapters.slack import SlackBot
from bot.core.model import IdentityKey
from bot.core.parsing import warm_up
from bot.core.schemes import default_schemes
from bot.services.engine import Engine
from cpdbot.app import run_loop, settle_memory
from storage.db import Database
from tests.fake_slack import APP_ID, BOT_USER, FakeSlack

SECRET = "bench-signing-secret"
TEAM = "T0BENCH001"
_ids = itertools.count(1)


# ---------------------------------------------------------------- the bot's process


async def serve_bot(db_url: str, api_url: str) -> None:
    """The bot on a free port (printed on stdout) until stdin closes. Adds one bench-only
    route, /bench/settled/<user>, answering once that person's work is done."""
    warm_up()
    settle_memory()  # as `cpdbot run` does before serving
    db = Database(db_url)
    db.create_all()
    bot = SlackBot(
        Engine(db, default_schemes()), token="xoxb-bench", signing_secret=SECRET, api_url=api_url
    )

    async def settled(request: web.Request) -> web.Response:
        await bot.settled(IdentityKey("slack", request.match_info["user"], TEAM))
        return web.Response(text="ok")

    app = bot.web_app()
    app.router.add_get("/bench/settled/{user}", settled)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    print(f"PORT {site._server.sockets[0].getsockname()[1]}", flush=True)  # type: ignore[union-attr]
    await asyncio.to_thread(sys.stdin.read)
    await bot.idle()
    await runner.cleanup()
    await bot.close()
    db.dispose()


# ---------------------------------------------------------------- the load


def sign(body: str, ts: int) -> str:
    mac = hmac.new(SECRET.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256)
    return "v0=" + mac.hexdigest()


def dm_event(user: str, text: str) -> dict[str, Any]:
    n = next(_ids)
    ts = f"{time.time():.6f}"  # sent now
    return {
        "token": "bench",
        "team_id": TEAM,
        "api_app_id": APP_ID,
        "event": {
            "type": "message",
            "user": user,
            "ts": ts,
            "text": text,
            "team": TEAM,
            "channel": f"D{user}",
            "event_ts": ts,
            "channel_type": "im",
        },
        "type": "event_callback",
        "event_id": f"EvBENCH{n:08d}",
        "event_time": int(time.time()),
        "authorizations": [{"team_id": TEAM, "user_id": BOT_USER, "is_bot": True}],
    }


class Load:
    def __init__(self, fake: FakeSlack, http: aiohttp.ClientSession, base: str) -> None:
        self.fake, self.http, self.base = fake, http, base
        self.acks: list[float] = []
        self.done: list[float] = []
        self.failures = 0

    def reset(self) -> None:
        self.acks, self.done, self.failures = [], [], 0

    async def post(self, body: str, content_type: str) -> float:
        ts = int(time.time())
        headers = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": str(ts),
            "X-Slack-Signature": sign(body, ts),
        }
        started = time.perf_counter()
        async with self.http.post(
            f"{self.base}/slack/events", data=body.encode(), headers=headers
        ) as response:
            await response.read()
            if response.status != 200:
                self.failures += 1
        self.acks.append((time.perf_counter() - started) * 1000)
        return started

    async def settled(self, user: str) -> None:
        async with self.http.get(f"{self.base}/bench/settled/{user}") as response:
            await response.read()

    async def step(self, user: str, body: str, content_type: str) -> None:
        started = await self.post(body, content_type)
        await self.settled(user)
        self.done.append((time.perf_counter() - started) * 1000)

    async def say(self, user: str, text: str) -> None:
        await self.step(user, json.dumps(dm_event(user, text)), "application/json")

    async def press(self, user: str, label: str) -> None:
        message, button = self.button(f"D{user}", label)
        payload = {
            "type": "block_actions",
            "user": {"id": user, "team_id": TEAM},
            "team": {"id": TEAM},
            "api_app_id": APP_ID,
            "container": {
                "type": "message",
                "message_ts": message["ts"],
                "channel_id": f"D{user}",
            },
            "channel": {"id": f"D{user}"},
            "message": message,
            "trigger_id": f"bench.{next(_ids)}",
            "actions": [button],
        }
        body = urlencode({"payload": json.dumps(payload)})
        await self.step(user, body, "application/x-www-form-urlencoded")

    async def command(self, user: str, text: str) -> None:
        fields = {
            "team_id": TEAM,
            "user_id": user,
            "command": "/cpd",
            "text": text,
            "channel_id": "C0BENCH001",
            "response_url": self.fake.response_url(),
            "trigger_id": f"bench.{next(_ids)}",
            "api_app_id": APP_ID,
        }
        await self.step(user, urlencode(fields), "application/x-www-form-urlencoded")

    async def home(self, user: str) -> None:
        body = {
            "team_id": TEAM,
            "api_app_id": APP_ID,
            "event": {
                "type": "app_home_opened",
                "user": user,
                "channel": f"D{user}",
                "tab": "home",
            },
            "type": "event_callback",
            "event_id": f"EvBENCH{next(_ids):08d}",
            "event_time": int(time.time()),
        }
        await self.step(user, json.dumps(body), "application/json")

    def button(self, channel: str, label: str) -> tuple[dict[str, Any], dict[str, Any]]:
        for message in reversed(self.fake.posts(channel)):
            for block in message["blocks"]:
                for element in block.get("elements", []) if block["type"] == "actions" else []:
                    if element["text"]["text"] == label:
                        return message, {**element, "block_id": block["block_id"]}
        raise AssertionError(f"no button {label!r} in {channel}")

    async def conversation(self, user: str) -> None:
        self.fake.users[user] = {"name": user, "tz": "Europe/London"}
        await self.say(user, "hello")
        await self.press(user, "IET")
        await self.press(user, "Europe/London")
        # No category word in the line, so the category is still pressed (as before issue 13)
        await self.say(user, "log 1.5h arc-flash briefing yesterday")
        await self.press(user, "Events and seminars")
        await self.say(user, "Arc-flash boundaries and PPE categories")
        await self.say(user, "I will check panel labels before isolating")
        await self.command(user, "status")
        await self.home(user)


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, int(len(ordered) * 0.99) - 1)]


def report(load: Load, title: str, count: int, elapsed: float) -> None:
    print(f"{title}: {count} requests in {elapsed:.2f} s = {count / elapsed:.0f} requests/s")
    print(
        f"  ack latency: median {statistics.median(load.acks):.1f} ms, "
        f"p99 {p99(load.acks):.1f} ms, max {max(load.acks):.1f} ms"
    )
    if load.done:
        print(
            f"  until the work was done (replies posted): median "
            f"{statistics.median(load.done):.1f} ms, p99 {p99(load.done):.1f} ms"
        )
    if load.failures:
        print(f"  NON-200 RESPONSES: {load.failures}")


async def run_load(args: argparse.Namespace, db_url: str) -> None:
    fake = await FakeSlack().start()
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        __file__,
        "--serve-bot",
        "--db",
        db_url,
        "--api-url",
        fake.api_url,
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
    users = [f"U0BENCH{n:04d}" for n in range(args.users)]
    try:
        connector = aiohttp.TCPConnector(limit=100)
        async with aiohttp.ClientSession(connector=connector) as http:
            load = Load(fake, http, base)
            await load.say("U0WARMUP01", "hello")  # bolt's auth.test, first connections
            load.reset()

            t0 = time.perf_counter()
            await asyncio.gather(*(load.conversation(u) for u in users))
            report(
                load,
                f"conversations ({args.users} people at once, saturated)",
                len(load.acks),
                time.perf_counter() - t0,
            )
            load.reset()

            total = int(args.rate * args.seconds)
            t0 = time.perf_counter()
            sent: list[asyncio.Task[None]] = []
            for n in range(total):  # open loop: one request every 1/rate s, whatever happens
                await asyncio.sleep(max(0.0, t0 + n / args.rate - time.perf_counter()))
                user = users[n % len(users)]
                sent.append(asyncio.create_task(load.say(user, "status")))
            await asyncio.gather(*sent)
            report(
                load,
                f"steady ({args.rate:g} DMs/s for {args.seconds:g} s)",
                total,
                time.perf_counter() - t0,
            )
            load.reset()

            t0 = time.perf_counter()
            bodies = [
                json.dumps(dm_event(users[n % len(users)], "status")) for n in range(args.burst)
            ]
            await asyncio.gather(*(load.post(b, "application/json") for b in bodies))
            acked = time.perf_counter() - t0
            await asyncio.gather(*(load.settled(u) for u in users))
            # 100 connections carry the 1000 requests, so a request's own latency here is
            # mostly its wait for a free connection: what matters is when all were acked.
            print(
                f"burst ({args.burst} DMs at once, 100 connections): all acked after "
                f"{acked:.2f} s ({args.burst / acked:.0f} acks/s); all replies posted "
                f"after {time.perf_counter() - t0:.2f} s"
            )
            if load.failures:
                print(f"  NON-200 RESPONSES: {load.failures}")
    finally:
        child.stdin.close()
        await child.wait()
        await fake.stop()
    db = Database(db_url)
    entries = sum(
        len(r.entries)
        for u in users
        if (r := Engine(db).record(IdentityKey("slack", u, TEAM))) is not None
    )
    db.dispose()
    assert entries == args.users, f"{entries} entries for {args.users} people"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--rate", type=float, default=50.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--burst", type=int, default=1000)
    parser.add_argument("--db", default=None)
    parser.add_argument("--serve-bot", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--api-url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_bot:
        run_loop(serve_bot(args.db, args.api_url))  # the event loop `cpdbot run` uses
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
