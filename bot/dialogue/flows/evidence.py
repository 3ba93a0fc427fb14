"""Evidence (issue 16): files and links kept with entries.

A file sent in any state is stored before the step (the engine, `Needs.receive`), so what
is said here is what was kept: filed with the entry named in its caption ('/attach 12' or
'12') or asked for by /attach N; kept for the entry being logged (filed with it when it is
saved, `with_draft_files`); filed with the entry saved in the last 30 minutes (said, with
[Undo] and [Another entry]); or kept waiting while the member picks the entry. /evidence
lists and sends back; removing asks first. A PDF certificate's facts are offered for one
tap ([Use these] / [Log it]), never applied without it.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date

from bot.core import text as fmt
from bot.core.model import (
    AttachLink,
    Choice,
    Effect,
    EntryView,
    EvidenceView,
    FileEvidence,
    FileRequest,
    Incoming,
    Kind,
    Outgoing,
    RemoveEvidence,
    SaveEntry,
    UpdateEntry,
)
from bot.core.snapshot import RECEIVE_LATEST, RECEIVE_WAIT, Facts, Needs
from bot.dialogue.common import TITLE_MAX, clip, norm, say, stale, stay
from bot.dialogue.conversation import Context, Conv, Data, Draft, State, Step, Undo, replace_data
from bot.dialogue.flow import Command, Flow, prompt
from bot.dialogue.flows.evidence_text import (
    EV,
    changes_from,
    deleted_note,
    described,
    entry_name,
    facts_text,
    link_problem,
    proposal,
)
from bot.dialogue.flows.log import LOG_STATES, advance

S = State

RECENT = 5  # entries offered as choices for a file waiting for one
_CAPTION = re.compile(r"^\s*(?:/?attach(?:@\w+)?\s+)?#?(\d{1,6})\s*$", re.IGNORECASE)
_NUMBER = re.compile(r"^#?(\d{1,6})$")
_LABEL = re.compile(r"^e?(\d{1,7})$", re.IGNORECASE)
# Typed without a slash (or after Slack's /cpd), these are the commands only with these
# arguments: 'evidence 12', 'attach 12 https://…'; 'Evidence based practice 2h' is logged.
_EVIDENCE_SHAPE = re.compile(r"(?:#?\d{1,6}|remove\s+e?\d{1,7})?", re.IGNORECASE)
_ATTACH_SHAPE = re.compile(r"(?:#?\d{1,6}(?:\s+https?://\S+)?)?", re.IGNORECASE)
ATTACH_HOW = (
    "To keep evidence with an entry, send the file (a PDF or a photo) with the caption "
    "'/attach 12' (12 being the entry's number), or send /attach 12 and then the file. "
    "'/attach 12 https://…' keeps a link. /list shows your entries' numbers."
)


# ---------------------------------------------------------------- what is loaded


def caption_entry(event: Incoming) -> int | None:
    """The entry a file's caption names: '/attach 12', '#12' or '12'."""
    found = _CAPTION.match(event.text or "")
    return int(found.group(1)) if found else None


def needs(conv: Conv, event: Incoming, need: Needs) -> Needs:
    """A file (stored before the step: where to) or one of the evidence buttons."""
    if event.kind == Kind.FILE:
        target = caption_entry(event)
        if target is None and conv.state == S.EVIDENCE_FILE and conv.data.target:
            target = conv.data.target
        if target is None:
            target = RECEIVE_WAIT if conv.state in LOG_STATES else RECEIVE_LATEST
        return replace(need, receive=target, recent=max(need.recent, RECENT))
    if conv.state in LOG_STATES and conv.data.draft is not None and conv.data.draft.evidence:
        need = replace(need, waiting=True)  # named if the draft is cancelled
    typed = _which_number(conv, event)
    if typed is not None:
        return replace(need, entry_number=typed, evidence=0, waiting=True)
    parsed = EV.parse(event.choice) if event.kind == Kind.CHOICE else None
    if parsed is None:
        return need
    action, key = parsed
    number, _, entry = key.partition("-")
    need = replace(need, evidence=0, waiting=True)
    if entry.isdigit():
        need = replace(need, entry_number=int(entry))
    if action == "move":
        need = replace(need, recent=max(need.recent, RECENT))
    if action in ("use", "logit") and number.isdigit():
        need = replace(need, certificate=int(number))
    return need


