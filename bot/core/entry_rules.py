"""What makes an entry valid, wherever it comes from: the limits and checks the dialogue
applies to what a person types (bot/dialogue/common.py has the same limits; a test keeps
them equal), and `cpdbot import` applies to every row of a file. Pure: each check returns
what is wrong, in words a person can act on, or None."""

from __future__ import annotations

import re
from datetime import date

from bot.core.schemes import Scheme

TITLE_MAX = 200
REFLECTION_MAX = 3000
MAX_DAY_MINUTES = 24 * 60
EARLIEST_YEAR = 1950  # the dialogue refuses older dates (common.date_error)
SOURCE_MAX = 16  # storage.models.Entry.source
QUESTION_MAX = 300  # storage.models.Reflection.question
QUESTION_ID = re.compile(r"[a-z0-9_]{1,64}")  # storage.models.Reflection.question_id
NUMBER_MAX = 1_000_000_000


def shown(value: object, limit: int = 40) -> str:
    """A value as a message quotes it: JSON's words for true/false/null, text quoted and
    clipped (a huge field is never echoed back)."""
    if value is None or isinstance(value, bool):
        return {None: "null", True: "true", False: "false"}[value]
    if isinstance(value, list | dict):  # never printed: it may be huge or deep
        return "a list" if isinstance(value, list) else "an object"
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _whole_between(value: object, low: int, high: int) -> bool:
    """A whole number from low to high: an int, never a bool (True is an int in Python)."""
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def minutes_problem(minutes: object) -> str | None:
    if _whole_between(minutes, 1, MAX_DAY_MINUTES):
        return None
    return f"minutes must be a whole number from 1 to {MAX_DAY_MINUTES}, not {shown(minutes)}"


def number_problem(number: object) -> str | None:
    if _whole_between(number, 1, NUMBER_MAX):
        return None
    return f"number must be a whole number from 1 to {NUMBER_MAX:,}, not {shown(number)}"


def title_problem(title: str) -> str | None:
    if not title.strip():
        return "title is empty; describe the activity in a few words"
    if len(title) > TITLE_MAX:
        return f"title is {len(title):,} characters; the limit is {TITLE_MAX}"
    return None


def date_problem(day: date, today: date) -> str | None:
    if day > today:
        return f"activity_date {day.isoformat()} is in the future (today is {today.isoformat()})"
    if day.year < EARLIEST_YEAR:
        return f"activity_date {day.isoformat()} is before {EARLIEST_YEAR}"
    return None


def category_problem(category: str, scheme: Scheme) -> str | None:
    if scheme.category(category) is not None:
        return None
    known = ", ".join(c.label for c in scheme.categories)
    return f"category {shown(category)} is not one of the {scheme.name} scheme's: {known}"


def source_problem(source: str) -> str | None:
    if len(source) > SOURCE_MAX:
        return f"source is {len(source):,} characters; the limit is {SOURCE_MAX}"
    return None


def question_problem(question_id: str, question: str) -> str | None:
    if not QUESTION_ID.fullmatch(question_id):
        return (
            f"question id {shown(question_id)} must be 1 to 64 lower-case letters, "
            "digits or underscores"
        )
    if len(question) > QUESTION_MAX:
        return (
            f"question {question_id} is {len(question):,} characters; the limit is {QUESTION_MAX}"
        )
    return None


def answer_problem(question_id: str, answer: str | None) -> str | None:
    if answer is not None and len(answer) > REFLECTION_MAX:
        return (
            f"the answer to {question_id} is {len(answer):,} characters; "
            f"the limit is {REFLECTION_MAX:,}"
        )
    return None


def repeated_questions(question_ids: list[str]) -> list[str]:
    """One problem per question answered more than once in an entry."""
    seen: set[str] = set()
    twice: list[str] = []
    for qid in question_ids:
        if qid in seen and qid not in twice:
            twice.append(qid)
        seen.add(qid)
    return [f"question {qid} is answered twice" for qid in twice]
