"""The LiveMap: the designed map with every stage, step and touchpoint carrying its measured
figures, and the population, window and N behind them — one call, :func:`compute_livemap`.

Per location (stage, step, touchpoint) the figures are:

- ``reached``: units with at least one event bound there; ``share_of_units`` = reached /
  all units of the population;
- ``conversion``: share of the units that reached it that went on, i.e. have a later event
  bound further along the map (a higher stage index for a stage, a higher step index for a
  step or a touchpoint — touchpoints of one step are alternatives, so a touchpoint's unit
  goes on when it reaches a later step); ``drop_off`` = 1 − conversion: the units whose
  journey, as far as the map can see, ended there. Both are ``None`` for the last stage,
  the last step and its touchpoints (there is nothing further to go to);
- time there (median, p90, mean beside; :mod:`journeylens.analytics.timing`);
- NPS / CSAT / CES with N and 95% CI (:mod:`journeylens.analytics.survey`, ``None`` and
  "too few answers" under 10 answers);
- measured emotion with N (:mod:`journeylens.analytics.emotion`) beside the designed one;
- outcome rates: per outcome of the map, the share of the units that reached it for which
  the outcome holds.

``LiveMap.to_dict()`` is the JSON of ``journeylens analyze map MAP --format json``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Literal

import narwhals as nw
import pyarrow as pa

from journeylens.analytics._common import UNIT_ID, Unit, as_events, collect_rows, ratio, table
from journeylens.analytics.binding import Population, bind, evaluate_outcomes
from journeylens.analytics.conformance import MapOrder, lookup
from journeylens.analytics.emotion import MeasuredEmotion, measured_emotion
from journeylens.analytics.survey import SurveyMetrics, SurveyRow, survey_metrics
from journeylens.analytics.timing import TimeIn, first_arrivals, summarise
from journeylens.engine.frames import SEQ, TIME, cache
from journeylens.model import JourneyMap

LIVEMAP_SCHEMA = "journeylens/livemap/v1"
_LEVELS: tuple[Literal["stage", "step", "touchpoint"], ...] = ("stage", "step", "touchpoint")
_COLUMN = {"stage": "stage_id", "step": "step_id", "touchpoint": "touchpoint_id"}


@dataclass(frozen=True)
class SurveyFigure:
    """One survey metric at a location: N always, value and 95% CI when N ≥ 10."""

    n: int
    value: float | None
    low: float | None
    high: float | None
    flag: str | None

    @classmethod
    def of(cls, row: SurveyRow | None) -> SurveyFigure | None:
        """From a survey row (``None`` when the location has no answers of that type)."""
        if row is None:
            return None
        return cls(row.n, row.value, row.low, row.high, row.flag)


@dataclass(frozen=True)
class Figures:
    """The measured figures of one stage, step or touchpoint."""

    reached: int
    share_of_units: float | None
    converted: int
    conversion: float | None
    drop_off: float | None
    time_n: int
    median_time_s: float | None
    p90_time_s: float | None
    mean_time_s: float | None
    nps: SurveyFigure | None
    csat: SurveyFigure | None
    ces: SurveyFigure | None
    emotion_n: int
    measured_emotion: float | None
    outcome_rates: dict[str, float | None] = field(default_factory=dict)


@dataclass(frozen=True)
class TouchpointFigures:
    """A touchpoint of the map with its figures."""

    id: str
    name: str
    channel: str
    figures: Figures


@dataclass(frozen=True)
class StepFigures:
    """A step of the map with its figures, designed emotion and touchpoints."""

    id: str
    name: str
    index: int
    designed_emotion: float | None
    moment_of_truth: bool
    figures: Figures
    touchpoints: tuple[TouchpointFigures, ...]


@dataclass(frozen=True)
class StageFigures:
    """A stage of the map with its figures and steps."""

    id: str
    name: str
    index: int
    figures: Figures
    steps: tuple[StepFigures, ...]


@dataclass(frozen=True)
class LiveMap:
    """A journey map with measured figures, and the population, window and N behind them.

    ``window_start`` / ``window_end`` are the requested window (``None`` = open);
    ``data_start`` / ``data_end`` the first and last event actually in scope.
    """

    schema: str
    map_id: str
    title: str
    unit: str
    population: str
    window_start: datetime | None
    window_end: datetime | None
    data_start: datetime | None
    data_end: datetime | None
    units: int
    events: int
    unbound_events: int
    unbound_share: float | None
    fitness: float | None
    outcome_rates: dict[str, float | None]
    stages: tuple[StageFigures, ...]

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict (datetimes as ISO 8601 text)."""
        out = asdict(self)
        for key in ("window_start", "window_end", "data_start", "data_end"):
            value = out[key]
            out[key] = value.isoformat() if value is not None else None
        return out

    def to_frame(self) -> pa.Table:
        """One row per location (stages, steps, touchpoints in map order) with the headline
        figures; survey values are ``None`` under the answer threshold."""
        rows: list[dict[str, Any]] = []

        def add(level: str, loc_id: str, name: str, f: Figures) -> None:
            rows.append(
                {
                    "level": level, "id": loc_id, "name": name, "reached": f.reached,
                    "conversion": f.conversion, "drop_off": f.drop_off,
                    "median_time_s": f.median_time_s,
                    "nps": f.nps.value if f.nps else None, "nps_n": f.nps.n if f.nps else 0,
                    "csat": f.csat.value if f.csat else None, "csat_n": f.csat.n if f.csat else 0,
                    "ces": f.ces.value if f.ces else None, "ces_n": f.ces.n if f.ces else 0,
                    "measured_emotion": f.measured_emotion, "emotion_n": f.emotion_n,
                }
            )  # fmt: skip

        for stage in self.stages:
            add("stage", stage.id, stage.name, stage.figures)
            for step in stage.steps:
                add("step", step.id, step.name, step.figures)
                for tp in step.touchpoints:
                    add("touchpoint", tp.id, tp.name, tp.figures)
        f, i, s = pa.float64(), pa.int64(), pa.string()
        return table(
            rows,
            {
                "level": s, "id": s, "name": s, "reached": i, "conversion": f, "drop_off": f,
                "median_time_s": f, "nps": f, "nps_n": i, "csat": f, "csat_n": i, "ces": f,
                "ces_n": i, "measured_emotion": f, "emotion_n": i,
            },
        )  # fmt: skip


