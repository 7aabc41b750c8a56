"""What the report shows, as library functions: chart inputs, and findings in plain words.

:func:`build_report_data` runs the analytics behind ``journeylens report`` and the demo and
returns a typed :class:`ReportData` that :func:`~journeylens.render.report.render_report_html`
draws; the CLI only loads files and writes the result.

The time-to-convert chart shows the full distribution (:func:`convert_distribution`): per
stage after the first, every customer's time from their first event at the first stage to
their first event at that stage (only customers who got there after starting), reduced to
at most ``points`` evenly spaced quantiles so a 100k-customer report stays small while the
histogram keeps its shape.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import narwhals as nw

from journeylens.analytics._common import UNIT_ID, collect_rows
from journeylens.engine.frames import TIME
from journeylens.insights.segments import Finding as InsightFinding
from journeylens.insights.segments import segment_findings, top_findings
from journeylens.model import JourneyMap, Persona
from journeylens.render.charts import DurationGroup, OddsRatioRow
from journeylens.render.figures import MapFigures
from journeylens.render.report import ChartsData, Finding

if TYPE_CHECKING:
    from journeylens.analytics.outcomes import OutcomeComparison


@dataclass(frozen=True)
class ReportData:
    """Everything the report draws besides the map: ``charts``; ``findings`` in the order
    the report lists them (segment findings first, then the overview read off the map);
    ``insights`` every segment finding found (typed, with their numbers)."""

    charts: ChartsData
    findings: tuple[Finding, ...] = ()
    insights: tuple[InsightFinding, ...] = field(default_factory=tuple)


def build_report_data(
    journey: JourneyMap,
    livemap: Any,
    bound: Any,
    events: Any,
    con: Any,
    personas: Sequence[Persona],
    figures: MapFigures,
    *,
    as_of: datetime | None = None,
    limit: int = 8,
) -> ReportData:
    """Charts and findings for the report of ``journey`` on bound, cached events.

    ``con`` is the workspace's store connection (its ``customers`` table gives generations
    and persona segments); ``figures`` the live map's figures; ``limit`` how many segment
    findings lead the list (:func:`~journeylens.insights.segments.top_findings`).
    """
    customers = con.table("customers")
    insights = segment_findings(bound, journey, customers=customers, personas=personas, as_of=as_of)
    findings = [Finding(f.text, title=_TITLES[f.kind]) for f in top_findings(insights, limit)]
    findings += [Finding(text) for text in figure_findings(journey, figures)]
    return ReportData(
        charts=charts_data(journey, livemap, bound, events, con, personas),
        findings=tuple(findings),
        insights=insights,
    )


_TITLES = {
    "drop_off": "Drop-off",
    "outcome": "Churn",
    "moment": "Moment of truth",
    "anomaly": "Spike",
}


def convert_distribution(
    bound: Any, journey: JourneyMap, *, points: int = 400
) -> tuple[DurationGroup, ...]:
    """Per stage after the first: the times to convert (seconds) from the first stage.

    >>> import polars as pl
    >>> from datetime import datetime as dt
    >>> from journeylens.model import JourneyMap
    >>> jm = JourneyMap.model_validate({"id": "m", "title": "M", "stages": [
    ...     {"id": "a", "name": "A", "steps": [{"id": "s1", "name": "S1"}]},
    ...     {"id": "b", "name": "B", "steps": [{"id": "s2", "name": "S2"}]}]})
    >>> b = pl.DataFrame({"unit_id": ["u", "u", "v", "v", "w"], "stage_id": ["a", "b", "a", "b", "b"],
    ...     "occurred_at": [dt(2026, 1, 1), dt(2026, 1, 1, 1), dt(2026, 1, 1), dt(2026, 1, 1, 0, 30),
    ...                     dt(2026, 1, 1)]})
    >>> [(g.label, g.seconds) for g in convert_distribution(b, jm)]
    [('B', (1800.0, 3600.0))]
    """
    lf = nw.from_native(bound).lazy() if not isinstance(bound, nw.LazyFrame) else bound
    stages = [s.id for s in journey.stages]
    if len(stages) < 2:
        return ()
    firsts = (
        lf.filter(~nw.col("stage_id").is_null())
        .group_by(UNIT_ID, "stage_id")
        .agg(nw.col(TIME).min().alias("_t"))
    )
    start = firsts.filter(nw.col("stage_id") == stages[0]).select(
        UNIT_ID, nw.col("_t").alias("_t0")
    )
    rows = collect_rows(
        firsts.filter(nw.col("stage_id") != stages[0])
        .join(start, on=UNIT_ID, how="inner")
        .filter(nw.col("_t") >= nw.col("_t0"))
        .select("stage_id", (nw.col("_t") - nw.col("_t0")).dt.total_seconds().alias("_s"))
    )
    per: dict[str, list[float]] = {}
    for r in rows:
        per.setdefault(str(r["stage_id"]), []).append(float(r["_s"]))
    names = {s.id: s.name for s in journey.stages}
    return tuple(
        DurationGroup(names[sid], _quantile_points(sorted(per[sid]), points))
        for sid in stages[1:]
        if per.get(sid)
    )


def _quantile_points(xs: Sequence[float], points: int) -> tuple[float, ...]:
    """``xs`` (sorted) itself when short, else ``points`` evenly spaced order statistics.

    >>> _quantile_points([1.0, 2.0, 3.0, 4.0, 5.0], 3)
    (1.0, 3.0, 5.0)
    """
    n = len(xs)
    if n <= points:
        return tuple(xs)
    return tuple(xs[round(i * (n - 1) / (points - 1))] for i in range(points))


def charts_data(
    journey: JourneyMap,
    livemap: Any,
    bound: Any,
    events: Any,
    con: Any,
    personas: Sequence[Persona],
) -> ChartsData:
    """Plain chart inputs from analytics results: the stage funnel with the full
    time-to-convert distribution, flows, transitions, planned vs actual, survey trends,
    the first outcome's odds ratios and channel use per persona."""
    from journeylens.analytics.conformance import conformance
    from journeylens.analytics.funnel import funnel
    from journeylens.analytics.survey import survey_metrics
    from journeylens.render.charts import (
        ConvertTime,
        FlowLink,
        FunnelStep,
        SurveyPoint,
        TransitionCell,
    )
    from journeylens.render.report import ChartsData, PlannedVsActual

    conf = conformance(bound, journey)
    names = {s.id: s.name for s in journey.stages}
    # The ordered funnel over the stages (METRICS.md, Funnel), on the bound stage column.
    stage_funnel = funnel(bound, [s.id for s in journey.stages], label="stage_id")
    funnel_steps = [FunnelStep(names[s.step], s.reached) for s in stage_funnel.steps]
    convert_times = [
        ConvertTime(names[s.step], s.median_time_to_convert_s, s.p90_time_to_convert_s, s.reached)
        for s in stage_funnel.steps[1:]
    ]
    stage_edges = [e for e in conf.edges if e.level == "stage" and e.transitions > 0]
    flows = [
        FlowLink(names.get(e.source, e.source), names.get(e.target, e.target), e.paths)
        for e in stage_edges
    ]
    totals: dict[str, int] = {}
    for e in stage_edges:
        totals[e.source] = totals.get(e.source, 0) + e.transitions
    transitions = [
        TransitionCell(
            names.get(e.source, e.source),
            names.get(e.target, e.target),
            e.transitions / totals[e.source],
            e.transitions,
        )
        for e in stage_edges
    ]
    planned = PlannedVsActual(
        fitness=conf.fitness,
        unbound_share=conf.unbound_share,
        backtrack_share=conf.backtrack_share,
        skips={s.stage: s.share for s in conf.skips if s.share},
    )
    survey = [
        SurveyPoint(str(r.group), r.score_type.upper(), r.value, r.low, r.high, r.n)
        for r in survey_metrics(bound, by="month").rows
        if r.group is not None
    ]
    outcome_rows, outcome_name = _outcome_rows(journey, bound)
    return ChartsData(
        funnel=funnel_steps,
        convert_times=convert_times,
        time_to_convert=convert_distribution(bound, journey),
        flows=flows,
        flow_order=[s.name for s in journey.stages],
        transitions=transitions,
        survey=survey,
        outcome=outcome_rows,
        outcome_name=outcome_name,
        channel_use=_channel_rows(events, con, personas),
        planned=planned,
    )


