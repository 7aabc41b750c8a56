"""Pure-Python reference of planned vs actual and time in stage (METRICS.md), written as
plainly as possible so the engine code can be checked against it on generated logs."""

from __future__ import annotations

import itertools
import statistics
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Ev:
    """One bound event (stage / step / touchpoint None when unbound)."""

    unit: str
    at: datetime
    seq: int
    stage: str | None
    step: str | None
    touchpoint: str | None


def _paths(events: Sequence[Ev]) -> dict[str, list[Ev]]:
    out: dict[str, list[Ev]] = defaultdict(list)
    for e in sorted(events, key=lambda e: (e.unit, e.at, e.seq)):
        out[e.unit].append(e)
    return out


def _collapse(labels: list[str]) -> list[str]:
    out: list[str] = []
    for x in labels:
        if not out or out[-1] != x:
            out.append(x)
    return out


def stage_sequences(events: Sequence[Ev]) -> dict[str, list[str]]:
    """Per unit with a bound event: its stage sequence with consecutive repeats collapsed."""
    seqs = {}
    for unit, evs in _paths(events).items():
        labels = [e.stage for e in evs if e.stage is not None]
        if labels:
            seqs[unit] = _collapse(labels)
    return seqs


def conformance_reference(events: Sequence[Ev], stages: Sequence[str]) -> dict[str, object]:
    """fitness, backtrack share, skip counts per stage, unbound share, stage edge volumes."""
    pos = {s: i for i, s in enumerate(stages, 1)}
    seqs = stage_sequences(events)
    n = len(seqs)
    back = sum(1 for s in seqs.values() if any(pos[b] < pos[a] for a, b in itertools.pairwise(s)))
    skips = {}
    for st in stages:
        skips[st] = sum(
            1 for s in seqs.values() if st not in s and max(pos[x] for x in s) > pos[st]
        )
    edges: dict[tuple[str, str], int] = defaultdict(int)
    for s in seqs.values():
        for a, b in itertools.pairwise(s):
            edges[(a, b)] += 1
    unbound = sum(1 for e in events if e.touchpoint is None)
    return {
        "paths": n,
        "fitness": None if n == 0 else (n - back) / n,
        "backtrack_share": None if n == 0 else back / n,
        "skips": skips,
        "unbound_share": None if not events else unbound / len(events),
        "edges": dict(edges),
    }


def time_in_stage_reference(
    events: Sequence[Ev], stages: Sequence[str]
) -> dict[str, tuple[int, float | None]]:
    """Per stage: (units with a duration, median seconds) from first arrivals."""
    pos = {s: i for i, s in enumerate(stages, 1)}
    durations: dict[str, list[float]] = defaultdict(list)
    for evs in _paths(events).values():
        first: dict[str, datetime] = {}
        for e in evs:
            if e.stage is not None and e.stage not in first:
                first[e.stage] = e.at
        ordered = sorted(first.items(), key=lambda kv: (kv[1], pos[kv[0]]))
        for (st, t0), (_, t1) in itertools.pairwise(ordered):
            durations[st].append((t1 - t0).total_seconds())
    return {
        st: (len(durations[st]), statistics.median(durations[st]) if durations[st] else None)
        for st in stages
    }
