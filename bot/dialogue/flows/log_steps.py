"""What the log flow says and reads besides its questions: the echo of the draft ("Got it:
…"), the category guessed from a title, "Did you mean …?" for categories, a date in an
earlier CPD year (asked, never saved silently) and the dates and hours of multi-day
activities. Pure: no I/O."""

from __future__ import annotations

from datetime import date, timedelta

from bot.core import text as fmt
from bot.core.buttons import YES_NO, ButtonId, OptionId
from bot.core.model import Choice, Outgoing
from bot.core.parsing import parse_date, parse_date_range
from bot.core.schemes import Category, Scheme
from bot.dialogue.common import (
    CATEGORY,
    category_choices,
    close_categories,
    date_error,
    day_minutes,
    names_category,
)
from bot.dialogue.conversation import Context, Draft

CHANGE_CATEGORY = ButtonId("logcat")  # logcat:change (the category guessed from the title)
YEAR = OptionId("logyear", YES_NO)  # logyear:yes (log it in that CPD year) | logyear:no
MINUTES = ButtonId("min")  # min:<minutes>
STEP_NOTE = "STEP: claim a conference's full hours only if you attended all of it."
# Words naming no kind of activity: they never decide a category on their own.
_NOT_A_KIND = frozenset({"other"})


# ---------------------------------------------------------------- the echo


def understood(draft: Draft, ctx: Context, *, quoted: bool = True) -> str:
    """Every field of the draft so far: "'Design review' · Tue 1 Dec · 3 h · Events and
    seminars · structured"."""
    parts: list[str] = []
    if draft.title:
        parts.append(f"'{draft.title}'" if quoted else draft.title)
    if draft.activity_date:
        parts.append(fmt.day_span(draft.activity_date, draft.end_date, ctx.today))
    if draft.minutes:
        parts.append(fmt.hours(draft.minutes))
    if draft.category:
        parts.append(fmt.category_label(ctx.scheme, draft.category))
    if draft.structured_known and ctx.scheme.track_structured:
        parts.append(fmt.structured_label(draft.structured))
    return " · ".join(parts)


def echo(draft: Draft, ctx: Context, *, full_day: bool = False) -> list[Outgoing]:
    """'Got it: …' for a message that filled or changed fields of the draft (nothing when
    the draft is empty); STEP members claiming days are reminded of STEP's rule."""
    got = understood(draft, ctx)
    if not got:
        return []
    text = "Got it: " + got + "."
    if ctx.scheme.id == "step" and (full_day or draft.end_date is not None):
        text += " " + STEP_NOTE
    return [Outgoing(text)]


def with_change_button(reply: Outgoing, draft: Draft) -> Outgoing:
    """The question, with [Change category] while the category is the one guessed."""
    if not draft.category_guessed or draft.category is None:
        return reply
    change = Choice(CHANGE_CATEGORY.make("change"), "Change category")
    return Outgoing(
        reply.text,
        (*reply.choices, change),
        numeric_answer=reply.numeric_answer,
    )


# ---------------------------------------------------------------- categories


def guess_category(scheme: Scheme, title: str) -> Category | None:
    """The one category whose label, id or alias is a word of the title ('Webinars on
    grounding' -> Events and seminars), or None when none or several are."""
    found = [c for c in scheme.categories if names_category(c, title, ignore=_NOT_A_KIND)]
    return found[0] if len(found) == 1 else None


def category_question(ctx: Context, typed: str) -> Outgoing:
    """'Did you mean …?' with the closest categories first, then the rest; or the list."""
    close = close_categories(ctx.scheme, typed)
    if not close:
        return Outgoing("Which category?", category_choices(ctx.scheme))
    rest = tuple(c for c in ctx.scheme.categories if c not in close)
    return Outgoing(
        f"Did you mean {_either([c.label for c in close])}? Or pick another.",
        tuple(Choice(CATEGORY.make(c.id), c.label) for c in (*close, *rest)),
    )


def unknown_category(ctx: Context, typed: str) -> str:
    close = close_categories(ctx.scheme, typed)
    said = f"I don't know the category #{typed.removeprefix('#')} in {ctx.scheme.name}."
    if close:
        said += f" Did you mean {_either([c.label for c in close])}?"
    return said


