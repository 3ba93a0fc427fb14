"""CPD schemes: one TOML data file per professional body, validated into `Scheme`."""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from datetime import date
from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

BUILTIN_DIR = Path(__file__).parent / "data"
DEFAULT_SCHEME = "generic"


class SchemeError(Exception):
    """A scheme file that cannot be used; the message names the file and the problem."""


# Ids are stored (a person's scheme and status, an entry's category, a reflection's
# question): at most the 64 characters of their columns, so a custom scheme that loads
# can always be saved.
ID_PATTERN = r"^[a-z0-9_]+$"
ID_MAX = 64


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Category(_Frozen):
    id: str = Field(pattern=ID_PATTERN, max_length=ID_MAX)
    label: str = Field(min_length=1, max_length=60)
    description: str = ""
    # Default for the structured/unstructured question when this category is chosen.
    # None means "ask the user".
    structured: bool | None = None
    # Words that, written as #word in a quick entry, pick this category.
    aliases: tuple[str, ...] = ()
    # Several bodies (issue 16): this category's counterparts in another scheme, by its id:
    # one category is filed there without asking, several are offered as the question.
    # Written as a TOML table; kept as (scheme id, category ids) pairs so that a category
    # stays hashable.
    maps_to: tuple[tuple[str, tuple[str, ...]], ...] = ()

    @field_validator("maps_to", mode="before")
    @classmethod
    def _maps_table(cls, value: object) -> object:
        if isinstance(value, Mapping):
            return tuple(sorted(value.items()))
        return value

    def mapped(self, scheme_id: str) -> tuple[str, ...]:
        """This category's counterparts in scheme `scheme_id` (none named: ())."""
        return next((ids for target, ids in self.maps_to if target == scheme_id), ())


class Status(_Frozen):
    """A membership status with its yearly hour target (None: no hours target)."""

    id: str = Field(pattern=ID_PATTERN, max_length=ID_MAX)
    label: str = Field(min_length=1, max_length=60)
    hours: float | None = Field(default=None, ge=0)
    description: str = ""


class Question(_Frozen):
    id: str = Field(pattern=ID_PATTERN, max_length=ID_MAX)
    text: str = Field(min_length=1, max_length=300)
    # Required questions are always asked when logging; a record with one unanswered
    # counts as "reflection pending".
    required: bool = False
    # Optional short answers offered as buttons (e.g. "Yes" / "No" / "Not sure").
    choices: tuple[str, ...] = ()
    # A few words naming the question in lists and records ("learning outcomes").
    short: str = Field(default="", max_length=60)
    # Several bodies (issue 16): for a member whose main body is another scheme, the
    # questions of that scheme whose answers count as an answer to this one (its guidance
    # asks the same thing; the scheme files say why). /reflect asks only the main body's.
    answered_by: tuple[tuple[str, tuple[str, ...]], ...] = ()

    @field_validator("answered_by", mode="before")
    @classmethod
    def _answered_table(cls, value: object) -> object:
        if isinstance(value, Mapping):
            return tuple(sorted(value.items()))
        return value

    @property
    def name(self) -> str:
        return self.short or self.text

    def counterparts(self, scheme_id: str) -> tuple[str, ...]:
        """The questions of scheme `scheme_id` whose answers answer this one (none: ())."""
        return next((ids for source, ids in self.answered_by if source == scheme_id), ())


class Balance(_Frozen):
    """Balance rule across categories (IES): min categories, each above a token share."""

    min_categories: int = Field(ge=1)
    min_categories_when_studying: int | None = Field(default=None, ge=1)
    # A category counts towards the balance only with at least this share of the total.
    min_share: float = Field(default=0.0, ge=0, le=1)


class PerEntryCheck(_Frozen):
    """Questions every activity must have answered, checked as one named requirement."""

    id: str = Field(pattern=ID_PATTERN, max_length=ID_MAX)
    label: str = Field(min_length=1, max_length=100)
    questions: tuple[str, ...] = Field(min_length=1)


