"""Top paths (variants): the most common whole sequences of events.

A path's **variant** is its sequence of events in order (``occurred_at``, then ``seq``).
Paths longer than ``max_length`` are cut after ``max_length`` events and marked
``truncated`` (two paths with the same first ``max_length`` events and both longer share a
variant). With ``collapse_repeats`` consecutive repeats of the same event count once
(``a a b`` → ``a b``). Each variant reports its number of units and its share of all paths.
Variants are ordered by units (most first), then by the sequence.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import narwhals as nw
import pyarrow as pa

from journeylens.analytics._common import (
    LABEL,
    NEXT_LABEL,
    POS,
    UNIT_ID,
    AnalyticsError,
    Paths,
    Unit,
    collect_rows,
    sort_paths,
    table,
)
from journeylens.engine.frames import EVENT


@dataclass(frozen=True)
class Variant:
    """One distinct path (its first ``max_length`` events) and how many units walked it."""

    events: tuple[str, ...]
    truncated: bool
    units: int
    share: float


@dataclass(frozen=True)
class PathsResult:
    """The top variants among ``total_paths`` paths."""

    unit: Unit
    total_paths: int
    distinct_variants: int
    max_length: int
    variants: tuple[Variant, ...]

    def to_frame(self) -> pa.Table:
        """One row per variant; ``path`` joins the events with `` > ``."""
        return table(
            [
                {
                    "path": " > ".join(v.events) + (" > …" if v.truncated else ""),
                    "length": len(v.events),
                    "truncated": v.truncated,
                    "units": v.units,
                    "share": v.share,
                }
                for v in self.variants
            ],
            {
                "path": pa.string(),
                "length": pa.int64(),
                "truncated": pa.bool_(),
                "units": pa.int64(),
                "share": pa.float64(),
            },
        )

    def to_dict(self) -> dict[str, Any]:
        """``{"unit", "total_paths", "distinct_variants", "paths": [{"events", …}]}``."""
        return {
            "unit": self.unit,
            "total_paths": self.total_paths,
            "distinct_variants": self.distinct_variants,
            "max_length": self.max_length,
            "paths": [
                {
                    "events": list(v.events),
                    "truncated": v.truncated,
                    "units": v.units,
                    "share": v.share,
                }
                for v in self.variants
            ],
        }


def collapse_repeats(p: Paths) -> Paths:
    """The same paths with consecutive repeats of a label kept once (numbered again: one
    more sort, none when ``p`` is stored in order)."""
    kept = p.frame.filter(
        nw.col(NEXT_LABEL).is_null() | (nw.col(NEXT_LABEL) != nw.col(LABEL))
    ).drop(POS, NEXT_LABEL, "gap_s", "prev_gap_s", LABEL, strict=False)
    # Keeping the LAST event of each run keeps the label order; renumber the survivors.
    return sort_paths(kept, unit=p.unit, label=p.label, presorted=p.ordered)


def top_paths(
    events: Any,
    *,
    unit: Unit = "customer",
    label: str = EVENT,
    max_length: int = 10,
    top: int = 20,
    collapse: bool = False,
) -> PathsResult:
    """The ``top`` most common variants (see the module docstring).

    >>> import polars as pl
    >>> from datetime import datetime
    >>> ev = pl.DataFrame({"customer_id": ["a", "a", "b", "b", "c"],
    ...     "event_name": ["x", "y", "x", "y", "x"],
    ...     "occurred_at": [datetime(2024, 1, 1)] * 5, "seq": [1, 2, 3, 4, 5]})
    >>> [(v.events, v.units) for v in top_paths(ev).variants]
    [(('x', 'y'), 2), (('x',), 1)]
    """
    if max_length < 1:
        raise AnalyticsError(f"max_length must be at least 1, got {max_length}")
    p = sort_paths(events, unit=unit, label=label)
    if collapse:
        p = collapse_repeats(p)
    cols = [f"_e{i}" for i in range(1, max_length + 1)]
    wide = (
        p.frame.filter(nw.col(POS) <= max_length)
        .with_columns(
            *[
                nw.when(nw.col(POS) == i).then(nw.col(LABEL)).alias(c)
                for i, c in enumerate(cols, 1)
            ],
            # longer than max_length: the event at max_length has a next one
            ((nw.col(POS) == max_length) & ~nw.col(NEXT_LABEL).is_null())
            .cast(nw.Int64)
            .alias("_more"),
        )
        .group_by(UNIT_ID)
        .agg(*[nw.col(c).max() for c in cols], nw.col("_more").max())
        .with_columns((nw.col("_more") == 1).alias("_truncated"))
    )
    rows = collect_rows(wide.group_by(*cols, "_truncated").agg(nw.len().alias("n")))
    total = sum(int(r["n"]) for r in rows)
    variants = [
        Variant(
            events=tuple(r[c] for c in cols if r[c] is not None),
            truncated=bool(r["_truncated"]),
            units=int(r["n"]),
            share=int(r["n"]) / total,
        )
        for r in rows
    ]
    variants.sort(key=lambda v: (-v.units, v.events, v.truncated))
    return PathsResult(
        unit=p.unit,
        total_paths=total,
        distinct_variants=len(variants),
        max_length=max_length,
        variants=tuple(variants[:top]),
    )
