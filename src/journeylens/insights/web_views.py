"""The analytics views of one journey map, as library functions for the web app's pages.

The web app's analytics pages (funnel, flows, planned vs actual, outcome comparison,
survey metrics) and its map view show the same analytics as the CLI and the HTML report;
this module runs them for one :class:`Scope` — a persona's segment and a window of days —
and returns typed results that the pages only format. The web layer holds no analytics.

A scope's days are whole UTC calendar days, both ends included: ``first_day=2024-01-01,
last_day=2024-01-31`` keeps the events with ``2024-01-01 00:00 <= occurred_at <
2024-02-01 00:00`` (the analytics window is half-open; a date picker's range is not).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import narwhals as nw

from journeylens.analytics._common import UNIT_ID, collect_rows, ratio
from journeylens.analytics.binding import Population, bind, evaluate_outcomes
from journeylens.analytics.conformance import Conformance, Edge, MapOrder, conformance
from journeylens.analytics.livemap import LiveMap, compute_livemap
from journeylens.analytics.outcomes import OutcomeComparison, compare_outcome
from journeylens.analytics.personas import with_personas
from journeylens.analytics.survey import SurveyRow, survey_metrics
from journeylens.engine.frames import cache
from journeylens.insights.report_data import forest_rows
from journeylens.model import JourneyMap, Outcome, Persona
from journeylens.render.charts import FlowLink, OddsRatioRow, SurveyPoint

#: What the survey view can group by (``persona``: one group per persona of the map).
SURVEY_GROUPS: tuple[str, ...] = ("stage", "step", "touchpoint", "persona")


class ScopeError(ValueError):
    """A filter value that cannot be used; ``field`` names the query parameter."""

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


@dataclasses.dataclass(frozen=True)
class Scope:
    """Which customers and days a view covers: a persona's segment rule (``None``: every
    customer) and a window of whole days, ``first_day`` … ``last_day`` both included.

    >>> s = Scope(first_day=dt.date(2024, 1, 1), last_day=dt.date(2024, 1, 31))
    >>> s.window()
    (datetime.datetime(2024, 1, 1, 0, 0), datetime.datetime(2024, 2, 1, 0, 0))
    >>> Scope().window() is None, Scope().label()
    (True, 'all customers, all days')
    """

    persona: Persona | None = None
    first_day: dt.date | None = None
    last_day: dt.date | None = None

    def window(self) -> tuple[dt.datetime | None, dt.datetime | None] | None:
        """The half-open ``[start, end)`` window of the analytics (``None`` when open)."""
        if self.first_day is None and self.last_day is None:
            return None
        start = dt.datetime.combine(self.first_day, dt.time()) if self.first_day else None
        end = (
            dt.datetime.combine(self.last_day + dt.timedelta(days=1), dt.time())
            if self.last_day
            else None
        )
        return (start, end)

    def population(self) -> Population:
        """The analytics population: the persona's segment and the window together."""
        start, end = self.window() or (None, None)
        if self.persona is not None:
            return Population.for_persona(self.persona, start=start, end=end)
        return Population(start=start, end=end)

    def key(self) -> tuple[str, str, str]:
        """A hashable key for caches: the persona's whole content (a changed segment rule
        under the same id is another scope) and the two days."""
        persona = self.persona.model_dump_json() if self.persona is not None else ""
        return (
            persona,
            self.first_day.isoformat() if self.first_day else "",
            self.last_day.isoformat() if self.last_day else "",
        )

    def label(self) -> str:
        """In words: whose journeys and which days."""
        who = (
            f"persona {self.persona.name} ({self.persona.id})"
            if self.persona is not None
            else "all customers"
        )
        if self.first_day is None and self.last_day is None:
            return f"{who}, all days"
        first = self.first_day.isoformat() if self.first_day else "the first event"
        last = self.last_day.isoformat() if self.last_day else "the last event"
        return f"{who}, {first} – {last}"


