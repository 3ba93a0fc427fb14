"""The HCPC CPD profile (issue 16): /profile picks the 4-6 activities of the two-year
registration period the statement draws on, takes the summary of recent work (live word
count), a statement per CPD standard (pre-filled from the picked activities' reflections)
and an explanation for each unexplained gap of three months or more. Every answer is kept
as it comes (/profile again resumes; /cancel keeps what was saved); /export hcpc lays it out.
"""

from __future__ import annotations

import re
from dataclasses import replace

from bot.core import hcpc
from bot.core import text as fmt
from bot.core.buttons import ButtonId, OptionId
from bot.core.evidence_index import member_name
from bot.core.model import (
    AddGapNote,
    Choice,
    Effect,
    FileRequest,
    Incoming,
    Kind,
    Outgoing,
    ProfileView,
    SaveProfile,
)
from bot.core.snapshot import Needs
from bot.dialogue.common import INPUT_MAX, clip, norm, say, stale, stay
from bot.dialogue.conversation import Context, Conv, Data, State, Step, replace_data
from bot.dialogue.flow import Command, Flow

S = State

PICK = ButtonId("profile_pick")  # profile_pick:<entry number>: picked or not
MOVE = OptionId("profile", ("more", "done", "keep"))
PAGE = 8  # activities per page of choices
GAP_TEXT_MAX = 500
MORE = "…continued"  # ends a part of a summary or statement sent in several messages
APPENDING = "more"  # Data.field while the parts of a summary or statement come in
NOT_HCPC = (
    "The HCPC CPD profile is for IPEM / HCPC registrants. Your record follows {name}: "
    "/export docx gives an editable Word record, /export pdf the full record. If you are "
    "also HCPC-registered, add IPEM with /settings bodies IPEM."
)


def _hcpc_member(ctx: Context) -> bool:
    ids = {ctx.scheme.id, *(b.scheme_id for b in ctx.snap.bodies)}
    return bool(ids & hcpc.SCHEMES)


def _profile(ctx: Context) -> ProfileView | None:
    return ctx.snap.profile


def hcpc_export(conv: Conv, ctx: Context) -> Step:
    """/export hcpc: the profile as DOCX, for IPEM/HCPC members (said plainly to others)."""
    if not _hcpc_member(ctx):
        return stay(conv, ctx, NOT_HCPC.format(name=ctx.scheme.name))
    profile = _profile(ctx)
    if profile is None:
        return stay(conv, ctx, "I couldn't load your profile just now; please try again.")
    todo = _missing(profile)
    text = (
        f"Your HCPC CPD profile ({fmt.short_day(profile.start)} – {fmt.short_day(profile.end)}), "
        "as Word: 1 summary of recent work, 2 statement of how you meet the five standards, "
        f"3 the {len(profile.entries)} activities of the two years with gaps flagged, "
        "4 the numbered evidence."
    )
    if todo:
        text += f" Still to do in /profile: {todo}."
    text += _who_missing(ctx) + _files_to_send(profile)
    failed = "I couldn't make the profile just now; please try /export hcpc again."
    return Step(conv, (Outgoing(text, file=FileRequest("hcpc", failed)),))


def _who_missing(ctx: Context) -> str:
    """How to put the member's name and HCPC registration number on the profile."""
    person, said = ctx.person, ""
    if not person.full_name:
        said += (
            "\nYour name is not on it: send /settings name and your name as on the HCPC "
            "Register (e.g. /settings name Sam Patel), then /export hcpc again."
        )
    if not person.membership_number:
        said += (
            "\nYour HCPC registration number is not on it: send /settings number and the "
            "number (e.g. /settings number CS12345), then /export hcpc again."
        )
    return said


def _files_to_send(profile: ProfileView) -> str:
    files = hcpc.separate_files(profile)
    if not files:
        return ""
    named = ", ".join(member_name(e).rpartition("/")[2] for e in files)
    return (
        f"\nPart 4 lists {len(files)} file{'' if len(files) == 1 else 's'} as enclosed "
        f"separately ({named}): send /export evidence for them, named by number, and "
        "send them with the profile."
    )


def _missing(profile: ProfileView) -> str:
    todo = []
    if not hcpc.PICK_MIN <= len(profile.entry_numbers) <= hcpc.PICK_MAX:
        todo.append("pick 4 to 6 activities")
    if not profile.summary:
        todo.append("the summary")
    if len([s for s in profile.standards if s]) < len(hcpc.STANDARDS):
        todo.append("the standards' statements")
    if any(not why for _, _, why in profile.gaps):
        todo.append("explain the gaps")
    return ", ".join(todo)