def _outcome_rows(journey: JourneyMap, bound: Any) -> tuple[list[Any], str]:
    """Odds ratios of the map's first outcome for the tested features (largest effects)."""
    from journeylens.analytics.binding import evaluate_outcomes
    from journeylens.analytics.outcomes import compare_outcome
    from journeylens.engine.frames import cache

    if not journey.outcomes:
        return [], ""
    outcome = journey.outcomes[0]
    comparison = compare_outcome(bound, cache(evaluate_outcomes(bound, journey)), outcome.id)
    return list(forest_rows(comparison)), outcome.name


def forest_rows(comparison: OutcomeComparison, limit: int = 15) -> tuple[OddsRatioRow, ...]:
    """The forest plot's rows of an outcome comparison (the report's and the web page's):
    the tested touchpoint and channel features with an odds ratio between 1/100 and 100,
    largest effects (``|log OR|``) first, at most ``limit``.

    An odds ratio beyond 100 (or under 1/100) marks a feature that is part of the outcome
    itself (the payment confirmation for "converted"): it would only squash the plot; the
    comparison's table keeps it.
    """
    tested = [
        f
        for f in comparison.features
        if f.odds_ratio is not None and f.or_low is not None and f.or_high is not None
        and f.flag is None and f.kind in ("touchpoint", "channel")
        and 0.01 <= f.odds_ratio <= 100
    ]  # fmt: skip
    tested.sort(key=lambda f: -abs(math.log(f.odds_ratio or 1.0)))
    return tuple(
        OddsRatioRow(
            f"{f.kind}: {f.feature}", f.odds_ratio or 1.0, f.or_low or 0.0, f.or_high or 0.0,
            f.q_value,
        )
        for f in tested[:limit]
    )  # fmt: skip


