"""The one shared sort: planned vs actual read off the path frame gives the same answer as
its own sort, and the one-pass window carries the previous bound stage and step.

Hand-computed on a small bound log, and compared on hypothesis-generated logs (ties,
unbound events, single-event paths) on DuckDB and Polars.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import narwhals as nw
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.analytics.conftest import Make, builder

from journeylens.analytics import sort_paths
from journeylens.analytics._common import AnalyticsError
from journeylens.analytics.conformance import conformance
from journeylens.model import JourneyMap

T0 = datetime(2024, 3, 1)
STEP_STAGE = {"browse": "look", "pay": "buy", "confirm": "buy", "onboard": "use"}

MAP = JourneyMap.model_validate(
    {
        "id": "shop",
        "title": "Shop",
        "stages": [
            {"id": "look", "name": "Look", "steps": [{"id": "browse", "name": "Browse"}]},
            {
                "id": "buy",
                "name": "Buy",
                "steps": [{"id": "pay", "name": "Pay"}, {"id": "confirm", "name": "Confirm"}],
            },
            {"id": "use", "name": "Use", "steps": [{"id": "onboard", "name": "Onboard"}]},
        ],
    }
)


def _bound(make: Make, rows: list[tuple[str, int, int, str | None]]) -> nw.LazyFrame[Any]:
    """Bound events from rows of (customer, minute, seq, step or None for unbound)."""
    return make(
        {
            "customer_id": [r[0] for r in rows],
            "unit_id": [r[0] for r in rows],
            "event_name": ["e" if r[3] else "other" for r in rows],
            "occurred_at": [T0 + timedelta(minutes=r[1]) for r in rows],
            "seq": [r[2] for r in rows],
            "step_id": [r[3] for r in rows],
            "stage_id": [STEP_STAGE[r[3]] if r[3] else None for r in rows],
            "touchpoint_id": [f"tp_{r[3]}" if r[3] else None for r in rows],
        }
    )


HAND = [
    # u1: browse, (unbound), pay, pay, browse — the unbound event does not break the
    # collapsed sequence look → buy → look (a backtrack).
    ("u1", 0, 1, "browse"), ("u1", 1, 2, None), ("u1", 2, 3, "pay"), ("u1", 3, 4, "pay"),
    ("u1", 4, 5, "browse"),
    # u2: a tie at minute 0 decided by seq: confirm (6) before onboard (7).
    ("u2", 0, 7, "onboard"), ("u2", 0, 6, "confirm"),
    ("u3", 0, 8, None),
]  # fmt: skip


def test_previous_bound_stage_and_step_from_one_sort(make: Make) -> None:
    p = sort_paths(_bound(make, HAND), previous=("stage_id", "step_id"))
    rows = (
        p.frame.select("unit_id", "pos", "prev_stage_id", "prev_step_id")
        .collect()
        .sort("unit_id", "pos")
        .rows()
    )
    assert rows == [
        ("u1", 1, None, None),
        ("u1", 2, "look", "browse"),
        ("u1", 3, "look", "browse"),  # the unbound event in between is skipped
        ("u1", 4, "buy", "pay"),
        ("u1", 5, "buy", "pay"),
        ("u2", 1, None, None),
        ("u2", 2, "buy", "confirm"),
        ("u3", 1, None, None),
    ]


def test_conformance_on_the_path_frame_hand_computed(make: Make) -> None:
    p = sort_paths(_bound(make, HAND), previous=("stage_id", "step_id"))
    r = conformance(p, MAP)
    # u1 backtracks (buy → look), u2 goes buy → use: fitness 1/2; u3 has no bound event.
    assert (r.paths, r.paths_without_bound_events, r.fitness) == (2, 1, 0.5)
    assert (r.events, r.unbound_events) == (8, 2)
    assert [(e.source, e.target, e.transitions) for e in r.backtracks] == [("buy", "look", 1)]
    stage_edges = {(e.source, e.target): e.transitions for e in r.edges if e.level == "stage"}
    assert stage_edges == {("look", "buy"): 1, ("buy", "look"): 1, ("buy", "use"): 1}
    assert r.to_dict() == conformance(_bound(make, HAND), MAP).to_dict()


def test_conformance_needs_the_carried_columns(make: Make) -> None:
    with pytest.raises(AnalyticsError, match="prev_stage_id"):
        conformance(sort_paths(_bound(make, HAND)), MAP)


def test_previous_needs_existing_columns(make: Make) -> None:
    with pytest.raises(AnalyticsError, match="no column\\(s\\) nope"):
        sort_paths(_bound(make, HAND), previous=("nope",))


row = st.tuples(
    st.sampled_from(["u1", "u2", "ü3"]),
    st.integers(0, 5),
    st.sampled_from([None, "browse", "pay", "confirm", "onboard"]),
)


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(rows=st.lists(row, min_size=1, max_size=14))
def test_conformance_path_frame_equals_own_sort(
    make: Make, rows: list[tuple[str, int, str | None]]
) -> None:
    indexed = [(u, m, i, s) for i, (u, m, s) in enumerate(rows)]
    bound = _bound(make, indexed)
    shared = conformance(sort_paths(bound, previous=("stage_id", "step_id")), MAP)
    assert shared.to_dict() == conformance(bound, MAP).to_dict()


@pytest.mark.slow
def test_previous_bound_stage_on_spark(request: pytest.FixtureRequest) -> None:
    """The Spark branch of the one-pass window (``last`` ignoring nulls over the rows before)."""
    import pyarrow as pa

    build = builder("spark", request)

    def make_spark(columns: Mapping[str, Sequence[Any]]) -> nw.LazyFrame[Any]:
        return build(pa.table({k: list(v) for k, v in columns.items()}))

    p = sort_paths(_bound(make_spark, HAND), previous=("stage_id", "step_id"))
    rows = sorted(p.frame.select("unit_id", "pos", "prev_stage_id").collect().rows())
    assert rows == [
        ("u1", 1, None),
        ("u1", 2, "look"),
        ("u1", 3, "look"),
        ("u1", 4, "buy"),
        ("u1", 5, "buy"),
        ("u2", 1, None),
        ("u2", 2, "buy"),
        ("u3", 1, None),
    ]
    assert conformance(p, MAP).fitness == 0.5
    again = sort_paths(p.frame, label="stage_id")  # numbered again: columns replaced
    assert again.frame.collect_schema().names().count("pos") == 1
    assert sorted(again.frame.select("unit_id", "pos").collect().rows())[-1] == ("u2", 2)


def test_transition_quantiles_by_sort_equal_aggregates(
    make: Make, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Above the threshold the per-edge median / p90 come from ranks: the same numbers."""
    # the package re-exports a function named ``transitions``: fetch the module itself
    tr = importlib.import_module("journeylens.analytics.transitions")

    # a → b gaps 60, 120, 600 s over two paths: median 120, p90 = 120 + 0.8·480 = 504.
    lf = make(
        {
            "customer_id": ["u1", "u1", "u1", "u1", "u2", "u2"],
            "event_name": ["a", "b", "a", "b", "a", "b"],
            "occurred_at": [T0 + timedelta(seconds=s) for s in (0, 60, 100, 220, 0, 600)],
            "seq": [1, 2, 3, 4, 5, 6],
        }
    )
    by_aggregate = tr.transitions(lf).to_dict()
    monkeypatch.setattr(tr, "QUANTILES_BY_SELECTION_ABOVE", 0)
    by_sort = tr.transitions(lf).to_dict()
    assert by_sort == by_aggregate
    ab = next(t for t in by_sort["transitions"] if (t["from"], t["to"]) == ("a", "b"))
    assert (ab["count"], ab["unique_paths"]) == (3, 2)
    assert ab["median_time_s"] == 120.0
    assert ab["p90_time_s"] == pytest.approx(504.0)


def test_a_path_frame_can_be_sorted_again_by_another_label(make: Make) -> None:
    """Flows re-sort a path frame by stage: the window columns are replaced, not doubled."""
    p = sort_paths(_bound(make, HAND), previous=("stage_id", "step_id"))
    again = sort_paths(p.frame, label="stage_id")
    names = again.frame.collect_schema().names()
    assert names.count("pos") == 1
    assert names.count("next_label") == 1
    rows = sorted(again.frame.select("unit_id", "pos", "label", "next_label").collect().rows())
    assert rows == [
        ("u1", 1, "look", "buy"),
        ("u1", 2, "buy", "buy"),
        ("u1", 3, "buy", "look"),
        ("u1", 4, "look", None),
        ("u2", 1, "buy", "use"),
        ("u2", 2, "use", None),
    ]
