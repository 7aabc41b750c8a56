"""Engine fixtures of the analytics conformance suite: DuckDB, Polars and PySpark (local).

``engine`` parametrises a test over the three engines; ``make`` builds a lazy frame of the
canonical event columns on that engine from plain Python rows. Spark runs in one
SparkSession for the whole test session (``local[2]``, 1 shuffle partition, no code generation, UTC); its
tests carry the ``slow`` mark but always run (never skipped).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import duckdb
import narwhals as nw
import pyarrow as pa
import pytest
from tests.analytics.reference import Ev

ENGINES = ("duckdb", "polars", "spark")
Make = Callable[[Mapping[str, Sequence[Any]]], nw.LazyFrame[Any]]


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    """One local SparkSession for the test session."""
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[2]")
        .appName("journeylens-tests")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", "1")
        .config("spark.default.parallelism", "1")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.adaptive.enabled", "false")
        # Test logs are tiny: compiling generated code costs more than it saves.
        .config("spark.sql.codegen.wholeStage", "false")
        .config("spark.sql.codegen.factoryMode", "NO_CODEGEN")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


def builder(engine: str, request: pytest.FixtureRequest) -> Callable[[pa.Table], nw.LazyFrame[Any]]:
    """A function turning an arrow table into a lazy frame on ``engine``."""
    if engine == "duckdb":
        con = duckdb.connect()
        con.execute("SET TimeZone = 'UTC'")
        return lambda t: nw.from_native(con.from_arrow(t))
    if engine == "polars":
        import polars as pl

        def to_polars(t: pa.Table) -> nw.LazyFrame[Any]:
            frame = pl.from_arrow(t)
            assert isinstance(frame, pl.DataFrame)
            return nw.from_native(frame.lazy())

        return to_polars
    session = request.getfixturevalue("spark")
    return lambda t: nw.from_native(session.createDataFrame(t))


@pytest.fixture(params=["duckdb", "polars"])
def engine(request: pytest.FixtureRequest) -> str:
    """The engine of this run: the in-process engines (Spark joins in test_conformance.py,
    where one combined log runs every analytic: each Spark job costs about a second here)."""
    return str(request.param)


@pytest.fixture
def make(engine: str, request: pytest.FixtureRequest) -> Make:
    """Build a lazy frame on this run's engine from columns (types inferred by arrow)."""
    build = builder(engine, request)

    def _make(columns: Mapping[str, Sequence[Any]]) -> nw.LazyFrame[Any]:
        return build(pa.table({k: list(v) for k, v in columns.items()}))

    return _make


EVENT_SCHEMA = pa.schema(
    [
        ("customer_id", pa.string()),
        ("event_name", pa.string()),
        ("occurred_at", pa.timestamp("us")),
        ("seq", pa.int64()),
    ]
)


def events_table(events: Sequence[Ev]) -> pa.Table:
    """Reference events as an arrow table of canonical columns (typed even when empty)."""
    return pa.table(
        {
            "customer_id": [e.unit for e in events],
            "event_name": [e.event for e in events],
            "occurred_at": [e.t for e in events],
            "seq": [e.seq for e in events],
        },
        schema=EVENT_SCHEMA,
    )


@pytest.fixture
def make_events(
    engine: str, request: pytest.FixtureRequest
) -> Callable[[Sequence[Ev]], nw.LazyFrame[Any]]:
    """Build the canonical event frame of reference events on this run's engine."""
    build = builder(engine, request)
    return lambda events: build(events_table(events))


def ev(unit: str, t: datetime, seq: int, event: str) -> Ev:
    """Shorthand for a reference event."""
    return Ev(unit, t, seq, event)


#: The start of the hand-written logs: ``at(seconds)`` is that many seconds after it.
T0 = datetime(2024, 5, 1, 12, 0, 0)
MakeEvents = Callable[[Sequence[Ev]], nw.LazyFrame[Any]]


def at(seconds: float) -> datetime:
    """``seconds`` after :data:`T0`."""
    return T0 + timedelta(seconds=seconds)


def log(*rows: tuple[str, float, str]) -> list[Ev]:
    """rows of (unit, seconds after T0, event); seq = row order."""
    return [Ev(u, at(s), i, e) for i, (u, s, e) in enumerate(rows, start=1)]