def _find(ctx: Context, number: int) -> EvidenceView | None:
    pieces = (*ctx.snap.evidence, *ctx.snap.waiting)
    return next((v for v in pieces if v.number == number), None)


def _live(ctx: Context, number: int) -> EntryView | None:
    entry = ctx.snap.entry
    return entry if entry is not None and entry.number == number and not entry.deleted else None


def _no_entry(number: int) -> str:
    return f"You have no entry #{number} (or it was deleted). /list shows your entries."


# ---------------------------------------------------------------- a file arrives


def receive(conv: Conv, event: Incoming, ctx: Context) -> Step:
    """A file the member sent, already stored (or refused) by the engine: say what became
    of it; the dialogue under way carries on where it was."""
    if not ctx.person.onboarded:
        return stay(conv, ctx, "Let's finish setting you up first; then send the file again.")
    got = ctx.snap.received
    if got is None:
        return stay(conv, ctx, "I couldn't keep that file. Nothing was attached.")
    if got.missing:
        return stay(conv, ctx, _no_entry(got.missing) + " The file was not kept.")
    if got.view is None:
        return stay(conv, ctx, got.refused or "I couldn't keep that file.")
    view = got.view
    if got.entry is not None:
        return _filed(conv, view, got.entry, got.latest, got.facts, ctx, got.match)
    if conv.state in LOG_STATES and conv.data.draft is not None:
        draft = conv.data.draft.model_copy(
            update={"evidence": [*conv.data.draft.evidence, view.number]}
        )
        nxt = Conv(conv.state, replace_data(conv.data, draft=draft))
        text = (
            f"Got it: {described(view)}. I'll file it with this entry when it is saved "
            "(/cancel leaves it waiting)."
        )
        return Step(nxt, (say(text), prompt(nxt, ctx)))
    return _ask_which(conv, view, got.facts, ctx, got.match)


def _filed(
    conv: Conv,
    view: EvidenceView,
    entry: EntryView,
    latest: bool,
    facts: Facts | None,
    c: Context,
    match: EntryView | None = None,
) -> Step:
    text = f"Filed with {entry_name(entry)} as {described(view)}."
    choices: tuple[Choice, ...] = ()
    if latest:
        text += " (It's the entry you saved just now; to file it elsewhere, press Another entry.)"
        choices = (
            Choice(EV.make("undo", view.number), "Undo"),
            Choice(EV.make("move", view.number), "Another entry"),
        )
    replies = [Outgoing(text, choices), *proposal(view, entry, facts, c, match)]
    nxt = Conv(S.IDLE, Data(undo=conv.data.undo, parked=conv.data.parked))
    if conv.state != S.EVIDENCE_FILE:
        nxt = conv
        if conv.state != S.IDLE:
            replies.append(prompt(conv, c))
    return Step(nxt, tuple(replies))


def _ask_which(
    conv: Conv, view: EvidenceView, facts: Facts | None, ctx: Context, match: EntryView | None
) -> Step:
    offered = proposal(view, None, facts, ctx, match)
    replies = [_which(view, ctx, conv.state == S.IDLE), *offered]
    if conv.state != S.IDLE:
        replies.append(prompt(conv, ctx))
    return Step(_asked(conv, view), tuple(replies))


def _asked(conv: Conv, view: EvidenceView) -> Conv:
    """Idle, the entry's number typed next answers "Which entry is this for?" about `view`."""
    if conv.state != S.IDLE:
        return conv
    return Conv(conv.state, replace_data(conv.data, which=view.number))


def _which(view: EvidenceView, ctx: Context, idle: bool = False) -> Outgoing:
    entries = [e for e in ctx.snap.recent if not e.deleted][:RECENT]
    kept = f"I've kept {described(view)}"
    if not entries:
        return say(
            f"{kept}, waiting for an entry: you have none yet. Log the activity with /log, "
            f"then send /attach N (N its number) to file {view.label} with it."
        )
    choices = tuple(
        Choice(EV.make("file", f"{view.number}-{e.number}"), clip(f"#{e.number} {e.title}", 40))
        for e in entries
    )
    other = "type its number, e.g. 12" if idle else "send /attach N"
    return Outgoing(f"Which entry is this for? {kept} until you choose (or {other}).", choices)


def _which_number(conv: Conv, event: Incoming) -> int | None:
    """The entry number typed ('12', '#12') just after "Which entry is this for?"."""
    if conv.state != S.IDLE or not conv.data.which or event.kind != Kind.TEXT:
        return None
    found = _NUMBER.match(event.text.strip())
    return int(found.group(1)) if found else None


