"""Empty event logs give empty results (no crash, no division by zero) on every engine."""

from __future__ import annotations

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

SCHEMA = pa.schema(
    [("customer_id", pa.string()), ("event_name", pa.string()),
     ("occurred_at", pa.timestamp("us")), ("seq", pa.int64()), ("channel", pa.string()),
     ("score", pa.float64()), ("score_type", pa.string()), ("text", pa.string()),
     ("properties", pa.string())]
)  # fmt: skip


def _native(engine: str) -> Any:
    if engine == "duckdb":
        return duckdb.connect().from_arrow(SCHEMA.empty_table())
    import polars as pl

    return pl.from_arrow(SCHEMA.empty_table()).lazy()  # type: ignore[union-attr]


@pytest.mark.parametrize("engine", ["duckdb", "polars"])
def test_empty_log(engine: str) -> None:
    native = _native(engine)
    jm = shop_map()
    lf = nw.from_native(native)
    bound, outs = bind(lf, jm), evaluate_outcomes(lf, jm)
    lm = compute_livemap(native, jm)
    assert (lm.units, lm.events, lm.fitness, lm.unbound_share) == (0, 0, None, None)
    assert lm.stages[0].figures.reached == 0
    assert lm.stages[0].figures.conversion is None
    c = conformance(bound, jm)
    assert (c.paths, c.fitness, c.undesigned_edges) == (0, None, ())
    assert len(c.unseen_designed_edges) == 5  # 2 stage + 3 step transitions designed
    cmp = compare_outcome(bound, outs, "converted")
    assert (cmp.units, cmp.base_rate, cmp.features) == (0, None, ())
    assert moments_of_truth(bound, outs, "converted", journey_map=jm).moments == ()
    assert survey_metrics(bound, by="week").rows == ()
    assert channel_use(bound).rows == ()
    assert time_in(bound, jm).rows == ()
    assert measured_emotion(bound, journey_map=jm).rows == ()
