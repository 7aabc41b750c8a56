"""The funnel's attempt chains, hand-computed, on DuckDB and Polars (and on Spark, in one log).

The funnel follows every attempt (each occurrence of s1) greedily through one join per
level and reads the per-unit figures as minima over the attempts that reached each level
(funnel.py). These cases pin the edges of that: the window boundary at every level, a
later attempt going further than an earlier one, ties in time, a step that appears twice
in the funnel, units that only start. Each expected value is worked out next to it.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.analytics.conftest import T0, MakeEvents, builder, events_table, log
from tests.analytics.reference import Ev, funnel_ref

from journeylens.analytics import funnel, sort_paths
from journeylens.analytics.funnel import FunnelResult


def summary(r: FunnelResult) -> list[tuple[int, float | None, int, float | None, dict[str, int]]]:
    """Per step: reached, median time to convert, dropped, ended share, next events."""
    return [
        (
            s.reached,
            s.median_time_to_convert_s,
            s.dropped,
            s.ended_share,
            {n.event: n.units for n in s.next_events},
        )
        for s in r.steps
    ]


@pytest.mark.parametrize(("last", "reached_c"), [(60, 1), (61, 0)])
def test_window_edge_at_the_last_level(make_events: MakeEvents, last: int, reached_c: int) -> None:
    # a@0 → b@30 → c@last with W = 60 s: c exactly 60 s after a counts, 61 s does not
    events = log(("u", 0, "a"), ("u", 30, "b"), ("u", last, "c"))
    r = funnel(make_events(events), ["a", "b", "c"], window="60s")
    assert [s.reached for s in r.steps] == [1, 1, reached_c]
    if reached_c:
        assert r.steps[2].median_time_to_convert_s == pytest.approx(60.0)
    else:
        # dropped at b: the event after b@30 is c@61
        assert (r.steps[1].dropped, r.steps[1].ended_share) == (1, 0.0)
        assert [(n.event, n.units) for n in r.steps[1].next_events] == [("c", 1)]


def test_window_edge_a_microsecond_past(make_events: MakeEvents) -> None:
    # b is W + 1 µs after a: outside the window
    events = [Ev("u", T0, 1, "a"), Ev("u", T0 + timedelta(seconds=60, microseconds=1), 2, "b")]
    r = funnel(make_events(events), ["a", "b"], window=60)
    assert [s.reached for s in r.steps] == [1, 0]


def test_later_attempt_goes_further(make_events: MakeEvents) -> None:
    # W = 120 s. Attempt 1 a@0 → b@50, c@200 is 200 s after it: stops at b (50 s).
    # Attempt 2 a@100 → b@150 → c@200 (100 s). The unit reached c; the time to b is the
    # earliest attempt reaching b (attempt 1: 50 s), the time to c attempt 2's (100 s).
    events = log(("u", 0, "a"), ("u", 50, "b"), ("u", 100, "a"), ("u", 150, "b"), ("u", 200, "c"))
    r = funnel(make_events(events), ["a", "b", "c"], window=120)
    assert summary(r) == [
        (1, 0.0, 0, None, {}),
        (1, 50.0, 0, None, {}),
        (1, 100.0, 0, None, {}),
    ]
    # without a window the first attempt reaches c: 200 s
    plain = funnel(make_events(events), ["a", "b", "c"])
    assert [s.median_time_to_convert_s for s in plain.steps] == [0.0, 50.0, 200.0]


def test_drop_off_follows_the_earliest_attempt_at_the_furthest_level(
    make_events: MakeEvents,
) -> None:
    # W = 60 s, steps a, b, c. Attempt 1 a@0 → b@10 (then x); attempt 2 a@100 → b@110
    # (then y); no c. Both reach b: the earliest (attempt 1) decides the next event: x.
    events = log(
        ("u", 0, "a"),
        ("u", 10, "b"),
        ("u", 11, "x"),
        ("u", 100, "a"),
        ("u", 110, "b"),
        ("u", 111, "y"),
    )
    r = funnel(make_events(events), ["a", "b", "c"], window=60)
    assert summary(r)[1] == (1, 10.0, 1, 0.0, {"x": 1})
    # a@0, a@100, b@150 with W = 60: only attempt 2 reaches b (50 s); after b the path ends
    late = log(("v", 0, "a"), ("v", 100, "a"), ("v", 150, "b"))
    r2 = funnel(make_events(late), ["a", "b", "c"], window=60)
    assert summary(r2)[1] == (1, 50.0, 1, 1.0, {})


def test_ties_in_time_follow_seq(make_events: MakeEvents) -> None:
    # All at T0. u: a (seq 1), b (seq 2) → reaches b in 0 s. v: b (seq 3) before a (seq 4)
    # → only a. w: a (seq 6), then b (seq 5) → b comes first: only a.
    events = [
        Ev("u", T0, 1, "a"),
        Ev("u", T0, 2, "b"),
        Ev("v", T0, 3, "b"),
        Ev("v", T0, 4, "a"),
        Ev("w", T0, 6, "a"),
        Ev("w", T0, 5, "b"),
    ]
    for window in (None, 0):
        r = funnel(make_events(events), ["a", "b"], window=window)
        # v and w end their paths at a; W = 0 still admits a tie in time
        assert summary(r) == [(3, 0.0, 2, 1.0, {}), (1, 0.0, 0, None, {})]


def test_step_repeated_in_the_funnel(make_events: MakeEvents) -> None:
    # steps a, b, a: the third step needs an a after the b.
    # u: a@0 b@10 a@20 → all three (20 s). v: a@0 a@10 b@20 → a, b; no a after b (ended).
    events = log(
        ("u", 0, "a"), ("u", 10, "b"), ("u", 20, "a"), ("v", 0, "a"), ("v", 10, "a"), ("v", 20, "b")
    )
    for window in (None, 60):
        r = funnel(make_events(events), ["a", "b", "a"], window=window)
        # times to b: u 10, v 20 (the earliest attempt, a@0) → median 15
        assert summary(r) == [
            (2, 0.0, 0, None, {}),
            (2, 15.0, 1, 1.0, {}),
            (1, 20.0, 0, None, {}),
        ]
    # the same event cannot be two steps: a single a does not reach a → a
    assert [s.reached for s in funnel(make_events(log(("u", 0, "a"))), ["a", "a"]).steps] == [1, 0]


def test_units_with_only_the_first_step(make_events: MakeEvents) -> None:
    # u: a, then z. v: a and nothing else. w: no a at all (counts in the total only).
    events = log(("u", 0, "a"), ("u", 5, "z"), ("v", 0, "a"), ("w", 0, "q"))
    r = funnel(make_events(events), ["a", "b", "c"], window=60)
    assert r.total_units == 3
    # 2 reach a (share 2/3); both drop there: u went on to z, v's path ended (1/2)
    assert summary(r) == [
        (2, 0.0, 2, 0.5, {"z": 1}),
        (0, None, 0, None, {}),
        (0, None, 0, None, {}),
    ]
    assert r.steps[0].share_of_all == pytest.approx(2 / 3)
    assert r.steps[1].step_conversion == 0.0


def test_shared_path_frame_gives_the_same_funnel(make_events: MakeEvents) -> None:
    # the path frame sorted once (any row order on DuckDB) or raw events: same result
    events = log(("u", 0, "a"), ("u", 50, "b"), ("u", 100, "a"), ("u", 150, "b"), ("u", 200, "c"))
    lf = make_events(events)
    shared = funnel(sort_paths(lf), ["a", "b", "c"], window=120)
    assert shared == funnel(lf, ["a", "b", "c"], window=120)


# -- against the reference: repeated steps and longer funnels -----------------------------

NAMES = ["a", "b", "c"]


@st.composite
def event_logs(draw: st.DrawFn) -> list[Ev]:
    """Logs of 0–16 events over 2 units and 3 names; times within 5 s (many ties)."""
    n = draw(st.integers(min_value=0, max_value=16))
    units = draw(st.lists(st.sampled_from(["u", "v"]), min_size=n, max_size=n))
    names = draw(st.lists(st.sampled_from(NAMES), min_size=n, max_size=n))
    secs = draw(st.lists(st.integers(min_value=0, max_value=5), min_size=n, max_size=n))
    seqs = draw(st.permutations(list(range(1, n + 1))))
    return [
        Ev(u, T0 + timedelta(seconds=s), q, e)
        for u, e, s, q in zip(units, names, secs, seqs, strict=True)
    ]


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(events=event_logs())
def test_repeated_steps_match_reference(make_events: MakeEvents, events: list[Ev]) -> None:
    p = sort_paths(make_events(events))
    for steps in (["a", "b", "a"], ["a", "b", "c", "b"]):
        for window in (None, 2.0):
            got = funnel(p, steps, window=window)
            want = funnel_ref(events, steps, window)
            for g, w in zip(got.steps, want, strict=True):
                assert g.reached == w["reached"]
                assert g.median_time_to_convert_s == (
                    None if w["median"] is None else pytest.approx(w["median"])
                )
                assert g.p90_time_to_convert_s == (
                    None if w["p90"] is None else pytest.approx(w["p90"])
                )
                assert g.dropped == w["dropped"]
                assert {n.event: n.units for n in g.next_events} == w["next"]
                ended = w["ended"] / w["dropped"] if w["dropped"] else None
                assert g.ended_share == (None if ended is None else pytest.approx(ended))


# -- Spark: the same edge cases in one log -------------------------------------------------

EDGES = [
    *log(
        # a later attempt goes further (W = 120: a@0 stops at b, a@100 reaches c)
        ("u", 0, "a"),
        ("u", 50, "b"),
        ("u", 100, "a"),
        ("u", 150, "b"),
        ("u", 200, "c"),
        # c exactly W after a, and one second past it
        ("w", 0, "a"),
        ("w", 30, "b"),
        ("w", 120, "c"),
        ("x", 0, "a"),
        ("x", 30, "b"),
        ("x", 121, "c"),
        # a step repeated in the funnel (a, b, a) and a unit with only a
        ("v", 0, "a"),
        ("v", 10, "a"),
        ("v", 20, "b"),
        ("y", 0, "a"),
        ("y", 5, "z"),
    ),
    # a tie at one instant: seq puts a first
    Ev("t", T0, 102, "b"),
    Ev("t", T0, 101, "a"),
]


@pytest.mark.slow
def test_spark_edge_cases_match_reference(request: pytest.FixtureRequest) -> None:
    p = sort_paths(builder("spark", request)(events_table(EDGES)))
    for steps in (["a", "b", "c"], ["a", "b", "a"]):
        for window in (None, 120.0):
            got = funnel(p, steps, window=window)
            want = funnel_ref(EDGES, steps, window)
            assert [s.reached for s in got.steps] == [w["reached"] for w in want]
            assert [s.median_time_to_convert_s for s in got.steps] == [
                None if w["median"] is None else pytest.approx(w["median"]) for w in want
            ]
            assert [s.p90_time_to_convert_s for s in got.steps] == [
                None if w["p90"] is None else pytest.approx(w["p90"]) for w in want
            ]
            assert [s.dropped for s in got.steps] == [w["dropped"] for w in want]
            assert [{n.event: n.units for n in s.next_events} for s in got.steps] == [
                w["next"] for w in want
            ]
    # hand-computed, W = 120 over a, b, c: all 6 units reach a; b: u (50 s, the earliest
    # attempt), w, x (30 s), v (20 s), t (0 s) → 5; c: u (100 s, attempt 2), w (120 s) → 2
    r = funnel(p, ["a", "b", "c"], window=120)
    assert [s.reached for s in r.steps] == [6, 5, 2]
    assert r.steps[2].median_time_to_convert_s == pytest.approx(110.0)