def _day(value: str | None, field: str) -> dt.date | None:
    if value is None or not value.strip():
        return None
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise ScopeError(f"expected a date like 2026-01-31, got {value!r}", field=field) from None


def parse_scope(
    persona: str | None, first: str | None, last: str | None, personas: Sequence[Persona]
) -> Scope:
    """The scope of query values ``persona=<id>``, ``from=YYYY-MM-DD``, ``to=YYYY-MM-DD``
    (empty or missing: no filter); ``personas`` are the ones that may be chosen.

    >>> p = Persona(id="maya", name="Maya")
    >>> parse_scope("maya", "2024-01-01", "", [p]).label()
    'persona Maya (maya), 2024-01-01 – the last event'
    >>> parse_scope("bob", None, None, [p])
    Traceback (most recent call last):
    ...
    journeylens.insights.web_views.ScopeError: no persona 'bob' on this map; expected one of: maya
    >>> parse_scope(None, "2024-02-01", "2024-01-01", []).label()
    Traceback (most recent call last):
    ...
    journeylens.insights.web_views.ScopeError: the window ends (2024-01-01) before it starts (2024-02-01)
    """
    chosen = None
    if persona is not None and persona.strip():
        wanted = persona.strip()
        chosen = next((p for p in personas if p.id == wanted), None)
        if chosen is None:
            known = ", ".join(p.id for p in personas) or "(the map lists no personas)"
            raise ScopeError(
                f"no persona {wanted!r} on this map; expected one of: {known}", field="persona"
            )
    start, end = _day(first, "from"), _day(last, "to")
    if start is not None and end is not None and end < start:
        raise ScopeError(
            f"the window ends ({end.isoformat()}) before it starts ({start.isoformat()})",
            field="to",
        )
    return Scope(chosen, start, end)


# -- the workspace's events -------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class WorkspaceEvents:
    """The workspace's events (with text sentiment scored) and its customers table, on one
    open read-only connection of the event store."""

    events: nw.LazyFrame[Any]
    customers: Any

    def customers_for(self, population: Population) -> Any:
        """The customers frame when ``population`` needs it, else ``None``."""
        return self.customers if population.needs_customers else None


@contextmanager
def workspace_events(root: Path | None) -> Iterator[WorkspaceEvents | None]:
    """The events of the workspace at ``root``; ``None`` without a workspace, an event store
    or any event. Texts are scored once per distinct text (:func:`with_sentiment`), as the
    demo and ``journeylens report`` do, so measured emotion reads a column."""
    if root is None:
        yield None
        return
    from journeylens.analytics.emotion import with_sentiment
    from journeylens.engine.frames import to_lazy
    from journeylens.engine.store import StoreError
    from journeylens.engine.workspace import Workspace, WorkspaceError

    try:
        store = Workspace.open(root).store
        con = store.connect(read_only=True)
    except (WorkspaceError, StoreError):
        yield None
        return
    try:
        relation = store.events(con)
        if not relation.limit(1).fetchall():
            yield None
            return
        yield WorkspaceEvents(with_sentiment(to_lazy(relation)), con.table("customers"))
    finally:
        con.close()


# -- the views ------------------------------------------------------------------------------


def live_map(source: WorkspaceEvents, journey: JourneyMap, scope: Scope) -> LiveMap:
    """The live map of ``journey`` for the scope (what the map view and funnel show)."""
    population = Population.for_persona(scope.persona) if scope.persona is not None else None
    return compute_livemap(
        source.events,
        journey,
        population=population,
        customers=source.customers_for(population) if population is not None else None,
        window=scope.window(),
    )


def scoped_bound(source: WorkspaceEvents, journey: JourneyMap, scope: Scope) -> nw.LazyFrame[Any]:
    """The scope's events bound to the map (cached: every view reads it several times)."""
    population = scope.population()
    events = population.apply(source.events, source.customers_for(population))
    return cache(bind(events, journey))


@dataclasses.dataclass(frozen=True)
class ScopeSize:
    """How much data a scope holds: units (customers) and events."""

    units: int
    events: int


