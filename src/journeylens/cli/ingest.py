"""``journeylens`` commands of the ingest area: workspace, ingestion, quarantine, identities.

Each command is a thin shell over a function of ``journeylens.events`` or
``journeylens.engine`` that returns plain data (the same function a notebook calls).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from journeylens.cli._output import EXIT_USAGE, OutputFormat, console, echo_json, fail

# Only the format names are needed to build --help; the rest of journeylens.events and
# the engine (DuckDB) are imported inside the commands so the CLI starts fast.
from journeylens.events.formats import NAMED_FORMATS

if TYPE_CHECKING:
    import duckdb

    from journeylens.engine.workspace import Workspace
    from journeylens.events.runner import RunResult, SourceSpec

WORKSPACE_HELP = "Workspace folder (default: the nearest folder with journeylens.toml)."
MANIFEST_SCHEMA = "journeylens/simulation/v1"
WorkspaceOpt = Annotated[Path | None, typer.Option("--workspace", "-w", help=WORKSPACE_HELP)]
OutputOpt = Annotated[OutputFormat, typer.Option("--output", help="text or json")]


def _workspace(explicit: Path | None) -> Workspace:
    from journeylens.engine.workspace import Workspace, WorkspaceError

    try:
        return Workspace.find(explicit=explicit)
    except WorkspaceError as exc:
        fail(str(exc))


def _connect(ws: Workspace, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    from journeylens.engine.store import StoreError
    from journeylens.engine.workspace import WorkspaceError

    try:
        return ws.store.connect(read_only=read_only)
    except (StoreError, WorkspaceError) as exc:
        fail(str(exc))


def manifest_specs(folder: Path) -> list[SourceSpec]:
    """The sources listed in ``folder/manifest.json`` (a simulator output folder)."""
    from journeylens.events.runner import IngestError, SourceSpec

    path = folder / "manifest.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise IngestError(f"{path}: unreadable manifest: {exc}") from exc
    sources = data.get("sources") if isinstance(data, dict) else None
    if not isinstance(sources, list):
        raise IngestError(f"{path}: expected an object with a `sources` list")
    specs = []
    for i, entry in enumerate(sources):
        if not isinstance(entry, dict) or not {"path", "format"} <= entry.keys():
            raise IngestError(f"{path}: sources[{i}]: expected {{path, source, format}}")
        if entry["format"] not in NAMED_FORMATS:
            raise IngestError(
                f"{path}: sources[{i}].format {entry['format']!r}: expected one of "
                f"{', '.join(sorted(NAMED_FORMATS))}"
            )
        specs.append(
            SourceSpec(
                (str(folder / str(entry["path"])),), str(entry["format"]), entry.get("source")
            )
        )
    # CRM first: its e-mail ↔ customer_id edges are then in place for the same run.
    return sorted(specs, key=lambda s: s.format != "crm")


def _print_run(result: RunResult, fmt: OutputFormat) -> None:
    from rich.table import Table

    if fmt is OutputFormat.JSON:
        echo_json(
            {"run_id": result.run_id, "sources": [dataclasses.asdict(s) for s in result.sources]}
        )
        return
    table = Table(title=f"ingest run {result.run_id}")
    for col in (
        "source",
        "format",
        "files",
        "read",
        "stored",
        "quarantined",
        "duplicate",
        "events",
    ):
        table.add_column(col, justify="right" if col not in ("source", "format") else "left")
    for s in result.sources:
        table.add_row(
            s.source,
            s.format,
            str(len(s.files)),
            f"{s.rows_read:,}",
            f"{s.rows_stored:,}",
            f"{s.rows_quarantined:,}",
            f"{s.rows_duplicate:,}",
            f"{s.events_stored:,}",
        )
    console().print(table)
    if any(s.rows_quarantined for s in result.sources):
        typer.echo("see the refused records: journeylens quarantine list --run latest")


def _to_jsonable(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {k: _to_jsonable(v) for k, v in dataclasses.asdict(value).items()}
    return value


def register(app: typer.Typer) -> None:
    """Add this area's commands to the main app."""

    @app.command("init")
    def init_cmd(
        directory: Annotated[Path, typer.Argument(help="Folder of the new workspace.")] = Path("."),
    ) -> None:
        """Create a workspace: journeylens.toml, maps/ and the event store.

        Example: journeylens init shop
        """
        from journeylens.engine.store import StoreError
        from journeylens.engine.workspace import Workspace, WorkspaceError

        try:
            ws = Workspace.init(directory)
        except (WorkspaceError, StoreError) as exc:
            fail(str(exc))
        typer.echo(f"workspace ready in {ws.root} (store {ws.store.path.name}, maps in maps/)")

    @app.command("ingest")
    def ingest_cmd(
        paths: Annotated[
            list[str],
            typer.Argument(
                help="Files, folders or globs; or a simulator output folder with manifest.json."
            ),
        ],
        source: Annotated[
            str | None, typer.Option("--source", help="Value of the source column.")
        ] = None,
        format: Annotated[
            str | None,
            typer.Option("--format", help=f"Named format: {', '.join(sorted(NAMED_FORMATS))}."),
        ] = None,
        mapping: Annotated[
            Path | None,
            typer.Option(
                "--mapping", help="YAML mapping file for a generic CSV / JSON lines / Parquet."
            ),
        ] = None,
        no_stitch: Annotated[
            bool,
            typer.Option(
                "--no-stitch", help="Skip identity stitching (run `journeylens stitch` later)."
            ),
        ] = False,
        workspace: WorkspaceOpt = None,
        output: OutputOpt = OutputFormat.TEXT,
    ) -> None:
        """Ingest source files into the event store (atomic; bad rows are quarantined).

        Example: journeylens ingest exports/orders/*.csv --format orders --source sales
        """
        from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeElapsedColumn

        from journeylens.events.mapping import MappingError, read_mapping
        from journeylens.events.runner import IngestError, IngestProgress, SourceSpec, ingest
        from journeylens.events.stitch import stitch

        ws = _workspace(workspace)
        try:
            if (
                len(paths) == 1
                and Path(paths[0]).is_dir()
                and (Path(paths[0]) / "manifest.json").is_file()
                and format is None
                and mapping is None
            ):
                specs = manifest_specs(Path(paths[0]))
            elif mapping is not None:
                specs = [
                    SourceSpec(tuple(paths), "mapping", source or "custom", read_mapping(mapping))
                ]
            elif format is not None:
                specs = [SourceSpec(tuple(paths), format, source)]
            else:
                fail("give --format F or --mapping FILE (or a folder with a manifest.json)")
        except (IngestError, MappingError) as exc:
            fail(str(exc))
        k, m = ws.max_users_per_identity, ws.max_identities_per_user
        con = _connect(ws)
        try:
            with Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                DownloadColumn(),
                TextColumn("{task.fields[files]}"),
                TimeElapsedColumn(),
                console=console(stderr=True),
                transient=True,
            ) as bar:
                task = bar.add_task("ingesting", total=None, files="")

                def progress(p: IngestProgress) -> None:
                    # advances with the bytes DuckDB has read, not only per file
                    bar.update(
                        task,
                        description=Path(p.path).name,
                        completed=p.bytes_done,
                        total=p.bytes_total,
                        files=f"file {p.file_no}/{p.files}",
                    )

                result = ingest(
                    con,
                    specs,
                    progress=progress,
                    after=None
                    if no_stitch
                    else lambda c: stitch(c, max_users_per_identity=k, max_identities_per_user=m),
                )
        except IngestError as exc:
            fail(str(exc))
        finally:
            con.close()
        _print_run(result, output)

    @app.command("stitch")
    def stitch_cmd(
        max_users: Annotated[
            int | None,
            typer.Option(
                "--max-users-per-identity",
                help="Over-merge guard (default from journeylens.toml, else 5).",
            ),
        ] = None,
        workspace: WorkspaceOpt = None,
    ) -> None:
        """Recompute customers from the identity graph of all stored events.

        Example: journeylens stitch --max-users-per-identity 3
        """
        from journeylens.events.stitch import stitch

        ws = _workspace(workspace)
        con = _connect(ws)
        try:
            con.execute("BEGIN TRANSACTION")
            res = stitch(
                con,
                max_users_per_identity=max_users or ws.max_users_per_identity,
                max_identities_per_user=ws.max_identities_per_user,
            )
            con.execute("COMMIT")
        finally:
            con.close()
        typer.echo(
            f"{res.customers:,} customers ({res.identified_customers:,} identified) from "
            f"{res.identities:,} identities and {res.edges:,} edges; {res.refused_edges:,} edges "
            f"refused; {res.iterations} rounds"
        )

    quarantine = typer.Typer(help="See, show and export quarantined records.", no_args_is_help=True)
    app.add_typer(quarantine, name="quarantine")

    run_opt = typer.Option(None, "--run", help="Run id, or 'latest'.")
    source_opt = typer.Option(None, "--source", help="Only this source.")
    reason_opt = typer.Option(None, "--reason", help="Only this reason (e.g. bad_timestamp).")

    @quarantine.command("list")
    def q_list(
        run: str | None = run_opt,
        source: str | None = source_opt,
        reason: str | None = reason_opt,
        workspace: WorkspaceOpt = None,
        output: OutputOpt = OutputFormat.TEXT,
    ) -> None:
        """Count quarantined records per run, source, file and reason.

        Example: journeylens quarantine list --run latest
        """
        from rich.table import Table

        from journeylens.events.quarantine import quarantine_summary

        con = _connect(_workspace(workspace), read_only=True)
        try:
            groups = quarantine_summary(con, run=run, source=source, reason=reason)
        finally:
            con.close()
        if output is OutputFormat.JSON:
            echo_json([_to_jsonable(g) for g in groups])
            return
        if not groups:
            typer.echo("no quarantined records")
            return
        table = Table()
        for col in ("run", "source", "file", "reason", "records", "first line"):
            table.add_column(col)
        for g in groups:
            table.add_row(g.run_id, g.source, g.file, g.reason, f"{g.records:,}", str(g.first_line))
        console().print(table)

    @quarantine.command("show")
    def q_show(
        run: str | None = run_opt,
        source: str | None = source_opt,
        reason: str | None = reason_opt,
        limit: Annotated[int, typer.Option("--limit", help="At most this many records.")] = 50,
        workspace: WorkspaceOpt = None,
    ) -> None:
        """Print quarantined records as `file:line: reason: field=value (expected …)`.

        Example: journeylens quarantine show --reason bad_timestamp --limit 10
        """
        from journeylens.events.quarantine import quarantine_records

        con = _connect(_workspace(workspace), read_only=True)
        try:
            records = quarantine_records(con, run=run, source=source, reason=reason, limit=limit)
        finally:
            con.close()
        for r in records:
            typer.echo(
                f"{r.file}:{r.line}: {r.reason}: {r.field}={r.value!r} (expected {r.expected})"
            )
            if r.raw is not None:
                typer.echo(f"    {r.raw[:300]}")

    @quarantine.command("export")
    def q_export(
        to: Annotated[Path, typer.Option("--to", help="CSV file (or .parquet) to write.")],
        run: str | None = run_opt,
        source: str | None = source_opt,
        reason: str | None = reason_opt,
        workspace: WorkspaceOpt = None,
    ) -> None:
        """Export quarantined records to fix them and re-ingest.

        Example: journeylens quarantine export --to refused.csv --run latest
        """
        from journeylens.events.quarantine import export_quarantine

        con = _connect(_workspace(workspace), read_only=True)
        try:
            n = export_quarantine(con, to, run=run, source=source, reason=reason)
        finally:
            con.close()
        typer.echo(f"wrote {n:,} records to {to}")

    identities = typer.Typer(help="The stitched identity graph.", no_args_is_help=True)
    app.add_typer(identities, name="identities")

    @identities.command("stats")
    def id_stats(
        top: Annotated[
            int, typer.Option("--top", help="How many largest clusters / refused ids.")
        ] = 10,
        workspace: WorkspaceOpt = None,
        output: OutputOpt = OutputFormat.TEXT,
    ) -> None:
        """Identities per customer, anonymous-only share, largest clusters, refused edges.

        Example: journeylens identities stats --top 5
        """
        from journeylens.events.stitch import identity_stats

        con = _connect(_workspace(workspace), read_only=True)
        try:
            stats = identity_stats(con, top=top)
        finally:
            con.close()
        if output is OutputFormat.JSON:
            echo_json(_to_jsonable(stats))
            return
        typer.echo(
            f"customers: {stats.customers:,} ({stats.identified:,} identified, "
            f"{stats.anonymous_only_share:.1%} anonymous only)"
        )
        typer.echo(
            f"identities per customer: mean {stats.identities_per_customer_mean:.2f}, "
            f"median {stats.identities_per_customer_median:g}, max {stats.identities_per_customer_max}"
        )
        typer.echo("largest clusters:")
        for c in stats.largest:
            typer.echo(f"  {c.customer_id}: {c.identities} identities")
        typer.echo(f"refused edges: {stats.refused_edges:,}")
        for r in stats.refused:
            typer.echo(f"  {r.identity_type} {r.identity_value}: {r.reason}, links {r.linked}")

    @app.command("export-events")
    def export_cmd(
        to: Annotated[Path, typer.Option("--to", help="Folder to write Parquet into.")],
        partition_by: Annotated[
            str | None,
            typer.Option("--partition-by", help="Hive-partition by this column (e.g. source)."),
        ] = None,
        workspace: WorkspaceOpt = None,
    ) -> None:
        """Write the canonical events as Parquet (for Spark, Polars, DuckDB).

        Example: journeylens export-events --to lake/events --partition-by source
        """
        from journeylens.engine.store import StoreError, export_events

        con = _connect(_workspace(workspace), read_only=True)
        try:
            n = export_events(con, to, partition_by=partition_by)
        except StoreError as exc:
            fail(str(exc), EXIT_USAGE)
        finally:
            con.close()
        typer.echo(f"wrote {n:,} events to {to} ({dt.datetime.now(dt.UTC):%H:%M:%S} UTC)")
