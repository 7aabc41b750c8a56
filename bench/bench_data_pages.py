"""Data-page benchmark: one page of a quarantine holding millions of records.

Fills a fresh event store with ``--rows`` quarantined records (default 2M, 100 runs,
5 reasons) and 1,000 ingest-log entries straight in DuckDB, then times what
``/w/{ws}/data/quarantine`` and ``/w/{ws}/data`` ask the store for
(:mod:`journeylens.events.reports`): the count, the first page, the last page (the
deepest OFFSET), a filtered page, the run / reason choices and a log page. Each query is
run ``--repeat`` times on a read-only connection; prints the median and the worst time,
CPU seconds and the load average (a shared machine inflates wall time).

    .venv/bin/python bench/bench_data_pages.py --rows 2000000
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from journeylens.engine.workspace import Workspace
from journeylens.events.reports import (
    ingest_log_count,
    ingest_log_page,
    quarantine_choices,
    quarantine_count,
    quarantine_page,
)

REASONS = ("bad_timestamp", "missing_field", "bad_amount", "bad_currency", "bad_score")


def fill(root: Path, rows: int) -> Workspace:
    """A workspace whose store holds ``rows`` quarantined records and 1,000 log entries."""
    ws = Workspace.init(root)
    con = ws.store.connect()
    reasons = ", ".join(f"'{r}'" for r in REASONS)
    con.execute(
        f"""
        INSERT INTO quarantine
        SELECT printf('2026%04dT000000-run', i // ($rows // 100 + 1)), 'web',
               printf('/data/export-%03d.csv', i % 37), i + 2, 'occurred_at',
               printf('bad value %d', i), list_extract([{reasons}], i % 5 + 1),
               'an ISO 8601 time', printf('{{"i": %d}}', i)
        FROM range($rows) t(i)
        """,
        {"rows": rows},
    )
    con.execute(
        """
        INSERT INTO ingest_log
        SELECT printf('2026%04dT000000-run', i), 'web', 'segment', '/data/a.jsonl', 1000, 990,
               10, 0, 990, TIMESTAMP '2026-01-01' + i * INTERVAL 1 MINUTE,
               TIMESTAMP '2026-01-01' + i * INTERVAL 1 MINUTE + INTERVAL 5 SECOND, 'ok', NULL
        FROM range(1000) t(i)
        """
    )
    con.close()
    return ws


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, float, float]:
    """Median and worst wall seconds of ``fn`` over ``repeat`` runs, and CPU seconds per run."""
    walls = []
    cpu0 = time.process_time()
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        walls.append(time.perf_counter() - t0)
    return statistics.median(walls), max(walls), (time.process_time() - cpu0) / repeat


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        ws = fill(Path(tmp) / "ws", args.rows)
        print(f"filled {args.rows:,} quarantined records in {time.perf_counter() - t0:.1f} s")
        con = ws.store.connect(read_only=True)
        last = max(0, (args.rows - 1) // 50 * 50)
        queries: dict[str, Callable[[], Any]] = {
            "count (no filter)": lambda: quarantine_count(con),
            "page 1": lambda: quarantine_page(con, limit=50),
            f"last page (offset {last:,})": lambda: quarantine_page(con, limit=50, offset=last),
            "reason filter, page 1": lambda: quarantine_page(con, reason="bad_amount", limit=50),
            "run=latest + reason, count": lambda: quarantine_count(
                con, run="latest", reason="bad_amount"
            ),
            "choices (runs, reasons)": lambda: quarantine_choices(con),
            "ingest log count + page 1": lambda: (ingest_log_count(con), ingest_log_page(con)),
        }
        for name, fn in queries.items():
            median, worst, cpu = timed(fn, args.repeat)
            print(
                f"  {name:32s} median {median * 1000:8.1f} ms  worst {worst * 1000:8.1f} ms"
                f"  CPU {cpu * 1000:8.1f} ms"
            )
        con.close()
    print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
