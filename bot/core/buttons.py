"""Button ids on the wire: '<prefix>:<value>', built and parsed by one typed codec per kind.

The dialogue's flows declare their own ids with these codecs; the ids shared with the
scheduler's messages (calendar prompts, command buttons) are declared here, because the
agenda (core) builds them and the dialogue reads them. `parse` returns None for an id of
another kind (or a value outside a closed set), never a guess.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, Literal, TypeVar, get_args

T = TypeVar("T", bound=str)


@dataclass(frozen=True)
class ButtonId:
    """Ids '<prefix>:<free text>' (a scheme id, a category id, a date ...)."""

    prefix: str

    def make(self, value: str | int) -> str:
        return f"{self.prefix}:{value}"

    def parse(self, choice: str) -> str | None:
        head, sep, value = choice.partition(":")
        return value if sep and head == self.prefix else None

    def number(self, choice: str) -> int | None:
        """The value as a whole number ('<prefix>:12'), or None."""
        value = self.parse(choice)
        return int(value) if value is not None and value.isdigit() else None


@dataclass(frozen=True)
class OptionId(Generic[T]):
    """Ids '<prefix>:<option>' for a closed set of options (a `Literal`)."""

    prefix: str
    options: tuple[T, ...]

    def make(self, option: T) -> str:
        return f"{self.prefix}:{option}"

    def parse(self, choice: str) -> T | None:
        head, sep, value = choice.partition(":")
        if not sep or head != self.prefix:
            return None
        return next((o for o in self.options if o == value), None)


@dataclass(frozen=True)
class ActionId(Generic[T]):
    """Ids '<prefix>:<action>:<key>': one of a closed set of actions on one thing (a key
    such as an entry number or a draft's fingerprint)."""

    prefix: str
    actions: tuple[T, ...]

    def make(self, action: T, key: str | int) -> str:
        return f"{self.prefix}:{action}:{key}"

    def parse(self, choice: str) -> tuple[T, str] | None:
        head, sep, rest = choice.partition(":")
        if not sep or head != self.prefix:
            return None
        word, sep, key = rest.partition(":")
        action = next((a for a in self.actions if a == word), None)
        return (action, key) if sep and action is not None else None


YesNo = Literal["yes", "no"]
YES_NO: tuple[YesNo, ...] = get_args(YesNo)

# ---------------------------------------------------------------- shared with the agenda

CalendarAction = Literal["log", "no", "later"]
CALENDAR_ACTIONS: tuple[CalendarAction, ...] = get_args(CalendarAction)
CALENDAR_PREFIX = "cal"
OCCURRENCE_DIGITS = 11  # an occurrence id longer than this is not one of ours


@dataclass(frozen=True)
class CalendarChoice:
    """A calendar prompt's button, 'cal:<action>:<occurrence id>' (parts None if unreadable)."""

    action: CalendarAction | None
    occurrence: int | None


def calendar_button(action: CalendarAction, occurrence: int) -> str:
    """The id of a calendar prompt's button: Log it / Not CPD / Later."""
    return f"{CALENDAR_PREFIX}:{action}:{occurrence}"


def parse_calendar(choice: str) -> CalendarChoice | None:
    """A calendar prompt's button (any 'cal:' id, however garbled), or None."""
    if not choice.startswith(CALENDAR_PREFIX + ":"):
        return None
    word = choice.split(":")[1] if choice.count(":") == 2 else ""
    action = next((a for a in CALENDAR_ACTIONS if a == word), None)
    ident = choice.rpartition(":")[2]
    occurrence = int(ident) if ident.isdigit() and len(ident) <= OCCURRENCE_DIGITS else None
    return CalendarChoice(action, occurrence)


COMMAND_PREFIX = "cmd"


def command_button(command: str, args: str = "") -> str:
    """A button that sends a command: 'cmd:log', 'cmd:reflect 12'."""
    return f"{COMMAND_PREFIX}:{command}" + (f" {args}" if args else "")


def parse_command(choice: str) -> tuple[str, str] | None:
    """(command, args) of a command button, or None."""
    if not choice.startswith(COMMAND_PREFIX + ":"):
        return None
    head, _, args = choice[len(COMMAND_PREFIX) + 1 :].partition(" ")
    return head, args
