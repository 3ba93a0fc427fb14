"""What every flow shares: limits, the words read as yes/no/skip/later, the checks on a
title, date and hours, reading an answer or a category, and the usual replies (say, stay,
stale). Pure: no I/O."""

from __future__ import annotations

import difflib
import re
from dataclasses import replace
from datetime import date
from functools import lru_cache
from typing import Literal

from bot.core import text as fmt
from bot.core.buttons import YES_NO, ButtonId, OptionId
from bot.core.model import Choice, Effect, Incoming, Kind, Outgoing, PersonView
from bot.core.parsing import parse_date
from bot.core.schemes import Category, Question, Scheme
from bot.dialogue.conversation import Context, Conv, Draft, State, Step
from bot.dialogue.flow import prompt

S = State

TITLE_MAX = 200
REFLECTION_MAX = 3000
INPUT_MAX = 4000
MAX_DAY_MINUTES = 24 * 60
SKIP_WORDS = {"skip", "pass", "-"}
LATER_WORDS = {"later", "not now"}
YES = {"yes", "y", "yep", "yeah", "structured", "formal", "true"}
NO = {"no", "n", "nope", "unstructured", "informal", "false"}

# Buttons shared by logging, reflecting and editing.
CATEGORY = ButtonId("cat")  # cat:<category id>
STRUCTURED = OptionId("struct", YES_NO)  # struct:yes | struct:no
Postpone = Literal["skip", "later"]
REFLECTION: OptionId[Postpone] = OptionId("r", ("skip", "later"))  # r:skip | r:later
ANSWER = ButtonId("ans")  # ans:<index of one of the question's choices>

AnswerKind = Literal["answer", "skip", "later", "stale", "bad"]

# ---------------------------------------------------------------- replies


def say(text: str) -> Outgoing:
    return Outgoing(text)


def stay(conv: Conv, ctx: Context, text: str) -> Step:
    """Say something and ask the current question again; nothing changes."""
    if conv.state == S.IDLE:
        return Step(conv, (say(text),))
    return Step(conv, (say(text), prompt(conv, ctx)))


def stale(conv: Conv, ctx: Context) -> Step:
    """A press of a button the dialogue no longer takes: said so, marked for the adapters."""
    step = stay(conv, ctx, "That button is from an earlier message, so I ignored it.")
    first = replace(step.replies[0], refused_press=True)
    return Step(step.conv, (first, *step.replies[1:]), step.effects)


def with_effects(conv: Conv, ctx: Context, text: str, effects: tuple[Effect, ...]) -> Step:
    """Say something (the current question asked again if we are mid-dialogue) and apply
    `effects`; the conversation stays where it was."""
    stayed = stay(conv, ctx, text)
    return Step(stayed.conv, stayed.replies, effects)


def with_person(ctx: Context, person: PersonView) -> Context:
    return Context(replace(ctx.snap, person=person), ctx.schemes)


def draft_copy(conv: Conv) -> Draft:
    """The draft to change in this step: its own lists (every other field is immutable, so
    a deep copy, several times slower on every answer, is not needed)."""
    draft = conv.data.draft or Draft()
    return draft.model_copy(
        update={"questions": list(draft.questions), "answers": dict(draft.answers)}
    )


def category_choices(scheme: Scheme) -> tuple[Choice, ...]:
    return tuple(Choice(CATEGORY.make(c.id), c.label) for c in scheme.categories)


def structured_choices() -> tuple[Choice, ...]:
    return (
        Choice(STRUCTURED.make("yes"), "Structured"),
        Choice(STRUCTURED.make("no"), "Unstructured"),
    )


def question_prompt(conv: Conv, ctx: Context) -> Outgoing:
    """The next reflection question of the draft (logging, or reflecting later)."""
    draft = conv.data.draft or Draft()
    pending = [q for q in draft.questions if q not in draft.answers]
    if not pending:
        return say("All answered.")
    number = len(draft.questions) - len(pending) + 1
    question = ctx.scheme.question(pending[0])
    text = question.text if question else pending[0]
    choices = answer_choices(question)
    return Outgoing(
        f"Reflection {number}/{len(draft.questions)}: {text}",
        (
            *choices,
            Choice(REFLECTION.make("skip"), "Skip"),
            Choice(REFLECTION.make("later"), "Later"),
        ),
    )


