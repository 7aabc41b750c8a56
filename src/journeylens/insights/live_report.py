"""The HTML report of a map measured on a workspace's events, as one library call.

This is what ``journeylens report MAP --workspace W`` computes (the live map, one bound and
cached frame for the other analytics, the report's charts and findings), packaged for
callers that hold a parsed map rather than a file: the web app's report export, which
passes the page's filter (a persona's segment and a window of days, :class:`Scope`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from journeylens.analytics.binding import Population, bind
from journeylens.analytics.emotion import with_sentiment
from journeylens.analytics.livemap import compute_livemap
from journeylens.engine.frames import cache, to_lazy
from journeylens.engine.store import StoreError
from journeylens.engine.workspace import Workspace, WorkspaceError
from journeylens.insights.report_data import build_report_data
from journeylens.insights.web_views import Scope
from journeylens.model import JourneyMap, Persona
from journeylens.render.figures import figures_from_livemap
from journeylens.render.report import render_report_html


class NoEventsError(ValueError):
    """The workspace is missing, unreadable or holds no events: there is nothing to report."""


def live_report_html(
    workspace: Path | None,
    journey: JourneyMap,
    personas: Sequence[Persona] = (),
    *,
    title: str | None = None,
    scope: Scope | None = None,
) -> str:
    """The self-contained HTML report of ``journey`` over the events of ``workspace``.

    ``scope`` narrows every figure, chart and finding to a persona's customers and a
    window of days, as the web app's map view and PNG / PDF exports do (default: every
    customer, every day); the report's header names it and the persona's card is drawn.

    Raises :class:`NoEventsError` (naming what is missing) without a workspace or events,
    or when the scope holds none, and
    :class:`~journeylens.render.charts.ChartsUnavailableError` without the charts extra.
    """
    if workspace is None:
        raise NoEventsError(
            "the report needs events: start the server with --workspace W and ingest events"
        )
    try:
        ws = Workspace.open(workspace)
        con = ws.store.connect(read_only=True)
    except (WorkspaceError, StoreError) as exc:
        raise NoEventsError(f"the report needs events: workspace {workspace}: {exc}") from exc
    try:
        raw = ws.store.events(con)
        if not raw.limit(1).fetchall():
            raise NoEventsError(
                f"the report needs events: workspace {workspace} has none yet "
                "(journeylens ingest … --workspace W)"
            )
        scope = scope or Scope()
        everything = with_sentiment(to_lazy(raw))
        customers = con.table("customers")
        chosen = (
            Population.for_persona(scope.persona) if scope.persona is not None else None
        )  # as the map view's live map (web_views.live_map)
        livemap = compute_livemap(
            everything,
            journey,
            population=chosen,
            customers=customers if chosen is not None and chosen.needs_customers else None,
            window=scope.window(),
        )
        if livemap.units == 0:
            raise NoEventsError(f"the report needs events: there are none for {scope.label()}")
        population = scope.population()  # the persona's segment and the window together
        events = population.apply(everything, customers if population.needs_customers else None)
        figures = figures_from_livemap(livemap.to_dict())
        bound = cache(bind(events, journey))
        data = build_report_data(
            journey, livemap, bound, events, con, personas, figures, as_of=livemap.data_end
        )
        card = list(personas[:1])
        if scope.persona is not None:
            card = [scope.persona]  # the filtered persona's card, as on the map view
        return render_report_html(journey, card, figures, data.charts, data.findings, title=title)
    finally:
        con.close()
