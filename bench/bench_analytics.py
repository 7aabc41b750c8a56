"""Benchmark of the part-A analytics on the default engine (DuckDB).

Generates N synthetic events in DuckDB (default 10M; ``--events``), times a plain DuckDB
sort of the same events by (customer, time), then the full part-A analysis — bind to a
map, sessions, transitions, step matrix, funnel, top paths, flows, all sharing one sorted
path frame — and prints both times, their ratio and the peak resident memory.

    .venv/bin/python bench/bench_analytics.py --events 1000000

The target (issue 5) is analysis time ≤ 2 × sort time and peak memory ≤ 4 GB at 10M.
"""

from __future__ import annotations

import argparse
import resource
import time
from collections.abc import Callable
from typing import Any

import duckdb
import narwhals as nw

from journeylens.analytics import (
    bind,
    flows,
    funnel,
    sessions,
    sort_paths,
    step_matrix,
    top_paths,
    transitions,
)
from journeylens.model import JourneyMap

EVENT_NAMES = [
    "page_view",
    "search",
    "product_view",
    "add_to_cart",
    "checkout",
    "purchase",
    "email_open",
    "ticket_opened",
]

# Generated with parameters only (no string-built SQL): ~100 events per customer over 90 days.
GENERATE = """
CREATE TABLE events AS
SELECT
    'C' || lpad(CAST(i // 100 AS VARCHAR), 8, '0') AS customer_id,
    TIMESTAMP '2024-01-01' + to_microseconds(CAST(hash(i, 1) % 7776000000000 AS BIGINT)) AS occurred_at,
    i + 1 AS seq,
    list_extract($names, CAST(1 + hash(i, 2) % 8 AS INTEGER)) AS event_name,
    CASE WHEN hash(i, 3) % 2 = 0 THEN 'web' ELSE 'app' END AS source,
    CAST(NULL AS VARCHAR) AS properties
FROM range($n) AS t(i)
"""

MAP = JourneyMap.model_validate(
    {
        "id": "bench",
        "title": "Bench",
        "stages": [
            {
                "id": "discover",
                "name": "Discover",
                "steps": [
                    {
                        "id": "browse",
                        "name": "Browse",
                        "touchpoints": [
                            {
                                "id": "site",
                                "name": "Site",
                                "channel": "web",
                                "match": [{"event": ["page_view", "search", "product_*"]}],
                            }
                        ],
                    }
                ],
            },
            {
                "id": "buy",
                "name": "Buy",
                "steps": [
                    {
                        "id": "cart",
                        "name": "Cart",
                        "touchpoints": [
                            {
                                "id": "cart_tp",
                                "name": "Cart",
                                "channel": "web",
                                "match": [{"event": ["add_to_cart", "checkout"]}],
                            }
                        ],
                    },
                    {
                        "id": "pay",
                        "name": "Pay",
                        "touchpoints": [
                            {
                                "id": "pay_tp",
                                "name": "Pay",
                                "channel": "web",
                                "match": [{"event": "purchase"}],
                            }
                        ],
                    },
                ],
            },
        ],
    }
)


