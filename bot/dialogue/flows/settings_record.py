"""Settings typed in one line or from the /settings menu: the full name (with
post-nominals) and the membership number that head the PDF and Markdown record and fill a
cover sheet (`/settings name Sam Patel CEng`, `/settings number 1234567`), and the hours
of a person's "full day" (`/settings day 7.5`; `/settings day default` for the scheme's)."""

from __future__ import annotations

import re
from collections.abc import Callable

from bot.core import text as fmt
from bot.core.buttons import ButtonId
from bot.core.model import Choice, Outgoing, PersonView, UpdatePerson
from bot.core.parsing import parse_duration
from bot.core.sanitize import has_unsafe
from bot.core.schemes import Scheme
from bot.dialogue.common import clip, stay, with_effects
from bot.dialogue.conversation import Context, Conv, Data, State, Step
from bot.dialogue.flow import prompt

NAME_MAX = 120
NUMBER_MAX = 32
DAY_MINUTES = (60, 720)  # a person's own full day: 1 to 12 hours
VALUE = ButtonId("val")  # val:<the setting's new value> (settings' own buttons)
_CLEAR = frozenset({"clear", "remove", "delete", "none", "-"})
_DEFAULT_DAY = frozenset({"default", "reset", "usual", "clear", "none"})
_DAY_EXAMPLE = "e.g. /settings day 7.5 (hours), or /settings day default"
_BARE_NUMBER = re.compile(r"[+-]?\d{1,6}(?:[.,]\d+)?")  # at the full day: hours ('25', '-3')
# The words that start a one-line `/settings name …`, `… number …` or `… day …`.
_ONE_LINE = re.compile(
    r"(?P<key>full\s+name|name|membership\s+(?:number|no\.?)|membership|number"
    r"|full\s+day|day)"
    r"(?=[\s:]|$)[\s:]*(?P<value>.*)",
    re.IGNORECASE | re.DOTALL,
)

Changes = dict[str, object]


def one_line_setting(args: str) -> tuple[str, str] | None:
    """('name' | 'number' | 'day', the value typed after it) for `/settings name Sam Patel`."""
    found = _ONE_LINE.match(args.strip())
    if found is None:
        return None
    word = found["key"].lower()
    key = "name" if word.endswith("name") else "day" if word.endswith("day") else "number"
    return key, found["value"].strip()


def _tidy(value: str) -> str:
    """`value` without blanks around it and runs of spaces inside (a tab or line break is
    kept, to be refused)."""
    return re.sub(" {2,}", " ", value.strip())


def _refused(value: str, what: str, limit: int) -> str | None:
    """Why `value` cannot be saved as `what` (None: it can)."""
    if has_unsafe(value) or any(c in value for c in "\t\r\n"):
        return f"Your {what} can't contain control characters or line breaks. Please type it again."
    if len(value) > limit:
        return f"That {what} is {len(value)} characters; I keep up to {limit}. Please shorten it."
    if not any(c.isalnum() for c in value):
        return f"I couldn't read '{clip(value)}' as a {what}."
    return None


def set_name(value: str, ctx: Context) -> tuple[Changes, str] | str:
    name = _tidy(value)
    if name.lower() in _CLEAR:
        return {"full_name": ""}, "Name removed: your record shows no name."
    why = _refused(name, "name", NAME_MAX)
    if why:
        return why
    return {"full_name": name}, f"Name saved: {name}. It heads your record and cover sheet."


def set_number(value: str, ctx: Context) -> tuple[Changes, str] | str:
    number = _tidy(value)
    if number.lower() in _CLEAR:
        return {"membership_number": ""}, "Membership number removed from your record."
    why = _refused(number, "membership number", NUMBER_MAX)
    if why:
        return why
    return (
        {"membership_number": number},
        f"Membership number saved: {number}. It heads your record and cover sheet.",
    )


def day_minutes(person: PersonView, scheme: Scheme) -> int:
    """The minutes of a "full day" for `person`: their own, else their scheme's."""
    return person.day_minutes or scheme.day_minutes


def _usual(scheme: Scheme) -> str:
    return f"{scheme.name}'s usual {fmt.hours(scheme.day_minutes)}"


