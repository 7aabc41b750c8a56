"""Time in stage (METRICS.md, "Time"): from the first event of a stage to the first event of
the next stage reached.

Per unit, each stage it reached gets the time of its first event there. Ordering the
unit's stages by that first time (ties: map order), the **next stage reached** is the one
that follows; time in stage = its first time − this stage's first time. The last stage a
unit reached has no next stage and gives no duration (it is still running, or the journey
ended there): those units are counted as ``open``. Backtracking does not restart the clock:
only first arrivals count.

Reported per stage: median and p90 (linear interpolation, as numpy's default), the mean
beside them, N (units with a duration) and ``open``. The same definition applies to steps
and touchpoints (``level="step"`` / ``"touchpoint"``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import narwhals as nw
import pyarrow as pa

from journeylens.analytics._common import (
    UNIT_ID,
    AnalyticsError,
    clean_float,
    collect_rows,
    quantile_exprs,
)
from journeylens.analytics._results import RowResult, map_positions
from journeylens.analytics.conformance import MapOrder, lookup
from journeylens.engine.frames import TIME_US, with_epoch_us
from journeylens.model import JourneyMap

TimingLevel = Literal["stage", "step", "touchpoint"]
_COLUMN = {"stage": "stage_id", "step": "step_id", "touchpoint": "touchpoint_id"}


@dataclass(frozen=True)
class TimeInRow:
    """Time spent in one location, in seconds."""

    location: str
    n: int
    open: int
    median_s: float | None
    p90_s: float | None
    mean_s: float | None


@dataclass(frozen=True)
class TimeIn(RowResult[TimeInRow]):
    """Time in each stage (or step, touchpoint), in map order; ``to_frame()`` gives one row
    per location."""

    level: str
    rows: tuple[TimeInRow, ...]
    frame_schema: ClassVar[dict[str, pa.DataType]] = {
        "location": pa.string(),
        "n": pa.int64(),
        "open": pa.int64(),
        "median_s": pa.float64(),
        "p90_s": pa.float64(),
        "mean_s": pa.float64(),
    }

    def get(self, location: str) -> TimeInRow | None:
        """The row of one location, if any unit reached it."""
        return self.find(location=location)


def first_arrivals(
    bound: nw.LazyFrame[Any],
    journey_map: JourneyMap,
    level: TimingLevel = "stage",
    *,
    extra: Sequence[nw.Expr] = (),
) -> nw.LazyFrame[Any]:
    """Per (unit, location): ``_loc``, ``_t0`` (first event there, epoch µs), ``_pos`` (map order),
    and ``_dur_s``: seconds to the first event of the next location reached (null for the
    last one). ``extra`` aggregations ride along in the same group-by (the LiveMap adds its
    reach figures so the events are grouped once per level)."""
    if level not in _COLUMN:
        raise AnalyticsError(f"level must be one of stage, step, touchpoint; got {level!r}")
    column = _COLUMN[level]
    names = bound.collect_schema().names()
    if column not in names or UNIT_ID not in names:
        raise AnalyticsError(
            f"time in {level} needs bound events with '{UNIT_ID}' and '{column}' "
            f"(bind the map first); the columns are: {', '.join(names)}"
        )
    order = MapOrder.of(journey_map)
    pos = {"stage": order.stage_pos, "step": order.step_pos,
           "touchpoint": {t: i for i, t in enumerate(order.touchpoints, 1)}}[level]  # fmt: skip
    # Integer epoch microseconds: duration arithmetic that runs the same on every engine.
    firsts = (
        with_epoch_us(bound.filter(~nw.col(column).is_null()))
        .group_by(UNIT_ID, nw.col(column).cast(nw.String).alias("_loc"))
        .agg(nw.col(TIME_US).min().alias("_t0"), *extra)
        .with_columns(lookup(nw.col("_loc"), pos, nw.Int64).fill_null(0).alias("_pos"))
    )
    return firsts.with_columns(
        nw.col("_t0").shift(-1).over(UNIT_ID, order_by=["_t0", "_pos"]).alias("_t1")
    ).with_columns(((nw.col("_t1") - nw.col("_t0")).cast(nw.Float64) / 1e6).alias("_dur_s"))


def time_in(
    bound: nw.LazyFrame[Any], journey_map: JourneyMap, *, level: TimingLevel = "stage"
) -> TimeIn:
    """Time in each stage / step / touchpoint (see the module docstring).

    >>> import polars as pl
    >>> from datetime import datetime
    >>> from journeylens.model import JourneyMap
    >>> m = JourneyMap.model_validate({"id": "m", "title": "M", "stages": [
    ...     {"id": "s1", "name": "S1"}, {"id": "s2", "name": "S2"}, {"id": "s3", "name": "S3"}]})
    >>> # u1: s1 at 0h, s1 at 1h, s2 at 3h, s3 at 4h -> s1 3h, s2 1h; u2: s1 at 0h, s3 at 5h.
    >>> ev = pl.LazyFrame({"unit_id": ["u1"] * 4 + ["u2"] * 2,
    ...     "stage_id": ["s1", "s1", "s2", "s3", "s1", "s3"],
    ...     "occurred_at": [datetime(2024, 1, 1, h) for h in (0, 1, 3, 4, 0, 5)]})
    >>> r = time_in(nw.from_native(ev), m)
    >>> s1 = r.get("s1"); s1.n, s1.median_s / 3600, s1.mean_s / 3600, r.get("s3").open
    (2, 4.0, 4.0, 2)
    """
    return summarise(first_arrivals(bound, journey_map, level), journey_map, level)


def summarise(arrivals: nw.LazyFrame[Any], journey_map: JourneyMap, level: TimingLevel) -> TimeIn:
    """Median, p90 and mean of the durations of :func:`first_arrivals`, per location."""
    rows = collect_rows(
        arrivals.group_by("_loc").agg(
            nw.col("_dur_s").count().cast(nw.Int64).alias("n"),
            nw.len().cast(nw.Int64).alias("reached"),
            *quantile_exprs("_dur_s", ""),
            nw.col("_dur_s").mean().alias("mean"),
        )
    )
    position = map_positions(journey_map, level)
    out = [
        TimeInRow(
            location=str(r["_loc"]),
            n=int(r["n"]),
            open=int(r["reached"]) - int(r["n"]),
            median_s=clean_float(r["median"]) if int(r["n"]) else None,
            p90_s=clean_float(r["p90"]) if int(r["n"]) else None,
            mean_s=clean_float(r["mean"]) if int(r["n"]) else None,
        )
        for r in rows
    ]
    out.sort(key=lambda r: (position.get(r.location, len(position)), r.location))
    return TimeIn(level=level, rows=tuple(out))
