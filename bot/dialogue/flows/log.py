"""Logging an activity: /log step by step, or a one-line entry read at once and only the
missing parts asked (title, date, hours, category, structured?, reflections), then saved.
A one-line entry typed when idle is logged the same way."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, timedelta

from bot.core import text as fmt
from bot.core.buttons import ButtonId
from bot.core.model import (
    Choice,
    DecideOccurrence,
    Effect,
    Incoming,
    Kind,
    Outgoing,
    ReflectionView,
    SaveEntry,
)
from bot.core.parsing import QuickEntry, parse_duration, parse_quick
from bot.core.schemes import Category
from bot.dialogue.common import (
    NO,
    YES,
    category_choices,
    category_from,
    clip,
    day_minutes,
    draft_copy,
    match_category,
    minutes_error,
    norm,
    question_prompt,
    question_text,
    read_answer,
    say,
    stale,
    stay,
    structured_choices,
    tidy,
    title_error,
    yes_no,
)
from bot.dialogue.conversation import Context, Conv, Data, Draft, State, Step, Undo, replace_data
from bot.dialogue.flow import Command, Flow, prompt
from bot.dialogue.flows.entries import UNDO, undo_last
from bot.dialogue.flows.log_steps import (
    CHANGE_CATEGORY,
    MINUTES,
    YEAR,
    category_question,
    days_of,
    earlier_year,
    expect_days,
    forget_days,
    future_range,
    got_it,
    guess_category,
    line_minutes,
    not_now,
    one_day_minutes,
    outside_period,
    range_bare_hours,
    range_hours_question,
    read_dates,
    recount,
    set_dates,
    set_per_day,
    understood,
    unknown_category,
    which_days,
    with_change_button,
    year_note,
    year_question,
)

S = State

__all__ = ["FLOW", "LOG", "advance", "fill_from_line", "save_entry", "set_category", "understood"]

HOUR_CHOICES = (30, 60, 90, 120, 180, 420)
DATE = ButtonId("date")  # date:<ISO date>
LOG_STATES = (
    S.LOG_TITLE,
    S.LOG_DATE,
    S.LOG_DATE_CONFIRM,
    S.LOG_HOURS,
    S.LOG_CATEGORY,
    S.LOG_STRUCTURED,
    S.LOG_REFLECT,
)
_YES_NO = re.compile(r"\s*(yes|y|yep|yeah|ok|no|n|nope)\b", re.IGNORECASE)


def _log(conv: Conv, args: str, ctx: Context) -> Step:
    draft = Draft(source="chat")
    idle = Data(undo=conv.data.undo, parked=conv.data.parked)
    if not args.strip():
        nxt = Conv(S.LOG_TITLE, replace_data(idle, draft=draft))
        return Step(nxt, (prompt(nxt, ctx),))
    return fill_from_line(Conv(S.IDLE, idle), draft, args, ctx, echo=True)


def quick_of(line: str, ctx: Context) -> QuickEntry:
    return parse_quick(
        line,
        today=ctx.today,
        date_order=ctx.date_order,
        languages=ctx.person.languages,
        day_minutes=day_minutes(ctx),
    )


def fill_from_line(conv: Conv, draft: Draft, line: str, ctx: Context, *, echo: bool) -> Step:
    """Read a one-line entry into the draft, echo all of it, then ask for the first thing
    still missing (a category named in the title is taken when only one is)."""
    quick = quick_of(line, ctx)
    problems = _read_line(draft, quick, ctx) + _read_hints(draft, quick.category_hints, ctx)
    if draft.category is None and not quick.category_hints:
        guess(draft, ctx)
    replies: list[Outgoing] = []
    if echo:
        replies += got_it(draft, ctx)
    if problems:
        replies.append(say(" ".join(problems)))
    result = advance(
        Conv(conv.state, replace_data(conv.data, draft=draft)), ctx, replies, quick.date_text
    )
    return _first_question(result, quick, ctx)


def _first_question(result: Step, quick: QuickEntry, ctx: Context) -> Step:
    """The first question of a one-liner, told what the line said: which days of the period
    it named ('2 days last week'), or which category an unknown #hint meant."""
    draft = result.conv.data.draft
    state = result.conv.state
    if draft is None or not result.replies:
        return result
    asked: Outgoing | None = None
    if state == S.LOG_DATE and (within := quick.within) and within[0] <= ctx.today:
        asked = None if draft.activity_date else which_days(within, quick.days, ctx.today)
    unknown = [h for h in quick.category_hints if match_category(ctx.scheme, h) is None]
    if state == S.LOG_CATEGORY and unknown:  # "Did you mean" is said once, just before
        asked = Outgoing("Which category?", category_question(ctx, unknown[0]).choices)
    if asked is None:
        return result
    return Step(result.conv, (*result.replies[:-1], asked), result.effects)