def _either(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + f" or {names[-1]}"


# ---------------------------------------------------------------- dates


def days_of(draft: Draft) -> int:
    """How many days the draft's activity spans (1 without a range)."""
    if draft.activity_date is None or draft.end_date is None:
        return 1
    return (draft.end_date - draft.activity_date).days + 1


def read_dates(text: str, ctx: Context) -> tuple[date, date] | None:
    """An answer to "When was it?": one day (as a one-day range) or a range of days."""
    span = parse_date_range(
        text, today=ctx.today, date_order=ctx.date_order, languages=ctx.person.languages
    )
    if span is not None:
        return span
    day = parse_date(
        text, today=ctx.today, date_order=ctx.date_order, languages=ctx.person.languages
    )
    return None if day is None else (day, day)


def set_dates(
    draft: Draft, start: date, end: date | None, ctx: Context, written: str | None
) -> str | None:
    """The activity's first and last day into the draft; what is wrong with them, if
    anything (the draft then is unchanged). Hours over the days' limit are dropped, said."""
    error = date_error(start, ctx, written)
    if error is None and end is not None and end != start:
        if end < start:
            error = f"{fmt.day(end)} is before {fmt.day(start)}. When did it take place?"
        else:
            error = date_error(end, ctx, written)
    if error:
        return error
    draft.activity_date = start
    draft.end_date = end if end != start else None
    draft.year_confirmed = False
    return None


def earlier_year(draft: Draft, ctx: Context) -> tuple[date, date] | None:
    """The CPD year the draft's first day falls in, when that is an earlier one than today's
    and the person has not confirmed it yet."""
    if draft.activity_date is None or draft.year_confirmed:
        return None
    start, _ = ctx.scheme.year_bounds(ctx.today, ctx.person.year_start)
    if draft.activity_date >= start:
        return None
    return ctx.scheme.year_bounds(draft.activity_date, ctx.person.year_start)


def year_note(draft: Draft, ctx: Context) -> str:
    """' It counts in your 2025 CPD year.' for an entry dated in an earlier year."""
    if draft.activity_date is None:
        return ""
    now, _ = ctx.scheme.year_bounds(ctx.today, ctx.person.year_start)
    if draft.activity_date >= now:
        return ""
    then, _ = ctx.scheme.year_bounds(draft.activity_date, ctx.person.year_start)
    return f" It counts in your {ctx.scheme.year_label(then)} CPD year."


def year_question(draft: Draft, ctx: Context, written: str | None = None) -> Outgoing:
    """ "'25/12' is Fri 25 Dec 2025, in your 2025 CPD year, not 2026. Log it there?"."""
    assert draft.activity_date is not None
    then, _ = ctx.scheme.year_bounds(draft.activity_date, ctx.person.year_start)
    now, _ = ctx.scheme.year_bounds(ctx.today, ctx.person.year_start)
    label, current = ctx.scheme.year_label(then), ctx.scheme.year_label(now)
    said = f"'{written}' is" if written else "That is"
    when = fmt.day_span(draft.activity_date, draft.end_date)
    return Outgoing(
        f"{said} {when}, in your {label} CPD year, not {current}. Log it there?",
        (
            Choice(YEAR.make("yes"), f"Yes, {label}"),
            Choice(YEAR.make("no"), "No, another date"),
        ),
    )


def which_days(within: tuple[date, date], days: int | None, today: date) -> Outgoing:
    """ "Which days last week?" for '2 days last week' (the days are not known yet)."""
    first, last = within
    period = _period(first, last, today)
    count = f"{days} days" if days and days > 1 else "days"
    second = min(first + timedelta(days=max((days or 2) - 1, 1)), last)
    if period in ("last week", "this week"):
        example = f"'{first:%a}-{second:%a} {period}' or '{_dm(first, second)}'"
    else:
        example = f"'{_dm(first, second)}'"
    return Outgoing(f"Which {count} {period}? (e.g. {example})")


def _dm(first: date, second: date) -> str:
    if first.month == second.month:
        return f"{first.day}-{second.day} {second:%b}"
    return f"{first.day} {first:%b} - {second.day} {second:%b}"


def _period(first: date, last: date, today: date) -> str:
    monday = today - timedelta(days=today.weekday())
    if first == monday - timedelta(days=7) and last == monday - timedelta(days=1):
        return "last week"
    if first == monday:
        return "this week"
    if first.day == 1 and (first.year, first.month) == (last.year, last.month):
        return f"in {first:%B}"
    return f"between {fmt.day(first, today)} and {fmt.day(last, today)}"


# ---------------------------------------------------------------- hours


def range_hours_question(draft: Draft, ctx: Context) -> Outgoing:
    """How long, for a range of days: N full days, N half days, or a typed total."""
    days, day = days_of(draft), day_minutes(ctx)
    return Outgoing(
        f"How long did it take over the {days} days? Pick one, or type the total, e.g. 12h "
        "(a bare number is hours up to 24, minutes above).",
        (
            Choice(MINUTES.make(days * day), f"{days} full days ({days} × {fmt.hours(day)})"),
            Choice(
                MINUTES.make(days * (day // 2)),
                f"{days} half days ({days} × {fmt.hours(day // 2)})",
            ),
        ),
        numeric_answer=True,
    )


def is_day_claim(written: str | None) -> bool:
    """Whether hours were claimed in days ('full day', '2 days', 'a 2-day course')."""
    return written is not None and "day" in written.lower()
