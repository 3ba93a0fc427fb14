"""Logging an activity: /log step by step, or a one-line entry read at once and only the
missing parts asked (title, date, hours, category, structured?, reflections), then saved.
A one-line entry typed when idle is logged the same way."""

from __future__ import annotations

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
from bot.core.parsing import QuickEntry, parse_date, parse_duration, parse_quick
from bot.core.schemes import Category, Scheme
from bot.dialogue.common import (
    CATEGORY,
    NO,
    YES,
    category_choices,
    category_from,
    clip,
    date_error,
    draft_copy,
    match_category,
    minutes_error,
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

S = State

HOUR_CHOICES = (30, 60, 90, 120, 180, 420)
DATE = ButtonId("date")  # date:<ISO date>
MINUTES = ButtonId("min")  # min:<minutes>
LOG_STATES = (S.LOG_TITLE, S.LOG_DATE, S.LOG_HOURS, S.LOG_CATEGORY, S.LOG_STRUCTURED, S.LOG_REFLECT)


def _log(conv: Conv, args: str, ctx: Context) -> Step:
    draft = Draft(source="chat")
    if not args.strip():
        nxt = Conv(S.LOG_TITLE, Data(draft=draft, undo=conv.data.undo))
        return Step(nxt, (prompt(nxt, ctx),))
    return fill_from_line(Conv(S.IDLE, Data(undo=conv.data.undo)), draft, args, ctx, echo=True)


def fill_from_line(conv: Conv, draft: Draft, line: str, ctx: Context, *, echo: bool) -> Step:
    """Read a one-line entry into the draft, then ask for the first thing still missing."""
    quick = parse_quick(
        line, today=ctx.today, date_order=ctx.date_order, languages=ctx.person.languages
    )
    problems = _read_line(draft, quick, ctx) + _read_hints(draft, quick.category_hints, ctx)
    replies: list[Outgoing] = []
    if echo:
        got = understood(draft, ctx)
        if got:
            replies.append(say("Got it: " + got))
    if problems:
        replies.append(say(" ".join(problems)))
    return advance(Conv(conv.state, replace_data(conv.data, draft=draft)), ctx, replies)


def _read_line(draft: Draft, quick: QuickEntry, ctx: Context) -> list[str]:
    """Title, date and hours of a one-line entry into the draft; what was wrong with them."""
    problems: list[str] = []
    title = quick.title
    if title is not None:
        error = title_error(title)
        if error:
            problems.append(error)
        else:
            draft.title = title
    if quick.activity_date is not None:
        error = date_error(quick.activity_date, ctx, quick.date_text)
        if error:
            problems.append(error)
        else:
            draft.activity_date = quick.activity_date
    if quick.minutes is not None:
        error = minutes_error(quick.minutes, quick.duration_text)
        if error:
            problems.append(error)
        else:
            draft.minutes = quick.minutes
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
            problems.append(f"I don't know the category #{hint} in {ctx.scheme.name}.")
        else:
            set_category(draft, category)
    return problems


def understood(draft: Draft, ctx: Context) -> str:
    parts: list[str] = []
    if draft.title:
        parts.append(f"'{draft.title}'")
    if draft.activity_date:
        parts.append(fmt.day(draft.activity_date, ctx.today))
    if draft.minutes:
        parts.append(fmt.hours(draft.minutes))
    if draft.category:
        parts.append(fmt.category_label(ctx.scheme, draft.category))
    if draft.structured_known and ctx.scheme.track_structured:
        parts.append(fmt.structured_label(draft.structured))
    return " · ".join(parts)


def set_category(draft: Draft, category: Category) -> None:
    draft.category = category.id
    if not draft.structured_known and category.structured is not None:
        draft.structured = category.structured
        draft.structured_known = True


def _next_missing(draft: Draft, scheme: Scheme) -> State | None:
    if not draft.title:
        return S.LOG_TITLE
    if draft.activity_date is None:
        return S.LOG_DATE
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


def advance(conv: Conv, ctx: Context, replies: list[Outgoing]) -> Step:
    """Move to the first thing still missing, or save the entry when nothing is."""
    draft = conv.data.draft
    assert draft is not None
    missing = _next_missing(draft, ctx.scheme)
    if missing is None:
        return save_entry(conv, draft, ctx, replies)
    nxt = Conv(missing, conv.data)
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
    )
    pending = sum(r.answer is None for r in reflections)
    text = (
        f"Saved #{number}: {draft.title} · {fmt.day(draft.activity_date, ctx.today)} · "
        f"{fmt.hours(draft.minutes)} · {fmt.category_label(scheme, draft.category)}."
    )
    if pending:
        text += f" {pending} reflection{'s' if pending > 1 else ''} left for later: /reflect."
    undo = Undo(kind="saved", number=number, title=draft.title)
    reply = Outgoing(text, (Choice(UNDO.make(number), "Undo"),))
    effects: tuple[Effect, ...] = (effect,)
    if draft.occurrence is not None:
        effects += (DecideOccurrence(draft.occurrence, "logged", entry_number=number),)
    return Step(Conv(S.IDLE, Data(undo=undo)), (*replies, reply), effects)


