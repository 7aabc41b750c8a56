"""Transitions: the directly-follows graph of the paths.

Definition (METRICS.md): each event is paired with the next event of the same path (same
unit, order ``(occurred_at, seq)``). With ``markers=True`` every path also gets a synthetic
``path_start`` → first event and last event → ``path_end`` transition. Weights:

* ``count``: number of such pairs;
* ``unique_paths``: number of paths with at least one such pair;
* ``share``: count / all transitions;
* ``probability``: count / all transitions leaving the same ``from`` (P(next | current));
* ``median_time_s`` / ``p90_time_s``: seconds between the two events (linear
  interpolation; null for marker transitions, which have no time).

Without markers the number of transitions is events − paths.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import narwhals as nw
import numpy as np
import pyarrow as pa

from journeylens.analytics._arrays import (
    WORD_CODES,
    PathArrays,
    distinct_in_order,
    gap_quantiles_by_buckets,
    group_order,
    next_gaps_in_place,
    path_code_counts,
    quantiles_in_groups,
)
from journeylens.analytics._common import (
    GAP_S,
    LABEL,
    NEXT_LABEL,
    PATH_END,
    PATH_START,
    POS,
    UNIT_ID,
    Paths,
    Unit,
    clean_float,
    collect_rows,
    grouped_quantiles,
    sort_paths,
    table,
)
from journeylens.engine.frames import EVENT, distinct_units, grouped_counts_quantiles

#: Above this many events in the path frame (transitions + paths), median / p90 per edge
#: are found by selection (:func:`~journeylens.analytics._common.grouped_quantiles`: two
#: scans, no edge's gaps held in memory) instead of in-memory aggregates: same numbers,
#: bounded memory (100M events). Below it the aggregates cost less (10M: 1.7 vs 4.5 s).
QUANTILES_BY_SELECTION_ABOVE = 50_000_000


#: The text a null label is counted under for ``unique_paths`` (no label can be it).
_NULL_LABEL = "\x00"


def _text(label: Any) -> str:
    """A label as distinct_units compares it (text; null as ``_NULL_LABEL``)."""
    return _NULL_LABEL if label is None else str(label)


@dataclass(frozen=True)
class Transition:
    """One edge ``from → to`` of the directly-follows graph with all its weights."""

    from_: str
    to: str
    count: int
    unique_paths: int
    share: float
    probability: float
    median_time_s: float | None
    p90_time_s: float | None


@dataclass(frozen=True)
class TransitionsResult:
    """All edges, most frequent first (ties by from, to)."""

    unit: Unit
    markers: bool
    paths: int
    total_transitions: int
    transitions: tuple[Transition, ...]

    def to_frame(self) -> pa.Table:
        """One row per edge; the ``from`` column is named ``from``."""
        rows = []
        for t in self.transitions:
            row = asdict(t)
            row["from"] = row.pop("from_")
            rows.append(row)
        return table(
            rows,
            {
                "from": pa.string(),
                "to": pa.string(),
                "count": pa.int64(),
                "unique_paths": pa.int64(),
                "share": pa.float64(),
                "probability": pa.float64(),
                "median_time_s": pa.float64(),
                "p90_time_s": pa.float64(),
            },
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON: ``{"unit", "transitions": [{"from", "to", "count", …}]}``."""
        return {
            "unit": self.unit,
            "markers": self.markers,
            "paths": self.paths,
            "total_transitions": self.total_transitions,
            "transitions": self.to_frame().to_pylist(),
        }


def edge_frame(p: Paths, *, markers: bool) -> nw.LazyFrame[Any]:
    """``unit_id, from, to, gap_s`` per transition (markers included when asked)."""
    lf = p.frame
    edges = lf.filter(~nw.col(NEXT_LABEL).is_null()).select(
        UNIT_ID,
        nw.col(LABEL).alias("from"),
        nw.col(NEXT_LABEL).alias("to"),
        nw.col(GAP_S).cast(nw.Float64),
    )
    if not markers:
        return edges
    starts = lf.filter(nw.col(POS) == 1).select(
        UNIT_ID,
        nw.lit(PATH_START, dtype=nw.String).alias("from"),
        nw.col(LABEL).alias("to"),
        nw.lit(None, dtype=nw.Float64).alias(GAP_S),
    )
    ends = lf.filter(nw.col(NEXT_LABEL).is_null()).select(
        UNIT_ID,
        nw.col(LABEL).alias("from"),
        nw.lit(PATH_END, dtype=nw.String).alias("to"),
        nw.lit(None, dtype=nw.Float64).alias(GAP_S),
    )
    return nw.concat([starts, edges, ends], how="vertical")


