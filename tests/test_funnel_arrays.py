"""The funnel's numpy path (``Paths.arrays`` set, label steps) against hand-computed values
and against the narwhals path on Polars for the same events.

Each case builds the Polars path frame with :func:`sort_paths` and a copy of it carrying
the same rows as :class:`PathArrays`; the copy must take the numpy path (the frame path is
made to fail while it runs) and give the frame path's figures.
"""

from __future__ import annotations

import dataclasses
import random
import sys
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any
from unittest import mock

import narwhals as nw
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from journeylens.analytics import funnel, sort_paths
from journeylens.analytics._arrays import PathArrays
from journeylens.analytics._common import Paths
from journeylens.analytics.funnel import FunnelResult
from journeylens.model import MatchRule

funnel_module = sys.modules["journeylens.analytics.funnel"]

T0 = datetime(2024, 5, 1, 12, 0, 0)
#: (unit, microseconds after T0, label); seq = row order.
Row = tuple[str, int, str]


def s(seconds: float) -> int:
    """Seconds as microseconds."""
    return round(seconds * 1_000_000)


def paths_of(rows: Sequence[Row]) -> tuple[Paths, Paths]:
    """The Polars path frame of ``rows`` and the same with its rows as arrays."""
    frame = pl.DataFrame(
        {
            "customer_id": [r[0] for r in rows],
            "event_name": [r[2] for r in rows],
            "occurred_at": [T0 + timedelta(microseconds=r[1]) for r in rows],
            "seq": list(range(1, len(rows) + 1)),
        },
        schema={
            "customer_id": pl.String,
            "event_name": pl.String,
            "occurred_at": pl.Datetime("us"),
            "seq": pl.Int64,
        },
    )
    plain = sort_paths(nw.from_native(frame.lazy()))
    arrays = PathArrays.from_rows([r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows])
    return plain, dataclasses.replace(plain, arrays=arrays)


def by_arrays(p: Paths, steps: Sequence[str | MatchRule], window: Any = None) -> FunnelResult:
    """The funnel of ``p``, failing if it reads the frame instead of the arrays."""
    assert p.arrays is not None
    with mock.patch.object(funnel_module, "_figures_from_frame", side_effect=AssertionError):
        return funnel(p, steps, window=window)


def summary(r: FunnelResult) -> list[tuple[Any, ...]]:
    """Per step: reached, median and p90 seconds, dropped, ended share, next events."""
    return [
        (
            x.reached,
            x.median_time_to_convert_s,
            x.p90_time_to_convert_s,
            x.dropped,
            x.ended_share,
            [(n.event, n.units) for n in x.next_events],
        )
        for x in r.steps
    ]


def same(a: FunnelResult, b: FunnelResult) -> None:
    """Equal results: counts and texts exactly, floats to 1e-9 relative."""
    assert (a.unit, a.total_units, a.window_s) == (b.unit, b.total_units, b.window_s)
    assert len(a.steps) == len(b.steps)
    for x, y in zip(a.steps, b.steps, strict=True):
        for field in dataclasses.fields(x):
            u, v = getattr(x, field.name), getattr(y, field.name)
            if isinstance(u, float) and isinstance(v, float):
                assert u == pytest.approx(v, rel=1e-9, abs=1e-12), field.name
            else:
                assert u == v, field.name


def run(rows: Sequence[Row], steps: Sequence[str], window: Any = None) -> FunnelResult:
    """The numpy path's result, checked equal to the narwhals path's."""
    plain, with_arrays = paths_of(rows)
    fast = by_arrays(with_arrays, steps, window)
    same(fast, funnel(plain, steps, window=window))
    return fast


@pytest.mark.parametrize(("last", "reached_c"), [(s(60), 1), (s(60) + 1, 0)])
def test_window_edge_at_the_last_level(last: int, reached_c: int) -> None:
    # a@0 → b@30 → c@last, W = 60 s: c exactly 60 s after a counts, 1 µs more does not
    r = run([("u", 0, "a"), ("u", s(30), "b"), ("u", last, "c")], ["a", "b", "c"], "60s")
    assert [x.reached for x in r.steps] == [1, 1, reached_c]
    if reached_c:
        assert r.steps[2].median_time_to_convert_s == 60.0
    else:
        # dropped at b: the event after b@30 is c
        assert (r.steps[1].dropped, r.steps[1].ended_share) == (1, 0.0)
        assert [(n.event, n.units) for n in r.steps[1].next_events] == [("c", 1)]


