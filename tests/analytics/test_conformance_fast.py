"""Planned vs actual read off a path frame sorted with the map (``sort_paths(...,
journey_map=…)``): the previous bound event is a touchpoint index, and the stages and steps
are looked up after one group-by of (unit, touchpoint, previous touchpoint).

Hand-computed on a small log (unbound events between bound ones, a tie broken by seq, a
unit without bound events, backtracks, two touchpoints of one step, two step edges of one
stage edge in one path) on DuckDB, Polars and Spark, and equal to the same analytic on
the bound events themselves on hypothesis-generated logs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import narwhals as nw
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.analytics.conftest import Make, builder

from journeylens.analytics import bind, sort_paths
from journeylens.analytics.conformance import MapOrder, _index_changes, conformance
from journeylens.model import JourneyMap

T0 = datetime(2024, 3, 1)


def _tp(tp_id: str, event: str) -> dict[str, Any]:
    return {"id": tp_id, "name": tp_id, "channel": "web", "match": [{"event": event}]}


MAP = JourneyMap.model_validate(
    {
        "id": "shop",
        "title": "Shop",
        "stages": [
            {
                "id": "look",
                "name": "Look",
                # two touchpoints of one step: a change of touchpoint that is no change of step
                "steps": [
                    {
                        "id": "browse",
                        "name": "Browse",
                        "touchpoints": [_tp("site", "page_view"), _tp("search", "search")],
                    }
                ],
            },
            {
                "id": "buy",
                "name": "Buy",
                "steps": [
                    {"id": "pay", "name": "Pay", "touchpoints": [_tp("checkout", "purchase")]},
                    {
                        "id": "confirm",
                        "name": "Confirm",
                        "touchpoints": [_tp("receipt", "receipt")],
                    },
                ],
            },
            {
                "id": "use",
                "name": "Use",
                "steps": [
                    {"id": "onboard", "name": "Onboard", "touchpoints": [_tp("app", "app_open")]}
                ],
            },
        ],
    }
)

#: The same map with one touchpoint per step (``search`` events stay unbound): the step
#: edges are then read without a group-by per unit.
_one = MAP.model_dump(mode="json")
_one["stages"][0]["steps"][0]["touchpoints"] = [_tp("site", "page_view")]
ONE_PER_STEP = JourneyMap.model_validate(_one)

HAND = [
    # u1: site, (unbound), search, checkout, receipt, site — browse → pay → confirm → browse,
    # look → buy → look: a backtrack; the unbound event does not break the sequence.
    ("u1", 0, 1, "page_view"), ("u1", 1, 2, "other"), ("u1", 2, 3, "search"),
    ("u1", 3, 4, "purchase"), ("u1", 4, 5, "receipt"), ("u1", 5, 6, "page_view"),
    # u2: a tie at minute 0 decided by seq: purchase (10) before app_open (11), then receipt:
    # buy → use → buy (a backtrack), and look skipped.
    ("u2", 0, 11, "app_open"), ("u2", 0, 10, "purchase"), ("u2", 1, 12, "receipt"),
    # u3: no bound event at all.
    ("u3", 0, 20, "other"), ("u3", 1, 21, "other"),
    # u4: look → buy twice by two step edges (browse → pay, browse → confirm): one path.
    ("u4", 0, 30, "page_view"), ("u4", 1, 31, "purchase"), ("u4", 2, 32, "page_view"),
    ("u4", 3, 33, "receipt"),
    # u5: one stage only, repeats and a change of touchpoint inside the step.
    ("u5", 0, 40, "page_view"), ("u5", 1, 41, "page_view"), ("u5", 2, 42, "search"),
]  # fmt: skip


def _events(make: Make, rows: Sequence[tuple[str, int, int, str]]) -> nw.LazyFrame[Any]:
    """Events from rows of (customer, minute, seq, event name)."""
    return make(
        {
            "customer_id": [r[0] for r in rows],
            "event_name": [r[3] for r in rows],
            "occurred_at": [T0 + timedelta(minutes=r[1]) for r in rows],
            "seq": [r[2] for r in rows],
        }
    )


def _fast(
    make: Make, rows: Sequence[tuple[str, int, int, str]], journey_map: JourneyMap = MAP
) -> Any:
    bound = bind(_events(make, rows), journey_map)
    p = sort_paths(bound, previous=("stage_id", "step_id"), journey_map=journey_map)
    # the frame carries the previous touchpoint index: the positions path is the one taken
    assert _index_changes(p, MapOrder.of(journey_map)) is not None
    return conformance(p, journey_map), bound


def _check_hand(r: Any) -> None:
    assert (r.paths, r.paths_without_bound_events) == (4, 1)
    assert (r.events, r.unbound_events, r.unbound_share) == (18, 3, 3 / 18)
    # u1 (buy → look), u2 (use → buy), u4 (buy → look) backtrack; u5 does not.
    assert (r.backtrack_paths, r.fitness, r.backtrack_share) == (3, 0.25, 0.75)
    assert [(e.source, e.target, e.transitions, e.paths) for e in r.backtracks] == [
        ("buy", "look", 2, 2), ("use", "buy", 1, 1),
    ]  # fmt: skip
    skips = {
        s.stage: (s.skipped, s.share, s.reached_later, s.share_of_reached_later) for s in r.skips
    }
    # beyond look: u1, u2, u4, of which u2 never reached look; beyond buy: u2 (reached buy)
    assert skips == {"look": (1, 0.25, 3, 1 / 3), "buy": (0, 0.0, 1, 0.0), "use": (0, 0.0, 0, None)}
    edges = {(e.level, e.source, e.target): (e.transitions, e.paths, e.designed) for e in r.edges}
    assert edges == {
        # look → buy: u1 once, u4 twice (by two step edges) — two paths
        ("stage", "look", "buy"): (3, 2, True),
        ("stage", "buy", "look"): (2, 2, False),
        ("stage", "buy", "use"): (1, 1, True),
        ("stage", "use", "buy"): (1, 1, False),
        ("step", "browse", "pay"): (2, 2, True),
        ("step", "pay", "confirm"): (1, 1, True),
        ("step", "confirm", "browse"): (1, 1, False),
        ("step", "pay", "onboard"): (1, 1, False),
        ("step", "onboard", "confirm"): (1, 1, False),
        ("step", "pay", "browse"): (1, 1, False),
        ("step", "browse", "confirm"): (1, 1, False),
        ("step", "confirm", "onboard"): (0, 0, True),  # designed, never seen
    }
    assert [(e.level, e.source, e.target) for e in r.unseen_designed_edges] == [
        ("step", "confirm", "onboard")
    ]
    # the edges sorted by volume, then source and target
    assert [(e.source, e.target) for e in r.edges if e.level == "stage"] == [
        ("look", "buy"), ("buy", "look"), ("buy", "use"), ("use", "buy"),
    ]  # fmt: skip


def test_hand_computed_on_the_map_sorted_path_frame(make: Make) -> None:
    r, bound = _fast(make, HAND)
    _check_hand(r)
    # the same answer from the bound events themselves and from a frame sorted without
    # the map (previous stage and step carried as text)
    assert r.to_dict() == conformance(bound, MAP).to_dict()
    plain = sort_paths(bound, previous=("stage_id", "step_id"))
    assert r.to_dict() == conformance(plain, MAP).to_dict()


def test_hand_computed_one_touchpoint_per_step(make: Make) -> None:
    """u1's search and u5's search are unbound now: u1 is site, checkout, receipt, site and
    u5 only site — the same stage and step edges as with two touchpoints."""
    r, bound = _fast(make, HAND, ONE_PER_STEP)
    assert (r.paths, r.paths_without_bound_events, r.unbound_events) == (4, 1, 5)
    steps = {(e.source, e.target): (e.transitions, e.paths) for e in r.edges if e.level == "step"}
    assert steps[("browse", "pay")] == (2, 2)
    assert steps[("pay", "browse")] == (1, 1)
    assert r.to_dict() == conformance(bound, ONE_PER_STEP).to_dict()


def test_another_map_than_the_frames_is_read_by_id(make: Make) -> None:
    """A frame sorted with one map, measured against another (stages in another order):
    the ids the frame looks up are compared with the second map's design."""
    _, bound = _fast(make, HAND)
    p = sort_paths(bound, previous=("stage_id", "step_id"), journey_map=MAP)
    flipped = JourneyMap.model_validate(
        {**MAP.model_dump(mode="json"), "stages": MAP.model_dump(mode="json")["stages"][::-1]}
    )
    assert _index_changes(p, MapOrder.of(flipped)) is None
    r = conformance(p, flipped)
    assert r.to_dict() == conformance(bound, flipped).to_dict()
    # use → buy → look is now the designed order: u1's look → buy is the backtrack
    assert {(e.source, e.target) for e in r.backtracks} == {("look", "buy"), ("buy", "use")}


