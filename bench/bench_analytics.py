"""Benchmark of the full analysis of issue 5 on the default engine (DuckDB).

Generates N synthetic events in DuckDB (default 10M; ``--events``), times a plain DuckDB
sort of the same events by (customer, time), then the issue's **full analysis** — bind to a
map, sessions, transitions, step matrix, funnel, planned vs actual, outcome comparison and
survey metrics, all sharing one sorted path frame — and prints each part, the total, the
sort time and their ratio measured in the same run, wall and CPU seconds (the machine is
shared: CPU seconds are less disturbed by other jobs), and the peak resident memory up to
the end of the full analysis. Top paths and stage flows are timed after the total as
extras (not part of the issue's set; the peak with them is printed too).

    .venv/bin/python bench/bench_analytics.py --events 1000000

The target (issue 5) is analysis time ≤ 2 × sort time and peak memory ≤ 4 GB at 10M.
For out-of-core runs pass ``--memory-limit`` and ``--temp-directory`` (DuckDB spills there).
"""

from __future__ import annotations

import argparse
import os
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
from journeylens.analytics.binding import STAGE_ID, STEP_ID, evaluate_outcomes
from journeylens.analytics.conformance import conformance
from journeylens.analytics.outcomes import compare_outcome
from journeylens.analytics.survey import survey_metrics
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

# Generated with parameters only (no string-built SQL): ~100 events per customer over 90
# days; one event in 40 carries a survey answer (NPS 0–10, CSAT 1–5 or CES 1–7).
GENERATE = """
CREATE TABLE events AS
SELECT
    customer_id, occurred_at, seq, event_name, source, channel, properties, score_type,
    CAST(CASE score_type
        WHEN 'nps' THEN h % 11 WHEN 'csat' THEN 1 + h % 5 WHEN 'ces' THEN 1 + h % 7
    END AS DOUBLE) AS score
FROM (
    SELECT
        'C' || lpad(CAST(i // 100 AS VARCHAR), 8, '0') AS customer_id,
        TIMESTAMP '2024-01-01'
            + to_microseconds(CAST(hash(i, 1) % 7776000000000 AS BIGINT)) AS occurred_at,
        i + 1 AS seq,
        list_extract($names, CAST(1 + hash(i, 2) % 8 AS INTEGER)) AS event_name,
        CASE WHEN hash(i, 3) % 2 = 0 THEN 'web' ELSE 'app' END AS source,
        CASE WHEN hash(i, 3) % 2 = 0 THEN 'web' ELSE 'app' END AS channel,
        CAST(NULL AS VARCHAR) AS properties,
        CASE WHEN hash(i, 4) % 40 = 0
            THEN list_extract(['nps', 'csat', 'ces'], CAST(1 + hash(i, 5) % 3 AS INTEGER))
        END AS score_type,
        hash(i, 6) AS h
    FROM range($n) AS t(i)
)
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
        "outcomes": [
            {"id": "converted", "name": "Converted", "did": {"event": "purchase"}},
            {
                "id": "churned",
                "name": "Churned",
                "polarity": "negative",
                "inactive_days": 14,
            },
        ],
    }
)
FUNNEL = ["page_view", "add_to_cart", "purchase"]
#: The event columns the analyses below read besides the path frame's own: the channel, a
#: feature kind of the outcome comparison, which counts its features off the sorted arrays
#: like the order-dependent analyses. The survey metrics read the bound events themselves.
PATH_COLUMNS: list[str] = ["channel"]


def cpu_seconds() -> float:
    """User + system CPU seconds of this process so far (all DuckDB threads included)."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def timed(label: str, fn: Callable[[], Any]) -> tuple[float, float, Any]:
    """Run ``fn``; print and return its wall and CPU seconds and its result."""
    start, cpu = time.perf_counter(), cpu_seconds()
    out = fn()
    seconds, cpu = time.perf_counter() - start, cpu_seconds() - cpu
    print(f"  {label:<32} {seconds:8.2f} s  cpu {cpu:8.2f} s", flush=True)
    return seconds, cpu, out


