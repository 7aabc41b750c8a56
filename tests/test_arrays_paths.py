"""Transitions, step matrix and sessions read off the sorted path arrays (``Paths.arrays``,
the numpy paths) against hand-computed values and against the narwhals path on Polars for
the same events; the array helpers they use against brute force.

A :class:`Paths` with arrays is the Polars path frame of the events with
``PathArrays.from_rows`` of the same rows attached: the analytics then take the numpy
path, the same frame without arrays the narwhals one. Every expected value is worked out
in the comment next to it (quantiles: linear interpolation, position (n − 1)·q, 0-based).
"""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from typing import Any

import narwhals as nw
import numpy as np
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from journeylens.analytics import _arrays, sessions, sort_paths, step_matrix, transitions
from journeylens.analytics._arrays import (
    PathArrays,
    bit_counts,
    gap_quantiles_by_buckets,
    group_order,
    next_gaps_in_place,
    path_code_counts,
    quantiles_in_groups,
    unit_sets,
)
from journeylens.analytics._common import Paths
from journeylens.analytics.sessions import SessionsResult, Spread
from journeylens.analytics.transitions import TransitionsResult

T0 = datetime(2024, 5, 1, 12, 0, 0)
Row = tuple[str, float, str | None]  # (customer, seconds after T0, event name)


def frame(rows: list[Row]) -> pl.DataFrame:
    """Events of ``rows`` (seq = row order), typed also when empty."""
    return pl.DataFrame(
        {
            "customer_id": [r[0] for r in rows],
            "event_name": [r[2] for r in rows],
            "occurred_at": [T0 + timedelta(seconds=r[1]) for r in rows],
            "seq": list(range(1, len(rows) + 1)),
        },
        schema={
            "customer_id": pl.String,
            "event_name": pl.String,
            "occurred_at": pl.Datetime("us"),
            "seq": pl.Int64,
        },
    )


def both(rows: list[Row], *, keep_unlabelled: bool = False) -> tuple[Paths, Paths]:
    """The Polars path frame of ``rows`` without arrays (narwhals path) and with them."""
    df = frame(rows)
    p = sort_paths(nw.from_native(df.lazy()), keep_unlabelled=keep_unlabelled)
    assert p.arrays is None
    kept = df if keep_unlabelled else df.filter(pl.col("event_name").is_not_null())
    arrays = PathArrays.from_rows(
        kept["customer_id"].to_list(),
        kept["occurred_at"].dt.epoch("us").to_list(),
        kept["event_name"].to_list(),
        seq=kept["seq"].to_list(),
    )
    return p, dataclasses.replace(p, arrays=arrays)


def approx(value: Any) -> Any:
    """``value`` with every float compared to 1e-9 relative (dataclasses field by field)."""
    if isinstance(value, float):
        return pytest.approx(value, rel=1e-9)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return tuple(approx(getattr(value, f.name)) for f in dataclasses.fields(value))
    if isinstance(value, tuple | list):
        return tuple(approx(v) for v in value)
    return value


