"""The path frame sorted once into arrays (DuckDB): ``sort_paths`` hands over
``Paths.arrays`` and builds the frame from them only when read; that frame equals the
partitioned window's, row for row, on hand-computed and generated logs.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import duckdb
import narwhals as nw
import numpy as np
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.analytics.test_path_frame import MAP

from journeylens.analytics import _common, bind, sort_paths
from journeylens.analytics._arrays import NONE, PathArrays, previous_bound
from journeylens.analytics.binding import STAGE_ID, STEP_ID
from journeylens.engine.sorted import epoch_us, sort_to_arrays

T0 = datetime(2024, 3, 1)


def _duck(rows: list[tuple[str | None, int, int, str | None]]) -> nw.LazyFrame[Any]:
    """Events on DuckDB from (customer, second, seq, event name) rows."""
    table = pa.table(
        {
            "customer_id": pa.array([r[0] for r in rows], pa.string()),
            "event_name": pa.array([r[3] for r in rows], pa.string()),
            "occurred_at": pa.array(
                [T0 + timedelta(seconds=r[1]) for r in rows], pa.timestamp("us")
            ),
            "seq": pa.array([r[2] for r in rows], pa.int64()),
        }
    )
    con = duckdb.connect()
    return nw.from_native(con.from_arrow(table))


def _frame_rows(p: Any) -> list[tuple[Any, ...]]:
    lf = p.frame
    names = sorted(lf.collect_schema().names())
    return sorted(lf.select(names).collect().rows(), key=lambda r: tuple(map(str, r)))


HAND = [
    ("b", 5, 1, "x"),
    ("a", 0, 3, "y"),
    ("a", 0, 2, "x"),  # a tie in time: seq 2 before 3
    ("a", 7, 4, "é"),
    ("c", 1, 5, "x"),
]


def test_arrays_hand_computed() -> None:
    p = sort_paths(_duck(HAND))
    a = p.arrays
    assert a is not None
    assert a.unit_ids.to_pylist() == ["a", "b", "c"]
    assert a.starts.tolist() == [0, 3, 4, 5]
    assert a.labels == ("x", "y", "é")  # by code point, as the engine orders text
    assert [a.labels[c] for c in a.label] == ["x", "y", "é", "x", "x"]
    assert (a.t_us - a.t_us[0]).tolist() == [0, 0, 7_000_000, 5_000_000, 1_000_000]
    assert a.pos.tolist() == [1, 2, 3, 1, 1]
    assert a.next_label.tolist() == [1, 2, NONE, NONE, NONE]
    assert a.gap_s[:2].tolist() == [0.0, 7.0]
    assert np.isnan(a.gap_s[2:]).all()


def test_frame_is_built_only_when_read() -> None:
    p = sort_paths(_duck(HAND))
    assert "frame" not in p.__dict__  # the arrays are enough for the analytics that read them
    rows = sorted(p.frame.select("unit_id", "pos", "label", "next_label", "gap_s").collect().rows())
    assert rows == [
        ("a", 1, "x", "y", 0.0),
        ("a", 2, "y", "é", 7.0),
        ("a", 3, "é", None, None),
        ("b", 1, "x", None, None),
        ("c", 1, "x", None, None),
    ]
    assert p.frame is p.frame  # built once


def test_only_duckdb_hands_over_arrays() -> None:
    import polars as pl

    events = pl.DataFrame(
        {
            "customer_id": ["a"],
            "event_name": ["x"],
            "occurred_at": [T0],
            "seq": [1],
        }
    )
    assert sort_paths(events).arrays is None


def test_large_frames_null_times_and_lazy_sorts_keep_the_window(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert sort_paths(_duck(HAND), materialise=False).arrays is None
    monkeypatch.setattr(_common, "ARRAYS_MAX_ROWS", 4)
    assert sort_paths(_duck(HAND)).arrays is None  # 5 rows > 4
    monkeypatch.setattr(_common, "ARRAYS_MAX_ROWS", 5)
    assert sort_paths(_duck(HAND)).arrays is not None
    con = duckdb.connect()
    null_time = con.sql(
        "SELECT 'a' AS customer_id, 'x' AS event_name, CAST(NULL AS TIMESTAMP) AS occurred_at, "
        "1 AS seq"
    )
    p = sort_paths(nw.from_native(null_time))
    assert p.arrays is None
    assert p.frame.select("pos").collect().rows() == [(1,)]


def test_unlabelled_events_kept_as_null_codes() -> None:
    p = sort_paths(_duck([("a", 0, 1, "x"), ("a", 1, 2, None)]), keep_unlabelled=True)
    assert p.arrays is not None
    assert p.arrays.label.tolist() == [0, NONE]
    assert p.arrays.next_label.tolist() == [NONE, NONE]
    rows = sorted(p.frame.select("pos", "label", "next_label").collect().rows())
    assert rows == [(1, "x", None), (2, None, None)]


def test_sort_to_arrays_codes_ints_and_payload() -> None:
    con = duckdb.connect()
    rel = con.sql(
        "SELECT * FROM (VALUES ('u2', 3, 'b', NULL, 'p'), ('u1', 2, 'a', 7, 'q'), "
        "('u1', 1, NULL, 1, 'r')) AS t(u, o, l, i, x)"
    )
    s = sort_to_arrays(nw.from_native(rel), "u", ["o"], label="l", ints=["i"], payload=["x"])
    assert s.units.to_pylist() == ["u1", "u2"]
    assert s.starts.tolist() == [0, 2, 3]
    assert s.label_values == ("a", "b")
    assert s.label.tolist() == [NONE, 0, 1]
    assert s.ints["i"].tolist() == [1, 7, NONE]
    assert s.payload["x"].to_pylist() == ["r", "q", "p"]


def test_epoch_us_of_every_unit() -> None:
    t = datetime(2024, 1, 2, 3, 4, 5, 678901)
    us = 1704164645678901
    assert epoch_us(pa.chunked_array([pa.array([t], pa.timestamp("us"))])).tolist() == [us]
    assert epoch_us(pa.chunked_array([pa.array([t], pa.timestamp("ms"))])).tolist() == [
        1704164645678000
    ]
    assert epoch_us(pa.chunked_array([pa.array([t], pa.timestamp("s"))])).tolist() == [
        1704164645000000
    ]
    ns = pa.chunked_array([pa.array([us * 1000 + 999], pa.timestamp("ns"))])
    assert epoch_us(ns).tolist() == [us]  # floored to the microsecond
    assert epoch_us(pa.chunked_array([pa.array([None], pa.timestamp("us"))])) is None
    assert epoch_us(pa.chunked_array([pa.array([1], pa.int64())])) is None


def _previous_reference(index: list[int], lengths: list[int]) -> list[int]:
    out: list[int] = []
    at = 0
    for n in lengths:
        last = NONE
        for i in range(at, at + n):
            out.append(last)
            if index[i] != NONE:
                last = index[i]
        at += n
    return out


@given(
    paths=st.lists(st.lists(st.integers(NONE, 3), min_size=1, max_size=6), min_size=1, max_size=8)
)
def test_previous_bound_equals_a_forward_fill(paths: list[list[int]]) -> None:
    index = [x for p in paths for x in p]
    lengths = [len(p) for p in paths]
    starts = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    got = previous_bound(np.asarray(index, np.int32), starts)
    assert got.tolist() == _previous_reference(index, lengths)


def test_from_rows_matches_the_engine_sort() -> None:
    rows = [(u, s, q, e) for (u, s, q, e) in HAND]
    mine = PathArrays.from_rows(
        [r[0] for r in rows],
        [r[1] * 1_000_000 for r in rows],
        [r[3] for r in rows],
        seq=[r[2] for r in rows],
    )
    engine = sort_paths(_duck(HAND)).arrays
    assert engine is not None
    assert mine.starts.tolist() == engine.starts.tolist()
    assert mine.labels == engine.labels
    assert mine.label.tolist() == engine.label.tolist()


row = st.tuples(
    st.sampled_from(["u1", "u2", "ü3", "客户"]),
    st.integers(0, 4),
    st.sampled_from(["view", "prod_a", "pay", "cash", "ok", "other", "事件"]),
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.lists(row, max_size=16))
def test_frame_from_arrays_equals_the_window_frame(rows: list[tuple[str, int, str]]) -> None:
    """Every column of every row, bound with a map (previous stage / step carried by the
    touchpoint index), the window's frame against the one built from the arrays."""
    events = _duck([(u, s, i, e) for i, (u, s, e) in enumerate(rows)])
    bound = bind(events, MAP)
    kwargs: dict[str, Any] = {"previous": (STAGE_ID, STEP_ID), "journey_map": MAP}
    from_arrays = sort_paths(bound, **kwargs)
    assert from_arrays.arrays is not None  # also for no events: empty arrays
    saved = _common.ARRAYS_MAX_ROWS
    _common.ARRAYS_MAX_ROWS = -1  # the window path
    try:
        windowed = sort_paths(bound, **kwargs)
    finally:
        _common.ARRAYS_MAX_ROWS = saved
    assert windowed.arrays is None
    assert dict(from_arrays.frame.collect_schema()) == dict(windowed.frame.collect_schema())
    assert _frame_rows(from_arrays) == _frame_rows(windowed)


