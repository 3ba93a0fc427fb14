"""The Unicode font the PDF and the chart use, and text made safe for it.

DejaVu Sans ships inside matplotlib (a dependency), so nothing is downloaded at run time.
Characters the font lacks degrade gracefully: emoji and their joiners are dropped, other
symbols become their closest ASCII or '?'.
"""

from __future__ import annotations

import importlib.util
import re
import unicodedata
from functools import cache
from pathlib import Path

FACES = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf", "I": "DejaVuSans-Oblique.ttf"}
# Invisible joiners and selectors that only make sense with the emoji they join.
_INVISIBLE = {0x200D, 0xFE0E, 0xFE0F, 0x20E3}
_SPACES = re.compile(r"(?<=\S) {2,}")


@cache
def font_dir() -> Path | None:
    """matplotlib's bundled TTF folder, found without importing matplotlib."""
    spec = importlib.util.find_spec("matplotlib")
    if spec is None or spec.origin is None:
        return None
    folder = Path(spec.origin).parent / "mpl-data" / "fonts" / "ttf"
    return folder if all((folder / f).is_file() for f in FACES.values()) else None


@cache
def _characters() -> frozenset[str]:
    return frozenset(chr(c) for c in _codepoints()) - {chr(c) for c in _INVISIBLE}


@cache
def _codepoints() -> frozenset[int]:
    folder = font_dir()
    if folder is None:
        return frozenset(range(32, 256))  # the PDF falls back to a Latin-1 core font
    from fontTools.ttLib import TTFont

    with TTFont(folder / FACES[""], lazy=True) as font:
        cmap = font.getBestCmap()
        return frozenset(cmap)


def _is_emoji(code: int) -> bool:
    return code >= 0x1F000 or 0x2600 <= code <= 0x27BF or 0x2B00 <= code <= 0x2BFF


def safe_text(text: str) -> str:
    """`text` with every character the font can draw; the rest dropped or replaced."""
    if _characters().issuperset(text):
        return text
    known = _codepoints()
    out = []
    for ch in text:
        code = ord(ch)
        if code in _INVISIBLE or 0x1F3FB <= code <= 0x1F3FF:
            continue  # joiners, selectors and skin tones draw nothing on their own
        if code in known:
            out.append(ch)
        elif _is_emoji(code):
            continue  # an emoji the font lacks: nothing sensible to print
        elif ch in "\t\n":
            out.append(" ")
        else:
            plain = unicodedata.normalize("NFKD", ch).encode("ascii", "ignore").decode()
            out.append(plain if plain and all(ord(c) in known for c in plain) else "?")
    return _SPACES.sub(" ", "".join(out)).strip()
