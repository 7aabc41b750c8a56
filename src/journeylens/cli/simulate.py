"""``journeylens simulate``: synthetic multi-source journeys with planted effects.

The command parses arguments, loads the map, personas and scenario, and calls
:func:`journeylens.simulate.run.simulate` (what a notebook user calls too); it shows a
Rich progress bar and a summary table of rows per source.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from journeylens.cli._output import (
    EXIT_INVALID,
    FORMAT_OPTION_HELP,
    OutputFormat,
    console,
    echo_json,
    echo_lines,
    fail,
)

if TYPE_CHECKING:
    from journeylens.model import JourneyMap, Persona
    from journeylens.simulate.scenario import Scenario


def _load_inputs(
    map_arg: str, persona_paths: list[Path], scenario_path: Path | None
) -> tuple[JourneyMap, list[Persona], Scenario]:
    """Map (a file, or a built-in template name), its personas and the scenario."""
    from journeylens.formats.io import DocumentError, find_personas, load_map, load_persona
    from journeylens.simulate.scenario import Scenario, builtin_scenario, load_scenario

    path = Path(map_arg)
    try:
        if path.exists():
            journey = load_map(path)
            if persona_paths:
                personas = [load_persona(p) for p in persona_paths]
            else:
                found = find_personas(path.parent)
                personas = [found[k][1] for k in sorted(found)]
        else:
            from journeylens.templates import (
                UnknownTemplateError,
                get_template,
                get_template_personas,
            )

            try:
                journey = get_template(map_arg)
            except UnknownTemplateError as exc:
                fail(f"{map_arg}: no such map file, and {exc}")
            personas = (
                [load_persona(p) for p in persona_paths]
                if persona_paths
                else get_template_personas(map_arg)
            )
        if scenario_path is not None:
            scenario = load_scenario(scenario_path)
        else:
            scenario = builtin_scenario(journey.id) or Scenario()
    except DocumentError as exc:
        echo_lines(exc.issues, err=True)
        raise typer.Exit(EXIT_INVALID) from None
    return journey, personas, scenario


def simulate_command(
    map_arg: Annotated[
        str,
        typer.Option(
            "--map",
            help="A *.journey.yaml file, or the name of a built-in template (online-course).",
        ),
    ],
    out: Annotated[Path, typer.Option("--out", help="Folder to write the sources into.")],
    customers: Annotated[int, typer.Option("--customers", min=1, help="Customers to simulate.")],
    personas: Annotated[
        list[Path] | None,
        typer.Option(
            "--personas", help="Persona files (default: every *.persona.yaml beside the map)."
        ),
    ] = None,
    scenario: Annotated[
        Path | None,
        typer.Option(
            "--scenario",
            help="Scenario YAML (behaviour + planted effects); default: the map's built-in one.",
        ),
    ] = None,
    start: Annotated[
        str, typer.Option("--start", help="First day of the window (YYYY-MM-DD).")
    ] = "2026-01-05",
    days: Annotated[int, typer.Option("--days", min=1, help="Length of the window in days.")] = 180,
    seed: Annotated[int, typer.Option("--seed", help="Random seed (same seed, same bytes).")] = 42,
    dirty: Annotated[
        float,
        typer.Option("--dirty", min=0.0, max=0.5, help="Share of records to break (bad records)."),
    ] = 0.0,
    chunk_size: Annotated[
        int, typer.Option("--chunk-size", min=100, help="Customers per chunk (bounds memory).")
    ] = 50_000,
    workers: Annotated[
        int,
        typer.Option("--workers", min=1, help="Processes simulating chunks (same output bytes)."),
    ] = 1,
    output_format: Annotated[
        OutputFormat,
        typer.Option("--format", "-f", help=FORMAT_OPTION_HELP, case_sensitive=False),
    ] = OutputFormat.TEXT,
) -> None:
    """Simulate customers walking a journey map; write each source in its native shape.

    Example: journeylens simulate --map online-course --customers 10000 --out demo-data
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn
    from rich.table import Table

    from journeylens.simulate.plan import PlanError
    from journeylens.simulate.run import simulate

    try:
        first_day = date.fromisoformat(start)
    except ValueError:
        fail(f"--start: expected a date like 2026-01-05, got {start!r}")
    journey, persona_list, scen = _load_inputs(map_arg, personas or [], scenario)
    err = console(stderr=True)
    try:
        with Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=err,
            transient=True,
        ) as bar:
            task = bar.add_task("customers", total=customers)
            result = simulate(
                journey,
                persona_list,
                scen,
                out,
                customers,
                start=first_day,
                days=days,
                seed=seed,
                dirty=dirty,
                chunk_size=chunk_size,
                workers=workers,
                progress=lambda done: bar.update(task, completed=done),
            )
    except PlanError as exc:
        where = f"{scenario}: " if scenario is not None and "scenario" in str(exc) else ""
        fail(f"{where}{exc}", EXIT_INVALID)
    if output_format is OutputFormat.JSON:
        echo_json(result.to_dict())
        return
    table = Table(title=f"{journey.id}, {customers:,} customers")
    table.add_column("source folder")
    table.add_column("rows", justify="right")
    for folder, n in result.rows.items():
        table.add_row(folder, f"{n:,}")
    table.add_row("bad records", f"{sum(result.dirty.values()):,}")
    console().print(table)


def register(app: typer.Typer) -> None:
    """Add this area's commands to the main app."""
    app.command("simulate")(simulate_command)
