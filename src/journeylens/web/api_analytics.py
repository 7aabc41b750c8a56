"""JSON API of what a map's pages show: the live map's figures and the analytics pages
(funnel, flows, planned vs actual, outcome comparison, survey metrics).

Every call takes the filter of the pages — ``persona=<id>``, ``from=YYYY-MM-DD``,
``to=YYYY-MM-DD`` (both days included) — and answers with the same numbers: the live map
is the map view's (one cache, :func:`journeylens.web.pages.rendered_map`); the analytics
come from :mod:`journeylens.insights.web_views`, cached per (map version, events stamp,
filter, view) in the analytics pages' cache (:func:`journeylens.web.pages_analytics.computed`)
under keys of their own (the pages' entries carry charts, these do not; a view a page has already computed is
read from the page's entry).

Errors: a bad filter or parameter is 422 naming it (``persona``, ``from``, ``to``,
``outcome``, ``by``); a workspace or a scope without events is 409 with ``field: "events"``;
a map the data cannot be analysed with (e.g. a rule on a column the events lack) is 409
with ``field: "map"``.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import narwhals as nw
from fastapi import APIRouter, Depends, Query, Request
from pydantic import Field

from journeylens.analytics import AnalyticsError
from journeylens.analytics.conformance import Conformance
from journeylens.analytics.livemap import LiveMap
from journeylens.analytics.outcomes import OutcomeComparison
from journeylens.insights.web_views import (
    SURVEY_GROUPS,
    FlowsView,
    OutcomeView,
    PlannedView,
    Scope,
    ScopeSize,
    SurveyView,
    WorkspaceEvents,
    flows_view,
    funnel_rates,
    outcome_view,
    planned_view,
    survey_view,
)
from journeylens.model import JourneyMap
from journeylens.web.api_models import ERRORS, ApiModel
from journeylens.web.backend import Conflict, InvalidInput, StoredMap, User
from journeylens.web.deps import CurrentUser, backend_of, csrf_protect
from journeylens.web.filters import Filter, filter_of
from journeylens.web.pages import _events_stamp, rendered_map
from journeylens.web.pages_analytics import NO_EVENTS, Computed, computed, view_cache

router = APIRouter(
    prefix="/api/v1", tags=["analytics"], dependencies=[Depends(csrf_protect)], responses=ERRORS
)


def _filter_query(
    persona: Annotated[
        str | None, Query(description="A persona id the map lists (its segment rule).")
    ] = None,
    first: Annotated[
        str | None, Query(alias="from", description="First day, YYYY-MM-DD (included).")
    ] = None,
    last: Annotated[
        str | None, Query(alias="to", description="Last day, YYYY-MM-DD (included).")
    ] = None,
) -> None:
    """Declares the filter's query parameters for the OpenAPI document; the values are
    read and checked by :func:`journeylens.web.filters.filter_of` (422 naming the field)."""


#: The filter parameters of every call here (documented; parsed by ``filter_of``).
FILTER = [Depends(_filter_query)]


class ScopeOut(ApiModel):
    """Whose journeys and which days the figures cover (``null``: no filter)."""

    persona: str | None
    first_day: dt.date | None
    last_day: dt.date | None
    label: str

    @classmethod
    def of(cls, scope: Scope) -> ScopeOut:
        """The API form of a scope."""
        return cls(
            persona=scope.persona.id if scope.persona is not None else None,
            first_day=scope.first_day,
            last_day=scope.last_day,
            label=scope.label(),
        )


class SizeOut(ApiModel):
    """How much data the scope holds: customers (units) and events."""

    units: int
    events: int

    @classmethod
    def of(cls, size: ScopeSize) -> SizeOut:
        """The API form of a scope's size."""
        return cls(units=size.units, events=size.events)


class ViewOut(ApiModel):
    """What every analytics answer carries: the map, its version and the scope."""

    map_id: str
    version: int
    scope: ScopeOut


class LiveMapOut(ViewOut):
    """The live map (``journeylens/livemap/v1``): every stage, step and touchpoint with its
    measured figures, and the population, window and N behind them — what the map view
    draws."""

    live: LiveMap


class FunnelStageOut(ApiModel):
    """One stage of the funnel: customers who reached it and their share of all customers
    in scope; the funnel chart's ratios (``conversion_from_start`` = reached / the first
    stage's reached, ``step_conversion`` = reached / the previous stage's reached, as
    ``journeylens analyze funnel`` names them); and the live map's ``conversion`` (share
    of the stage's customers with a later event in a later stage; ``null`` for the last
    stage), ``drop_off`` = 1 − conversion and the median time in the stage."""

    stage_id: str
    name: str
    reached: int
    share_of_units: float | None
    conversion_from_start: float | None
    step_conversion: float | None
    conversion: float | None
    drop_off: float | None
    median_time_s: float | None


class FunnelOut(ViewOut):
    """The funnel through the stages (the funnel page's chart and table)."""

    units: int
    events: int
    stages: list[FunnelStageOut]