def which_answer(conv: Conv, event: Incoming, ctx: Context, command: str) -> Step | None:
    """'12' or '#12' typed after "Which entry is this for?": that file filed with #12."""
    number = _which_number(conv, event)
    view = _find(ctx, conv.data.which or 0) if number is not None and not command else None
    if number is None or view is None:
        return None
    entry = _live(ctx, number)
    if entry is None:
        return stay(conv, ctx, _no_entry(number) + f" {view.label} is still waiting.")
    answered = Conv(conv.state, replace_data(conv.data, which=None))
    return _file(answered, view, entry, ctx)


# ---------------------------------------------------------------- buttons


def button(conv: Conv, event: Incoming, ctx: Context) -> Step:
    """The evidence buttons, pressed in any state."""
    parsed = EV.parse(event.choice)
    if parsed is None:
        return stale(conv, ctx)
    action, key = parsed
    first, _, second = key.partition("-")
    if not first.isdigit() or (second and not second.isdigit()):
        return stale(conv, ctx)
    number, entry_no = int(first), int(second) if second else 0
    if action in ("rm", "keep"):
        return _confirm(conv, action == "rm", number, ctx)
    view = _find(ctx, number)
    if view is None:
        return stale(conv, ctx)
    if action == "mine":
        return stay(conv, ctx, "OK, nothing was changed.")
    if action == "undo":
        text = f"Removed {described(view)}; nothing else changed."
        return _keep_going(conv, ctx, (say(text),), (RemoveEvidence(number),))
    if action == "move":
        return _keep_going(_asked(conv, view), ctx, (_which(view, ctx, conv.state == S.IDLE),), ())
    if action == "logit":
        return _log_it(conv, view, ctx)
    entry = _live(ctx, entry_no)
    if entry is None:
        return stay(conv, ctx, _no_entry(entry_no))
    if action == "use":
        return _use(conv, view, entry, ctx)
    return _file(conv, view, entry, ctx)


def _keep_going(
    conv: Conv, ctx: Context, replies: tuple[Outgoing, ...], effects: tuple[Effect, ...]
) -> Step:
    """Replies in any state: the question under way asked again after them."""
    asked = (prompt(conv, ctx),) if conv.state != S.IDLE else ()
    return Step(conv, (*replies, *asked), effects)


def _file(conv: Conv, view: EvidenceView, entry: EntryView, ctx: Context) -> Step:
    if view.entry_number == entry.number:
        return stay(conv, ctx, f"{view.label} is already filed with {entry_name(entry)}.")
    same = next(
        (
            v
            for v in ctx.snap.evidence
            if v.entry_number == entry.number and v.sha256 and v.sha256 == view.sha256
        ),
        None,
    )
    if same is not None:
        text = f"{entry_name(entry)} already has that file as {same.label}; nothing was moved."
        return stay(conv, ctx, text)
    moved = f" (moved from #{view.entry_number})" if view.entry_number else ""
    text = f"Filed {described(view)} with {entry_name(entry)}{moved}."
    return _keep_going(conv, ctx, (say(text),), (FileEvidence(view.number, entry.number),))


def _use(conv: Conv, view: EvidenceView, entry: EntryView, ctx: Context) -> Step:
    facts = ctx.snap.facts
    changes = changes_from(entry, facts, ctx.today) if facts is not None else {}
    if not changes:
        return stay(conv, ctx, f"{entry_name(entry)} already says what the certificate says.")
    previous = {k: getattr(entry, k) for k in changes}
    previous = {k: v.isoformat() if isinstance(v, date) else v for k, v in previous.items()}
    undo = Undo(kind="edited", number=entry.number, title=entry.title, previous=previous)
    shown = {
        "title": lambda v: f"title '{v}'",
        "activity_date": lambda v: f"date {fmt.day(v)}",
        "minutes": lambda v: f"hours {fmt.hours(v)}",
    }
    said = ", ".join(shown[k](v) for k, v in changes.items())
    text = f"Updated #{entry.number} from the certificate: {said}. /undo puts it back."
    nxt = Conv(conv.state, replace_data(conv.data, undo=undo))
    return _keep_going(nxt, ctx, (say(text),), (UpdateEntry(entry.number, changes),))