def transitions(
    events: Any, *, unit: Unit = "customer", markers: bool = False, label: str = EVENT
) -> TransitionsResult:
    """The directly-follows graph with every weight of METRICS.md (module docstring).

    >>> import polars as pl
    >>> from datetime import datetime
    >>> ev = pl.DataFrame({"customer_id": ["a", "a", "a", "b", "b"],
    ...     "event_name": ["x", "y", "x", "x", "y"],
    ...     "occurred_at": [datetime(2024, 1, 1, 0, m) for m in (0, 1, 3, 0, 2)],
    ...     "seq": [1, 2, 3, 4, 5]})
    >>> r = transitions(ev)
    >>> [(t.from_, t.to, t.count, t.unique_paths, t.probability, t.median_time_s)
    ...  for t in r.transitions]
    [('x', 'y', 2, 2, 1.0, 90.0), ('y', 'x', 1, 1, 1.0, 120.0)]
    >>> r.total_transitions  # 5 events - 2 paths
    3
    """
    p = sort_paths(events, unit=unit, label=label)
    # The same edge rows from the sorted arrays when the engine handed them over (linear
    # passes over the rows), else from group-bys of the path frame.
    if p.arrays is not None and _edge_codes_fit(p.arrays):
        rows, starts, ends = _edges_of_arrays(p.arrays)
    else:
        rows, starts, ends = _edges_of_frame(p)
    # Path starts and ends: every path has exactly one of each, so a marker edge's count
    # is also its number of distinct paths, and the starts count the paths.
    n_paths = sum(starts.values())
    if markers:
        for key, per_label in (("starts", starts), ("ends", ends)):
            for lab, n in per_label.items():
                if n:
                    edge = (PATH_START, lab) if key == "starts" else (lab, PATH_END)
                    rows.append(
                        {
                            "from": edge[0],
                            "to": edge[1],
                            "count": n,
                            "unique_paths": n,
                            "t_median": None,
                            "t_p90": None,
                        }
                    )
    total = sum(int(r["count"]) for r in rows)
    out_of: dict[str, int] = {}
    for r in rows:
        out_of[r["from"]] = out_of.get(r["from"], 0) + int(r["count"])
    # _text: a null label (keep_unlabelled) sorts before every text instead of failing
    rows.sort(key=lambda r: (-int(r["count"]), _text(r["from"]), _text(r["to"])))
    return TransitionsResult(
        unit=p.unit,
        markers=markers,
        paths=n_paths,
        total_transitions=total,
        transitions=tuple(
            Transition(
                from_=r["from"],
                to=r["to"],
                count=int(r["count"]),
                unique_paths=int(r["unique_paths"]),
                share=int(r["count"]) / total,
                probability=int(r["count"]) / out_of[r["from"]],
                median_time_s=clean_float(r["t_median"]),
                p90_time_s=clean_float(r["t_p90"]),
            )
            for r in rows
        ),
    )


#: The arrays' edge counting holds a few int64 per possible edge code ((labels + 1) ×
#: labels): beyond this many codes, and beyond 4 per event, the frame's group-by, whose
#: memory follows the edges that occur (8,000 labels: 64M codes, ~2 GB; 70,000: 35 GB).
MAX_EDGE_CODES = 1 << 22


def _edge_codes_fit(a: PathArrays) -> bool:
    """Whether the edge codes of ``a`` are few enough for :func:`_edges_of_arrays`."""
    codes = (len(a.labels) + 1) * len(a.labels)
    return codes <= max(MAX_EDGE_CODES, 4 * a.rows)


