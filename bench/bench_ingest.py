"""Ingestion benchmark: full ingest vs DuckDB's own plain read of the same file.

Generates an events file of ``--rows`` rows (CSV and Parquet; default 10M), then, each in a
fresh child process so peak memory is measured per step:

* ``plain``: ``CREATE TABLE t AS SELECT * FROM read_csv / read_parquet`` into a new DuckDB file;
* ``ingest``: ``journeylens.events.runner.ingest`` with a mapping (parse, validate, quarantine,
  dedupe, store) into a new workspace, without stitching;
* ``stitch``: identity stitching of the stored events.

Prints rows/s, the ingest / plain time ratio, each step's peak RSS and its CPU seconds
(user + system: less sensitive than wall time to other jobs on a shared machine), and the
load average before and after.

    .venv/bin/python bench/bench_ingest.py --rows 10000000
    .venv/bin/python bench/bench_ingest.py --rows 2000000 --no-stitch --before /tmp/old/src
    .venv/bin/python bench/bench_ingest.py --rows 2000000 --rounds 3 --before /tmp/old/src
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MAPPING = """\
time: {column: ts}
event_id: id
event_name: {column: event}
channel: {constant: web}
identities: {user_id: user_id, anonymous_id: anonymous_id}
value: amount
properties: [page]
"""


def generate(folder: Path, rows: int) -> tuple[Path, Path]:
    """Write events.csv and events.parquet with ``rows`` synthetic events (0.5% invalid)."""
    import duckdb

    csv_path, pq_path = folder / "events.csv", folder / "events.parquet"
    con = duckdb.connect()
    con.execute(
        f"""
        CREATE TABLE g AS SELECT
            'e' || i AS id,
            CASE WHEN i % 200 = 7 THEN 'not-a-time'
                 ELSE strftime(TIMESTAMP '2025-01-01' + to_microseconds(i * 1000003 % 31536000000000),
                               '%Y-%m-%dT%H:%M:%S.%fZ') END AS ts,
            CASE WHEN i % 3 = 0 THEN 'C' || (i % 500000) END AS user_id,
            'a' || (i % 2000000) AS anonymous_id,
            ['page_view', 'add_to_cart', 'purchase', 'search'][1 + i % 4] AS event,
            CASE WHEN i % 4 = 2 THEN round((i % 10000) / 100.0, 2) END AS amount,
            '/p/' || (i % 1000) AS page
        FROM range({int(rows)}) AS t(i)
        """
    )
    con.execute(f"COPY g TO '{csv_path}' (HEADER)")
    con.execute(
        "COPY (SELECT * REPLACE (CAST(ts AS VARCHAR) AS ts) FROM g) "
        f"TO '{pq_path}' (FORMAT parquet, COMPRESSION zstd)"
    )
    con.close()
    return csv_path, pq_path


def child(step: str, path: str, work: str) -> None:
    """One measured step (run in its own process)."""
    import duckdb

    started = time.perf_counter()
    if step == "plain":
        con = duckdb.connect(str(Path(work) / "plain.duckdb"))
        reader = "read_parquet($f)" if path.endswith(".parquet") else "read_csv($f)"
        con.execute(f"CREATE TABLE t AS SELECT * FROM {reader}", {"f": path})
        n = con.execute("SELECT count(*) FROM t").fetchall()[0][0]
    elif step == "ingest":
        from journeylens.engine.workspace import Workspace
        from journeylens.events.mapping import read_mapping
        from journeylens.events.runner import SourceSpec, ingest

        mapping = Path(work) / "mapping.yaml"
        mapping.write_text(MAPPING, encoding="utf-8")
        ws = Workspace.init(Path(work) / "ws")
        con = ws.store.connect()
        res = ingest(con, [SourceSpec((path,), "mapping", "bench", read_mapping(mapping))])
        n = res.sources[0].rows_read
        s = res.sources[0]
        print(
            f"    read {s.rows_read:,} stored {s.rows_stored:,} "
            f"quarantined {s.rows_quarantined:,} duplicate {s.rows_duplicate:,}",
            file=sys.stderr,
        )
    else:
        from journeylens.engine.workspace import Workspace
        from journeylens.events.stitch import stitch

        con = Workspace.open(Path(work) / "ws").store.connect()
        con.execute("BEGIN TRANSACTION")
        res2 = stitch(con)
        con.execute("COMMIT")
        n = con.execute("SELECT count(*) FROM events").fetchall()[0][0]
        print(f"    {res2}", file=sys.stderr)
    con.close()
    print(f"{n} {time.perf_counter() - started:.3f}")


def measure(
    step: str, path: Path, work: Path, src: Path | None = None
) -> tuple[int, float, float, float]:
    """(rows, seconds, peak RSS in MB, CPU seconds) of one step run in a child process
    (importing journeylens from ``src`` when given, e.g. an older checkout's ``src``)."""
    env = dict(os.environ)
    if src is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(src), env.get("PYTHONPATH", "")]).rstrip(":")
    proc = subprocess.Popen(
        [sys.executable, __file__, "--child", step, str(path), str(work)],
        stdout=subprocess.PIPE,
        env=env,
    )
    assert proc.stdout is not None
    out = proc.stdout.read().decode()
    _, status, usage = os.wait4(proc.pid, 0)
    if status != 0:
        raise SystemExit(f"{step} failed")
    rows, seconds = out.split()
    return int(rows), float(seconds), usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime


