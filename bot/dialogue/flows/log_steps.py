"""What the log flow says and reads besides its questions: the echo of the draft ("Got it:
…"), the category guessed from a title, "Did you mean …?" for categories, a date in an
earlier CPD year (asked, never saved silently) and the dates and hours of multi-day
activities. Pure: no I/O."""

from __future__ import annotations

import re
from datetime import date, timedelta

from bot.core import text as fmt
from bot.core.buttons import YES_NO, ButtonId, OptionId
from bot.core.model import Choice, Incoming, Kind, Outgoing
from bot.core.parsing import QuickEntry, parse_date, parse_date_range, parse_duration
from bot.core.schemes import Category, Scheme
from bot.dialogue.common import (
    CATEGORY,
    LATER_WORDS,
    SKIP_WORDS,
    category_choices,
    clip,
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
        parts.append(_hours(draft))
    if draft.category:
        parts.append(fmt.category_label(ctx.scheme, draft.category))
    if draft.structured_known and ctx.scheme.track_structured:
        parts.append(fmt.structured_label(draft.structured))
    return " · ".join(parts)


def _hours(draft: Draft) -> str:
    """'3 h', or '7 h (2 × 3 h 30)' for hours claimed in days over several days."""
    assert draft.minutes is not None
    one, days = per_day(draft), days_of(draft)
    if one is None or days < 2 or draft.minutes != one * days:
        return fmt.hours(draft.minutes)
    return f"{fmt.hours(draft.minutes)} ({days} × {fmt.hours(one)})"


def got_it(draft: Draft, ctx: Context) -> list[Outgoing]:
    """'Got it: …' for a message that filled or changed fields of the draft (nothing when
    the draft is empty); STEP members claiming full days are reminded of STEP's rule."""
    got = understood(draft, ctx)
    if not got:
        return []
    text = "Got it: " + got + "."
    days = days_of(draft) if draft.activity_date else max(expected_count(draft), 1)
    full = draft.minutes is not None and draft.minutes >= day_minutes(ctx) * days
    if ctx.scheme.id == "step" and full:
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
        f"(a bare number is hours up to {24 * days}, minutes above).",
        (
            Choice(MINUTES.make(days * day), f"{days} full days ({days} × {fmt.hours(day)})"),
            Choice(
                MINUTES.make(days * (day // 2)),
                f"{days} half days ({days} × {fmt.hours(day // 2)})",
            ),
        ),
        numeric_answer=True,
    )


# ---------------------------------------------------------------- days claimed

_ONE_DAY = re.compile(
    r"(?:an?\s+|one\s+)?(?:(?:full|whole|all|half)(?:\s+a)?[\s-]*)?day|half\s+a\s+day",
    re.IGNORECASE,
)
_TIME_RANGE = re.compile(r"\d\s*(?:[:.]\d\d)?\s*(?:am|pm)?\s*(?:-|–|to)\s*\d", re.IGNORECASE)
_BARE_NUMBER = re.compile(r"\d{1,4}(?:[.,]\d+)?")
_LONGEST_TIME_RANGE = 10 * 60  # "2-1pm" (11 h) is more likely a slip than a day


def expect_days(draft: Draft, days: int | None, within: tuple[date, date]) -> None:
    draft.days_named = (days or 0, within[0], within[1])


def expected_days(draft: Draft) -> tuple[int, date, date] | None:
    """The number of days the line said (0: not said) and the period they are in."""
    return draft.days_named


def expected_count(draft: Draft) -> int:
    expected = expected_days(draft)
    return 0 if expected is None else expected[0]


def forget_days(draft: Draft) -> None:
    draft.days_named = None


def per_day(draft: Draft) -> int | None:
    return draft.per_day


def set_per_day(draft: Draft, minutes: int | None) -> None:
    draft.per_day = minutes or None


def one_day_minutes(written: str | None, ctx: Context) -> int | None:
    """The minutes of a one-day phrase ('full day', 'half a day', 'all day'), else None."""
    if written is None or not _ONE_DAY.fullmatch(" ".join(written.split())):
        return None
    return parse_duration(written, day_minutes=day_minutes(ctx))


def line_minutes(quick: QuickEntry, days: int, ctx: Context) -> tuple[int | None, int | None, str]:
    """The minutes of a one-liner over `days` days, the minutes of one day when they were
    claimed in days (counted again if the days change), and what is wrong, if anything."""
    written, minutes = quick.duration_text or "", quick.minutes
    if quick.duration_conflict:
        both = " and ".join(f"'{t}'" for t in quick.duration_conflict)
        return None, None, f"The line says both {both}, so I'll ask the hours."
    if minutes is None:
        return None, None, ""
    if _TIME_RANGE.search(written) and minutes > _LONGEST_TIME_RANGE and "day" not in written:
        return None, None, f"'{written}' would be {fmt.hours(minutes)}, so I'll ask the hours."
    one = one_day_minutes(written, ctx)
    if one is not None:
        return one * days, one, ""
    if "day" in written.lower() and quick.days:
        one = minutes // quick.days
        return one * days, one, ""
    return minutes, None, ""


def range_bare_hours(written: str | None, days: int) -> int | None:
    """A bare number answering the hours of an N-day range: hours up to 24 × N."""
    if written is None or days <= 1 or not _BARE_NUMBER.fullmatch(written):
        return None
    value = float(written.replace(",", "."))
    return round(value * 60) if 0 < value <= 24 * days else None


def recount(draft: Draft, ctx: Context) -> str | None:
    """Hours claimed in days counted again for the draft's days; what was said about it."""
    one = per_day(draft)
    if one is None or draft.minutes is None:
        return None
    days = days_of(draft)
    if draft.minutes == one * days:
        return None
    draft.minutes = one * days
    plural = "s" if days > 1 else ""
    return f"That is {days} day{plural}, so I've counted {fmt.hours(draft.minutes)}."


def outside_period(span: tuple[date, date], draft: Draft) -> tuple[int, date, date] | None:
    """The days and period the line named, when the answer is not inside that period."""
    expected = expected_days(draft)
    if expected is None:
        return None
    _, first, last = expected
    return None if first <= span[0] and span[1] <= last else expected


def future_range(text: str, ctx: Context) -> str | None:
    """What to say of a range of days still to come ('1-5 Dec' on 4 Dec), which the parser
    does not read: read as if it were two months on, it ends after today."""
    later = ctx.today + timedelta(days=62)
    span = parse_date_range(
        text, today=later, date_order=ctx.date_order, languages=ctx.person.languages
    )
    if span is None or span[1] <= ctx.today or span[0] == span[1]:
        return None
    when = fmt.day_span(span[0], span[1], ctx.today)
    return (
        f"'{clip(text)}' is {when}, in the future. CPD is logged once it has happened; "
        "when did it take place?"
    )


def not_now(event: Incoming, what: str) -> str | None:
    """'later' or 'skip' typed at a question the entry cannot be saved without."""
    if event.kind != Kind.TEXT or " ".join(event.text.lower().split()) not in (
        SKIP_WORDS | LATER_WORDS
    ):
        return None
    return (
        f"I need {what} to save the entry; only the reflections can wait. "
        "Nothing is lost: answer this, or /cancel to drop the entry."
    )
