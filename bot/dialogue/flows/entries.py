"""Changing saved entries: /edit N (any field, and its reflections), /delete N (asks
first) and /undo (or an Undo button) for the last save, edit or delete."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from datetime import date
from typing import Any

from bot.core import text as fmt
from bot.core.buttons import ButtonId
from bot.core.model import (
    Choice,
    DeleteEntry,
    EntryView,
    Incoming,
    Kind,
    Outgoing,
    ReflectionView,
    RestoreEntry,
    UpdateEntry,
)
from bot.core.schemes import Scheme
from bot.core.snapshot import Needs
from bot.dialogue.common import (
    REFLECTION,
    answer_choices,
    category_choices,
    entry_number,
    no_entry,
    norm,
    question_text,
    say,
    stale,
    stay,
    structured_choices,
    yes_no,
)
from bot.dialogue.conversation import Context, Conv, Data, State, Step, Undo, replace_data
from bot.dialogue.flow import Command, Flow, prompt
from bot.dialogue.flows.entry_changes import ONE_DAY_FIELD, Ask, change_of, one_day_prompt

S = State

UNDO = ButtonId("undo")  # undo:<entry number>
DELETE = ButtonId("del")  # del:yes:<entry number> (Delete) | del:no (Keep)
FIELD = ButtonId("field")  # field:<field> | field:r:<question id> | field:done


def _delete_choices(number: int | None) -> tuple[Choice, Choice]:
    return Choice(DELETE.make(f"yes:{number}"), "Delete"), Choice(DELETE.make("no"), "Keep")


def _delete_answer(choice: str, number: int) -> bool | None:
    """Delete (True) or Keep (False) for entry `number`; None for any other button."""
    value = DELETE.parse(choice)
    return True if value == f"yes:{number}" else False if value == "no" else None


def undo_last(conv: Conv, ctx: Context, number: int | None) -> Step:
    undo = conv.data.undo
    if undo is None or (number is not None and undo.number != number):
        text = (
            "There is nothing to undo."
            if number is None
            else (
                f"That Undo button belongs to an earlier action. "
                f"/delete {number} removes #{number}."
            )
        )
        return Step(conv, (replace(say(text), refused_press=number is not None),))
    data = Data()
    if undo.kind == "saved":
        return Step(
            Conv(S.IDLE, data),
            (say(f"Undone: #{undo.number} '{undo.title}' removed."),),
            (DeleteEntry(undo.number),),
        )
    if undo.kind == "deleted":
        return Step(
            Conv(S.IDLE, data),
            (say(f"Undone: #{undo.number} '{undo.title}' is back."),),
            (RestoreEntry(undo.number),),
        )
    refl = tuple(
        ReflectionView(q, question_text(ctx.scheme, q), a)
        for q, a in undo.previous_reflections.items()
    )
    fields = {k: _field_value(k, v) for k, v in undo.previous.items()}
    return Step(
        Conv(S.IDLE, data),
        (say(f"Undone: #{undo.number} is as it was before the edit."),),
        (UpdateEntry(undo.number, fields, refl),),
    )


def _field_value(key: str, value: Any) -> Any:
    """A field as it was before an edit (dates kept as ISO text; end_date None: one day)."""
    if key in ("activity_date", "end_date") and isinstance(value, str):
        return date.fromisoformat(value)
    return value


def _named_entry(conv: Conv, args: str, ctx: Context, command: str) -> EntryView | Step:
    """The person's live entry that `/command N` names, or the reply saying what is wrong."""
    if entry_number(args) is None:
        return stay(conv, ctx, f"Which entry? For example /{command} 12 (/list shows the numbers).")
    entry = ctx.snap.entry
    if entry is None or entry.deleted:
        return stay(conv, ctx, no_entry(args))
    return entry


def _delete(conv: Conv, args: str, ctx: Context) -> Step:
    entry = _named_entry(conv, args, ctx, "delete")
    if isinstance(entry, Step):
        return entry
    nxt = Conv(S.DELETE_CONFIRM, Data(target=entry.number, undo=conv.data.undo))
    return Step(nxt, (_prompt_delete(entry, ctx),))