def test_window_edge_at_the_middle_level() -> None:
    # W = 10 s: b is 10 s + 1 µs after a, so the attempt stops at a although a later b
    # (at 12 s) would be followed by c; the path goes on to b after a
    rows = [("u", 0, "a"), ("u", s(10) + 1, "b"), ("u", s(12), "b"), ("u", s(13), "c")]
    r = run(rows, ["a", "b", "c"], 10)
    assert summary(r) == [
        (1, 0.0, 0.0, 1, 0.0, [("b", 1)]),
        (0, None, None, 0, None, []),
        (0, None, None, 0, None, []),
    ]


def test_later_attempt_goes_further() -> None:
    # W = 120 s. Attempt 1 a@0 → b@50, c@200 is 200 s after it: stops at b.
    # Attempt 2 a@100 → b@150 → c@200 (100 s). Time to b: attempt 1's 50 s (the earliest
    # reaching b); time to c: attempt 2's 100 s. Without W attempt 1 reaches c in 200 s.
    rows = [("u", s(t), x) for t, x in ((0, "a"), (50, "b"), (100, "a"), (150, "b"), (200, "c"))]
    r = run(rows, ["a", "b", "c"], 120)
    assert summary(r) == [
        (1, 0.0, 0.0, 0, None, []),
        (1, 50.0, 50.0, 0, None, []),
        (1, 100.0, 100.0, 0, None, []),
    ]
    plain = run(rows, ["a", "b", "c"])
    assert [x.median_time_to_convert_s for x in plain.steps] == [0.0, 50.0, 200.0]


def test_drop_off_follows_the_earliest_attempt_at_the_furthest_level() -> None:
    # W = 60 s, steps a, b, c; no c. Attempt 1 a@0 → b@10, then x; attempt 2 a@100 →
    # b@110, then y. The earliest attempt reaching b decides: the unit went to x.
    # Unit v: a@0 then ends, so it dropped at a with its path ended.
    rows = [
        ("u", 0, "a"),
        ("u", s(10), "b"),
        ("u", s(20), "x"),
        ("u", s(100), "a"),
        ("u", s(110), "b"),
        ("u", s(120), "y"),
        ("v", 0, "a"),
    ]
    r = run(rows, ["a", "b", "c"], 60)
    assert r.total_units == 2
    assert summary(r) == [
        (2, 0.0, 0.0, 1, 1.0, []),
        (1, 10.0, 10.0, 1, 0.0, [("x", 1)]),
        (0, None, None, 0, None, []),
    ]


def test_times_and_rates_over_units() -> None:
    # Units p, q, r reach b after 10, 20 and 40 s; w never starts; no window.
    # Median of (10, 20, 40) = 20; p90 at position 0.9 · 2 = 1.8: 20 + 0.8 · 20 = 36.
    rows = [
        ("p", 0, "a"),
        ("p", s(10), "b"),
        ("q", s(5), "a"),
        ("q", s(25), "b"),
        ("r", 0, "a"),
        ("r", s(40), "b"),
        ("w", 0, "b"),
    ]
    r = run(rows, ["a", "b"])
    assert r.total_units == 4
    a, b = r.steps
    assert (a.reached, a.step_conversion, a.share_of_all) == (3, 0.75, 0.75)
    assert (b.reached, b.conversion_from_start, b.step_conversion) == (3, 1.0, 1.0)
    assert b.median_time_to_convert_s == 20.0
    assert b.p90_time_to_convert_s == pytest.approx(36.0)