def _log_it(conv: Conv, view: EvidenceView, ctx: Context) -> Step:
    facts = ctx.snap.facts
    if conv.state != S.IDLE:
        return stay(conv, ctx, "Finish (or /cancel) what we are doing first, then press Log it.")
    if facts is None or view.entry_number:
        return stale(conv, ctx)
    day = facts.activity_date if facts.activity_date and facts.activity_date <= ctx.today else None
    minutes = facts.minutes if facts.minutes and 0 < facts.minutes <= 24 * 60 else None
    title = clip(facts.title.strip(), TITLE_MAX) if facts.title else None
    draft = Draft(
        title=title, activity_date=day, minutes=minutes, source="chat", evidence=[view.number]
    )
    start = Conv(S.LOG_TITLE, Data(draft=draft, undo=conv.data.undo, parked=conv.data.parked))
    said = say(f"Logging it from the certificate ({facts_text(facts)}); {view.label} goes with it.")
    return advance(start, ctx, [said])


# ---------------------------------------------------------------- a saved draft's files


def with_draft_files(start: Conv, event: Incoming, result: Step, ctx: Context) -> Step:
    """After every step: the draft just saved had files waiting for it: filed with the new
    entry, said in the Saved line; a draft given up (/cancel) with files: what becomes of
    them said. "Which entry is this for?" is answered by the next message only (a number
    that is no entry of theirs keeps it open)."""
    which = result.conv.data.which
    if which is not None and which == start.data.which and _which_number(start, event) is None:
        conv = Conv(result.conv.state, replace_data(result.conv.data, which=None))
        result = replace(result, conv=conv)
    draft = start.data.draft
    if draft is None or not draft.evidence:
        return result
    saved = next((e for e in result.effects if isinstance(e, SaveEntry)), None)
    if saved is None:
        return _left_waiting(draft.evidence, result, ctx)
    labels = ", ".join(f"E{n}" for n in draft.evidence)
    head = f"Saved #{saved.number}"
    replies = tuple(
        replace(r, text=f"{r.text} Filed with it: {labels}.") if r.text.startswith(head) else r
        for r in result.replies
    )
    filed = tuple(FileEvidence(n, saved.number) for n in draft.evidence)
    return Step(result.conv, replies, (*result.effects, *filed))


def _left_waiting(numbers: list[int], result: Step, ctx: Context) -> Step:
    """A draft with files given up (not saved, nor put aside): they stay waiting; said."""
    conv = result.conv
    drafts = [conv.data.draft, *conv.data.parked] if conv.data.draft else conv.data.parked
    kept = {n for d in drafts for n in d.evidence}
    left = [n for n in numbers if n not in kept]
    if not left or conv.state != S.IDLE:
        return result
    views = {v.number: v for v in ctx.snap.waiting}
    names = [f"{views[n].name} ({views[n].label})" if n in views else f"E{n}" for n in left]
    them = "it" if len(left) == 1 else "them"
    files = "/attach N files it" if len(left) == 1 else "/attach N files the latest"
    stays = "stays" if len(left) == 1 else "stay"
    note = f"{' and '.join(names)} {stays} waiting: /evidence shows {them}, {files}."
    return Step(conv, (*result.replies, say(note)), result.effects)


# ---------------------------------------------------------------- /attach


def _attach_needs(args: str) -> Needs:
    head = args.split(maxsplit=1)[0] if args.split() else ""
    found = _NUMBER.match(head)
    if found is None:
        return Needs()
    number = int(found.group(1))
    return Needs(entry_number=number, evidence=number, waiting=True)


def _attach(conv: Conv, args: str, ctx: Context) -> Step:
    words = args.split()
    if not words:
        return stay(conv, ctx, ATTACH_HOW)
    found = _NUMBER.match(words[0])
    if found is None or len(words) > 2:
        return stay(conv, ctx, "I didn't follow that. " + ATTACH_HOW)
    entry = _live(ctx, int(found.group(1)))
    if entry is None:
        return stay(conv, ctx, _no_entry(int(found.group(1))))
    if len(words) == 2:
        return _link(conv, entry, words[1], ctx)
    if ctx.snap.waiting:
        view = ctx.snap.waiting[-1]
        return _file(conv, view, entry, ctx)
    nxt = Conv(S.EVIDENCE_FILE, Data(target=entry.number, undo=conv.data.undo))
    nxt = Conv(nxt.state, replace_data(nxt.data, parked=conv.data.parked))
    return Step(nxt, (prompt(nxt, ctx),))


