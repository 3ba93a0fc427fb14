"""Settings for the record itself: the full name (with post-nominals) and the membership
number that head the PDF and Markdown record and fill a cover sheet (`/settings name Sam
Patel CEng`, `/settings number 1234567`, or from the /settings menu)."""

from __future__ import annotations

import re
from collections.abc import Callable

from bot.core.model import Outgoing, PersonView, UpdatePerson
from bot.core.sanitize import has_unsafe
from bot.dialogue.common import clip, stay, with_effects
from bot.dialogue.conversation import Context, Conv, Data, State, Step
from bot.dialogue.flow import prompt

NAME_MAX = 120
NUMBER_MAX = 32
_CLEAR = frozenset({"clear", "remove", "delete", "none", "-"})
# The words that start a one-line `/settings name …` or `/settings number …`.
_ONE_LINE = re.compile(
    r"(?P<key>full\s+name|name|membership\s+(?:number|no\.?)|membership|number)"
    r"(?=[\s:]|$)[\s:]*(?P<value>.*)",
    re.IGNORECASE | re.DOTALL,
)

Changes = dict[str, object]


def one_line_setting(args: str) -> tuple[str, str] | None:
    """('name' | 'number', the value typed after it) for `/settings name Sam Patel`."""
    found = _ONE_LINE.match(args.strip())
    if found is None:
        return None
    key = "name" if found["key"].lower().endswith("name") else "number"
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


def value_prompt(key: str, person: PersonView) -> Outgoing | None:
    """The question for the name or the number (None for any other setting)."""
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
    return None


SETTINGS = {"name": "Name for the record", "number": "Membership number"}
SETTERS: dict[str, Callable[[str, Context], tuple[Changes, str] | str]] = {
    "name": set_name,
    "number": set_number,
}
ALIASES = {"full_name": "name", "membership_number": "number", "membership": "number"}