def guess(draft: Draft, ctx: Context) -> None:
    """The category named by the title, when exactly one is: taken, and marked guessed."""
    category = guess_category(ctx.scheme, draft.title or "")
    if category is not None:
        set_category(draft, category)
        draft.category_guessed = True


def _read_line(draft: Draft, quick: QuickEntry, ctx: Context) -> list[str]:
    """Title, dates and hours of a one-line entry into the draft; what was wrong with them."""
    problems: list[str] = []
    title = quick.title
    if title is not None:
        error = title_error(title)
        if error:
            problems.append(error)
        else:
            draft.title = title
    if quick.activity_date is not None:
        error = set_dates(draft, quick.activity_date, quick.end_date, ctx, quick.date_text)
        if error:
            problems.append(error)
    if quick.within is not None and quick.within[0] > ctx.today:
        problems.append("That is still to come; CPD is logged once it has happened.")
    elif quick.within is not None:
        expect_days(draft, quick.days, quick.within)
    days = days_of(draft) if draft.end_date else quick.days or 1
    minutes, one, said = line_minutes(quick, days, ctx)
    problems += [said] if said else []
    error = None if minutes is None else minutes_error(minutes, quick.duration_text, days)
    if error:
        problems.append(error)
    elif minutes:
        draft.minutes = minutes
        set_per_day(draft, one)
    return problems


def _read_hints(draft: Draft, hints: Iterable[str], ctx: Context) -> list[str]:
    """#category and #structured hints into the draft; the categories not known."""
    problems: list[str] = []
    for hint in hints:
        if hint in YES - {"yes", "y", "yep", "yeah", "true"}:
            draft.structured, draft.structured_known = True, True
            continue
        if hint in NO - {"no", "n", "nope", "false"}:
            draft.structured, draft.structured_known = False, True
            continue
        category = match_category(ctx.scheme, hint)
        if category is None:
            problems.append(unknown_category(ctx, hint))
        else:
            set_category(draft, category)
            draft.category_guessed = False
    return problems


def set_category(draft: Draft, category: Category) -> None:
    draft.category = category.id
    if not draft.structured_known and category.structured is not None:
        draft.structured = category.structured
        draft.structured_known = True


def _next_missing(draft: Draft, ctx: Context) -> State | None:
    scheme = ctx.scheme
    if not draft.title:
        return S.LOG_TITLE
    if draft.activity_date is None:
        return S.LOG_DATE
    if earlier_year(draft, ctx) is not None:
        return S.LOG_DATE_CONFIRM
    if draft.minutes is None:
        return S.LOG_HOURS
    if draft.category is None:
        return S.LOG_CATEGORY
    if scheme.track_structured and not draft.structured_known:
        return S.LOG_STRUCTURED
    if not draft.questions:
        draft.questions = [q.id for q in scheme.asked_questions()]
    if any(q not in draft.answers for q in draft.questions):
        return S.LOG_REFLECT
    return None


def advance(conv: Conv, ctx: Context, replies: list[Outgoing], written: str | None = None) -> Step:
    """Move to the first thing still missing, or save the entry when nothing is. `written`:
    the date as typed, quoted if its CPD year is asked ("'25/12' is Fri 25 Dec 2025 …")."""
    draft = conv.data.draft
    assert draft is not None
    missing = _next_missing(draft, ctx)
    if missing is None:
        return save_entry(conv, draft, ctx, replies)
    nxt = Conv(missing, conv.data)
    if missing == S.LOG_DATE_CONFIRM and written:
        return Step(nxt, (*replies, with_change_button(year_question(draft, ctx, written), draft)))
    return Step(nxt, (*replies, prompt(nxt, ctx)))


