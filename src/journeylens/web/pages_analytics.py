"""The analytics pages of a map: funnel, flows (Sankey), planned vs actual, outcome
comparison and survey metrics, each for the persona and time window of the query.

Every page calls the library (:mod:`journeylens.insights.web_views` over the analytics,
:mod:`journeylens.render.charts` for the charts, as the HTML report does) and only formats
the results: a chart and the table with the N behind each figure. Computed pages are
cached per (map version, events stamp, filter, view) in :class:`ViewCache`, so viewing an
unchanged map again costs a dictionary look-up.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import narwhals as nw
from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from journeylens.analytics import AnalyticsError
from journeylens.analytics.livemap import LiveMap
from journeylens.insights.web_views import (
    SURVEY_GROUPS,
    ScopeError,
    WorkspaceEvents,
    flows_view,
    outcome_view,
    planned_view,
    scope_size,
    scoped_bound,
    survey_view,
    workspace_events,
)
from journeylens.model import JourneyMap
from journeylens.render.charts import Chart, ChartsUnavailableError
from journeylens.web.backend import InvalidInput, StoredMap, User
from journeylens.web.deps import CurrentUser, backend_of, csrf_protect
from journeylens.web.filters import Filter, filter_of
from journeylens.web.pages import _events_stamp, _map_context, render, rendered_map
from journeylens.web.workspace_store import events_root

router = APIRouter(dependencies=[Depends(csrf_protect)], include_in_schema=False)

#: The tabs of the analytics pages: (key, label, path after ``/analytics``).
TABS: tuple[tuple[str, str, str], ...] = (
    ("funnel", "Funnel", ""),
    ("flows", "Flows", "/flows"),
    ("planned", "Planned vs actual", "/planned"),
    ("outcomes", "Outcomes", "/outcomes"),
    ("survey", "Survey", "/survey"),
)
NO_EVENTS = "No events in this workspace: ingest events to see the analytics."


@dataclass(frozen=True)
class Computed:
    """What a page shows: the view (a :mod:`~journeylens.insights.web_views` result), its
    charts, and a problem in words instead when there is nothing to show."""

    view: Any = None
    charts: tuple[Chart, ...] = ()
    problem: str | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)


class ViewCache:
    """Computed analytics pages, least recently used dropped first; keyed by (workspace,
    map id, map version, events stamp, filter, view, parameter) — every part that can
    change the result, so a hit is always current."""

    def __init__(self, size: int = 128) -> None:
        self._items: OrderedDict[tuple[Any, ...], Computed] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def get(self, key: tuple[Any, ...]) -> Computed | None:
        """The cached page, marked as recently used."""
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key: tuple[Any, ...], value: Computed) -> None:
        """Remember ``value``, dropping the least recently used entry when full."""
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self._size:
                self._items.popitem(last=False)


_cache_lock = threading.Lock()


def view_cache(request: Request) -> ViewCache:
    """The app's analytics cache (made on first use, one per app)."""
    with _cache_lock:
        cache = getattr(request.app.state, "analytics_cache", None)
        if cache is None:
            cache = ViewCache()
            request.app.state.analytics_cache = cache
        return cache


Compute = Callable[[WorkspaceEvents, nw.LazyFrame[Any], JourneyMap], Computed]


def computed(
    request: Request, ws: int, stored: StoredMap, flt: Filter, view: str, param: str,
    compute: Compute,
) -> Computed:  # fmt: skip
    """The page ``view`` for the filter: cached, else computed on the scope's bound events
    (a clear problem when the workspace or the scope has no events)."""
    key = (
        ws, stored.journey.id, stored.version, _events_stamp(request, ws), flt.scope.key(), view,
        param,
    )  # fmt: skip
    cache = view_cache(request)
    hit = cache.get(key)
    if hit is not None:
        return hit
    with workspace_events(events_root(request, ws)) as source:
        if source is None:
            result = Computed(problem=NO_EVENTS)
        else:
            try:
                bound = scoped_bound(source, stored.journey, flt.scope)
                empty = scope_size(bound).events == 0
            except AnalyticsError as exc:
                cache.put(key, Computed(problem=str(exc)))
                return Computed(problem=str(exc))
            if empty:
                result = Computed(problem=f"No events for {flt.scope.label()}.")
            else:
                try:
                    result = compute(source, bound, stored.journey)
                except (ChartsUnavailableError, AnalyticsError) as exc:
                    # The map or the data cannot be analysed as they are (e.g. a rule on a
                    # column the events lack): say why on the page, never a 500.
                    result = Computed(problem=str(exc))
    cache.put(key, result)
    return result