def test_no_bound_event_at_all(make: Make) -> None:
    r, _ = _fast(make, [("u1", 0, 1, "other"), ("u2", 0, 2, "other"), ("u1", 1, 3, "page_view")])
    assert (r.paths, r.paths_without_bound_events, r.fitness) == (1, 1, 1.0)
    r, _ = _fast(make, [("u1", 0, 1, "other"), ("u2", 0, 2, "other")])
    assert (r.paths, r.paths_without_bound_events, r.events, r.unbound_events) == (0, 2, 2, 2)
    assert (r.fitness, r.backtrack_share, r.backtracks) == (None, None, ())
    assert [(s.skipped, s.share) for s in r.skips] == [(0, None)] * 3
    assert all(e.transitions == 0 and e.designed for e in r.edges)


@pytest.mark.slow
def test_hand_computed_on_spark(request: pytest.FixtureRequest) -> None:
    build = builder("spark", request)

    def make_spark(columns: Mapping[str, Sequence[Any]]) -> nw.LazyFrame[Any]:
        return build(pa.table({k: list(v) for k, v in columns.items()}))

    r, _ = _fast(make_spark, HAND)
    _check_hand(r)


row = st.tuples(
    st.sampled_from(["u1", "u2", "ü3"]),
    st.integers(0, 4),  # few distinct minutes: many ties
    st.sampled_from(["page_view", "search", "purchase", "receipt", "app_open", "other"]),
)


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(rows=st.lists(row, min_size=1, max_size=16))
@pytest.mark.parametrize("journey_map", [MAP, ONE_PER_STEP], ids=["two_per_step", "one_per_step"])
def test_equals_the_bound_events_on_generated_logs(
    make: Make, journey_map: JourneyMap, rows: list[tuple[str, int, str]]
) -> None:
    r, bound = _fast(make, [(u, m, i, e) for i, (u, m, e) in enumerate(rows)], journey_map)
    assert r.to_dict() == conformance(bound, journey_map).to_dict()