def test_many_chunks_equal_the_window_frame(monkeypatch: pytest.MonkeyPatch) -> None:
    """60k events (many vectors and Arrow batches, two threads): the same frame."""
    con = duckdb.connect()
    con.execute("SET threads = 2")
    rel = con.sql(
        "SELECT 'c' || (i % 997) AS customer_id, "
        "TIMESTAMP '2024-01-01' + to_seconds(CAST(hash(i) % 5000 AS BIGINT)) AS occurred_at, "
        "i AS seq, 'e' || (hash(i, 2) % 7) AS event_name FROM range(60000) t(i)"
    )
    events = nw.from_native(rel)
    from_arrays = sort_paths(events)
    assert from_arrays.arrays is not None
    assert from_arrays.arrays.units == 997
    monkeypatch.setattr(_common, "ARRAYS_MAX_ROWS", -1)
    windowed = sort_paths(events)
    assert windowed.arrays is None
    assert _frame_rows(from_arrays) == _frame_rows(windowed)


@pytest.mark.parametrize(
    "time_type", ["TIMESTAMP", "TIMESTAMPTZ", "TIMESTAMP_NS", "TIMESTAMP_MS", "TIMESTAMP_S"]
)
def test_every_time_type_gives_the_window_frame(
    monkeypatch: pytest.MonkeyPatch, time_type: str
) -> None:
    """Microsecond times travel through the sort as integers and come back as the same
    timestamp type (with its zone); other precisions travel as they are."""
    con = duckdb.connect()
    con.execute("SET TimeZone = 'Europe/Berlin'")
    rel = con.sql(
        f"SELECT 'c' || (i % 7) AS customer_id, CAST(TIMESTAMP '2024-03-31 00:30:00' "
        f"+ to_seconds(CAST(i * 997 % 9000 AS BIGINT)) AS {time_type}) AS occurred_at, "
        "i AS seq, 'e' || (i % 3) AS event_name FROM range(200) t(i)"
    )
    events = nw.from_native(rel)
    from_arrays = sort_paths(events)
    assert from_arrays.arrays is not None
    monkeypatch.setattr(_common, "ARRAYS_MAX_ROWS", -1)
    windowed = sort_paths(events)
    assert dict(from_arrays.frame.collect_schema()) == dict(windowed.frame.collect_schema())
    assert _frame_rows(from_arrays) == _frame_rows(windowed)