def _page(
    request: Request, user: User, ws: int, stored: StoredMap, flt: Filter, tab: str,
    template: str, result: Computed, **extra: Any,
) -> Response:  # fmt: skip
    base = f"/w/{ws}/m/{stored.journey.id}/analytics"
    keep = {k: v for k, v in extra.pop("keep", {}).items() if v}
    return render(
        request,
        template,
        {
            **_map_context(request, user, ws, stored),
            **flt.context(),
            "tabs": [(key, label, base + path + flt.query()) for key, label, path in TABS],
            "tab": tab,
            "filter_keep": sorted(keep.items()),
            "result": result,
            "view": result.view,
            "charts": result.charts,
            "problem": result.problem,
            **extra,
        },
    )


# -- funnel -------------------------------------------------------------------------------


def _funnel(live: LiveMap | None, label: str) -> Computed:
    from journeylens.render.charts import FunnelStep, funnel_chart

    if live is None:
        return Computed(problem=NO_EVENTS)
    if live.units == 0:
        return Computed(problem=f"No events for {label}.")
    steps = [FunnelStep(stage.name, stage.figures.reached) for stage in live.stages]
    chart = funnel_chart(steps, title="Funnel through the stages")
    note = f"N = {live.units:,} customers with {live.events:,} events."
    return Computed(view=live, charts=(chart,), notes=(note,))


@router.get("/w/{ws}/m/{map_id}/analytics")
def analytics(request: Request, user: CurrentUser, ws: int, map_id: str) -> Response:
    """The funnel through the stages (the report's chart) over the live map's figures."""
    stored = backend_of(request).get_map(user, ws, map_id)
    flt = filter_of(request, user, ws, stored.journey)
    key = (ws, map_id, stored.version, _events_stamp(request, ws), flt.scope.key(), "funnel", "")
    cache = view_cache(request)
    result = cache.get(key)
    if result is None:
        try:
            # The live map is the map view's (same cache): the funnel costs only its chart.
            _svg, live = rendered_map(request, ws, stored, flt.scope)
            result = _funnel(live, flt.scope.label())
        except (ChartsUnavailableError, AnalyticsError) as exc:
            result = Computed(problem=str(exc))
        cache.put(key, result)
    return _page(request, user, ws, stored, flt, "funnel", "analytics_funnel.html", result)


# -- flows --------------------------------------------------------------------------------


def _flows(source: WorkspaceEvents, bound: nw.LazyFrame[Any], journey: JourneyMap) -> Computed:
    from journeylens.render.charts import sankey_chart

    view = flows_view(bound, journey)
    if not view.links:
        return Computed(view=view, problem="No moves between stages in this scope.")
    return Computed(view=view, charts=(sankey_chart(view.links, view.order),))


@router.get("/w/{ws}/m/{map_id}/analytics/flows")
def flows(request: Request, user: CurrentUser, ws: int, map_id: str) -> Response:
    """Flows between the stages as a Sankey diagram, with the moves behind it."""
    stored = backend_of(request).get_map(user, ws, map_id)
    flt = filter_of(request, user, ws, stored.journey)
    result = computed(request, ws, stored, flt, "flows", "", _flows)
    return _page(request, user, ws, stored, flt, "flows", "analytics_flows.html", result)


# -- planned vs actual --------------------------------------------------------------------


def _planned(source: WorkspaceEvents, bound: nw.LazyFrame[Any], journey: JourneyMap) -> Computed:
    from journeylens.render.web_charts import ShareBar, shares_chart

    view = planned_view(bound, journey)
    c = view.conformance
    bars = [
        ShareBar("journeys in the designed order (fitness)", c.paths - c.backtrack_paths, c.paths),
        ShareBar("journeys that go back (backtracks)", c.backtrack_paths, c.paths),
        ShareBar("events no touchpoint matches (unbound)", c.unbound_events, c.events),
    ]
    bars += [
        ShareBar(f"skipped “{view.names.get(s.stage, s.stage)}”", s.skipped, c.paths)
        for s in c.skips
    ]
    chart = shares_chart(
        bars,
        title="Planned vs actual",
        description="How the observed journeys follow the designed order of the stages.",
    )
    return Computed(view=view, charts=(chart,))


