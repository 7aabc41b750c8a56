"""Planned vs actual: how the observed paths follow the designed order of the map.

The map orders its stages 1 … n and, inside them, its steps (the global step order is map
order across stage boundaries). Bound events (``stage_id`` / ``step_id`` per event, see
:mod:`journeylens.analytics.binding`) are sorted per unit by ``(occurred_at, seq)`` and
consecutive repeats collapse into a stage sequence (and a step sequence) per path. From it
(METRICS.md, "Planned vs actual"):

- **fitness**: share of paths whose stage index never decreases (no backtracking);
- **skips**: for each stage, share of paths that reached a later stage without it;
- **backtracks**: share of paths where the index decreases, and the top (from, to) pairs;
- **unbound share**: share of events that match no touchpoint (what the map is missing);
- **edge diff**: stage / step transitions seen in the data but absent from the design,
  and designed transitions (consecutive stages / steps in map order) never seen, each
  with its volume (number of transitions, and of paths).

"Paths" here are the units with at least one bound event; a unit whose events are all
unbound has no stage sequence, so it is counted apart (``paths_without_bound_events``).

This module also holds :class:`MapOrder`, the designed order every other analytic of the
live map uses to look up a touchpoint's step and stage.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, NamedTuple

import narwhals as nw
import numpy as np
import pyarrow as pa

from journeylens.analytics._arrays import NONE, WORD_CODES, path_code_counts, unit_sets
from journeylens.analytics._common import (
    PREV_PREFIX,
    PREV_TOUCHPOINT_INDEX,
    AnalyticsError,
    Paths,
    collect_rows,
    ratio,
    table,
)
from journeylens.analytics.binding import STAGE_INDEX, STEP_INDEX, TOUCHPOINT_INDEX, bound_values
from journeylens.engine.frames import SEQ, TIME, cache, with_index_lookups
from journeylens.model import JourneyMap

UNIT_ID = "unit_id"
TOUCHPOINT_ID, STEP_ID, STAGE_ID = "touchpoint_id", "step_id", "stage_id"


def _bound_column(names: Sequence[str], column: str) -> str:
    """The column that says whether an event is bound (not null): bind's
    ``touchpoint_index`` when the frame has it — the same answer from one integer (the
    path frame computes the text columns from it on reading) — else ``column``."""
    return TOUCHPOINT_INDEX if TOUCHPOINT_INDEX in names else column


def _is_bound(lf: nw.LazyFrame[Any], column: str) -> nw.Expr:
    """Whether an event is bound (see :func:`_bound_column`)."""
    return ~nw.col(_bound_column(lf.collect_schema().names(), column)).is_null()


# -- the designed order --------------------------------------------------------------------


@dataclass(frozen=True)
class MapOrder:
    """The designed order of a map, as plain lookups (no I/O, no engine).

    ``stage_pos`` numbers stages 1 … n; ``step_pos`` numbers steps 1 … m across the whole
    map; touchpoints know their step and stage (the first one in map order when an id were
    to repeat — the model forbids it).

    >>> from journeylens.model import JourneyMap
    >>> m = JourneyMap.model_validate({"id": "m", "title": "M", "stages": [
    ...     {"id": "s1", "name": "S1", "steps": [{"id": "a", "name": "A"}, {"id": "b", "name": "B"}]},
    ...     {"id": "s2", "name": "S2", "steps": [{"id": "c", "name": "C"}]}]})
    >>> o = MapOrder.of(m)
    >>> o.stage_pos["s2"], o.step_pos["c"], o.step_stage["b"], o.designed_step_edges()
    (2, 3, 's1', [('a', 'b'), ('b', 'c')])
    """

    stages: tuple[str, ...]
    steps: tuple[str, ...]
    touchpoints: tuple[str, ...]
    stage_pos: Mapping[str, int]
    step_pos: Mapping[str, int]
    step_stage: Mapping[str, str]
    touchpoint_step: Mapping[str, str]
    touchpoint_stage: Mapping[str, str]
    names: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, journey_map: JourneyMap) -> MapOrder:
        """The order of ``journey_map``."""
        stages = tuple(s.id for s in journey_map.stages)
        steps = tuple(step.id for _, step in journey_map.iter_steps())
        tps: list[str] = []
        tp_step: dict[str, str] = {}
        tp_stage: dict[str, str] = {}
        names: dict[str, str] = {}
        for stage, step, tp in journey_map.iter_touchpoints():
            if tp.id not in tp_step:
                tps.append(tp.id)
                tp_step[tp.id] = step.id
                tp_stage[tp.id] = stage.id
                names[tp.id] = tp.name
        step_stage: dict[str, str] = {}
        for stage, step in journey_map.iter_steps():
            step_stage.setdefault(step.id, stage.id)
            names.setdefault(step.id, step.name)
        for stage in journey_map.stages:
            names.setdefault(stage.id, stage.name)
        return cls(
            stages=stages,
            steps=steps,
            touchpoints=tuple(tps),
            stage_pos={s: i for i, s in enumerate(stages, start=1)},
            step_pos={s: i for i, s in enumerate(dict.fromkeys(steps), start=1)},
            step_stage=step_stage,
            touchpoint_step=tp_step,
            touchpoint_stage=tp_stage,
            names=names,
        )

    def designed_stage_edges(self) -> list[tuple[str, str]]:
        """Consecutive stages in map order: the designed stage transitions."""
        return list(zip(self.stages, self.stages[1:], strict=False))

    def designed_step_edges(self) -> list[tuple[str, str]]:
        """Consecutive steps in map order (across stage boundaries): the designed step
        transitions."""
        return list(zip(self.steps, self.steps[1:], strict=False))


def lookup(expr: nw.Expr, mapping: Mapping[str, Any], dtype: Any = nw.String) -> nw.Expr:
    """``mapping[value]`` in the engine, null for values not in the mapping (and for null)."""
    if not mapping:
        return nw.lit(None, dtype=dtype)
    return expr.replace_strict(dict(mapping), default=None, return_dtype=dtype)


def _require(lf: nw.LazyFrame[Any], *columns: str) -> list[str]:
    names = lf.collect_schema().names()
    missing = [c for c in columns if c not in names]
    if missing:
        raise AnalyticsError(
            f"planned vs actual needs bound events with column(s) {', '.join(missing)} "
            f"(bind the map first: journeylens.analytics.binding.bind); "
            f"the columns are: {', '.join(names)}"
        )
    return names


# -- results --------------------------------------------------------------------------------


@dataclass(frozen=True)
class StageSkip:
    """Paths that reached a stage after ``stage`` without ever reaching ``stage``."""

    stage: str
    skipped: int
    share: float | None
    reached_later: int
    share_of_reached_later: float | None


@dataclass(frozen=True)
class Edge:
    """A transition between two stages or two steps, with its volume.

    ``transitions`` counts every occurrence in the collapsed sequences; ``paths`` counts
    the distinct paths that made it at least once. ``designed`` says whether the map has it.
    """

    level: str
    source: str
    target: str
    transitions: int
    paths: int
    designed: bool


@dataclass(frozen=True)
class Conformance:
    """Planned vs actual for one map and one population (METRICS.md definitions)."""

    paths: int
    paths_without_bound_events: int
    events: int
    unbound_events: int
    unbound_share: float | None
    fitness: float | None
    backtrack_paths: int
    backtrack_share: float | None
    backtracks: tuple[Edge, ...]
    skips: tuple[StageSkip, ...]
    undesigned_edges: tuple[Edge, ...]
    unseen_designed_edges: tuple[Edge, ...]
    edges: tuple[Edge, ...]

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict."""
        return asdict(self)

    def to_frame(self) -> pa.Table:
        """Every observed and designed edge, one row each (the edge diff as a table)."""
        return table(
            [asdict(e) for e in self.edges],
            {
                "level": pa.string(),
                "source": pa.string(),
                "target": pa.string(),
                "transitions": pa.int64(),
                "paths": pa.int64(),
                "designed": pa.bool_(),
            },
        )