def fields(value: Any) -> Any:
    """A dataclass result as nested tuples (to compare with :func:`approx`)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return tuple(fields(getattr(value, f.name)) for f in dataclasses.fields(value))
    if isinstance(value, tuple | list):
        return tuple(fields(v) for v in value)
    return value


def edges(r: TransitionsResult) -> list[tuple[Any, ...]]:
    """Each edge as (from, to, count, unique_paths, share, probability, median, p90)."""
    return [
        (
            t.from_,
            t.to,
            t.count,
            t.unique_paths,
            t.share,
            t.probability,
            t.median_time_s,
            t.p90_time_s,
        )
        for t in r.transitions
    ]


# a: x 0, y 60, x 180, y 180 (tie, later seq); b: x 0, y 120; c: z 0 (one event)
LOG: list[Row] = [
    ("a", 0, "x"),
    ("b", 0, "x"),
    ("a", 60, "y"),
    ("a", 180, "x"),
    ("c", 0, "z"),
    ("b", 120, "y"),
    ("a", 180, "y"),
]


def test_transitions_by_hand() -> None:
    _, fast = both(LOG)
    r = transitions(fast)
    # x→y: a 60 s and 0 s (the tie), b 120 s → count 3 on 2 paths; gaps 0 60 120:
    # median 60, p90 at 1.8 → 60 + 0.8·60 = 108. y→x: a 120 s. 4 transitions, 3 paths.
    assert (r.paths, r.total_transitions) == (3, 4)
    assert edges(r) == [
        ("x", "y", 3, 2, 0.75, 1.0, 60.0, pytest.approx(108.0, rel=1e-12)),
        ("y", "x", 1, 1, 0.25, 1.0, 120.0, 120.0),
    ]


def test_transitions_with_markers_by_hand() -> None:
    _, fast = both(LOG)
    r = transitions(fast, markers=True)
    # starts: x (a, b) 2, z 1; ends: y (a, b) 2, z 1 → 4 + 3 + 3 = 10 transitions.
    # Out of y: y→x 1 + y→path_end 2 = 3; out of path_start: 3.
    assert (r.paths, r.total_transitions) == (3, 10)
    assert [(t.from_, t.to, t.count, t.unique_paths) for t in r.transitions] == [
        ("x", "y", 3, 2),
        ("path_start", "x", 2, 2),
        ("y", "path_end", 2, 2),
        ("path_start", "z", 1, 1),
        ("y", "x", 1, 1),
        ("z", "path_end", 1, 1),
    ]
    probability = {(t.from_, t.to): t.probability for t in r.transitions}
    assert probability[("path_start", "x")] == pytest.approx(2 / 3)
    assert probability[("y", "path_end")] == pytest.approx(2 / 3)
    assert probability[("y", "x")] == pytest.approx(1 / 3)
    assert probability[("z", "path_end")] == 1.0


def test_transitions_of_unlabelled_events_kept() -> None:
    # c: a 0, (none) 60, b 120; d: (none) 0, b 120. Kept unlabelled: the edge (none) → b
    # has 2 transitions on 2 paths, 60 and 120 s (median 90, p90 60 + 0.9·60 = 114). a is
    # followed by an unlabelled event: no edge, counted as an end of a (the frame's rule).
    rows: list[Row] = [("c", 0, "a"), ("c", 60, None), ("c", 120, "b"), ("d", 0, None)]
    rows.append(("d", 120, "b"))
    slow, fast = both(rows, keep_unlabelled=True)
    r = transitions(fast, markers=True)
    got: dict[tuple[str | None, str | None], tuple[int, int, float | None]] = {
        (t.from_, t.to): (t.count, t.unique_paths, t.median_time_s) for t in r.transitions
    }
    assert got[(None, "b")] == (2, 2, 90.0)
    assert next(t for t in r.transitions if t.from_ is None).p90_time_s == pytest.approx(114.0)
    # starts: a (c), none (d); ends: a (mid-path, before the unlabelled event), b twice
    assert got[("path_start", "a")][0] == got[("path_start", None)][0] == 1
    assert (got[("a", "path_end")][0], got[("b", "path_end")][0]) == (1, 2)
    assert r.paths == 2
    assert fields(r) == approx(transitions(slow, markers=True))


def test_step_matrix_by_hand() -> None:
    _, fast = both(LOG)
    r = step_matrix(fast, max_steps=3)
    # step 1: x x z (a, b, c); step 2: y y; step 3: x (a); 3 paths.
    # totals: x 2/3 + 1/3, y 2/3, z 1/3 → x, y, z; path_end: 0, 1/3, 2/3
    third = pytest.approx(1 / 3)
    assert [(row.event, row.shares) for row in r.rows] == [
        ("x", (pytest.approx(2 / 3), 0.0, third)),
        ("y", (0.0, pytest.approx(2 / 3), 0.0)),
        ("z", (third, 0.0, 0.0)),
        ("path_end", (0.0, third, pytest.approx(2 / 3))),
    ]
    assert r.paths == 3


def test_sessions_by_hand() -> None:
    # a: 0 | 7200 | 14400 → three 1-event sessions; b: 0 | 5000, 5030, 5090 → a 1-event
    # session and one of 3 events lasting 90 s; c: 0, 1800 (exactly the timeout: stays)
    rows: list[Row] = [("a", 0, "x"), ("a", 7200, "x"), ("a", 14400, "x"), ("b", 0, "x")]
    rows += [("b", 5000, "x"), ("b", 5030, "x"), ("b", 5090, "x"), ("c", 0, "x")]
    rows += [("c", 1800, "x")]
    _, fast = both(rows)
    r = sessions(fast, timeout=1800)
    assert (r.customers, r.sessions, r.events) == (3, 6, 9)
    # events per session sorted: 1 1 1 1 2 3 → mean 1.5, median (at 2.5) 1, p90 at 4.5:
    # 2 + 0.5·(3 − 2) = 2.5
    assert fields(r.events_per_session) == approx(Spread(1.5, 1.0, 2.5))
    # durations 0 0 0 0 90 1800 → mean 315, median 0, p90 at 4.5: 90 + 0.5·1710 = 945
    assert fields(r.duration_s) == approx(Spread(315.0, 0.0, 945.0))
    # per customer: a 3, b 2, c 1 → mean 2, median 2, p90 at 1.8: 2 + 0.8·1 = 2.8
    assert fields(r.sessions_per_customer) == approx(Spread(2.0, 2.0, 2.8))


def test_empty_input() -> None:
    slow, fast = both([])
    assert fields(transitions(fast, markers=True)) == fields(transitions(slow, markers=True))
    assert transitions(fast).transitions == ()
    assert fields(step_matrix(fast, max_steps=2)) == fields(step_matrix(slow, max_steps=2))
    r = sessions(fast)
    assert r == SessionsResult(1800.0, 0, 0, 0, *[Spread(None, None, None)] * 3)
    assert r == sessions(slow)


def test_sessions_timeout_one_microsecond_apart() -> None:
    # gaps of 1800 s and 1800.000001 s: only the second one is past the timeout
    rows: list[Row] = [("a", 0, "x"), ("a", 1800, "x"), ("a", 3600.000001, "x")]
    slow, fast = both(rows)
    assert sessions(fast, timeout=1800).sessions == 2
    assert sessions(fast, timeout="30m") == sessions(slow, timeout="30m")


LABELS = st.sampled_from(["a", "b", "ç", "日本", "é🙂", None])


@st.composite
def logs(draw: st.DrawFn) -> list[Row]:
    """Up to 40 events of up to 5 customers; times on a coarse grid (ties) in seconds."""
    n = draw(st.integers(0, 40))
    return [
        (
            draw(st.sampled_from(["u1", "u2", "ü3", "u4", "u5"])),
            draw(st.integers(0, 12)) * 900.0 + draw(st.sampled_from([0.0, 0.5, 0.000001])),
            draw(LABELS),
        )
        for _ in range(n)
    ]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=logs(), keep=st.booleans(), steps=st.integers(1, 4), timeout=st.integers(1, 4))
def test_numpy_paths_equal_the_narwhals_paths(
    rows: list[Row], keep: bool, steps: int, timeout: int
) -> None:
    slow, fast = both(rows, keep_unlabelled=keep)
    for markers in (False, True):
        assert fields(transitions(fast, markers=markers)) == approx(
            transitions(slow, markers=markers)
        )
    assert fields(step_matrix(fast, max_steps=steps)) == approx(step_matrix(slow, max_steps=steps))
    seconds = timeout * 900.0  # exactly some gaps of the grid
    assert fields(sessions(fast, timeout=seconds)) == approx(sessions(slow, timeout=seconds))


@pytest.mark.parametrize("codes", [1, 5, 64, 65, 300, 70_000])
def test_unit_sets_counts_distinct_units_per_code(codes: int) -> None:
    rng = np.random.default_rng(codes)
    unit = np.sort(rng.integers(0, 50, 2000))
    code = rng.integers(0, codes, 2000)
    expected = np.zeros(codes, dtype=np.int64)
    for c in range(codes) if codes < 1000 else np.unique(code).tolist():
        expected[c] = len(np.unique(unit[code == c]))
    assert unit_sets(unit, code, codes, 50).tolist() == expected.tolist()
    shuffled = rng.permutation(2000)  # rows not in unit order: the np.unique fallback
    got = unit_sets(unit[shuffled], code[shuffled], codes, 50)
    assert got.tolist() == expected.tolist()


@pytest.mark.parametrize("codes", [7, 64, 200, 300])
def test_unit_sets_over_many_blocks(codes: int) -> None:
    """200,000 rows: units straddle the blocks of the 64-bit word pass."""
    rng = np.random.default_rng(codes)
    unit = np.sort(rng.integers(0, 3000, 200_000))
    code = rng.integers(0, codes, 200_000)
    pairs = np.unique(unit * codes + code)  # brute force: the distinct (unit, code) pairs
    expected = np.bincount(pairs % codes, minlength=codes)
    assert unit_sets(unit, code, codes, 3000).tolist() == expected.tolist()


def test_unit_sets_by_hand() -> None:
    # unit 0: codes 1, 1; unit 1: 1; unit 2: 0, 1 → code 0: 1 unit, code 1: 3, code 2: 0
    unit = np.array([0, 0, 1, 2, 2])
    assert unit_sets(unit, np.array([1, 1, 1, 0, 1]), 3, 3).tolist() == [1, 3, 0]
    assert unit_sets(unit[:0], unit[:0], 2, 0).tolist() == [0, 0]


def test_group_order_is_stable_beyond_16_bits() -> None:
    group = np.array([70_000, 3, 70_000, 65_539, 3, 0])  # 65_539 = 3 + 2^16
    order, bounds = group_order(group, 70_001)
    assert order.tolist() == [5, 1, 4, 3, 0, 2]
    assert (bounds[4] - bounds[3], bounds[65_540] - bounds[65_539], bounds[-1]) == (2, 1, 6)


def test_bit_counts_by_hand() -> None:
    # bit 0: 1st word; bit 2: both; bit 63: 2nd word
    words = np.array([0b101, (1 << 63) | 0b100], dtype=np.uint64)
    assert bit_counts(words, 64)[[0, 1, 2, 63]].tolist() == [1, 0, 2, 1]


def test_grouped_quantiles_against_numpy() -> None:
    """Quantiles per group: the rows ordered by group (group_order), then each group's."""
    rng = np.random.default_rng(7)
    group = rng.integers(0, 20, 5000)
    values = rng.exponential(100.0, 5000)
    order, bounds = group_order(group, 25)
    got = quantiles_in_groups(values[order], bounds, [5, 9])
    assert sorted(got) == sorted(set(group.tolist()))
    for g, (median, p90) in got.items():
        assert median == pytest.approx(np.quantile(values[group == g], 0.5), rel=1e-12)
        assert p90 == pytest.approx(np.quantile(values[group == g], 0.9), rel=1e-12)


