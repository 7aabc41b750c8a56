"""Step matrix: which event is at each position of the paths.

Definition (METRICS.md): number each path's events 1, 2, 3 … in order (``occurred_at``,
then ``seq``). Cell (event, k) = share of all paths whose k-th event is that event. The
``path_end`` row at step k = share of paths with fewer than k events. Every column sums to
1. With no paths at all every share is 0 (there is nothing to divide).

Rows are ordered by their total share over the K columns (largest first, ties by name);
``path_end`` is always the last row.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

import narwhals as nw
import numpy as np
import pyarrow as pa

from journeylens.analytics._arrays import PathArrays
from journeylens.analytics._common import (
    LABEL,
    PATH_END,
    POS,
    AnalyticsError,
    Paths,
    Unit,
    collect_rows,
    sort_paths,
)
from journeylens.engine.frames import EVENT


@dataclass(frozen=True)
class StepMatrixRow:
    """One event (or ``path_end``) and its share of paths at steps 1 … K."""

    event: str
    shares: tuple[float, ...]


@dataclass(frozen=True)
class StepMatrixResult:
    """The K-column step matrix over ``paths`` paths."""

    unit: Unit
    max_steps: int
    paths: int
    rows: tuple[StepMatrixRow, ...]

    def to_frame(self) -> pa.Table:
        """Columns ``event``, ``step_1`` … ``step_K``."""
        data: dict[str, list[Any]] = {"event": [r.event for r in self.rows]}
        for k in range(self.max_steps):
            data[f"step_{k + 1}"] = [r.shares[k] for r in self.rows]
        schema = pa.schema(
            [("event", pa.string())]
            + [(f"step_{k + 1}", pa.float64()) for k in range(self.max_steps)]
        )
        return pa.table(data, schema=schema)

    def to_dict(self) -> dict[str, Any]:
        """``{"unit", "max_steps", "rows": [{"event", "shares": [...]}, …]}``."""
        return {
            "unit": self.unit,
            "max_steps": self.max_steps,
            "rows": [{"event": r.event, "shares": list(r.shares)} for r in self.rows],
        }


def step_matrix(
    events: Any, *, unit: Unit = "customer", max_steps: int = 10, label: str = EVENT
) -> StepMatrixResult:
    """Share of paths with each event at each of the first ``max_steps`` positions.

    >>> import polars as pl
    >>> from datetime import datetime
    >>> ev = pl.DataFrame({"customer_id": ["a", "a", "b"], "event_name": ["x", "y", "y"],
    ...     "occurred_at": [datetime(2024, 1, 1)] * 3, "seq": [1, 2, 3]})
    >>> step_matrix(ev, max_steps=2).to_dict()["rows"]
    [{'event': 'y', 'shares': [0.5, 0.5]}, {'event': 'x', 'shares': [0.5, 0.0]}, {'event': 'path_end', 'shares': [0.0, 0.5]}]
    """
    if max_steps < 1:
        raise AnalyticsError(f"max_steps must be at least 1, got {max_steps}")
    p = sort_paths(events, unit=unit, label=label)
    if p.arrays is not None:
        counts = _cells_of_arrays(p.arrays, max_steps)
    else:
        counts = _cells_of_frame(p, max_steps)
    # paths with at least k events = events at position k
    at_step = [sum(v[k] for v in counts.values()) for k in range(max_steps)]
    n_paths = at_step[0]
    ended = [n_paths - at_step[k] for k in range(max_steps)]

    def shares(values: list[int]) -> tuple[float, ...]:
        return tuple(v / n_paths if n_paths else 0.0 for v in values)

    # a null label (keep_unlabelled) sorts before every text instead of failing
    rows = sorted(counts.items(), key=lambda kv: (-sum(kv[1]), kv[0] or "", kv[0] is not None))
    return StepMatrixResult(
        unit=p.unit,
        max_steps=max_steps,
        paths=n_paths,
        rows=(
            # e is None only for unlabelled events kept in the frame (as before: no text)
            *(StepMatrixRow(event=cast(str, e), shares=shares(v)) for e, v in rows),
            StepMatrixRow(event=PATH_END, shares=shares(ended)),
        ),
    )


def _cells_of_frame(p: Paths, max_steps: int) -> dict[str | None, list[int]]:
    """Per label, the number of paths with it at positions 1 … ``max_steps`` (labels
    seen there only): one group-by of the path frame's first ``max_steps`` positions."""
    cells = collect_rows(
        p.frame.filter(nw.col(POS) <= max_steps).group_by(LABEL, POS).agg(nw.len().alias("n"))
    )
    counts: dict[str | None, list[int]] = {}
    for r in cells:
        counts.setdefault(r[LABEL], [0] * max_steps)[int(r[POS]) - 1] += int(r["n"])
    return counts


def _cells_of_arrays(a: PathArrays, max_steps: int) -> dict[str | None, list[int]]:
    """:func:`_cells_of_frame` from the sorted arrays: the k-th event of every path at
    least k long is row ``starts + k - 1``, so position k is a ``bincount`` of the labels
    at those rows — a few passes over the paths, none over all the events."""
    n_labels = len(a.labels)
    texts: list[str | None] = [*a.labels, None]  # code n_labels: the null label
    cells = np.zeros((n_labels + 1, max_steps), dtype=np.int64)
    row, length = a.starts[:-1], a.lengths
    for k in range(max_steps):
        if k:  # the paths that reach step k + 1, and their row there
            keep = length > k
            row, length = row[keep] + 1, length[keep]
        if len(row) == 0:
            break
        label = a.label[row]
        label[label < 0] = n_labels
        cells[:, k] = np.bincount(label, minlength=n_labels + 1)
    return {texts[c]: cells[c].tolist() for c in np.flatnonzero(cells.any(axis=1)).tolist()}