def save_entry(conv: Conv, draft: Draft, ctx: Context, replies: list[Outgoing]) -> Step:
    assert draft.title and draft.activity_date and draft.minutes and draft.category
    number = ctx.person.last_entry_number + 1
    scheme = ctx.scheme
    reflections = tuple(
        ReflectionView(q, question_text(scheme, q), draft.answers.get(q)) for q in draft.questions
    )
    effect = SaveEntry(
        number=number,
        title=draft.title,
        activity_date=draft.activity_date,
        minutes=draft.minutes,
        category=draft.category,
        structured=draft.structured if scheme.track_structured else None,
        source=draft.source,
        reflections=reflections,
        end_date=draft.end_date,
    )
    pending = sum(r.answer is None for r in reflections)
    text = f"Saved #{number}: {understood(draft, ctx, quoted=False)}." + year_note(draft, ctx)
    if pending:
        text += f" {pending} reflection{'s' if pending > 1 else ''} left for later: /reflect."
    undo = Undo(kind="saved", number=number, title=draft.title)
    reply = Outgoing(text, (Choice(UNDO.make(number), "Undo"),))
    effects: tuple[Effect, ...] = (effect,)
    if draft.occurrence is not None:
        effects += (DecideOccurrence(draft.occurrence, "logged", entry_number=number),)
    idle = Data(undo=undo, parked=conv.data.parked)
    return Step(Conv(S.IDLE, idle), (*replies, reply), effects)


def _log_title(conv: Conv, event: Incoming, ctx: Context) -> Step:
    if event.kind != Kind.TEXT or not event.text.strip():
        return stay(conv, ctx, "Please type what you did, in a few words.")
    if wait := not_now(event, "what you did"):
        return stay(conv, ctx, wait)
    # The answer to "What did you do?" is the title, all of it: no hours, date or #category
    # is taken out of it ('Course on the 24h rule' keeps its 24h). The one-line /log reads them.
    error = title_error(event.text)
    if error:
        return stay(conv, ctx, error)
    draft = draft_copy(conv)
    draft.title = tidy(event.text)
    if draft.category is None:
        guess(draft, ctx)
    return advance(Conv(conv.state, replace_data(conv.data, draft=draft)), ctx, got_it(draft, ctx))


def _log_date(conv: Conv, event: Incoming, ctx: Context) -> Step:
    """A day or a range of days ('14-15 Nov', 'Tue-Wed last week'), typed or tapped."""
    draft = draft_copy(conv)
    if event.kind == Kind.CHOICE:
        value = DATE.parse(event.choice)
        try:
            picked = date.fromisoformat(value or "")
        except ValueError:
            return stale(conv, ctx)
        text, span = None, (picked, picked)
    else:
        text = event.text.strip()
        read = read_dates(text, ctx)
        if wait := not_now(event, "the date"):
            return stay(conv, ctx, wait)
        if read is None and (ahead := future_range(text, ctx)):
            return stay(conv, ctx, ahead)
        if read is None:
            return stay(
                conv,
                ctx,
                f"I couldn't read '{clip(text)}' as a date. Try 'yesterday', "
                "'last Tuesday', '3 March', '21/11', or '14-15 Nov' for several days.",
            )
        span = read
    if (named := outside_period(span, draft)) is not None:
        asked = which_days((named[1], named[2]), named[0], ctx.today)
        return Step(conv, (say(f"'{clip(text or '')}' is not one of those days."), asked))
    error = set_dates(draft, span[0], span[1], ctx, text)
    if error:
        return stay(conv, ctx, error)
    forget_days(draft)
    recounted = recount(draft, ctx)
    replies: list[Outgoing] = [say(recounted)] if recounted else []
    if draft.minutes is not None and minutes_error(draft.minutes, None, days_of(draft)):
        replies.append(say(f"{fmt.hours(draft.minutes)} does not fit those dates, so I've "
                           "left the hours out."))  # fmt: skip
        draft.minutes = None
    replies[:0] = got_it(draft, ctx)
    return advance(Conv(conv.state, replace_data(conv.data, draft=draft)), ctx, replies, text)