def _sequence(bound: nw.LazyFrame[Any]) -> nw.LazyFrame[Any]:
    """Bound events with the stage and step of the previous bound event of their path.

    A row whose previous stage differs starts a new element of the collapsed stage
    sequence, and that previous stage *is* the collapsed predecessor (repeats in between
    are all equal to it); the same holds for steps.
    """
    lf = bound.filter(_is_bound(bound, STAGE_ID)).select(
        UNIT_ID,
        TIME,
        SEQ,
        nw.col(STAGE_ID).cast(nw.String).alias("stage"),
        nw.col(STEP_ID).cast(nw.String).alias("step"),
    )
    return lf.with_columns(
        nw.col("stage").shift(1).over(UNIT_ID, order_by=[TIME, SEQ]).alias("prev_stage"),
        nw.col("step").shift(1).over(UNIT_ID, order_by=[TIME, SEQ]).alias("prev_step"),
    ).select(UNIT_ID, "stage", "step", "prev_stage", "prev_step")


def _sequence_of_paths(p: Paths) -> nw.LazyFrame[Any]:
    """:func:`_sequence` read off a path frame that carries the previous bound stage and step
    (``sort_paths(bound, previous=("stage_id", "step_id"))``): no second sort.

    The last non-null stage before an event *is* the previous bound event's stage, since
    binding sets stage and step together.
    """
    return p.frame.filter(_is_bound(p.frame, STAGE_ID)).select(
        UNIT_ID,
        *[
            nw.col(column).cast(nw.String).alias(name)
            for name, column in (
                ("stage", STAGE_ID),
                ("step", STEP_ID),
                ("prev_stage", PREV_PREFIX + STAGE_ID),
                ("prev_step", PREV_PREFIX + STEP_ID),
            )
        ],
    )