def alternate(label: str, path: Path, work: Path, rounds: int, before: Path | None) -> None:
    """Plain, ingest and (with ``before``) the older ingest, alternately ``rounds`` times:
    each run's figures, then the medians and the ratios of the medians."""
    import statistics

    steps = [("plain", "plain", None), ("ingest", "ingest", None)]
    if before is not None:
        steps.append(("before", "ingest", before))
    runs: dict[str, list[tuple[float, float, float]]] = {name: [] for name, _, _ in steps}
    for r in range(rounds):
        for name, step, src in steps:
            folder = work / f"{name}-{r}"
            folder.mkdir()
            _, s, mb, cpu = measure(step, path, folder, src)
            runs[name].append((s, cpu, mb))
            print(
                f"{label:8} {name:6} round {r + 1}: {s:6.2f}s cpu {cpu:6.1f}s peak {mb:6.0f} MB "
                f"(load average {os.getloadavg()[0]:.1f})"
            )
            shutil.rmtree(folder, ignore_errors=True)
    med = {
        n: (statistics.median(x[0] for x in v), statistics.median(x[1] for x in v))
        for n, v in runs.items()
    }
    for name, (s, cpu) in med.items():
        ratio = (
            ""
            if name == "plain"
            else (f"  / plain {s / med['plain'][0]:.2f}x (cpu {cpu / med['plain'][1]:.2f}x)")
        )
        print(f"{label:8} {name:6} median: {s:6.2f}s cpu {cpu:6.1f}s{ratio}")
    if before is not None:
        (s, cpu), (s0, cpu0) = med["ingest"], med["before"]
        print(f"{label:8} ingest / before: {s / s0:.2f}x (cpu {cpu / cpu0:.2f}x)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--dir", type=Path, default=None, help="Work folder (default: temp).")
    parser.add_argument("--no-stitch", action="store_true", help="Skip the stitching step.")
    parser.add_argument(
        "--only", choices=("parquet", "csv"), default=None, help="Measure one file format."
    )
    parser.add_argument(
        "--before",
        type=Path,
        default=None,
        help="Also run the ingest with journeylens imported from this src folder (e.g. "
        "`git archive <commit> src | tar -x -C /tmp/old`, then /tmp/old/src), right after "
        "the current one, for a before/after ratio under the same load.",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="Run plain, ingest (and --before) alternately this many times and compare the "
        "medians (steadier on a shared machine; no stitching).",
    )
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    base = args.dir or Path(tempfile.mkdtemp(prefix="jl-bench-"))
    base.mkdir(parents=True, exist_ok=True)
    t = time.perf_counter()
    stamp = base / "rows.txt"
    if stamp.is_file() and stamp.read_text() == str(args.rows):  # same --dir, same size
        csv_path, pq_path = base / "events.csv", base / "events.parquet"
        print(f"reusing the {args.rows:,}-row files under {base}")
    else:
        csv_path, pq_path = generate(base, args.rows)
        stamp.write_text(str(args.rows))
        print(f"generated {args.rows:,} rows in {time.perf_counter() - t:.1f}s under {base}")
    print(f"cores: {os.cpu_count()}, load average {os.getloadavg()[0]:.1f}")
    for label, path in (("Parquet", pq_path), ("CSV", csv_path)):
        if args.only and args.only != label.lower():
            continue
        work = base / label.lower()
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir()
        if args.rounds > 1:
            alternate(label, path, work, args.rounds, args.before)
            continue
        rows, plain_s, plain_mb, plain_cpu = measure("plain", path, work)
        rows, ingest_s, ingest_mb, ingest_cpu = measure("ingest", path, work)
        print(
            f"{label:8} plain read_*: {plain_s:6.2f}s {rows / plain_s:12,.0f} rows/s "
            f"peak {plain_mb:6.0f} MB  cpu {plain_cpu:6.1f}s"
        )
        print(
            f"{label:8} ingest      : {ingest_s:6.2f}s {rows / ingest_s:12,.0f} rows/s "
            f"peak {ingest_mb:6.0f} MB  cpu {ingest_cpu:6.1f}s  ratio {ingest_s / plain_s:.2f}x "
            f"(cpu {ingest_cpu / plain_cpu:.2f}x)"
        )
        if args.before is not None:
            old = work / "before"
            old.mkdir()
            _, old_s, old_mb, old_cpu = measure("ingest", path, old, args.before)
            print(
                f"{label:8} ingest before: {old_s:5.2f}s {rows / old_s:12,.0f} rows/s "
                f"peak {old_mb:6.0f} MB  cpu {old_cpu:6.1f}s  ratio {old_s / plain_s:.2f}x "
                f"(cpu {old_cpu / plain_cpu:.2f}x); after / before {ingest_s / old_s:.2f}x "
                f"(cpu {ingest_cpu / old_cpu:.2f}x)"
            )
        if args.no_stitch:
            print(f"{label:8} (load average now {os.getloadavg()[0]:.1f})")
            continue
        _, stitch_s, stitch_mb, stitch_cpu = measure("stitch", path, work)
        print(
            f"{label:8} stitch      : {stitch_s:6.2f}s peak {stitch_mb:6.0f} MB  "
            f"cpu {stitch_cpu:6.1f}s  (load average now {os.getloadavg()[0]:.1f})"
        )


if __name__ == "__main__":
    main()
