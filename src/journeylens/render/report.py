"""The self-contained HTML report: live map, charts with their tables, planned vs actual,
and the top findings in plain words — one file that opens with no network.

Nothing is loaded from outside the file: CSS is inline, the map SVG is inline, and each chart
is an SVG inside a ``data:`` image (which also keeps the charts' internal element ids from
colliding). The Jinja2 template autoescapes every piece of user text; only SVG produced by
our own escaping builder or by the chart renderer is inserted as markup.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import jinja2
from markupsafe import Markup

from journeylens import __version__
from journeylens.model import JourneyMap, Persona
from journeylens.render.charts import (
    ChannelUse,
    Chart,
    ConvertTime,
    DurationGroup,
    FlowLink,
    FunnelStep,
    OddsRatioRow,
    SurveyPoint,
    TransitionCell,
    channel_use_chart,
    convert_time_chart,
    forest_plot,
    funnel_chart,
    sankey_chart,
    survey_trend_chart,
    time_to_convert_chart,
    transition_heatmap,
)
from journeylens.render.figures import MapFigures, figures_from
from journeylens.render.svg import (
    FiguresInput,
    RenderOptions,
    format_count,
    format_duration,
    format_score,
    format_share,
    render_map_svg,
)


@dataclass(frozen=True)
class Finding:
    """One finding in plain words, e.g. "38% of mobile customers drop between shipping and
    payment, 3× the desktop rate"; ``title`` is an optional short lead."""

    text: str
    title: str = ""


@dataclass(frozen=True)
class PlannedVsActual:
    """Conformance to the designed map (METRICS.md, Planned vs actual), as shares 0 … 1."""

    fitness: float | None = None
    unbound_share: float | None = None
    backtrack_share: float | None = None
    skips: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class ChartsData:
    """The plain data behind the report's charts; empty fields leave their chart out."""

    funnel: Sequence[FunnelStep] = ()
    flows: Sequence[FlowLink] = ()
    flow_order: Sequence[str] = ()
    transitions: Sequence[TransitionCell] = ()
    time_to_convert: Sequence[DurationGroup] = ()
    convert_times: Sequence[ConvertTime] = ()
    survey: Sequence[SurveyPoint] = ()
    outcome: Sequence[OddsRatioRow] = ()
    outcome_name: str = ""
    channel_use: Sequence[ChannelUse] = ()
    planned: PlannedVsActual | None = None


def build_charts(data: ChartsData) -> list[Chart]:
    """Render every chart that has data, in the report's order."""
    charts: list[Chart] = []
    if data.funnel:
        charts.append(funnel_chart(data.funnel, title="Funnel through the stages"))
    if data.flows:
        charts.append(sankey_chart(data.flows, data.flow_order))
    if data.transitions:
        charts.append(transition_heatmap(data.transitions, order=data.flow_order))
    if data.time_to_convert:
        charts.append(time_to_convert_chart(data.time_to_convert))
    elif data.convert_times:
        charts.append(convert_time_chart(data.convert_times))
    if data.survey:
        charts.append(survey_trend_chart(data.survey))
    if data.outcome:
        name = f": {data.outcome_name}" if data.outcome_name else ""
        charts.append(forest_plot(data.outcome, title=f"Outcome comparison{name}"))
    if data.channel_use:
        charts.append(channel_use_chart(data.channel_use))
    return charts


def _template() -> jinja2.Template:
    """The report template, read from the package (works from a wheel or a zip too)."""
    source = resources.files("journeylens.render").joinpath("templates/report.html.j2")
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    env.globals["version"] = __version__
    return env.from_string(source.read_text(encoding="utf-8"))


def _planned_rows(planned: PlannedVsActual, journey: JourneyMap) -> list[tuple[str, str, str]]:
    rows: list[tuple[str, str, str]] = []
    if planned.fitness is not None:
        rows.append(
            (
                "fitness",
                format_share(planned.fitness),
                "share of journeys that never go back a stage",
            )
        )
    if planned.backtrack_share is not None:
        rows.append(
            ("backtracks", format_share(planned.backtrack_share), "share of journeys that go back")
        )
    if planned.unbound_share is not None:
        rows.append(
            (
                "unbound events",
                format_share(planned.unbound_share),
                "share of events no touchpoint matches: what the map is missing",
            )
        )
    names = {s.id: s.name for s in journey.stages}
    for stage_id, share in planned.skips.items():
        rows.append(
            (
                f"skipped: {names.get(stage_id, stage_id)}",
                format_share(share),
                "share of journeys reaching a later stage without this one",
            )
        )
    return rows