def _log_date_confirm(conv: Conv, event: Incoming, ctx: Context) -> Step:
    """A date in an earlier CPD year: yes (log it there), no (ask the date again), or
    another date typed at once."""
    draft = draft_copy(conv)
    if event.kind == Kind.CHOICE:
        answer = YEAR.parse(event.choice)
        if answer is None:
            return stale(conv, ctx)
        yes = answer == "yes"
    else:
        word = _YES_NO.match(event.text)
        if word is None:
            if read_dates(event.text.strip(), ctx) is not None:
                return _log_date(Conv(S.LOG_DATE, conv.data), event, ctx)
            return stay(conv, ctx, "Please answer yes or no, or type another date.")
        yes = norm(word.group(1)) in YES | {"ok"}
    if yes:
        draft.year_confirmed = True
    else:
        draft.activity_date, draft.end_date = None, None
    return advance(Conv(conv.state, replace_data(conv.data, draft=draft)), ctx, [])


def _log_hours(conv: Conv, event: Incoming, ctx: Context) -> Step:
    draft = draft_copy(conv)
    if event.kind == Kind.CHOICE:
        minutes: int | None = MINUTES.number(event.choice)
        if minutes is None:
            return stale(conv, ctx)
        text = None
    else:
        text = event.text.strip()
        if wait := not_now(event, "the hours"):
            return stay(conv, ctx, wait)
        minutes = range_bare_hours(text, days_of(draft))
        one = one_day_minutes(text, ctx)
        set_per_day(draft, one)
        minutes = minutes or parse_duration(text, day_minutes=day_minutes(ctx))
        minutes = one * days_of(draft) if one else minutes
    if minutes is None:
        return stay(
            conv,
            ctx,
            f"I couldn't read '{clip(text or '')}' as hours. "
            "Try 1.5h, 90m, 1h30, 'half day' or '1-2pm'.",
        )
    error = minutes_error(minutes, text, days_of(draft))
    if error:
        return stay(conv, ctx, error)
    draft.minutes = minutes
    replies = got_it(draft, ctx)
    return advance(Conv(conv.state, replace_data(conv.data, draft=draft)), ctx, replies)


def _log_category(conv: Conv, event: Incoming, ctx: Context) -> Step:
    category = category_from(event, ctx.scheme)
    if category is None:
        if event.kind != Kind.TEXT:
            return stale(conv, ctx)
        if wait := not_now(event, "the category"):
            return stay(conv, ctx, wait)
        typed = clip(event.text.strip())
        said = say(f"'{typed}' is not a category in {ctx.scheme.name}.")
        return Step(conv, (said, category_question(ctx, event.text)))
    draft = draft_copy(conv)
    draft.category, draft.category_guessed = None, False
    set_category(draft, category)
    return advance(Conv(conv.state, replace_data(conv.data, draft=draft)), ctx, got_it(draft, ctx))


def _change_category(conv: Conv, event: Incoming, ctx: Context) -> Step:
    """[Change category] under a guessed category: ask it, then go back to where we were."""
    draft = conv.data.draft
    if conv.state not in LOG_STATES or draft is None or not CHANGE_CATEGORY.parse(event.choice):
        return stale(conv, ctx)
    draft = draft_copy(conv)
    old = ctx.scheme.category(draft.category or "")
    if old is not None and old.structured is not None and draft.structured == old.structured:
        draft.structured, draft.structured_known = None, False  # the old category's default
    draft.category, draft.category_guessed = None, False
    nxt = Conv(S.LOG_CATEGORY, replace_data(conv.data, draft=draft))
    return Step(nxt, (prompt(nxt, ctx),))


def _log_structured(conv: Conv, event: Incoming, ctx: Context) -> Step:
    answer = yes_no(event)
    if answer is None:
        if event.kind == Kind.CHOICE:
            return stale(conv, ctx)
        wait = not_now(event, "whether it was structured")
        return stay(conv, ctx, wait or "Please answer yes (structured) or no (unstructured).")
    draft = draft_copy(conv)
    draft.structured, draft.structured_known = answer, True
    return advance(Conv(conv.state, replace_data(conv.data, draft=draft)), ctx, got_it(draft, ctx))


