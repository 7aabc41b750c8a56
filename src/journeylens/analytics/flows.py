"""Flows between stages or steps: the data of a Sankey diagram.

Take each path's bound events (those with a stage / step; unbound events are left out),
collapse consecutive repeats of the same stage (or step) into one visit, and count the
moves between consecutive visits. A link ``source → target`` has ``value`` = number of
moves and ``units`` = number of paths that made the move at least once. A node has the
number of visits and of units that visited it. With ``markers`` every path also flows from
``path_start`` into its first visit and from its last visit into ``path_end``.

Nodes come in map order (``stage_index`` / ``step_index``); links by value (most first).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

import narwhals as nw
import pyarrow as pa

from journeylens.analytics._common import (
    LABEL,
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
from journeylens.analytics.binding import STAGE_ID, STAGE_INDEX, STEP_ID, STEP_INDEX
from journeylens.analytics.paths import collapse_repeats
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
    p = collapse_repeats(sort_paths(lf, unit=unit, label=column, presorted=presorted))
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
    nodes = sorted(
        (
            FlowNode(
                id=r[LABEL],
                index=None if r["index"] is None else int(r["index"]),
                visits=int(r["visits"]),
                units=int(r["units"]),
            )
            for r in node_rows
        ),
        key=lambda n: (n.index if n.index is not None else 1 << 30, n.id),
    )
    links = sorted(
        (FlowLink(r["from"], r["to"], int(r["value"]), int(r["units"])) for r in link_rows),
        key=lambda x: (-x.value, x.source, x.target),
    )
    return FlowsResult(unit=p.unit, level=level, nodes=tuple(nodes), links=tuple(links))
