"""Every part-B analytic gives the same result on DuckDB, Polars and Spark (local).

One rich event log goes through the LiveMap, planned vs actual, outcome comparison, moments
of truth, survey metrics, measured emotion, time in stage and channel use on each engine;
the plain-data results (``to_dict()``) must be equal (floats to 1e-9).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

import duckdb
import narwhals as nw
import pyarrow as pa
import pytest
from tests.analytics_b.maps import shop_map

from journeylens.analytics.binding import bind, evaluate_outcomes
from journeylens.analytics.channels import channel_use
from journeylens.analytics.conformance import conformance
from journeylens.analytics.emotion import measured_emotion
from journeylens.analytics.livemap import compute_livemap
from journeylens.analytics.moments import moments_of_truth
from journeylens.analytics.outcomes import compare_outcome
from journeylens.analytics.survey import survey_metrics
from journeylens.analytics.timing import time_in

T0 = datetime(2024, 6, 3)
EVENTS = ["page_view", "checkout", "purchase", "app_open", "error", "ticket_opened"]


def _log() -> pa.Table:
    """60 customers with deterministic, varied paths, ties, surveys and texts."""
    rows: list[dict[str, Any]] = []
    seq = 0
    for c in range(60):
        t = T0 + timedelta(hours=c % 7)
        path = [EVENTS[(c * k + k) % 6] for k in range(1 + c % 5)]
        for i, name in enumerate(path):
            seq += 1
            rows.append({"customer_id": f"c{c:02}", "event_name": name,
                         "occurred_at": t + timedelta(minutes=30 * (i // 2)),  # pairs tie
                         "seq": seq, "channel": ["web", "app", "email"][(c + i) % 3],
                         "score": None, "score_type": None, "text": None, "properties": None,
                         "persona": "maya" if c % 2 else "robert"})  # fmt: skip
        seq += 1
        kind = ["nps", "csat", "ces"][c % 3]
        top = {"nps": 10, "csat": 5, "ces": 7}[kind]
        rows.append({"customer_id": f"c{c:02}", "event_name": f"{kind}_response",
                     "occurred_at": t + timedelta(hours=3), "seq": seq, "channel": "email",
                     "score": float((c * 7) % (top + 1)), "score_type": kind,
                     "text": "Great and easy!" if c % 4 == 0 else ("slow and broken" if c % 4 == 1 else None),
                     "properties": json.dumps({"touchpoint": "checkout" if c % 2 else "site"}),
                     "persona": "maya" if c % 2 else "robert"})  # fmt: skip
    schema = pa.schema(
        [("customer_id", pa.string()), ("event_name", pa.string()),
         ("occurred_at", pa.timestamp("us")), ("seq", pa.int64()), ("channel", pa.string()),
         ("score", pa.float64()), ("score_type", pa.string()), ("text", pa.string()),
         ("properties", pa.string()), ("persona", pa.string())]
    )  # fmt: skip
    return pa.Table.from_pylist(rows, schema=schema)


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    """A local SparkSession (reused if the session-wide one of tests/analytics is running)."""
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[2]")
        .appName("journeylens-tests-b")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.ui.enabled", "false")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    return session


def _builder(engine: str, request: pytest.FixtureRequest) -> Callable[[pa.Table], Any]:
    if engine == "duckdb":
        con = duckdb.connect()
        con.execute("SET TimeZone = 'UTC'")
        return con.from_arrow
    if engine == "polars":
        import polars as pl

        return lambda t: pl.from_arrow(t).lazy()  # type: ignore[union-attr]
    session = request.getfixturevalue("spark")
    return session.createDataFrame  # type: ignore[no-any-return]


def _everything(native: Any, *, full: bool = True) -> dict[str, Any]:
    """Every analytic's plain result. The LiveMap already runs binding, outcomes, survey
    metrics and measured emotion by location, time in stage and fitness inside; ``full``
    adds those analytics on their own and channel use (skipped on Spark,
    where each query costs seconds: it runs the code paths the others do not share)."""
    jm = shop_map()
    lf = nw.from_native(native)
    bound = bind(lf, jm)
    outs = evaluate_outcomes(lf, jm)
    out = {
        "livemap": compute_livemap(native, jm).to_dict(),
        "compare": compare_outcome(bound, outs, "converted", min_support=5).to_dict(),
        "moments": moments_of_truth(
            bound, outs, "converted", journey_map=jm, min_support=5
        ).to_dict(),
        "survey_week": survey_metrics(bound, by="week", min_answers=3).to_dict(),
        "conformance": conformance(bound, jm).to_dict(),
    }
    if full:
        out |= {
            "channels": channel_use(bound).to_dict(),
            "survey_stage": survey_metrics(
                bound, by="stage", journey_map=jm, min_answers=3
            ).to_dict(),
            "emotion": measured_emotion(bound, journey_map=jm).to_dict(),
            "time": time_in(bound, jm, level="step").to_dict(),
        }
    return out


def _same(a: Any, b: Any, path: str = "") -> None:
    if isinstance(a, dict):
        assert isinstance(b, dict), path
        assert a.keys() == b.keys(), path
        for k in a:
            _same(a[k], b[k], f"{path}.{k}")
    elif isinstance(a, list | tuple):
        assert isinstance(b, list | tuple), path
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _same(x, y, f"{path}[{i}]")
    elif isinstance(a, float) and isinstance(b, float):
        assert math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9), f"{path}: {a} != {b}"
    else:
        assert a == b, f"{path}: {a!r} != {b!r}"


@pytest.fixture(scope="module")
def expected() -> dict[str, Any]:
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    return _everything(con.from_arrow(_log()))


@pytest.mark.parametrize("engine", ["polars", pytest.param("spark", marks=pytest.mark.slow)])
def test_same_results_on_every_engine(
    engine: str, expected: dict[str, Any], request: pytest.FixtureRequest
) -> None:
    got = _everything(_builder(engine, request)(_log()), full=engine != "spark")
    assert got.keys() <= expected.keys()
    for key in got:
        _same(got[key], expected[key], key)


def test_the_log_exercises_every_analytic(expected: dict[str, Any]) -> None:
    # Guard against a vacuous comparison: the shared log yields figures everywhere.
    assert expected["livemap"]["units"] == 60
    assert expected["conformance"]["backtrack_paths"] > 0
    # The LiveMap computes fitness from its own sort: it must agree with planned vs actual.
    assert expected["livemap"]["fitness"] == pytest.approx(expected["conformance"]["fitness"])
    assert expected["livemap"]["fitness"] < 1
    assert expected["livemap"]["unbound_share"] == expected["conformance"]["unbound_share"]
    assert any(f["p_value"] is not None for f in expected["compare"]["features"])
    assert any(m["signal"] == "pain" for m in expected["moments"]["moments"])
    assert any(r["value"] is not None for r in expected["survey_stage"]["rows"])
    assert any(r["n_texts"] > 0 for r in expected["emotion"]["rows"])
    assert any(r["n"] > 0 for r in expected["time"]["rows"])
