"""``journeylens analyze`` commands that measure the map: ``compare``, ``moments``,
``survey``, ``conformance``, ``map`` (the LiveMap) and ``channels``.

Each command only loads its inputs, calls one analytics function and prints the result
(the same function a notebook user calls). ``EVENTS`` is the workspace's event store
(default) or a CSV / Parquet / JSON-lines file whose column roles are given by
``--customer-col``, ``--session-col``, ``--event-col``, ``--time-col``.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from journeylens.cli._options import (
    ENGINE_FIRST,
    EventsArg,
    EventSource,
    Format,
    FormatOpt,
    UnitChoice,
    UnitOpt,
    cell,
    emit,
    event_source_options,
    load_journey_map,
)
from journeylens.cli._output import EXIT_INVALID, fail

if TYPE_CHECKING:
    import pyarrow as pa

    from journeylens.model import JourneyMap


class SurveyByChoice(StrEnum):
    """What survey metrics are grouped by."""

    ALL = "all"
    STAGE = "stage"
    STEP = "step"
    TOUCHPOINT = "touchpoint"
    PERSONA = "persona"
    DAY = "day"
    WEEK = "week"
    MONTH = "month"


class LevelChoice(StrEnum):
    """Where moments of truth are looked for."""

    STEP = "step"
    TOUCHPOINT = "touchpoint"


OutcomeOpt = Annotated[str, typer.Option("--outcome", help="Outcome id of the map (e.g. churned).")]
PersonaOpt = Annotated[
    str | None,
    typer.Option("--persona", help="Persona id: only its customers (workspace personas)."),
]
MapOpt = Annotated[Path | None, typer.Option("--map", help="The journey map (*.journey.yaml).")]


def _map_for_outcome(map_path: Path | None, outcome: str, workspace: Path | None) -> JourneyMap:
    """The map given, else the one workspace map that defines ``outcome``."""
    if map_path is not None:
        return load_journey_map(map_path)
    from journeylens.engine.workspace import Workspace, WorkspaceError

    try:
        ws = Workspace.find(explicit=workspace)
    except WorkspaceError as exc:
        fail(f"{exc} (or name the map with --map MAP)")
    found = [
        jm
        for jm in (load_journey_map(p) for p in sorted(ws.maps_dir.glob("*.journey.*")))
        if any(o.id == outcome for o in jm.outcomes)
    ]
    if len(found) != 1:
        what = "no map" if not found else f"{len(found)} maps"
        fail(f"{what} in {ws.maps_dir} define outcome '{outcome}': name one with --map MAP")
    return found[0]


def _check_outcome(jm: JourneyMap, outcome: str) -> None:
    if not any(o.id == outcome for o in jm.outcomes):
        known = ", ".join(o.id for o in jm.outcomes) or "(none)"
        fail(f"map '{jm.id}' has no outcome '{outcome}'; its outcomes are: {known}")


def _show(result: Any, fmt: Format, title: str, table_columns: list[str] | None = None) -> None:
    """Print a result: JSON of ``to_dict()``, CSV of ``to_frame()``, and as a table the
    ``table_columns`` of it (all when None) so it fits a terminal."""
    frame = result.to_frame()
    if fmt is Format.TABLE and table_columns is not None:
        frame = frame.select(table_columns)
    emit(result.to_dict(), frame, fmt, title)


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    for unit, size in (("d", 86400.0), ("h", 3600.0), ("m", 60.0)):
        if seconds >= size:
            return f"{seconds / size:.1f}{unit}"
    return f"{seconds:.0f}s"


def _with_n(value: float | None, n: int, digits: int = 0) -> str:
    if n == 0:
        return ""
    return f"{'–' if value is None else f'{value:.{digits}f}'} ({n})"


def _livemap_table(lm: Any) -> pa.Table:
    """The LiveMap as a compact table for people: one row per stage / step / touchpoint,
    indented by level, survey figures and measured emotion as "value (N)"."""
    import pyarrow as pa

    rows: list[dict[str, str]] = []

    def add(indent: str, loc_id: str, f: Any) -> None:
        def survey(fig: Any, digits: int) -> str:
            return _with_n(fig.value, fig.n, digits) if fig is not None else ""

        rows.append(
            {
                "where": indent + loc_id,
                "reached": str(f.reached),
                "conversion": cell(f.conversion),
                "median time": _duration(f.median_time_s),
                "NPS (N)": survey(f.nps, 0),
                "CSAT % (N)": survey(f.csat, 0),
                "CES (N)": survey(f.ces, 1),
                "emotion (N)": _with_n(f.measured_emotion, f.emotion_n, 2),
            }
        )

    for stage in lm.stages:
        add("", stage.id, stage.figures)
        for step in stage.steps:
            add("  ", step.id, step.figures)
            for tp in step.touchpoints:
                add("    ", tp.id, tp.figures)
    names = [
        "where",
        "reached",
        "conversion",
        "median time",
        "NPS (N)",
        "CSAT % (N)",
        "CES (N)",
        "emotion (N)",
    ]
    return pa.Table.from_pylist(rows, schema=pa.schema([(n, pa.string()) for n in names]))


def _run(fn: Any, *args: Any, **kwargs: Any) -> Any:
    """Call an analytics function; its input errors end the command (exit 1) with the message."""
    from journeylens.analytics._common import AnalyticsError

    try:
        return fn(*args, **kwargs)
    except AnalyticsError as exc:
        fail(str(exc), EXIT_INVALID)


def _workspace_personas(
    source: EventSource, events: Path | None, what: str
) -> tuple[Any, Any, dict[str, Any]]:
    """The workspace's events and customers (one connection, so they can be joined) and the
    personas beside its maps, by id: what per-persona figures are computed from."""
    from journeylens.engine.frames import ColumnRoles, FrameError, to_lazy
    from journeylens.engine.store import StoreError
    from journeylens.engine.workspace import Workspace, WorkspaceError
    from journeylens.formats.io import DocumentError, find_personas

    if events is not None:
        fail(
            f"{what} reads the workspace's personas and customers: leave out the EVENTS file"
            " (for a file, name a persona column with --persona-col)",
        )
    try:
        ws = Workspace.find(explicit=source.workspace)
        con = ws.store.connect(read_only=True)
        found = {pid: persona for pid, (_, persona) in find_personas(ws.maps_dir).items()}
        roles = ColumnRoles(
            source.customer_col, source.session_col, source.event_col, source.time_col
        )
        lf = to_lazy(ws.store.events(con), columns=roles)
    except (WorkspaceError, StoreError, DocumentError, FrameError) as exc:
        fail(str(exc))
    if not found:
        fail(f"{what}: no *.persona.yaml in {ws.maps_dir}")
    return lf, con.table("customers"), found


def _persona_events(source: EventSource, events: Path | None, persona: str | None) -> Any:
    """The events, or only those of ``persona``'s customers (its segment rule)."""
    if persona is None:
        return source.load(events)
    from journeylens.analytics.binding import Population

    lf, customers, found = _workspace_personas(source, events, f"--persona {persona}")
    if persona not in found:
        fail(
            f"--persona {persona}: no such persona (the workspace has: {', '.join(sorted(found))})",
        )
    return _run(Population.for_persona(found[persona]).apply, lf, customers)