def _index_changes(p: Paths, order: MapOrder) -> nw.LazyFrame[Any] | None:
    """What :func:`_changes` gives, with stages and steps as their 1-based map positions,
    read off a path frame sorted with ``journey_map=`` (it carries bind's
    ``touchpoint_index`` and ``prev_touchpoint_index``, the index of the previous bound
    event); None when the frame has no such columns or its map orders other stages or
    steps than ``order``.

    The path frame's only big read is one filter and one group-by on two small integers
    per event: an event whose touchpoint repeats the previous bound one changes neither
    stage nor step, so it is dropped first, and stages and steps are looked up on the few
    grouped rows (a few per unit) instead of on every event. Rows of one unit whose
    touchpoints differ but whose stage and step do not are harmless: every reader below
    compares the previous and current stage or step itself. Materialised, as it is read
    twice.
    """
    names = p.frame.collect_schema().names()
    if p.journey_map is None or not {TOUCHPOINT_INDEX, PREV_TOUCHPOINT_INDEX} <= set(names):
        return None
    framed = MapOrder.of(p.journey_map)
    if (framed.stages, framed.steps) != (order.stages, order.steps):
        return None
    index, prev = nw.col(TOUCHPOINT_INDEX), nw.col(PREV_TOUCHPOINT_INDEX)
    pairs = (
        p.frame.filter(~index.is_null() & (prev.is_null() | (prev != index)))
        .group_by(UNIT_ID, TOUCHPOINT_INDEX, PREV_TOUCHPOINT_INDEX)
        .agg(nw.len().cast(nw.Int64).alias("n"))
    )
    values = bound_values(p.journey_map)
    for column, prefix in ((TOUCHPOINT_INDEX, ""), (PREV_TOUCHPOINT_INDEX, "prev_")):
        pairs = with_index_lookups(
            pairs,
            column,
            {prefix + "stage": values[STAGE_INDEX], prefix + "step": values[STEP_INDEX]},
        )
    return cache(pairs.select(UNIT_ID, "prev_stage", "stage", "prev_step", "step", "n"))


def _changes(sequence: nw.LazyFrame[Any]) -> nw.LazyFrame[Any]:
    """Per unit, how often each (previous stage, stage, previous step, step) change occurs.

    Only the rows where something changes are kept — the first bound event of a path (no
    previous stage) and every element of the collapsed stage or step sequence — and they
    are counted per unit: every figure of planned vs actual follows from these few rows
    (the stages a path reached are its first stage and every stage it moved to), so the
    events are read once and no per-event lookup or distinct count runs. Materialised, as
    it is read twice.
    """
    stage, prev_stage = nw.col("stage"), nw.col("prev_stage")
    step, prev_step = nw.col("step"), nw.col("prev_step")
    moved = (
        prev_stage.is_null()
        | (prev_stage != stage)
        | (~prev_step.is_null() & ~step.is_null() & (prev_step != step))
    )
    keys = [UNIT_ID, "prev_stage", "stage", "prev_step", "step"]
    return cache(sequence.filter(moved).group_by(*keys).agg(nw.len().cast(nw.Int64).alias("n")))


