"""Exact per-group median / p90 by selection (``grouped_quantiles``), against numpy."""

from __future__ import annotations

from typing import Any

import duckdb
import narwhals as nw
import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from journeylens.analytics._common import grouped_quantiles


def _frames(rows: list[tuple[str, float | None]]) -> dict[str, nw.LazyFrame[Any]]:
    keys = [k for k, _ in rows]
    vals = [v for _, v in rows]
    polars = pl.LazyFrame({"k": keys, "v": vals}, schema={"k": pl.String, "v": pl.Float64})
    con = duckdb.connect()
    rel = con.from_arrow(polars.collect().to_arrow())
    return {"polars": nw.from_native(polars), "duckdb": nw.from_native(rel)}


def _numpy(rows: list[tuple[str, float | None]]) -> dict[tuple[Any, ...], tuple[float, float]]:
    by: dict[str, list[float]] = {}
    for k, v in rows:
        if v is not None:
            by.setdefault(k, []).append(v)
    return {(k,): (float(np.quantile(v, 0.5)), float(np.quantile(v, 0.9))) for k, v in by.items()}


@pytest.mark.parametrize("engine", ["duckdb", "polars"])
def test_hand_computed(engine: str) -> None:
    # a: 1 2 4 10 → median 3, p90 = 4 + 0.7·6 = 8.2; b: one value; c: only nulls (absent);
    # d: ties around the median, a negative and a zero: −5 0 0 0 3 → median 0, p90 1.8
    rows = [("a", 1.0), ("a", 10.0), ("a", 2.0), ("a", 4.0), ("b", 7.0), ("c", None)]
    rows += [("d", 0.0), ("d", -5.0), ("d", 3.0), ("d", 0.0), ("d", 0.0)]
    got = grouped_quantiles(_frames(rows)[engine], ["k"], "v")
    assert got.keys() == {("a",), ("b",), ("d",)}
    assert got[("a",)] == pytest.approx((3.0, 8.2))
    assert got[("b",)] == (7.0, 7.0)
    assert got[("d",)] == pytest.approx((0.0, 1.8))


@pytest.mark.parametrize("engine", ["duckdb", "polars"])
def test_ranks_inside_a_crowded_bucket(engine: str) -> None:
    """10,001 distinct values in one narrow range (a handful of buckets): the median and
    p90 are neither a bucket's first nor last value, so they are ranked (second pass)."""
    values = [1000.0 + i / 1000 for i in range(10_001)]
    got = grouped_quantiles(_frames([("x", v) for v in values])[engine], ["k"], "v")
    assert got[("x",)] == pytest.approx((1005.0, 1009.0))


values = st.one_of(
    st.none(),
    st.sampled_from([0.0, 1.0, 1.0, 60.0, -2.5]),
    st.floats(-1e7, 1e7, allow_nan=False, allow_infinity=False),
)


@settings(max_examples=60, deadline=None)
@given(rows=st.lists(st.tuples(st.sampled_from(["a", "b", "ü|1:", ""]), values), max_size=60))
def test_equals_numpy(rows: list[tuple[str, float | None]]) -> None:
    want = _numpy(rows)
    for engine, lf in _frames(rows).items():
        got = grouped_quantiles(lf, ["k"], "v")
        assert got.keys() == want.keys(), engine
        for key, (median, p90) in want.items():
            assert got[key][0] == pytest.approx(median, rel=1e-12, abs=1e-9), (engine, key)
            assert got[key][1] == pytest.approx(p90, rel=1e-12, abs=1e-9), (engine, key)


def test_on_spark(request: pytest.FixtureRequest) -> None:
    """Spark: the same hand-computed figures, a crowded bucket included (second pass)."""
    import pyarrow as pa
    from tests.analytics.conftest import builder

    rows = [("a", 1.0), ("a", 10.0), ("a", 2.0), ("a", 4.0), ("b", 7.0), ("c", None)]
    rows += [("x", 1000.0 + i / 100) for i in range(1001)]
    build = builder("spark", request)
    lf = build(
        pa.table({"k": [k for k, _ in rows], "v": pa.array([v for _, v in rows], pa.float64())})
    )
    got = grouped_quantiles(lf, ["k"], "v")
    assert got.keys() == {("a",), ("b",), ("x",)}
    assert got[("a",)] == pytest.approx((3.0, 8.2))
    assert got[("b",)] == (7.0, 7.0)
    assert got[("x",)] == pytest.approx((1005.0, 1009.0))