def _outcome_inputs(
    source: EventSource,
    events: Path | None,
    map_path: Path | None,
    outcome: str,
    persona: str | None,
    unit: UnitChoice,
) -> tuple[JourneyMap, Any, Any]:
    """What ``compare`` and ``moments`` start from: the map (which must define
    ``outcome``), the events (of ``persona``'s customers) bound to it, and each unit's
    outcomes."""
    from journeylens.analytics.binding import bind, evaluate_outcomes

    jm = _map_for_outcome(map_path, outcome, source.workspace)
    _check_outcome(jm, outcome)
    lf = _persona_events(source, events, persona)
    bound = _run(bind, lf, jm, unit=unit.value)
    return jm, bound, _run(evaluate_outcomes, lf, jm, unit=unit.value)


def _when(value: str | None, option: str) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        fail(f"{option} {value!r}: expected an ISO 8601 date or time such as 2024-01-31")


# -- commands ---------------------------------------------------------------------------------


def register(analyze_app: typer.Typer) -> None:
    """Add ``compare``, ``moments``, ``survey``, ``conformance``, ``map`` and ``channels``."""

    @analyze_app.command("compare")
    @event_source_options(ENGINE_FIRST)
    def compare(
        outcome: OutcomeOpt,
        events: EventsArg = None,
        map_path: MapOpt = None,
        features: Annotated[
            str, typer.Option("--features", help="Feature kinds, comma separated.")
        ] = "touchpoint,step,event,channel",
        min_support: Annotated[
            int, typer.Option("--min-support", help="Fewer units with the feature: too rare.")
        ] = 25,
        fmt: FormatOpt = Format.TABLE,
        unit: UnitOpt = UnitChoice.CUSTOMER,
        persona: PersonaOpt = None,
        *,
        source: EventSource,
    ) -> None:
        """Which touchpoints, steps, events and channels go with an outcome (OR, lift, q).

        Example: journeylens analyze compare events.csv --map shop.journey.yaml --outcome churned
        """
        from journeylens.analytics.outcomes import compare_outcome

        _jm, bound, outs = _outcome_inputs(source, events, map_path, outcome, persona, unit)
        kinds = [k.strip() for k in features.split(",") if k.strip()]
        result = _run(
            compare_outcome, bound, outs, outcome, features=kinds, min_support=min_support
        )
        cols = ["kind", "feature", "a", "b", "c", "d", "odds_ratio", "or_low", "or_high"]
        _show(
            result,
            fmt,
            f"outcome {outcome}: {result.positive} of {result.units} units"
            + (f" (persona {persona})" if persona else ""),
            [*cols, "lift", "q_value", "significant", "flag"],
        )

    @analyze_app.command("moments")
    @event_source_options(ENGINE_FIRST)
    def moments(
        outcome: OutcomeOpt,
        events: EventsArg = None,
        map_path: MapOpt = None,
        level: Annotated[
            LevelChoice, typer.Option("--level", help="Rank steps or touchpoints.")
        ] = LevelChoice.STEP,
        pain_events: Annotated[
            str, typer.Option("--pain-events", help="Events that mark a bad experience.")
        ] = "error,ticket_opened",
        min_support: Annotated[
            int, typer.Option("--min-support", help="Fewer units (good + bad): too rare.")
        ] = 25,
        fmt: FormatOpt = Format.TABLE,
        unit: UnitOpt = UnitChoice.CUSTOMER,
        persona: PersonaOpt = None,
        *,
        source: EventSource,
    ) -> None:
        """Moments of truth: where a good vs bad experience moves the outcome most.

        Example: journeylens analyze moments --outcome churned --level touchpoint
        """
        from journeylens.analytics.moments import moments_of_truth
        from journeylens.engine.frames import cache

        jm, bound, outs = _outcome_inputs(source, events, map_path, outcome, persona, unit)
        bound = cache(bound)  # read once per signal
        result = _run(
            moments_of_truth,
            bound,
            outs,
            outcome,
            level=level.value,
            journey_map=jm,
            pain_events=[e.strip() for e in pain_events.split(",") if e.strip()],
            min_support=min_support,
        )
        cols = ["location", "signal", "n_good", "n_bad", "rate_good", "rate_bad", "effect"]
        _show(
            result,
            fmt,
            f"moments of truth for {outcome} by {level.value}"
            + (f" (persona {persona})" if persona else ""),
            [*cols, "low", "high", "q_value", "significant", "flag"],
        )

    @analyze_app.command("survey")
    @event_source_options(ENGINE_FIRST)
    def survey(
        events: EventsArg = None,
        by: Annotated[
            SurveyByChoice, typer.Option("--by", help="Group answers by (stage … needs --map).")
        ] = SurveyByChoice.ALL,
        map_path: MapOpt = None,
        min_answers: Annotated[
            int, typer.Option("--min-answers", help="Below this N no value is shown.")
        ] = 10,
        fmt: FormatOpt = Format.TABLE,
        unit: UnitOpt = UnitChoice.CUSTOMER,
        *,
        source: EventSource,
    ) -> None:
        """NPS, CSAT and CES with N and 95% CI, by stage, step, touchpoint, persona or period.

        Example: journeylens analyze survey events.csv --by week
        """
        from journeylens.analytics.binding import bind
        from journeylens.analytics.survey import survey_metrics

        personas: list[Any] = []
        customers = None
        if by is SurveyByChoice.PERSONA and events is None:
            # The workspace: each persona's segment rule picks its customers' answers.
            lf, customers, found = _workspace_personas(source, events, "survey --by persona")
            personas = [found[k] for k in sorted(found)]
        else:
            lf = source.load(events)
        jm = load_journey_map(map_path) if map_path is not None else None
        if jm is not None:
            lf = _run(bind, lf, jm, unit=unit.value)
        result = _run(
            survey_metrics, lf, by=by.value, journey_map=jm, min_answers=min_answers,
            personas=personas, customers=customers,
        )  # fmt: skip
        _show(result, fmt, f"survey metrics by {by.value}")

    @analyze_app.command("conformance")
    @event_source_options(ENGINE_FIRST)
    def conformance_cmd(
        map_path: Annotated[Path, typer.Option("--map", help="The designed map.")],
        events: EventsArg = None,
        fmt: FormatOpt = Format.TABLE,
        unit: UnitOpt = UnitChoice.CUSTOMER,
        *,
        source: EventSource,
    ) -> None:
        """Planned vs actual: fitness, skips, backtracks, unbound share, edge diff.

        Example: journeylens analyze conformance events.csv --map shop.journey.yaml
        """
        from journeylens.analytics.binding import bind
        from journeylens.analytics.conformance import conformance

        jm = load_journey_map(map_path)
        lf = source.load(events)
        result = _run(conformance, _run(bind, lf, jm, unit=unit.value), jm)
        title = (
            f"fitness {cell(result.fitness)} · backtracks {cell(result.backtrack_share)} · "
            f"unbound {cell(result.unbound_share)} of {result.events} events · {result.paths} paths"
        )
        _show(result, fmt, title)

    @analyze_app.command("map")
    @event_source_options(ENGINE_FIRST)
    def map_cmd(
        map_path: Annotated[Path, typer.Argument(help="The journey map (*.journey.yaml).")],
        events: Annotated[
            Path | None,
            typer.Option("--events", help="Events file (default: the workspace's event store)."),
        ] = None,
        since: Annotated[
            str | None, typer.Option("--since", help="Window start (inclusive, ISO 8601).")
        ] = None,
        until: Annotated[
            str | None, typer.Option("--until", help="Window end (exclusive, ISO 8601).")
        ] = None,
        fmt: FormatOpt = Format.TABLE,
        unit: UnitOpt = UnitChoice.CUSTOMER,
        *,
        source: EventSource,
    ) -> None:
        """The LiveMap: every stage, step and touchpoint with its measured figures.

        Example: journeylens analyze map shop.journey.yaml --events events.csv --format json
        """
        from journeylens.analytics.livemap import compute_livemap

        jm = load_journey_map(map_path)
        window = (_when(since, "--since"), _when(until, "--until"))
        lf = source.load(events)
        result = _run(
            compute_livemap,
            lf,
            jm,
            unit=unit.value,
            window=window if any(w is not None for w in window) else None,
        )
        title = (
            f"{result.title}: {result.units} units, {result.events} events ({result.population}), "
            f"fitness {cell(result.fitness)}, unbound {cell(result.unbound_share)}"
        )
        if fmt is Format.TABLE:
            emit({}, _livemap_table(result), fmt, title)
        else:
            _show(result, fmt, title)

    @analyze_app.command("channels")
    @event_source_options(ENGINE_FIRST)
    def channels(
        events: EventsArg = None,
        persona_col: Annotated[
            str, typer.Option("--persona-col", help="Column naming each event's persona.")
        ] = "persona",
        fmt: FormatOpt = Format.TABLE,
        unit: UnitOpt = UnitChoice.CUSTOMER,
        *,
        source: EventSource,
    ) -> None:
        """Channel use per persona: share of events and of units per channel (on the
        workspace, the personas are its *.persona.yaml segment rules on customer attributes).

        Example: journeylens analyze channels events.csv --persona-col persona
        """
        from journeylens.analytics._common import with_unit
        from journeylens.analytics.channels import channel_use

        personas: list[Any] = []
        customers = None
        if events is None:
            # The workspace: each persona's segment rule picks its customers' events.
            lf, customers, found = _workspace_personas(source, events, "channels")
            personas = [found[k] for k in sorted(found)]
        else:
            lf = source.load(events)
        lf = _run(with_unit, lf, unit.value)
        result = _run(
            channel_use, lf, persona_col=persona_col, personas=personas, customers=customers
        )
        _show(result, fmt, "channel use per persona")