def _id(value: Any, ids: tuple[str, ...] | None) -> str:
    """An edge end as an id: ``value`` itself, or the id at 1-based position ``value``."""
    return str(value) if ids is None else ids[int(value) - 1]


def _one_touchpoint_per_step(journey_map: JourneyMap) -> bool:
    """Whether no step of the map has more than one touchpoint."""
    return all(len(step.touchpoints) <= 1 for _, step in journey_map.iter_steps())


def _edges(
    changes: nw.LazyFrame[Any],
    designed: Mapping[str, list[tuple[str, str]]],
    ids: Mapping[str, tuple[str, ...]] | None = None,
    distinct: Sequence[str] = (),
) -> dict[str, tuple[Edge, ...]]:
    """The stage and step edges: per level, every observed transition of the collapsed
    sequences with its volume, and the designed ones never seen (volume 0).

    ``ids``: per level, the ids of positions 1, 2, … when ``changes`` holds positions
    (:func:`_index_changes`) instead of ids. ``distinct``: the levels of which ``changes``
    has at most one row per unit and (previous, current) value already, so the paths of an
    edge are its rows (no group-by per unit)."""
    moves = []
    for level in designed:
        cur, prev = nw.col(level), nw.col(f"prev_{level}")
        moved = changes.filter(~prev.is_null() & ~cur.is_null() & (prev != cur))
        if level not in distinct:
            moved = moved.group_by(UNIT_ID, prev, cur).agg(nw.col("n").sum())
        moves.append(
            moved.select(
                nw.lit(level).alias("level"),
                prev.alias("prev"),
                cur.alias("cur"),
                nw.col("n").cast(nw.Int64),
            )
        )
    rows = collect_rows(
        nw.concat(moves, how="vertical")
        .group_by("level", "prev", "cur")
        .agg(
            nw.col("n").sum().cast(nw.Int64).alias("transitions"),
            nw.len().cast(nw.Int64).alias("paths"),
        )
    )
    return _edge_list(rows, designed, ids)


def _edge_list(
    rows: Sequence[Mapping[str, Any]],
    designed: Mapping[str, list[tuple[str, str]]],
    ids: Mapping[str, tuple[str, ...]] | None = None,
) -> dict[str, tuple[Edge, ...]]:
    """Per level, the :class:`Edge` of every observed transition — ``rows`` of ``level``,
    ``prev``, ``cur`` (ids, or 1-based positions in ``ids[level]``), ``transitions`` and
    ``paths`` — and of every designed one never seen (volume 0), by volume, then source and
    target."""
    out: dict[str, tuple[Edge, ...]] = {}
    for level, edges_of_design in designed.items():
        designed_set = set(edges_of_design)
        names = ids[level] if ids else None
        seen = {
            (_id(r["prev"], names), _id(r["cur"], names)): r for r in rows if r["level"] == level
        }
        edges = [
            Edge(level, s, t, int(r["transitions"]), int(r["paths"]), (s, t) in designed_set)
            for (s, t), r in seen.items()
        ]
        edges += [Edge(level, s, t, 0, 0, True) for s, t in edges_of_design if (s, t) not in seen]
        edges.sort(key=lambda e: (-e.transitions, e.source, e.target))
        out[level] = tuple(edges)
    return out


class _Counts(NamedTuple):
    """What planned vs actual is assembled from, however it was counted.

    ``events``, ``unbound`` and ``units`` of the input; ``by_max``: one row per furthest
    stage position (``max_pos``) of the paths with a bound event — their number ``n``, how
    many of them backtracked (``back``) and, per stage position k, how many reached stage k
    (``_r{k}``); ``edges``: the stage and step edges (:func:`_edge_list`)."""

    events: int
    unbound: int
    units: int
    by_max: list[dict[str, Any]]
    edges: dict[str, tuple[Edge, ...]]


#: Most stages whose set per path is one bit mask (bits 1 … 62 of an int64).
_MASK_BITS = 62