def answer_choices(question: Question | None) -> tuple[Choice, ...]:
    if question is None:
        return ()
    return tuple(Choice(ANSWER.make(i), c) for i, c in enumerate(question.choices))


# ---------------------------------------------------------------- reading answers


def question_text(scheme: Scheme, question_id: str) -> str:
    q = scheme.question(question_id)
    return q.text if q else question_id


def read_answer(event: Incoming, question: Question | None) -> tuple[AnswerKind, str | None]:
    """('answer', text) | ('skip', None) | ('later', None) | ('stale', None) | ('bad', msg)."""
    if event.kind == Kind.CHOICE:
        action = REFLECTION.parse(event.choice)
        if action is not None:
            return action, None
        index = ANSWER.number(event.choice)
        if question and index is not None and index < len(question.choices):
            return "answer", question.choices[index]
        return "stale", None
    if event.kind == Kind.COMMAND:
        return "stale", None
    answer = " ".join(event.text.split())
    word = answer.lower()
    if word in SKIP_WORDS:
        return "skip", None
    if word in LATER_WORDS:
        return "later", None
    if not answer:
        return "bad", "Please type a short answer, or 'skip' / 'later'."
    if len(answer) == 1 or re.fullmatch(r"\d+|[a-z]", word):
        return "bad", (
            f"Did you mean one of the buttons? '{answer}' is not saved as a reflection: "
            "type your answer in a few words, or Skip or Later."
        )
    if len(answer) > REFLECTION_MAX:
        return "bad", (
            f"That answer is {len(answer):,} characters; I keep up to {REFLECTION_MAX:,}. "
            "Please shorten it (nothing was saved yet)."
        )
    return "answer", answer


def yes_no(event: Incoming) -> bool | None:
    """A Structured/Unstructured button, or a typed yes or no."""
    if event.kind == Kind.CHOICE:
        value = STRUCTURED.parse(event.choice)
        return None if value is None else value == "yes"
    word = norm(event.text)
    return True if word in YES else False if word in NO else None


def category_from(event: Incoming, scheme: Scheme) -> Category | None:
    if event.kind == Kind.CHOICE:
        value = CATEGORY.parse(event.choice)
        return scheme.category(value) if value is not None else None
    return match_category(scheme, event.text)


def match_category(scheme: Scheme, text: str) -> Category | None:
    """The category `text` names: its id, label or an alias, read loosely ('Self study',
    'self-study', '#webinars', 'in-service', 'work based'), or the start of one label."""
    wanted = category_key(text.removeprefix("#"))
    if not wanted:
        return None
    for cat in scheme.categories:
        if wanted in category_keys(cat):
            return cat
    starts = [
        c
        for c in scheme.categories
        if category_key(c.label).startswith(wanted) and len(wanted) >= 3
    ]
    return starts[0] if len(starts) == 1 else None


def close_categories(scheme: Scheme, text: str, limit: int = 3) -> tuple[Category, ...]:
    """Up to `limit` categories `text` may have meant (for "Did you mean …?"): those whose
    name or alias is a word of it, then the closest spellings. Never a guess: only offered."""
    found: list[Category] = [c for c in scheme.categories if names_category(c, text)]
    keys = {k: c for c in scheme.categories for k in category_keys(c)}
    wanted = category_key(text.removeprefix("#"))
    for key in difflib.get_close_matches(wanted, list(keys), n=10, cutoff=0.7):
        found.append(keys[key])
    unique = list(dict.fromkeys(c.id for c in found))
    return tuple(c for i in unique[:limit] if (c := scheme.category(i)) is not None)


def names_category(category: Category, text: str, ignore: frozenset[str] = frozenset()) -> bool:
    """Whether `text` holds the category's label, id or an alias as whole words (singular or
    plural, with or without hyphens: 'webinars' and 'self study' name them); `ignore`:
    names that do not count."""
    return bool((category_keys(category) - ignore) & _word_runs(text))


