"""Conformance: every part-A analytic on DuckDB, Polars and PySpark equals the reference.

Hypothesis generates event logs with many time ties (times drawn from a few seconds),
single-event paths, empty logs and unicode names; each engine's result is compared with
the pure-Python reference in ``reference.py``. Spark runs one combined log (and the empty
log) through every analytic: each Spark job costs about a second on this machine, so a
generated sweep would take many minutes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from statistics import mean
from typing import Any

import narwhals as nw
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.analytics.conftest import builder, events_table
from tests.analytics.reference import (
    Ev,
    funnel_ref,
    quantile,
    sessions_ref,
    step_matrix_ref,
    transitions_ref,
    variants_ref,
)

from journeylens.analytics import (
    funnel,
    sessions,
    sort_paths,
    step_matrix,
    top_paths,
    transitions,
)

T0 = datetime(2024, 1, 1)
UNITS = ["u1", "u2", "ü-3", "客户"]
NAMES = ["a", "b", "c", "é", "事件"]
STEPS = ["a", "b", "é"]


@st.composite
def event_logs(draw: st.DrawFn) -> list[Ev]:
    """Logs of 0–20 events; times within 4 s so ties are common; seq a permutation."""
    n = draw(st.integers(min_value=0, max_value=20))
    units = draw(st.lists(st.sampled_from(UNITS), min_size=n, max_size=n))
    names = draw(st.lists(st.sampled_from(NAMES), min_size=n, max_size=n))
    secs = draw(st.lists(st.integers(min_value=0, max_value=4), min_size=n, max_size=n))
    seqs = draw(st.permutations(list(range(1, n + 1))))
    return [
        Ev(u, T0 + timedelta(seconds=s), q, e)
        for u, e, s, q in zip(units, names, secs, seqs, strict=True)
    ]


def approx(value: float | None) -> Any:
    return None if value is None else pytest.approx(value)


def check_all(lf: nw.LazyFrame[Any], events: Sequence[Ev]) -> None:
    """Run every part-A analytic on ``lf`` and compare it with the reference."""
    p = sort_paths(lf)  # sort once; every path analytic below reuses it

    for markers in (False, True):
        got = {
            (t.from_, t.to): (
                t.count,
                t.unique_paths,
                approx(t.share),
                approx(t.probability),
                approx(t.median_time_s),
                approx(t.p90_time_s),
            )
            for t in transitions(p, markers=markers).transitions
        }
        want = {
            k: (
                v["count"],
                v["unique_paths"],
                v["share"],
                v["probability"],
                v["median_time_s"],
                v["p90_time_s"],
            )
            for k, v in transitions_ref(events, markers).items()
        }
        assert got == want

    sm = step_matrix(p, max_steps=4)
    ref = step_matrix_ref(events, 4) if events else {"path_end": [0.0] * 4}
    assert {r.event: pytest.approx(list(r.shares)) for r in sm.rows} == ref

    for window in (None, 2.0):
        f = funnel(p, STEPS, window=window)
        want_f = funnel_ref(events, STEPS, window)
        assert f.total_units == len({e.unit for e in events})
        for got_step, want_step in zip(f.steps, want_f, strict=True):
            assert got_step.reached == want_step["reached"]
            assert got_step.median_time_to_convert_s == approx(want_step["median"])
            assert got_step.p90_time_to_convert_s == approx(want_step["p90"])
            assert got_step.dropped == want_step["dropped"]
            assert {n.event: n.units for n in got_step.next_events} == want_step["next"]
            ended = want_step["ended"] / want_step["dropped"] if want_step["dropped"] else None
            assert got_step.ended_share == approx(ended)

    tp = top_paths(p, max_length=3, top=1000)
    assert {(v.events, v.truncated): v.units for v in tp.variants} == dict(variants_ref(events, 3))

    s = sessions(lf, timeout=1.5)
    ref_s = sessions_ref(events, 1.5) if events else []
    assert s.sessions == len(ref_s)
    assert s.events == len(events)
    lengths = [float(len(x)) for x in ref_s]
    durations = [(x[-1].t - x[0].t).total_seconds() for x in ref_s]
    assert s.events_per_session.mean == approx(mean(lengths) if lengths else None)
    assert s.events_per_session.median == approx(quantile(lengths, 0.5))
    assert s.duration_s.p90 == approx(quantile(durations, 0.9))


@pytest.fixture
def build(engine: str, request: pytest.FixtureRequest) -> Callable[[Sequence[Ev]], Any]:
    make = builder(engine, request)
    return lambda events: make(events_table(events))


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(events=event_logs())
def test_generated_logs_match_reference(
    build: Callable[[Sequence[Ev]], nw.LazyFrame[Any]], events: list[Ev]
) -> None:
    check_all(build(events), events)


# -- Spark ------------------------------------------------------------------------------------

COMBINED = [
    # ties at T0 broken by seq (3 before 1), a single-event path, unicode names
    Ev("u1", T0, 3, "b"),
    Ev("u1", T0, 1, "a"),
    Ev("u1", T0 + timedelta(seconds=1), 2, "b"),
    Ev("u1", T0 + timedelta(seconds=3), 4, "é"),
    Ev("u1", T0 + timedelta(seconds=4), 5, "a"),
    Ev("u2", T0, 6, "a"),
    Ev("u2", T0 + timedelta(seconds=2), 7, "事件"),
    Ev("u2", T0 + timedelta(seconds=2), 8, "b"),
    Ev("客户", T0 + timedelta(seconds=1), 9, "a"),
    Ev("ü-3", T0, 10, "c"),
    Ev("ü-3", T0 + timedelta(seconds=1), 11, "a"),
    Ev("ü-3", T0 + timedelta(seconds=4), 12, "b"),
    Ev("ü-3", T0 + timedelta(seconds=4), 13, "é"),
]


@pytest.mark.slow
@pytest.mark.parametrize("events", [COMBINED, []], ids=["combined", "empty"])
def test_spark_matches_reference(request: pytest.FixtureRequest, events: list[Ev]) -> None:
    make = builder("spark", request)
    check_all(make(events_table(events)), events)


@pytest.mark.parametrize("engine_name", ["duckdb", "polars"])
def test_combined_log_in_process_engines(request: pytest.FixtureRequest, engine_name: str) -> None:
    make = builder(engine_name, request)
    check_all(make(events_table(COMBINED)), COMBINED)