class FlowOut(ApiModel):
    """An observed move between two stages: ``paths`` made it at least once (the Sankey's
    width), ``transitions`` counts every occurrence; ``designed``: the map has this move."""

    source: str
    target: str
    source_name: str
    target_name: str
    paths: int
    transitions: int
    designed: bool


class FlowsOut(ViewOut):
    """Flows between the stages (the flows page's Sankey and table)."""

    size: SizeOut
    paths: int
    stages: list[str] = Field(description="The map's stage ids in the designed order.")
    flows: list[FlowOut]


class PlannedOut(ViewOut):
    """Planned vs actual: fitness, skips, backtracks, unbound share and the edge diff;
    ``names`` maps the stage / step ids the result uses to their names."""

    size: SizeOut
    conformance: Conformance
    names: dict[str, str]


class OutcomeRefOut(ApiModel):
    """An outcome of the map."""

    id: str
    name: str


class OutcomesOut(ViewOut):
    """One outcome compared across features: odds ratio with 95% CI, lift, p and BH q per
    feature (``comparison.features``, tested ones first); ``outcomes`` lists the map's."""

    size: SizeOut
    outcome: OutcomeRefOut
    outcomes: list[OutcomeRefOut]
    comparison: OutcomeComparison


class SurveyGroupOut(ApiModel):
    """One score type in one group: N, the value (NPS −100…100, CSAT % satisfied, CES
    mean), its 95% interval and the flag (``too few answers`` under 10, then no value).
    ``group`` is the stage / step / touchpoint / persona id (``null``: not placed)."""

    group: str | None
    label: str
    score_type: str
    n: int
    value: float | None
    low: float | None
    high: float | None
    se: float | None
    share_ge5: float | None
    flag: str | None


class SurveyOut(ViewOut):
    """Survey metrics by ``by`` (stage, step, touchpoint or persona)."""

    size: SizeOut
    by: str
    groups: list[SurveyGroupOut]


# -- helpers --------------------------------------------------------------------------------


def _scoped(request: Request, user: User, ws: int, map_id: str) -> tuple[StoredMap, Filter]:
    """The map (viewer or above) and the request's filter (422 naming a bad value)."""
    stored = backend_of(request).get_map(user, ws, map_id)
    return stored, filter_of(request, user, ws, stored.journey)


def _head(stored: StoredMap, flt: Filter) -> dict[str, Any]:
    return {
        "map_id": stored.journey.id,
        "version": stored.version,
        "scope": ScopeOut.of(flt.scope),
    }


def _view(
    request: Request, ws: int, stored: StoredMap, flt: Filter, view: str, param: str,
    make: Any,
) -> Any:  # fmt: skip
    """The view ``make(source, bound, journey)`` for the filter, through the analytics
    cache; 409 when there is nothing to compute on.

    A view the page ``view`` already computed for the same key is taken from the page's
    entry (same key parts as :func:`~journeylens.web.pages_analytics.computed`); else the
    API computes and caches its own entry, without the page's charts.
    """
    stamp = _events_stamp(request, ws)
    key = (ws, stored.journey.id, stored.version, stamp, flt.scope.key(), view, param)
    page = view_cache(request).get(key)
    if page is not None and page.view is not None:
        return page.view

    def compute(source: WorkspaceEvents, bound: nw.LazyFrame[Any], jm: JourneyMap) -> Computed:
        return Computed(view=make(source, bound, jm))

    result = computed(request, ws, stored, flt, f"api:{view}", param, compute)
    if result.problem is not None:
        no_events = result.problem == NO_EVENTS or result.problem.startswith("No events for ")
        raise Conflict(result.problem, field="events" if no_events else "map")
    return result.view


def _live(request: Request, ws: int, stored: StoredMap, flt: Filter) -> LiveMap:
    """The map view's live map for the filter (409 without events)."""
    try:
        _svg, live = rendered_map(request, ws, stored, flt.scope)
    except AnalyticsError as exc:
        raise Conflict(str(exc), field="map") from None
    if live is None:
        raise Conflict(NO_EVENTS, field="events")
    if live.units == 0:  # as the analytics views: an empty scope is said, not zeros
        raise Conflict(f"No events for {flt.scope.label()}.", field="events")
    return live


# -- endpoints ----------------------------------------------------------------------------

_MAP = "/workspaces/{ws}/maps/{map_id}"


@router.get(_MAP + "/live", dependencies=FILTER)
def live_map(request: Request, user: CurrentUser, ws: int, map_id: str) -> LiveMapOut:
    """The live map's figures for the filter: what the map view draws (viewer or above)."""
    stored, flt = _scoped(request, user, ws, map_id)
    return LiveMapOut(**_head(stored, flt), live=_live(request, ws, stored, flt))


@router.get(_MAP + "/analytics/funnel", dependencies=FILTER)
def funnel(request: Request, user: CurrentUser, ws: int, map_id: str) -> FunnelOut:
    """The funnel through the stages over the live map's figures (the funnel page)."""
    stored, flt = _scoped(request, user, ws, map_id)
    live = _live(request, ws, stored, flt)
    stages = [
        FunnelStageOut(
            stage_id=s.id,
            name=s.name,
            reached=s.figures.reached,
            share_of_units=s.figures.share_of_units,
            conversion_from_start=r.conversion_from_start,
            step_conversion=r.step_conversion,
            conversion=s.figures.conversion,
            drop_off=s.figures.drop_off,
            median_time_s=s.figures.median_time_s,
        )
        for s, r in zip(
            live.stages,
            funnel_rates(live.units, [st.figures.reached for st in live.stages]),
            strict=True,
        )
    ]
    return FunnelOut(**_head(stored, flt), units=live.units, events=live.events, stages=stages)


