"""The frame layer: files and frames become canonical lazy frames on every engine."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import narwhals as nw
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from tests.analytics.conftest import Make, builder

from journeylens.engine.frames import (
    ColumnRoles,
    FrameError,
    extract_properties,
    to_lazy,
    with_epoch_us,
)

CSV = "user_id,event,timestamp\nb,view,2024-01-01 00:00:05\na,view,2024-01-01 00:00:00\na,buy,2024-01-01 00:00:00\n"


@pytest.fixture
def csv_file(tmp_path: Path) -> Path:
    path = tmp_path / "events.csv"
    path.write_text(CSV, encoding="utf-8")
    return path


@pytest.mark.parametrize("engine", ["duckdb", "polars"])
def test_csv_roles_and_seq_from_row_order(csv_file: Path, engine: Any) -> None:
    lf = to_lazy(csv_file, engine=engine)
    rows = lf.sort("seq").select("customer_id", "event_name", "occurred_at", "seq").collect().rows()
    assert rows == [
        ("b", "view", datetime(2024, 1, 1, 0, 0, 5), 1),
        ("a", "view", datetime(2024, 1, 1), 2),
        ("a", "buy", datetime(2024, 1, 1), 3),
    ]


@pytest.mark.parametrize("engine", ["duckdb", "polars"])
def test_parquet_and_jsonl(tmp_path: Path, engine: Any) -> None:
    table = pa.table(
        {
            "customer_id": ["c"],
            "event_name": ["x"],
            "occurred_at": [datetime(2024, 1, 1)],
            "seq": [7],
        }
    )
    pq.write_table(table, tmp_path / "e.parquet")
    (tmp_path / "e.jsonl").write_text(
        json.dumps({"customer_id": "c", "event_name": "x", "occurred_at": "2024-01-01T00:00:00"})
        + "\n",
        encoding="utf-8",
    )
    assert to_lazy(tmp_path / "e.parquet", engine=engine).select("seq").collect().rows() == [(7,)]
    got = to_lazy(tmp_path / "e.jsonl", engine=engine).select("occurred_at", "seq").collect().rows()
    assert got == [(datetime(2024, 1, 1), 1)]


def test_explicit_roles_and_errors(tmp_path: Path) -> None:
    path = tmp_path / "e.csv"
    path.write_text("who,what,when\nc,x,2024-01-01 00:00:00\n", encoding="utf-8")
    lf = to_lazy(path, columns=ColumnRoles(customer="who", event="what", time="when"))
    assert lf.select("customer_id", "event_name").collect().rows() == [("c", "x")]
    with pytest.raises(
        FrameError,
        match=r"no customer_id column: expected one of customer_id or user_id .*--customer-col.*the columns are: who, what, when",
    ):
        to_lazy(path)
    with pytest.raises(
        FrameError,
        match=r"column 'nope' \(--time-col\) not found; the columns are: who, what, when",
    ):
        to_lazy(path, columns=ColumnRoles(customer="who", event="what", time="nope"))
    (tmp_path / "e.xlsx").write_bytes(b"")
    with pytest.raises(FrameError, match="unknown file type"):
        to_lazy(tmp_path / "e.xlsx")
    with pytest.raises(FrameError, match="no such file"):
        to_lazy(tmp_path / "missing.csv")


def test_time_zones_become_naive_utc(make: Make) -> None:
    import polars as pl

    df = pl.DataFrame(
        {
            "customer_id": ["c"],
            "event_name": ["x"],
            "occurred_at": [datetime(2024, 1, 1, 12)],
            "seq": [1],
        }
    ).with_columns(pl.col("occurred_at").dt.replace_time_zone("Europe/Berlin"))
    out = to_lazy(df).collect()["occurred_at"].to_list()
    assert out == [datetime(2024, 1, 1, 11)]  # 12:00 in Berlin (UTC+1) is 11:00 UTC


def test_extract_properties_and_epoch(make: Make) -> None:
    lf = make(
        {
            "occurred_at": [datetime(1970, 1, 1, 0, 0, 2), datetime(2024, 1, 1)],
            "properties": [json.dumps({"a": {"b": "x"}, "n": 2, "my-key": True}), "{}"],
        }
    )
    out = (
        with_epoch_us(extract_properties(lf, ["a.b", "my-key", "n"], numeric_keys=["n", "a.b"]))
        .sort("t_us")
        .select("prop__a.b", "prop__my-key", "prop__n", "propnum__n", "propnum__a.b", "t_us")
        .collect()
        .rows()
    )
    assert out == [
        ("x", "true", "2", 2.0, None, 2_000_000),
        (None, None, None, None, None, 1_704_067_200_000_000),
    ]


@pytest.mark.slow
def test_spark_frames(request: pytest.FixtureRequest, csv_file: Path) -> None:
    lf = to_lazy(csv_file, engine="spark")
    assert lf.select("customer_id").collect().rows()[0] == ("b",)
    make = builder("spark", request)
    props = make(pa.table({"properties": [json.dumps({"a": {"b": "x"}, "my-key": 5})]}))
    out = extract_properties(props, ["a.b", "my-key"], numeric_keys=["my-key"]).collect()
    assert (out["prop__a.b"][0], out["propnum__my-key"][0]) == ("x", 5.0)
    assert isinstance(lf, nw.LazyFrame)


def test_workspace_store_is_a_source(tmp_path: Path) -> None:
    from journeylens.analytics import funnel
    from journeylens.engine.workspace import Workspace

    ws = Workspace.init(tmp_path / "ws")
    lf = to_lazy(ws)
    names = lf.collect_schema().names()
    assert {"customer_id", "event_name", "occurred_at", "seq", "properties"} <= set(names)
    # an empty store gives an empty, well-formed funnel
    r = funnel(lf, ["a", "b"])
    assert r.total_units == 0
    assert [s.reached for s in r.steps] == [0, 0]