def _save(profile: ProfileView, **changes: object) -> tuple[ProfileView, SaveProfile]:
    new = replace(profile, **changes)  # type: ignore[arg-type]
    return new, SaveProfile(new.entry_numbers, new.summary, new.standards)


# ---------------------------------------------------------------- picking activities


def _pick_prompt(profile: ProfileView, page: int) -> Outgoing:
    newest = list(reversed(profile.entries))
    shown = newest[page * PAGE : (page + 1) * PAGE]
    picked = set(profile.entry_numbers)
    choices = [
        Choice(
            PICK.make(e.number),
            ("✓ " if e.number in picked else "")
            + f"#{e.number} {clip(e.title, 40)} ({fmt.short_day(e.activity_date)})",
        )
        for e in shown
    ]
    if len(newest) > (page + 1) * PAGE or page:
        choices.append(Choice(MOVE.make("more"), "More activities"))
    choices.append(Choice(MOVE.make("done"), "Done picking"))
    example = " ".join(str(e.number) for e in shown[: hcpc.PICK_MIN])
    text = (
        f"Pick {hcpc.PICK_MIN} to {hcpc.PICK_MAX} activities of the last two years for your "
        f"statement (picked: {len(picked)}"
        + (": " + ", ".join(f"#{n}" for n in profile.entry_numbers) if picked else "")
        + "). Tap one to pick or unpick it, or type their entry numbers, the # numbers "
        f"shown (e.g. {example}); then Done."
    )
    return Outgoing(text, tuple(choices))


def _pick_error(numbers: list[int], profile: ProfileView) -> str | None:
    known = {e.number for e in profile.entries}
    outside = [n for n in numbers if n not in known]
    if outside:
        return (
            f"#{outside[0]} is not one of your activities of the last two years "
            f"({fmt.short_day(profile.start)} – {fmt.short_day(profile.end)})."
        )
    if len(set(numbers)) != len(numbers):
        return "Each activity once, please."
    if not hcpc.PICK_MIN <= len(numbers) <= hcpc.PICK_MAX:
        return (
            f"That is {len(numbers)} activit{'y' if len(numbers) == 1 else 'ies'}: HCPC's "
            f"statement draws on {hcpc.PICK_MIN} to {hcpc.PICK_MAX}."
        )
    return None


