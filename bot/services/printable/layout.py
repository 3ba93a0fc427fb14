"""A top-down PDF writer over fpdf2: wrapped text lines, simple tables, page breaks and a
footer. Laid out by hand (text lines, not multi_cell), which keeps a 2,000-activity year
well under a second."""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from typing import Any

from bot.core.assessment import State
from bot.core.sanitize import clean_text
from bot.services.fonts import FACES, font_dir, safe_text

PT = 25.4 / 72  # mm per point
INK = (33, 37, 41)
MUTED = (108, 117, 125)
RULE = (222, 226, 230)
ACCENT = (0, 84, 147)
SHADE = (244, 246, 248)
STATE_COLOURS: dict[State, tuple[int, int, int]] = {
    "met": (25, 135, 84),
    "not_yet": (190, 90, 0),
    "not_applicable": (120, 128, 136),
}
PENDING_COLOUR = (190, 90, 0)

Run = tuple[str, str, tuple[int, int, int]]  # text, style ("", "B", "I"), colour


class Layout:
    """A top-down writer over fpdf2: wrapped lines, simple tables, page breaks, footer."""

    def __init__(self, footer: str, today: date) -> None:
        from fpdf import FPDF

        self.pdf = FPDF(format="A4", unit="mm")
        self.pdf.set_auto_page_break(False)
        self.pdf.set_margins(18, 16, 18)
        self.pdf.set_creation_date(datetime(today.year, today.month, today.day, tzinfo=UTC))
        folder = font_dir()
        self.unicode = folder is not None
        if folder is not None:
            for style, name in FACES.items():
                self.pdf.add_font("DejaVu", style, str(folder / name))
            self.family = "DejaVu"
        else:  # no TTF found: a core font, Latin-1 only
            self.family = "Helvetica"
        self.footer_text = footer
        self.left = 18.0
        self.width = 210 - 36.0
        self.bottom = 297 - 18.0
        self._widths: dict[str, Callable[[str], float]] = {}
        self.pdf.add_page()
        self.y = 16.0

    def text(self, value: str) -> str:
        cleaned = safe_text(clean_text(value))  # no control, bidi or zero-width character
        if not self.unicode:
            cleaned = cleaned.encode("latin-1", "replace").decode("latin-1")
        return cleaned

    def font(self, style: str, size: float, colour: tuple[int, int, int] = INK) -> None:
        self.pdf.set_font(self.family, style, size)
        self.pdf.set_text_color(*colour)

    def measure(self, style: str, size: float) -> Callable[[str], float]:
        """Width in mm of a string in the current font (fast path for TTF fonts)."""
        key = f"{style}{size}"
        found = self._widths.get(key)
        if found is not None:
            return found
        self.pdf.set_font(self.family, style, size)
        cw: Any = getattr(self.pdf.current_font, "cw", None)
        if self.unicode and cw is not None:
            scale = size * PT / 1000
            seen: dict[str, float] = {}  # words recur: measure each once per font

            def width(s: str) -> float:
                found = seen.get(s)
                if found is None:
                    found = seen[s] = float(sum(cw[ord(c)] for c in s)) * scale
                return found

        else:
            width = self.pdf.get_string_width
        self._widths[key] = width
        return width

    def wrap(self, value: str, style: str, size: float, width: float) -> list[str]:
        measure = self.measure(style, size)
        space = measure(" ")
        lines: list[str] = []
        for para in self.text(value).split("\n"):
            words = para.split()
            if not words:
                lines.append("")
                continue
            line, used = "", 0.0
            for word in words:
                w = measure(word)
                while w > width:  # a word longer than a line: cut it
                    room = width - (used + space if line else 0.0)
                    cut, run = 0, 0.0
                    for ch in word:
                        run += measure(ch)
                        if run > room:
                            break
                        cut += 1
                    soft = max(word.rfind("/", 0, cut), word.rfind("-", 0, cut))
                    if soft > 0:
                        cut = soft + 1  # break after a slash or hyphen when there is one
                    if line and cut < 4:  # hardly any room left: start the word on a new line
                        lines.append(line)
                        line, used = "", 0.0
                        continue
                    cut = max(cut, 1)
                    lines.append((line + " " if line else "") + word[:cut])
                    line, used = "", 0.0
                    word = word[cut:]
                    w = measure(word)
                if line and used + space + w > width:
                    lines.append(line)
                    line, used = word, w
                else:
                    line, used = (line + " " + word, used + space + w) if line else (word, w)
            lines.append(line)
        return lines

    def ensure(self, height: float) -> bool:
        """Start a new page unless `height` mm still fit; True if a page was added."""
        if self.y + height <= self.bottom:
            return False
        self.pdf.add_page()
        self.y = 16.0
        return True

    def para(
        self,
        value: str,
        *,
        size: float = 9.5,
        style: str = "",
        colour: tuple[int, int, int] = INK,
        indent: float = 0.0,
        leading: float = 1.35,
        after: float = 0.0,
    ) -> None:
        lh = size * PT * leading
        lines = self.wrap(value, style, size, self.width - indent)
        self.font(style, size, colour)
        for line in lines:
            self.ensure(lh)
            if line:
                self.pdf.text(self.left + indent, self.y + lh * 0.75, line)
            self.y += lh
        self.y += after

    def heading(self, value: str, *, size: float = 13) -> None:
        self.ensure(size * PT * 1.4 + 14)  # keep a heading with what follows it
        self.y += 3
        self.para(value, size=size, style="B", colour=ACCENT, after=1)
        self.pdf.set_draw_color(*ACCENT)
        self.pdf.set_line_width(0.4)
        self.pdf.line(self.left, self.y, self.left + self.width, self.y)
        self.y += 2.5

    def rule(self) -> None:
        self.pdf.set_draw_color(*RULE)
        self.pdf.set_line_width(0.2)
        self.pdf.line(self.left, self.y, self.left + self.width, self.y)

    def table(
        self,
        widths: Sequence[float],
        header: Sequence[str] | None,
        rows: Sequence[Sequence[str | list[Run]]],
        *,
        size: float = 9,
        align: Sequence[str] = (),
        bold_last: bool = False,
    ) -> None:
        pad = 1.6
        lh = size * PT * 1.3

        def cell_lines(cell: str | list[Run], w: float, style: str) -> list[tuple[str, Run]]:
            runs = [(cell, style, INK)] if isinstance(cell, str) else cell
            out: list[tuple[str, Run]] = []
            for run in runs:
                out += [(line, run) for line in self.wrap(run[0], run[1], size, w - 2 * pad)]
            return out

        def draw(cells: Sequence[str | list[Run]], style: str, fill: bool) -> None:
            laid = [cell_lines(c, w, style) for c, w in zip(cells, widths, strict=True)]
            height = max(len(c) for c in laid) * lh + 2 * pad
            if self.ensure(height) and header is not None and not fill:
                draw(header, "B", True)
            if fill:
                self.pdf.set_fill_color(*SHADE)
                self.pdf.rect(self.left, self.y, sum(widths), height, style="F")
            x = self.left
            for i, (lines, w) in enumerate(zip(laid, widths, strict=True)):
                right = i < len(align) and align[i] == "R"
                y = self.y + pad
                for line, (_, run_style, colour) in lines:
                    self.font(run_style, size, colour)
                    tx = x + pad
                    if right:
                        tx = x + w - pad - self.measure(run_style, size)(line)
                    if line:
                        self.pdf.text(tx, y + lh * 0.75, line)
                    y += lh
                x += w
            self.y += height
            self.rule()

        if header is not None:
            draw(header, "B", True)
        for n, row in enumerate(rows):
            draw(row, "B" if bold_last and n == len(rows) - 1 else "", False)
        self.y += 3

    def image(self, png: bytes, width: float) -> None:
        from PIL import Image

        with Image.open(io.BytesIO(png)) as img:
            w_px, h_px = img.size
        height = width * h_px / w_px
        self.ensure(height + 2)
        self.pdf.image(io.BytesIO(png), x=self.left, y=self.y, w=width, h=height)
        self.y += height + 3

    def output(self) -> bytes:
        """The PDF, with a footer (who, what, page n of N) drawn on every page."""
        pages = self.pdf.pages_count
        footer = self.text(self.footer_text)
        measure = self.measure("", 7.5)
        y = 297 - 10.0
        for n in range(1, pages + 1):
            self.pdf.page = n
            # Back on a finished page, fpdf2 still believes the state it left on the last
            # page is in force here; it is not (the page may end in italic, say). Forget it,
            # so the footer's font, colour and line width are written into this page.
            self.pdf.draw_color = None
            self.pdf.line_width = -1.0
            self.pdf.set_draw_color(*RULE)
            self.pdf.set_line_width(0.2)
            self.pdf.line(self.left, y - 4, self.left + self.width, y - 4)
            self.font("", 7.5, MUTED)
            self.pdf.current_font_is_set_on_page = False
            self.pdf.text(self.left, y, footer)
            label = f"Page {n} of {pages}"
            self.pdf.text(self.left + self.width - measure(label), y, label)
        return bytes(self.pdf.output())
