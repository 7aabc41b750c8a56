"""``journeylens demo``: the whole product in one command, on simulated data.

Creates a workspace with the online-course map and its personas, simulates customers across
every source with the built-in planted story, ingests and stitches them, measures the live
map, writes ``report.html`` and ``map.svg``, and prints where each planted problem shows.

The command only orchestrates: every number comes from a library function (the simulator,
ingestion, stitching, :func:`~journeylens.analytics.livemap.compute_livemap`,
:func:`~journeylens.insights.findings.check_planted_effects`, the renderers).
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from journeylens.cli._output import console, fail

if TYPE_CHECKING:
    from rich.console import Console

    from journeylens.analytics.livemap import LiveMap
    from journeylens.events.runner import RunResult
    from journeylens.insights.findings import PlantedChecks

TEMPLATE = "online-course"
DEFAULT_DIR = Path("journeylens-demo")
#: What a demo run creates inside DIR (``--force`` removes exactly these, nothing else).
_CREATED = ("raw", "journeylens.toml", "events.duckdb", "events.duckdb.wal", "report.html",
            "map.svg")  # fmt: skip


class _Phases:
    """Wall time of each phase, shown as the demo goes (a spinner per phase, then a
    ``✓ phase  12.3 s`` line) and kept for the summary."""

    def __init__(self, out: Console) -> None:
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        self.seconds: dict[str, float] = {}
        self.bar = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            TimeElapsedColumn(),
            console=out,
            transient=True,
        )

    @contextmanager
    def phase(self, name: str, what: str) -> Iterator[Callable[[str], None]]:
        """Run one phase under a spinner; the yielded function updates its description."""
        start = time.perf_counter()
        task = self.bar.add_task(f"{name}: {what}")
        yield lambda detail: self.bar.update(task, description=f"{name}: {detail}")
        self.bar.remove_task(task)
        self.seconds[name] = time.perf_counter() - start
        self.bar.console.print(f"[green]✓[/] {name:<9} {self.seconds[name]:6.1f} s  {what}")


def _prepare(directory: Path, force: bool) -> None:
    """Refuse a non-empty folder unless ``--force``; with it, remove what a demo creates."""
    if directory.exists() and not directory.is_dir():
        fail(f"{directory}: exists and is not a folder")
    if directory.is_dir() and any(directory.iterdir()):
        if not force:
            fail(f"{directory}: folder is not empty (use --force to replace an earlier demo)")
        for name in _CREATED:
            target = directory / name
            if target.is_dir():
                shutil.rmtree(target)
            elif target.exists():
                target.unlink()
        from journeylens.templates import MAP_SUFFIX, PERSONA_SUFFIX, get_template_personas

        maps = directory / "maps"
        for name in [TEMPLATE + MAP_SUFFIX] + [
            p.id + PERSONA_SUFFIX for p in get_template_personas(TEMPLATE)
        ]:
            (maps / name).unlink(missing_ok=True)


def _summary(
    out: Console,
    directory: Path,
    run: RunResult,
    customers: tuple[int, int],
    livemap: LiveMap,
    checks: PlantedChecks,
    seconds: dict[str, float],
) -> None:
    """The short Rich summary: counts, key figures, planted effects, how to open the report."""
    from rich.table import Table

    from journeylens.render.svg import format_share

    stored = sum(s.events_stored for s in run.sources)
    quarantined = sum(s.rows_quarantined for s in run.sources)
    duplicates = sum(s.rows_duplicate for s in run.sources)
    counts = Table(title="journeylens demo", show_header=False, title_justify="left")
    counts.add_column()
    counts.add_column(justify="right")
    counts.add_row("records read", f"{run.rows_read:,}")
    counts.add_row("events stored", f"{stored:,}")
    counts.add_row("quarantined records (bad rows, with reasons)", f"{quarantined:,}")
    counts.add_row("duplicates skipped", f"{duplicates:,}")
    counts.add_row("customers (stitched)", f"{customers[0]:,} ({customers[1]:,} identified)")
    for outcome, rate in livemap.outcome_rates.items():
        if rate is not None:
            counts.add_row(f"outcome: {outcome}", format_share(rate))
    if livemap.fitness is not None:
        counts.add_row("journeys in the designed stage order", format_share(livemap.fitness))
    if livemap.unbound_share is not None:
        counts.add_row("events no touchpoint matches", format_share(livemap.unbound_share))
    counts.add_row("total time", f"{sum(seconds.values()):.0f} s")
    out.print(counts)

    effects = Table(
        title=f"Planted problems: {checks.shown} of {len(checks.checks)} show in the data",
        title_justify="left",
    )
    effects.add_column("effect")
    effects.add_column("where it shows, measured vs planted", overflow="fold")
    effects.add_column("shows", justify="center")
    for c in checks.checks:
        effects.add_row(c.effect_id, c.text, "[green]yes[/]" if c.shows else "[red]no[/]")
    out.print(effects)
    report = (directory / "report.html").resolve()
    out.print(f"Open the report: [bold]{report.as_uri()}[/]")
    out.print(f"The live map alone: {(directory / 'map.svg').resolve().as_uri()}")
    out.print(
        f"Explore further: journeylens analyze map {directory}/maps/{TEMPLATE}.journey.yaml "
        f"--workspace {directory}\n"
        f"In the browser: journeylens serve --workspace {directory}"
    )


def demo_command(
    directory: Annotated[
        Path, typer.Argument(help="Folder of the demo workspace (created).")
    ] = DEFAULT_DIR,
    customers: Annotated[
        int, typer.Option("--customers", min=100, help="Customers to simulate.")
    ] = 100_000,
    seed: Annotated[int, typer.Option("--seed", help="Random seed of the simulation.")] = 42,
    dirty: Annotated[
        float,
        typer.Option(
            "--dirty", min=0.0, max=0.5, help="Share of source records to break (quarantined)."
        ),
    ] = 0.005,
    force: Annotated[
        bool, typer.Option("--force", help="Replace an earlier demo in a non-empty folder.")
    ] = False,
) -> None:
    """Run the whole product on simulated data: workspace, simulation of every source with
    planted problems, ingestion, stitching, the live map, report.html — and say where each
    planted problem shows.

    Example: journeylens demo --customers 20000
    """
    from journeylens.analytics.binding import bind
    from journeylens.analytics.emotion import with_sentiment
    from journeylens.analytics.livemap import compute_livemap
    from journeylens.cli.ingest import manifest_specs
    from journeylens.engine.frames import cache, to_lazy
    from journeylens.engine.store import StoreError
    from journeylens.engine.workspace import Workspace, WorkspaceError
    from journeylens.events.runner import IngestError, ingest
    from journeylens.events.stitch import stitch
    from journeylens.formats.io import find_personas, load_map
    from journeylens.insights.findings import check_planted_effects, planted_effects
    from journeylens.insights.report_data import build_report_data
    from journeylens.render.charts import ChartsUnavailableError
    from journeylens.render.figures import figures_from_livemap
    from journeylens.render.report import Finding, render_report_html
    from journeylens.render.svg import render_map_svg
    from journeylens.simulate.plan import PlanError
    from journeylens.simulate.run import simulate
    from journeylens.simulate.scenario import Scenario, builtin_scenario
    from journeylens.templates import create_from_template

    _prepare(directory, force)
    out = console()
    phases = _Phases(out)
    raw = directory / "raw"

    try:
        with phases.bar:
            with phases.phase("workspace", f"{directory} with the {TEMPLATE} map and its personas"):
                ws = Workspace.init(directory)
                create_from_template(TEMPLATE, ws.maps_dir)
                map_path = ws.maps_dir / f"{TEMPLATE}.journey.yaml"
                journey = load_map(map_path)
                found = find_personas(ws.maps_dir)
                personas = [found[k][1] for k in sorted(found)]

            with phases.phase("simulate", f"{customers:,} customers, every source → raw/") as show:
                simulate(
                    journey,
                    personas,
                    builtin_scenario(journey.id) or Scenario(),
                    raw,
                    customers,
                    seed=seed,
                    dirty=dirty,
                    progress=lambda done: show(f"{done:,} of {customers:,} customers"),
                )
            ground_truth: dict[str, Any] = json.loads(
                (raw / "ground_truth.json").read_text("utf-8")
            )

            con = ws.store.connect()
            try:
                with phases.phase(
                    "ingest", "every source of raw/manifest.json (no mapping files)"
                ) as show:
                    run = ingest(
                        con,
                        manifest_specs(raw),
                        progress=lambda p: show(
                            f"file {p.file_no} of {p.files}: {Path(p.path).name}"
                        ),
                    )
                with phases.phase("stitch", "identities → customers"):
                    con.execute("BEGIN TRANSACTION")
                    stitched = stitch(con, max_users_per_identity=ws.max_users_per_identity)
                    con.execute("COMMIT")
                with phases.phase("analyse", "live map, planted effects") as show:
                    events = with_sentiment(to_lazy(con.table("events")))
                    show("live map")
                    livemap = compute_livemap(events, journey)
                    show("binding the map once for the other analytics")
                    bound = cache(bind(events, journey))
                    show("planted effects")
                    checks = check_planted_effects(
                        bound,
                        journey,
                        planted_effects(ground_truth),
                        customers=con.table("customers"),
                        as_of=livemap.data_end,
                    )
                with phases.phase("report", "charts, report.html and map.svg"):
                    figures = figures_from_livemap(livemap.to_dict())
                    findings = [
                        Finding(c.text, title=c.effect_id) for c in checks.checks if c.shows
                    ]
                    report = build_report_data(
                        journey, livemap, bound, events, con, personas, figures,
                        as_of=livemap.data_end,
                    )  # fmt: skip
                    findings += report.findings
                    html = render_report_html(
                        journey,
                        personas[:1],
                        figures,
                        report.charts,
                        findings,
                        title=f"journeylens demo — {journey.title}",
                    )
                    (directory / "report.html").write_text(html, encoding="utf-8")
                    (directory / "map.svg").write_text(
                        render_map_svg(journey, personas[:1], figures), encoding="utf-8"
                    )
            finally:
                con.close()
    except (IngestError, StoreError, WorkspaceError, PlanError, ChartsUnavailableError,
            FileExistsError) as exc:  # fmt: skip
        # What went wrong, without a traceback: these errors name the file and field.
        fail(str(exc))
    _summary(
        out,
        directory,
        run,
        (stitched.customers, stitched.identified_customers),
        livemap,
        checks,
        phases.seconds,
    )


def register(app: typer.Typer) -> None:
    """Add ``demo`` to the main app."""
    app.command("demo")(demo_command)