def test_repeated_step_and_ties_in_time() -> None:
    # steps a, a, b. Unit u: a, a, b all at the same instant (ordered by seq): reaches b
    # in 0 s. Unit v: a@0, b@1, a@2: its second a comes after the b, and no b follows it:
    # v stops at level 2 (2 s after its first a), its path ended there.
    # Level 2 times (0, 2): median 1, p90 at position 0.9: 0 + 0.9 · 2 = 1.8.
    rows = [
        ("u", 0, "a"),
        ("u", 0, "a"),
        ("u", 0, "b"),
        ("v", 0, "a"),
        ("v", s(1), "b"),
        ("v", s(2), "a"),
    ]
    r = run(rows, ["a", "a", "b"])
    assert summary(r) == [
        (2, 0.0, 0.0, 0, None, []),
        (2, 1.0, pytest.approx(1.8), 1, 1.0, []),
        (1, 0.0, 0.0, 0, None, []),
    ]


def test_unicode_labels_and_an_absent_step() -> None:
    # "zz" is no event's label: nobody reaches it; both units drop at "café" — ü went on
    # to 客 (twice the same next event counts the unit once, at its earliest attempt),
    # é's path ended there.
    rows = [("ü", 0, "café"), ("ü", s(1), "客"), ("ü", s(2), "café"), ("é", 0, "café")]
    r = run(rows, ["café", "zz"], "1h")
    assert summary(r) == [(2, 0.0, 0.0, 2, 0.5, [("客", 1)]), (0, None, None, 0, None, [])]


def test_single_step_and_single_event_paths() -> None:
    # one step: every unit with an a reaches it, nobody drops (there is no next level)
    r = run([("u", 0, "a"), ("v", 0, "b"), ("w", s(3), "a")], ["a"])
    assert summary(r) == [(2, 0.0, 0.0, 0, None, [])]
    assert r.total_units == 3


def test_empty_input() -> None:
    r = run([], ["a", "b"], 60)
    assert r.total_units == 0
    assert summary(r) == [(0, None, None, 0, None, []), (0, None, None, 0, None, [])]
    assert r.steps[0].share_of_all is None


def test_match_rule_steps_keep_the_frame_path() -> None:
    # A rule needs the frame's columns: with arrays set, the frame path still answers.
    plain, with_arrays = paths_of([("u", 0, "a"), ("u", s(1), "b")])
    with mock.patch.object(funnel_module, "_figures_from_arrays", side_effect=AssertionError):
        r = funnel(with_arrays, ["a", MatchRule(event="b")])
    assert [x.reached for x in r.steps] == [1, 1]
    same(r, funnel(plain, ["a", MatchRule(event="b")]))


LABELS = ["a", "b", "c", "é", "客"]


@st.composite
def logs(draw: st.DrawFn) -> list[Row]:
    """Small logs with many ties in time, single-event paths and unicode units/labels."""
    n = draw(st.integers(0, 30))
    return [
        (
            draw(st.sampled_from(["u1", "u2", "ü3", "客4", "u5"])),
            # whole seconds (ties) and now and then a microsecond off a second
            s(draw(st.integers(0, 40))) + draw(st.sampled_from([0, 0, 0, 1, -1])),
            draw(st.sampled_from(LABELS)),
        )
        for _ in range(n)
    ]


@settings(max_examples=150, deadline=None)
@given(
    rows=logs(),
    steps=st.lists(st.sampled_from([*LABELS, "zz"]), min_size=1, max_size=4),
    window=st.one_of(st.none(), st.integers(0, 20), st.sampled_from([2.5, "5s"])),
)
def test_arrays_path_equals_the_frame_path(rows: list[Row], steps: list[str], window: Any) -> None:
    run(rows, steps, window)


@pytest.mark.parametrize("window", [None, 0, 30, "2m"])
def test_random_log_equals_the_frame_path(window: Any) -> None:
    # 4,000 events of 300 units over 10 minutes, times on whole seconds (many ties),
    # 4 labels: long chains, many attempts per unit and windows cutting them anywhere.
    rng = random.Random(5)
    rows = [
        (f"u{rng.randrange(300)}", s(rng.randrange(600)), rng.choice("abcd")) for _ in range(4000)
    ]
    r = run(rows, ["a", "b", "a", "c", "d"], window)
    assert r.total_units == len({u for u, _, _ in rows})
