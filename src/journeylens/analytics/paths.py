"""Top paths (variants): the most common whole sequences of events.

A path's **variant** is its sequence of events in order (``occurred_at``, then ``seq``).
Paths longer than ``max_length`` are cut after ``max_length`` events and marked
``truncated`` (two paths with the same first ``max_length`` events and both longer share a
variant). With ``collapse_repeats`` consecutive repeats of the same event count once
(``a a b`` → ``a b``). Each variant reports its number of units and its share of all paths.
Variants are ordered by units (most first), then by the sequence.

A path frame sorted into arrays (``Paths.arrays``, DuckDB) is read with one integer key
per path (its first ``max_length`` labels packed); other frames with group-bys. Same
numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import narwhals as nw
import numpy as np
import pyarrow as pa

from journeylens.analytics._arrays import BLOCK, NONE, PathArrays
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
    if p.arrays is not None:
        # The same groups from the sorted arrays: one integer key per path.
        counted = _variants_of_arrays(p.arrays, max_length, collapse, top)
        total, distinct, variants = counted
    else:
        if collapse:
            p = collapse_repeats(p)
        total, distinct, variants = _variants_of_frame(p, max_length)
    variants.sort(key=lambda v: (-v.units, v.events, v.truncated))
    return PathsResult(
        unit=p.unit,
        total_paths=total,
        distinct_variants=distinct,
        max_length=max_length,
        variants=tuple(variants[:top]),
    )


def _variants_of_frame(p: Paths, max_length: int) -> tuple[int, int, list[Variant]]:
    """Paths, distinct variants and every variant, from group-bys of the path frame: one
    wide row per unit (its first ``max_length`` labels and whether it goes on), grouped."""
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
    return total, len(variants), variants


#: Digit of "no event here" (the path ended) in :func:`_variants_of_arrays`'s matrix: below
#: every label code and :data:`~journeylens.analytics._arrays.NONE` (a null label).
_PAST_END = -2


def _variants_of_arrays(
    a: PathArrays, max_length: int, collapse: bool, top: int
) -> tuple[int, int, list[Variant]]:
    """:func:`_variants_of_frame` read off the sorted arrays: the number of paths and of
    distinct variants, and the variants that can be among the ``top`` (the caller's sort
    picks the same ones).

    Per path, its first ``max_length`` labels (one gather per position from the path
    starts) as digits — ``rank + 2`` of the label text in sorted order, 1 for a null label,
    0 past the path's end, so that digit order is the order of the event tuples — and
    whether it is truncated; the rows are packed into one int64 key per path (the digits,
    then the truncation bit) and counted by ``np.unique`` — one key per path, not per
    event. The unique keys then come in the caller's order of (events, truncated), and a
    stable sort by units gives the top directly. Beyond 63 bits the matrix rows themselves
    are counted (``np.unique(axis=0)``), and every variant with at least the ``top``-th
    largest number of units is handed over (likewise with null labels, which the events
    leave out).
    """
    label, starts = (_collapsed(a.label, a.starts)) if collapse else (a.label, a.starts)
    lengths = np.diff(starts)
    paths = len(lengths)
    if paths == 0:
        return 0, 0, []
    first = starts[:-1]
    width = min(max_length, int(lengths.max()))  # positions past every path's end add nothing
    texts = sorted(a.labels)
    # Per label code, its text's rank (codes need not follow Python's string order); the
    # extra last entry answers NONE (-1): a null label is no event at its position, as
    # in the frame's variant columns (the same digit as past the path's end).
    rank_of = {t: i for i, t in enumerate(texts)}
    rank = np.asarray([*(rank_of[t] for t in a.labels), _PAST_END], dtype=np.int64)
    digits = np.full((paths, width + 1), _PAST_END, dtype=np.int64)
    for j in range(width):
        has = np.flatnonzero(lengths > j)
        digits[has, j] = rank[label[first[has] + j]]
    # As the frame's `_more`: the event at max_length has a next one (a non-null label).
    longer = np.flatnonzero(lengths > max_length)
    digits[:, width] = 0
    digits[longer, width] = label[first[longer] + max_length] != NONE
    digits[:, :width] -= _PAST_END  # 0: past the end, 1: null label, 2 …: label ranks
    bits = (len(a.labels) + 1).bit_length()
    packed = bits * width + 1 <= 63
    if packed:
        key = np.zeros(paths, dtype=np.int64)
        for j in range(width):
            key <<= bits
            key |= digits[:, j]
        key <<= 1
        key |= digits[:, width]
        _, at, counts = np.unique(key, return_index=True, return_counts=True)
        rows = digits[at]
    else:
        rows, counts = np.unique(digits, axis=0, return_counts=True)
    distinct = len(counts)
    pick = np.arange(distinct)
    if packed and not bool((label == NONE).any()):
        # Keys ascending = (events, truncated) ascending: by units (stable), the top.
        pick = np.argsort(-counts, kind="stable")
        pick = pick[:top] if top > 0 else pick
    elif 0 < top < distinct:
        # Only variants with at least the top-th largest count can be among the top.
        least = np.partition(counts, distinct - top)[distinct - top]
        pick = np.flatnonzero(counts >= least)
    by_digit = (None, None, *texts)  # digit 0: past the end or a null label (skipped)
    variants = []
    for i in pick.tolist():
        row = rows[i].tolist()
        n = int(counts[i])
        events = tuple(by_digit[d] for d in row[:width])
        variants.append(
            Variant(
                events=tuple(e for e in events if e is not None),
                truncated=bool(row[width]),
                units=n,
                share=n / paths,
            )
        )
    return paths, distinct, variants


def _collapsed(label: np.ndarray, starts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`collapse_repeats` of label codes: the last event of each run of one label in
    a path kept (a null label only as a path's last event, as the frame's filter keeps it,
    then dropped by the renumbering, which leaves out null labels), paths left with no
    event dropped. Returns the kept codes and their path starts."""
    n = len(label)
    if n == 0:
        return label, starts[:1]
    keep = np.empty(n, dtype=bool)
    np.not_equal(label[1:], label[:-1], out=keep[:-1])
    keep[starts[1:] - 1] = True
    if bool((label == NONE).any()):
        keep &= label != NONE
    new_starts = np.concatenate([[0], flags_through(keep, starts[1:] - 1)])
    # A path whose every event was dropped (null labels only) has an empty range.
    return label[keep], np.unique(new_starts)


def flags_through(flags: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """For each of the increasing row numbers ``rows``, how many of ``flags`` are True up to
    and including it (int64: ``np.cumsum(flags)[rows]``), a block at a time — the running
    count of a block is a reused buffer, not a whole-length array of fresh memory.

    >>> flags_through(np.array([True, False, True, True]), np.array([0, 1, 3])).tolist()
    [1, 1, 3]
    """
    out = np.empty(len(rows), dtype=np.int64)
    running = np.empty(BLOCK, dtype=np.int64)
    total, n = 0, len(flags)
    for lo in range(0, n, BLOCK):
        hi = min(lo + BLOCK, n)
        i0, i1 = np.searchsorted(rows, [lo, hi]).tolist()
        block = running[: hi - lo]
        np.cumsum(flags[lo:hi], out=block)
        out[i0:i1] = block[rows[i0:i1] - lo]
        out[i0:i1] += total
        total += int(block[-1])
    return out
