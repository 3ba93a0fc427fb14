"""Record views, read-only: /status, /list, /export, /review, and the Slack App Home."""

from __future__ import annotations

from datetime import date, timedelta

from bot.core import text as fmt
from bot.core.buttons import command_button
from bot.core.model import Attachment, Choice, FileRequest, Outgoing, YearSummary
from bot.core.notices import expected_by
from bot.core.plan import review, review_text
from bot.core.record import EARLIEST_YEAR, MIME, file_name, latest_year, year_refusal
from bot.core.schemes import Scheme
from bot.core.snapshot import Needs
from bot.dialogue.common import clip, entry_number, say, stay
from bot.dialogue.conversation import Context, Conv, Step
from bot.dialogue.flow import Command, Flow
from bot.dialogue.flows import bodies, evidence_export
from bot.dialogue.flows.profile import hcpc_export

LIST_DEFAULT = 10
STATUS_LINE_MAX = 300  # a requirement's line in /status (the PDF has them in full)
LIST_MAX = 50


def status_text(ctx: Context) -> str:
    summary = ctx.snap.summary
    if summary is None:
        return "I couldn't load your totals just now; please try again."
    scheme = ctx.scheme
    person = ctx.person
    status = scheme.status(person.status_id)
    total = summary.total_minutes
    label = scheme.year_label(summary.start)
    head = f"CPD year {label} ({scheme.name}, {status.label}): {fmt.hours(total)}"
    lines = []
    assessment = ctx.snap.assessment
    target = int(status.hours * 60) if status.hours else None
    if assessment is not None:  # after leave or exemptions: pro rata
        target = assessment.target_minutes or None
    if target:
        share = total / target
        head += f" of {fmt.hours(target)} ({share:.0%})."
        lines.append(head)
        expected = expected_by(target, summary, person, ctx.today)
        if total >= target:
            lines.append("Target reached. 🎉")
        elif total >= expected:
            lines.append(f"On pace: {fmt.hours(expected)} expected by today.")
        else:
            lines.append(
                f"Behind pace by {fmt.hours(expected - total)} "
                f"({fmt.hours(expected)} expected by today)."
            )
    else:
        lines.append(head + " (no hours target).")
    lines += _category_lines(summary, scheme)
    entries = f"{summary.entries} entr{'y' if summary.entries == 1 else 'ies'}"
    if summary.pending_entries:
        lines.append(f"{entries}; {summary.pending_entries} with reflections pending — /reflect.")
    else:
        lines.append(
            f"{entries}; all reflections done."
            if summary.entries
            else "No entries yet this year: /log to add one."
        )
    if assessment is not None:
        outstanding = len(assessment.outstanding)
        lines.append(
            f"{scheme.name} requirements: "
            + ("all met or not applicable." if not outstanding else f"{outstanding} not yet met.")
        )
        lines += [clip(line, STATUS_LINE_MAX) for line in assessment.lines()]
    lines += bodies.status_lines(ctx)  # each other body, in its own CPD year (issue 16)
    return "\n".join(lines)


def _category_lines(summary: YearSummary, scheme: Scheme) -> list[str]:
    """The year's hours by category, those no longer in the scheme last."""
    if not summary.minutes_by_category:
        return []
    lines = ["By category:"]
    for cat in scheme.categories:
        minutes = summary.minutes_by_category.get(cat.id)
        if minutes:
            lines.append(f"  {cat.label}: {fmt.hours(minutes)}")
    for cat_id, minutes in summary.minutes_by_category.items():
        if scheme.category(cat_id) is None:
            lines.append(f"  {cat_id} (not in {scheme.name}): {fmt.hours(minutes)}")
    return lines


def list_text(ctx: Context) -> str:
    entries = ctx.snap.recent
    if not entries:
        return "No entries yet. /log records your first one."
    lines = ["Your recent entries:"] + [fmt.entry_line(e, ctx.scheme, ctx.today) for e in entries]
    lines.append("/edit N or /delete N to change one.")
    return "\n".join(lines)


EXPORT_KINDS = ("csv", "json", "pdf", "md", "all", "docx", "hcpc", "evidence")
LAST_LOADABLE_YEAR = 9999  # a CPD year starting in 9999 would end in year 10000


EXPORT_ALIASES = {"markdown": "md", "everything": "all", "zip": "all", "word": "docx"}


