"""What the ``journeylens analyze`` commands share: their options, how they load events
and maps, and how they print a result.

Every analyze command reads ``EVENTS`` (a file, else the workspace's event store) with the
same six options (``--workspace``, ``--customer-col``, ``--session-col``, ``--event-col``,
``--time-col``, ``--engine``). :func:`event_source_options` adds them to a command and hands
them over as one :class:`EventSource`, so each command declares only its own options.

Heavy libraries (narwhals, pyarrow, the analytics and engine layers) are imported inside the
functions that use them: this module is loaded with the CLI, which must start fast.
"""

from __future__ import annotations

import functools
import inspect
import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from journeylens.cli._output import EXIT_INVALID, console, fail

if TYPE_CHECKING:
    import narwhals as nw
    import pyarrow as pa

    from journeylens.model import JourneyMap


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


@dataclass(frozen=True)
class EventSource:
    """Where a command's events come from: the values of the six shared options."""

    workspace: Path | None = None
    customer_col: str | None = None
    session_col: str | None = None
    event_col: str | None = None
    time_col: str | None = None
    engine: EngineChoice = EngineChoice.DUCKDB

    def load(self, events: Path | None) -> nw.LazyFrame[Any]:
        """The events: the file ``events`` if given, else the workspace store; usage errors
        (unreadable file, unknown column, no workspace) end the command with exit 2."""
        from journeylens.engine.frames import ColumnRoles, FrameError, to_lazy
        from journeylens.engine.store import StoreError
        from journeylens.engine.workspace import Workspace, WorkspaceError

        roles = ColumnRoles(self.customer_col, self.session_col, self.event_col, self.time_col)
        try:
            if events is not None:
                return to_lazy(events, engine=self.engine.value, columns=roles)
            ws = Workspace.find(explicit=self.workspace)
            return to_lazy(ws, columns=roles)
        except (FrameError, WorkspaceError, StoreError) as exc:
            fail(str(exc))


# The option each EventSource field comes from, with its default.
_SOURCE_OPTIONS: dict[str, tuple[Any, Any]] = {
    "workspace": (WorkspaceOpt, None),
    "customer_col": (CustomerCol, None),
    "session_col": (SessionCol, None),
    "event_col": (EventCol, None),
    "time_col": (TimeCol, None),
    "engine": (EngineOpt, EngineChoice.DUCKDB),
}

#: Where the shared options stand in ``--help``: the first analyze commands list the
#: workspace first, the map commands the engine first (kept so their help does not change).
WORKSPACE_FIRST = ("workspace", "customer_col", "session_col", "event_col", "time_col", "engine")
ENGINE_FIRST = ("engine", "customer_col", "session_col", "event_col", "time_col", "workspace")

F = TypeVar("F", bound=Callable[..., Any])


def event_source_options(order: tuple[str, ...] = WORKSPACE_FIRST) -> Callable[[F], F]:
    """Give a command the six shared options (after its own, in ``order``) and pass their
    values to it as one keyword argument ``source: EventSource``.

    Typer reads a command's parameters from its signature, so the wrapper shows the
    command's own parameters (without ``source``) followed by the shared ones.
    """
    if sorted(order) != sorted(_SOURCE_OPTIONS):
        raise ValueError(f"order must name each of {sorted(_SOURCE_OPTIONS)} once, got {order}")

    def decorate(fn: F) -> F:
        own = inspect.signature(fn, eval_str=True)
        if "source" not in own.parameters:
            raise TypeError(f"{fn.__name__} must take a `source: EventSource` parameter")
        kept = [p for p in own.parameters.values() if p.name != "source"]
        shared = [
            inspect.Parameter(
                name,
                inspect.Parameter.POSITIONAL_OR_KEYWORD,
                default=_SOURCE_OPTIONS[name][1],
                annotation=_SOURCE_OPTIONS[name][0],
            )
            for name in order
        ]

        @functools.wraps(fn)
        def command(*args: Any, **kwargs: Any) -> Any:
            values = {name: kwargs.pop(name, _SOURCE_OPTIONS[name][1]) for name in order}
            return fn(*args, source=EventSource(**values), **kwargs)

        params = [*kept, *shared]
        command.__signature__ = own.replace(parameters=params)  # type: ignore[attr-defined]
        command.__annotations__ = {p.name: p.annotation for p in params}
        return command  # type: ignore[return-value]

    return decorate


def for_unit(lf: nw.LazyFrame[Any], unit: UnitChoice) -> nw.LazyFrame[Any]:
    """Events ready for ``unit``: with no session column, sessions are computed (30 min)."""
    from journeylens.analytics import sessionize
    from journeylens.engine.frames import SESSION

    if unit is UnitChoice.SESSION and SESSION not in lf.collect_schema().names():
        return sessionize(lf)
    return lf


def load_journey_map(path: Path) -> JourneyMap:
    """A map file; validation problems are printed one per line and exit 1."""
    from journeylens.formats.io import DocumentError, load_map

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
    import pyarrow as pa
    import pyarrow.csv as pacsv
    from rich.table import Table

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
        table.add_row(*[cell(v) for v in row.values()])
    console().print(table)


def cell(value: Any) -> str:
    """A value as a table cell: ``–`` for none, floats to 4 significant digits.

    >>> cell(None), cell(0.123456), cell(12)
    ('–', '0.1235', '12')
    """
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)