def _position_tables(journey_map: JourneyMap) -> tuple[np.ndarray, np.ndarray]:
    """The 1-based map position of the stage and of the step of touchpoint index 0, 1, …
    (bind's ``touchpoint_index``; the positions :func:`_index_changes` looks up), with a
    last entry 0 that :data:`~journeylens.analytics._arrays.NONE` (-1) indexes: "no
    touchpoint" has position 0, before every stage and step.

    int16 while every ``previous · (positions + 1) + current`` code of :func:`_edge_rows`
    fits in it (maps of up to 180 steps): half the memory of int32 codes."""
    values = bound_values(journey_map)
    tables = []
    for column in (STAGE_INDEX, STEP_INDEX):
        positions = [int(v) for v in values[column][0]]
        top = max(positions, default=0)
        dtype = np.int16 if (top + 1) ** 2 <= np.iinfo(np.int16).max else np.int32
        tables.append(np.asarray([*positions, 0], dtype=dtype))
    return tables[0], tables[1]


def _edge_rows(
    level: str, prev: np.ndarray, cur: np.ndarray, starts: np.ndarray, size: int
) -> list[dict[str, Any]]:
    """Rows of :func:`_edge_list` for one level: per (previous, current) pair of map
    positions ``1 … size`` seen on the change rows where the position moved (``prev`` not 0
    — 0 is "no previous" — and unlike ``cur``), its ``transitions`` (such rows) and
    ``paths`` (paths with such a row; ``starts``: each path's first change row).

    Every change of position is a change row (a change of touchpoint), and equal
    positions in between are repeats the collapsed sequence drops, so each such row is one
    transition of the collapsed sequence.

    >>> rows = _edge_rows("stage", np.array([0, 1, 2, 0, 1, 1], np.int16),
    ...                   np.array([1, 2, 1, 1, 2, 1], np.int16), np.array([0, 3]), 2)
    >>> [(r["prev"], r["cur"], r["transitions"], r["paths"]) for r in rows]
    [(1, 2, 2, 2), (2, 1, 1, 1)]
    """
    width = size + 1
    # code prev·width + cur of every row (in the tables' dtype: it holds every code), 0 on
    # the rows that are no move — code 0, (none, none), is no edge
    code = prev * width
    code += cur
    code *= np.not_equal(prev, cur) & (prev != 0)
    transitions = np.bincount(code, minlength=width * width)
    transitions[0] = 0
    seen = np.flatnonzero(transitions)
    # Paths per edge: the distinct paths among the rows of each seen edge (numbered 0 …
    # in ``seen`` order; the rows that are no move take the number past the last).
    dense = np.full(width * width, len(seen), dtype=np.int32)
    dense[seen] = np.arange(len(seen), dtype=np.int32)
    edge = np.take(dense, code)
    bounds = np.append(starts, len(code))
    paths = np.zeros(width * width, dtype=np.int64)
    if len(seen) <= WORD_CODES:  # per path a few 64-bit words of its edges
        paths[seen] = path_code_counts(bounds, edge, len(seen))
    else:
        path = np.repeat(np.arange(len(starts), dtype=np.int32), np.diff(bounds))
        moved = edge < len(seen)
        paths[seen] = unit_sets(
            np.compress(moved, path), np.compress(moved, edge), len(seen), len(starts)
        )
    return [
        {
            "level": level,
            "prev": c // width,
            "cur": c % width,
            "transitions": int(transitions[c]),
            "paths": int(paths[c]),
        }
        for c in seen.tolist()
    ]