def full_analysis(events: nw.LazyFrame[Any], add: Callable[[str, Callable[[], Any]], Any]) -> Any:
    """The issue's full analysis, each part timed by ``add``; returns every result as data.

    bind + one shared sort (the path frame: on DuckDB sorted arrays, which also give each
    event's previous bound stage and step for planned vs actual) + sessions + transitions
    + step matrix + funnel + planned vs actual + outcome comparison (the outcomes per unit
    and the feature counts), all read off the path frame; the survey metrics read the
    bound events (they do not depend on the order).
    """
    bound = add("bind", lambda: bind(events, MAP))
    p = add(
        "sort once (path frame)",
        lambda: sort_paths(
            bound, previous=(STAGE_ID, STEP_ID), journey_map=MAP, columns=PATH_COLUMNS
        ),
    )
    out: dict[str, Any] = {}
    out["sessions"] = add("sessions", lambda: sessions(p)).to_dict()
    out["transitions"] = add("transitions", lambda: transitions(p, markers=True)).to_dict()
    out["step_matrix"] = add("step matrix", lambda: step_matrix(p, max_steps=10)).to_dict()
    out["funnel"] = add("funnel (7d window)", lambda: funnel(p, FUNNEL, window="7d")).to_full_dict()
    out["conformance"] = add("planned vs actual", lambda: conformance(p, MAP)).to_dict()

    def compare() -> Any:
        outcomes = evaluate_outcomes(p, MAP)
        return compare_outcome(p, outcomes, "converted")

    out["compare"] = add("outcome comparison", compare).to_dict()
    out["survey"] = add(
        "survey metrics (by stage)", lambda: survey_metrics(bound, by="stage", journey_map=MAP)
    ).to_dict()
    out["_paths"] = p
    return out


