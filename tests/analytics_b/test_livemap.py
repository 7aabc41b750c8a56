"""compute_livemap: one call, hand-computed figures per stage, step and touchpoint."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import pyarrow as pa
import pytest
from tests.analytics_b.maps import shop_map

from journeylens.analytics.binding import Population
from journeylens.analytics.livemap import LIVEMAP_SCHEMA, compute_livemap
from journeylens.model import Condition

T0 = datetime(2024, 6, 3)


def _events(engine: str) -> Any:
    """c1: look → buy → confirm → use; c2: look → pay; c3: look; c4: look + an NPS 9 answer
    about touchpoint 'checkout' (the answer itself matches no touchpoint)."""
    rows = [
        ("c1", "page_view", 0), ("c1", "checkout", 1), ("c1", "purchase", 2), ("c1", "app_open", 5),
        ("c2", "page_view", 0), ("c2", "checkout", 2),
        ("c3", "page_view", 0),
        ("c4", "page_view", 1), ("c4", "nps_response", 3),
    ]  # fmt: skip
    table = pa.table(
        {
            "customer_id": [r[0] for r in rows],
            "event_name": [r[1] for r in rows],
            "occurred_at": [T0 + timedelta(hours=r[2]) for r in rows],
            "seq": list(range(1, len(rows) + 1)),
            "channel": ["web"] * len(rows),
            "source": ["web"] * len(rows),
            "score": [None] * 8 + [9.0],
            "score_type": [None] * 8 + ["nps"],
            "text": [None] * len(rows),
            "properties": [None] * 8 + [json.dumps({"touchpoint": "checkout"})],
        }
    )
    if engine == "duckdb":
        import duckdb

        return duckdb.connect().from_arrow(table)
    import polars as pl

    return pl.from_arrow(table)


@pytest.mark.parametrize("engine", ["duckdb", "polars"])
def test_livemap_figures(engine: str) -> None:
    lm = compute_livemap(_events(engine), shop_map())
    assert (lm.schema, lm.units, lm.events, lm.unbound_events) == (LIVEMAP_SCHEMA, 4, 9, 1)
    assert lm.fitness == 1.0
    assert lm.outcome_rates == {"converted": 0.25}
    look, buy, use = (s.figures for s in lm.stages)
    # look: all 4 reached; c1 and c2 went on → 0.5; time c1 1h, c2 2h → median 5400 s
    assert (look.reached, look.share_of_units, look.conversion, look.drop_off) == (4, 1.0, 0.5, 0.5)
    assert (look.time_n, look.median_time_s, look.mean_time_s) == (2, 5400.0, 5400.0)
    assert look.outcome_rates == {"converted": 0.25}
    # buy: c1, c2; c1 went on to use; c1 spent 1h → 5h in buy
    assert (buy.reached, buy.conversion, buy.median_time_s) == (2, 0.5, 4 * 3600.0)
    assert buy.outcome_rates == {"converted": 0.5}
    # The NPS answer names touchpoint checkout → stage buy; N = 1 < 10: no value.
    assert buy.nps is not None
    assert (buy.nps.n, buy.nps.value, buy.nps.flag) == (1, None, "too few answers")
    assert (buy.emotion_n, buy.measured_emotion) == (1, pytest.approx(1.6))  # (9 − 5)/2.5
    # use is the last stage: nothing further, so no conversion.
    assert (use.reached, use.conversion, use.drop_off) == (1, None, None)
    pay, confirm = lm.stages[1].steps
    assert (pay.figures.reached, pay.figures.conversion, pay.moment_of_truth) == (2, 0.5, True)
    assert (confirm.figures.reached, confirm.figures.conversion) == (1, 1.0)
    assert pay.designed_emotion == -1.0
    (checkout,) = pay.touchpoints
    assert (checkout.figures.reached, checkout.figures.conversion) == (2, 0.5)
    assert checkout.figures.nps is not None
    assert checkout.figures.nps.n == 1
    assert lm.stages[0].steps[0].touchpoints[0].figures.nps is None  # no answers at site


def test_livemap_json_and_frame() -> None:
    lm = compute_livemap(_events("duckdb"), shop_map())
    data = json.loads(json.dumps(lm.to_dict()))
    assert data["schema"] == LIVEMAP_SCHEMA
    assert data["population"] == "all customers"
    assert data["data_start"] == "2024-06-03T00:00:00"
    assert data["stages"][1]["steps"][0]["figures"]["nps"]["n"] == 1
    frame = lm.to_frame()
    assert frame.num_rows == 3 + 4 + 4  # stages + steps + touchpoints
    assert frame.column("level").to_pylist()[:3] == ["stage", "step", "touchpoint"]


def test_livemap_window_and_population() -> None:
    lm = compute_livemap(_events("polars"), shop_map(), window=(T0, T0 + timedelta(hours=1)))
    assert (lm.units, lm.events, lm.window_end) == (3, 3, T0 + timedelta(hours=1))
    import polars as pl

    customers = pl.DataFrame(
        {"customer_id": ["c1", "c2", "c3", "c4"], "plan": ["pro", "pro", "free", "free"]}
    )
    pop = Population(segment=Condition(field="plan", value="pro"), label="pro plan")
    lm = compute_livemap(_events("polars"), shop_map(), population=pop, customers=customers)
    assert (lm.population, lm.units, lm.outcome_rates) == ("pro plan", 2, {"converted": 0.5})
    assert lm.stages[0].figures.conversion == 1.0
