"""Transitions of a path frame kept with unlabelled events (``keep_unlabelled=True``)."""

from __future__ import annotations

from datetime import datetime, timedelta

import narwhals as nw
import polars as pl
import pytest

from journeylens.analytics import sort_paths, transitions


@pytest.mark.parametrize("engine", ["duckdb", "polars"])
def test_an_edge_from_an_unlabelled_event(engine: str) -> None:
    """c: a, (no label), b, one minute apart; d: (no label), b after two minutes. The
    unlabelled events are kept: the edge (none) → b has 2 transitions on 2 paths, times
    60 and 120 s (median 90, p90 = 60 + 0.9·60 = 114)."""
    t0 = datetime(2024, 1, 1)
    df = pl.DataFrame(
        {
            "customer_id": ["c", "c", "c", "d", "d"],
            "event_name": pl.Series(["a", None, "b", None, "b"], dtype=pl.String),
            "occurred_at": [t0, t0 + timedelta(minutes=1), t0 + timedelta(minutes=2), t0,
                            t0 + timedelta(minutes=2)],
            "seq": [1, 2, 3, 4, 5],
        }
    )  # fmt: skip
    if engine == "duckdb":
        import duckdb

        con = duckdb.connect()
        con.execute("SET TimeZone = 'UTC'")
        frame = nw.from_native(con.from_arrow(df.to_arrow()))
    else:
        frame = nw.from_native(df.lazy())
    r = transitions(sort_paths(frame, keep_unlabelled=True))
    edge = next(t for t in r.transitions if t.from_ is None)
    assert (edge.to, edge.count, edge.unique_paths) == ("b", 2, 2)
    assert edge.median_time_s == pytest.approx(90.0)
    assert edge.p90_time_s == pytest.approx(114.0)