def set_day(value: str, ctx: Context) -> tuple[Changes, str] | str:
    """A person's own full day, 1 to 12 hours ('7.5', '7h30'), or 'default' (the scheme's)."""
    word = value.strip().lower().rstrip(".!")
    if word in _DEFAULT_DAY:
        return {"day_minutes": None}, f"Full day: back to {_usual(ctx.scheme)}."
    if re.search(r"\bdays?\b", word):  # a day in days says nothing ('half a day')
        return f"Type a full day in hours, not days. {_DAY_EXAMPLE}."
    bare = _BARE_NUMBER.fullmatch(word)
    minutes = round(float(word.replace(",", ".")) * 60) if bare else parse_duration(value)
    if minutes is None:
        return f"I couldn't read '{clip(value)}' as hours. {_DAY_EXAMPLE}."
    low, high = DAY_MINUTES
    if not low <= minutes <= high:
        shown = f"'{clip(value)}' is {fmt.hours(minutes)}" if minutes > 0 and not bare else ""
        return (
            f"A full day is between 1 and 12 hours{f' ({shown})' if shown else ''}. {_DAY_EXAMPLE}."
        )
    half = fmt.hours(minutes // 2)
    return (
        {"day_minutes": minutes},
        f"Full day: {fmt.hours(minutes)}, so 'full day' logs {fmt.hours(minutes)} and "
        f"'half day' {half}.",
    )


def day_line(person: PersonView, scheme: Scheme) -> str:
    """The /settings menu's line for the full day."""
    if person.day_minutes:
        usual = fmt.hours(scheme.day_minutes)
        own = fmt.hours(person.day_minutes)
        return f"Full day: {own} (your own; {scheme.name}'s usual is {usual})"
    return f"Full day: {fmt.hours(day_minutes(person, scheme))} ({scheme.name}'s usual)"


def menu_lines(person: PersonView) -> list[str]:
    """The /settings menu's lines for the name and the number."""
    return [
        "Name for the record: "
        + (person.full_name or "not set (e.g. /settings name Sam Patel CEng)"),
        "Membership number: "
        + (person.membership_number or "not set (e.g. /settings number 1234567)"),
    ]


def one_line_step(conv: Conv, args: str, ctx: Context) -> Step | None:
    """`/settings name Sam Patel CEng` saves it; `/settings number` asks for it; None for
    anything else (the menu)."""
    found = one_line_setting(args)
    if found is None:
        return None
    key, value = found
    if not value:
        nxt = Conv(State.SETTINGS_VALUE, Data(undo=conv.data.undo, field=key))
        return Step(nxt, (prompt(nxt, ctx),))
    saved = SETTERS[key](value, ctx)
    if isinstance(saved, str):
        return stay(conv, ctx, saved)
    return with_effects(conv, ctx, saved[1], (UpdatePerson(saved[0]),))


def value_prompt(key: str, ctx: Context) -> Outgoing | None:
    """The question for the name, the number or the day (None for any other setting)."""
    person = ctx.person
    if key == "name":
        now = f" Now: {person.full_name}." if person.full_name else ""
        return Outgoing(
            "Your full name as it should appear on your CPD record, with post-nominals "
            f"(e.g. Sam Patel CEng MIET).{now} Type 'clear' to remove it."
        )
    if key == "number":
        now = f" Now: {person.membership_number}." if person.membership_number else ""
        return Outgoing(
            f"Your membership number with your professional body?{now} Type 'clear' to remove it."
        )
    if key == "day":
        scheme = ctx.scheme
        usual = fmt.hours(scheme.day_minutes)
        return Outgoing(
            "How many hours is a full day of CPD for you? Now: "
            f"{fmt.hours(day_minutes(person, scheme))}. An activity logged as 'full day' "
            "counts that long, 'half day' half of it. Type 1 to 12 hours (e.g. 7.5), or pick:",
            (Choice(VALUE.make("default"), f"{scheme.name}'s usual ({usual})"),),
        )
    return None


SETTINGS = {"name": "Name for the record", "number": "Membership number"}
SETTERS: dict[str, Callable[[str, Context], tuple[Changes, str] | str]] = {
    "name": set_name,
    "number": set_number,
    "day": set_day,
}
ALIASES = {
    "full_name": "name",
    "membership_number": "number",
    "membership": "number",
    "full_day": "day",
    "day_length": "day",
}
