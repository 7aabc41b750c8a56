"""LiveMap benchmark: the map-level analytics vs DuckDB's plain sort of the same events.

Generates ``--rows`` synthetic events (default 1M; ~10 per customer, 5% survey answers
placed by ``properties.touchpoint``, 2% error events) in an in-memory DuckDB table, then
times, each on the default engine (DuckDB):

* ``sort``: ``CREATE TABLE … AS SELECT * … ORDER BY customer_id, occurred_at, seq`` (the
  baseline the issue's speed target is stated against);
* ``livemap``: :func:`journeylens.analytics.livemap.compute_livemap` (binding, outcomes,
  planned vs actual, reach / conversion, time in stage / step / touchpoint, survey metrics
  and measured emotion at every level);
* ``compare``: outcome comparison over touchpoints, steps, events and channels;
* ``moments``: moments of truth (survey and pain signals);
* ``survey``: survey metrics by week.

Prints seconds, each step's ratio to the sort, and the peak RSS of the process.

    .venv/bin/python bench/bench_livemap.py --rows 1000000
"""

from __future__ import annotations

import argparse
import resource
import time
from collections.abc import Callable
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

from journeylens.analytics.binding import bind, evaluate_outcomes
from journeylens.analytics.livemap import compute_livemap
from journeylens.analytics.moments import moments_of_truth
from journeylens.analytics.outcomes import compare_outcome
from journeylens.analytics.survey import survey_metrics
from journeylens.engine.frames import cache
from journeylens.model import JourneyMap

MAP = {
    "id": "bench",
    "title": "Bench shop",
    "stages": [
        {"id": "look", "name": "Look", "steps": [
            {"id": "browse", "name": "Browse", "touchpoints": [
                {"id": "site", "name": "Site", "channel": "web", "match": [{"event": "page_view"}]}]},
        ]},
        {"id": "buy", "name": "Buy", "steps": [
            {"id": "pay", "name": "Pay", "touchpoints": [
                {"id": "checkout", "name": "Checkout", "channel": "web", "match": [{"event": "checkout"}]}]},
            {"id": "confirm", "name": "Confirm", "touchpoints": [
                {"id": "receipt", "name": "Receipt", "channel": "email", "match": [{"event": "purchase"}]}]},
        ]},
        {"id": "use", "name": "Use", "steps": [
            {"id": "onboard", "name": "Onboard", "touchpoints": [
                {"id": "app_home", "name": "App home", "channel": "app", "match": [{"event": "app_open"}]}]},
        ]},
    ],
    "outcomes": [{"id": "converted", "name": "Converted", "did": {"event": "purchase"}}],
}  # fmt: skip

NAMES = np.array(["page_view", "page_view", "checkout", "purchase", "app_open", "other"])
CHANNELS = np.array(["web", "app", "email"])


def generate(rows: int, seed: int = 7) -> pa.Table:
    """Synthetic canonical events: ~10 per customer over 30 days."""
    rng = np.random.default_rng(seed)
    customers = rng.integers(0, max(rows // 10, 1), rows)
    seconds = rng.integers(0, 30 * 86400, rows)
    kind = rng.random(rows)
    names = NAMES[rng.integers(0, len(NAMES), rows)].astype(object)
    names[kind < 0.02] = "error"
    survey = (kind >= 0.02) & (kind < 0.07)
    names[survey] = "nps_response"
    score = np.where(survey, rng.integers(0, 11, rows).astype(float), np.nan)
    props = np.where(
        survey,
        np.where(rng.random(rows) < 0.5, '{"touchpoint": "checkout"}', '{"stage": "look"}'),
        None,
    )
    return pa.table(
        {
            "customer_id": pa.array([f"C{c:07d}" for c in customers]),
            "event_name": pa.array(names.tolist(), pa.string()),
            "occurred_at": pa.array(
                (np.datetime64("2024-01-01T00:00:00") + seconds.astype("timedelta64[s]")).astype(
                    "datetime64[us]"
                )
            ),
            "seq": pa.array(np.arange(1, rows + 1)),
            "channel": pa.array(CHANNELS[rng.integers(0, 3, rows)]),
            "score": pa.array(score, pa.float64(), from_pandas=True),
            "score_type": pa.array(np.where(survey, "nps", None).tolist(), pa.string()),
            "text": pa.nulls(rows, pa.string()),
            "properties": pa.array(props.tolist(), pa.string()),
        }
    )


def timed(label: str, fn: Callable[[], Any], base: float | None) -> float:
    start = time.perf_counter()
    fn()
    took = time.perf_counter() - start
    ratio = f"{took / base:6.2f}× sort" if base else ""
    print(f"{label:<10} {took:8.2f} s  {ratio}", flush=True)
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    jm = JourneyMap.model_validate(MAP)
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.register("src", generate(args.rows))
    con.execute("CREATE TABLE ev AS SELECT * FROM src")
    con.unregister("src")
    print(
        f"{args.rows:,} events, {con.execute('SELECT count(DISTINCT customer_id) FROM ev').fetchone()[0]:,} customers"
    )  # type: ignore[index]
    base = timed(
        "sort",
        lambda: con.execute(
            "CREATE OR REPLACE TEMP TABLE sorted AS SELECT * FROM ev ORDER BY customer_id, occurred_at, seq"
        ),
        None,
    )
    ev = con.table("ev")
    timed("livemap", lambda: compute_livemap(ev, jm), base)
    bound = cache(bind(ev, jm))
    outs = cache(evaluate_outcomes(ev, jm))
    timed("compare", lambda: compare_outcome(bound, outs, "converted"), base)
    timed("moments", lambda: moments_of_truth(bound, outs, "converted", journey_map=jm), base)
    timed("survey", lambda: survey_metrics(bound, by="week"), base)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {peak_mb:,.0f} MB")


if __name__ == "__main__":
    main()
