"""``journeylens analyze …``: measure the journey on the events.

``EVENTS`` is the workspace's event store (default, found like every other command, or
named with ``--workspace``) or a CSV / Parquet / JSON-lines file whose column roles are
given by ``--customer-col``, ``--session-col``, ``--event-col``, ``--time-col``
(``--unit session`` without a session column computes 30-minute sessions). Every
command prints a Rich table (default), ``--format json`` (the shapes documented in
docs/usage/analytics.md, which scripts rely on) or ``--format csv``.

The commands hold no analytics logic: each calls one function of
:mod:`journeylens.analytics` and prints its result. More commands (``compare``, ``survey``,
``conformance``, ``map``) register into :data:`analyze_app` from
``journeylens.cli.analyze_map`` when that module is present.
"""

from __future__ import annotations

import importlib
import io
import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import narwhals as nw
import pyarrow as pa
import pyarrow.csv as pacsv
import typer
from rich.table import Table

from journeylens.analytics import (
    AnalyticsError,
    bind,
    flows,
    funnel,
    sessionize,
    sessions,
    step_matrix,
    top_paths,
    transitions,
)
from journeylens.engine.frames import SESSION, ColumnRoles, FrameError, to_lazy
from journeylens.engine.store import StoreError
from journeylens.engine.workspace import Workspace, WorkspaceError
from journeylens.formats.io import DocumentError, load_map
from journeylens.model import JourneyMap

from ._output import EXIT_INVALID, console, fail

analyze_app = typer.Typer(
    name="analyze",
    help=(
        "Measure the journey: funnels, transitions, step matrix, sessions, paths, flows.\n\n"
        "Example: journeylens analyze funnel events.csv --steps view,cart,purchase --window 7d"
    ),
    no_args_is_help=True,
    rich_markup_mode="rich",
)


class Format(StrEnum):
    """How a result is printed."""

    TABLE = "table"
    JSON = "json"
    CSV = "csv"


class UnitChoice(StrEnum):
    """The unit of a path."""

    CUSTOMER = "customer"
    SESSION = "session"


class EngineChoice(StrEnum):
    """The engine that runs the analysis."""

    DUCKDB = "duckdb"
    POLARS = "polars"
    SPARK = "spark"


EventsArg = Annotated[
    Path | None,
    typer.Argument(
        help="A CSV / Parquet / JSON-lines file of events (default: the workspace's event store).",
        show_default=False,
    ),
]
WorkspaceOpt = Annotated[
    Path | None,
    typer.Option("--workspace", "-w", help="Workspace folder (default: the nearest one)."),
]
CustomerCol = Annotated[
    str | None,
    typer.Option("--customer-col", help="Customer column (default customer_id or user_id)."),
]
SessionCol = Annotated[
    str | None, typer.Option("--session-col", help="Session column (default session_id).")
]
EventCol = Annotated[
    str | None, typer.Option("--event-col", help="Event name column (default event_name or event).")
]
TimeCol = Annotated[
    str | None, typer.Option("--time-col", help="Time column (default occurred_at or timestamp).")
]
UnitOpt = Annotated[
    UnitChoice, typer.Option("--unit", help="A path is one customer or one session.")
]
FormatOpt = Annotated[Format, typer.Option("--format", "-f", help="table, json or csv.")]
EngineOpt = Annotated[EngineChoice, typer.Option("--engine", help="duckdb, polars or spark.")]


def load_events(
    events: Path | None,
    *,
    workspace: Path | None = None,
    customer_col: str | None = None,
    session_col: str | None = None,
    event_col: str | None = None,
    time_col: str | None = None,
    engine: EngineChoice = EngineChoice.DUCKDB,
) -> nw.LazyFrame[Any]:
    """The events a command analyses (a file, else the workspace store); usage errors exit 2."""
    roles = ColumnRoles(customer_col, session_col, event_col, time_col)
    try:
        if events is not None:
            return to_lazy(events, engine=engine.value, columns=roles)
        ws = Workspace.find(explicit=workspace)
        return to_lazy(ws, columns=roles)
    except (FrameError, WorkspaceError, StoreError) as exc:
        fail(str(exc))


def for_unit(lf: nw.LazyFrame[Any], unit: UnitChoice) -> nw.LazyFrame[Any]:
    """Events ready for ``unit``: with no session column, sessions are computed (30 min)."""
    if unit is UnitChoice.SESSION and SESSION not in lf.collect_schema().names():
        return sessionize(lf)
    return lf


def load_journey_map(path: Path) -> JourneyMap:
    """A map file; validation problems are printed one per line and exit 1."""
    try:
        return load_map(path)
    except DocumentError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(EXIT_INVALID) from None
    except OSError as exc:
        fail(f"{path}: {exc}")


