"""``distinct_units``: distinct units per value, hand-counted, on DuckDB and Polars.

DuckDB runs twice: with its bit sets (one bit string per unit and key, summed in numpy)
and with ``max_bytes=0``, which forces the plain distinct group-by every engine shares.
"""

from __future__ import annotations

from typing import Any

import narwhals as nw
import pytest
from tests.analytics.conftest import Make

from journeylens.engine import frames
from journeylens.engine.frames import distinct_units


@pytest.fixture(params=[None, 0], ids=["bits", "group-by"])
def max_bytes(request: pytest.FixtureRequest) -> dict[str, Any]:
    """The keyword of ``distinct_units`` that picks DuckDB's path (no effect on Polars)."""
    return {} if request.param is None else {"max_bytes": request.param}


def test_units_per_value_with_flags(make: Make, max_bytes: dict[str, Any]) -> None:
    # u1 has p three times and q once; u2 has p; u3 has only nulls; u4 is not flagged-listed.
    events = make(
        {
            "u": ["u1", "u1", "u1", "u1", "u2", "u3", "u4"],
            "x": ["p", "p", "q", "p", "p", None, "q"],
        }
    )
    flags = make({"u": ["u1", "u2", "u3"], "flag": [True, False, True]})
    (by_x,) = distinct_units(events, "u", [("x",)], flags=flags, **max_bytes)
    # p: u1 (flagged) and u2; q: u1 only (u4 is not in the flag frame, so it is not counted).
    assert by_x == {("p",): (2, 1), ("q",): (1, 1)}
    (all_units,) = distinct_units(events, "u", [("x",)], **max_bytes)
    # Without flags every unit counts and the flagged number is 0: q is u1 and u4.
    assert all_units == {("p",): (2, 0), ("q",): (2, 0)}


def test_pairs_and_several_keys(make: Make, max_bytes: dict[str, Any]) -> None:
    events = make(
        {
            "u": ["a", "a", "a", "b", "b", "c"],
            "x": ["p", "p", "q", "p", "q", "q"],
            "y": ["1", "1", "2", None, "2", "2"],
        }
    )
    by_x, by_xy, by_y = distinct_units(events, "u", [("x",), ("x", "y"), ("y",)], **max_bytes)
    assert by_x == {("p",): (2, 0), ("q",): (3, 0)}
    # b's (p, null) pair has a null, so it counts for neither pair; (q, 2): a, b and c.
    assert by_xy == {("p", "1"): (1, 0), ("q", "2"): (3, 0)}
    assert by_y == {("1",): (1, 0), ("2",): (3, 0)}


def test_more_values_than_a_byte(make: Make, max_bytes: dict[str, Any]) -> None:
    # 11 values: a bit string of 11 bits has 5 padding bits; the first and last values
    # must land on their own bits.
    names = [f"v{i:02d}" for i in range(11)]
    events = make({"u": ["a"] * 11 + ["b", "b", "c"], "x": [*names, "v10", "v00", "v10"]})
    flags = make({"u": ["a", "b", "c"], "flag": [False, True, True]})
    (by_x,) = distinct_units(events, "u", [("x",)], flags=flags, **max_bytes)
    expected = {(n,): (1, 0) for n in names}
    expected[("v00",)] = (2, 1)  # a and b
    expected[("v10",)] = (3, 2)  # a, b and c
    assert by_x == expected


def test_listed_values_only(make: Make, max_bytes: dict[str, Any]) -> None:
    events = make({"u": ["a", "a", "b"], "x": ["p", "q", "q"], "y": ["1", "1", "2"]})
    by_x, by_xy = distinct_units(
        events, "u", [("x",), ("x", "y")], {"x": ["q"], "y": ["1", "2"]}, **max_bytes
    )
    # p is not listed: not counted.
    assert by_x == {("q",): (2, 0)}
    assert by_xy == {("q", "1"): (1, 0), ("q", "2"): (1, 0)}


def test_empty_input_and_no_values(make: Make, max_bytes: dict[str, Any]) -> None:
    events = make({"u": ["a", "b"], "x": ["p", None], "y": ["1", "2"]})
    empty = events.filter(nw.col("u") == "nobody")  # the schema, no rows
    assert distinct_units(empty, "u", [("x",), ("x", "y")], **max_bytes) == [{}, {}]
    nulls = make({"u": ["a", "b"], "x": [None, None]})
    assert distinct_units(nulls, "u", [("x",)], **max_bytes) == [{}]
    assert distinct_units(events, "u", [], **max_bytes) == []


def test_wide_keys_take_the_group_by(make: Make, monkeypatch: pytest.MonkeyPatch) -> None:
    # More value combinations than MAX_UNIT_SET_BITS: the same counts by the group-by.
    monkeypatch.setattr(frames, "MAX_UNIT_SET_BITS", 2)
    events = make({"u": ["a", "a", "b"], "x": ["p", "q", "r"]})
    flags = make({"u": ["a", "b"], "flag": [True, False]})
    (by_x,) = distinct_units(events, "u", [("x",)], flags=flags)
    assert by_x == {("p",): (1, 1), ("q",): (1, 1), ("r",): (1, 0)}