class Checks(_Frozen):
    """The scheme's extra requirements that `bot.core.assess` checks; each is off unless set."""

    # Named groups of questions answered on every activity (e.g. IES: both elements).
    per_entry: tuple[PerEntryCheck, ...] = ()
    # At least one activity on ethics in each CPD year (STEP).
    ethics_activity: bool = False
    # (least, most) key responsibilities listed in the plan (STEP: the top 5-7) ...
    responsibilities: tuple[int, int] | None = None
    # ... one of which must be this (STEP: "ethical behaviour"), recognised by the regular
    # expression `responsibility_match` (case-insensitive; default: the text itself).
    responsibility_required: str = ""
    responsibility_match: str = ""
    # At least this many learning methods (categories) used in the year (IPEM/HCPC).
    min_methods: int | None = Field(default=None, ge=1)
    # At least this many minutes of ethics activities in each CPD year (STEP: 60).
    ethics_min_minutes: int | None = Field(default=None, ge=1)
    # Activities this many days apart or more (counting from the year start and to today)
    # leave a gap that needs an explanation (IPEM/HCPC: 3 months, 92 days).
    gap_days: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _check_pattern(self) -> Checks:
        try:
            re.compile(self.responsibility_match)
        except re.error as exc:
            raise ValueError(f"responsibility_match is not a regular expression: {exc}") from exc
        # Ethics activities are picked out (by the database too) only with ethics_activity.
        if self.ethics_min_minutes is not None and not self.ethics_activity:
            raise ValueError("ethics_min_minutes needs ethics_activity = true")
        return self


class Scheme(_Frozen):
    id: str = Field(pattern=ID_PATTERN, max_length=ID_MAX)
    name: str = Field(min_length=1, max_length=80)
    body: str = Field(min_length=1)
    description: str = ""
    # First day of the CPD year, as (month, day).
    year_start_month: int = Field(default=1, ge=1, le=12)
    year_start_day: int = Field(default=1, ge=1, le=28)
    categories: tuple[Category, ...] = Field(min_length=1)
    statuses: tuple[Status, ...] = Field(min_length=1)
    default_status: str
    # Whether the scheme distinguishes structured (formal) from unstructured learning.
    track_structured: bool = False
    structured_question: str = "Was it structured (formal) learning?"
    questions: tuple[Question, ...] = Field(min_length=1)
    # How many reflection questions the logging dialogue asks (required ones first).
    ask: int = Field(default=2, ge=1, le=3)
    balance: Balance | None = None
    audit_notes: tuple[str, ...] = ()
    checks: Checks = Checks()
    # Hours in a "full day" of CPD ("half day" is half); a person may set their own.
    day_hours: float = Field(default=7.0, gt=0, le=24)
    # The competence framework entries can be tagged with (plan tags): "uk_spec" for the
    # Engineering Council's UK-SPEC (IET, IPEM); None: no framework offered.
    competences: Literal["uk_spec"] | None = None
    # Examples in prompts and help, in the body's own field.
    example_activity: str = Field(default="Webinar on risk assessment", max_length=80)
    example_log: str = Field(default="1.5h webinar on risk assessment yesterday", max_length=120)

    @model_validator(mode="after")
    def _check_refs(self) -> Scheme:
        for kind, items in (
            ("category", self.categories),
            ("status", self.statuses),
            ("question", self.questions),
        ):
            ids = [i.id for i in items]
            dupes = sorted({i for i in ids if ids.count(i) > 1})
            if dupes:
                raise ValueError(f"duplicate {kind} id(s): {', '.join(dupes)}")
        aliases = [a.lower() for c in self.categories for a in c.aliases]
        shared = sorted({a for a in aliases if aliases.count(a) > 1})
        if shared:
            raise ValueError(f"alias(es) used by two categories: {', '.join(shared)}")
        if self.default_status not in {s.id for s in self.statuses}:
            raise ValueError(f"default_status {self.default_status!r} is not one of the statuses")
        known = {q.id for q in self.questions}
        for check in self.checks.per_entry:
            unknown = sorted(set(check.questions) - known)
            if unknown:
                raise ValueError(f"checks.per_entry {check.id!r}: unknown question(s) {unknown}")
        if sum(q.required for q in self.questions) > self.ask:
            raise ValueError("more required questions than `ask` allows")
        return self

    def category(self, category_id: str) -> Category | None:
        return next((c for c in self.categories if c.id == category_id), None)

    def status(self, status_id: str) -> Status:
        found = next((s for s in self.statuses if s.id == status_id), None)
        return found or self.status(self.default_status)

    def question(self, question_id: str) -> Question | None:
        return next((q for q in self.questions if q.id == question_id), None)

    def asked_questions(self) -> tuple[Question, ...]:
        """The questions the logging dialogue asks: required first, then in file order."""
        ordered = [q for q in self.questions if q.required] + [
            q for q in self.questions if not q.required
        ]
        return tuple(ordered[: self.ask])

    @property
    def day_minutes(self) -> int:
        """The minutes of a "full day" of CPD in this scheme (a person may set their own)."""
        return round(self.day_hours * 60)

    def target_hours(self, status_id: str) -> float | None:
        return self.status(status_id).hours

    def year_bounds(
        self, today: date, override: tuple[int, int] | None = None
    ) -> tuple[date, date]:
        """The CPD year containing `today`: (first day, first day of the next year).

        `override` is a person's own (month, day) year start, if they set one.
        """
        month, day = override or (self.year_start_month, self.year_start_day)
        start = date(today.year, month, day)
        if today < start:
            start = date(today.year - 1, month, day)
        end = date(start.year + 1, month, day)
        return start, end

    def year_label(self, start: date) -> str:
        if (self.year_start_month, self.year_start_day) == (1, 1):
            return str(start.year)
        return f"{start.year}/{(start.year + 1) % 100:02d}"