def _export_args(args: str) -> tuple[str | None, int | None, str]:
    """('csv' | 'json' | 'pdf' | 'md' | 'all' | … | None for bad words, year or None, the
    body named or ''): one word that is neither a format nor a year names a body."""
    fmt_name, year, body = "csv", None, ""
    for typed in args.split():
        word = EXPORT_ALIASES.get(typed.lower(), typed.lower())
        if word in EXPORT_KINDS:
            fmt_name = word
        elif word.isdigit() and len(word) == 4:
            year = int(word)
        elif not body:
            body = typed
        else:
            return None, None, ""
    if fmt_name in ("all", "hcpc") and year is not None:
        return None, None, ""  # everything is every year; the HCPC profile its last two
    return fmt_name, year, body


EXPORT_USAGE = (
    "Use /export (CSV), /export pdf, /export md, /export json, /export docx (Word), "
    "/export 2025 for another year, /export pdf IET 2026 for another body you follow, "
    "/export hcpc (the HCPC CPD profile), /export evidence (your evidence files) or /export "
    "all for everything I hold about you."
)


def _export(conv: Conv, args: str, ctx: Context) -> Step:
    from bot.core.export import to_csv, to_json

    kind, asked, body = _export_args(args)
    if kind is None:
        return stay(conv, ctx, EXPORT_USAGE)
    if body:
        scheme = bodies.body_named(ctx, body)
        if scheme is None:
            said = f"I don't know the body '{clip(body)}'.{bodies._suggestion(ctx, body)}"
            return stay(conv, ctx, f"{said} {EXPORT_USAGE}")
        if scheme.id != ctx.scheme.id:  # the main body named: its record, as without
            return _body_export(conv, ctx, kind, asked, scheme)
    if asked is not None:
        refused = year_refusal(asked, latest_year(ctx.scheme, ctx.today, ctx.person.year_start))
        if refused is not None:
            return stay(conv, ctx, refused)
    if kind == "all":
        text = (
            "Everything I hold about you, as a ZIP: data.json (every stored row: settings, "
            "entries including deleted ones, reflections, plan, calendars, messages) and "
            "record.json / record.csv with all your entries, which `cpdbot import` reads back."
            + evidence_export.in_everything(ctx)
        )
        failed = "I couldn't put your data together just now; please try /export all again."
        return Step(conv, (Outgoing(text, file=FileRequest("all", failed)),))
    if kind == "hcpc":
        return hcpc_export(conv, ctx)
    if kind == "evidence":
        return evidence_export.export_step(conv, ctx)
    if kind in ("pdf", "md", "docx"):
        return _record_file(conv, ctx, kind)
    record = ctx.snap.record
    if record is None:
        return stay(conv, ctx, "I couldn't load your record just now; please try again.")
    data = to_csv(record) if kind == "csv" else to_json(record)
    mime = MIME[kind]
    name = file_name(record, kind)
    n = len(record.entries)
    text = (
        f"Your CPD record for {record.label}: {n} entr{'y' if n == 1 else 'ies'}, "
        f"{fmt.hours(record.total_minutes)}."
    )
    return Step(conv, (Outgoing(text, attachment=Attachment(name, data, mime)),))


def _record_file(conv: Conv, ctx: Context, kind: str) -> Step:
    """`/export pdf|md|docx`: the main body's record, made after the commit."""
    report = ctx.snap.report
    if report is None:
        return stay(conv, ctx, "I couldn't load your record just now; please try again.")
    year = report.record
    n = len(year.entries)
    what = {"pdf": "PDF", "md": "Markdown", "docx": "Word, editable"}[kind]
    text = (
        f"Your CPD record for {year.label} ({what}): {n} entr{'y' if n == 1 else 'ies'}, "
        f"{fmt.hours(year.total_minutes)}, "
        + (
            "laid out as the activity report: each activity with its type of CPD, hours, "
            "reflection and evidence numbers, then the hours by type."
            if kind == "docx"
            else "with the assessment, your plan"
            + (" and the progress chart." if kind == "pdf" else ".")
        )
    )
    if ctx.snap.bodies and kind != "docx":  # the activity report has no requirements
        text += " Its requirements end with where you stand with each other body you follow."
    failed = f"I couldn't make the {what} file just now; please try again."
    return Step(conv, (Outgoing(text, file=FileRequest(kind, failed)),))