@router.get(_MAP + "/analytics/flows", dependencies=FILTER)
def flows(request: Request, user: CurrentUser, ws: int, map_id: str) -> FlowsOut:
    """Flows between the stages (the flows page's Sankey data)."""
    stored, flt = _scoped(request, user, ws, map_id)
    view: FlowsView = _view(
        request, ws, stored, flt, "flows", "", lambda s, b, jm: flows_view(b, jm)
    )
    names = {s.id: s.name for s in stored.journey.stages}
    out = [
        FlowOut(
            source=e.source,
            target=e.target,
            source_name=names.get(e.source, e.source),
            target_name=names.get(e.target, e.target),
            paths=e.paths,
            transitions=e.transitions,
            designed=e.designed,
        )
        for e in view.edges
    ]
    return FlowsOut(
        **_head(stored, flt),
        size=SizeOut.of(view.size),
        paths=view.paths,
        stages=[s.id for s in stored.journey.stages],
        flows=out,
    )


@router.get(_MAP + "/analytics/planned", dependencies=FILTER)
def planned(request: Request, user: CurrentUser, ws: int, map_id: str) -> PlannedOut:
    """Planned vs actual: fitness, skips, backtracks, unbound share and the edge diff."""
    stored, flt = _scoped(request, user, ws, map_id)
    view: PlannedView = _view(
        request, ws, stored, flt, "planned", "", lambda s, b, jm: planned_view(b, jm)
    )
    return PlannedOut(
        **_head(stored, flt),
        size=SizeOut.of(view.size),
        conformance=view.conformance,
        names=view.names,
    )


@router.get(_MAP + "/analytics/outcomes", dependencies=FILTER)
def outcomes(
    request: Request,
    user: CurrentUser,
    ws: int,
    map_id: str,
    outcome: Annotated[
        str | None, Query(description="An outcome id of the map (default: the first).")
    ] = None,
) -> OutcomesOut:
    """Outcome comparison for one of the map's outcomes: odds ratio with 95% CI, lift, p
    and BH q per feature (the outcomes page)."""
    stored, flt = _scoped(request, user, ws, map_id)
    journey = stored.journey
    ids = [o.id for o in journey.outcomes]
    wanted = (outcome or "").strip()
    if not ids:
        raise Conflict("this map defines no outcomes: add one in the editor", field="outcome")
    if wanted and wanted not in ids:
        raise InvalidInput(
            f"no outcome {wanted!r} on this map; expected one of: {', '.join(ids)}",
            field="outcome",
        )
    chosen = wanted or ids[0]
    view: OutcomeView = _view(
        request, ws, stored, flt, "outcomes", chosen, lambda s, b, jm: outcome_view(b, jm, chosen)
    )
    return OutcomesOut(
        **_head(stored, flt),
        size=SizeOut.of(view.size),
        outcome=OutcomeRefOut(id=view.outcome.id, name=view.outcome.name),
        outcomes=[OutcomeRefOut(id=o.id, name=o.name) for o in journey.outcomes],
        comparison=view.comparison,
    )


@router.get(_MAP + "/analytics/survey", dependencies=FILTER)
def survey(
    request: Request,
    user: CurrentUser,
    ws: int,
    map_id: str,
    by: Annotated[
        str, Query(description="Group by " + ", ".join(SURVEY_GROUPS) + " (default stage).")
    ] = "stage",
) -> SurveyOut:
    """NPS / CSAT / CES with 95% CIs and N per group (the survey page)."""
    stored, flt = _scoped(request, user, ws, map_id)
    by = by.strip() or "stage"
    if by not in SURVEY_GROUPS:
        raise InvalidInput(
            f"cannot group survey metrics by {by!r}; expected one of: {', '.join(SURVEY_GROUPS)}",
            field="by",
        )
    personas = flt.personas

    def make(source: WorkspaceEvents, bound: nw.LazyFrame[Any], jm: JourneyMap) -> SurveyView:
        return survey_view(bound, jm, by, personas=personas, customers=source.customers)

    # The persona grouping depends on the personas' rules, so they are part of the key.
    param = by + ("|" + "|".join(p.model_dump_json() for p in personas) if by == "persona" else "")
    view: SurveyView = _view(request, ws, stored, flt, "survey", param, make)
    groups = [
        SurveyGroupOut(
            group=r.group,
            label=view.label(r.group),
            score_type=r.score_type,
            n=r.n,
            value=r.value,
            low=r.low,
            high=r.high,
            se=r.se,
            share_ge5=r.share_ge5,
            flag=r.flag,
        )
        for r in view.rows
    ]
    return SurveyOut(**_head(stored, flt), size=SizeOut.of(view.size), by=by, groups=groups)
