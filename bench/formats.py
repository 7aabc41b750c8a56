"""How fast the formats layer reads, writes, diffs and converts a large map.

Run: ``.venv/bin/python bench/formats.py``. Prints one line per operation: the median of 5
wall times and of 5 CPU times of the process.
The map has 12 stages × 10 steps, each step with 3 actions, an emotion, 2 touchpoints with
match rules, a pain point and an opportunity — far larger than a real map.

``parse YAML`` is the fast path (libyaml with YAML 1.2 typing) that every valid file takes;
``parse YAML, round-trip reader`` is the path every file took before it (ruamel's
pure-Python reader that records positions), which now only runs when a file is invalid.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from journeylens.formats import (
    diff_maps,
    dumps_json,
    dumps_yaml,
    from_csv,
    from_mermaid,
    parse_model,
    to_csv,
    to_mermaid,
)
from journeylens.formats.io import (
    _parse,
    load_map,
    load_map_located,
    locate_paths,
    validate_data,
)
from journeylens.model import JourneyMap


def big_map(stages: int = 12, steps: int = 10) -> JourneyMap:
    """A synthetic map of the given size."""
    return JourneyMap.model_validate(
        {
            "id": "big",
            "title": "Big map",
            "stages": [
                {
                    "id": f"s{s}",
                    "name": f"Stage {s}",
                    "steps": [
                        {
                            "id": f"s{s}-t{t}",
                            "name": f"Step {s}.{t}",
                            "actions": [f"Action {i}" for i in range(3)],
                            "emotion": {"score": (t % 5) - 2, "label": "fine"},
                            "touchpoints": [
                                {
                                    "id": f"s{s}-t{t}-p{p}",
                                    "name": f"Touchpoint {p}",
                                    "channel": "web",
                                    "match": [{"event": f"event_{s}_{t}_{p}", "source": "web"}],
                                }
                                for p in range(2)
                            ],
                            "pain_points": [
                                {"id": f"s{s}-t{t}-pain", "text": "Slow", "severity": 3}
                            ],
                            "opportunities": [{"id": f"s{s}-t{t}-opp", "text": "Faster"}],
                        }
                        for t in range(steps)
                    ],
                }
                for s in range(stages)
            ],
        }
    )


def parse_round_trip(text: str) -> JourneyMap:
    """The reader every file took before the fast path: ruamel round-trip, with positions."""
    data, positions = _parse(text, "<bench>")
    return validate_data(data, JourneyMap, positions, "<bench>")


def median_ms(action: Callable[[], object], repeat: int = 5) -> tuple[float, float]:
    """Median wall time and median CPU time of this process for ``action``, in
    milliseconds (CPU time is what a busy machine does not inflate)."""
    wall, cpu = [], []
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        action()
        wall.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
    return statistics.median(wall), statistics.median(cpu)


def main() -> None:
    journey = big_map()
    yaml_text, json_text = dumps_yaml(journey), dumps_json(journey)
    csv_text, mermaid_text = to_csv(journey), to_mermaid(journey)
    edited = journey.model_copy(deep=True)
    edited.stages[3].steps[2].name = "Renamed"
    edited.stages[5].steps.reverse()
    steps = sum(len(s.steps) for s in journey.stages)
    print(f"map: {len(journey.stages)} stages, {steps} steps, YAML {len(yaml_text) / 1024:.0f} KiB")
    rows = {
        "dumps_yaml": lambda: dumps_yaml(journey),
        "parse YAML": lambda: parse_model(yaml_text, JourneyMap),
        "parse YAML, round-trip reader (before)": lambda: parse_round_trip(yaml_text),
        "dumps_json": lambda: dumps_json(journey),
        "parse JSON": lambda: parse_model(json_text, JourneyMap),
        "to_csv": lambda: to_csv(journey),
        "from_csv": lambda: from_csv(csv_text),
        "to_mermaid": lambda: to_mermaid(journey),
        "from_mermaid": lambda: from_mermaid(mermaid_text),
        "diff_maps (1 rename, 1 stage reversed)": lambda: diff_maps(journey, edited),
    }
    small = big_map(stages=5, steps=4)
    small_yaml = dumps_yaml(small)
    rows[f"parse YAML, typical map ({len(small_yaml) / 1024:.0f} KiB)"] = lambda: parse_model(
        small_yaml, JourneyMap
    )
    rows["parse YAML, typical map, round-trip (before)"] = lambda: parse_round_trip(small_yaml)
    rows["dumps_yaml, typical map"] = lambda: dumps_yaml(small)
    with tempfile.TemporaryDirectory() as folder:
        big_file = Path(folder, "big.journey.yaml")
        big_file.write_text(yaml_text, encoding="utf-8")
        # `journeylens lint` reads the map and the lines of its findings.
        rows["lint's read: load_map + locate_paths (before)"] = lambda: (
            load_map(big_file),
            locate_paths(big_file),
        )
        rows["lint's read: load_map_located (one parse)"] = lambda: load_map_located(big_file)
        print(f"{'':44s} {'wall':>8s}    {'CPU':>8s}")
        for name, action in rows.items():
            wall, cpu = median_ms(action)
            print(f"{name:44s} {wall:8.1f} ms {cpu:8.1f} ms")


if __name__ == "__main__":
    main()