def _body_export(conv: Conv, ctx: Context, kind: str, asked: int | None, scheme: Scheme) -> Step:
    """`/export pdf IET 2026`: the record as another body followed counts it (issue 16)."""
    short = scheme.name.split("/")[0].strip()
    if kind not in ("pdf", "md", "docx"):
        return stay(
            conv,
            ctx,
            f"For {short}'s record: /export pdf {short}, /export md {short} or "
            f"/export docx {short} (with a year for another one: /export pdf {short} 2025).",
        )
    view = next((b for b in ctx.snap.bodies if b.scheme_id == scheme.id), None)
    if view is None:
        return stay(conv, ctx, f"You don't follow {short}: /settings bodies adds it.")
    if asked is not None:
        refused = year_refusal(asked, latest_year(scheme, ctx.today))
        if refused is not None:
            return stay(conv, ctx, refused)
    day = (
        ctx.today if asked is None else date(asked, scheme.year_start_month, scheme.year_start_day)
    )
    start, end = scheme.year_bounds(day)
    what = {"pdf": "PDF", "md": "Markdown", "docx": "Word, editable"}[kind]
    text = (
        f"Your CPD record as {short} counts it, CPD year {scheme.year_label(start)} "
        f"({fmt.day(start)} to {fmt.day(end - timedelta(days=1))}, {what}): "
    )
    summary = view.summary
    if summary is not None and summary.start == start:
        n = summary.entries
        text += f"{n} entr{'y' if n == 1 else 'ies'}, {fmt.hours(summary.total_minutes)}, "
    text += f"in {short}'s categories, with its requirements and reflection checks."
    failed = f"I couldn't make the {what} file just now; please try again."
    request = FileRequest(kind, failed, body=scheme.id, year=asked or 0)
    return Step(conv, (Outgoing(text, file=request),))


def _review(conv: Conv, args: str, ctx: Context) -> Step:
    plan = ctx.snap.plan
    if plan is None:
        return stay(conv, ctx, "I couldn't load your plan just now; please try again.")
    text = review_text(review(plan, ctx.snap.linked), today=ctx.today)
    if plan.objectives:
        text += "\n/plan link 12 1 links entry #12 to O1; /plan done 1 marks O1 achieved."
    return stay(conv, ctx, text)


def home(ctx: Context) -> tuple[Outgoing, ...]:
    """Progress and recent entries, read-only (Slack App Home); needs standing + recent."""
    return (
        say(status_text(ctx)),
        Outgoing(
            list_text(ctx),
            (
                Choice(command_button("log"), "Log CPD"),
                Choice(command_button("export"), "Export CSV"),
            ),
        ),
    )


def list_size(args: str) -> int | None:
    number = entry_number(args)
    return min(number, LIST_MAX) if number else None


def _export_needs(args: str) -> Needs:
    kind, year, body = _export_args(args)
    if year is not None and not EARLIEST_YEAR <= year < LAST_LOADABLE_YEAR:
        return Needs()  # `_export` refuses it: nothing to load (a date past 9999 cannot be)
    if kind in ("pdf", "md", "docx"):  # the other bodies too (issue 16); their standing
        return Needs(report_year=year or 0, bodies=True, standing=bool(body) and year is None)
    if kind == "evidence":
        return Needs(report_year=year or 0)
    if kind == "hcpc":
        return Needs(profile=True, bodies=True)
    if kind == "all":
        return Needs(evidence=0, waiting=True)  # the evidence files it holds, said
    return Needs(record_year=year or 0)


def _status(conv: Conv, args: str, ctx: Context) -> Step:
    return stay(conv, ctx, status_text(ctx))


def _list(conv: Conv, args: str, ctx: Context) -> Step:
    return stay(conv, ctx, list_text(ctx))


FLOW = Flow(
    name="record views",
    commands=(
        Command(
            "status",
            _status,
            needs=lambda args: Needs(standing=True, bodies=True),
            help="/status — hours this CPD year against your target, by category, and each of "
            "your\n  professional body's requirements: met, not yet (and what would close it) "
            "or n/a",
            help_rank=20,
            summary="Hours and requirements this CPD year",
            menu_rank=20,
            essential=True,
            slashless=True,
        ),
        Command(
            "list",
            _list,
            needs=lambda args: Needs(recent=list_size(args) or LIST_DEFAULT),
            help="/list — your recent entries with their numbers",
            help_rank=30,
            summary="Your recent entries",
            menu_rank=30,
            essential=True,
            slashless=True,
        ),
        Command(
            "review",
            _review,
            needs=lambda args: Needs(plan=True, linked=True),
            help="/review — each objective's progress and the activities linked to it",
            help_rank=90,
            summary="Progress on each objective",
            menu_rank=90,
            slashless=True,
            bare_only=True,
        ),
        Command(
            "export",
            _export,
            needs=_export_needs,
            help="/export — your record for this CPD year as a CSV file (/export pdf, /export "
            "md,\n  /export json, /export docx, /export 2025; /export pdf IET 2026: another body "
            "you follow,\n  as it counts it; /export hcpc: the HCPC CPD profile; "
            "/export evidence:\n  your evidence files; /export all: everything I hold about you, "
            "as a ZIP)",
            help_rank=110,
            summary="Your record as a file (pdf, md, csv, all)",
            menu_rank=120,
            essential=True,
            slashless=True,
        ),
    ),
)
