"""Deterministic text measurement and wrapping for the SVG renderer.

Widths come from a per-character table of **DejaVu Sans** (regular and bold, advance
widths in 1/1000 em, read once from the font and pasted here), so layout needs no font
file and gives the same result on every machine. The SVG asks for DejaVu Sans first; a
narrower fallback font (Arial, Helvetica) only makes text shorter than measured, so it
still never overflows its box.
"""

from __future__ import annotations

import functools
import math
import re
import unicodedata
from dataclasses import dataclass

#: The font stack written into the SVG; the width tables below are for its first entry.
FONT_FAMILY = "DejaVu Sans, Bitstream Vera Sans, Verdana, Arial, Helvetica, sans-serif"

# Advance widths of ASCII 32..126 in 1/1000 em (DejaVu Sans Book / Bold).
_REGULAR = (
    318, 401, 460, 838, 636, 950, 780, 275, 390, 390, 500, 838, 318, 361, 318, 337,
    636, 636, 636, 636, 636, 636, 636, 636, 636, 636, 337, 337, 838, 838, 838, 531,
    1000, 684, 686, 698, 770, 632, 575, 775, 752, 295, 295, 656, 557, 863, 748, 787,
    603, 787, 695, 635, 611, 732, 684, 989, 685, 611, 685, 390, 337, 390, 838, 500,
    500, 613, 635, 550, 635, 615, 352, 635, 634, 278, 278, 579, 278, 974, 634, 612,
    635, 635, 411, 521, 392, 634, 592, 818, 592, 592, 525, 636, 337, 636, 838,
)  # fmt: skip
_BOLD = (
    348, 456, 521, 838, 696, 1002, 872, 306, 457, 457, 523, 838, 380, 415, 380, 365,
    696, 696, 696, 696, 696, 696, 696, 696, 696, 696, 400, 400, 838, 838, 838, 580,
    1000, 774, 762, 734, 830, 683, 683, 821, 837, 372, 372, 775, 637, 995, 837, 850,
    733, 850, 770, 720, 682, 812, 774, 1103, 771, 724, 725, 457, 365, 457, 838, 500,
    500, 675, 716, 593, 716, 678, 435, 716, 712, 343, 343, 665, 343, 1042, 712, 687,
    716, 716, 493, 595, 478, 712, 652, 924, 645, 652, 582, 712, 365, 712, 838,
)  # fmt: skip
# Non-ASCII characters the renderer itself uses, and typography people paste in.
_EXTRA = {
    "–": 500, "—": 1000, "’": 380, "‘": 380, "“": 657, "”": 657, "…": 1000, "•": 590,
    "✓": 838, "★": 896, "●": 873, "▲": 769, "·": 380, "−": 838, "×": 838, "≥": 838,
    "≤": 838, "→": 838, "é": 678, "è": 678, "à": 675, "ü": 712, "ö": 687, "ä": 675,
}  # fmt: skip
# Unknown characters: letters of other scripts are measured generously so they never overflow.
_DEFAULT_NARROW = 700
_DEFAULT_WIDE = 1000


# Characters clean_text changes (a line feed only passes through the slow path unchanged).
_NEEDS_CLEANING = re.compile("[\x00-\x1f\ud800-\udfff\ufffe\uffff]")


def clean_text(text: str) -> str:
    """Return ``text`` with characters XML 1.0 cannot hold replaced by U+FFFD.

    Tabs become spaces and carriage returns line feeds; other control characters cannot be
    written into an SVG at all, so they show as the replacement character instead of
    breaking the file.

    >>> clean_text("a\\tb\\x00c\\r\\nd")
    'a b\\ufffdc\\nd'
    """
    if not _NEEDS_CLEANING.search(text):
        return text  # the usual case, without a Python loop over every character
    out: list[str] = []
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    for ch in text:
        code = ord(ch)
        if ch == "\t":
            out.append(" ")
        elif ch == "\n":
            out.append(ch)
        elif code < 0x20 or 0xD800 <= code <= 0xDFFF or code in (0xFFFE, 0xFFFF):
            out.append("\ufffd")
        else:
            out.append(ch)
    return "".join(out)


def char_width(ch: str, *, bold: bool = False) -> int:
    """Advance width of one character in 1/1000 em (DejaVu Sans)."""
    code = ord(ch)
    if 32 <= code <= 126:
        return (_BOLD if bold else _REGULAR)[code - 32]
    if ch in _EXTRA:
        return _EXTRA[ch]
    if unicodedata.combining(ch):
        return 0
    if unicodedata.east_asian_width(ch) in ("W", "F"):
        return _DEFAULT_WIDE
    return _DEFAULT_NARROW


def text_width(text: str, size: float, *, bold: bool = False) -> float:
    """Width in px of ``text`` set in DejaVu Sans at ``size`` px.

    >>> text_width("Hello", 10)
    25.35
    """
    return round(sum(char_width(ch, bold=bold) for ch in text) * size / 1000, 2)


def line_height(size: float) -> float:
    """Line pitch in px: 1.3 em, more than the font's ascent + descent (1.164 em)."""
    return float(math.ceil(size * 1.3))


@dataclass(frozen=True)
class Wrapped:
    """Text broken into lines that each fit ``width`` px; ``height`` is lines × line pitch."""

    lines: tuple[str, ...]
    size: float
    bold: bool
    width: float
    height: float


@functools.lru_cache(maxsize=16384)
def wrap(text: str, width: float, size: float, *, bold: bool = False) -> Wrapped:
    """Break ``text`` into lines no wider than ``width`` px (greedy, at spaces).

    Hard line breaks are kept; a word longer than the line is cut between characters.
    The returned ``width`` is that of the widest line. Answers are kept (the result is
    immutable): a new version of a map mostly wraps the texts of the last one again.

    >>> wrap("one two three four", 60, 10).lines
    ('one two', 'three four')
    """
    text = clean_text(text)
    lines: list[str] = []
    for paragraph in text.split("\n"):
        current = ""
        for word in paragraph.split(" "):
            if not word:
                continue
            candidate = f"{current} {word}" if current else word
            if text_width(candidate, size, bold=bold) <= width:
                current = candidate
                continue
            if current:
                lines.append(current)
                current = ""
            # The word alone: cut it into pieces that fit.
            while text_width(word, size, bold=bold) > width:
                cut = 1
                while cut < len(word) and text_width(word[: cut + 1], size, bold=bold) <= width:
                    cut += 1
                lines.append(word[:cut])
                word = word[cut:]
            current = word
        lines.append(current)
    # Drop trailing empty lines but keep at least one (an empty label still takes a line).
    while len(lines) > 1 and not lines[-1]:
        lines.pop()
    widest = max(text_width(line, size, bold=bold) for line in lines)
    return Wrapped(tuple(lines), size, bold, widest, line_height(size) * len(lines))
