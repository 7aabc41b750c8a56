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
from typing import TYPE_CHECKING, Annotated

import typer

from journeylens.cli._output import EXIT_INVALID, fail

if TYPE_CHECKING:
    from journeylens.insights.report_data import ReportData
    from journeylens.model import JourneyMap, Persona
    from journeylens.render.figures import MapFigures
    from journeylens.render.report import ChartsData, Finding


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
) -> tuple[MapFigures, ReportData | None]:
    """Measure ``journey`` on the workspace's events: the figures, and the report's data."""
    from journeylens.analytics.binding import Population, bind
    from journeylens.analytics.emotion import with_sentiment
    from journeylens.analytics.livemap import compute_livemap
    from journeylens.engine.frames import cache, to_lazy
    from journeylens.engine.workspace import Workspace, WorkspaceError
    from journeylens.insights.report_data import build_report_data
    from journeylens.render.figures import figures_from_livemap

    try:
        ws = Workspace.open(workspace)
        con = ws.store.connect(read_only=True)
    except (WorkspaceError, Exception) as exc:  # the store raises its own error types
        fail(f"--workspace {workspace}: {exc}")
    # Texts repeat a lot: score each distinct one once, not every row at every level.
    events = with_sentiment(to_lazy(ws.store.events(con)))
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
    report = build_report_data(
        journey, livemap, bound, events, con, personas, figures, as_of=livemap.data_end
    )
    return figures, report


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
        charts_data: ChartsData | None = None
        findings: Sequence[Finding] = ()
        if workspace is not None:
            selected = personas[0] if persona is not None else None
            figures, report = _live(
                workspace,
                journey,
                selected,
                window if any(window) else None,
                with_charts=True,
                personas=personas,
            )
            if report is not None:
                charts_data, findings = report.charts, report.findings
        try:
            html = render_report_html(
                journey, personas[:1], figures, charts_data, findings, title=title
            )
        except ChartsUnavailableError as exc:
            fail(str(exc))
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(html, encoding="utf-8")
        typer.echo(f"wrote {output}", err=True)
