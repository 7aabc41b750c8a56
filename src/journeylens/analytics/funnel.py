"""Funnel: how far units get through ordered steps s1 … sk.

Definition (METRICS.md):

* A unit reaches step j if its path has events e1 < e2 < … < ej in strict path order (the
  ``(occurred_at, seq)`` order; two events at the same instant still have an order) with
  ei matching si. Every occurrence of s1 starts an **attempt**; with a conversion window
  W every ei of the attempt must satisfy t(ei) − t(e1) ≤ W (**exactly W counts**, one
  microsecond more does not). The unit counts at the furthest step any attempt reached.
  Without W, order alone decides (so only the first attempt matters).
* Per step: ``reached``; ``conversion_from_start`` = reached j / reached 1;
  ``step_conversion`` = reached j / reached j−1 (for step 1: reached 1 / all units);
  ``share_of_all`` = reached j / all units in scope. A rate with a zero denominator is
  None.
* Time to convert: median and p90 (linear interpolation) of t(ej) − t(e1) over units that
  reached j, taking for each unit the earliest attempt that reached j.
* Drop-off at step j (j < k): units that reached j and not j+1, the most frequent next
  events after their ej (of the earliest attempt reaching j) and the share whose path
  ended there.

Each attempt is advanced greedily (the earliest matching event after the previous one):
for a fixed e1 that reaches every step any other choice reaches, and as early as possible.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import narwhals as nw
import numpy as np
import pyarrow as pa

from journeylens.analytics._arrays import NONE, PathArrays, quantiles_sorted
from journeylens.analytics._common import (
    LABEL,
    NEXT_LABEL,
    POS,
    UNIT_ID,
    AnalyticsError,
    Unit,
    clean_float,
    collect_rows,
    quantile_exprs,
    sort_paths,
    table,
)
from journeylens.analytics.binding import match_expr
from journeylens.engine.frames import EVENT, TIME_US, cache
from journeylens.model import MatchRule, duration_seconds


@dataclass(frozen=True)
class NextEvent:
    """An event units went to right after dropping off, with how many units did."""

    event: str
    units: int


@dataclass(frozen=True)
class FunnelStep:
    """One step of the funnel with its three named rates, time to convert and drop-off."""

    step: str
    reached: int
    conversion_from_start: float | None
    step_conversion: float | None
    share_of_all: float | None
    median_time_to_convert_s: float | None
    p90_time_to_convert_s: float | None
    dropped: int
    ended_share: float | None
    next_events: tuple[NextEvent, ...]


@dataclass(frozen=True)
class FunnelResult:
    """A funnel over ``total_units`` units in scope; ``window_s`` None = no window."""

    unit: Unit
    total_units: int
    window_s: float | None
    steps: tuple[FunnelStep, ...]

    def to_frame(self) -> pa.Table:
        """One row per step (next events as ``event:units`` text, most first)."""
        rows = []
        for s in self.steps:
            rows.append(
                {
                    "step": s.step,
                    "reached": s.reached,
                    "conversion_from_start": s.conversion_from_start,
                    "step_conversion": s.step_conversion,
                    "share_of_all": s.share_of_all,
                    "median_time_to_convert_s": s.median_time_to_convert_s,
                    "p90_time_to_convert_s": s.p90_time_to_convert_s,
                    "dropped": s.dropped,
                    "ended_share": s.ended_share,
                    "next_events": ", ".join(f"{n.event}:{n.units}" for n in s.next_events),
                }
            )
        return table(
            rows,
            {
                "step": pa.string(),
                "reached": pa.int64(),
                "conversion_from_start": pa.float64(),
                "step_conversion": pa.float64(),
                "share_of_all": pa.float64(),
                "median_time_to_convert_s": pa.float64(),
                "p90_time_to_convert_s": pa.float64(),
                "dropped": pa.int64(),
                "ended_share": pa.float64(),
                "next_events": pa.string(),
            },
        )

    def to_dict(self) -> dict[str, Any]:
        """``{"unit", "total_units", "steps": [{"step", "reached", …}]}`` (CLI JSON shape)."""
        return {
            "unit": self.unit,
            "total_units": self.total_units,
            "steps": [
                {
                    "step": s.step,
                    "reached": s.reached,
                    "conversion_from_start": s.conversion_from_start,
                    "step_conversion": s.step_conversion,
                    "share_of_all": s.share_of_all,
                    "median_time_to_convert_s": s.median_time_to_convert_s,
                }
                for s in self.steps
            ],
        }

    def to_full_dict(self) -> dict[str, Any]:
        """Everything, including p90 time, drop-off and next events."""
        return {
            "unit": self.unit,
            "total_units": self.total_units,
            "window_s": self.window_s,
            "steps": [
                {
                    **{k: v for k, v in s.__dict__.items() if k != "next_events"},
                    "next_events": [n.__dict__ for n in s.next_events],
                }
                for s in self.steps
            ],
        }


def _furthest_per_unit(
    matched: nw.LazyFrame[Any], step_filters: Sequence[nw.Expr], window_us: int | None
) -> nw.LazyFrame[Any]:
    """Per unit with an occurrence of s1: how far its attempts got, and where.

    Columns: ``unit_id``; per level j (0-based) ``_q<j>`` the path position of e_j of the
    earliest attempt that reached j (null when no attempt did) and ``_dt<j>`` that
    attempt's time to convert in seconds; ``_b`` the number of levels reached and ``_bp``
    the position of e_b of the earliest attempt reaching the furthest level.

    Each level is one join of the attempts with the occurrences of the next step and one
    group-by per attempt keeping the earliest (greedy) match; stopped attempts stay, with
    nulls. No level is stored: the chain is one query, collected once per unit.

    Greedy chains never cross: an earlier attempt's e_j is at or before a later attempt's
    e_j, and times never decrease along a path. So among the attempts reaching j, the
    earliest one has the least start time and the least e_j time and position: plain
    minima per unit, with no arg-min and no ranking of attempts. For the same reason the
    last level may take any occurrence of s_k within W after e_(k-1), not only the first
    one: the least of them is the earliest attempt's e_k, so that level needs no group-by
    per attempt.
    """
    k = len(step_filters)

    def occurrences(j: int) -> nw.LazyFrame[Any]:
        return matched.filter(step_filters[j]).select(
            UNIT_ID, nw.col(POS).alias("_pos"), nw.col(TIME_US).alias("_t")
        )

    first = occurrences(0)
    if window_us is None:  # without a window the first attempt goes furthest
        first = first.group_by(UNIT_ID).agg(nw.col("_pos").min(), nw.col("_t").min())
    attempts = first.select(UNIT_ID, nw.col("_pos").alias("_e0"), nw.col("_t").alias("_s0"))
    # With a window W, an attempt's events lie in [t1, t1 + W]: in the W-wide time bucket
    # of t1 or the next one. Joining on (unit, bucket) pairs each attempt only with the
    # occurrences it can reach, not with every later one of its path.
    width = max(window_us or 0, 1)
    for j in range(1, k):
        cand = occurrences(j)
        if window_us is None:
            joined = attempts.join(cand, on=UNIT_ID, how="left")
        else:
            start = nw.col("_s0") // width
            joined = nw.concat(
                [
                    attempts.with_columns(start.alias("_b")),
                    attempts.with_columns((start + 1).alias("_b")),
                ],
                how="vertical",
            ).join(
                cand.with_columns((nw.col("_t") // width).alias("_b")),
                on=[UNIT_ID, "_b"],
                how="left",
            )
        cond = nw.col("_pos") > nw.col(f"_e{j - 1}")
        if window_us is not None:
            cond = cond & ((nw.col("_t") - nw.col("_s0")) <= window_us)
        # Greedy: the earliest matching event after the previous one (times never
        # decrease along a path, so the least time is that event's). An attempt's start
        # time and earlier levels are one value per attempt: carried, not keys.
        found = [
            nw.when(cond).then(nw.col("_pos")).alias(f"_e{j}"),
            nw.when(cond).then(nw.col("_t")).alias(f"_s{j}"),
        ]
        if j + 1 == k:
            # The last level needs no group-by per attempt: the per-unit minima below
            # read the joined rows directly (a repeated attempt row changes no minimum).
            attempts = joined.with_columns(*found)
            break
        carried = ["_s0", *[f"_{x}{i}" for i in range(1, j) for x in "es"]]
        attempts = joined.group_by(UNIT_ID, "_e0").agg(
            *[nw.col(c).min() for c in carried], *[e.min() for e in found]
        )

    # An attempt reached level j when it has an e_j (found within W of e_1).
    def when_reached(j: int, column: str) -> nw.Expr:
        return nw.when(~nw.col(f"_e{j}").is_null()).then(nw.col(column))

    per_unit = attempts.group_by(UNIT_ID).agg(
        *[nw.col(f"_e{j}").min().alias(f"_q{j}") for j in range(k)],
        *[when_reached(j, "_s0").min().alias(f"_a{j}") for j in range(1, k)],
        *[nw.col(f"_s{j}").min().alias(f"_z{j}") for j in range(1, k)],
    )
    levels = nw.sum_horizontal(*[(~nw.col(f"_q{j}").is_null()).cast(nw.Int64) for j in range(k)])
    at_best = nw.coalesce(
        *[nw.when(nw.col("_b") == j + 1).then(nw.col(f"_q{j}")) for j in range(k)]
    )
    return per_unit.with_columns(
        nw.lit(0.0).alias("_dt0"),
        *[
            ((nw.col(f"_z{j}") - nw.col(f"_a{j}")).cast(nw.Float64) / 1e6).alias(f"_dt{j}")
            for j in range(1, k)
        ],
        levels.alias("_b"),
    ).with_columns(at_best.alias("_bp"))


def _rule_name(rule: MatchRule, number: int) -> str:
    if rule.event is None:
        return f"step {number}"
    return rule.event if isinstance(rule.event, str) else "|".join(rule.event)


def _ratio(num: int, den: int) -> float | None:
    return None if den == 0 else num / den


class _Figures(NamedTuple):
    """What the funnel's steps are assembled from, whichever way it was computed.

    ``total_units``: units in scope; ``reached[j]``: units reaching level j (0-based);
    ``times[j]``: (median, p90) seconds of their time to convert; ``drop_rows``: one row
    per (furthest level ``_b`` < k, next label after that level's e_b or None = path
    ended) with its number of units ``n``.
    """

    total_units: int
    reached: list[int]
    times: list[tuple[float | None, float | None]]
    drop_rows: list[dict[str, Any]]


def _figures_from_frame(
    base: nw.LazyFrame[Any], steps: Sequence[str | MatchRule], window_us: int | None
) -> _Figures:
    """The funnel's figures from the path frame (engine-neutral narwhals: one chain of
    joins per level, see :func:`_furthest_per_unit`)."""
    # Every path has exactly one first event: counting them counts the units.
    total_units = int(
        collect_rows(base.select((nw.col(POS) == 1).cast(nw.Int64).sum().alias("n")))[0]["n"] or 0
    )

    # Each step is a filter on the path frame: a label value or a compiled match rule.
    matched = base
    step_filters: list[nw.Expr] = []
    for j, step in enumerate(steps, start=1):
        if isinstance(step, MatchRule):
            matched, expr = match_expr(matched, step, owner=f"funnel step {j}")
            step_filters.append(expr)
        else:
            step_filters.append(nw.col(LABEL) == step)

    per_unit = cache(_furthest_per_unit(matched, step_filters, window_us))
    k = len(steps)
    # All levels' counts and times in one aggregate over the (small) per-unit frame: a
    # unit reached level j when its earliest attempt reaching j exists (_q<j> not null).
    stats = collect_rows(
        per_unit.select(
            *[
                e
                for j in range(k)
                for e in (
                    nw.col(f"_q{j}").count().alias(f"n{j}"),
                    *quantile_exprs(f"_dt{j}", f"t{j}_"),
                )
            ]
        )
    )[0]
    reached = [int(stats[f"n{j}"] or 0) for j in range(k)]
    times = [
        (clean_float(stats[f"t{j}_median"]), clean_float(stats[f"t{j}_p90"])) for j in range(k)
    ]
    # Drop-off of every level in one aggregate: the units whose furthest level b is below
    # k, with the event after e_b of their earliest attempt reaching b (null: path ended).
    gone = per_unit.filter(nw.col("_b") < k).select(UNIT_ID, "_b", nw.col("_bp").alias(POS))
    after = gone.join(base.select(UNIT_ID, POS, NEXT_LABEL), on=[UNIT_ID, POS], how="left")
    drop_rows = collect_rows(after.group_by("_b", NEXT_LABEL).agg(nw.len().alias("n")))
    return _Figures(total_units, reached, times, drop_rows)


def _figures_from_arrays(a: PathArrays, steps: Sequence[str], window_us: int | None) -> _Figures:
    """The funnel's figures from the sorted path arrays, by linear passes and binary searches.

    The occurrences of each step are the sorted row numbers of its label. Every attempt
    (an occurrence of s1; without a window only each unit's first, which goes furthest)
    advances one level at a time, all attempts at once: its e_j is the first occurrence
    of s_j after its e_(j−1) (a binary search in those row numbers), kept when it lies in
    the same path and, with a window W, at most W after the attempt's e_1. Greedy: if
    the first occurrence is past W, every later one is too, so the attempt stops there.

    Attempts stay in row order, so a unit's earliest attempt reaching level j is its
    first one among the attempts still going at j: its time to convert is that
    attempt's t(e_j) − t(e_1). The last level a unit appears at is its furthest, and the
    event after that level's e_j is where it went (the path ended when e_j is its last).
    """
    starts, t_us, label = a.starts, a.t_us, a.label
    k = len(steps)
    codes = [a.label_code(s) for s in steps]
    # Row numbers of each step's label (a repeated step shares them); one reused mask.
    occurrences: dict[int, np.ndarray] = {}
    mask = np.empty(a.rows, dtype=bool)
    for code in set(codes):
        if code == NONE:  # no event has this label: the step matches nothing
            occurrences[code] = np.zeros(0, dtype=np.int64)
        else:
            occurrences[code] = np.flatnonzero(np.equal(label, code, out=mask))
    del mask

    e = occurrences[codes[0]]  # each attempt's e_1, in row order
    unit = np.searchsorted(starts, e, side="right") - 1
    if window_us is None and len(e):
        # Without a window the first attempt of a unit goes furthest.
        first = np.empty(len(e), dtype=bool)
        first[0] = True
        np.not_equal(unit[1:], unit[:-1], out=first[1:])
        e, unit = e[first], unit[first]
    t_start = t_us[e]
    end = starts[unit + 1]  # one past each attempt's path
    going = np.arange(len(e))  # the attempts still going, as positions in e
    reached: list[int] = []
    times: list[tuple[float | None, float | None]] = []
    # Per unit: the furthest level reached (0 = none) and its e_j of the earliest attempt.
    furthest = np.zeros(a.units, dtype=np.int32)
    furthest_row = np.zeros(a.units, dtype=np.int64)
    for j in range(k):
        if j:
            occ = occurrences[codes[j]]
            if len(occ) == 0:
                going, e = going[:0], e[:0]
            else:
                # The first occurrence after e_(j−1): index of the first row number > it.
                at = np.searchsorted(occ, e, side="right")
                ok = at < len(occ)
                np.minimum(at, len(occ) - 1, out=at)
                nxt = occ[at]
                ok &= nxt < end[going]
                if window_us is not None:
                    ok &= t_us[nxt] - t_start[going] <= window_us
                going, e = going[ok], nxt[ok]
        u = unit[going]
        first = np.empty(len(u), dtype=bool)
        if len(u):
            first[0] = True
            np.not_equal(u[1:], u[:-1], out=first[1:])
        units_j, rows_j = u[first], e[first]
        reached.append(len(units_j))
        seconds = (t_us[rows_j] - t_start[going[first]]).astype(np.float64)
        seconds /= 1e6
        median, p90 = quantiles_sorted(seconds, (5, 9))
        times.append((median, p90))
        furthest[units_j] = j + 1
        furthest_row[units_j] = rows_j

    # Drop-off: units whose furthest level b is below k, counted by (b, next label).
    gone = np.flatnonzero((furthest > 0) & (furthest < k))
    after = furthest_row[gone] + 1
    nxt_code = np.full(len(gone), NONE, dtype=np.int64)
    inside = after < starts[gone + 1]
    nxt_code[inside] = label[after[inside]]
    width = len(a.labels) + 1
    keys, counts = np.unique(furthest[gone] * np.int64(width) + (nxt_code + 1), return_counts=True)
    drop_rows = [
        {"_b": key // width, NEXT_LABEL: a.label_text(key % width - 1), "n": n}
        for key, n in zip(keys.tolist(), counts.tolist(), strict=True)
    ]
    return _Figures(a.units, reached, times, drop_rows)


def funnel(
    events: Any,
    steps: Sequence[str | MatchRule],
    *,
    unit: Unit = "customer",
    window: str | float | None = None,
    label: str = EVENT,
    top_next: int = 5,
) -> FunnelResult:
    """The ordered funnel through ``steps`` (see the module docstring).

    A step is a value of the ``label`` column (an event name by default; a touchpoint, step
    or stage id after :func:`~journeylens.analytics.binding.bind` with ``label`` set to
    that column) or a :class:`~journeylens.model.MatchRule` (the touchpoint rule language),
    reported under its event names (or ``step <j>``).

    ``window`` is seconds or a duration text (``7d``); None means no conversion window.

    >>> import polars as pl
    >>> from datetime import datetime
    >>> ev = pl.DataFrame({"customer_id": ["a", "a", "a", "b", "b", "c"],
    ...     "event_name": ["view", "cart", "buy", "view", "exit", "cart"],
    ...     "occurred_at": [datetime(2024, 1, 1, 0, m) for m in (0, 1, 3, 0, 5, 0)],
    ...     "seq": [1, 2, 3, 4, 5, 6]})
    >>> r = funnel(ev, ["view", "cart", "buy"])
    >>> [(s.step, s.reached, s.conversion_from_start, s.share_of_all) for s in r.steps]
    [('view', 2, 1.0, 0.6666666666666666), ('cart', 1, 0.5, 0.3333333333333333), ('buy', 1, 0.5, 0.3333333333333333)]
    >>> r.steps[2].median_time_to_convert_s, r.steps[0].next_events
    (180.0, (NextEvent(event='exit', units=1),))
    """
    steps = list(steps)
    if not steps:
        raise AnalyticsError("a funnel needs at least one step")
    window_us: int | None = None
    window_s: float | None = None
    if window is not None:
        window_s = duration_seconds(window) if isinstance(window, str) else float(window)
        if window_s < 0:
            raise AnalyticsError(f"the conversion window must not be negative, got {window!r}")
        window_us = round(window_s * 1e6)
    p = sort_paths(events, unit=unit, label=label)
    if p.arrays is not None and all(isinstance(s, str) for s in steps):
        # The sorted arrays answer label steps with linear passes; a match rule needs the
        # frame's other columns, so it keeps the frame path.
        figures = _figures_from_arrays(p.arrays, [str(s) for s in steps], window_us)
    else:
        figures = _figures_from_frame(p.frame, steps, window_us)
    total_units, reached, times, drop_rows = figures

    out: list[FunnelStep] = []
    for j, step in enumerate(steps):
        name = step if isinstance(step, str) else _rule_name(step, j + 1)
        dropped, ended_share = 0, None
        nexts: tuple[NextEvent, ...] = ()
        if j + 1 < len(steps):
            rows = [r for r in drop_rows if r["_b"] == j + 1]
            dropped = sum(int(r["n"]) for r in rows)
            ended = sum(int(r["n"]) for r in rows if r[NEXT_LABEL] is None)
            ended_share = _ratio(ended, dropped)
            ranked = sorted(
                (r for r in rows if r[NEXT_LABEL] is not None),
                key=lambda r: (-int(r["n"]), r[NEXT_LABEL]),
            )
            nexts = tuple(NextEvent(r[NEXT_LABEL], int(r["n"])) for r in ranked[:top_next])
        out.append(
            FunnelStep(
                step=name,
                reached=reached[j],
                conversion_from_start=_ratio(reached[j], reached[0]),
                step_conversion=_ratio(reached[j], reached[j - 1] if j else total_units),
                share_of_all=_ratio(reached[j], total_units),
                median_time_to_convert_s=times[j][0],
                p90_time_to_convert_s=times[j][1],
                dropped=dropped,
                ended_share=ended_share,
                next_events=nexts,
            )
        )
    return FunnelResult(unit=p.unit, total_units=total_units, window_s=window_s, steps=tuple(out))
