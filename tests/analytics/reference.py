"""Pure-Python reference implementations of the part-A analytics (METRICS.md, literally).

Small, obvious and slow: each function reads the definition and loops. The conformance
suite compares every engine with these. Part B extends this module with its own functions.
Percentiles use linear interpolation (numpy's default), like the engines.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import pairwise
from typing import Any


@dataclass(frozen=True)
class Ev:
    """One event: its unit (customer), time, ingestion sequence and name."""

    unit: str
    t: datetime
    seq: int
    event: str


def quantile(values: Sequence[float], q: float) -> float | None:
    """Linear-interpolation quantile (numpy's default); None for no values."""
    if not values:
        return None
    xs = sorted(values)
    pos = (len(xs) - 1) * q
    lo = int(pos)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def paths_of(events: Sequence[Ev]) -> dict[str, list[Ev]]:
    """Each unit's events sorted by (time, seq)."""
    out: dict[str, list[Ev]] = defaultdict(list)
    for e in events:
        out[e.unit].append(e)
    return {u: sorted(evs, key=lambda e: (e.t, e.seq)) for u, evs in out.items()}


def transitions_ref(
    events: Sequence[Ev], markers: bool = False
) -> dict[tuple[str, str], dict[str, Any]]:
    """(from, to) → count, unique_paths, share, probability, median_time_s, p90_time_s."""
    pairs: list[tuple[str, str, str, float | None]] = []
    for unit, path in paths_of(events).items():
        if markers:
            pairs.append((unit, "path_start", path[0].event, None))
        for a, b in pairwise(path):
            pairs.append((unit, a.event, b.event, (b.t - a.t).total_seconds()))
        if markers:
            pairs.append((unit, path[-1].event, "path_end", None))
    total = len(pairs)
    out_of = Counter(p[1] for p in pairs)
    result: dict[tuple[str, str], dict[str, Any]] = {}
    for key in {(p[1], p[2]) for p in pairs}:
        mine = [p for p in pairs if (p[1], p[2]) == key]
        gaps = [p[3] for p in mine if p[3] is not None]
        result[key] = {
            "count": len(mine),
            "unique_paths": len({p[0] for p in mine}),
            "share": len(mine) / total,
            "probability": len(mine) / out_of[key[0]],
            "median_time_s": quantile(gaps, 0.5),
            "p90_time_s": quantile(gaps, 0.9),
        }
    return result


def step_matrix_ref(events: Sequence[Ev], k: int) -> dict[str, list[float]]:
    """event → shares at steps 1..k, plus the path_end row."""
    ps = paths_of(events)
    n = len(ps)
    rows: dict[str, list[float]] = defaultdict(lambda: [0.0] * k)
    for path in ps.values():
        for i in range(k):
            if i < len(path):
                rows[path[i].event][i] += 1 / n
            else:
                rows["path_end"][i] += 1 / n
    rows.setdefault("path_end", [0.0] * k)
    return dict(rows)


def sessions_ref(events: Sequence[Ev], timeout_s: float) -> list[list[Ev]]:
    """All sessions: a gap strictly greater than the timeout starts a new one."""
    out: list[list[Ev]] = []
    for path in paths_of(events).values():
        current = [path[0]]
        for a, b in pairwise(path):
            if (b.t - a.t).total_seconds() > timeout_s:
                out.append(current)
                current = []
            current.append(b)
        out.append(current)
    return out


def funnel_ref(
    events: Sequence[Ev], steps: Sequence[str], window_s: float | None = None
) -> list[dict[str, Any]]:
    """Per step: reached, median / p90 time to convert, dropped, ended, next-event counts.

    Brute force over every attempt (each occurrence of s1), advancing greedily.
    """
    ps = paths_of(events)
    k = len(steps)
    reached = [0] * k
    times: list[list[float]] = [[] for _ in range(k)]
    dropped = [0] * k
    ended = [0] * k
    nexts: list[Counter[str]] = [Counter() for _ in range(k)]
    for path in ps.values():
        best_level = 0
        # first attempt reaching each level: (attempt start, index of ej)
        first_at: dict[int, tuple[int, int]] = {}
        for start, e in enumerate(path):
            if e.event != steps[0]:
                continue
            idx = [start]
            for j in range(1, k):
                found = None
                for i in range(idx[-1] + 1, len(path)):
                    if path[i].event != steps[j]:
                        continue
                    if window_s is not None and (path[i].t - e.t).total_seconds() > window_s:
                        break
                    found = i
                    break
                if found is None:
                    break
                idx.append(found)
            for level in range(1, len(idx) + 1):
                first_at.setdefault(level, (start, idx[level - 1]))
            best_level = max(best_level, len(idx))
        for level in range(1, best_level + 1):
            reached[level - 1] += 1
            start, end = first_at[level]
            times[level - 1].append((path[end].t - path[start].t).total_seconds())
        if 0 < best_level < k:
            dropped[best_level - 1] += 1
            _, end = first_at[best_level]
            if end + 1 < len(path):
                nexts[best_level - 1][path[end + 1].event] += 1
            else:
                ended[best_level - 1] += 1
    return [
        {
            "step": steps[j],
            "reached": reached[j],
            "median": quantile(times[j], 0.5),
            "p90": quantile(times[j], 0.9),
            "dropped": dropped[j],
            "ended": ended[j],
            "next": dict(nexts[j]),
        }
        for j in range(k)
    ]


def variants_ref(events: Sequence[Ev], max_length: int) -> Counter[tuple[tuple[str, ...], bool]]:
    """(first max_length events, truncated) → number of paths."""
    return Counter(
        (tuple(e.event for e in path[:max_length]), len(path) > max_length)
        for path in paths_of(events).values()
    )