def _prompt_delete(entry: EntryView, ctx: Context) -> Outgoing:
    return Outgoing(
        f"Delete {fmt.entry_line(entry, ctx.scheme, ctx.today)}?",
        _delete_choices(entry.number),
    )


def _delete_confirm(conv: Conv, event: Incoming, ctx: Context) -> Step:
    number = conv.data.target
    assert number is not None
    if event.kind == Kind.CHOICE:
        yes: bool | None = _delete_answer(event.choice, number)
        if yes is None:
            return stale(conv, ctx)
    else:
        yes = yes_no(event)
        if norm(event.text) in ("delete", "keep"):
            yes = norm(event.text) == "delete"
    if yes is None:
        return stay(conv, ctx, "Please answer Delete or Keep.")
    if not yes:
        return Step(Conv(S.IDLE, Data(undo=conv.data.undo)), (say(f"Kept #{number}."),))
    undo = Undo(kind="deleted", number=number, title=f"#{number}")
    return Step(
        Conv(S.IDLE, Data(undo=undo)),
        (Outgoing(f"Deleted #{number}.", (Choice(UNDO.make(number), "Undo"),)),),
        (DeleteEntry(number),),
    )


EDIT_FIELDS = {
    "title": "Title",
    "date": "Date",
    "end_date": "Last day",  # always offered (none: one day), so the numbers never move
    "hours": "Hours",
    "category": "Category",
    "structured": "Structured?",
}


def _edit(conv: Conv, args: str, ctx: Context) -> Step:
    entry = _named_entry(conv, args, ctx, "edit")
    if isinstance(entry, Step):
        return entry
    nxt = Conv(S.EDIT_FIELD, Data(target=entry.number, undo=conv.data.undo))
    return Step(nxt, (prompt(nxt, ctx),))


def _edit_choices(entry: EntryView, scheme: Scheme, undo: Undo | None = None) -> tuple[Choice, ...]:
    """The fields in a fixed order for the entry (a typed number always means the same
    field), then Undo once this /edit has changed something."""
    fields = [k for k in EDIT_FIELDS if k != "structured" or scheme.track_structured]
    choices = [Choice(FIELD.make(k), EDIT_FIELDS[k]) for k in fields]
    for i, r in enumerate(entry.reflections, 1):
        choices.append(Choice(FIELD.make(f"r:{r.question_id}"), f"Reflection {i}"))
    choices.append(Choice(FIELD.make("done"), "Done"))
    if undo is not None and undo.kind == "edited" and undo.number == entry.number:
        choices.append(Choice(UNDO.make(entry.number), "Undo"))
    return tuple(choices)


def _edit_field(conv: Conv, event: Incoming, ctx: Context) -> Step:
    entry = ctx.snap.entry
    if entry is None or entry.deleted:
        return Step(
            Conv(S.IDLE, Data(undo=conv.data.undo)), (say(no_entry(str(conv.data.target))),)
        )
    if event.kind == Kind.CHOICE:
        if UNDO.parse(event.choice) is not None:
            return undo_last(conv, ctx, UNDO.number(event.choice))
        picked = FIELD.parse(event.choice)
        if picked is None:
            return stale(conv, ctx)
        key = picked
    else:
        key = _edit_key(event.text, entry)
    if key == "undo":
        return undo_last(conv, ctx, None)
    if key == "done":
        return Step(
            Conv(S.IDLE, Data(undo=conv.data.undo)), (say(f"Done editing #{entry.number}."),)
        )
    valid = {FIELD.parse(c.id) for c in _edit_choices(entry, ctx.scheme)}
    if key not in valid:
        return stay(conv, ctx, "Please pick the field to change, or Done.")
    nxt = Conv(S.EDIT_VALUE, replace_data(conv.data, field=key))
    return Step(nxt, (prompt(nxt, ctx),))


def _edit_key(text: str, entry: EntryView) -> str:
    word = norm(text)
    aliases = {
        "name": "title",
        "when": "date",
        "day": "date",
        "dates": "date",
        "last day": "end_date",
        "end": "end_date",
        "end date": "end_date",
        "time": "hours",
        "duration": "hours",
        "minutes": "hours",
        "hour": "hours",
        "structured?": "structured",
        "finished": "done",
        "stop": "done",
        "undo": "undo",
    }
    word = aliases.get(word, word)
    match = re.fullmatch(r"reflection ?(\d+)", word)
    if match and 1 <= int(match.group(1)) <= len(entry.reflections):
        return f"r:{entry.reflections[int(match.group(1)) - 1].question_id}"
    return word


