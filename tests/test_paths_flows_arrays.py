"""Top paths and flows read off the sorted path arrays (``Paths.arrays``, the numpy paths)
against hand-computed values and against the narwhals path on Polars for the same events.

A :class:`Paths` with arrays is the Polars path frame with ``PathArrays.from_rows`` of its
own rows attached: the analytics then take the numpy path, the same frame without arrays
the narwhals one. On DuckDB ``sort_paths`` hands the arrays over itself.
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

from journeylens.analytics import bind, flows, sort_paths, top_paths
from journeylens.analytics._arrays import PathArrays
from journeylens.analytics._common import Paths
from journeylens.analytics.binding import (
    STAGE_ID,
    STAGE_INDEX,
    STEP_ID,
    STEP_INDEX,
    TOUCHPOINT_INDEX,
)
from journeylens.analytics.flows import _level_codes
from journeylens.model import JourneyMap

T0 = datetime(2024, 3, 1)
Row = tuple[str, int, int, str | None]  # (customer, minute, seq, event name)


def _tp(tp_id: str, event: str) -> dict[str, Any]:
    return {"id": tp_id, "name": tp_id, "channel": "web", "match": [{"event": event}]}


#: look (browse: site, search) → buy (pay: checkout, confirm: receipt) → use (onboard: app).
MAP = JourneyMap.model_validate(
    {
        "id": "shop",
        "title": "Shop",
        "stages": [
            {
                "id": "look",
                "name": "Look",
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
                    {"id": "confirm", "name": "Confirm", "touchpoints": [_tp("rcpt", "receipt")]},
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


def _events(rows: Sequence[Row]) -> pa.Table:
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


def _polars(rows: Sequence[Row]) -> nw.LazyFrame[Any]:
    events = pl.from_arrow(_events(rows))
    assert isinstance(events, pl.DataFrame)
    return nw.from_native(events.lazy())


def _with_arrays(p: Paths, payload: Sequence[str] = ()) -> Paths:
    """``p`` with the arrays of its own rows attached (and the ``payload`` columns in their
    order): the analytics take the numpy path."""
    names = p.frame.collect_schema().names()
    tp = [TOUCHPOINT_INDEX] if TOUCHPOINT_INDEX in names else []
    frame = (
        p.frame.sort("unit_id", "pos")
        .select("unit_id", "t_us", "label", "seq", *tp, *payload)
        .collect()
    )
    cols = {c: frame[c].to_list() for c in frame.columns}
    arrays = PathArrays.from_rows(
        cols["unit_id"],
        cols["t_us"],
        cols["label"],
        seq=cols["seq"],
        touchpoint_index=cols[TOUCHPOINT_INDEX] if tp else None,
    )
    kept = {c: pa.array(cols[c]) for c in payload}
    return dataclasses.replace(p, arrays=dataclasses.replace(arrays, payload=kept))


def _top_both(p: Paths, **kw: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """(numpy, narwhals) ``top_paths`` of one path frame."""
    fast = _with_arrays(p)
    assert fast.arrays is not None
    assert p.arrays is None
    return top_paths(fast, **kw).to_dict(), top_paths(p, **kw).to_dict()


def _bound_paths(rows: Sequence[Row]) -> Paths:
    """The Polars path frame of the rows bound to the map, sorted with it (no arrays)."""
    return sort_paths(bind(_polars(rows), MAP), journey_map=MAP)


def _flows_both(p: Paths, **kw: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """(numpy, narwhals) ``flows`` of one path frame."""
    fast = _with_arrays(p)
    level = kw.get("level", "stage")
    column, index = (STAGE_ID, STAGE_INDEX) if level == "stage" else (STEP_ID, STEP_INDEX)
    assert _level_codes(fast, column, index) is not None  # the numpy path answers
    return flows(fast, **kw).to_dict(), flows(p, **kw).to_dict()


TOP_ROWS: list[Row] = [
    ("a", 0, 1, "x"), ("a", 1, 2, "y"), ("a", 2, 3, "y"), ("a", 3, 4, "z"),
    # b: a tie at minute 0, decided by seq: x (10), y (11), then z
    ("b", 0, 11, "y"), ("b", 0, 10, "x"), ("b", 1, 12, "z"),
    ("c", 0, 20, "x"), ("c", 1, 21, "y"), ("c", 2, 22, "y"), ("c", 3, 23, "z"),
    ("d", 0, 30, "z"),  # a single event
    ("e", 0, 40, "x"), ("e", 1, 41, "y"), ("e", 2, 42, "y"), ("e", 3, 43, "y"), ("e", 4, 44, "w"),
]  # fmt: skip


def test_top_paths_hand_computed() -> None:
    """First 3 events: a, c, e → x y y and longer (truncated); b → x y z; d → z."""
    p = sort_paths(_polars(TOP_ROWS))
    fast, slow = _top_both(p, max_length=3)
    assert fast == slow
    got = [(v["events"], v["truncated"], v["units"], v["share"]) for v in fast["paths"]]
    assert got == [
        (["x", "y", "y"], True, 3, 3 / 5),
        (["x", "y", "z"], False, 1, 1 / 5),  # ("x", "y", "z") < ("z",)
        (["z"], False, 1, 1 / 5),
    ]
    assert (fast["total_paths"], fast["distinct_variants"]) == (5, 3)
    # Collapsed: a, b, c → x y z (3 events: not truncated), e → x y w, d → z.
    fast, slow = _top_both(p, max_length=3, collapse=True)
    assert fast == slow
    collapsed = [(v["events"], v["truncated"], v["units"]) for v in fast["paths"]]
    assert collapsed == [
        (["x", "y", "z"], False, 3),
        (["x", "y", "w"], False, 1),
        (["z"], False, 1),
    ]
    # top=1 keeps the most common; top=2 breaks the tie at 1 unit by the events.
    fast, slow = _top_both(p, max_length=3, top=1)
    assert fast == slow
    assert [v["units"] for v in fast["paths"]] == [3]
    assert fast["distinct_variants"] == 3
    fast, slow = _top_both(p, max_length=3, top=2)
    assert fast == slow
    assert [v["events"] for v in fast["paths"]] == [["x", "y", "y"], ["x", "y", "z"]]
    # max_length=1: every path starts with x but d; 4 of them go on.
    fast, slow = _top_both(p, max_length=1)
    assert fast == slow
    assert [(v["events"], v["truncated"], v["units"]) for v in fast["paths"]] == [
        (["x"], True, 4),
        (["z"], False, 1),
    ]


def test_top_paths_label_codes_in_another_order() -> None:
    """Label codes need not follow the texts' order (an engine's collation): the codes of
    the same rows reversed give the same variants in the same order."""
    p = sort_paths(_polars(TOP_ROWS))
    fast = _with_arrays(p)
    a = fast.arrays
    assert a is not None
    last = len(a.labels) - 1
    flipped = dataclasses.replace(a, label=last - a.label, labels=a.labels[::-1])
    again = dataclasses.replace(fast, arrays=flipped)
    options: list[dict[str, Any]] = [
        {"max_length": 3, "top": 2},
        {"max_length": 2, "collapse": True},
    ]
    for kw in options:
        assert top_paths(again, **kw).to_dict() == top_paths(p, **kw).to_dict()


def test_top_paths_empty_and_wide_keys() -> None:
    """No events: no paths. 40 positions of 20 labels do not fit one 63-bit key: the rows
    of label codes are counted instead (same answer)."""
    empty = sort_paths(_polars([]))
    fast, slow = _top_both(empty, max_length=3)
    assert fast == slow
    assert (fast["total_paths"], fast["paths"]) == (0, [])
    rows: list[Row] = [
        (u, i, 100 * k + i, f"ev{(i * (k + 1)) % 20:02}")
        for k, u in enumerate(["p", "q", "r"])
        for i in range(45)
    ]
    rows += [("s", i, 1000 + i, f"ev{i % 20:02}") for i in range(45)]  # the same as p
    fast, slow = _top_both(sort_paths(_polars(rows)), max_length=40, top=3)
    assert fast == slow
    assert fast["paths"][0]["units"] == 2
    assert fast["paths"][0]["truncated"] is True


HAND: list[Row] = [
    # u1: look look (unbound) look buy buy look → look, buy, look; steps browse, pay,
    # confirm, browse
    ("u1", 0, 1, "page_view"), ("u1", 1, 2, "search"), ("u1", 2, 3, "other"),
    ("u1", 3, 4, "page_view"), ("u1", 4, 5, "purchase"), ("u1", 5, 6, "receipt"),
    ("u1", 6, 7, "page_view"),
    # u2: buy, use (a tie at minute 0 decided by seq: purchase 10 before other 11)
    ("u2", 0, 11, "other"), ("u2", 0, 10, "purchase"), ("u2", 1, 12, "app_open"),
    ("u3", 0, 20, "other"),  # nothing bound: no visit
    ("ü4", 0, 30, "search"),  # one visit
    # u5: look buy look buy (browse pay browse pay): the move look → buy twice
    ("u5", 0, 40, "page_view"), ("u5", 1, 41, "purchase"), ("u5", 2, 42, "page_view"),
    ("u5", 3, 43, "purchase"),
]  # fmt: skip


def test_flows_hand_computed() -> None:
    """Stage visits: look u1 ×2, ü4, u5 ×2 = 5 (3 units); buy u1, u2, u5 ×2 = 4 (3 units);
    use u2. Moves: look → buy u1 + u5 ×2 = 3 (2 units), buy → look u1 + u5 = 2 (2 units),
    buy → use u2. Markers: starts look (u1, ü4, u5), buy (u2); ends look (u1, ü4), buy
    (u5), use (u2)."""
    p = _bound_paths(HAND)
    fast, slow = _flows_both(p, markers=True)
    assert fast == slow
    assert [(n["id"], n["index"], n["visits"], n["units"]) for n in fast["nodes"]] == [
        ("look", 1, 5, 3),
        ("buy", 2, 4, 3),
        ("use", 3, 1, 1),
    ]
    links = [(x["source"], x["target"], x["value"], x["units"]) for x in fast["links"]]
    assert links == [
        ("look", "buy", 3, 2),
        ("path_start", "look", 3, 3),
        ("buy", "look", 2, 2),
        ("look", "path_end", 2, 2),
        ("buy", "path_end", 1, 1),
        ("buy", "use", 1, 1),
        ("path_start", "buy", 1, 1),
        ("use", "path_end", 1, 1),
    ]
    # Steps: browse u1 ×2, ü4, u5 ×2; pay u1, u2, u5 ×2; confirm u1; onboard u2.
    fast, slow = _flows_both(p, level="step")
    assert fast == slow
    assert [(n["id"], n["index"], n["visits"], n["units"]) for n in fast["nodes"]] == [
        ("browse", 1, 5, 3),
        ("pay", 2, 4, 3),
        ("confirm", 3, 1, 1),
        ("onboard", 4, 1, 1),
    ]
    links = [(x["source"], x["target"], x["value"], x["units"]) for x in fast["links"]]
    assert links == [
        ("browse", "pay", 3, 2),
        ("confirm", "browse", 1, 1),
        ("pay", "browse", 1, 1),
        ("pay", "confirm", 1, 1),
        ("pay", "onboard", 1, 1),
    ]


def test_flows_labelled_by_the_level_and_empty() -> None:
    """A path frame labelled by ``stage_id`` (no map): the label codes are the stages, the
    index the lowest ``stage_index`` of the visits. No bound event / no event: nothing."""
    bound = bind(_polars(HAND), MAP)
    p = sort_paths(bound, label=STAGE_ID)
    fast = _with_arrays(p, payload=[STAGE_INDEX])
    assert flows(fast, markers=True).to_dict() == flows(p, markers=True).to_dict()
    assert [n.visits for n in flows(fast).nodes] == [5, 4, 1]
    for rows in ([("u3", 0, 1, "other")], []):
        q = _bound_paths(rows)
        fast_d, slow_d = _flows_both(q, markers=True)
        assert fast_d == slow_d
        assert (fast_d["nodes"], fast_d["links"]) == ([], [])


def test_duckdb_sorted_arrays_give_the_polars_figures() -> None:
    """On DuckDB ``sort_paths`` hands over the arrays: top paths and flows (of the sorted
    frame, and of bound events sorted by the stage) answer from them without the frame."""
    import duckdb

    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    events = nw.from_native(con.from_arrow(_events(HAND + TOP_ROWS)))
    bound = bind(events, MAP)
    p = sort_paths(bound, previous=(STAGE_ID, STEP_ID), journey_map=MAP)
    assert p.arrays is not None
    ref = sort_paths(bind(_polars(HAND + TOP_ROWS), MAP), journey_map=MAP)
    options: list[dict[str, Any]] = [{"max_length": 3}, {"max_length": 2, "collapse": True}]
    for kw in options:
        assert top_paths(p, **kw).to_dict() == top_paths(ref, **kw).to_dict()
    for level in ("stage", "step"):
        assert flows(p, level=level, markers=True).to_dict() == (
            flows(ref, level=level, markers=True).to_dict()
        )
    assert "frame" not in p.__dict__  # the path frame was never built
    assert flows(bound, markers=True).to_dict() == flows(ref, markers=True).to_dict()


EVENTS = ["page_view", "search", "purchase", "receipt", "app_open", "other", "ünïcode"]
row = st.tuples(
    st.sampled_from(["u1", "u2", "ü3", "u4"]),
    st.integers(0, 3),  # few distinct minutes: many ties, decided by seq
    st.sampled_from([*EVENTS, None]),
)


def _numbered(rows: Sequence[tuple[str, int, str | None]]) -> list[Row]:
    return [(u, m, i, e) for i, (u, m, e) in enumerate(rows)]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(row, max_size=30),
    st.integers(1, 4),
    st.integers(1, 6),
    st.booleans(),
    st.booleans(),
)
def test_top_paths_same_as_narwhals(
    rows: list[tuple[str, int, str | None]], max_length: int, top: int, collapse: bool, keep: bool
) -> None:
    """Any events (null labels kept or not, ties, single events): the same variants."""
    p = sort_paths(_polars(_numbered(rows)), keep_unlabelled=keep)
    fast, slow = _top_both(p, max_length=max_length, top=top, collapse=collapse)
    assert fast == slow


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(row, max_size=30), st.sampled_from(["stage", "step"]), st.booleans())
def test_flows_same_as_narwhals(
    rows: list[tuple[str, int, str | None]], level: str, markers: bool
) -> None:
    """Any events (unbound ones, ties, single events): the same nodes and links."""
    p = _bound_paths(_numbered(rows))
    fast, slow = _flows_both(p, level=level, markers=markers)
    assert fast == slow


@pytest.mark.parametrize("seed", [1, 2])
def test_random_log_same_as_narwhals(seed: int) -> None:
    """A larger random log (600 events, 40 customers): every option agrees."""
    rng = random.Random(seed)
    rows = _numbered(
        [
            (f"c{rng.randrange(40)}", rng.randrange(50), rng.choice([*EVENTS, None]))
            for _ in range(600)
        ]
    )
    p = sort_paths(_polars(rows))
    options: list[dict[str, Any]] = [
        {"max_length": 5, "top": 50},
        {"max_length": 3, "top": 5, "collapse": True},
    ]
    for kw in options:
        fast, slow = _top_both(p, **kw)
        assert fast == slow
    q = _bound_paths(rows)
    for level in ("stage", "step"):
        fast_f, slow_f = _flows_both(q, level=level, markers=True)
        assert fast_f == slow_f