def _suffix(bound: nw.LazyFrame[Any], order: MapOrder) -> nw.LazyFrame[Any]:
    """Bound events with ``_after_stage`` / ``_after_step``: the furthest stage / step index
    reached at or after each event along its path (a suffix max), and ``_prev_ps``: the
    stage index of the previous bound event — one sort for all three."""
    lf = bound.filter(~nw.col("touchpoint_id").is_null()).with_columns(
        lookup(nw.col("stage_id"), order.stage_pos, nw.Int64).alias("_ps"),
        lookup(nw.col("step_id"), order.step_pos, nw.Int64).alias("_pt"),
    )
    return cache(
        lf.with_columns(
            nw.col("_ps")
            .cum_max(reverse=True)
            .over(UNIT_ID, order_by=[TIME, SEQ])
            .alias("_after_stage"),
            nw.col("_pt")
            .cum_max(reverse=True)
            .over(UNIT_ID, order_by=[TIME, SEQ])
            .alias("_after_step"),
            nw.col("_ps").shift(1).over(UNIT_ID, order_by=[TIME, SEQ]).alias("_prev_ps"),
        ).select(
            UNIT_ID,
            TIME,
            "stage_id",
            "step_id",
            "touchpoint_id",
            "_ps",
            "_prev_ps",
            "_after_stage",
            "_after_step",
        )
    )


def _reach(
    arrivals: nw.LazyFrame[Any], order: MapOrder, level: str, outcomes: nw.LazyFrame[Any] | None,
    outcome_ids: list[str],
) -> dict[str, dict[str, Any]]:  # fmt: skip
    """Per location: reached, converted (went further along the map), positive per outcome.

    ``arrivals`` has one row per (unit, location) with ``_after``: the furthest map position
    the unit reached at or after its events there (max of the suffix max)."""
    if level == "stage":
        pos_of: dict[str, int] = dict(order.stage_pos)
    elif level == "step":
        pos_of = dict(order.step_pos)
    else:
        pos_of = {tp: order.step_pos[st] for tp, st in order.touchpoint_step.items()}
    per_unit = arrivals.with_columns(
        lookup(nw.col("_loc"), pos_of, nw.Int64).alias("_own")
    ).with_columns(
        (nw.col("_after") > nw.col("_own")).fill_null(False).cast(nw.Int64).alias("_conv")
    )
    aggs = [nw.len().cast(nw.Int64).alias("reached"), nw.col("_conv").sum().alias("converted")]
    if outcomes is not None and outcome_ids:
        per_unit = per_unit.join(
            outcomes.select(
                nw.col(UNIT_ID).cast(nw.String),
                *[nw.col(o).fill_null(False).cast(nw.Int64).alias(f"_o_{o}") for o in outcome_ids],
            ),
            on=UNIT_ID,
            how="left",
        )
        aggs += [nw.col(f"_o_{o}").fill_null(0).sum().alias(f"_o_{o}") for o in outcome_ids]
    return {str(r["_loc"]): r for r in collect_rows(per_unit.group_by("_loc").agg(*aggs))}