def _apply_view(
    entry: EntryView, fields: Mapping[str, object], refl: tuple[ReflectionView, ...]
) -> EntryView:
    changed = replace(entry, **fields)  # type: ignore[arg-type]
    if refl:
        new = {r.question_id: r for r in refl}
        changed = replace(
            changed, reflections=tuple(new.get(r.question_id, r) for r in entry.reflections)
        )
    return changed


def _edit_prompt(entry: EntryView, ctx: Context, undo: Undo | None) -> Outgoing:
    lines = [
        f"#{entry.number} {entry.title}",
        f"Date: {fmt.day_span(entry.activity_date, entry.end_date, ctx.today)} · "
        f"Hours: {fmt.hours(entry.minutes)} · "
        f"Category: {fmt.category_label(ctx.scheme, entry.category)}"
        + (f" · {fmt.structured_label(entry.structured)}" if ctx.scheme.track_structured else ""),
    ]
    for i, r in enumerate(entry.reflections, 1):
        lines.append(f"Reflection {i}: {r.question}\n  → {r.answer or '(pending)'}")
    lines.append("What would you like to change?")
    return Outgoing("\n".join(lines), _edit_choices(entry, ctx.scheme, undo))


def _edit_value_prompt(key: str, ctx: Context) -> Outgoing:
    entry = ctx.snap.entry
    if key == "category":
        return Outgoing("New category?", category_choices(ctx.scheme))
    if key == "structured":
        return Outgoing(
            ctx.scheme.structured_question,
            structured_choices(),
        )
    if key.startswith(ONE_DAY_FIELD):
        return one_day_prompt(key[len(ONE_DAY_FIELD) :], entry, ctx)
    if key.startswith("r:"):
        refl = (
            next((r for r in entry.reflections if r.question_id == key[2:]), None)
            if entry
            else None
        )
        question = ctx.scheme.question(key[2:])
        text = refl.question if refl else (question.text if question else key[2:])
        later = Choice(REFLECTION.make("later"), "Later")
        return Outgoing(f"{text}\nType your new answer:", (*answer_choices(question), later))
    examples = {
        "title": "the new title",
        "date": "the new date (e.g. 3 March), or the days of a multi-day activity (14-15 Nov)",
        "end_date": "the last day (e.g. 15 Nov), or none to make it a one-day entry",
        "hours": "the new hours (e.g. 1.5h)",
    }
    if key == "end_date" and entry is not None and entry.end_date is None:
        return say(
            f"#{entry.number} is a one-day entry (last day: none). Type its last day to make "
            "it a multi-day activity (e.g. 15 Nov), or none to keep it one day."
        )
    return say(f"Type {examples.get(key, 'the new value')}.")


# ---------------------------------------------------------------- a new value for one field


def _edit_value(conv: Conv, event: Incoming, ctx: Context) -> Step:
    entry = ctx.snap.entry
    key = conv.data.field or ""
    if entry is None or entry.deleted:
        return Step(
            Conv(S.IDLE, Data(undo=conv.data.undo)), (say(no_entry(str(conv.data.target))),)
        )
    back = Conv(S.EDIT_FIELD, replace_data(conv.data, field=None))
    change = change_of(key, event, entry, ctx)
    if change is None:
        return stale(conv, ctx)
    if isinstance(change, str):
        return stay(conv, ctx, change)
    if isinstance(change, Ask):
        ask = Conv(S.EDIT_VALUE, replace_data(conv.data, field=change.field))
        return Step(ask, (prompt(ask, ctx),))
    if not change.fields and not change.refl:  # nothing to change: back to the fields
        return Step(back, (say(change.said), _edit_prompt(entry, ctx, back.data.undo)))
    undo = Undo(
        kind="edited",
        number=entry.number,
        title=entry.title,
        previous=change.previous,
        previous_reflections=change.prev_refl,
    )
    if conv.data.undo and conv.data.undo.kind == "edited" and conv.data.undo.number == entry.number:
        # Several edits in one /edit session undo together, back to the entry as it was.
        earlier = conv.data.undo
        undo = Undo(
            kind="edited",
            number=entry.number,
            title=entry.title,
            previous={**change.previous, **earlier.previous},
            previous_reflections={**change.prev_refl, **earlier.previous_reflections},
        )
    nxt = Conv(S.EDIT_FIELD, replace_data(back.data, undo=undo))
    updated = _apply_view(entry, change.fields, change.refl)
    reply = say(f"Updated #{entry.number}: {change.said}.")
    return Step(
        nxt,
        (reply, _edit_prompt(updated, ctx, undo)),
        (UpdateEntry(entry.number, change.fields, change.refl),),
    )


