"""Fixtures of the part-B analytics tests: the same small frames on every engine.

``engine`` runs a test on DuckDB and Polars; Spark joins via :func:`spark_frame` in the
slow cross-engine module (its JVM start-up costs tens of seconds on this machine).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import duckdb
import narwhals as nw
import pyarrow as pa
import pytest

Make = Callable[[Mapping[str, list[Any]]], nw.LazyFrame[Any]]


def _duckdb_builder() -> Callable[[pa.Table], nw.LazyFrame[Any]]:
    # One connection per test: relations of different connections cannot be joined.
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    return lambda table: nw.from_native(con.from_arrow(table))


def _polars(table: pa.Table) -> nw.LazyFrame[Any]:
    import polars as pl

    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    return nw.from_native(frame.lazy())


BUILDERS: dict[str, Callable[[], Callable[[pa.Table], nw.LazyFrame[Any]]]] = {
    "duckdb": _duckdb_builder,
    "polars": lambda: _polars,
}


@pytest.fixture(params=sorted(BUILDERS))
def engine(request: pytest.FixtureRequest) -> str:
    """The engine name of this run."""
    return str(request.param)


@pytest.fixture
def make(engine: str) -> Make:
    """Build a lazy frame on this run's engine from columns: ``make({"a": [1, 2]})``."""

    builder = BUILDERS[engine]()

    def build(columns: Mapping[str, list[Any]]) -> nw.LazyFrame[Any]:
        return builder(pa.table(dict(columns)))

    return build
