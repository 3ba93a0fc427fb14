"""Messages per complete entry: how many messages a member sends to get one activity saved.

    python bench/entries.py [--lines tests/fixtures/one_liners.txt] [--today 2026-12-04]
                            [--show N] [--verbose]

For each of a fixed set of one-line entries (tests/fixtures/one_liners.txt: 30 lines as
members of IET, IES, STEP and IPEM type them, each with its scheme), a new person is
onboarded on that scheme through the real engine on a SQLite file in a temporary
directory, sends "/log <line>", then answers whatever the bot asks as a scripted member:

    When was it? / Which days?         -> "yesterday"
    How long did it take?              -> "2h"
    Which category? (or did you mean)  -> the first category button
    Structured or unstructured?        -> "yes"
    any other question with buttons    -> the first button (e.g. "Log it there?")
    Reflection n/m                     -> a sentence each (mode "both"),
                                          or "later" at the first one (mode "later")

It counts the member's messages, the /log line included and onboarding not, until the bot
says "Saved #". Printed per mode: median, mean, min, max, the distribution and the lines
that took the most. Issue 13's target: median <= 3 with both reflections answered, <= 2
with "later". The clock is fixed (--today, default Friday 4 December 2026, 12:00 UTC) so
the figures do not move with the calendar.

Exit status 1 if an entry is not saved within 12 messages (its transcript is printed), or
the bot asks something the scripted member does not recognise. --show N prints the
transcript of line N (1-based) in both modes; --verbose prints every transcript.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.core.model import IdentityKey, Incoming, Kind, Outgoing
from bot.core.parsing import warm_up
from bot.core.schemes import default_schemes
from bot.services.engine import Engine
from storage.db import Database

LINES = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "one_liners.txt"
LIMIT = 12
ONBOARDED = "--- onboarded; counting from here"
MODES = ("both", "later")
REFLECTIONS = (
    "The key point was how the new rules apply to the work I do every week.",
    "I will check our own procedures against it and brief the team next month.",
)


@dataclass(frozen=True)
class Line:
    number: int
    scheme: str
    text: str


@dataclass
class Run:
    line: Line
    mode: str
    messages: int = 0
    saved: bool = False
    problem: str = ""
    transcript: list[str] = field(default_factory=list)


def read_lines(path: Path) -> list[Line]:
    """'<scheme> | <line>' rows; '#' starts a comment line."""
    lines: list[Line] = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        scheme, sep, text = raw.partition("|")
        if not sep or not text.strip():
            raise SystemExit(f"{path}: not '<scheme> | <line>': {raw!r}")
        lines.append(Line(len(lines) + 1, scheme.strip(), text.strip()))
    return lines


class Member:
    """One person talking to the engine; keeps the transcript."""

    def __init__(self, engine: Engine, user: str, run: Run) -> None:
        self.engine = engine
        self.me = IdentityKey("bench", user)
        self.run = run
        self.replies: list[Outgoing] = []

    def send(self, event: Incoming, shown: str) -> list[Outgoing]:
        self.run.transcript.append(f"> {shown}")
        self.replies = self.engine.handle_sync(event)
        for reply in self.replies:
            self.run.transcript.append(reply.text)
            self.run.transcript += [f"  [{c.label}] ({c.id})" for c in reply.choices]
        return self.replies

    def say(self, text: str) -> list[Outgoing]:
        return self.send(Incoming.text_of(self.me, text), text)

    def press(self, choice_id: str, label: str) -> list[Outgoing]:
        return self.send(Incoming(self.me, Kind.CHOICE, choice=choice_id), f"[{label}]")


def onboard(member: Member, scheme: str) -> None:
    member.say("/start")
    member.press(f"scheme:{scheme}", scheme)
    member.press("tz:Europe/London", "Europe/London")
    for _ in range(3):  # any further onboarding question: its first button
        if any("All set" in r.text for r in member.replies):
            return
        choices = [c for r in member.replies for c in r.choices]
        if not choices:
            break
        member.press(choices[0].id, choices[0].label)
    if not any("All set" in r.text for r in member.replies):
        steps = "\n".join(member.run.transcript)
        raise SystemExit(f"onboarding on {scheme} did not finish:\n{steps}")


def saved(replies: list[Outgoing]) -> bool:
    return any("Saved #" in r.text for r in replies)


def answer(member: Member, mode: str) -> bool:
    """Answer the bot's last question as the scripted member; False if it is not one."""
    question = member.replies[-1]
    ids = [c.id for c in question.choices]
    text = question.text.lower()

    def first(prefix: str) -> bool:
        pick = next((c for c in question.choices if c.id.startswith(prefix)), None)
        if pick is None:
            return False
        member.press(pick.id, pick.label)
        return True

    if any(i.startswith("r:") for i in ids) or text.startswith("reflection"):
        answered = sum(t.startswith("> ") and t[2:] in REFLECTIONS for t in member.run.transcript)
        member.say("later" if mode == "later" else REFLECTIONS[answered % len(REFLECTIONS)])
    elif any(i.startswith("min:") for i in ids) or "how long" in text:
        member.say("2h")
    elif any(i.startswith("date:") for i in ids) or "when was it" in text or "which days" in text:
        member.say("yesterday")
    elif any(i.startswith("struct:") for i in ids):
        member.say("yes")
    elif any(i.startswith("cat:") for i in ids):
        return first("cat:")
    elif ids:
        return first("")
    else:
        return False
    return True