def load_scheme_file(path: Path) -> Scheme:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise SchemeError(f"{path}: not valid TOML: {exc}") from exc
    except OSError as exc:
        raise SchemeError(f"{path}: cannot read: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise SchemeError(f"{path}: not UTF-8 text (save the file as UTF-8): {exc}") from exc
    try:
        scheme = Scheme.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '(file)'}: {err['msg']}"
            for err in exc.errors()
        )
        raise SchemeError(f"{path}: invalid scheme: {problems}") from exc
    if scheme.id != path.stem:
        raise SchemeError(f"{path}: scheme id {scheme.id!r} must match the file name {path.stem!r}")
    return scheme


def load_schemes(extra_dir: Path | None = None) -> Mapping[str, Scheme]:
    """The built-in schemes, plus (overriding by id) every *.toml in `extra_dir`."""
    schemes: dict[str, Scheme] = {}
    dirs = [BUILTIN_DIR] + ([extra_dir] if extra_dir else [])
    for folder in dirs:
        if not folder.is_dir():
            raise SchemeError(f"{folder}: scheme directory does not exist")
        for path in sorted(folder.glob("*.toml")):
            scheme = load_scheme_file(path)
            schemes[scheme.id] = scheme
        if folder == BUILTIN_DIR:
            _check_maps(schemes)
    if DEFAULT_SCHEME not in schemes:
        raise SchemeError(f"no {DEFAULT_SCHEME!r} scheme found in {BUILTIN_DIR}")
    return schemes


def _check_maps(schemes: Mapping[str, Scheme]) -> None:
    """Every built-in `maps_to` names categories its target scheme has. A scheme of one's
    own (CPDBOT_SCHEMES_DIR) may replace a target: a category it no longer has is left out
    of the mapping (`mapped_categories`), so the member is asked instead."""
    for scheme in schemes.values():
        for category in scheme.categories:
            for target_id, ids in category.maps_to:
                target = schemes.get(target_id)
                unknown = sorted(i for i in ids if target and not target.category(i))
                if unknown:
                    raise SchemeError(
                        f"scheme {scheme.id!r}, category {category.id!r}: maps_to.{target_id} "
                        f"names unknown categories {unknown}"
                    )
        for question in scheme.questions:
            for source_id, ids in question.answered_by:
                source = schemes.get(source_id)
                unknown = sorted(i for i in ids if source and not source.question(i))
                if unknown:
                    raise SchemeError(
                        f"scheme {scheme.id!r}, question {question.id!r}: "
                        f"answered_by.{source_id} names unknown questions {unknown}"
                    )


def mapped_categories(scheme: Scheme, category_id: str, target: Scheme) -> tuple[str, ...]:
    """The categories of `target` an entry in `category_id` of `scheme` may belong to: one
    means it is filed there without asking; several (all, when the scheme names none) are
    the ones to ask among."""
    category = scheme.category(category_id)
    ids = category.mapped(target.id) if category else ()
    known = tuple(i for i in ids if target.category(i))
    return known or tuple(c.id for c in target.categories)


@cache
def default_schemes() -> Mapping[str, Scheme]:
    """Schemes from the package plus `CPDBOT_SCHEMES_DIR`, loaded once per process."""
    extra = os.environ.get("CPDBOT_SCHEMES_DIR")
    return load_schemes(Path(extra) if extra else None)


FALLBACK_SCHEME = "generic"


def scheme_for(schemes: Mapping[str, Scheme], scheme_id: str | None) -> Scheme:
    """The scheme a person follows, or the generic one when theirs is no longer installed."""
    found = schemes.get(scheme_id) if scheme_id else None
    return found or schemes[FALLBACK_SCHEME]