def _figures(
    loc: str, reach: dict[str, dict[str, Any]], units: int, timing: TimeIn,
    survey: SurveyMetrics, emotion: MeasuredEmotion, outcome_ids: list[str], last: bool,
) -> Figures:  # fmt: skip
    r = reach.get(loc)
    reached = int(r["reached"]) if r else 0
    converted = int(r["converted"] or 0) if r else 0
    # Nothing lies beyond the last stage / step of the map: no conversion to speak of.
    conversion = None if last else ratio(converted, reached)
    t = timing.get(loc)
    e = emotion.get(loc)
    return Figures(
        reached=reached,
        share_of_units=ratio(reached, units),
        converted=converted,
        conversion=conversion,
        drop_off=None if conversion is None else 1.0 - conversion,
        time_n=t.n if t else 0,
        median_time_s=t.median_s if t else None,
        p90_time_s=t.p90_s if t else None,
        mean_time_s=t.mean_s if t else None,
        nps=SurveyFigure.of(survey.get(loc, "nps")),
        csat=SurveyFigure.of(survey.get(loc, "csat")),
        ces=SurveyFigure.of(survey.get(loc, "ces")),
        emotion_n=e.n if e else 0,
        measured_emotion=e.measured if e else None,
        outcome_rates={
            o: (ratio(int(r[f"_o_{o}"] or 0), reached) if r else None) for o in outcome_ids
        },
    )