def _log_reflect(conv: Conv, event: Incoming, ctx: Context) -> Step:
    draft = draft_copy(conv)
    current = next((q for q in draft.questions if q not in draft.answers), None)
    if current is None:
        return advance(conv, ctx, [])
    kind, value = read_answer(event, ctx.scheme.question(current))
    if kind == "stale":
        return stale(conv, ctx)
    if kind == "bad":
        return stay(conv, ctx, value or "")
    if kind == "later":
        for q in draft.questions:
            draft.answers.setdefault(q, None)
    else:
        draft.answers[current] = value
    return advance(Conv(conv.state, replace_data(conv.data, draft=draft)), ctx, [])


def idle_input(conv: Conv, event: Incoming, ctx: Context) -> Step:
    """Not in a dialogue: an Undo button, or a one-line entry, or a pointer to /log."""
    if event.kind == Kind.CHOICE:
        number = UNDO.number(event.choice)
        if number is not None:
            return undo_last(conv, ctx, number)
        return stale(conv, ctx)
    quick = quick_of(event.text, ctx)
    if quick.minutes is not None and quick.title:
        return fill_from_line(conv, Draft(source="chat"), event.text, ctx, echo=True)
    return Step(
        conv,
        (
            say(
                "To record an activity, send /log (or a line like "
                f"'{ctx.scheme.example_log}'). /help lists the rest."
            ),
        ),
    )


def _prompt(conv: Conv, ctx: Context) -> Outgoing:
    draft = conv.data.draft or Draft()
    if conv.state == S.LOG_CATEGORY:
        return Outgoing("Which category?", category_choices(ctx.scheme))
    return with_change_button(_question(conv, draft, ctx), draft)


def _question(conv: Conv, draft: Draft, ctx: Context) -> Outgoing:
    state = conv.state
    if state == S.LOG_TITLE:
        return say(f"What did you do? A few words, e.g. '{ctx.scheme.example_activity}'.")
    if state == S.LOG_DATE:
        today = ctx.today
        return Outgoing(
            "When was it? (e.g. yesterday, last Tuesday, 3 March, 21/11, "
            "or '14-15 Nov' for several days)",
            (
                Choice(DATE.make(today.isoformat()), "Today"),
                Choice(DATE.make((today - timedelta(days=1)).isoformat()), "Yesterday"),
            ),
        )
    if state == S.LOG_DATE_CONFIRM:
        return year_question(draft, ctx)
    if state == S.LOG_HOURS and draft.end_date is not None:
        return range_hours_question(draft, ctx)
    if state == S.LOG_HOURS:
        return Outgoing(
            "How long did it take? (e.g. 1.5h, 90m, 1h30, 'half day', '1-2pm'; "
            "a bare number is hours up to 24, minutes above)",
            tuple(Choice(MINUTES.make(m), fmt.hours(m)) for m in HOUR_CHOICES),
            numeric_answer=True,
        )
    if state == S.LOG_STRUCTURED:
        return Outgoing(ctx.scheme.structured_question, structured_choices())
    return question_prompt(conv, ctx)


def _doing(conv: Conv) -> str:
    draft = conv.data.draft
    return f"logging '{draft.title}'" if draft and draft.title else "logging an activity"


def _cancel(conv: Conv, ctx: Context) -> str:
    return "Cancelled. Nothing was saved."


LOG = Command(
    "log",
    _log,
    help=(
        "/log — record an activity step by step\n"
        "/log 2h course on risk assessment yesterday — in one line; I ask only what is missing"
    ),
    help_rank=10,
    summary="Record a CPD activity",
    menu_rank=10,
    essential=True,
    busy=True,
    slashless=True,
)