def timed(label: str, fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    out = fn()
    seconds = time.perf_counter() - start
    print(f"  {label:<28} {seconds:8.2f} s", flush=True)
    return seconds, out


def part_a(events: nw.LazyFrame[Any]) -> dict[str, Any]:
    """Every part-A result as plain data (for comparing engines)."""
    bound = bind(events, MAP)
    p = sort_paths(bound)
    return {
        "sessions": sessions(p).to_dict(),
        "transitions": transitions(p, markers=True).to_dict(),
        "step_matrix": step_matrix(p, max_steps=10).to_dict(),
        "funnel": funnel(p, ["page_view", "add_to_cart", "purchase"], window="7d").to_full_dict(),
        "top_paths": top_paths(p, max_length=5, top=50).to_dict(),
        "flows": flows(p).to_dict(),
    }


def same(a: Any, b: Any, path: str = "") -> list[str]:
    """Differences between two results (floats equal to 1e-9 relative)."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = [] if a.keys() == b.keys() else [f"{path}: keys {sorted(a)} != {sorted(b)}"]
        return out + [d for k in a.keys() & b.keys() for d in same(a[k], b[k], f"{path}.{k}")]
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [f"{path}: {len(a)} != {len(b)} items"]
        return [
            d for i, (x, y) in enumerate(zip(a, b, strict=True)) for d in same(x, y, f"{path}[{i}]")
        ]
    if isinstance(a, float) and isinstance(b, float):
        return [] if abs(a - b) <= 1e-9 * max(1.0, abs(a), abs(b)) else [f"{path}: {a} != {b}"]
    return [] if a == b else [f"{path}: {a!r} != {b!r}"]


def spark_check(con: duckdb.DuckDBPyConnection) -> None:
    """Run part A on DuckDB and on Spark local over the same events; print the differences."""
    from pyspark.sql import SparkSession

    spark = (
        SparkSession.builder.master("local[2]")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", "4")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    duck_start = time.perf_counter()
    duck = part_a(nw.from_native(con.table("events")))
    duck_s = time.perf_counter() - duck_start
    table = con.table("events").to_arrow_table()
    spark_start = time.perf_counter()
    sp = part_a(nw.from_native(spark.createDataFrame(table)))
    spark_s = time.perf_counter() - spark_start
    diffs = same(duck, sp)
    print(f"DuckDB {duck_s:.1f} s, Spark local {spark_s:.1f} s")
    print("identical results" if not diffs else f"{len(diffs)} differences:")
    for d in diffs[:20]:
        print("  ", d)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000_000, help="number of events")
    parser.add_argument("--threads", type=int, default=0, help="DuckDB threads (0 = default)")
    parser.add_argument(
        "--memory-limit", default="3GB", help="DuckDB memory_limit (it spills beyond it)"
    )
    parser.add_argument(
        "--spark-check",
        action="store_true",
        help="instead of timing, run part A on DuckDB and Spark local and compare the results",
    )
    args = parser.parse_args()

    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    if args.threads:
        con.execute("SET threads = $t", {"t": args.threads})
    con.execute("SET memory_limit = $m", {"m": args.memory_limit})
    print(f"generating {args.events:,} events …", flush=True)
    con.execute(GENERATE, {"n": args.events, "names": EVENT_NAMES})

    def plain_sort() -> None:
        con.execute(
            "CREATE TABLE sorted AS SELECT * FROM events ORDER BY customer_id, occurred_at, seq"
        )
        con.execute("DROP TABLE sorted")

    if args.spark_check:
        spark_check(con)
        return

    print("baseline", flush=True)
    sort_before, _ = timed("DuckDB sort by (customer, time)", plain_sort)

    events = nw.from_native(con.table("events"))
    print("analysis (one sort, reused)", flush=True)
    steps: list[float] = []

    def add(label: str, fn: Callable[[], Any]) -> Any:
        seconds, out = timed(label, fn)
        steps.append(seconds)
        return out

    bound = add("bind", lambda: bind(events, MAP))
    p = add("sort once (path frame)", lambda: sort_paths(bound))
    add("sessions", lambda: sessions(p))
    add("transitions", lambda: transitions(p, markers=True))
    add("step matrix", lambda: step_matrix(p, max_steps=10))
    add(
        "funnel (7d window)",
        lambda: funnel(p, ["page_view", "add_to_cart", "purchase"], window="7d"),
    )
    add("top paths", lambda: top_paths(p, max_length=5))
    add("flows (stages)", lambda: flows(p))
    total = sum(steps)
    print("baseline again (the machine is shared: take the faster sort)", flush=True)
    sort_after, _ = timed("DuckDB sort by (customer, time)", plain_sort)
    sort_s = min(sort_before, sort_after)
    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024
    print()
    print(f"events                 {args.events:,}")
    print(f"sort (DuckDB)          {sort_s:.2f} s (runs: {sort_before:.2f}, {sort_after:.2f})")
    print(f"part-A analysis        {total:.2f} s")
    print(f"ratio analysis / sort  {total / sort_s:.2f} (target ≤ 2)")
    print(f"peak RSS               {peak_gb:.2f} GB (target ≤ 4; memory_limit {args.memory_limit})")


if __name__ == "__main__":
    main()
