"""Channel use per persona: which channels each persona's customers use, and how much.

For persona P and channel c (events with a null channel count as channel ``None``):

- ``events`` = events of P's units on c; ``share_of_events`` = events / all events of P;
- ``units`` = P's units with at least one event on c; ``share_of_units`` = units / all
  units of P (a unit using several channels counts in each, so these shares need not sum
  to 1).

The persona of a unit comes from the map's personas: pass ``personas`` and the ``customers``
attribute frame, and each persona's segment rule picks its customers' events
(:func:`journeylens.analytics.personas.with_personas`; a customer in two personas counts in
both, customers no persona accepts are left out). Else a ``persona`` column on the events
(one persona per row) is used, and without either everything is one group ``None``
("all").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import narwhals as nw
import pyarrow as pa

from journeylens.analytics._common import UNIT_ID, AnalyticsError, collect_rows, ratio
from journeylens.analytics._results import RowResult
from journeylens.analytics.personas import with_personas
from journeylens.model import Persona


@dataclass(frozen=True)
class ChannelRow:
    """One persona's use of one channel."""

    persona: str | None
    channel: str | None
    events: int
    share_of_events: float | None
    units: int
    share_of_units: float | None


@dataclass(frozen=True)
class ChannelUse(RowResult[ChannelRow]):
    """Channel use per persona (personas sorted, channels by events, most first);
    ``to_frame()`` gives one row per persona and channel."""

    rows: tuple[ChannelRow, ...]
    frame_schema: ClassVar[dict[str, pa.DataType]] = {
        "persona": pa.string(),
        "channel": pa.string(),
        "events": pa.int64(),
        "share_of_events": pa.float64(),
        "units": pa.int64(),
        "share_of_units": pa.float64(),
    }

    def get(self, persona: str | None, channel: str | None) -> ChannelRow | None:
        """The row of one persona and channel, if that persona used it."""
        return self.find(persona=persona, channel=channel)


def channel_use(
    events: nw.LazyFrame[Any],
    *,
    persona_col: str = "persona",
    personas: Sequence[Persona] = (),
    customers: Any = None,
) -> ChannelUse:
    """Share of events and of units per channel, per persona (module docstring).

    >>> import polars as pl
    >>> ev = pl.LazyFrame({"unit_id": ["a", "a", "a", "b"], "channel": ["web", "web", "app", "web"],
    ...     "persona": ["p1"] * 4})
    >>> [(r.channel, r.events, r.share_of_events, r.units, r.share_of_units)
    ...  for r in channel_use(nw.from_native(ev)).rows]
    [('web', 3, 0.75, 2, 1.0), ('app', 1, 0.25, 1, 0.5)]
    """
    if personas:
        events = with_personas(events, personas, customers, column=persona_col)
    names = events.collect_schema().names()
    for column in (UNIT_ID, "channel"):
        if column not in names:
            raise AnalyticsError(
                f"channel use needs a '{column}' column; the columns are: {', '.join(names)}"
            )
    persona = (
        nw.col(persona_col).cast(nw.String)
        if persona_col in names
        else nw.lit(None, dtype=nw.String)
    )
    lf = events.select(
        persona.alias("_p"), nw.col("channel").cast(nw.String).alias("_c"), nw.col(UNIT_ID)
    )
    totals = {
        r["_p"]: (int(r["ev"]), int(r["un"]))
        for r in collect_rows(
            lf.group_by("_p").agg(
                nw.len().cast(nw.Int64).alias("ev"),
                nw.col(UNIT_ID).n_unique().cast(nw.Int64).alias("un"),
            )
        )
    }
    per = collect_rows(
        lf.group_by("_p", "_c").agg(
            nw.len().cast(nw.Int64).alias("ev"),
            nw.col(UNIT_ID).n_unique().cast(nw.Int64).alias("un"),
        )
    )
    rows = []
    for r in per:
        ev_total, un_total = totals[r["_p"]]
        rows.append(
            ChannelRow(
                r["_p"], r["_c"], int(r["ev"]), ratio(int(r["ev"]), ev_total),
                int(r["un"]), ratio(int(r["un"]), un_total),
            )
        )  # fmt: skip
    rows.sort(key=lambda r: (r.persona is None, r.persona or "", -r.events, r.channel or ""))
    return ChannelUse(rows=tuple(rows))