# ---------------------------------------------------------------- the flow


def _prompt(conv: Conv, ctx: Context) -> Outgoing:
    entry = ctx.snap.entry
    if conv.state == S.DELETE_CONFIRM:
        if entry is not None:
            return _prompt_delete(entry, ctx)
        return Outgoing(f"Delete #{conv.data.target}?", _delete_choices(conv.data.target))
    if conv.state == S.EDIT_FIELD:
        return _edit_prompt(entry, ctx, conv.data.undo) if entry else say("Pick a field to change.")
    return _edit_value_prompt(conv.data.field or "", ctx)


def _doing(conv: Conv) -> str:
    if conv.state == S.DELETE_CONFIRM:
        return f"deleting #{conv.data.target}"
    return f"editing #{conv.data.target}"


def _cancel(conv: Conv, ctx: Context) -> str:
    if conv.state == S.DELETE_CONFIRM:
        return "Cancelled. Nothing was changed."
    return f"Stopped editing #{conv.data.target}. Changes already confirmed are kept."


def _needs(conv: Conv, event: Incoming, need: Needs) -> Needs:
    """Editing reads the entry being edited, whatever the event."""
    if conv.state in (S.EDIT_FIELD, S.EDIT_VALUE) and conv.data.target:
        return Needs(entry_number=conv.data.target)
    return need


def _by_number(args: str) -> Needs:
    return Needs(entry_number=entry_number(args))


def _undo_command(conv: Conv, args: str, ctx: Context) -> Step:
    return undo_last(conv, ctx, None)


FLOW = Flow(
    name="entries",
    states=(S.DELETE_CONFIRM, S.EDIT_FIELD, S.EDIT_VALUE),
    commands=(
        Command(
            "edit",
            _edit,
            needs=_by_number,
            help="/edit 12 — change entry #12 (any field, and its reflections)",
            help_rank=40,
            summary="Change an entry, e.g. /edit 12",
            menu_rank=40,
            essential=True,
            busy=True,
        ),
        Command(
            "delete",
            _delete,
            needs=_by_number,
            help="/delete 12 — delete entry #12 (asks first)",
            help_rank=50,
            summary="Delete an entry, e.g. /delete 12",
            menu_rank=50,
            busy=True,
        ),
        Command(
            "undo",
            _undo_command,
            help="/undo — undo the last save, edit or delete",
            help_rank=60,
            summary="Undo the last save, edit or delete",
            menu_rank=60,
            busy=True,
            also_in=(S.EDIT_FIELD, S.EDIT_VALUE),  # undoes this /edit's changes
            slashless=True,
        ),
    ),
    transitions=(
        (S.IDLE, "/delete N", S.DELETE_CONFIRM),
        (S.DELETE_CONFIRM, "delete or keep", S.IDLE),
        (S.IDLE, "/edit N", S.EDIT_FIELD),
        (S.EDIT_FIELD, "field chosen", S.EDIT_VALUE),
        (S.EDIT_FIELD, "done", S.IDLE),
        (S.EDIT_VALUE, "valid value: entry updated", S.EDIT_FIELD),
    ),
    handlers={
        S.DELETE_CONFIRM: _delete_confirm,
        S.EDIT_FIELD: _edit_field,
        S.EDIT_VALUE: _edit_value,
    },
    prompt=_prompt,
    doing=_doing,
    cancel=_cancel,
    needs=_needs,
)
