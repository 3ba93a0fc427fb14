"""The one-screen entry form (a Slack modal): the same rules as logging in the chat, every
field checked at once, errors per field."""

from __future__ import annotations

from datetime import date

from bot.core.model import Choice, FormField, Incoming, Outgoing
from bot.core.parsing import parse_date, parse_duration
from bot.core.schemes import Scheme
from bot.dialogue.common import (
    REFLECTION_MAX,
    TITLE_MAX,
    date_error,
    day_minutes,
    match_category,
    minutes_error,
    tidy,
    title_error,
)
from bot.dialogue.conversation import Context, Conv, Draft, State, Step, replace_data
from bot.dialogue.flows.log import save_entry, set_category
from bot.dialogue.flows.log_steps import days_of, set_dates

S = State


def entry_form(scheme: Scheme) -> tuple[FormField, ...]:
    """The one-screen entry form (Slack modal) for a scheme: same rules as the dialogue."""
    fields = [
        FormField(
            "title",
            "Activity",
            "text",
            placeholder=scheme.example_activity,
            max_length=TITLE_MAX,
        ),
        FormField("date", "Date", "date"),
        FormField("hours", "Hours", "hours", placeholder="1.5h, 90m or 1h30", max_length=30),
        FormField(
            "category",
            "Category",
            "select",
            options=tuple(Choice(c.id, c.label) for c in scheme.categories),
        ),
        # After the four every entry has (forms already filled in keep their places).
        FormField("end_date", "Last day (multi-day)", "date", required=False),
    ]
    if scheme.track_structured:
        fields.append(
            FormField(
                "structured",
                "Structured?",
                "select",
                required=False,
                options=(Choice("yes", "Structured"), Choice("no", "Unstructured")),
            )
        )
    for q in scheme.asked_questions():
        fields.append(
            FormField(
                f"r:{q.id}",
                q.text,
                "longtext",
                required=False,
                placeholder="Leave empty to answer later",
                max_length=REFLECTION_MAX,
            )
        )
    return tuple(fields)


def submit_form(conv: Conv, event: Incoming, ctx: Context) -> Step:
    """A submitted entry form: every field checked at once, errors per field, or saved."""
    values = {k: (v or "").strip() for k, v in event.form.items()}
    errors: dict[str, str] = {}
    draft = Draft(source="form")
    _read_when(draft, values, ctx, errors)
    _read_what(draft, values, ctx.scheme, errors)
    if errors:
        return Step(conv, (Outgoing("Please correct the highlighted fields.", errors=errors),))
    saved = save_entry(Conv(S.IDLE, conv.data), draft, ctx, [])
    # A form leaves any dialogue in progress where it was; only the undo target moves.
    return Step(
        Conv(conv.state, replace_data(conv.data, undo=saved.conv.data.undo)),
        saved.replies,
        saved.effects,
    )


def _read_when(draft: Draft, values: dict[str, str], ctx: Context, errors: dict[str, str]) -> None:
    """Title, dates and hours into the draft, or their errors."""
    title = values.get("title", "")
    error = title_error(title)
    if error:
        errors["title"] = error
    else:
        draft.title = tidy(title)
    day = _form_date(values.get("date", ""), ctx)
    if day is None:
        errors["date"] = "Please pick the date of the activity."
    elif error := date_error(day, ctx, None):
        errors["date"] = error
    else:
        draft.activity_date = day
    _read_last_day(draft, values.get("end_date", ""), ctx, errors)
    minutes = parse_duration(values.get("hours", ""), day_minutes=day_minutes(ctx))
    if minutes is None:
        errors["hours"] = "Hours look like 1.5h, 90m, 1h30 or 'half day'."
    elif error := minutes_error(minutes, values.get("hours"), days_of(draft)):
        errors["hours"] = error
    else:
        draft.minutes = minutes


def _read_last_day(draft: Draft, written: str, ctx: Context, errors: dict[str, str]) -> None:
    """The optional last day of a multi-day activity: on or after the first, not to come."""
    if not written:
        return
    last = _form_date(written, ctx)
    if last is None:
        errors["end_date"] = "Please pick the last day, or leave it empty for one day."
    elif draft.activity_date is not None:
        error = set_dates(draft, draft.activity_date, last, ctx, None)
        if error:
            errors["end_date"] = error.replace("When did it take place?", "").strip()


def _form_date(written: str, ctx: Context) -> date | None:
    try:
        return date.fromisoformat(written)
    except ValueError:
        if not written:
            return None
        return parse_date(
            written, today=ctx.today, date_order=ctx.date_order, languages=ctx.person.languages
        )


def _read_what(
    draft: Draft, values: dict[str, str], scheme: Scheme, errors: dict[str, str]
) -> None:
    """Category, structured? and reflections into the draft, or their errors."""
    category = scheme.category(values.get("category", "")) or match_category(
        scheme, values.get("category", "")
    )
    if category is None:
        errors["category"] = "Please choose a category."
    else:
        set_category(draft, category)
    if scheme.track_structured:
        answer = {"yes": True, "no": False}.get(values.get("structured", ""))
        if answer is not None:
            draft.structured, draft.structured_known = answer, True
        elif not draft.structured_known:
            errors["structured"] = "Please say whether it was structured learning."
    draft.questions = [q.id for q in scheme.asked_questions()]
    for q in draft.questions:
        answer_text = " ".join(values.get(f"r:{q}", "").split())
        if len(answer_text) > REFLECTION_MAX:
            errors[f"r:{q}"] = f"Please keep this under {REFLECTION_MAX:,} characters."
        draft.answers[q] = answer_text or None
