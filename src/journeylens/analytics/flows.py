"""Flows between stages or steps: the data of a Sankey diagram.

Take each path's bound events (those with a stage / step; unbound events are left out),
collapse consecutive repeats of the same stage (or step) into one visit, and count the
moves between consecutive visits. A link ``source → target`` has ``value`` = number of
moves and ``units`` = number of paths that made the move at least once. A node has the
number of visits and of units that visited it. With ``markers`` every path also flows from
``path_start`` into its first visit and from its last visit into ``path_end``.

Nodes come in map order (``stage_index`` / ``step_index``); links by value (most first).

A path frame sorted into arrays (``Paths.arrays``, DuckDB) is read with linear passes over
its stage / step codes (looked up from ``touchpoint_index`` through the map, or the label
codes of a frame labelled by the level); other frames with group-bys. Same numbers.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

import narwhals as nw
import numpy as np
import pyarrow as pa

from journeylens.analytics._arrays import (
    NONE,
    WORD_CODES,
    PathArrays,
    as_int32,
    counts_of,
    group_order,
    path_code_counts,
    unit_sets,
)
from journeylens.analytics._common import (
    LABEL,
    PATH_END,
    PATH_START,
    UNIT_COLUMNS,
    UNIT_ID,
    AnalyticsError,
    Paths,
    Unit,
    as_events,
    collect_rows,
    sort_paths,
    table,
)
from journeylens.analytics.binding import (
    STAGE_ID,
    STAGE_INDEX,
    STEP_ID,
    STEP_INDEX,
    bound_values,
)
from journeylens.analytics.paths import collapse_repeats, flags_through
from journeylens.analytics.transitions import edge_frame
from journeylens.engine.frames import SEQ, TIME

Level = Literal["stage", "step"]


@dataclass(frozen=True)
class FlowNode:
    """A stage or step with its number of visits and of units that visited it."""

    id: str
    index: int | None
    visits: int
    units: int


@dataclass(frozen=True)
class FlowLink:
    """Moves from one stage (or step) to the next visited one."""

    source: str
    target: str
    value: int
    units: int


@dataclass(frozen=True)
class FlowsResult:
    """Sankey data: nodes and links at the stage or step level."""

    unit: Unit
    level: Level
    nodes: tuple[FlowNode, ...]
    links: tuple[FlowLink, ...]

    def to_frame(self) -> pa.Table:
        """The links (``source``, ``target``, ``value``, ``units``)."""
        return table(
            [asdict(link) for link in self.links],
            {
                "source": pa.string(),
                "target": pa.string(),
                "value": pa.int64(),
                "units": pa.int64(),
            },
        )

    def to_dict(self) -> dict[str, Any]:
        """``{"unit", "level", "nodes": [...], "links": [{"source", "target", "value", "units"}]}``."""
        return {
            "unit": self.unit,
            "level": self.level,
            "nodes": [asdict(n) for n in self.nodes],
            "links": [asdict(link) for link in self.links],
        }


def flows(
    bound: Any, *, level: Level = "stage", unit: Unit = "customer", markers: bool = False
) -> FlowsResult:
    """Moves between consecutive stages (or steps) of a :func:`~.binding.bind` result.

    >>> import polars as pl
    >>> from datetime import datetime
    >>> ev = pl.DataFrame({"customer_id": ["a", "a", "a", "a", "b"], "event_name": ["e"] * 5,
    ...     "stage_id": ["s1", "s1", None, "s2", "s1"], "stage_index": [1, 1, None, 2, 1],
    ...     "occurred_at": [datetime(2024, 1, 1)] * 5, "seq": [1, 2, 3, 4, 5]})
    >>> r = flows(ev)
    >>> [(n.id, n.visits, n.units) for n in r.nodes], [(x.source, x.target, x.value) for x in r.links]
    ([('s1', 2, 2), ('s2', 1, 1)], [('s1', 's2', 1)])
    """
    column, index_column = (STAGE_ID, STAGE_INDEX) if level == "stage" else (STEP_ID, STEP_INDEX)
    if level not in ("stage", "step"):
        raise AnalyticsError(f"level must be 'stage' or 'step', got {level!r}")
    presorted = False
    if isinstance(bound, Paths) and bound.arrays is not None:
        # The sorted arrays answer it when they carry the level: from the touchpoint index
        # (a frame sorted with the map) or as the label itself.
        coded = _level_codes(bound, column, index_column)
        if coded is not None:
            return _flows_of_codes(bound.arrays.starts, *coded, bound.unit, level, markers)
    if isinstance(bound, Paths):  # reuse the stored (already bound) frame, and its order
        # when it is stored in order (Paths.ordered: Polars)
        bound, unit, presorted = bound.frame, bound.unit, bound.ordered
    lf = as_events(bound)
    # Flows read only the unit, the order and the level's columns: renumbering (and
    # storing) those alone costs a fraction of the whole frame.
    names = lf.collect_schema().names()
    keep = [c for c in (UNIT_COLUMNS.get(unit, ""), TIME, SEQ, column, index_column) if c in names]
    if column in names and UNIT_COLUMNS.get(unit) in names:
        lf = lf.select(*dict.fromkeys(keep))
    p = sort_paths(lf, unit=unit, label=column, presorted=presorted)
    if p.arrays is not None:  # sorted into arrays (DuckDB): the level is the label
        coded = _level_codes(p, column, index_column)
        if coded is not None:
            return _flows_of_codes(p.arrays.starts, *coded, p.unit, level, markers)
    p = collapse_repeats(p)
    names = p.frame.collect_schema().names()
    index = (
        nw.col(index_column).min() if index_column in names else nw.lit(None, dtype=nw.Int64).min()
    )
    node_rows = collect_rows(
        p.frame.group_by(LABEL).agg(
            nw.len().alias("visits"),
            nw.col(UNIT_ID).n_unique().alias("units"),
            index.alias("index"),
        )
    )
    link_rows = collect_rows(
        edge_frame(p, markers=markers)
        .group_by("from", "to")
        .agg(nw.len().alias("value"), nw.col(UNIT_ID).n_unique().alias("units"))
    )
    return _result(
        p.unit,
        level,
        [
            FlowNode(
                id=r[LABEL],
                index=None if r["index"] is None else int(r["index"]),
                visits=int(r["visits"]),
                units=int(r["units"]),
            )
            for r in node_rows
        ],
        [FlowLink(r["from"], r["to"], int(r["value"]), int(r["units"])) for r in link_rows],
    )


def _result(unit: Unit, level: Level, nodes: list[FlowNode], links: list[FlowLink]) -> FlowsResult:
    """The result with nodes in map order (then by id) and links by value (most first)."""
    nodes.sort(key=lambda n: (n.index if n.index is not None else 1 << 30, n.id))
    links.sort(key=lambda x: (-x.value, x.source, x.target))
    return FlowsResult(unit=unit, level=level, nodes=tuple(nodes), links=tuple(links))


def _level_codes(
    p: Paths, column: str, index_column: str
) -> tuple[np.ndarray, np.ndarray | None, tuple[str, ...], list[int | None]] | None:
    """Each event's stage (or step) of a path frame sorted into arrays, as a code (int32,
    :data:`~journeylens.analytics._arrays.NONE` when unbound; looked up in the returned
    table when there is one) into the returned id texts, and each id's ``index``; None when the arrays do not carry the level (the frame's
    group-bys answer) or an id is a marker's name (the frame would merge the two).

    With the map the frame was sorted with (``Paths.journey_map``) and ``touchpoint_index``
    the level is a lookup of the touchpoint, as the frame's bound columns are (it then
    has them all: bind adds them together, ``sort_paths`` keeps them); a frame labelled by
    the level's id has it as the label codes, the index from its column (the lowest over
    the visits, as the frame's ``min``; None without the column).
    """
    a = p.arrays
    if a is None:
        return None
    index: list[int | None]
    if p.journey_map is not None and a.touchpoint_index is not None:
        values = bound_values(p.journey_map)
        ids = [str(v) for v in values[column][0]]
        texts = tuple(sorted(set(ids)))
        position = {t: i for i, t in enumerate(texts)}
        # Ids are unique per kind in a valid map: one index per id.
        index_of = dict(zip(ids, values[index_column][0], strict=True))
        index = [int(index_of[t]) for t in texts]
        # The level's code per touchpoint_index, looked up on the bound events only.
        table: np.ndarray | None = np.asarray([position[t] for t in ids], dtype=np.int32)
        code = a.touchpoint_index
    elif p.label == column:
        texts, code, table = a.labels, a.label, None
        index = _index_of_labels(a, index_column)
    else:
        return None
    if PATH_START in texts or PATH_END in texts:
        return None
    return code, table, texts, index


def _index_of_labels(a: PathArrays, index_column: str) -> list[int | None]:
    """Per label code, the lowest value of the ``index_column`` payload over its events
    (None when the column is missing or null on every event of the label)."""
    codes = len(a.labels)
    if index_column not in a.payload or a.rows == 0:
        return [None] * codes
    missing = np.iinfo(np.int32).max
    values = as_int32(a.payload[index_column], missing)
    known = np.flatnonzero(a.label != NONE)
    order, bounds = group_order(a.label[known], codes)
    ordered = values[known[order]]
    present = np.flatnonzero(np.diff(bounds))
    lowest = np.minimum.reduceat(ordered, bounds[present]) if len(present) else ordered[:0]
    out: list[int | None] = [None] * codes
    for c, v in zip(present.tolist(), lowest.tolist(), strict=True):
        out[c] = None if v == missing else int(v)
    return out


def _flows_of_codes(
    starts: np.ndarray,
    code: np.ndarray,
    table: np.ndarray | None,
    texts: tuple[str, ...],
    index: list[int | None],
    unit: Unit,
    level: Level,
    markers: bool,
) -> FlowsResult:
    """Flows (module docstring) of paths ``starts[u]:starts[u + 1]`` whose events have the
    level codes ``code`` (into ``texts``, or ``table[code]`` with a table;
    :data:`~journeylens.analytics._arrays.NONE`: unbound): the bound events kept, each run of one code collapsed to one visit, the
    visits and moves counted per code and per pair (``bincount``), their units per path
    bit sets (:func:`~journeylens.analytics._arrays.path_code_counts`)."""
    codes = len(texts)
    visit, vstarts = _visits(code, starts, table)
    visits = counts_of(visit, codes)
    node_units = _paths_per_code(vstarts, visit, codes)
    nodes = [
        FlowNode(id=texts[c], index=index[c], visits=int(visits[c]), units=int(node_units[c]))
        for c in np.flatnonzero(visits).tolist()
    ]
    links: list[FlowLink] = []
    m = len(visit)
    if m:
        # Moves between consecutive visits of a path as one code per pair (source · codes +
        # target), a path's last visit as `pairs` (no move): counted with the rest, dropped.
        pairs = codes * codes
        pair = np.empty(m, dtype=np.int64)
        np.multiply(visit[:-1], codes, out=pair[:-1])
        pair[:-1] += visit[1:]
        pair[vstarts[1:] - 1] = pairs
        value = np.bincount(pair, minlength=pairs + 1)[:pairs]
        link_units = _paths_per_code(vstarts, pair, pairs)
        for k in np.flatnonzero(value).tolist():
            source, target = divmod(k, codes)
            links.append(FlowLink(texts[source], texts[target], int(value[k]), int(link_units[k])))
        if markers:
            # Every path enters its first visit and leaves its last once: value = units.
            for name, rows, into in (
                (PATH_START, vstarts[:-1], True),
                (PATH_END, vstarts[1:] - 1, False),
            ):
                per_code = np.bincount(visit[rows], minlength=codes)
                for c in np.flatnonzero(per_code).tolist():
                    n = int(per_code[c])
                    pair_texts = (name, texts[c]) if into else (texts[c], name)
                    links.append(FlowLink(*pair_texts, n, n))
    return _result(unit, level, nodes, links)


def _visits(
    code: np.ndarray, starts: np.ndarray, table: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The visits of each path: its bound events' codes (``code`` not
    :data:`~journeylens.analytics._arrays.NONE`, as ``table[code]`` with a table) with
    consecutive repeats kept once, and the visits' path starts (int64; paths without a
    bound event left out)."""
    n = len(code)
    if n == 0:
        return code[:0], np.zeros(1, dtype=np.int64)
    bound = code != NONE
    kept = code[bound] if not bool(bound.all()) else code
    if table is not None:  # a copy already, or made one here
        kept = np.take(table, kept, out=kept if kept is not code else None)
    # Each path's end among the bound events: bound events up to its last row.
    ends = flags_through(bound, starts[1:] - 1)
    m = len(kept)
    if m == 0:
        return kept, np.zeros(1, dtype=np.int64)
    ends = np.unique(ends[ends > 0])  # paths with a bound event (ends increase strictly)
    last = np.empty(m, dtype=bool)
    np.not_equal(kept[1:], kept[:-1], out=last[:-1])
    last[ends - 1] = True
    visit = kept[last]
    vstarts = np.concatenate([[0], flags_through(last, ends - 1)])
    return visit, vstarts


def _paths_per_code(starts: np.ndarray, code: np.ndarray, codes: int) -> np.ndarray:
    """How many paths (rows ``starts[p]:starts[p + 1]``, none empty) have each code
    ``0 … codes-1`` (int64 per code); rows of code ``codes`` are left out."""
    if codes <= WORD_CODES:
        return path_code_counts(starts, code, codes)
    keep = code < codes
    unit = np.repeat(np.arange(len(starts) - 1, dtype=np.int64), np.diff(starts))
    return unit_sets(unit[keep], code[keep], codes, len(starts) - 1)
