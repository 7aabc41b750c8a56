"""Planned vs actual and time in stage: hand-computed example, ties, and a pure-Python
reference on generated logs (DuckDB and Polars)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import narwhals as nw
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.analytics_b.conftest import Make
from tests.analytics_b.maps import shop_map
from tests.analytics_b.reference_b import Ev, conformance_reference, time_in_stage_reference

from journeylens.analytics.conformance import conformance
from journeylens.analytics.timing import time_in

T0 = datetime(2024, 3, 1)
STEP_STAGE = {"browse": "look", "pay": "buy", "confirm": "buy", "onboard": "use"}
STEP_TP = {"browse": "site", "pay": "checkout", "confirm": "receipt", "onboard": "app_home"}
STAGES = ["look", "buy", "use"]


def _frame(make: Make, rows: list[tuple[str, int, int, str | None]]) -> nw.LazyFrame[Any]:
    """rows of (unit, hour, seq, step or None for an unbound event)."""
    return make(
        {
            "unit_id": [r[0] for r in rows],
            "occurred_at": [T0 + timedelta(hours=r[1]) for r in rows],
            "seq": [r[2] for r in rows],
            "step_id": [r[3] for r in rows],
            "stage_id": [STEP_STAGE[r[3]] if r[3] else None for r in rows],
            "touchpoint_id": [STEP_TP[r[3]] if r[3] else None for r in rows],
        }
    )


HAND = [
    ("u1", 0, 1, "browse"), ("u1", 1, 2, "pay"), ("u1", 2, 3, "confirm"), ("u1", 3, 4, "onboard"),
    ("u2", 0, 5, "browse"), ("u2", 1, 6, "onboard"), ("u2", 2, 7, "browse"), ("u2", 3, 8, None),
    ("u3", 0, 9, "pay"), ("u3", 1, 10, "pay"), ("u3", 2, 11, None),
    ("u4", 0, 12, None), ("u4", 1, 13, None),
    # A tie at the same instant: seq (ingestion order) decides — confirm (20) before browse (21).
    ("u5", 0, 21, "browse"), ("u5", 0, 20, "confirm"),
]  # fmt: skip


def test_hand_computed_conformance(make: Make) -> None:
    r = conformance(_frame(make, HAND), shop_map())
    assert (r.paths, r.paths_without_bound_events) == (4, 1)  # u4 has no bound event
    # Backtracks: u2 (use → look) and u5 (buy → look, by seq) → fitness 2/4.
    assert (r.fitness, r.backtrack_paths, r.backtrack_share) == (0.5, 2, 0.5)
    assert [(e.source, e.target, e.paths) for e in r.backtracks] == [
        ("buy", "look", 1), ("use", "look", 1),
    ]  # fmt: skip
    # Skips: look skipped by u3 (reached buy only); buy skipped by u2 (reached use).
    skips = {s.stage: (s.skipped, s.share, s.reached_later) for s in r.skips}
    assert skips == {"look": (1, 0.25, 4), "buy": (1, 0.25, 2), "use": (0, 0.0, 0)}
    assert (r.unbound_events, r.events, r.unbound_share) == (4, 15, pytest.approx(4 / 15))
    undesigned = {(e.level, e.source, e.target, e.transitions) for e in r.undesigned_edges}
    assert undesigned == {
        ("stage", "look", "use", 1), ("stage", "use", "look", 1), ("stage", "buy", "look", 1),
        ("step", "browse", "onboard", 1), ("step", "onboard", "browse", 1),
        ("step", "confirm", "browse", 1),
    }  # fmt: skip
    assert r.unseen_designed_edges == ()
    assert r.to_frame().num_rows == len(r.edges) == 11


def test_designed_edges_never_seen_have_volume_zero(make: Make) -> None:
    r = conformance(_frame(make, [("u1", 0, 1, "browse"), ("u1", 1, 2, "onboard")]), shop_map())
    unseen = {(e.level, e.source, e.target, e.transitions) for e in r.unseen_designed_edges}
    assert unseen == {
        ("stage", "look", "buy", 0), ("stage", "buy", "use", 0),
        ("step", "browse", "pay", 0), ("step", "pay", "confirm", 0),
        ("step", "confirm", "onboard", 0),
    }  # fmt: skip


def test_unbound_input_is_a_clear_error(make: Make) -> None:
    with pytest.raises(ValueError, match=r"stage_id.*bind the map first"):
        conformance(make({"unit_id": ["u"], "occurred_at": [T0], "seq": [1]}), shop_map())


def test_hand_computed_time_in_stage(make: Make) -> None:
    r = time_in(_frame(make, HAND), shop_map())
    look, buy, use = r.get("look"), r.get("buy"), r.get("use")
    assert look is not None
    assert buy is not None
    assert use is not None
    # look: u1 0→1h, u2 0→1h (use), u5 0→0 (tie broken by map order) → [3600, 3600, 0]
    assert (look.n, look.open, look.median_s, look.mean_s) == (3, 0, 3600.0, 2400.0)
    assert look.p90_s == pytest.approx(3600.0)
    # buy: u1 1h→3h = 7200; u3 and u5 never reach a next stage.
    assert (buy.n, buy.open, buy.median_s) == (1, 2, 7200.0)
    assert (use.n, use.open, use.median_s) == (0, 2, None)
    steps = time_in(_frame(make, HAND), shop_map(), level="step")
    pay = steps.get("pay")
    assert pay is not None
    assert (pay.n, pay.median_s) == (1, 3600.0)


events_strategy = st.lists(
    st.tuples(
        st.sampled_from(["a", "b", "c", "ü"]),
        st.integers(0, 5),  # few distinct hours: many ties
        st.sampled_from([None, "browse", "pay", "confirm", "onboard"]),
    ),
    max_size=25,
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rows=events_strategy)
def test_matches_reference_on_generated_logs(
    make: Make, rows: list[tuple[str, int, str | None]]
) -> None:
    indexed = [(u, h, i, s) for i, (u, h, s) in enumerate(rows)]
    evs = [
        Ev(
            u,
            T0 + timedelta(hours=h),
            i,
            STEP_STAGE[s] if s else None,
            s,
            STEP_TP[s] if s else None,
        )
        for u, h, i, s in indexed
    ]
    if not rows:
        return  # an empty frame has no column types to build from; covered by the engines
    ref = conformance_reference(evs, STAGES)
    got = conformance(_frame(make, indexed), shop_map())
    assert got.paths == ref["paths"]
    assert got.fitness == (pytest.approx(ref["fitness"]) if ref["fitness"] is not None else None)
    assert got.backtrack_share == (
        pytest.approx(ref["backtrack_share"]) if ref["backtrack_share"] is not None else None
    )
    assert {s.stage: s.skipped for s in got.skips} == ref["skips"]
    assert got.unbound_share == pytest.approx(ref["unbound_share"])
    seen = {
        (e.source, e.target): e.transitions
        for e in got.edges
        if e.level == "stage" and e.transitions
    }
    assert seen == ref["edges"]
    ref_time = time_in_stage_reference(evs, STAGES)
    got_time = time_in(_frame(make, indexed), shop_map())
    for stage in STAGES:
        n, median = ref_time[stage]
        row = got_time.get(stage)
        assert (row.n if row else 0) == n
        assert (row.median_s if row else None) == (
            pytest.approx(median) if median is not None else None
        )