def _change_rows(tp: np.ndarray, starts: np.ndarray) -> tuple[int, np.ndarray, np.ndarray]:
    """The number of bound events (``tp`` not NONE), and the touchpoint index and the
    previous bound event's (NONE on a path's first bound event) of every *change row*: a
    bound event whose touchpoint differs from the previous bound event's in its path, or
    that has none. ``starts``: the paths' first rows (``PathArrays.starts``).

    Read off the bound events alone, in row order: their previous bound event is the
    previous one of them unless it lies in an earlier path — then the event is its path's
    first bound one, found from the bound events per path. (No per-event previous
    touchpoint over all events is needed.)

    >>> n, cur, prev = _change_rows(np.array([-1, 3, 3, -1, 2, 2, 2], np.int32), np.array([0, 5, 7]))
    >>> n, cur.tolist(), prev.tolist()
    (5, [3, 2, 2], [-1, 3, -1])
    """
    bound = tp != NONE
    # np.compress, not a boolean index: several times faster on masks without runs
    values = np.compress(bound, tp)
    n_bound = len(values)
    if n_bound == 0:
        return 0, values, values
    # each path's first bound event, as a position among the bound events
    per_path = np.add.reduceat(bound, starts[:-1], dtype=np.int64)
    del bound
    first_bound = np.cumsum(per_path)
    first_bound -= per_path
    prev = np.empty(n_bound, dtype=values.dtype)
    prev[0] = NONE
    prev[1:] = values[:-1]
    prev[np.compress(per_path > 0, first_bound)] = NONE
    # an unbound previous (NONE) differs from every touchpoint: first bound events change
    changed = np.not_equal(values, prev)
    return n_bound, np.compress(changed, values), np.compress(changed, prev)


def _array_counts(
    p: Paths, order: MapOrder, designed: Mapping[str, list[tuple[str, str]]]
) -> _Counts | None:
    """:class:`_Counts` read off the path frame's sorted arrays (``Paths.arrays``) in
    linear passes; None unless the frame was sorted with a map ordering the stages and
    steps of ``order`` and its arrays carry ``touchpoint_index`` (then
    :func:`_frame_counts` applies).

    The same rows as :func:`_index_changes`, in path order instead of grouped: the *change
    rows* are the bound events whose touchpoint differs from the previous bound one's (a
    repeated touchpoint changes neither stage nor step). Each path with a bound event
    starts with one — its first bound event, the only one with no previous touchpoint —
    so the change rows of a path are contiguous and start where ``prev`` is NONE: per-path
    figures are ``reduceat`` over those starts, with no unit ids. On each change row the
    previous stage (step) is the collapsed sequence's predecessor; a path backtracked if
    some row's stage lies before its previous stage; the stages it reached are the stages
    of its change rows."""
    a = p.arrays
    if a is None or p.journey_map is None or a.touchpoint_index is None:
        return None
    framed = MapOrder.of(p.journey_map)
    if (framed.stages, framed.steps) != (order.stages, order.steps):
        return None
    n_bound, cur_tp, prev_tp = _change_rows(a.touchpoint_index, a.starts)
    first = prev_tp == NONE
    starts = np.flatnonzero(first)
    ids = {"stage": order.stages, "step": order.steps}
    if len(starts) == 0:
        return _Counts(a.rows, a.rows - n_bound, a.units, [], _edge_list([], designed, ids))
    stage_of, step_of = _position_tables(p.journey_map)
    # NONE (-1) takes the tables' last entry: position 0
    stage, prev_stage = np.take(stage_of, cur_tp), np.take(stage_of, prev_tp)
    n_stages = len(order.stages)

    # Per path: backtracked, furthest stage, stages reached (prev_stage 0 is never above a
    # stage, so a path's first row is no backtrack).
    back = np.logical_or.reduceat(prev_stage > stage, starts)
    max_pos = np.maximum.reduceat(stage, starts).astype(np.intp)
    width = n_stages + 1
    if n_stages <= _MASK_BITS:
        # one pass: each path's reached stages as the bits of one int64
        masks = np.bitwise_or.reduceat(np.left_shift(1, stage, dtype=np.int64), starts)
        reached = [(masks & (1 << k)) != 0 for k in range(1, width)]
    else:
        reached = [np.logical_or.reduceat(stage == k, starts) for k in range(1, width)]
    n_of = np.bincount(max_pos, minlength=width)
    back_of = np.bincount(np.compress(back, max_pos), minlength=width)
    reached_of = [np.bincount(np.compress(r, max_pos), minlength=width) for r in reached]
    by_max = [
        {
            "max_pos": m,
            "n": int(n_of[m]),
            "back": int(back_of[m]),
            **{f"_r{k}": int(r[m]) for k, r in enumerate(reached_of, start=1)},
        }
        for m in np.flatnonzero(n_of).tolist()
    ]

    rows = _edge_rows("stage", prev_stage, stage, starts, n_stages)
    rows += _edge_rows(
        "step", np.take(step_of, prev_tp), np.take(step_of, cur_tp), starts, len(order.steps)
    )
    return _Counts(a.rows, a.rows - n_bound, a.units, by_max, _edge_list(rows, designed, ids))


