"""`/export evidence [YEAR]`: the CPD year's evidence files as a ZIP, each named by its
number (E3-certificate.pdf) as the PDF record and its evidence index number them, with
index.md. The engine makes the ZIP after the turn has committed (`FileRequest`)."""

from __future__ import annotations

from bot.core.evidence_index import indexed, size_text
from bot.core.model import FileRequest, Outgoing
from bot.dialogue.common import stay
from bot.dialogue.conversation import Context, Conv, Step

KIND = "evidence"


def export_step(conv: Conv, ctx: Context) -> Step:
    report = ctx.snap.report
    if report is None:
        return stay(conv, ctx, "I couldn't load your record just now; please try again.")
    record = report.record
    items = indexed(record.entries)
    if not items:
        return stay(
            conv,
            ctx,
            f"No evidence is kept with your {record.label} entries yet. Send a certificate "
            "or photo right after logging, or /attach 12 to add one to #12.",
        )
    files = [ev for ev in items if ev.kind == "file"]
    links = len(items) - len(files)
    size = sum(ev.size for ev in files)
    text = (
        f"Your evidence for {record.label} as a ZIP: {len(files)} "
        f"file{'' if len(files) == 1 else 's'} ({size_text(size)}), each named by its "
        "number as in your PDF record (E1-…), and index.md, the evidence index"
        + (f" (with {links} link{'' if links == 1 else 's'})." if links else ".")
    )
    failed = "I couldn't put your evidence together just now; please try /export evidence again."
    return Step(conv, (Outgoing(text, file=FileRequest(KIND, failed)),))


def in_everything(ctx: Context) -> str:
    """What of the evidence the `/export all` ZIP holds (every entry's, a deleted one's
    too, and the files waiting for an entry: `records.export_all`), said after its other
    contents."""
    pieces = (*ctx.snap.evidence, *ctx.snap.waiting)
    files = [ev for ev in pieces if ev.kind == "file"]
    links = len(pieces) - len(files)
    if not pieces:
        return " No evidence is kept, so it holds no evidence files."
    held = (
        f" It holds your {len(files)} evidence file{'' if len(files) == 1 else 's'} "
        f"({size_text(sum(ev.size for ev in files))}) in evidence/, each named by its "
        "number (E1-…), with index.md"
    )
    if not files:
        held = " It holds no evidence files; index.md in evidence/ lists"
        return held + f" your {links} link{'' if links == 1 else 's'}."
    return held + (f" (and {links} link{'' if links == 1 else 's'})." if links else ".")