def _link(conv: Conv, entry: EntryView, url: str, ctx: Context) -> Step:
    problem = link_problem(url)
    if problem is not None:
        return stay(conv, ctx, problem + " Nothing was attached.")
    if any(v.kind == "link" and (v.url or v.name) == url for v in ctx.snap.evidence):
        return stay(conv, ctx, f"{entry_name(entry)} already has that link.")
    number = ctx.person.last_evidence_number + 1
    text = (
        f"Kept the link with {entry_name(entry)} as E{number}. /evidence {entry.number} lists it."
    )
    idle = Conv(S.IDLE, Data(undo=conv.data.undo, parked=conv.data.parked))
    return Step(idle, (say(text),), (AttachLink(entry.number, url, number),))


def _evidence_file(conv: Conv, event: Incoming, ctx: Context) -> Step:
    """Waiting for the file for #target: a link typed is kept as link evidence."""
    line = event.text.strip()
    entry = _live(ctx, conv.data.target or 0)
    if event.kind == Kind.TEXT and line.lower().startswith(("http://", "https://")) and entry:
        return _link(conv, entry, line, ctx)
    return stay(conv, ctx, "I'm waiting for a file (or a link).")


# ---------------------------------------------------------------- /evidence


def _evidence_needs(args: str) -> Needs:
    words = args.split()
    if len(words) == 1 and _NUMBER.match(words[0]):
        number = int(words[0].lstrip("#"))
        return Needs(entry_number=number, evidence=number)
    return Needs(evidence=0, waiting=True)


def _evidence(conv: Conv, args: str, ctx: Context) -> Step:
    words = args.split()
    if not words:
        return stay(conv, ctx, _overview(conv, ctx))
    if len(words) == 2 and words[0].lower() == "remove" and _LABEL.match(words[1]):
        number = int(words[1].lstrip("eE"))
        if conv.state != S.IDLE:
            return stay(conv, ctx, "Finish (or /cancel) what we are doing first.")
        view = _find(ctx, number)
        if view is None and 0 < number <= ctx.person.last_evidence_number:
            gone = f"E{number} was removed; numbers are never reused. /evidence lists yours."
            return stay(conv, ctx, gone)
        if view is None:
            return stay(conv, ctx, f"You have no E{number}. /evidence lists yours.")
        nxt = Conv(S.EVIDENCE_REMOVE, replace_data(Data(target=number), undo=conv.data.undo))
        return Step(nxt, (prompt(nxt, ctx),))
    if len(words) == 1 and _NUMBER.match(words[0]):
        return _of_entry(conv, int(words[0].lstrip("#")), ctx)
    usage = (
        "/evidence lists the entries with evidence; /evidence 12 shows and sends #12's; "
        "/evidence remove E3 removes E3 (it asks first)."
    )
    return stay(conv, ctx, usage)


def _overview(conv: Conv, ctx: Context) -> str:
    """Every entry's evidence (a deleted entry's too, marked: it is kept with it, as
    /evidence N shows it), then the files waiting for an entry."""
    by_entry: dict[int, list[EvidenceView]] = {}
    for view in ctx.snap.evidence:
        by_entry.setdefault(view.entry_number, []).append(view)
    lines = [
        f"#{number}: "
        + ", ".join(f"{v.label} {clip(v.name, 40)}" for v in pieces)
        + (f" ({deleted_note(conv, number)})" if number in ctx.snap.deleted else "")
        for number, pieces in sorted(by_entry.items())
    ]
    if ctx.snap.waiting:
        waiting = ", ".join(f"{v.label} {clip(v.name, 40)}" for v in ctx.snap.waiting)
        lines.append(f"Waiting for an entry: {waiting} (/attach N files the latest)")
    if not lines:
        return "No evidence kept yet. " + ATTACH_HOW
    return "Evidence kept:\n" + "\n".join(lines) + "\n/evidence N shows an entry's, with the files."