def _frame_counts(
    bound: nw.LazyFrame[Any],
    paths: Paths | None,
    names: Sequence[str],
    order: MapOrder,
    journey_map: JourneyMap,
    designed: Mapping[str, list[tuple[str, str]]],
) -> _Counts:
    """:class:`_Counts` of the bound events or of a path frame, by the engine (narwhals)."""
    # With a path frame every unit has exactly one first event: counting them is cheaper
    # than a distinct count of units.
    units_expr = (
        (nw.col("pos") == 1).cast(nw.Int64).sum()
        if paths is not None
        else nw.col(UNIT_ID).n_unique().cast(nw.Int64)
    )
    # bound events: a count of non-null values, not a sum of per-event flags
    bound_column = _bound_column(names, TOUCHPOINT_ID)
    totals = collect_rows(
        bound.select(
            nw.len().cast(nw.Int64).alias("events"),
            nw.col(bound_column).count().cast(nw.Int64).alias("bound"),
            units_expr.alias("units"),
        )
    )[0]
    events = int(totals["events"] or 0)
    unbound = events - int(totals["bound"] or 0)
    all_units = int(totals["units"] or 0)

    # A path frame sorted with the map: its stages and steps as positions (integers).
    changes = None if paths is None else _index_changes(paths, order)
    positions = changes is not None
    if changes is None:
        changes = _changes(_sequence(bound) if paths is None else _sequence_of_paths(paths))
    # One row per unit (backtracked?, furthest stage, which stages reached), then one row
    # per furthest stage: the skips need no join and no per-unit rows leave the engine.
    n_stages = len(order.stages)
    stage_pos, prev_pos = nw.col("stage"), nw.col("prev_stage")
    if not positions:
        stage_pos = lookup(stage_pos, order.stage_pos, nw.Int64)
        prev_pos = lookup(prev_pos, order.stage_pos, nw.Int64)
    per_unit = changes.group_by(UNIT_ID).agg(
        (stage_pos < prev_pos).fill_null(False).cast(nw.Int64).max().alias("back"),
        stage_pos.max().alias("max_pos"),
        *[
            (stage_pos == k).fill_null(False).cast(nw.Int64).max().alias(f"_r{k}")
            for k in range(1, n_stages + 1)
        ],
    )
    by_max = collect_rows(
        per_unit.group_by("max_pos").agg(
            nw.len().cast(nw.Int64).alias("n"),
            nw.col("back").sum().cast(nw.Int64).alias("back"),
            *[
                nw.col(f"_r{k}").sum().cast(nw.Int64).alias(f"_r{k}")
                for k in range(1, n_stages + 1)
            ],
        )
    )
    by_level = _edges(
        changes,
        designed,
        {"stage": order.stages, "step": order.steps} if positions else None,
        # positions: one row per (unit, touchpoint, previous touchpoint); when no step has
        # two touchpoints, that is one row per (unit, step, previous step) too
        ("step",) if positions and _one_touchpoint_per_step(journey_map) else (),
    )
    return _Counts(events, unbound, all_units, by_max, by_level)


