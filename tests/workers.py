"""A worker process for the multi-process tests.

    python -m tests.workers URL GO_FILE EVENTS_JSON

Waits until GO_FILE exists (so several workers start together), handles each event through
a fresh Engine on URL (confirming delivery of the replies, as an adapter does once it sent
them), and prints one JSON line: the number of replies per event.
"""

from __future__ import annotations

import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from bot.core.model import IdentityKey, Incoming, Kind
from bot.core.parsing import warm_up
from bot.core.schemes import default_schemes
from bot.services.engine import Engine
from storage.db import Database


def event(spec: dict[str, str]) -> Incoming:
    who = IdentityKey(spec["platform"], spec["user"], spec.get("workspace", ""))
    extra = {"dedupe_key": spec.get("dedupe")}
    if "choice" in spec:
        return Incoming(who, Kind.CHOICE, choice=spec["choice"], **extra)  # type: ignore[arg-type]
    return Incoming.text_of(who, spec["text"], **extra)


def main() -> None:
    url, go, specs = sys.argv[1], Path(sys.argv[2]), json.loads(sys.argv[3])
    engine = Engine(
        Database(url), default_schemes(), lambda: datetime(2026, 11, 22, 10, tzinfo=UTC)
    )
    warm_up()
    deadline = time.monotonic() + 60
    while not go.exists() and time.monotonic() < deadline:
        time.sleep(0.002)
    counts = []
    for spec in specs:
        incoming = event(spec)
        replies = engine.process(incoming).replies
        if replies:
            engine.delivered(incoming)  # sent, as an adapter confirms it
        counts.append(len(replies))
    print(json.dumps(counts), flush=True)


if __name__ == "__main__":
    main()