def test_asked_text_columns_travel_as_codes(monkeypatch: pytest.MonkeyPatch) -> None:
    """A text column kept with ``columns=`` comes back as a dictionary of its sorted
    distinct texts (nulls as nulls), and the frame shows the texts, as the window's does."""
    con = duckdb.connect()
    rel = con.sql(
        "SELECT * FROM (VALUES ('a', TIMESTAMP '2024-01-01 00:00:02', 1, 'x', 'web'), "
        "('a', TIMESTAMP '2024-01-01 00:00:01', 2, 'y', NULL), "
        "('b', TIMESTAMP '2024-01-01 00:00:00', 3, 'x', 'app')) "
        "AS t(customer_id, occurred_at, seq, event_name, channel)"
    )
    events = nw.from_native(rel)
    p = sort_paths(events, columns=["channel"])
    assert p.arrays is not None
    channel = p.arrays.payload["channel"]
    assert pa.types.is_dictionary(channel.type)
    assert channel.dictionary.to_pylist() == ["app", "web"]
    assert channel.to_pylist() == [None, "web", "app"]  # rows in (unit, time) order
    monkeypatch.setattr(_common, "ARRAYS_MAX_ROWS", -1)
    windowed = sort_paths(events, columns=["channel"])
    assert dict(p.frame.collect_schema()) == dict(windowed.frame.collect_schema())
    assert _frame_rows(p) == _frame_rows(windowed)


