"""``journeylens render`` and ``journeylens report``: the map as a picture, and the report.

Both are thin: they load the map and its personas, ask the analytics for a LiveMap when a
workspace is given, convert analytics results into the render layer's plain inputs
(:mod:`journeylens.render.figures`, :mod:`journeylens.render.report`), and write the file.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from journeylens.cli._output import EXIT_INVALID, fail

if TYPE_CHECKING:
    from journeylens.model import JourneyMap, Persona
    from journeylens.render.figures import MapFigures
    from journeylens.render.report import ChartsData


class RenderFormat(StrEnum):
    """File formats of ``journeylens render``."""

    SVG = "svg"
    PNG = "png"
    PDF = "pdf"


MapArg = Annotated[
    Path, typer.Argument(metavar="MAP", help="The journey map file (*.journey.yaml).")
]
WorkspaceOpt = Annotated[
    Path | None,
    typer.Option(
        "--workspace",
        "-w",
        help="Workspace with ingested events: draw the live map. Without it: the designed map.",
    ),
]
PersonaOpt = Annotated[
    str | None,
    typer.Option(
        "--persona", "-p", help="Persona id: show its card and measure only its customers."
    ),
]


def _load(map_path: Path, persona_id: str | None) -> tuple[JourneyMap, list[Persona]]:
    """The map and the personas it names (persona files beside the map)."""
    from journeylens.formats.io import DocumentError, find_personas, load_map

    if not map_path.is_file():
        fail(f"{map_path}: no such file")
    try:
        journey = load_map(map_path)
        found = find_personas(map_path.parent)
    except DocumentError as exc:
        fail(str(exc), EXIT_INVALID)
    personas = [found[pid][1] for pid in journey.personas if pid in found]
    if persona_id is not None:
        if persona_id not in found:
            known = ", ".join(sorted(found)) or "none"
            fail(
                f"--persona {persona_id}: no persona file with that id beside {map_path} (found: {known})"
            )
        personas = [found[persona_id][1]]
    return journey, personas


def _parse_day(value: str | None, option: str) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        fail(f"{option} {value!r}: expected a date like 2026-01-31")


def _live(
    workspace: Path,
    journey: JourneyMap,
    persona: Persona | None,
    window: tuple[datetime | None, datetime | None] | None,
    *,
    with_charts: bool,
    personas: Sequence[Persona] = (),
) -> tuple[MapFigures, ChartsData | None]:
    """Measure ``journey`` on the workspace's events: the figures, and the charts' data."""
    from journeylens.analytics.binding import Population, bind
    from journeylens.analytics.livemap import compute_livemap
    from journeylens.engine.frames import cache
    from journeylens.engine.workspace import Workspace, WorkspaceError
    from journeylens.render.figures import figures_from_livemap

    try:
        ws = Workspace.open(workspace)
        con = ws.store.connect(read_only=True)
    except (WorkspaceError, Exception) as exc:  # the store raises its own error types
        fail(f"--workspace {workspace}: {exc}")
    events = ws.store.events(con)
    population = Population.for_persona(persona) if persona is not None else None
    customers = (
        con.table("customers") if population is not None and population.needs_customers else None
    )
    livemap = compute_livemap(
        events, journey, population=population, customers=customers, window=window
    )
    figures = figures_from_livemap(livemap.to_dict())
    if not with_charts:
        return figures, None
    # The other analytics run on one bound, cached frame of the same population and window
    # (binding once and caching matters: conformance on an uncached frame rebinds per query).
    scope = Population(
        segment=persona.segment if persona is not None else None,
        start=window[0] if window else None,
        end=window[1] if window else None,
    )
    bound = cache(bind(scope.apply(events, customers), journey))
    return figures, _charts_data(journey, livemap, bound, events, con, personas)


def _charts_data(
    journey: JourneyMap,
    livemap: Any,
    bound: Any,
    events: Any,
    con: Any,
    personas: Sequence[Persona],
) -> ChartsData:
    """Plain chart inputs from analytics results (each call is a library function)."""
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
    import math

    from journeylens.analytics.binding import evaluate_outcomes
    from journeylens.analytics.outcomes import compare_outcome
    from journeylens.engine.frames import cache
    from journeylens.render.charts import OddsRatioRow

    if not journey.outcomes:
        return [], ""
    outcome = journey.outcomes[0]
    comparison = compare_outcome(bound, cache(evaluate_outcomes(bound, journey)), outcome.id)
    tested = [
        f
        for f in comparison.features
        if f.odds_ratio is not None and f.or_low is not None and f.or_high is not None
        and f.flag is None and f.kind in ("touchpoint", "channel")
        # OR beyond 100 (or under 1/100) marks a feature that is part of the outcome itself
        # (e.g. the payment confirmation for "converted"): it would only squash the plot.
        and 0.01 <= f.odds_ratio <= 100
    ]  # fmt: skip
    tested.sort(key=lambda f: -abs(math.log(f.odds_ratio or 1.0)))
    rows = [
        OddsRatioRow(
            f"{f.kind}: {f.feature}",
            f.odds_ratio or 1.0,
            f.or_low or 0.0,
            f.or_high or 0.0,
            f.q_value,
        )
        for f in tested[:15]
    ]
    return rows, outcome.name


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


def _findings(journey: JourneyMap, figures: MapFigures) -> list[str]:
    """Plain-words findings read off the figures: the biggest drop-offs and the weakest
    survey scores (the insights layer will add more)."""
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


def register(app: typer.Typer) -> None:
    """Add ``render`` and ``report`` to the main app."""

    @app.command("render")
    def render_cmd(
        map_path: MapArg,
        output: Annotated[Path, typer.Option("--output", "-o", help="The file to write.")],
        to: Annotated[
            RenderFormat | None,
            typer.Option(
                "--to",
                help="svg, png or pdf (default: from the output's suffix).",
                case_sensitive=False,
            ),
        ] = None,
        workspace: WorkspaceOpt = None,
        persona: PersonaOpt = None,
        scale: Annotated[float, typer.Option(help="PNG only: pixels per SVG unit.")] = 1.0,
    ) -> None:
        """Draw a journey map as SVG, PNG or PDF: the designed map, or the live map with
        --workspace.

        Example: journeylens render shop.journey.yaml --to png -o shop.png
        """
        from journeylens.render.export import ExportUnavailableError, render_pdf, render_png
        from journeylens.render.svg import render_map_svg

        fmt = to
        if fmt is None:
            suffix = output.suffix.lower().lstrip(".")
            if suffix not in {f.value for f in RenderFormat}:
                fail(f"-o {output}: cannot tell the format from the suffix; pass --to svg|png|pdf")
            fmt = RenderFormat(suffix)
        journey, personas = _load(map_path, persona)
        figures = None
        if workspace is not None:
            selected = personas[0] if persona is not None else None
            figures, _ = _live(workspace, journey, selected, None, with_charts=False)
        svg = render_map_svg(journey, personas[:1], figures)
        output.parent.mkdir(parents=True, exist_ok=True)
        try:
            if fmt is RenderFormat.SVG:
                output.write_text(svg, encoding="utf-8")
            elif fmt is RenderFormat.PNG:
                output.write_bytes(render_png(svg, scale=scale))
            else:
                output.write_bytes(render_pdf(svg))
        except ExportUnavailableError as exc:
            fail(str(exc))
        typer.echo(f"wrote {output}", err=True)

    @app.command("report")
    def report_cmd(
        map_path: MapArg,
        output: Annotated[
            Path, typer.Option("--output", "-o", help="The HTML file to write.")
        ] = Path("report.html"),
        workspace: WorkspaceOpt = None,
        persona: PersonaOpt = None,
        start: Annotated[
            str | None, typer.Option("--from", help="First day of the window (2026-01-01).")
        ] = None,
        end: Annotated[
            str | None, typer.Option("--to", help="Day after the window ends (exclusive).")
        ] = None,
        title: Annotated[str | None, typer.Option(help="Report title.")] = None,
    ) -> None:
        """Write one self-contained HTML report (opens with no network): the live map, the
        charts with their tables, planned vs actual and the top findings. Without
        --workspace it shows the designed map.

        Example: journeylens report shop.journey.yaml --workspace ws -o report.html
        """
        from journeylens.render.charts import ChartsUnavailableError
        from journeylens.render.report import render_report_html

        journey, personas = _load(map_path, persona)
        window = (_parse_day(start, "--from"), _parse_day(end, "--to"))
        figures = None
        charts_data = None
        findings: list[str] = []
        if workspace is not None:
            selected = personas[0] if persona is not None else None
            figures, charts_data = _live(
                workspace,
                journey,
                selected,
                window if any(window) else None,
                with_charts=True,
                personas=personas,
            )
            findings = _findings(journey, figures)
        try:
            html = render_report_html(
                journey, personas[:1], figures, charts_data, findings, title=title
            )
        except ChartsUnavailableError as exc:
            fail(str(exc))
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(html, encoding="utf-8")
        typer.echo(f"wrote {output}", err=True)