@router.get("/w/{ws}/m/{map_id}/analytics/planned")
def planned(request: Request, user: CurrentUser, ws: int, map_id: str) -> Response:
    """Planned vs actual: fitness, skips, backtracks, unbound share and the edge diff."""
    stored = backend_of(request).get_map(user, ws, map_id)
    flt = filter_of(request, user, ws, stored.journey)
    result = computed(request, ws, stored, flt, "planned", "", _planned)
    return _page(request, user, ws, stored, flt, "planned", "analytics_planned.html", result)


# -- outcome comparison -------------------------------------------------------------------


@router.get("/w/{ws}/m/{map_id}/analytics/outcomes")
def outcomes(request: Request, user: CurrentUser, ws: int, map_id: str) -> Response:
    """Outcome comparison for one of the map's outcomes (``outcome=<id>``, the first by
    default): odds ratio with 95% CI, lift, p and BH q per feature."""
    from journeylens.render.charts import forest_plot

    stored = backend_of(request).get_map(user, ws, map_id)
    journey = stored.journey
    flt = filter_of(request, user, ws, journey)
    wanted = request.query_params.get("outcome", "").strip()
    ids = [o.id for o in journey.outcomes]
    if wanted and wanted not in ids:
        known = ", ".join(ids) or "(the map defines no outcomes)"
        raise InvalidInput(
            f"no outcome {wanted!r} on this map; expected one of: {known}", field="outcome"
        )
    chosen = wanted or (ids[0] if ids else "")

    def compute(source: WorkspaceEvents, bound: nw.LazyFrame[Any], jm: JourneyMap) -> Computed:
        view = outcome_view(bound, jm, chosen)
        if not view.forest:
            return Computed(
                view=view,
                problem="No touchpoint or channel was used by enough customers to test "
                f"(at least {view.comparison.min_support} with it).",
            )
        title = f"Outcome comparison: {view.outcome.name}"
        return Computed(view=view, charts=(forest_plot(view.forest, title=title),))

    if not chosen:
        result = Computed(problem="This map defines no outcomes: add one in the editor.")
    else:
        try:
            result = computed(request, ws, stored, flt, "outcomes", chosen, compute)
        except ScopeError as exc:  # only if the map changed under us
            raise InvalidInput(exc.message, field=exc.field) from None
    links = [
        (o.id, o.name, f"{request.url.path}{flt.query(outcome=o.id)}") for o in journey.outcomes
    ]
    return _page(
        request, user, ws, stored, flt, "outcomes", "analytics_outcomes.html", result,
        keep={"outcome": chosen}, outcome=chosen, outcome_links=links,
    )  # fmt: skip


# -- survey metrics -----------------------------------------------------------------------


@router.get("/w/{ws}/m/{map_id}/analytics/survey")
def survey(request: Request, user: CurrentUser, ws: int, map_id: str) -> Response:
    """NPS / CSAT / CES with 95% CIs and N by stage, step, touchpoint or persona
    (``by=…``, stage by default)."""
    from journeylens.render.web_charts import survey_groups_chart

    stored = backend_of(request).get_map(user, ws, map_id)
    flt = filter_of(request, user, ws, stored.journey)
    by = request.query_params.get("by", "").strip() or "stage"
    if by not in SURVEY_GROUPS:
        raise InvalidInput(
            f"cannot group survey metrics by {by!r}; expected one of: {', '.join(SURVEY_GROUPS)}",
            field="by",
        )

    def compute(source: WorkspaceEvents, bound: nw.LazyFrame[Any], jm: JourneyMap) -> Computed:
        view = survey_view(bound, jm, by, personas=flt.personas, customers=source.customers)
        if not view.rows:
            problem = "No survey answers in this scope."
            if by == "persona" and not flt.personas:
                problem = "This map lists no personas of the workspace to group by."
            return Computed(view=view, problem=problem)
        chart = survey_groups_chart(view.points(), title=f"Survey metrics by {by}")
        return Computed(view=view, charts=(chart,))

    # The persona grouping depends on the personas' rules, so they are part of the key.
    param = by + (
        "|" + "|".join(p.model_dump_json() for p in flt.personas) if by == "persona" else ""
    )
    result = computed(request, ws, stored, flt, "survey", param, compute)
    links = [(g, f"{request.url.path}{flt.query(by=g)}") for g in SURVEY_GROUPS]
    return _page(
        request, user, ws, stored, flt, "survey", "analytics_survey.html", result,
        keep={"by": by}, by=by, by_links=links,
    )  # fmt: skip