def conformance(
    bound: nw.LazyFrame[Any] | Paths, journey_map: JourneyMap, *, top: int = 10
) -> Conformance:
    """Planned vs actual of bound events against ``journey_map`` (see the module docstring).

    ``bound`` has ``unit_id``, ``occurred_at``, ``seq``, ``stage_id``, ``step_id`` and
    ``touchpoint_id`` (null when the event matched no touchpoint). ``top`` limits the
    backtrack pairs reported. ``bound`` may also be the shared path frame of bound events
    sorted with ``sort_paths(bound, previous=("stage_id", "step_id"))``: the sequences are
    then read off it without sorting again (its events are those with a label). When that
    path frame was sorted with the map into arrays (``Paths.arrays``, DuckDB), they are
    read off the arrays' touchpoint indexes in linear passes (the frame is not built, and
    ``previous`` is not needed: the previous bound touchpoint follows from the order).

    >>> import polars as pl
    >>> from datetime import datetime
    >>> from journeylens.model import JourneyMap
    >>> m = JourneyMap.model_validate({"id": "m", "title": "M", "stages": [
    ...     {"id": "s1", "name": "S1", "steps": [{"id": "a", "name": "A"}]},
    ...     {"id": "s2", "name": "S2", "steps": [{"id": "b", "name": "B"}]},
    ...     {"id": "s3", "name": "S3", "steps": [{"id": "c", "name": "C"}]}]})
    >>> t = [datetime(2024, 1, 1, h) for h in range(4)]
    >>> ev = pl.LazyFrame({"unit_id": ["u1"] * 3 + ["u2"] * 4,
    ...     "occurred_at": t[:3] + t, "seq": list(range(7)),
    ...     "stage_id": ["s1", "s3", None, "s1", "s2", "s1", "s3"],
    ...     "step_id": ["a", "c", None, "a", "b", "a", "c"],
    ...     "touchpoint_id": ["x", "y", None, "x", "z", "x", "y"]})
    >>> r = conformance(nw.from_native(ev), m)
    >>> r.fitness, r.backtrack_share, r.unbound_share, [(s.stage, s.skipped) for s in r.skips]
    (0.5, 0.5, 0.14285714285714285, [('s1', 0), ('s2', 1), ('s3', 0)])
    >>> [(e.source, e.target, e.transitions) for e in r.undesigned_edges if e.level == "stage"]
    [('s1', 's3', 2), ('s2', 's1', 1)]
    """
    order = MapOrder.of(journey_map)
    designed = {"stage": order.designed_stage_edges(), "step": order.designed_step_edges()}
    paths = bound if isinstance(bound, Paths) else None
    # The path frame's sorted arrays, when it has them: every count in linear passes, and
    # the frame itself is never built.
    counts = None if paths is None else _array_counts(paths, order, designed)
    if counts is None:
        frame = bound.frame if isinstance(bound, Paths) else bound
        carried = [PREV_PREFIX + STAGE_ID, PREV_PREFIX + STEP_ID]
        if paths is not None and not set(carried) <= set(frame.collect_schema().names()):
            raise AnalyticsError(
                "planned vs actual on a path frame needs "
                + " and ".join(carried)
                + ': sort with sort_paths(bound, previous=("stage_id", "step_id"))'
            )
        names = _require(frame, UNIT_ID, TIME, SEQ, STAGE_ID, STEP_ID, TOUCHPOINT_ID)
        counts = _frame_counts(frame, paths, names, order, journey_map, designed)
    events, unbound, all_units, by_max, by_level = counts
    n_paths = sum(int(r["n"]) for r in by_max)
    back_paths = sum(int(r["back"] or 0) for r in by_max)

    # Skips: units whose furthest stage lies beyond k, minus those of them that reached k.
    skips = []
    for stage in order.stages:
        k = order.stage_pos[stage]
        beyond = [r for r in by_max if r["max_pos"] is not None and int(r["max_pos"]) > k]
        later = sum(int(r["n"]) for r in beyond)
        skipped = later - sum(int(r[f"_r{k}"] or 0) for r in beyond)
        skips.append(
            StageSkip(stage, skipped, ratio(skipped, n_paths), later, ratio(skipped, later))
        )

    stage_edges = by_level["stage"]
    edges = stage_edges + by_level["step"]
    # A backtrack is a stage edge going to an earlier stage of the map.
    pos_of = order.stage_pos
    backtracks = sorted(
        (
            Edge("stage", e.source, e.target, e.transitions, e.paths, False)
            for e in stage_edges
            if e.transitions
            and e.source in pos_of
            and e.target in pos_of
            and pos_of[e.target] < pos_of[e.source]
        ),
        key=lambda e: (-e.paths, -e.transitions, e.source, e.target),
    )[:top]
    return Conformance(
        paths=n_paths,
        paths_without_bound_events=all_units - n_paths,
        events=events,
        unbound_events=unbound,
        unbound_share=ratio(unbound, events),
        fitness=ratio(n_paths - back_paths, n_paths),
        backtrack_paths=back_paths,
        backtrack_share=ratio(back_paths, n_paths),
        backtracks=tuple(backtracks),
        skips=tuple(skips),
        undesigned_edges=tuple(e for e in edges if not e.designed),
        unseen_designed_edges=tuple(e for e in edges if e.designed and e.transitions == 0),
        edges=edges,
    )
