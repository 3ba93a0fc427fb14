"""Rough timing of bot.core.parsing (not a test): python bench/parsing_timing.py

Prints the median time per call of parse_quick over typical one-liners, and of parse_date
on phrases that only the dateparser fallback reads, after warm_up().
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.core.parsing import _dateparser_date, parse_date, parse_quick, warm_up

TODAY = date(2026, 11, 22)
QUICK_LINES = [
    "1.5h webinar on arc-flash safety yesterday",
    "IEC 61850 course 2h yesterday",
    "ISO 9001 audit training 3h",
    "2h site visit with contractor yesterday",
    "webinar on arc-flash safety yesterday 1.5h #training",
    "1h30 workshop on 3 March",
    "Read BS 7671 chapter 5 90m last tuesday",
    "Mentoring session, 45 mins, last Friday #mentoring",
    "Attended a 2-hour webinar on earthing 21/11",
    "what may change in the 18th edition 1h",
]
# Issue 13's everyday forms: ordinal days, day lengths, time ranges, ranges of days, filler.
EVERYDAY_LINES = [
    "Team meeting on the 2nd",
    "Workshop, full day, yesterday",
    "Protection seminar 1-2pm yesterday",
    "IET conference 2 days last week",
    "Conference 14-15 Nov",
    "spent 2h on Monday reviewing a colleague's design",
    "Read the 2nd edition of the guide 1h",
    "Conference from Monday to Wednesday",
]
# Phrases that no fast path reads, so parse_date hands them to dateparser.
FALLBACK_PHRASES = ["15 hours 29 min ago", "1 week 2 days ago", "3 min 49 sec ago"]


def median_us(fn: Callable[[], object], repeat: int = 300) -> float:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1e6


def main() -> None:
    start = time.perf_counter()
    warm_up()
    print(f"warm_up(): {(time.perf_counter() - start) * 1e3:.0f} ms")
    per_line = [median_us(lambda line=line: parse_quick(line, today=TODAY)) for line in QUICK_LINES]
    for line, us in zip(QUICK_LINES, per_line, strict=True):
        print(f"  {us:7.1f} us  parse_quick({line!r})")
    print(f"parse_quick median over lines: {statistics.median(per_line):.1f} us")
    everyday = [
        median_us(lambda line=line: parse_quick(line, today=TODAY)) for line in EVERYDAY_LINES
    ]
    for line, us in zip(EVERYDAY_LINES, everyday, strict=True):
        print(f"  {us:7.1f} us  parse_quick({line!r})")
    print(
        f"parse_quick median over everyday lines (issue 13): {statistics.median(everyday):.1f} us"
    )

    fallback = []
    for phrase in FALLBACK_PHRASES:

        def call(phrase: str = phrase) -> object:
            _dateparser_date.cache_clear()  # measure the dateparser call, not the cache
            return parse_date(phrase, today=TODAY)

        fallback.append(median_us(call, repeat=100))
        print(f"  {fallback[-1]:7.1f} us  parse_date({phrase!r}) -> {call()}")
    print(f"parse_date via dateparser fallback median: {statistics.median(fallback):.1f} us")
    fast = [median_us(lambda p=p: parse_date(p, today=TODAY)) for p in ("yesterday", "3 March")]
    print(f"parse_date fast path ('yesterday', '3 March'): {fast[0]:.1f} us, {fast[1]:.1f} us")


if __name__ == "__main__":
    main()
