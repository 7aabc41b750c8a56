"""Benchmark: how fast does ``journeylens simulate`` write events, and in how much memory?

Prints events (rows written to the event sources: web, app, orders, campaigns, loyalty,
surveys, social, support), wall seconds, CPU seconds (main process + workers), events per
second and the peak resident memory of the main process and of the largest worker process
(``resource.getrusage``; workers exist with ``--workers`` > 1, the default being 2). The machine's load average is
printed too: on a shared machine wall time is only meaningful beside it.

    .venv/bin/python bench/bench_simulate.py --customers 700000    # ≈ 10M events
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import tempfile
import time
from pathlib import Path

from journeylens.simulate.run import simulate
from journeylens.simulate.scenario import builtin_scenario
from journeylens.templates import get_template, get_template_personas


def main() -> None:
    """Run one simulation of the online-course template and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=700_000)
    parser.add_argument("--chunk-size", type=int, default=50_000)
    parser.add_argument("--dirty", type=float, default=0.0)
    parser.add_argument(
        "--workers", type=int, default=2, help="processes (the machine has 2 cores)"
    )
    parser.add_argument("--out", type=Path, default=None, help="default: a temporary folder")
    args = parser.parse_args()
    journey = get_template("online-course")
    personas = get_template_personas("online-course")
    scenario = builtin_scenario("online-course")
    assert scenario is not None
    out = args.out or Path(tempfile.mkdtemp(prefix="jl-bench-"))
    cpu0 = time.process_time()
    t0 = time.perf_counter()
    result = simulate(
        journey, personas, scenario, out, args.customers, dirty=args.dirty,
        chunk_size=args.chunk_size, workers=args.workers,
    )  # fmt: skip
    seconds = time.perf_counter() - t0
    self_cpu = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = time.process_time() - cpu0 + kids.ru_utime + kids.ru_stime
    peak_mb = self_cpu.ru_maxrss / 1024
    peak_child_mb = kids.ru_maxrss / 1024
    size_mb = sum(p.stat().st_size for p in out.rglob("*") if p.is_file()) / 2**20
    print(f"customers        {args.customers:,}")
    print(f"events           {result.events:,}")
    print(f"seconds (wall)   {seconds:.1f}")
    print(f"seconds (cpu)    {cpu:.1f}")
    print(f"events/s (wall)  {result.events / seconds:,.0f}")
    print(f"events/s (cpu)   {result.events / cpu:,.0f}")
    print(f"workers          {args.workers}")
    print(f"peak RSS         {peak_mb:,.0f} MB (main), {peak_child_mb:,.0f} MB (largest worker)")
    print(f"output size      {size_mb:,.0f} MB")
    print(f"load average     {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    if args.out is None:
        shutil.rmtree(out)


if __name__ == "__main__":
    main()
