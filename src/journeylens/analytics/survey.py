"""Survey metrics: NPS, CSAT and CES with their intervals, by stage, step, touchpoint,
persona or period (METRICS.md, "Survey metrics").

A survey answer is an event with ``score`` and ``score_type`` (``nps`` 0–10, ``csat`` 1–5,
``ces`` 1–7; see docs/sources.md). It is tied to the map in this order of precedence:

1. ``properties.touchpoint`` / ``properties.stage`` of the answer (the survey says what it
   asks about; the step and stage of a named touchpoint come from the map);
2. else the touchpoint / step / stage the answer itself was bound to (binding).

Definitions (each computed in :mod:`journeylens.analytics.stats` from engine aggregates):

- **NPS**: promoters 9–10, passives 7–8, detractors 0–6; NPS = 100·(P − D)/N,
  SE = 100·sqrt((p + d − (p − d)²)/N), 95% CI = NPS ± 1.96·SE.
- **CSAT**: share of answers 4 or 5, as a percentage, Wilson 95% CI.
- **CES**: mean with a t-based 95% CI, and the share of answers ≥ 5.

N is always reported; with N < ``min_answers`` (default 10) the value and interval are
``None`` and the row is flagged ``"too few answers"``. Periods are UTC calendar days, ISO
weeks starting on Monday, or calendar months, keyed by their first day (``2024-01-01``):
the engine aggregates per day and the additive aggregates (counts, Σs, Σs²) roll up to
weeks and months in Python.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import narwhals as nw
import pyarrow as pa

from journeylens.analytics import stats
from journeylens.analytics._common import AnalyticsError, collect_rows
from journeylens.analytics._results import RowResult
from journeylens.analytics.conformance import (
    STAGE_ID,
    STEP_ID,
    TOUCHPOINT_ID,
    MapOrder,
    lookup,
)
from journeylens.analytics.personas import with_personas
from journeylens.engine.frames import TIME_US, extract_properties, prop_column, with_epoch_us
from journeylens.model import JourneyMap, Persona

#: What survey metrics can be grouped by.
SurveyBy = Literal["all", "stage", "step", "touchpoint", "persona", "day", "week", "month"]
SURVEY_BY: tuple[str, ...] = (
    "all",
    "stage",
    "step",
    "touchpoint",
    "persona",
    "day",
    "week",
    "month",
)
SCORE_TYPES: tuple[str, ...] = ("nps", "csat", "ces")
TOO_FEW = "too few answers"
MIN_ANSWERS = 10

#: Columns :func:`locate_answers` adds: where an answer belongs on the map.
LOC_TOUCHPOINT, LOC_STEP, LOC_STAGE = "loc_touchpoint", "loc_step", "loc_stage"


@dataclass(frozen=True)
class SurveyAggregate:
    """Additive sufficient statistics of the answers of one group and score type."""

    n: int = 0
    promoters: int = 0
    detractors: int = 0
    satisfied: int = 0
    total: float = 0.0
    total_sq: float = 0.0
    at_least_5: int = 0

    def __add__(self, other: SurveyAggregate) -> SurveyAggregate:
        return SurveyAggregate(
            self.n + other.n,
            self.promoters + other.promoters,
            self.detractors + other.detractors,
            self.satisfied + other.satisfied,
            self.total + other.total,
            self.total_sq + other.total_sq,
            self.at_least_5 + other.at_least_5,
        )


@dataclass(frozen=True)
class SurveyRow:
    """One score type in one group: N, the value, its 95% interval, and the flag.

    ``value`` is NPS (−100 … 100), CSAT (% satisfied) or the CES mean; ``se`` is given for
    NPS only, ``share_ge5`` for CES only. ``flag`` is ``"too few answers"`` when N is below
    the threshold, and then value, interval, se and share are ``None``.
    """

    group: str | None
    score_type: str
    n: int
    value: float | None
    low: float | None
    high: float | None
    se: float | None = None
    share_ge5: float | None = None
    flag: str | None = None


@dataclass(frozen=True)
class SurveyMetrics(RowResult[SurveyRow]):
    """Survey metrics per group (``by``) and score type; ``to_frame()`` gives one row per
    group and score type."""

    by: str
    min_answers: int
    rows: tuple[SurveyRow, ...]
    frame_schema: ClassVar[dict[str, pa.DataType]] = {
        "group": pa.string(),
        "score_type": pa.string(),
        "n": pa.int64(),
        "value": pa.float64(),
        "low": pa.float64(),
        "high": pa.float64(),
        "se": pa.float64(),
        "share_ge5": pa.float64(),
        "flag": pa.string(),
    }

    def get(self, group: str | None, score_type: str) -> SurveyRow | None:
        """The row of one group and score type, if any answers exist there."""
        return self.find(group=group, score_type=score_type)


def estimate(
    score_type: str, agg: SurveyAggregate, group: str | None, min_answers: int
) -> SurveyRow:
    """The METRICS.md estimate of one score type from its aggregates.

    >>> estimate("nps", SurveyAggregate(n=10, promoters=5, detractors=2), "x", 10).value
    30.0
    >>> estimate("nps", SurveyAggregate(n=9, promoters=5, detractors=2), "x", 10).flag
    'too few answers'
    """
    if agg.n < min_answers:
        return SurveyRow(group, score_type, agg.n, None, None, None, flag=TOO_FEW)
    if score_type == "nps":
        e = stats.nps(agg.promoters, agg.n - agg.promoters - agg.detractors, agg.detractors)
        return SurveyRow(group, score_type, agg.n, e.nps, e.low, e.high, se=e.se)
    if score_type == "csat":
        c = stats.csat(agg.satisfied, agg.n)
        return SurveyRow(group, score_type, agg.n, c.value, c.low, c.high)
    if score_type == "ces":
        s = stats.ces(agg.n, agg.total, agg.total_sq, agg.at_least_5)
        return SurveyRow(group, score_type, agg.n, s.mean, s.low, s.high, share_ge5=s.share_ge5)
    raise AnalyticsError(f"unknown score_type {score_type!r}; expected one of nps, csat, ces")


def survey_answers(events: nw.LazyFrame[Any]) -> nw.LazyFrame[Any]:
    """The events that are survey answers: a score and a known ``score_type``."""
    names = events.collect_schema().names()
    for column in ("score", "score_type"):
        if column not in names:
            raise AnalyticsError(
                f"survey metrics need a '{column}' column (canonical events); "
                f"the columns are: {', '.join(names)}"
            )
    return events.filter(
        ~nw.col("score").is_null() & nw.col("score_type").is_in(list(SCORE_TYPES))
    ).with_columns(nw.col("score").cast(nw.Float64))


def locate_answers(
    answers: nw.LazyFrame[Any], journey_map: JourneyMap | None = None
) -> nw.LazyFrame[Any]:
    """Add ``loc_touchpoint``, ``loc_step``, ``loc_stage``: where each answer belongs.

    ``properties.touchpoint`` / ``properties.stage`` of the answer win; the step and stage
    of a touchpoint named there come from the map; otherwise the binding columns
    (``touchpoint_id``, ``step_id``, ``stage_id``) are used when present. With a map, a
    known step also gives its stage.
    """
    names = answers.collect_schema().names()
    tp_prop, stage_prop = prop_column("touchpoint"), prop_column("stage")
    if "properties" in names and (tp_prop not in names or stage_prop not in names):
        answers = extract_properties(
            answers,
            [k for k, c in (("touchpoint", tp_prop), ("stage", stage_prop)) if c not in names],
        )
        names = answers.collect_schema().names()
    order = MapOrder.of(journey_map) if journey_map is not None else None

    def col(name: str) -> nw.Expr | None:
        return nw.col(name).cast(nw.String) if name in names else None

    def first_of(*parts: nw.Expr | None) -> nw.Expr:
        # Only real columns go into coalesce: an all-literal expression would be broadcast
        # as a scalar, which some engines render as an invalid window.
        present = [p for p in parts if p is not None]
        if not present:
            return nw.lit(None, dtype=nw.String)
        return present[0] if len(present) == 1 else nw.coalesce(*present)

    prop_tp, prop_stage = col(tp_prop), col(stage_prop)
    if prop_tp is not None and order is not None:
        tp_step: nw.Expr | None = lookup(prop_tp, order.touchpoint_step)
        tp_stage: nw.Expr | None = lookup(prop_tp, order.touchpoint_stage)
    else:
        tp_step = tp_stage = None
    bound_step = col(STEP_ID)
    if prop_tp is None:
        loc_step = first_of(bound_step)
    else:
        # A named touchpoint decides the step too; only unnamed answers fall back to binding.
        loc_step = (
            nw.when(prop_tp.is_null()).then(first_of(bound_step)).otherwise(first_of(tp_step))
        )
    answers = answers.with_columns(
        first_of(prop_tp, col(TOUCHPOINT_ID)).alias(LOC_TOUCHPOINT), loc_step.alias(LOC_STEP)
    )
    # The stage: named in the answer, else the named touchpoint's, else the step's (map),
    # else the binding's.
    step_stage = lookup(nw.col(LOC_STEP), order.step_stage) if order else None
    return answers.with_columns(
        first_of(prop_stage, tp_stage, step_stage, col(STAGE_ID)).alias(LOC_STAGE)
    )


def survey_aggregates(
    answers: nw.LazyFrame[Any], key: str | None
) -> dict[tuple[str | None, str], SurveyAggregate]:
    """Engine aggregates per (``key`` value, score type); ``key=None`` pools all answers."""
    s = nw.col("score")
    keys = [key, "score_type"] if key else ["score_type"]
    rows = collect_rows(
        answers.group_by(*keys).agg(
            nw.len().cast(nw.Int64).alias("n"),
            (s >= 9).cast(nw.Int64).sum().alias("promoters"),
            (s <= 6).cast(nw.Int64).sum().alias("detractors"),
            (s >= 4).cast(nw.Int64).sum().alias("satisfied"),
            s.sum().alias("total"),
            (s * s).sum().alias("total_sq"),
            (s >= 5).cast(nw.Int64).sum().alias("at_least_5"),
        )
    )
    out: dict[tuple[str | None, str], SurveyAggregate] = {}
    for r in rows:
        group = r[key] if key else None
        out[(group, str(r["score_type"]))] = SurveyAggregate(
            int(r["n"]),
            int(r["promoters"] or 0),
            int(r["detractors"] or 0),
            int(r["satisfied"] or 0),
            float(r["total"] or 0.0),
            float(r["total_sq"] or 0.0),
            int(r["at_least_5"] or 0),
        )
    return out


_DAY_US = 86_400_000_000
_EPOCH = dt.date(1970, 1, 1)


def _period_start(day: Any, by: str) -> dt.date:
    d = _EPOCH + dt.timedelta(days=int(day))
    if by == "week":
        return d - dt.timedelta(days=d.weekday())
    if by == "month":
        return d.replace(day=1)
    return d


def survey_metrics(
    events: nw.LazyFrame[Any],
    *,
    by: SurveyBy = "all",
    journey_map: JourneyMap | None = None,
    persona_col: str = "persona",
    personas: Sequence[Persona] = (),
    customers: Any = None,
    min_answers: int = MIN_ANSWERS,
) -> SurveyMetrics:
    """NPS / CSAT / CES per group, with N always (see the module docstring).

    ``events`` are canonical events (bound or not). For ``by="persona"``, either pass the
    map's ``personas`` and the ``customers`` attribute frame (each persona's segment rule
    picks its customers' answers, :func:`journeylens.analytics.personas.with_personas`; a
    customer in two personas counts in both), or the events carry a persona column
    (``persona_col``). Groups with no answers do not appear; answers that cannot be placed
    (no touchpoint, step or stage) form the group ``None``.

    >>> import polars as pl
    >>> from datetime import datetime
    >>> scores = [10, 10, 9, 9, 9, 8, 7, 7, 3, 0]  # P=5, passives=3, D=2
    >>> ev = pl.LazyFrame({"score": [float(s) for s in scores] + [5.0],
    ...     "score_type": ["nps"] * 10 + ["csat"],
    ...     "stage_id": ["buy"] * 10 + ["buy"],
    ...     "occurred_at": [datetime(2024, 1, 1)] * 11})
    >>> r = survey_metrics(nw.from_native(ev), by="stage")
    >>> row = r.get("buy", "nps"); row.n, row.value, round(row.se, 3)
    (10, 30.0, 24.698)
    >>> r.get("buy", "csat").flag
    'too few answers'
    """
    if by not in SURVEY_BY:
        raise AnalyticsError(f"survey metrics by {by!r}: expected one of {', '.join(SURVEY_BY)}")
    if min_answers < 1:
        raise AnalyticsError(f"min_answers must be ≥ 1, got {min_answers}")
    answers = survey_answers(events)
    key: str | None
    if by in ("stage", "step", "touchpoint"):
        answers = locate_answers(answers, journey_map)
        key = {"stage": LOC_STAGE, "step": LOC_STEP, "touchpoint": LOC_TOUCHPOINT}[by]
    elif by == "persona":
        if personas:
            answers = with_personas(answers, personas, customers, column=persona_col)
        elif persona_col not in answers.collect_schema().names():
            raise AnalyticsError(
                "survey metrics by persona need the map's personas (and the customers "
                f"frame), or a '{persona_col}' column on the events"
            )
        key = persona_col
    elif by in ("day", "week", "month"):
        # Whole UTC days since the epoch (integer arithmetic runs the same on every engine).
        answers = with_epoch_us(answers).with_columns(
            (nw.col(TIME_US) // _DAY_US).cast(nw.Int64).alias("_day")
        )
        key = "_day"
    else:
        key = None
    aggs = survey_aggregates(answers, key)
    if by in ("day", "week", "month"):
        rolled: dict[tuple[str | None, str], SurveyAggregate] = defaultdict(SurveyAggregate)
        for (day, score_type), agg in aggs.items():
            group = None if day is None else _period_start(day, by).isoformat()
            rolled[(group, score_type)] = rolled[(group, score_type)] + agg
        aggs = dict(rolled)
    else:
        aggs = {((None if g is None else str(g)), t): a for (g, t), a in aggs.items()}
    rows = [estimate(t, a, g, min_answers) for (g, t), a in aggs.items()]
    rows.sort(key=lambda r: (r.group is None, r.group or "", SCORE_TYPES.index(r.score_type)))
    return SurveyMetrics(by=by, min_answers=min_answers, rows=tuple(rows))