def _pick(conv: Conv, event: Incoming, ctx: Context) -> Step:
    profile = _profile(ctx)
    if profile is None:
        return stay(conv, ctx, "I couldn't load your profile just now; please try again.")
    page = conv.data.target or 0
    if event.kind == Kind.CHOICE:
        number, move = PICK.number(event.choice), MOVE.parse(event.choice)
        if number is not None and number in {e.number for e in profile.entries}:
            picked = list(profile.entry_numbers)
            if number in picked:
                picked.remove(number)
            elif len(picked) >= hcpc.PICK_MAX:
                return stay(conv, ctx, f"You have picked {hcpc.PICK_MAX}: unpick one first.")
            else:
                picked.append(number)
            new, effect = _save(profile, entry_numbers=tuple(picked))
            return Step(conv, (_pick_prompt(new, page),), (effect,))
        if move == "more":
            pages = max(1, -(-len(profile.entries) // PAGE))
            nxt = Conv(conv.state, replace_data(conv.data, target=(page + 1) % pages))
            return Step(nxt, (_pick_prompt(profile, nxt.data.target or 0),))
        if move == "done":
            return _picked(conv, ctx, profile, list(profile.entry_numbers))
        return stale(conv, ctx)
    typed = norm(event.text)
    if typed in ("done", "next", "ok"):
        return _picked(conv, ctx, profile, list(profile.entry_numbers))
    numbers = [int(n) for n in re.findall(r"\d+", typed)]
    if not numbers or re.sub(r"[\d#,\s]|and", "", typed):
        example = " ".join(str(e.number) for e in list(reversed(profile.entries))[: hcpc.PICK_MIN])
        return stay(
            conv, ctx, f"Type the activities' numbers, the # numbers shown (e.g. {example})."
        )
    error = _pick_error(numbers, profile)
    if error:
        return stay(conv, ctx, error)
    new, effect = _save(profile, entry_numbers=tuple(numbers))
    return _picked(conv, ctx, new, numbers, (effect,))


def _picked(
    conv: Conv,
    ctx: Context,
    profile: ProfileView,
    numbers: list[int],
    effects: tuple[Effect, ...] = (),
) -> Step:
    error = _pick_error(numbers, profile)
    if error:
        return Step(conv, (say(error), _pick_prompt(profile, conv.data.target or 0)), effects)
    nxt = Conv(S.PROFILE_SUMMARY, Data(undo=conv.data.undo))
    by_number = {e.number: e for e in profile.entries}
    echo = "Picked " + ", ".join(f"#{n} '{clip(by_number[n].title, 60)}'" for n in numbers) + "."
    return Step(nxt, (say(echo), _summary_prompt(profile)), effects)


# ---------------------------------------------------------------- summary of recent work


def _summary_prompt(profile: ProfileView) -> Outgoing:
    text = (
        f"Part 1: the summary of your recent work, up to {hcpc.SUMMARY_WORDS} words: your "
        "role, what you do, and who your service users are. Send it as one message, or in "
        f"parts, each but the last ending with {MORE!r}."
    )
    choices: tuple[Choice, ...] = ()
    if profile.summary:
        count = hcpc.word_count(profile.summary)
        text += f"\nKept: {hcpc.words_line(count, hcpc.SUMMARY_WORDS)}. Keep it goes on."
        choices = (Choice(MOVE.make("keep"), "Keep it"),)
    return Outgoing(text, choices)


def _keeps(event: Incoming) -> bool:
    return (
        MOVE.parse(event.choice) == "keep"
        if event.kind == Kind.CHOICE
        else norm(event.text) in ("keep", "keep it")
    )


def _summary(conv: Conv, event: Incoming, ctx: Context) -> Step:
    profile = _profile(ctx)
    if profile is None:
        return stay(conv, ctx, "I couldn't load your profile just now; please try again.")
    if _keeps(event) and profile.summary:
        return _to_standard(conv, ctx, profile, 0)
    if event.kind != Kind.TEXT or not event.text.strip():
        return (
            stale(conv, ctx)
            if event.kind == Kind.CHOICE
            else stay(conv, ctx, "Send the summary as text.")
        )
    summary, more = _joined(conv, profile.summary, event.text.strip())
    new, effect = _save(profile, summary=summary)
    count = hcpc.word_count(summary)
    if more:
        return _more(conv, effect, f"Summary so far: {hcpc.words_line(count, hcpc.SUMMARY_WORDS)}")
    said = f"Summary kept: {hcpc.words_line(count, hcpc.SUMMARY_WORDS)}."
    if count > hcpc.SUMMARY_WORDS:
        said += " HCPC asks for 500 words at most: please send a shorter version (or Keep it)."
        return Step(_afresh(conv), (say(said), _summary_prompt(new)), (effect,))
    step = _to_standard(conv, ctx, new, 0)
    return Step(step.conv, (say(said), *step.replies), (effect, *step.effects))


def _joined(conv: Conv, kept: str, text: str) -> tuple[str, bool]:
    """The text so far (the kept one and this part, when parts are coming in) and whether
    more follows (this part ends with "…continued")."""
    part = hcpc.continued(text)
    said = text if part is None else part
    if conv.data.field == APPENDING and kept:
        said = f"{kept}\n\n{said}"
    return said, part is not None


def _afresh(conv: Conv) -> Conv:
    """The same step, the next message taken as a new text (not a further part)."""
    return Conv(conv.state, replace_data(conv.data, field=None))


def _more(conv: Conv, effect: Effect, so_far: str) -> Step:
    nxt = Conv(conv.state, replace_data(conv.data, field=APPENDING))
    note = f"{so_far}. Send the next part (ending it with {MORE!r} if more follows)."
    return Step(nxt, (say(note),), (effect,))


# ---------------------------------------------------------------- the five standards


def _suggested(profile: ProfileView, ctx: Context) -> tuple[str, ...]:
    if len(profile.standards) == len(hcpc.STANDARDS):
        return profile.standards
    by_number = {e.number: e for e in profile.entries}
    picked = [by_number[n] for n in profile.entry_numbers if n in by_number]
    return hcpc.prefill(picked, ctx.scheme, len(profile.entries))


def _statement_words(standards: tuple[str, ...]) -> int:
    return sum(hcpc.word_count(s) for s in standards)


def _standard_prompt(profile: ProfileView, index: int, suggestion: str) -> Outgoing:
    count = _statement_words(profile.standards)
    text = (
        f"Part 2, standard {index + 1} of {len(hcpc.STANDARDS)}: {hcpc.STANDARDS[index]}.\n"
        f"Suggested (from your activities):\n{suggestion}\n"
        f"Send your statement for it (in parts if long, ending each but the last with {MORE!r}), "
        f"or Keep it. The whole statement: {hcpc.words_line(count, hcpc.STATEMENT_WORDS)}."
    )
    return Outgoing(text, (Choice(MOVE.make("keep"), "Keep it"),))


def _to_standard(conv: Conv, ctx: Context, profile: ProfileView, index: int) -> Step:
    nxt = Conv(S.PROFILE_STANDARD, Data(undo=conv.data.undo, target=index))
    return Step(nxt, (_standard_prompt(profile, index, _suggested(profile, ctx)[index]),))


def _standard(conv: Conv, event: Incoming, ctx: Context) -> Step:
    profile = _profile(ctx)
    if profile is None:
        return stay(conv, ctx, "I couldn't load your profile just now; please try again.")
    index = conv.data.target or 0
    standards = list(_suggested(profile, ctx))
    more = False
    if _keeps(event):
        said = standards[index]
    elif event.kind == Kind.TEXT and event.text.strip():
        said, more = _joined(conv, standards[index], event.text.strip())
    elif event.kind == Kind.CHOICE:
        return stale(conv, ctx)
    else:
        return stay(conv, ctx, "Send the statement as text, or Keep it.")
    standards[index] = said
    new, effect = _save(profile, standards=tuple(standards))
    count = _statement_words(new.standards)
    if more:
        words = hcpc.words_line(count, hcpc.STATEMENT_WORDS)
        return _more(conv, effect, f"Standard {index + 1} so far; the statement: {words}")
    note = (
        f"Standard {index + 1} kept. The statement: {hcpc.words_line(count, hcpc.STATEMENT_WORDS)}."
    )
    if count > hcpc.STATEMENT_WORDS:
        note += " HCPC asks for 1,500 words at most: please send a shorter version of this one."
        return Step(_afresh(conv), (say(note), _standard_prompt(new, index, said)), (effect,))
    if index + 1 < len(hcpc.STANDARDS):
        return Step(
            Conv(S.PROFILE_STANDARD, Data(undo=conv.data.undo, target=index + 1)),
            (say(note), _standard_prompt(new, index + 1, standards[index + 1])),
            (effect,),
        )
    step = _to_gap(conv, new, 0)
    return Step(step.conv, (say(note), *step.replies), (effect,))


# ---------------------------------------------------------------- gaps of 3+ months


def _gap_prompt(profile: ProfileView, index: int) -> Outgoing:
    first, last, _ = profile.gaps[index]
    days = (last - first).days + 1
    return Outgoing(
        f"Part 3 flags gaps of three months or more. From {fmt.short_day(first)} to "
        f"{fmt.short_day(last)} ({days} days) there is no activity: why (e.g. parental "
        "leave, long-term illness)? Or skip to leave it unexplained.",
        (Choice(MOVE.make("done"), "Skip"),),
    )


def _to_gap(conv: Conv, profile: ProfileView, start: int) -> Step:
    later = [i for i, (_, _, why) in enumerate(profile.gaps) if not why and i >= start]
    if not later:
        return Step(Conv(S.IDLE, Data(undo=conv.data.undo)), (_finished(profile),))
    nxt = Conv(S.PROFILE_GAP, Data(undo=conv.data.undo, target=later[0]))
    return Step(nxt, (_gap_prompt(profile, later[0]),))


def _gap(conv: Conv, event: Incoming, ctx: Context) -> Step:
    profile = _profile(ctx)
    index = conv.data.target or 0
    if profile is None or index >= len(profile.gaps):
        return Step(Conv(S.IDLE, Data(undo=conv.data.undo)), (say("Your profile is kept."),))
    skip = (
        MOVE.parse(event.choice) == "done"
        if event.kind == Kind.CHOICE
        else norm(event.text) == "skip"
    )
    if skip:
        return _to_gap(conv, profile, index + 1)
    if event.kind != Kind.TEXT or not event.text.strip():
        return (
            stale(conv, ctx) if event.kind == Kind.CHOICE else stay(conv, ctx, "Say why as text.")
        )
    why = event.text.strip()
    if len(why) > GAP_TEXT_MAX:
        return stay(conv, ctx, f"Please keep the reason under {GAP_TEXT_MAX} characters.")
    first, last, _ = profile.gaps[index]
    gaps = list(profile.gaps)
    gaps[index] = (first, last, why)
    step = _to_gap(conv, replace(profile, gaps=tuple(gaps)), index + 1)
    said = say(f"Gap explained: {fmt.short_day(first)} – {fmt.short_day(last)}: {_end(why)}")
    return Step(step.conv, (said, *step.replies), (AddGapNote(first, last, why),))


def _end(text: str) -> str:
    """`text` as the end of a sentence: one full stop, not two."""
    return text if text[-1:] in ".!?…" else text + "."


def _finished(profile: ProfileView) -> Outgoing:
    todo = _missing(profile)
    text = "Your HCPC profile is kept. /export hcpc makes it as a Word file."
    if todo:
        text += f" Still to do: {todo} (/profile again)."
    return Outgoing(text)


# ---------------------------------------------------------------- the command


def _start(conv: Conv, args: str, ctx: Context) -> Step:
    if not _hcpc_member(ctx):
        return stay(conv, ctx, NOT_HCPC.format(name=ctx.scheme.name))
    profile = _profile(ctx)
    if profile is None:
        return stay(conv, ctx, "I couldn't load your profile just now; please try again.")
    if len(profile.entries) < hcpc.PICK_MIN:
        return stay(
            conv,
            ctx,
            f"The profile's statement draws on {hcpc.PICK_MIN} to {hcpc.PICK_MAX} activities "
            f"of the last two years; you have {len(profile.entries)}. /log some first.",
        )
    nxt = Conv(S.PROFILE_PICK, Data(undo=conv.data.undo, target=0))
    return Step(nxt, (_pick_prompt(profile, 0),))


def _prompt(conv: Conv, ctx: Context) -> Outgoing:
    profile = _profile(ctx) or ProfileView()
    index = conv.data.target or 0
    if conv.state == S.PROFILE_PICK:
        return _pick_prompt(profile, index)
    if conv.state == S.PROFILE_SUMMARY:
        return _summary_prompt(profile)
    if conv.state == S.PROFILE_STANDARD:
        return _standard_prompt(profile, index, _suggested(profile, ctx)[index])
    if index < len(profile.gaps):
        return _gap_prompt(profile, index)
    return _finished(profile)


def input_max(state: State) -> int:
    """The longest message read in `state`: a whole statement or summary in the profile's."""
    return hcpc.TEXT_MAX if state in (S.PROFILE_SUMMARY, S.PROFILE_STANDARD) else INPUT_MAX


def _needs(conv: Conv, event: Incoming, need: Needs) -> Needs:
    return replace(need, profile=True, bodies=True)


FLOW = Flow(
    name="profile",
    states=(S.PROFILE_PICK, S.PROFILE_SUMMARY, S.PROFILE_STANDARD, S.PROFILE_GAP),
    commands=(
        Command(
            "profile",
            _start,
            needs=lambda args: Needs(profile=True, bodies=True),
            help="/profile — (IPEM/HCPC) the HCPC CPD profile: pick 4–6 activities, write the "
            "summary and a\n  statement per standard, explain gaps (/export hcpc makes it)",
            help_rank=115,
            busy=True,  # listed for every body: IPEM may be a member's second body
        ),
    ),
    transitions=(
        (S.IDLE, "/profile", S.PROFILE_PICK),
        (S.PROFILE_PICK, "4-6 activities picked", S.PROFILE_SUMMARY),
        (S.PROFILE_SUMMARY, "summary sent or kept", S.PROFILE_STANDARD),
        (S.PROFILE_STANDARD, "five statements kept, a gap unexplained", S.PROFILE_GAP),
        (S.PROFILE_STANDARD, "five statements kept, no gap to explain", S.IDLE),
        (S.PROFILE_GAP, "every gap explained or skipped", S.IDLE),
    ),
    handlers={
        S.PROFILE_PICK: _pick,
        S.PROFILE_SUMMARY: _summary,
        S.PROFILE_STANDARD: _standard,
        S.PROFILE_GAP: _gap,
    },
    prompt=_prompt,
    doing=lambda conv: "your HCPC CPD profile (/profile)",
    cancel=lambda conv, ctx: "Stopped. What you gave so far is kept: /profile goes on from there.",
    needs=_needs,
)