def extras(p: Any, add: Callable[[str, Callable[[], Any]], Any]) -> dict[str, Any]:
    """Top paths and stage flows: analytics outside the issue's timed set."""
    return {
        "top_paths": add("top paths", lambda: top_paths(p, max_length=5, top=50)).to_dict(),
        "flows": add("flows (stages)", lambda: flows(p)).to_dict(),
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


def _tree_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` and its live descendants (from /proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    stack = [pid]
    while stack:
        p = stack.pop()
        try:
            with open(f"/proc/{p}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{p}/task/{p}/children") as f:
                stack.extend(int(c) for c in f.read().split())
        except OSError:  # the process ended meanwhile
            continue
        total += (int(fields[11]) + int(fields[12])) / tick  # utime + stime
    return total


def spark_check(con: duckdb.DuckDBPyConnection) -> None:
    """Run the full analysis and the extras on DuckDB and on Spark local over the same events;
    print each part's time on both engines and every difference.

    Spark's work happens in its JVM, so its CPU seconds are the JVM's (read from /proc), added
    to this process's (which converts the results)."""
    from pyspark.sql import SparkSession

    spark = (
        SparkSession.builder.master("local[2]")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", "4")
        # The events are handed over from Arrow and held in the driver's heap (local mode):
        # the 1 GB default heap cannot hold 10M events; big Arrow batches give ~20 input
        # partitions at 10M instead of one per 10k rows.
        .config("spark.driver.memory", os.environ.get("SPARK_DRIVER_MEMORY", "6g"))
        .config("spark.sql.execution.arrow.maxRecordsPerBatch", "500000")
        .config("spark.ui.showConsoleProgress", "false")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    jvm_pid = spark.sparkContext._gateway.proc.pid  # type: ignore[union-attr]

    def cpu() -> float:
        return cpu_seconds() + _tree_cpu_seconds(jvm_pid)

    def as_data(result: Any) -> Any:
        """A part's result as plain data (None for the frames bind and sort return)."""
        for method in ("to_full_dict", "to_dict"):
            if hasattr(result, method):
                return getattr(result, method)()
        return None

    def run(
        engine: str, events: nw.LazyFrame[Any], parts: dict[str, Any], reference: dict[str, Any]
    ) -> tuple[dict[str, Any], float, float]:
        """Every part on one engine; each part's result is kept in ``parts`` and, when
        ``reference`` has it, compared at once (a run cut short still says which agree)."""
        print(f"{engine} (load average {os.getloadavg()[0]:.1f})", flush=True)
        start, cpu0 = time.perf_counter(), cpu()

        def add(label: str, fn: Callable[[], Any]) -> Any:
            t, c = time.perf_counter(), cpu()
            out = fn()
            wall = time.perf_counter() - t
            parts[label] = data = as_data(out)
            verdict = ""
            if data is not None and label in reference:
                d = same(reference[label], data)
                verdict = "  identical" if not d else f"  {len(d)} differences, e.g. {d[0]}"
            print(f"  {label:<32} {wall:8.2f} s  cpu {cpu() - c:8.2f} s{verdict}", flush=True)
            return out

        out = full_analysis(events, add)
        paths = out.pop("_paths")
        out.update(extras(paths, add))
        return out, time.perf_counter() - start, cpu() - cpu0

    duck_parts: dict[str, Any] = {}
    duck, duck_s, duck_cpu = run("DuckDB", nw.from_native(con.table("events")), duck_parts, {})
    table = con.table("events").to_arrow_table()
    sp, spark_s, spark_cpu = run(
        "Spark local", nw.from_native(spark.createDataFrame(table)), {}, duck_parts
    )
    diffs = same(duck, sp)
    print(f"DuckDB {duck_s:.1f} s (cpu {duck_cpu:.1f} s), Spark local {spark_s:.1f} s", end="")
    print(f" (cpu {spark_cpu:.1f} s); load average now {os.getloadavg()[0]:.1f}", flush=True)
    print(f"parts compared: {', '.join(sorted(duck))}")
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
        "--temp-directory", default="", help="DuckDB temp_directory for spilling (default: its own)"
    )
    parser.add_argument("--no-extras", action="store_true", help="skip top paths and flows")
    parser.add_argument(
        "--spark-check",
        action="store_true",
        help="instead of timing, run everything on DuckDB and Spark local and compare the results",
    )
    args = parser.parse_args()

    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    if args.threads:
        con.execute("SET threads = $t", {"t": args.threads})
    con.execute("SET memory_limit = $m", {"m": args.memory_limit})
    if args.temp_directory:
        con.execute("SET temp_directory = $d", {"d": args.temp_directory})
    print(f"cores: {os.cpu_count()}, load average {os.getloadavg()[0]:.1f}", flush=True)
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
    sort_before, cpu_before, _ = timed("DuckDB sort by (customer, time)", plain_sort)

    events = nw.from_native(con.table("events"))
    print("full analysis (one sort, reused)", flush=True)
    walls: list[float] = []
    cpus: list[float] = []

    def add(label: str, fn: Callable[[], Any]) -> Any:
        seconds, cpu, out = timed(label, fn)
        walls.append(seconds)
        cpus.append(cpu)
        return out

    results = full_analysis(events, add)
    total, total_cpu = sum(walls), sum(cpus)
    # The high-water mark so far: the baseline sort and the full analysis (the extras,
    # which build the path frame as a table too, come after).
    analysis_peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024
    print(f"  {'total':<32} {total:8.2f} s  cpu {total_cpu:8.2f} s", flush=True)
    print(f"baseline again (load average now {os.getloadavg()[0]:.1f})", flush=True)
    sort_after, cpu_after, _ = timed("DuckDB sort by (customer, time)", plain_sort)
    if not args.no_extras:
        print("extras (not in the issue's set)", flush=True)
        extras(results["_paths"], lambda label, fn: timed(label, fn)[2])
    sort_s, sort_cpu = min(sort_before, sort_after), min(cpu_before, cpu_after)
    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024
    print()
    print(f"events                 {args.events:,}")
    print(f"sort (DuckDB)          {sort_s:.2f} s (runs: {sort_before:.2f}, {sort_after:.2f})")
    print(f"full analysis          {total:.2f} s")
    print(f"ratio analysis / sort  {total / sort_s:.2f} (target ≤ 2)")
    print(f"cpu ratio              {total_cpu / sort_cpu:.2f} ({total_cpu:.1f} / {sort_cpu:.1f} s)")
    print(
        f"peak RSS               {analysis_peak_gb:.2f} GB up to the end of the full analysis "
        f"(target ≤ 4; memory_limit {args.memory_limit}); {peak_gb:.2f} GB with the extras"
    )
    print(
        f"load average           {os.getloadavg()[0]:.1f} (2 cores; above ~2 the times are inflated)"
    )


if __name__ == "__main__":
    main()