def _live_table(journey: JourneyMap, fig: MapFigures) -> dict[str, Any]:
    columns = (
        "stage / step", "reached", "conversion", "drop-off", "median time",
        "NPS (N)", "CSAT (N)", "CES (N)", "emotion designed", "emotion measured (N)",
    )  # fmt: skip

    def survey(m: Any, fmt: str) -> str:
        if m is None:
            return "—"
        if not fig.shown(m):
            return f"too few answers ({m.n})"
        return f"{m.value:{fmt}} ({m.n:,})"

    rows = []
    for stage in journey.stages:
        entries: list[tuple[str, Any, str]] = [(stage.name, fig.stages.get(stage.id), "")]
        for step in stage.steps:
            designed = format_score(step.emotion.score) if step.emotion else "—"
            entries.append((f"    {step.name}", fig.steps.get(step.id), designed))
        for name, node, designed in entries:
            if node is None:
                rows.append((name, "—", "—", "—", "—", "—", "—", "—", designed or "—", "—"))
                continue
            rows.append(
                (
                    name,
                    "—" if node.reached is None else format_count(node.reached),
                    "—" if node.conversion is None else format_share(node.conversion),
                    "—" if node.drop_off is None else format_share(node.drop_off),
                    "—" if node.median_time_s is None else format_duration(node.median_time_s),
                    survey(node.nps, "+.0f"),
                    survey(node.csat, ".0f"),
                    survey(node.ces, ".1f"),
                    designed or "—",
                    survey(node.emotion, "+.1f"),
                )
            )
    return {"columns": columns, "rows": rows}


def render_report_html(
    journey: JourneyMap,
    personas: Sequence[Persona] = (),
    figures: FiguresInput = None,
    charts_data: ChartsData | None = None,
    findings: Sequence[Finding | str] = (),
    *,
    title: str | None = None,
    charts: Sequence[Chart] | None = None,
) -> str:
    """One self-contained HTML page about ``journey``.

    Without ``figures`` and ``charts_data`` it shows the designed map and says how to bind
    data. ``charts`` (already rendered) replaces building them from ``charts_data``.
    """
    fig = figures_from(figures)
    data = charts_data or ChartsData()
    built = list(charts) if charts is not None else build_charts(data)
    map_svg = render_map_svg(journey, personas, fig, options=RenderOptions(id_prefix="map"))
    if map_svg.startswith("<?xml"):
        map_svg = map_svg.split("\n", 1)[1]  # the XML declaration is not allowed inside HTML
    facts: list[tuple[str, str]] = []
    subtitle = "Designed map (no data bound)"
    if fig is not None:
        if fig.units is not None:
            facts.append(("customers in scope", format_count(fig.units)))
        facts.append(("population", fig.population))
        if fig.window:
            facts.append(("window", fig.window))
        subtitle = f"Live map · population {fig.population}" + (
            f" · {fig.window}" if fig.window else ""
        )
    if data.planned is not None and data.planned.fitness is not None:
        facts.append(("journeys in the designed order", format_share(data.planned.fitness)))
    return _template().render(
        title=title or f"{journey.title} — journey report",
        subtitle=subtitle,
        facts=facts,
        findings=[f if isinstance(f, Finding) else Finding(f) for f in findings],
        live=fig is not None,
        map_svg=Markup(map_svg),  # produced by the escaping SVG builder
        planned=_planned_rows(data.planned, journey) if data.planned else [],
        charts=[
            {
                "key": c.key,
                "title": c.title,
                "description": c.description,
                "columns": c.columns,
                "rows": c.rows,
                "data_uri": "data:image/svg+xml;base64,"
                + base64.b64encode(c.svg.encode("utf-8")).decode("ascii"),
            }
            for c in built
        ],
        live_table=_live_table(journey, fig) if fig is not None else None,
        map_id=journey.id,
        map_version=journey.version,
    )
