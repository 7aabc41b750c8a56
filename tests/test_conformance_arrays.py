"""Planned vs actual read off the path frame's sorted arrays (``Paths.arrays``): the change
rows, per-path figures and edge volumes as linear numpy passes.

The arrays are built here from the rows of a Polars path frame sorted with the map
(:meth:`PathArrays.from_rows`) and attached to it, so the same frame answers once by the
narwhals code and once by the arrays. Hand-computed on a small log (unbound events between
bound ones, a tie broken by seq, a unit without bound events, backtracks, two touchpoints
of one step, a repeated edge in one path), and equal to the narwhals path on randomized
logs (ties, single-event paths, empty input, unicode unit ids and event names).
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import narwhals as nw
import polars as pl
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from journeylens.analytics import bind, sort_paths
from journeylens.analytics._arrays import PathArrays
from journeylens.analytics._common import Paths
from journeylens.analytics.binding import STAGE_ID, STEP_ID, TOUCHPOINT_INDEX
from journeylens.analytics.conformance import (
    MapOrder,
    _array_counts,
    _edge_rows,
    _position_tables,
    conformance,
)
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
                # two touchpoints of one step: a change of touchpoint, no change of step
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

#: One touchpoint per step (``search`` stays unbound).
_one = MAP.model_dump(mode="json")
_one["stages"][0]["steps"][0]["touchpoints"] = [_tp("site", "page_view")]
ONE_PER_STEP = JourneyMap.model_validate(_one)

#: 70 stages of one step and one touchpoint each (``e0`` … ``e69``): more stages than one
#: bit mask per path holds, so the reached stages are found stage by stage.
MANY = JourneyMap.model_validate(
    {
        "id": "many",
        "title": "Many",
        "stages": [
            {
                "id": f"g{i:02}",
                "name": f"G{i}",
                "steps": [
                    {"id": f"s{i:02}", "name": f"S{i}", "touchpoints": [_tp(f"t{i}", f"e{i}")]}
                ],
            }
            for i in range(70)
        ],
    }
)

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


def _events(rows: Sequence[tuple[str, int, int, str]]) -> pa.Table:
    """Events of rows (customer, minute, seq, event name)."""
    return pa.table(
        {
            "customer_id": pa.array([r[0] for r in rows], pa.string()),
            "event_name": pa.array([r[3] for r in rows], pa.string()),
            "occurred_at": pa.array(
                [T0 + timedelta(minutes=r[1]) for r in rows], pa.timestamp("us")
            ),
            "seq": pa.array([r[2] for r in rows], pa.int64()),
        }
    )


def _paths(rows: Sequence[tuple[str, int, int, str]], journey_map: JourneyMap) -> Paths:
    """The Polars path frame of the rows' events bound to the map and sorted with it — no
    arrays: conformance takes the narwhals path."""
    events = pl.from_arrow(_events(rows))
    assert isinstance(events, pl.DataFrame)
    bound = bind(nw.from_native(events.lazy()), journey_map)
    return sort_paths(bound, previous=(STAGE_ID, STEP_ID), journey_map=journey_map)


def _with_arrays(p: Paths) -> Paths:
    """``p`` with the arrays of its own rows attached: conformance takes the numpy path."""
    frame = p.frame.select("unit_id", "t_us", "label", "seq", TOUCHPOINT_INDEX).collect()
    cols = {c: frame[c].to_list() for c in frame.columns}
    arrays = PathArrays.from_rows(
        cols["unit_id"],
        cols["t_us"],
        cols["label"],
        seq=cols["seq"],
        touchpoint_index=cols[TOUCHPOINT_INDEX],
    )
    return dataclasses.replace(p, arrays=arrays)


def _both(rows: Sequence[tuple[str, int, int, str]], journey_map: JourneyMap = MAP) -> Any:
    """(numpy result, narwhals result) on the same path frame."""
    p = _paths(rows, journey_map)
    fast = _with_arrays(p)
    # the numpy path is taken (it answers) on the frame with arrays, and only there
    assert _array_counts(fast, MapOrder.of(journey_map), {}) is not None
    assert _array_counts(p, MapOrder.of(journey_map), {}) is None
    return conformance(fast, journey_map), conformance(p, journey_map)


def test_hand_computed_from_the_arrays() -> None:
    r, narwhals = _both(HAND)
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
    assert r.to_dict() == narwhals.to_dict()


def test_hand_computed_one_touchpoint_per_step() -> None:
    """u1's and u5's search are unbound now: u1 is site, checkout, receipt, site."""
    r, narwhals = _both(HAND, ONE_PER_STEP)
    assert (r.paths, r.paths_without_bound_events, r.unbound_events) == (4, 1, 5)
    steps = {(e.source, e.target): (e.transitions, e.paths) for e in r.edges if e.level == "step"}
    assert steps[("browse", "pay")] == (2, 2)
    assert steps[("pay", "browse")] == (1, 1)
    assert r.to_dict() == narwhals.to_dict()


def test_no_bound_event_and_empty_input() -> None:
    r, narwhals = _both([("u1", 0, 1, "other"), ("u2", 0, 2, "other")])
    assert (r.paths, r.paths_without_bound_events, r.events, r.unbound_events) == (0, 2, 2, 2)
    assert (r.fitness, r.backtrack_share, r.backtracks) == (None, None, ())
    assert [(s.skipped, s.share) for s in r.skips] == [(0, None)] * 3
    assert all(e.transitions == 0 and e.designed for e in r.edges)
    assert r.to_dict() == narwhals.to_dict()
    r, narwhals = _both([])
    assert (r.paths, r.paths_without_bound_events, r.events, r.unbound_share) == (0, 0, 0, None)
    assert r.to_dict() == narwhals.to_dict()


def test_more_stages_than_one_bit_mask() -> None:
    """70 stages: u1 goes g00 → g69 → g03 (skips g01 … g68 but g03, backtracks), u2 stays
    in g68; the stages reached are counted stage by stage."""
    rows = [("u1", 0, 1, "e0"), ("u1", 1, 2, "e69"), ("u1", 2, 3, "e3"), ("u2", 0, 4, "e68")]
    r, narwhals = _both(rows, MANY)
    assert (r.paths, r.backtrack_paths) == (2, 1)
    skips = {s.stage: (s.skipped, s.reached_later) for s in r.skips}
    # beyond g00 … g67: u1 (furthest g69) and u2 (g68); u2 reached none of them, u1 g00, g03
    assert (skips["g00"], skips["g01"], skips["g03"]) == ((1, 2), (2, 2), (1, 2))
    # beyond g68: u1 only, which never reached it; beyond g69: nobody
    assert (skips["g68"], skips["g69"]) == ((1, 1), (0, 0))
    assert r.to_dict() == narwhals.to_dict()


def test_position_tables_and_edge_rows() -> None:
    """Stage positions of the touchpoints site, search, checkout, receipt, app and 0 for
    NONE; the edge rows of hand-made change rows (paths 1, 1, 1, 2, 2)."""
    import numpy as np

    stage_of, step_of = _position_tables(MAP)
    assert stage_of.tolist() == [1, 1, 2, 2, 3, 0]
    assert step_of.tolist() == [1, 1, 2, 3, 4, 0]
    assert stage_of.dtype == np.int16
    # change rows of two paths (starting at rows 0 and 3): 1 → 2 → 1, then 1 → 2 → 2
    prev = np.array([0, 1, 2, 0, 1, 2], np.int16)
    cur = np.array([1, 2, 1, 1, 2, 2], np.int16)
    rows = _edge_rows("stage", prev, cur, np.array([0, 3]), 3)
    assert sorted((r["prev"], r["cur"], r["transitions"], r["paths"]) for r in rows) == [
        (1, 2, 2, 2), (2, 1, 1, 1),
    ]  # fmt: skip


def test_more_edges_than_one_bit_mask() -> None:
    """Random walks over the 70 stages: more distinct stage and step edges than one bit
    mask per path holds, so the paths per edge are counted from a sort by edge."""
    rnd = random.Random(7)
    rows = [(f"u{rnd.randrange(12)}", i, i, f"e{rnd.randrange(70)}") for i in range(600)]
    r, narwhals = _both(rows, MANY)
    assert sum(1 for e in r.edges if e.level == "stage" and e.transitions) > 62
    assert any(e.paths > 1 for e in r.edges)
    assert r.to_dict() == narwhals.to_dict()


def test_duckdb_path_frame_reads_the_arrays_only() -> None:
    """On DuckDB ``sort_paths`` hands over the arrays: conformance answers from them without
    building the frame, with the figures of the Polars frame."""
    import duckdb

    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    events = nw.from_native(con.from_arrow(_events(HAND)))
    p = sort_paths(bind(events, MAP), previous=(STAGE_ID, STEP_ID), journey_map=MAP)
    assert p.arrays is not None
    r = conformance(p, MAP)
    assert "frame" not in p.__dict__  # the path frame was never built
    assert r.to_dict() == conformance(_paths(HAND, MAP), MAP).to_dict()
    assert (r.paths, r.backtrack_paths, r.unbound_events) == (4, 3, 3)


EVENTS = ["page_view", "search", "purchase", "receipt", "app_open", "other", "ünïcode"]
row = st.tuples(
    st.sampled_from(["u1", "u2", "ü3", "u4"]),
    st.integers(0, 3),  # few distinct minutes: many ties, decided by seq
    st.sampled_from(EVENTS),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.lists(row, max_size=18))
@pytest.mark.parametrize("journey_map", [MAP, ONE_PER_STEP], ids=["two_per_step", "one_per_step"])
def test_equals_the_narwhals_path_on_generated_logs(
    journey_map: JourneyMap, rows: list[tuple[str, int, str]]
) -> None:
    indexed = [(u, m, i, e) for i, (u, m, e) in enumerate(rows)]
    r, narwhals = _both(indexed, journey_map)
    assert r.to_dict() == narwhals.to_dict()


def test_equals_the_narwhals_path_on_a_larger_random_log() -> None:
    """Longer paths than hypothesis draws (many backtracks and repeated edges per path)."""
    rnd = random.Random(5)
    rows = [
        (f"u{rnd.randrange(40)}", rnd.randrange(30), i, rnd.choice(EVENTS)) for i in range(2000)
    ]
    r, narwhals = _both(rows)
    assert r.paths > 30
    assert r.backtrack_paths > 0
    assert r.to_dict() == narwhals.to_dict()
