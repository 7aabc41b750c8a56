"""Text measurement and wrapping: hand-computed widths from the DejaVu Sans table."""

from __future__ import annotations

import pytest

from journeylens.render.text import clean_text, line_height, text_width, wrap


def test_width_sums_the_table() -> None:
    # "Hi" = H 752 + i 278 = 1030 units; at 20 px that is 20.6 px.
    assert text_width("Hi", 20) == pytest.approx(20.6)
    # Bold "Hi" = 837 + 343 = 1180 units.
    assert text_width("Hi", 20, bold=True) == pytest.approx(23.6)


def test_wide_characters_are_measured_as_one_em() -> None:
    assert text_width("日本", 10) == pytest.approx(20.0)


def test_wrap_breaks_at_spaces_and_every_line_fits() -> None:
    text = "the quick brown fox jumps over the lazy dog"
    w = wrap(text, 80, 12)
    assert " ".join(w.lines) == text
    assert all(text_width(line, 12) <= 80 for line in w.lines)
    assert w.height == line_height(12) * len(w.lines) == 16 * len(w.lines)


def test_wrap_cuts_words_longer_than_the_line() -> None:
    w = wrap("x" * 40, 50, 10)  # x = 592 units → 5.92 px; 8 fit in 50 px
    assert w.lines == ("x" * 8,) * 5
    assert "".join(w.lines) == "x" * 40


def test_hard_line_breaks_are_kept() -> None:
    assert wrap("a\nb", 200, 12).lines == ("a", "b")


def test_control_characters_become_replacement_characters() -> None:
    assert clean_text("a\x00b\x1bc\ud800") == "a\ufffdb\ufffdc\ufffd"
    assert clean_text("tab\there") == "tab here"
