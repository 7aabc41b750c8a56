"""Benchmark of ``journeylens demo``: the full default demo, timed per phase.

Runs ``journeylens demo DIR --customers N --force`` in a child process (a fresh
interpreter, as a user would) and prints the wall time of every phase (read from the
demo's own ``✓ phase  12.3 s`` lines), the total wall time, the CPU time (user + system)
and the peak RSS of the child, and the load average before and after — on a shared
machine the load says how much of the wall time was waiting for a CPU.

    .venv/bin/python bench/bench_demo.py                       # 100,000 customers (default)
    .venv/bin/python bench/bench_demo.py --customers 20000 --dir /tmp/demo-bench

The issue's target: under 3 minutes on a 2-core machine.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_S = 180.0


def main() -> None:
    """Run the demo once and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--dir", type=Path, default=None, help="demo folder (default: a temp dir)")
    args = parser.parse_args()
    folder = args.dir or Path(tempfile.mkdtemp(prefix="jl-demo-bench-")) / "demo"
    exe = Path(sys.executable).parent / "journeylens"
    load_before = os.getloadavg()
    start = time.perf_counter()
    proc = subprocess.run(
        [str(exe), "demo", str(folder), "--customers", str(args.customers),
         "--seed", str(args.seed), "--force"],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
        check=False,
    )  # fmt: skip
    wall = time.perf_counter() - start
    load_after = os.getloadavg()
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        print(proc.stdout, proc.stderr, sep="\n")
        raise SystemExit(f"journeylens demo failed with exit code {proc.returncode}")
    phases = re.findall(r"✓ (\w+)\s+([\d.]+) s", proc.stdout)
    print(f"journeylens demo, {args.customers:,} customers, seed {args.seed}, in {folder}")
    print(f"{'phase':<10} {'wall s':>8} {'share':>7}")
    for name, seconds in phases:
        print(f"{name:<10} {float(seconds):8.1f} {float(seconds) / wall:7.1%}")
    print(f"{'total':<10} {wall:8.1f}   (target {TARGET_S:.0f} s: "
          f"{'met' if wall <= TARGET_S else 'NOT met'})")  # fmt: skip
    print(f"CPU (user + system) of the demo process: {usage.ru_utime + usage.ru_stime:.1f} s")
    print(f"peak RSS of the demo process: {usage.ru_maxrss / 1024:.0f} MiB")
    print(f"load average (1 min) before / after: {load_before[0]:.1f} / {load_after[0]:.1f} "
          f"on {os.cpu_count()} CPUs")  # fmt: skip
    shown = re.search(r"Planted problems: (\d+) of (\d+)", proc.stdout)
    if shown:
        print(f"planted problems that show: {shown.group(1)} of {shown.group(2)}")


if __name__ == "__main__":
    main()