def test_top_paths_of_unlabelled_events_equal_the_window(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A null label kept in a path (keep_unlabelled) is no event at its position: u0's
    [""] and u3's ["", null] are one variant ("",) of 2 units, as the window frame has it."""
    from journeylens.analytics import top_paths

    events = _duck([("u3", 1, 1, ""), ("u0", 0, 2, ""), ("u3", 1, 3, None)])
    p = sort_paths(events, keep_unlabelled=True)
    assert p.arrays is not None
    got = top_paths(p, max_length=3)
    assert got.distinct_variants == 1
    assert [(v.events, v.units) for v in got.variants] == [(("",), 2)]
    monkeypatch.setattr(_common, "ARRAYS_MAX_ROWS", -1)
    windowed = top_paths(sort_paths(events, keep_unlabelled=True), max_length=3)
    assert windowed.to_dict() == got.to_dict()


def test_transitions_of_many_labels_take_the_frame(monkeypatch: pytest.MonkeyPatch) -> None:
    """Beyond MAX_EDGE_CODES possible edges (and 4 per event) the arrays would hold a few
    integers per possible edge: the path frame's group-by counts them, with the same
    result."""
    import importlib

    from journeylens.analytics import transitions

    # the module (the package's name `transitions` is the function)
    transitions_module = importlib.import_module("journeylens.analytics.transitions")

    rows = [("a", 0, 1, "x"), ("a", 1, 2, "y"), ("a", 2, 3, "z"), ("b", 0, 4, "w")]
    rows += [("b", 1, 5, "v"), ("b", 2, 6, "x")]
    p = sort_paths(_duck(rows))
    by_arrays = transitions(p, markers=True).to_dict()
    assert "frame" not in p.__dict__
    # 5 labels: 30 possible edge codes, more than 10 and than 4 per event (24)
    monkeypatch.setattr(transitions_module, "MAX_EDGE_CODES", 10)
    q = sort_paths(_duck(rows))
    assert transitions(q, markers=True).to_dict() == by_arrays
    assert "frame" in q.__dict__  # read off the frame


def test_wide_text_columns_and_switched_off_scans_keep_the_window(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Kept text columns that do not travel as codes count against ARRAYS_MAX_BYTES (here:
    5 rows × 80 bytes + 38 bytes of ``note`` text: 8 + 7 + 8 + 7 + 8); a connection without Python
    replacement scans cannot hand the rows over; dates are not timestamps. Each keeps the
    window, with the same frame."""
    con = duckdb.connect()
    rel = con.sql(
        "SELECT customer_id, occurred_at, seq, event_name, repeat('n', 7 + seq % 2) AS note "
        "FROM (VALUES ('a', TIMESTAMP '2024-01-01 00:00:01', 1, 'x'), "
        "('a', TIMESTAMP '2024-01-01 00:00:02', 2, 'y'), "
        "('b', TIMESTAMP '2024-01-01 00:00:00', 3, 'x'), "
        "('b', TIMESTAMP '2024-01-01 00:00:05', 4, 'z'), "
        "('c', TIMESTAMP '2024-01-01 00:00:03', 5, 'y')) AS t(customer_id, occurred_at, seq, "
        "event_name)"
    )
    events = nw.from_native(rel)
    monkeypatch.setattr(_common, "ARRAYS_MAX_BYTES", 5 * 80 + 38)
    assert sort_paths(events).arrays is not None  # 438 bytes: within
    monkeypatch.setattr(_common, "ARRAYS_MAX_BYTES", 5 * 80 + 37)
    wide = sort_paths(events)
    assert wide.arrays is None
    assert sort_paths(events, columns=["note"]).arrays is not None  # coded: no text held
    monkeypatch.undo()
    con.execute("SET python_enable_replacements = false")
    switched_off = sort_paths(events)
    assert switched_off.arrays is None
    assert _frame_rows(switched_off) == _frame_rows(wide)
    dates = con.sql(
        "SELECT 'a' AS customer_id, DATE '2024-01-01' AS occurred_at, 1 AS seq, 'x' AS event_name"
    )
    assert sort_paths(nw.from_native(dates)).arrays is None
