"""How long ``journeylens --version`` and ``journeylens --help`` take to start.

Run: ``.venv/bin/python bench/bench_cli_startup.py [RUNS]`` (default 20). Like
``hyperfine``: each command runs RUNS times in a fresh interpreter after two warm-up runs;
prints mean ± standard deviation, min and max of the wall time. Start-up is dominated by
imports, so ``python -X importtime -m journeylens.cli.main --version`` says where it goes.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time

COMMANDS = {
    "journeylens --version": [sys.executable, "-m", "journeylens.cli.main", "--version"],
    "journeylens --help": [sys.executable, "-m", "journeylens.cli.main", "--help"],
    "python -c pass (interpreter floor)": [sys.executable, "-c", "pass"],
}


def wall_times(argv: list[str], runs: int) -> list[float]:
    """Wall seconds of ``runs`` runs of ``argv`` (after two warm-up runs)."""
    env = {**os.environ, "COLUMNS": "100"}
    for _ in range(2):
        subprocess.run(argv, check=True, capture_output=True, env=env)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, check=True, capture_output=True, env=env)
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    print(f"{runs} runs each, load average {os.getloadavg()[0]:.2f}")
    for name, argv in COMMANDS.items():
        t = wall_times(argv, runs)
        print(
            f"{name:36s} {statistics.mean(t) * 1000:7.0f} ms ± {statistics.stdev(t) * 1000:5.0f}"
            f"  (min {min(t) * 1000:.0f}, max {max(t) * 1000:.0f})"
        )


if __name__ == "__main__":
    main()
