"""The printable CPD record: Markdown and PDF, with the assessment and the plan.

Both carry what a reviewer asks for: the person, body and CPD year; total hours against
the target; sub-totals by category (and the structured/unstructured split where the
scheme tracks it); the assessment, requirement by requirement; objectives and key
responsibilities; every activity with its date, hours, category and reflections (pending
ones marked). STEP records start with the cover-sheet fields.

The PDF is laid out by hand on fpdf2 (text lines, not multi_cell), which keeps a
2,000-activity year well under a second; DejaVu Sans (shipped with matplotlib) draws
accents, dashes and most symbols, and `bot.services.fonts.safe_text` drops what it cannot.

`facts` works out what both print; `markdown` and `pdf` lay it out; `layout` is the
small top-down PDF writer over fpdf2.
"""

from __future__ import annotations

from bot.services.printable.markdown import to_markdown
from bot.services.printable.pdf import to_pdf

__all__ = ["to_markdown", "to_pdf"]
