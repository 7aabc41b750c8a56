"""The persona / segment filter and the time window of the map view and analytics pages.

Query parameters ``persona=<id>`` (one of the personas the map lists),
``from=YYYY-MM-DD`` and ``to=YYYY-MM-DD`` (both days included); empty or missing means no
filter. Parsing and meaning live in :mod:`journeylens.insights.web_views`; this module
reads the request, looks the map's personas up through the backend and turns a bad value
into a 422 naming the parameter.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from fastapi import Request

from journeylens.insights.web_views import Scope, ScopeError, parse_scope
from journeylens.model import JourneyMap, Persona
from journeylens.web.backend import InvalidInput, User
from journeylens.web.deps import backend_of

_lock = threading.Lock()


def _parsed_personas(request: Request) -> dict[tuple[int, str, int], Persona]:
    """The app's parsed personas by (workspace, id, version) — per app, as ids repeat
    across databases."""
    with _lock:
        parsed = getattr(request.app.state, "parsed_personas", None)
        if parsed is None:
            parsed = {}
            request.app.state.parsed_personas = parsed
        return parsed


def map_personas(
    request: Request,
    user: User,
    ws: int,
    journey: JourneyMap,
    versions: dict[str, int] | None = None,
) -> list[Persona]:
    """The workspace's personas that ``journey`` lists, in the map's order (ids the
    workspace has no persona for are left out). No store call when the map lists none,
    nor when the caller read the personas' ``versions`` already (by persona id)."""
    if not journey.personas:
        return []
    backend = backend_of(request)
    parsed = _parsed_personas(request)
    if versions is None:
        versions = {p.persona_id: p.version for p in backend.list_personas(user, ws)}
    out: list[Persona] = []
    for pid in journey.personas:
        if pid not in versions:
            continue
        # A saved persona version never changes: parse it once.
        key = (ws, pid, versions[pid])
        with _lock:
            cached = parsed.get(key)
        if cached is None:
            cached = backend.get_persona(user, ws, pid, versions[pid]).persona
            with _lock:
                parsed[key] = cached
                if len(parsed) > 512:
                    parsed.pop(next(iter(parsed)))
        out.append(cached)
    return out


@dataclass(frozen=True)
class Filter:
    """The request's scope and what the filter form shows."""

    scope: Scope
    personas: tuple[Persona, ...]

    def query(self, **extra: str) -> str:
        """The query string (with a leading ``?``, or empty) that keeps this filter, plus
        ``extra`` parameters (e.g. the chosen outcome)."""
        params = {
            "persona": self.scope.persona.id if self.scope.persona else "",
            "from": self.scope.first_day.isoformat() if self.scope.first_day else "",
            "to": self.scope.last_day.isoformat() if self.scope.last_day else "",
            **extra,
        }
        kept = {k: v for k, v in params.items() if v}
        return "?" + urlencode(kept) if kept else ""

    def context(self) -> dict[str, Any]:
        """Template values of the filter form (``analytics_filter.html``)."""
        s = self.scope
        return {
            "filter": self,
            "filter_personas": self.personas,
            "filter_persona": s.persona.id if s.persona else "",
            "filter_from": s.first_day.isoformat() if s.first_day else "",
            "filter_to": s.last_day.isoformat() if s.last_day else "",
            "filter_label": s.label(),
            "filter_query": self.query(),
            # The same parameters after a URL's own query (``panel?target=…&persona=…``).
            "filter_amp": "&" + self.query()[1:] if self.query() else "",
        }


def filter_of(
    request: Request,
    user: User,
    ws: int,
    journey: JourneyMap,
    versions: dict[str, int] | None = None,
) -> Filter:
    """The filter of the request's query (422 naming the parameter when a value is bad);
    ``versions`` as for :func:`map_personas`."""
    q = request.query_params
    personas = map_personas(request, user, ws, journey, versions)
    try:
        scope = parse_scope(q.get("persona"), q.get("from"), q.get("to"), personas)
    except ScopeError as exc:
        raise InvalidInput(exc.message, field=exc.field) from None
    return Filter(scope, tuple(personas))