@pytest.mark.parametrize(("labels", "keep"), [(3, True), (300, False), (300, True)])
def test_random_log_numpy_paths_equal_the_narwhals_paths(labels: int, keep: bool) -> None:
    """3,000 events of 60 customers; 300 labels take the 64-bit edge codes (more than
    2^16 of them), 3 the 16-bit ones; times on a 10-minute grid (ties) over two days."""
    rng = np.random.default_rng(labels + keep)
    names = [f"é{i}" for i in range(labels)] + ([None] if keep else [])
    rows: list[Row] = [
        (
            f"u{int(rng.integers(60))}",
            float(rng.integers(0, 288)) * 600.0,
            names[int(rng.integers(len(names)))],
        )
        for _ in range(3000)
    ]
    slow, fast = both(rows, keep_unlabelled=keep)
    assert fields(transitions(fast, markers=True)) == approx(transitions(slow, markers=True))
    assert fields(step_matrix(fast, max_steps=5)) == approx(step_matrix(slow, max_steps=5))
    assert fields(sessions(fast, timeout=1200)) == approx(sessions(slow, timeout=1200))


@pytest.mark.parametrize("divisor", [None, 1e6])
def test_quantiles_of_many_groups_equal_the_selection_per_group(
    divisor: float | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """6,000 groups (one sort of group-and-value keys) give the same numbers, to the last
    bit, as the selection in each group; negative values fall back to the selection."""
    rng = np.random.default_rng(11)
    group = rng.integers(0, 6000, 40_000)
    values = rng.integers(0, 10**12, 40_000)
    order, bounds = group_order(group, 6000)
    many = quantiles_in_groups(values[order], bounds, [5, 9], divisor)
    monkeypatch.setattr(_arrays, "MANY_GROUPS", 10**9)
    assert many == quantiles_in_groups(values[order], bounds, [5, 9], divisor)
    g = int(group[0])
    expected = [np.quantile(values[group == g], q) for q in (0.5, 0.9)]
    scale = 1.0 if divisor is None else divisor
    assert many[g] == [pytest.approx(e / scale, rel=1e-12) for e in expected]
    monkeypatch.undo()
    shifted = values[order] - 10**11
    got = quantiles_in_groups(shifted.copy(), bounds, [5, 9], divisor)
    monkeypatch.setattr(_arrays, "MANY_GROUPS", 10**9)
    assert got == quantiles_in_groups(shifted.copy(), bounds, [5, 9], divisor)


@pytest.mark.parametrize(
    "kind", ["spread", "ties", "zeros", "huge", "one_code_equal", "codes_left_out"]
)
def test_gap_quantiles_by_buckets_equal_the_ordered_selection(kind: str) -> None:
    """Counts and per-code quantiles of the gaps from the bucket passes equal, to the last
    bit, those of the rows ordered by code (radix order, selection per code)."""
    rng = np.random.default_rng(len(kind))
    n, codes = (150_000, 40) if kind != "huge" else (3, 2)
    code = rng.integers(0, codes + 1, n)
    if kind == "spread":
        gaps = rng.exponential(7.7e10, n).astype(np.int64)
    elif kind == "ties":
        gaps = rng.integers(0, 3, n) * 900_000_000
    elif kind == "zeros":
        gaps = np.zeros(n, dtype=np.int64)
    elif kind == "huge":  # 61 bits: too wide beside the cell numbers, the lexsort branch
        gaps = np.array([2**61, 2**61 - 5, 2**60])
    elif kind == "one_code_equal":  # one code, every gap the same: all its rows ranked
        code[:] = 3
        gaps = np.full(n, 60_000_000)
    else:
        gaps = rng.integers(0, 10**9, n)
        code[rng.random(n) < 0.2] = -1  # neither counted nor ranked
    t = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(gaps, out=t[1:])
    counts, got = gap_quantiles_by_buckets(code, t, codes, (5, 9), divisor=1e6)
    kept = np.where((code >= 0) & (code < codes), code, codes)
    order, bounds = group_order(kept, codes + 1)
    gap = next_gaps_in_place(order[: bounds[codes]], t)
    assert counts.tolist() == np.diff(bounds[: codes + 1]).tolist()
    assert got == quantiles_in_groups(gap, bounds[: codes + 1], (5, 9), divisor=1e6)


def test_path_code_counts_by_hand() -> None:
    # paths: rows 0-1 (codes 1, 1), row 2 (1), rows 3-4 (0, 70) → code 1 on 2 paths,
    # 0 and 70 on 1; a code of 72 or -1 is left out
    starts = np.array([0, 2, 3, 5])
    got = path_code_counts(starts, np.array([1, 1, 1, 0, 70]), 72)
    assert (got[0], got[1], got[70], int(got.sum())) == (1, 2, 1, 4)
    assert path_code_counts(starts, np.array([72, -1, 5, 5, 5]), 72)[5] == 2
