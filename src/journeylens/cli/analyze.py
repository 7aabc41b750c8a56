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
from pathlib import Path
from typing import Annotated, Any

import typer

from journeylens.cli._options import (
    EventsArg,
    EventSource,
    Format,
    FormatOpt,
    UnitChoice,
    UnitOpt,
    emit,
    event_source_options,
    for_unit,
    load_journey_map,
)
from journeylens.cli._output import fail

analyze_app = typer.Typer(
    name="analyze",
    help=(
        "Measure the journey: funnels, transitions, step matrix, sessions, paths, flows.\n\n"
        "Example: journeylens analyze funnel events.csv --steps view,cart,purchase --window 7d"
    ),
    no_args_is_help=True,
    rich_markup_mode="rich",
)


def _run(fn: Any, *args: Any, **kwargs: Any) -> Any:
    """Call an analytics function; its input errors end the command (exit 2) with the message."""
    from journeylens.analytics import AnalyticsError
    from journeylens.engine.frames import FrameError

    try:
        return fn(*args, **kwargs)
    except (AnalyticsError, FrameError, ValueError) as exc:
        fail(str(exc))


@analyze_app.command("funnel")
@event_source_options()
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
    *,
    source: EventSource,
) -> None:
    """Ordered funnel: units reaching each step, the three named rates, time to convert.

    Example: journeylens analyze funnel events.csv --steps page_view,add_to_cart,purchase --window 7d
    """
    from journeylens.analytics import funnel

    names = [s.strip() for s in steps.split(",") if s.strip()]
    if not names:
        fail("--steps needs at least one step, e.g. --steps view,cart,purchase")
    lf = source.load(events)
    result = _run(funnel, for_unit(lf, unit), names, unit=unit.value, window=window)
    emit(result.to_dict(), result.to_frame(), fmt, f"Funnel ({result.total_units} {unit.value}s)")


@analyze_app.command("transitions")
@event_source_options()
def transitions_cmd(
    events: EventsArg = None,
    markers: Annotated[bool, typer.Option("--markers", help="Add path_start / path_end.")] = False,
    unit: UnitOpt = UnitChoice.CUSTOMER,
    fmt: FormatOpt = Format.TABLE,
    *,
    source: EventSource,
) -> None:
    """Directly-follows graph: count, unique paths, probability, median time per edge.

    Example: journeylens analyze transitions events.csv --markers --format json
    """
    from journeylens.analytics import transitions

    lf = source.load(events)
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
@event_source_options()
def step_matrix_cmd(
    events: EventsArg = None,
    max_steps: Annotated[
        int, typer.Option("--max-steps", min=1, help="Number of step columns K.")
    ] = 10,
    unit: UnitOpt = UnitChoice.CUSTOMER,
    fmt: FormatOpt = Format.TABLE,
    *,
    source: EventSource,
) -> None:
    """Step matrix: share of paths with each event at steps 1 … K (columns sum to 1).

    Example: journeylens analyze step-matrix events.csv --max-steps 8
    """
    from journeylens.analytics import step_matrix

    lf = source.load(events)
    result = _run(step_matrix, for_unit(lf, unit), unit=unit.value, max_steps=max_steps)
    emit(result.to_dict(), result.to_frame(), fmt, f"Step matrix ({result.paths} paths)")


@analyze_app.command("sessions")
@event_source_options()
def sessions_cmd(
    events: EventsArg = None,
    timeout: Annotated[
        str, typer.Option("--timeout", help="Gap that starts a new session.")
    ] = "30m",
    keep_source: Annotated[
        bool, typer.Option("--keep-source", help="Keep session ids the source supplies.")
    ] = False,
    fmt: FormatOpt = Format.TABLE,
    *,
    source: EventSource,
) -> None:
    """Sessions: a new one starts after a gap strictly longer than --timeout.

    Example: journeylens analyze sessions events.csv --timeout 30m
    """
    from journeylens.analytics import sessions

    lf = source.load(events)
    result = _run(sessions, lf, timeout=timeout, keep_source=keep_source)
    emit(
        result.to_dict(),
        result.to_frame(),
        fmt,
        f"{result.sessions} sessions of {result.customers} customers",
    )


@analyze_app.command("paths")
@event_source_options()
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
    *,
    source: EventSource,
) -> None:
    """Top paths (variants): the most common event sequences.

    Example: journeylens analyze paths events.csv --top 20
    """
    from journeylens.analytics import top_paths

    lf = source.load(events)
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
@event_source_options()
def flows_cmd(
    events: EventsArg = None,
    map_file: Annotated[
        Path | None, typer.Option("--map", "-m", help="The journey map to bind.")
    ] = None,
    level: Annotated[str, typer.Option("--level", help="stage or step.")] = "stage",
    markers: Annotated[bool, typer.Option("--markers", help="Add path_start / path_end.")] = False,
    unit: UnitOpt = UnitChoice.CUSTOMER,
    fmt: FormatOpt = Format.TABLE,
    *,
    source: EventSource,
) -> None:
    """Flows between stages or steps of a map (Sankey data: source, target, value).

    Example: journeylens analyze flows events.csv --map shop.journey.yaml --level stage
    """
    from journeylens.analytics import bind, flows

    if map_file is None:
        fail("--map MAP is required: flows are between the map's stages or steps")
    if level not in ("stage", "step"):
        fail(f"--level must be stage or step, got {level!r}")
    jm = load_journey_map(map_file)
    lf = source.load(events)
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