def _log_title(conv: Conv, event: Incoming, ctx: Context) -> Step:
    if event.kind != Kind.TEXT or not event.text.strip():
        return stay(conv, ctx, "Please type what you did, in a few words.")
    # The answer to "What did you do?" is the title, all of it: no hours, date or #category
    # is taken out of it ('Course on the 24h rule' keeps its 24h). The one-line /log reads them.
    error = title_error(event.text)
    if error:
        return stay(conv, ctx, error)
    draft = (conv.data.draft or Draft()).model_copy()
    draft.title = tidy(event.text)
    return advance(Conv(conv.state, replace_data(conv.data, draft=draft)), ctx, [])


def _log_date(conv: Conv, event: Incoming, ctx: Context) -> Step:
    draft = draft_copy(conv)
    if event.kind == Kind.CHOICE:
        value = DATE.parse(event.choice)
        if value is None:
            return stale(conv, ctx)
        try:
            picked = date.fromisoformat(value)
        except ValueError:
            return stale(conv, ctx)
        text = None
    else:
        text = event.text.strip()
        parsed = parse_date(
            text, today=ctx.today, date_order=ctx.date_order, languages=ctx.person.languages
        )
        if parsed is None:
            return stay(
                conv,
                ctx,
                f"I couldn't read '{clip(text)}' as a date. Try "
                "'yesterday', 'last Tuesday', '3 March' or '21/11'.",
            )
        picked = parsed
    error = date_error(picked, ctx, text)
    if error:
        return stay(conv, ctx, error)
    draft.activity_date = picked
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
        minutes = parse_duration(text)
    if minutes is None:
        return stay(
            conv,
            ctx,
            f"I couldn't read '{clip(text or '')}' as hours. "
            "Try 1.5h, 90m, 1h30 or '1 hour 30 minutes'.",
        )
    error = minutes_error(minutes, text)
    if error:
        return stay(conv, ctx, error)
    draft.minutes = minutes
    return advance(Conv(conv.state, replace_data(conv.data, draft=draft)), ctx, [])


def _log_category(conv: Conv, event: Incoming, ctx: Context) -> Step:
    category = category_from(event, ctx.scheme)
    if category is None:
        shown = event.text
        if event.kind == Kind.CHOICE:
            picked = CATEGORY.parse(event.choice)
            if picked is None:
                return stale(conv, ctx)
            shown = picked
        return stay(
            conv,
            ctx,
            f"'{clip(shown.strip())}' is not a category in "
            f"{ctx.scheme.name}. Please pick one of these.",
        )
    draft = draft_copy(conv)
    set_category(draft, category)
    return advance(Conv(conv.state, replace_data(conv.data, draft=draft)), ctx, [])


def _log_structured(conv: Conv, event: Incoming, ctx: Context) -> Step:
    answer = yes_no(event)
    if answer is None:
        if event.kind == Kind.CHOICE:
            return stale(conv, ctx)
        return stay(conv, ctx, "Please answer yes (structured) or no (unstructured).")
    draft = draft_copy(conv)
    draft.structured, draft.structured_known = answer, True
    return advance(Conv(conv.state, replace_data(conv.data, draft=draft)), ctx, [])


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
    quick = parse_quick(
        event.text, today=ctx.today, date_order=ctx.date_order, languages=ctx.person.languages
    )
    if quick.minutes is not None and quick.title:
        return fill_from_line(conv, Draft(source="chat"), event.text, ctx, echo=True)
    return Step(
        conv,
        (
            say(
                "To record an activity, send /log (or a line like "
                "'1.5h webinar on arc-flash safety yesterday'). /help lists the rest."
            ),
        ),
    )


def _prompt(conv: Conv, ctx: Context) -> Outgoing:
    state = conv.state
    if state == S.LOG_TITLE:
        return say("What did you do? A few words, e.g. 'Webinar on arc-flash safety'.")
    if state == S.LOG_DATE:
        today = ctx.today
        return Outgoing(
            "When was it? (e.g. yesterday, last Tuesday, 3 March, 21/11)",
            (
                Choice(DATE.make(today.isoformat()), "Today"),
                Choice(DATE.make((today - timedelta(days=1)).isoformat()), "Yesterday"),
            ),
        )
    if state == S.LOG_HOURS:
        return Outgoing(
            "How long did it take? (e.g. 1.5h, 90m, 1h30; "
            "a bare number is hours up to 24, minutes above)",
            tuple(Choice(MINUTES.make(m), fmt.hours(m)) for m in HOUR_CHOICES),
            numeric_answer=True,
        )
    if state == S.LOG_CATEGORY:
        return Outgoing("Which category?", category_choices(ctx.scheme))
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
        "/log 1.5h webinar on arc-flash yesterday #events — in one line; I ask only what is "
        "missing"
    ),
    help_rank=10,
    summary="Record a CPD activity",
    menu_rank=10,
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
    ),
    handlers={
        S.IDLE: idle_input,
        S.LOG_TITLE: _log_title,
        S.LOG_DATE: _log_date,
        S.LOG_HOURS: _log_hours,
        S.LOG_CATEGORY: _log_category,
        S.LOG_STRUCTURED: _log_structured,
        S.LOG_REFLECT: _log_reflect,
    },
    prompt=_prompt,
    doing=_doing,
    cancel=_cancel,
)