def emit(data: dict[str, Any], frame: pa.Table, fmt: Format, title: str = "") -> None:
    """Print a result: JSON of ``data``, CSV of ``frame``, or ``frame`` as a Rich table."""
    if fmt is Format.JSON:
        typer.echo(json.dumps(data, indent=2, ensure_ascii=False))
        return
    if fmt is Format.CSV:
        buf = io.BytesIO()
        pacsv.write_csv(frame, buf)
        typer.echo(buf.getvalue().decode("utf-8"), nl=False)
        return
    table = Table(title=title or None)
    for name in frame.column_names:
        table.add_column(
            name, justify="left" if pa.types.is_string(frame.schema.field(name).type) else "right"
        )
    for row in frame.to_pylist():
        table.add_row(*[_cell(v) for v in row.values()])
    console().print(table)


def _cell(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _run(fn: Any, *args: Any, **kwargs: Any) -> Any:
    try:
        return fn(*args, **kwargs)
    except (AnalyticsError, FrameError, ValueError) as exc:
        fail(str(exc))


@analyze_app.command("funnel")
def funnel_cmd(
    events: EventsArg = None,
    steps: Annotated[
        str, typer.Option("--steps", help="Comma-separated steps, e.g. view,cart,buy.")
    ] = "",
    window: Annotated[
        str | None, typer.Option("--window", help="Conversion window, e.g. 30m, 7d (default none).")
    ] = None,
    unit: UnitOpt = UnitChoice.CUSTOMER,
    fmt: FormatOpt = Format.TABLE,
    workspace: WorkspaceOpt = None,
    customer_col: CustomerCol = None,
    session_col: SessionCol = None,
    event_col: EventCol = None,
    time_col: TimeCol = None,
    engine: EngineOpt = EngineChoice.DUCKDB,
) -> None:
    """Ordered funnel: units reaching each step, the three named rates, time to convert.

    Example: journeylens analyze funnel events.csv --steps page_view,add_to_cart,purchase --window 7d
    """
    names = [s.strip() for s in steps.split(",") if s.strip()]
    if not names:
        fail("--steps needs at least one step, e.g. --steps view,cart,purchase")
    lf = load_events(
        events,
        workspace=workspace,
        customer_col=customer_col,
        session_col=session_col,
        event_col=event_col,
        time_col=time_col,
        engine=engine,
    )
    result = _run(funnel, for_unit(lf, unit), names, unit=unit.value, window=window)
    emit(result.to_dict(), result.to_frame(), fmt, f"Funnel ({result.total_units} {unit.value}s)")


@analyze_app.command("transitions")
def transitions_cmd(
    events: EventsArg = None,
    markers: Annotated[bool, typer.Option("--markers", help="Add path_start / path_end.")] = False,
    unit: UnitOpt = UnitChoice.CUSTOMER,
    fmt: FormatOpt = Format.TABLE,
    workspace: WorkspaceOpt = None,
    customer_col: CustomerCol = None,
    session_col: SessionCol = None,
    event_col: EventCol = None,
    time_col: TimeCol = None,
    engine: EngineOpt = EngineChoice.DUCKDB,
) -> None:
    """Directly-follows graph: count, unique paths, probability, median time per edge.

    Example: journeylens analyze transitions events.csv --markers --format json
    """
    lf = load_events(
        events,
        workspace=workspace,
        customer_col=customer_col,
        session_col=session_col,
        event_col=event_col,
        time_col=time_col,
        engine=engine,
    )
    result = _run(transitions, for_unit(lf, unit), unit=unit.value, markers=markers)
    data = {
        "unit": result.unit,
        "transitions": [
            {
                "from": t.from_,
                "to": t.to,
                "count": t.count,
                "unique_paths": t.unique_paths,
                "probability": t.probability,
                "median_time_s": t.median_time_s,
            }
            for t in result.transitions
        ],
    }
    emit(data, result.to_frame(), fmt, f"Transitions ({result.total_transitions})")


@analyze_app.command("step-matrix")
def step_matrix_cmd(
    events: EventsArg = None,
    max_steps: Annotated[
        int, typer.Option("--max-steps", min=1, help="Number of step columns K.")
    ] = 10,
    unit: UnitOpt = UnitChoice.CUSTOMER,
    fmt: FormatOpt = Format.TABLE,
    workspace: WorkspaceOpt = None,
    customer_col: CustomerCol = None,
    session_col: SessionCol = None,
    event_col: EventCol = None,
    time_col: TimeCol = None,
    engine: EngineOpt = EngineChoice.DUCKDB,
) -> None:
    """Step matrix: share of paths with each event at steps 1 … K (columns sum to 1).

    Example: journeylens analyze step-matrix events.csv --max-steps 8
    """
    lf = load_events(
        events,
        workspace=workspace,
        customer_col=customer_col,
        session_col=session_col,
        event_col=event_col,
        time_col=time_col,
        engine=engine,
    )
    result = _run(step_matrix, for_unit(lf, unit), unit=unit.value, max_steps=max_steps)
    emit(result.to_dict(), result.to_frame(), fmt, f"Step matrix ({result.paths} paths)")


@analyze_app.command("sessions")
def sessions_cmd(
    events: EventsArg = None,
    timeout: Annotated[
        str, typer.Option("--timeout", help="Gap that starts a new session.")
    ] = "30m",
    keep_source: Annotated[
        bool, typer.Option("--keep-source", help="Keep session ids the source supplies.")
    ] = False,
    fmt: FormatOpt = Format.TABLE,
    workspace: WorkspaceOpt = None,
    customer_col: CustomerCol = None,
    session_col: SessionCol = None,
    event_col: EventCol = None,
    time_col: TimeCol = None,
    engine: EngineOpt = EngineChoice.DUCKDB,
) -> None:
    """Sessions: a new one starts after a gap strictly longer than --timeout.

    Example: journeylens analyze sessions events.csv --timeout 30m
    """
    lf = load_events(
        events,
        workspace=workspace,
        customer_col=customer_col,
        session_col=session_col,
        event_col=event_col,
        time_col=time_col,
        engine=engine,
    )
    result = _run(sessions, lf, timeout=timeout, keep_source=keep_source)
    emit(
        result.to_dict(),
        result.to_frame(),
        fmt,
        f"{result.sessions} sessions of {result.customers} customers",
    )


@analyze_app.command("paths")
def paths_cmd(
    events: EventsArg = None,
    top: Annotated[int, typer.Option("--top", min=1, help="How many variants.")] = 20,
    max_length: Annotated[
        int, typer.Option("--max-length", min=1, help="Cut paths after this many events.")
    ] = 10,
    collapse: Annotated[
        bool, typer.Option("--collapse", help="Count consecutive repeats once.")
    ] = False,
    unit: UnitOpt = UnitChoice.CUSTOMER,
    fmt: FormatOpt = Format.TABLE,
    workspace: WorkspaceOpt = None,
    customer_col: CustomerCol = None,
    session_col: SessionCol = None,
    event_col: EventCol = None,
    time_col: TimeCol = None,
    engine: EngineOpt = EngineChoice.DUCKDB,
) -> None:
    """Top paths (variants): the most common event sequences.

    Example: journeylens analyze paths events.csv --top 20
    """
    lf = load_events(
        events,
        workspace=workspace,
        customer_col=customer_col,
        session_col=session_col,
        event_col=event_col,
        time_col=time_col,
        engine=engine,
    )
    result = _run(
        top_paths,
        for_unit(lf, unit),
        unit=unit.value,
        max_length=max_length,
        top=top,
        collapse=collapse,
    )
    emit(result.to_dict(), result.to_frame(), fmt, f"Top paths of {result.total_paths}")


@analyze_app.command("flows")
def flows_cmd(
    events: EventsArg = None,
    map_file: Annotated[
        Path | None, typer.Option("--map", "-m", help="The journey map to bind.")
    ] = None,
    level: Annotated[str, typer.Option("--level", help="stage or step.")] = "stage",
    markers: Annotated[bool, typer.Option("--markers", help="Add path_start / path_end.")] = False,
    unit: UnitOpt = UnitChoice.CUSTOMER,
    fmt: FormatOpt = Format.TABLE,
    workspace: WorkspaceOpt = None,
    customer_col: CustomerCol = None,
    session_col: SessionCol = None,
    event_col: EventCol = None,
    time_col: TimeCol = None,
    engine: EngineOpt = EngineChoice.DUCKDB,
) -> None:
    """Flows between stages or steps of a map (Sankey data: source, target, value).

    Example: journeylens analyze flows events.csv --map shop.journey.yaml --level stage
    """
    if map_file is None:
        fail("--map MAP is required: flows are between the map's stages or steps")
    if level not in ("stage", "step"):
        fail(f"--level must be stage or step, got {level!r}")
    jm = load_journey_map(map_file)
    lf = load_events(
        events,
        workspace=workspace,
        customer_col=customer_col,
        session_col=session_col,
        event_col=event_col,
        time_col=time_col,
        engine=engine,
    )
    bound = _run(bind, for_unit(lf, unit), jm, unit=unit.value)
    result = _run(flows, bound, level=level, unit=unit.value, markers=markers)
    emit(result.to_dict(), result.to_frame(), fmt, f"Flows between {level}s")


_extras_registered = False


def register(app: typer.Typer) -> None:
    """Add the ``analyze`` sub-app (and the map commands of ``analyze_map`` when present)."""
    global _extras_registered
    if not _extras_registered:
        try:
            extra = importlib.import_module("journeylens.cli.analyze_map")
        except ModuleNotFoundError as exc:
            if exc.name != "journeylens.cli.analyze_map":
                raise
        else:
            extra.register(analyze_app)
        _extras_registered = True
    app.add_typer(analyze_app, name="analyze")