def compute_livemap(
    events: Any,
    journey_map: JourneyMap,
    *,
    population: Population | None = None,
    customers: Any = None,
    window: tuple[datetime | None, datetime | None] | None = None,
    unit: Unit = "customer",
    as_of: datetime | None = None,
    min_answers: int = 10,
    text_sentiment: bool = True,
) -> LiveMap:
    """Bind ``journey_map`` to ``events`` and measure every stage, step and touchpoint.

    ``events`` is any event source (:func:`~journeylens.engine.frames.to_lazy`);
    ``population`` (with ``customers`` when it filters on attributes) and ``window``
    (``start <= occurred_at < end``) narrow the scope; ``as_of`` is the end of the data
    window for ``inactive_days`` outcomes (default: the last event).

    >>> import polars as pl
    >>> from datetime import datetime
    >>> from journeylens.model import JourneyMap
    >>> m = JourneyMap.model_validate({"id": "m", "title": "Shop", "stages": [
    ...   {"id": "look", "name": "Look", "steps": [{"id": "browse", "name": "Browse",
    ...     "touchpoints": [{"id": "site", "name": "Site", "channel": "web",
    ...                      "match": [{"event": "page_view"}]}]}]},
    ...   {"id": "buy", "name": "Buy", "steps": [{"id": "pay", "name": "Pay",
    ...     "touchpoints": [{"id": "checkout", "name": "Checkout", "channel": "web",
    ...                      "match": [{"event": "purchase"}]}]}]}],
    ...   "outcomes": [{"id": "converted", "name": "Converted", "did": {"event": "purchase"}}]})
    >>> ev = pl.DataFrame({"customer_id": ["a", "a", "b"],
    ...     "event_name": ["page_view", "purchase", "page_view"],
    ...     "occurred_at": [datetime(2024, 1, 1, h) for h in (1, 3, 2)], "seq": [1, 2, 3]})
    >>> lm = compute_livemap(ev, m)
    >>> look = lm.stages[0].figures
    >>> lm.units, look.reached, look.conversion, look.median_time_s, look.outcome_rates
    (2, 2, 0.5, 7200.0, {'converted': 0.5})
    """
    lf = as_events(events)
    if window is not None:
        start, end = window
        if start is not None:
            lf = lf.filter(nw.col(TIME) >= nw.lit(start))
        if end is not None:
            lf = lf.filter(nw.col(TIME) < nw.lit(end))
    if population is not None:
        lf = population.apply(lf, customers)
    bound = cache(bind(lf, journey_map, unit=unit))
    order = MapOrder.of(journey_map)

    head = collect_rows(
        bound.select(
            nw.col(UNIT_ID).n_unique().cast(nw.Int64).alias("units"),
            nw.len().cast(nw.Int64).alias("events"),
            nw.col(TIME).min().alias("t0"),
            nw.col(TIME).max().alias("t1"),
            nw.col("touchpoint_id").is_null().cast(nw.Int64).sum().alias("unbound"),
        )
    )[0]
    units = int(head["units"] or 0)
    outcome_ids = [o.id for o in journey_map.outcomes]
    outcomes = (
        cache(evaluate_outcomes(lf, journey_map, unit=unit, as_of=as_of))
        if outcome_ids and units
        else None
    )
    overall: dict[str, float | None] = dict.fromkeys(outcome_ids)
    if outcomes is not None:
        row = collect_rows(
            outcomes.select(
                *[nw.col(o).fill_null(False).cast(nw.Int64).sum().alias(o) for o in outcome_ids]
            )
        )[0]
        overall = {o: ratio(int(row[o] or 0), units) for o in outcome_ids}

    per_level: dict[
        str, tuple[dict[str, dict[str, Any]], TimeIn, SurveyMetrics, MeasuredEmotion]
    ] = {}
    suffix = _suffix(bound, order)
    # Fitness (METRICS.md): share of paths whose stage index never decreases. A collapsed
    # sequence decreases iff two consecutive bound events do, so the suffix sort serves.
    fit = collect_rows(
        suffix.group_by(UNIT_ID)
        .agg((nw.col("_ps") < nw.col("_prev_ps")).fill_null(False).cast(nw.Int64).max().alias("b"))
        .select(nw.len().cast(nw.Int64).alias("paths"), nw.col("b").sum().alias("back"))
    )[0]
    paths = int(fit["paths"] or 0)
    fitness = ratio(paths - int(fit["back"] or 0), paths)
    # Only survey answers and texts feed the survey and emotion figures: filter them once.
    names = bound.collect_schema().names()
    has_score = "score" in names
    signal_filter = [~nw.col(c).is_null() for c in ("score", "text", "sentiment") if c in names]
    signals = bound
    if signal_filter:
        keep = signal_filter[0]
        for extra in signal_filter[1:]:
            keep = keep | extra
        signals = cache(bound.filter(keep))
    for level in _LEVELS:
        after = "_after_stage" if level == "stage" else "_after_step"
        # One group-by per level serves reach, conversion and time there.
        arrivals = cache(
            first_arrivals(suffix, journey_map, level, extra=[nw.col(after).max().alias("_after")])
        )
        per_level[level] = (
            _reach(arrivals, order, level, outcomes, outcome_ids),
            summarise(arrivals, journey_map, level),
            survey_metrics(signals, by=level, journey_map=journey_map, min_answers=min_answers)
            if has_score
            else SurveyMetrics(level, min_answers, ()),
            measured_emotion(
                signals, journey_map=journey_map, level=level, text_sentiment=text_sentiment
            ),
        )

    last_stage = order.stages[-1] if order.stages else None
    last_step = order.steps[-1] if order.steps else None

    def figs(level: str, loc: str) -> Figures:
        reach, timing, survey, emotion = per_level[level]
        if level == "stage":
            last = loc == last_stage
        elif level == "step":
            last = loc == last_step
        else:
            last = order.touchpoint_step.get(loc) == last_step
        return _figures(loc, reach, units, timing, survey, emotion, outcome_ids, last)

    stages = []
    for stage in journey_map.stages:
        steps = []
        for step in stage.steps:
            tps = tuple(
                TouchpointFigures(tp.id, tp.name, str(tp.channel.value), figs("touchpoint", tp.id))
                for tp in step.touchpoints
            )
            steps.append(
                StepFigures(
                    step.id, step.name, order.step_pos[step.id],
                    step.emotion.score if step.emotion else None,
                    step.moment_of_truth is not None, figs("step", step.id), tps,
                )
            )  # fmt: skip
        stages.append(
            StageFigures(
                stage.id,
                stage.name,
                order.stage_pos[stage.id],
                figs("stage", stage.id),
                tuple(steps),
            )
        )
    pop_label = population.label if population is not None else "all customers"
    return LiveMap(
        schema=LIVEMAP_SCHEMA,
        map_id=journey_map.id,
        title=journey_map.title,
        unit=unit,
        population=pop_label,
        window_start=window[0] if window else None,
        window_end=window[1] if window else None,
        data_start=head["t0"],
        data_end=head["t1"],
        units=units,
        events=int(head["events"] or 0),
        unbound_events=int(head["unbound"] or 0),
        unbound_share=ratio(int(head["unbound"] or 0), int(head["events"] or 0)),
        fitness=fitness,
        outcome_rates=overall,
        stages=tuple(stages),
    )