def log_one(engine: Engine, line: Line, mode: str) -> Run:
    run = Run(line, mode)
    member = Member(engine, f"{mode}-{line.number}", run)
    onboard(member, line.scheme)
    run.transcript.append(ONBOARDED)
    member.say(f"/log {line.text}")
    run.messages = 1
    while not saved(member.replies) and run.messages < LIMIT:
        if not answer(member, mode):
            run.problem = "the scripted member does not recognise the bot's last message"
            return run
        run.messages += 1
    run.saved = saved(member.replies)
    if not run.saved:
        run.problem = f"not saved within {LIMIT} messages"
    return run


def report(mode: str, runs: list[Run]) -> None:
    counts = [r.messages for r in runs if r.saved]
    print(f"\nmode {mode!r} ({len(counts)} of {len(runs)} entries saved)")
    if counts:
        print(
            f"  median {statistics.median(counts):g}  mean {statistics.mean(counts):.2f}  "
            f"min {min(counts)}  max {max(counts)}"
        )
        spread = Counter(counts)
        print("  distribution:")
        for n in range(min(counts), max(counts) + 1):
            print(f"    {n:2d} messages: {'#' * spread[n]:<30} {spread[n]}")
    worst = sorted((r for r in runs if r.saved), key=lambda r: -r.messages)[:5]
    print("  took the most:")
    for r in worst:
        print(f"    {r.messages:2d}  #{r.line.number:<2d} {r.line.scheme:<4} {r.line.text}")


def show(run: Run) -> None:
    outcome = run.problem or "saved"
    print(f"\n--- line {run.line.number} ({run.line.scheme}), mode {run.mode!r}: {outcome}")
    steps = run.transcript
    shown = steps[steps.index(ONBOARDED) + 1 :] if ONBOARDED in steps else steps
    print("\n".join(shown))  # onboarding left out: it is the same for every line


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=Path, default=LINES)
    parser.add_argument("--today", type=date.fromisoformat, default=date(2026, 12, 4))
    parser.add_argument("--show", type=int, default=0, help="print the transcript of line N")
    parser.add_argument("--verbose", action="store_true", help="print every transcript")
    args = parser.parse_args()
    lines = read_lines(args.lines)
    now = datetime.combine(args.today, datetime.min.time(), UTC).replace(hour=12)
    warm_up()
    failed: list[Run] = []
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite:///{tmp}/bench.db")
        db.create_all()
        engine = Engine(db, default_schemes(), lambda: now)
        today = f"{args.today:%a} {args.today.day} {args.today:%b %Y}"
        print(f"{len(lines)} one-line entries from {args.lines.name}; today {today}")
        for mode in MODES:
            runs = [log_one(engine, line, mode) for line in lines]
            report(mode, runs)
            failed += [r for r in runs if not r.saved]
            for r in runs:
                if args.verbose or r.line.number == args.show:
                    show(r)
        db.dispose()
    for r in failed:
        show(r)
    if failed:
        print(f"\n{len(failed)} entr{'y' if len(failed) == 1 else 'ies'} not saved: see above")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