def _channel_rows(events: Any, con: Any, personas: Sequence[Persona]) -> list[Any]:
    """Share of each persona's customers per channel (personas with a segment rule)."""
    import narwhals as nw

    from journeylens.analytics._common import with_unit
    from journeylens.analytics.binding import Population
    from journeylens.analytics.channels import channel_use
    from journeylens.engine.frames import to_lazy
    from journeylens.render.charts import ChannelUse

    rows: list[Any] = []
    customers = con.table("customers")
    for p in personas:
        if p.segment is None:
            continue
        lf = with_unit(to_lazy(Population.for_persona(p).apply(events, customers)), "customer")
        lf = lf.with_columns(nw.lit(p.name).alias("persona"))
        rows += [
            ChannelUse(p.name, str(r.channel), r.share_of_units or 0.0)
            for r in channel_use(lf).rows
            if r.channel is not None
        ]
    return rows


def figure_findings(journey: JourneyMap, figures: MapFigures) -> list[str]:
    """Plain-words findings read off the live map's figures: the three biggest drop-offs
    along the map and the weakest NPS (the overview next to the segment findings)."""
    from journeylens.render.svg import format_share

    steps = [(stage, step, figures.steps.get(step.id)) for stage, step in journey.iter_steps()]
    drops = sorted(
        (
            (node.drop_off, node.reached, stage, step)
            for stage, step, node in steps
            if node is not None and node.drop_off is not None and node.reached
        ),
        key=lambda t: -(t[0] * t[1]),
    )
    out = [
        f"{format_share(drop)} of the {reached:,} customers who reached “{step.name}” "
        f"({stage.name}) went no further along the map."
        for drop, reached, stage, step in drops[:3]
    ]
    nps = [
        (node.nps.value, node.nps.n, step)
        for _, step, node in steps
        if node is not None and node.nps is not None and figures.shown(node.nps)
    ]
    if nps:
        value, n, step = min(nps, key=lambda t: t[0] if t[0] is not None else 0.0)
        out.append(f"The lowest NPS is at “{step.name}”: {value:+.0f} from {n:,} answers.")
    return out