def scope_size(bound: nw.LazyFrame[Any]) -> ScopeSize:
    """Customers and events of bound events."""
    row = collect_rows(
        bound.select(
            nw.col(UNIT_ID).n_unique().cast(nw.Int64).alias("units"),
            nw.len().cast(nw.Int64).alias("events"),
        )
    )[0]
    return ScopeSize(int(row["units"] or 0), int(row["events"] or 0))


@dataclasses.dataclass(frozen=True)
class FunnelRates:
    """The funnel rates of one stage of a live map, as METRICS.md defines them for a
    funnel: ``conversion_from_start`` = reached j / reached 1; ``step_conversion`` =
    reached j / reached j−1 (for the first stage: reached 1 / all units). None where the
    denominator is 0."""

    conversion_from_start: float | None
    step_conversion: float | None


def funnel_rates(units: int, reached: Sequence[int]) -> list[FunnelRates]:
    """The funnel rates of stages that ``reached`` units each, in map order, out of
    ``units`` in scope (a live map's ``units`` and its stages' ``figures.reached``).

    >>> [(r.conversion_from_start, r.step_conversion) for r in funnel_rates(50, [40, 30, 0])]
    [(1.0, 0.8), (0.75, 0.75), (0.0, 0.0)]
    >>> funnel_rates(0, [0, 0])[1]
    FunnelRates(conversion_from_start=None, step_conversion=None)
    """
    return [
        FunnelRates(
            conversion_from_start=ratio(n, reached[0]),
            step_conversion=ratio(n, reached[i - 1] if i else units),
        )
        for i, n in enumerate(reached)
    ]


@dataclasses.dataclass(frozen=True)
class FlowsView:
    """Stage-to-stage flows: ``links`` (stage names, value = paths that made the move at
    least once) for the Sankey, with ``transitions`` and ``designed`` beside each;
    ``edges`` are the same moves by stage id (for the JSON API)."""

    size: ScopeSize
    paths: int
    order: tuple[str, ...]
    links: tuple[FlowLink, ...]
    transitions: tuple[int, ...]
    designed: tuple[bool, ...]
    edges: tuple[Edge, ...] = ()


def flows_view(bound: nw.LazyFrame[Any], journey: JourneyMap) -> FlowsView:
    """Flows between the stages, as the report's Sankey draws them (observed moves only).

    >>> import polars as pl
    >>> from datetime import datetime
    >>> m = JourneyMap.model_validate({"id": "m", "title": "M", "stages": [
    ...     {"id": "s1", "name": "One", "steps": [{"id": "a", "name": "A"}]},
    ...     {"id": "s2", "name": "Two", "steps": [{"id": "b", "name": "B"}]}]})
    >>> ev = pl.LazyFrame({"unit_id": ["u", "u", "v"], "occurred_at": [datetime(2024, 1, 1, h)
    ...     for h in (1, 2, 3)], "seq": [1, 2, 3], "stage_id": ["s1", "s2", "s1"],
    ...     "step_id": ["a", "b", "a"], "touchpoint_id": ["x", "y", "x"]})
    >>> v = flows_view(nw.from_native(ev), m)
    >>> v.paths, [(ln.source, ln.target, ln.value) for ln in v.links], v.transitions
    (2, [('One', 'Two', 1)], (1,))
    """
    conf = conformance(bound, journey)
    names = MapOrder.of(journey).names
    edges = [e for e in conf.edges if e.level == "stage" and e.transitions > 0]
    return FlowsView(
        size=scope_size(bound),
        paths=conf.paths,
        order=tuple(s.name for s in journey.stages),
        links=tuple(
            FlowLink(names.get(e.source, e.source), names.get(e.target, e.target), e.paths)
            for e in edges
        ),
        transitions=tuple(e.transitions for e in edges),
        designed=tuple(e.designed for e in edges),
        edges=tuple(edges),
    )