@lru_cache(maxsize=256)
def _word_runs(text: str) -> frozenset[str]:
    """Runs of one to four words of `text`, joined as category keys are ('self study' ->
    'selfstudy'). Cached: every category of a scheme is matched against the same title."""
    words = category_words(text)
    return frozenset(
        "".join(words[i : i + n]) for n in range(1, 5) for i in range(len(words) - n + 1)
    )


@lru_cache(maxsize=1024)
def category_keys(category: Category) -> frozenset[str]:
    return frozenset(
        k for k in map(category_key, (category.id, category.label, *category.aliases)) if k
    )


_WORD = re.compile(r"[^\W_]+")


def category_words(text: str) -> list[str]:
    """The words of `text` as categories are matched: lower case, singular."""
    return [_singular(w) for w in _WORD.findall(text.lower())]


def category_key(text: str) -> str:
    """'Self-study', 'self study', 'Self_Studies' and 'selfstudy' all give 'selfstudy'."""
    return "".join(category_words(text))


def _singular(word: str) -> str:
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


# ---------------------------------------------------------------- checks


def title_error(title: str) -> str | None:
    title = tidy(title)
    if not title:
        return "Please describe the activity in a few words."
    if len(title) > TITLE_MAX:
        return (
            f"That title is {len(title)} characters; the limit is {TITLE_MAX}. "
            "Please shorten it — you can add detail in the reflections."
        )
    return None


def date_error(day: date, ctx: Context, written: str | None) -> str | None:
    if day > ctx.today:
        said = f"'{written}' is" if written else "That is"
        return (
            f"{said} {fmt.day(day)}, in the future. CPD is logged once it has happened; "
            "when did it take place?"
        )
    if day.year < 1950:
        return f"{fmt.day(day)} is too far back. When did it take place?"
    return None


def minutes_error(minutes: int, written: str | None, days: int = 1) -> str | None:
    """What is wrong with `minutes` for an activity over `days` days (24 h a day at most)."""
    said = f"'{written}'" if written else "That"
    if minutes <= 0:
        return f"{said} is not a positive duration. Hours look like 1.5h, 90m or 1h30."
    if days > 1 and minutes > MAX_DAY_MINUTES * days:
        return f"{said} is {fmt.hours(minutes)}, more than 24 hours a day over {days} days."
    if days <= 1 and minutes > MAX_DAY_MINUTES:
        return (
            f"{said} is {fmt.hours(minutes)}, more than the 24 hours in a day. "
            "For an activity over several days, log it as one entry with its dates, "
            "e.g. '/log 14h conference 14-15 Nov'."
        )
    return None


def day_minutes(ctx: Context) -> int:
    """A "full day" of CPD in minutes: the person's own, or the scheme's day length."""
    return ctx.person.day_minutes or ctx.scheme.day_minutes


def no_entry(args: str) -> str:
    number = entry_number(args)
    shown = f"#{number}" if number is not None else f"'{clip(args)}'"
    return f"You have no entry {shown}. /list shows your entries and their numbers."


def entry_number(args: str) -> int | None:
    match = re.fullmatch(r"#?(\d{1,9})", args.strip())
    return int(match.group(1)) if match else None


def leading_number(text: str) -> int | None:
    match = re.match(r"\s*#?(\d{1,9})\b", text)
    return int(match.group(1)) if match else None


def future_date(text: str, ctx: Context) -> date | None:
    """A date meant to come: '5 January' is the next 5 January, 'Friday' the next Friday.
    A phrase that names its own day keeps it ('yesterday', 'last Friday', '5 January 2026'
    are in the past): the caller refuses those."""
    return parse_date(
        text,
        today=ctx.today,
        date_order=ctx.date_order,
        languages=ctx.person.languages,
        ahead=True,
    )


# ---------------------------------------------------------------- text


def tidy(text: str) -> str:
    tidy = " ".join(text.split()).strip(" -,;:")
    return tidy[:1].upper() + tidy[1:]


def norm(text: str) -> str:
    return " ".join(text.lower().split())


def clip(text: str, limit: int = 40) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