FLOW = Flow(
    name="log",
    states=LOG_STATES,
    commands=(LOG,),
    transitions=(
        (S.IDLE, "/log (nothing parsed)", S.LOG_TITLE),
        (S.IDLE, "/log line without a date", S.LOG_DATE),
        (S.IDLE, "/log line without hours", S.LOG_HOURS),
        (S.IDLE, "/log line without a category", S.LOG_CATEGORY),
        (S.IDLE, "/log line, category without a default", S.LOG_STRUCTURED),
        (S.IDLE, "/log line with everything but reflections", S.LOG_REFLECT),
        (S.LOG_TITLE, "title", S.LOG_DATE),
        (S.LOG_TITLE, "title (date known)", S.LOG_HOURS),
        (S.LOG_TITLE, "title (date, hours known)", S.LOG_CATEGORY),
        (S.LOG_TITLE, "title (date, hours, category known)", S.LOG_STRUCTURED),
        (S.LOG_TITLE, "title (date, hours, category known)", S.LOG_REFLECT),
        (S.LOG_DATE, "date", S.LOG_HOURS),
        (S.LOG_DATE, "date (hours known)", S.LOG_CATEGORY),
        (S.LOG_DATE, "date (hours, category known)", S.LOG_STRUCTURED),
        (S.LOG_DATE, "date (hours, category known)", S.LOG_REFLECT),
        (S.LOG_HOURS, "hours", S.LOG_CATEGORY),
        (S.LOG_HOURS, "hours (category known)", S.LOG_STRUCTURED),
        (S.LOG_HOURS, "hours (category known)", S.LOG_REFLECT),
        (S.LOG_CATEGORY, "category without a default", S.LOG_STRUCTURED),
        (S.LOG_CATEGORY, "category", S.LOG_REFLECT),
        (S.LOG_STRUCTURED, "structured yes/no", S.LOG_REFLECT),
        (S.LOG_REFLECT, "last answer, skip or later: entry saved", S.IDLE),
        # Issue 13: a date in an earlier CPD year is asked about, never saved silently.
        (S.IDLE, "/log line dated in an earlier CPD year", S.LOG_DATE_CONFIRM),
        (S.LOG_TITLE, "title (date in an earlier CPD year)", S.LOG_DATE_CONFIRM),
        (S.LOG_DATE, "date in an earlier CPD year", S.LOG_DATE_CONFIRM),
        (S.LOG_DATE_CONFIRM, "No, another date (or a date refused)", S.LOG_DATE),
        (S.LOG_DATE_CONFIRM, "Yes, that year", S.LOG_HOURS),
        (S.LOG_DATE_CONFIRM, "Yes, that year (hours known)", S.LOG_CATEGORY),
        (S.LOG_DATE_CONFIRM, "Yes, that year (hours, category known)", S.LOG_STRUCTURED),
        (S.LOG_DATE_CONFIRM, "Yes, that year (hours, category known)", S.LOG_REFLECT),
        # A date that drops hours no longer fitting it asks them again.
        (S.LOG_DATE, "dates the hours do not fit", S.LOG_HOURS),
        # [Change category] under a category guessed from the title, then back.
        (S.LOG_DATE, "Change category", S.LOG_CATEGORY),
        (S.LOG_DATE_CONFIRM, "Change category", S.LOG_CATEGORY),
        (S.LOG_HOURS, "Change category", S.LOG_CATEGORY),
        (S.LOG_STRUCTURED, "Change category", S.LOG_CATEGORY),
        (S.LOG_REFLECT, "Change category", S.LOG_CATEGORY),
        (S.LOG_CATEGORY, "category changed: back to the date", S.LOG_DATE),
        (S.LOG_CATEGORY, "category changed: back to the year", S.LOG_DATE_CONFIRM),
        (S.LOG_CATEGORY, "category changed: back to the hours", S.LOG_HOURS),
    ),
    handlers={
        S.IDLE: idle_input,
        S.LOG_TITLE: _log_title,
        S.LOG_DATE: _log_date,
        S.LOG_DATE_CONFIRM: _log_date_confirm,
        S.LOG_HOURS: _log_hours,
        S.LOG_CATEGORY: _log_category,
        S.LOG_STRUCTURED: _log_structured,
        S.LOG_REFLECT: _log_reflect,
    },
    prompt=_prompt,
    doing=_doing,
    cancel=_cancel,
    buttons={CHANGE_CATEGORY.prefix: _change_category},
)