def _of_entry(conv: Conv, number: int, ctx: Context) -> Step:
    entry = ctx.snap.entry if ctx.snap.entry and ctx.snap.entry.number == number else None
    pieces = [v for v in ctx.snap.evidence if v.entry_number == number]
    if entry is None or (entry.deleted and not pieces):
        return stay(conv, ctx, _no_entry(number))
    if not pieces:
        return stay(conv, ctx, f"{entry_name(entry)} has no evidence yet. " + ATTACH_HOW)
    lines = [f"{described(v)}, received {fmt.short_day(v.received_at.date())}" for v in pieces]
    gone = f" ({deleted_note(conv, number)})" if entry.deleted else ""
    head = Outgoing(f"Evidence of {entry_name(entry)}{gone}:\n" + "\n".join(lines))
    files = tuple(
        Outgoing(
            f"{v.label}: {v.name}",
            file=FileRequest(f"evidence:{v.number}", f"I couldn't read {v.label} just now."),
        )
        for v in pieces
        if v.kind == "file"
    )
    return _keep_going(conv, ctx, (head, *files), ())


def _remove_prompt(conv: Conv, ctx: Context) -> Outgoing:
    number = conv.data.target or 0
    return Outgoing(
        f"Remove {_named(ctx, number)}? This cannot be undone.",
        (Choice(EV.make("rm", number), "Remove"), Choice(EV.make("keep", number), "Keep")),
    )


def _confirm(conv: Conv, remove: bool, number: int, ctx: Context) -> Step:
    if conv.state != S.EVIDENCE_REMOVE or conv.data.target != number:
        return stale(conv, ctx)
    idle = Conv(S.IDLE, Data(undo=conv.data.undo, parked=conv.data.parked))
    if not remove:
        return Step(idle, (say(f"Kept E{number}. Nothing was removed."),))
    return Step(idle, (say(f"Removed {_named(ctx, number)}."),), (RemoveEvidence(number),))


def _named(ctx: Context, number: int) -> str:
    """'E4 cert.pdf from #2' ('E4' when it is not loaded)."""
    view = _find(ctx, number)
    if view is None:
        return f"E{number}"
    return f"E{number} {view.name}" + (f" from #{view.entry_number}" if view.entry_number else "")


def _evidence_remove(conv: Conv, event: Incoming, ctx: Context) -> Step:
    answer = norm(event.text)
    if answer in ("remove", "yes", "y"):
        return _confirm(conv, True, conv.data.target or 0, ctx)
    if answer in ("keep", "no", "n"):
        return _confirm(conv, False, conv.data.target or 0, ctx)
    return stay(conv, ctx, "Remove or Keep?")


def _prompt(conv: Conv, ctx: Context) -> Outgoing:
    if conv.state == S.EVIDENCE_REMOVE:
        return _remove_prompt(conv, ctx)
    return say(
        f"Send the file for #{conv.data.target} now (a PDF or a photo), or a link. /cancel stops."
    )


def _state_needs(conv: Conv, event: Incoming, need: Needs) -> Needs:
    if conv.state == S.EVIDENCE_REMOVE:
        return replace(need, evidence=0, waiting=True)
    number = conv.data.target
    if need.entry_number is None and number:
        return replace(need, entry_number=number, evidence=number)
    return need


FLOW = Flow(
    name="evidence",
    states=(S.EVIDENCE_FILE, S.EVIDENCE_REMOVE),
    commands=(
        Command(
            "attach",
            _attach,
            needs=_attach_needs,
            help="/attach 12 — keep a file (send it next) or a link with #12: "
            "'/attach 12 https://…'",
            help_rank=72,
            summary="Keep a certificate or link with an entry",
            menu_rank=72,
            busy=True,
            slashless=True,
            shape=lambda args: bool(_ATTACH_SHAPE.fullmatch(args)),
        ),
        Command(
            "evidence",
            _evidence,
            needs=_evidence_needs,
            help="/evidence [12] — the evidence kept (#12's, files sent back); /evidence remove E3",
            help_rank=73,
            summary="The evidence kept with your entries",
            menu_rank=73,
            slashless=True,
            shape=lambda args: bool(_EVIDENCE_SHAPE.fullmatch(args)),
        ),
    ),
    transitions=(
        (S.IDLE, "/attach N", S.EVIDENCE_FILE),
        (S.EVIDENCE_FILE, "a file or a link", S.IDLE),
        (S.IDLE, "/evidence remove EN", S.EVIDENCE_REMOVE),
        (S.EVIDENCE_REMOVE, "Remove or Keep", S.IDLE),
    ),
    handlers={S.EVIDENCE_FILE: _evidence_file, S.EVIDENCE_REMOVE: _evidence_remove},
    prompt=_prompt,
    doing=lambda conv: "keeping evidence",
    cancel=lambda conv, ctx: "Cancelled. Nothing was attached or removed.",
    needs=_state_needs,
    buttons={"ev": button},
)