def _edges_of_arrays(
    a: PathArrays,
) -> tuple[list[dict[str, Any]], dict[str | None, int], dict[str | None, int]]:
    """:func:`_edges_of_frame` read off the sorted arrays: the same rows, starts and ends.

    Each row ``i`` but a path's last pairs with row ``i + 1``: its edge code is ``from ·
    L + to`` (``L`` labels; a null ``from`` is code ``L``). A pair whose next label is null
    is no edge (it counts as an end of ``from``, as in the frame's group-by) and takes the
    code past the last edge, as do the paths' last rows. One radix sort of the codes
    (:func:`~journeylens.analytics._arrays.group_order`) gives every edge's rows in path
    order: their number is the count, the distinct units among them — ascending within
    an edge, so a unit is new where it changes — the unique paths, and a selection in
    their gaps (µs, read as seconds ``µs / 1e6`` as the frame's ``gap_s``) the median and
    p90. Starts and ends per label are counts of the first rows' labels and of the rows
    that are no edge.
    """
    n, n_labels = a.rows, len(a.labels)
    texts: list[str | None] = [*a.labels, None]  # code n_labels: the null label
    label = a.label
    has_null = n > 0 and int(label.min()) < 0
    if has_null:
        label = np.where(label < 0, np.int32(n_labels), label)
    no_edge = (n_labels + 1) * n_labels
    # 16-bit codes when they fit (up to 255 labels): numpy's stable sort of them is a
    # radix sort, and they are a quarter of the memory of int64 ones.
    code = label[:-1].astype(np.uint16 if no_edge < 1 << 16 else np.int64)
    np.multiply(code, n_labels, out=code, casting="unsafe")
    np.add(code, a.label[1:], out=code, casting="unsafe")  # a null next label: reset below
    code[a.starts[1:-1] - 1] = no_edge  # a path's last row pairs with the next path
    if has_null:
        code[a.label[1:] < 0] = no_edge
    # The codes that can occur: without null labels only from · L + to < L².
    used = no_edge if has_null else n_labels * n_labels
    if used <= WORD_CODES:
        # Few edges: no order of the rows at all — counts and gap quantiles by two
        # blocked passes of bucket counts, paths per edge as per-path bit words.
        counts, times = gap_quantiles_by_buckets(code, a.t_us, no_edge, (5, 9), divisor=1e6)
        paths = np.zeros(no_edge, dtype=np.int64)
        paths[:used] = path_code_counts(a.starts, code, used)
    else:
        order, bounds = group_order(code, no_edge + 1)
        del code
        edges = bounds[: no_edge + 1]
        counts = np.diff(edges)
        # Read block by block through the order, then overwritten by the gaps it gathers:
        # no whole-length copy (int32 unit numbers: half the bytes of unit_of_row's).
        unit = np.repeat(np.arange(a.units, dtype=np.int32), a.lengths)
        paths = distinct_in_order(unit, order, edges)
        del unit
        gaps = next_gaps_in_place(order[: edges[-1]], a.t_us)  # the edges' rows only
        times = quantiles_in_groups(gaps, edges, (5, 9), divisor=1e6)
    rows: list[dict[str, Any]] = []
    for e in np.flatnonzero(counts).tolist():
        median, p90 = times[e]
        rows.append(
            {
                "from": texts[e // n_labels],
                "to": texts[e % n_labels],
                "count": int(counts[e]),
                "unique_paths": int(paths[e]),
                "t_median": median,
                "t_p90": p90,
            }
        )
    first = np.bincount(label[a.starts[:-1]], minlength=n_labels + 1)
    starts = {texts[c]: int(first[c]) for c in np.flatnonzero(first).tolist()}
    if has_null:  # rows before an unlabelled event end too: all rows less the edges
        edges_out = counts.reshape(n_labels + 1, n_labels).sum(axis=1)
        ends_at = np.bincount(label, minlength=n_labels + 1) - edges_out
    else:  # only the paths' last rows
        ends_at = np.bincount(label[a.starts[1:] - 1], minlength=n_labels + 1)
    ends = {texts[c]: int(ends_at[c]) for c in np.flatnonzero(ends_at).tolist()}
    return rows, starts, ends


def _edges_of_frame(
    p: Paths,
) -> tuple[list[dict[str, Any]], dict[str | None, int], dict[str | None, int]]:
    """The edges of the path frame's rows (``from``, ``to``, ``count``, ``unique_paths``,
    ``t_median``, ``t_p90``; no markers) and the path starts and ends per label, from
    the engine's group-bys (any engine)."""
    f = p.frame
    # One group-by of every event by (label, next label): the edges' counts and gap
    # quantiles, and — from the groups without a next label and the first events — the
    # path ends and starts per label. Exact quantiles are aggregates (one list of gaps per
    # edge in memory) up to QUANTILES_BY_SELECTION_ABOVE events; beyond, they are found by
    # selection (two scans; only the values in the buckets around each rank are ranked).
    n_rows = int(collect_rows(f.select(nw.len().alias("n")))[0]["n"] or 0)
    keyed = f.with_columns((nw.col(POS) == 1).cast(nw.Int64).alias("starts"))
    if n_rows <= QUANTILES_BY_SELECTION_ABOVE:
        groups = collect_rows(
            grouped_counts_quantiles(
                keyed,
                [LABEL, NEXT_LABEL],
                sums=["starts"],
                column=GAP_S,
                quantiles={"t_median": 0.5, "t_p90": 0.9},
            ).rename({"len": "count"})
        )
    else:
        groups = collect_rows(
            keyed.group_by(LABEL, NEXT_LABEL).agg(nw.len().alias("count"), nw.col("starts").sum())
        )
        edges = f.filter(~nw.col(NEXT_LABEL).is_null())
        times = grouped_quantiles(edges, [LABEL, NEXT_LABEL], GAP_S)
        for g in groups:
            g["t_median"], g["t_p90"] = times.get((g[LABEL], g[NEXT_LABEL]), (None, None))
    # unique_paths: distinct units per edge, one bit per (label, next label) per unit. A
    # null label (a path frame sorted with keep_unlabelled) is counted under a stand-in
    # text, as distinct_units leaves out null keys.
    labels = sorted({_text(r[LABEL]) for r in groups})
    (units_of,) = distinct_units(
        f.with_columns(nw.col(LABEL).fill_null(_NULL_LABEL)),
        UNIT_ID,
        [(LABEL, NEXT_LABEL)],
        {LABEL: labels, NEXT_LABEL: labels},
    )
    rows: list[dict[str, Any]] = []
    starts: dict[str | None, int] = {}
    ends: dict[str | None, int] = {}
    for g in groups:
        start, to = int(g["starts"] or 0), g[NEXT_LABEL]
        starts[g[LABEL]] = starts.get(g[LABEL], 0) + start
        if to is None:
            ends[g[LABEL]] = int(g["count"])
            continue
        rows.append(
            {
                "from": g[LABEL],
                "to": to,
                "count": int(g["count"]),
                "unique_paths": units_of[(_text(g[LABEL]), str(to))][0],
                "t_median": g["t_median"],
                "t_p90": g["t_p90"],
            }
        )
    return rows, starts, ends