@dataclasses.dataclass(frozen=True)
class PlannedView:
    """Planned vs actual (:func:`~journeylens.analytics.conformance.conformance`) with the
    map's names for the ids it reports."""

    size: ScopeSize
    conformance: Conformance
    names: dict[str, str]


def planned_view(bound: nw.LazyFrame[Any], journey: JourneyMap) -> PlannedView:
    """Fitness, skips, backtracks, unbound share and the edge diff of the scope."""
    return PlannedView(
        scope_size(bound), conformance(bound, journey), dict(MapOrder.of(journey).names)
    )


@dataclasses.dataclass(frozen=True)
class OutcomeView:
    """One outcome compared across features, and the forest plot's rows: tested
    touchpoint and channel features with an odds ratio between 1/100 and 100, largest
    effects first (at most ``limit``), as in the report."""

    size: ScopeSize
    outcome: Outcome
    comparison: OutcomeComparison
    forest: tuple[OddsRatioRow, ...]


def outcome_view(
    bound: nw.LazyFrame[Any], journey: JourneyMap, outcome_id: str, *, limit: int = 15
) -> OutcomeView:
    """Odds ratio with CI, lift, p and BH q per feature for the outcome ``outcome_id``
    (one of the map's outcomes; :class:`ScopeError` otherwise)."""
    outcome = next((o for o in journey.outcomes if o.id == outcome_id), None)
    if outcome is None:
        known = ", ".join(o.id for o in journey.outcomes) or "(the map defines no outcomes)"
        raise ScopeError(
            f"no outcome {outcome_id!r} on this map; expected one of: {known}", field="outcome"
        )
    comparison = compare_outcome(bound, cache(evaluate_outcomes(bound, journey)), outcome.id)
    forest = forest_rows(comparison, limit)  # the report's rule: one place
    return OutcomeView(scope_size(bound), outcome, comparison, forest)


@dataclasses.dataclass(frozen=True)
class SurveyView:
    """NPS / CSAT / CES per group with N and 95% CI; ``labels`` names each group (a stage,
    step or touchpoint name, or a persona's name); answers that cannot be placed form the
    group ``None`` ("not placed")."""

    size: ScopeSize
    by: str
    rows: tuple[SurveyRow, ...]
    labels: dict[str, str]

    def label(self, group: str | None) -> str:
        """The group's name in words."""
        if group is None:
            return "not placed"
        return self.labels.get(group, group)

    def points(self) -> tuple[SurveyPoint, ...]:
        """The chart's input (one point per group and metric)."""
        return tuple(
            SurveyPoint(self.label(r.group), r.score_type.upper(), r.value, r.low, r.high, r.n)
            for r in self.rows
        )


def survey_view(
    bound: nw.LazyFrame[Any],
    journey: JourneyMap,
    by: str,
    *,
    personas: Sequence[Persona] = (),
    customers: Any = None,
) -> SurveyView:
    """Survey metrics of the scope by ``stage``, ``step``, ``touchpoint`` or ``persona``.

    By persona, each persona is one group: the answers of the customers its segment rule
    accepts (:func:`~journeylens.analytics.personas.with_personas`: a customer may belong
    to several personas; a persona without a rule covers every customer). ``customers`` is
    the workspace's customers frame (needed for ``persona``).
    """
    if by not in SURVEY_GROUPS:
        raise ScopeError(
            f"cannot group survey metrics by {by!r}; expected one of: {', '.join(SURVEY_GROUPS)}",
            field="by",
        )
    size = scope_size(bound)
    if by != "persona":
        metrics = survey_metrics(bound, by=by, journey_map=journey)  # type: ignore[arg-type]
        return SurveyView(size, by, metrics.rows, dict(MapOrder.of(journey).names))
    labels = {p.id: p.name for p in personas}
    if not personas:
        return SurveyView(size, by, (), labels)
    tagged = with_personas(bound, personas, customers)
    return SurveyView(size, by, survey_metrics(tagged, by="persona").rows, labels)
