"""Invariants between the parts of a journey map, checked on plain data.

They run on plain data (not on built objects) so that the formats layer can report them
together with field errors: a file with a bad emotion score *and* a duplicate stage id
gets both messages at once, as users expect from a validator.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from journeylens.model.errors import Loc, format_loc

#: The standard lane ids (kept here as plain strings so this module needs no enum import).
STANDARD_LANES = (
    "actions",
    "touchpoints",
    "thoughts",
    "emotion",
    "pain_points",
    "opportunities",
    "frontstage",
    "backstage",
    "support",
    "owners",
    "kpis",
    "evidence",
)


def _items(value: Any) -> list[tuple[int, Mapping[str, Any]]]:
    if not isinstance(value, list):
        return []
    return [(i, v) for i, v in enumerate(value) if isinstance(v, Mapping)]


def _str_items(value: Any) -> list[tuple[int, str]]:
    if not isinstance(value, list):
        return []
    return [(i, v) for i, v in enumerate(value) if isinstance(v, str)]


def journey_invariants(data: Mapping[str, Any]) -> list[tuple[Loc, str]]:
    """Every broken invariant of a journey map given as plain data, with its location.

    Checks: at least one stage; ids unique within their kind (stages, steps, touchpoints,
    pain points, opportunities, KPIs, outcomes, custom lanes); KPI, outcome and custom-lane
    references resolve; the lane order names known lanes once each; a map does not improve
    on itself. Malformed parts are skipped here (field validation reports them).
    """
    problems: list[tuple[Loc, str]] = []
    stages = data.get("stages")
    if isinstance(stages, list) and not stages:
        problems.append((("stages",), "a journey map needs at least one stage"))

    seen: dict[str, dict[str, Loc]] = {}

    def unique(kind: str, item: Mapping[str, Any], loc: Loc) -> None:
        ident = item.get("id")
        if not isinstance(ident, str):
            return
        first = seen.setdefault(kind, {}).get(ident)
        if first is not None:
            problems.append(
                ((*loc, "id"), f"duplicate {kind} id '{ident}' (first used at {format_loc(first)})")
            )
        else:
            seen[kind][ident] = loc

    for i, kpi in _items(data.get("kpis")):
        unique("KPI", kpi, ("kpis", i))
    for i, outcome in _items(data.get("outcomes")):
        unique("outcome", outcome, ("outcomes", i))
    lanes = data.get("lanes")
    lanes = lanes if isinstance(lanes, Mapping) else {}
    for i, lane in _items(lanes.get("custom")):
        unique("custom lane", lane, ("lanes", "custom", i))
    kpi_ids = set(seen.get("KPI", {}))
    outcome_ids = set(seen.get("outcome", {}))
    custom_lanes = set(seen.get("custom lane", {}))

    for i, kpi in _items(data.get("kpis")):
        ref = kpi.get("outcome")
        if isinstance(ref, str) and ref not in outcome_ids:
            problems.append(
                (("kpis", i, "outcome"), f"KPI '{kpi.get('id')}' refers to unknown outcome '{ref}'")
            )

    listed: set[str] = set()
    for i, name in _str_items(lanes.get("order")):
        if name not in STANDARD_LANES and name not in custom_lanes:
            problems.append(
                (
                    ("lanes", "order", i),
                    f"unknown lane '{name}' (expected one of {', '.join(STANDARD_LANES)} "
                    "or a custom lane id)",
                )
            )
        elif name in listed:
            problems.append((("lanes", "order", i), f"lane '{name}' is listed twice"))
        listed.add(name)

    for s, stage in _items(stages):
        unique("stage", stage, ("stages", s))
        for k, ref in _str_items(stage.get("kpis")):
            if ref not in kpi_ids:
                problems.append(
                    (
                        ("stages", s, "kpis", k),
                        f"stage '{stage.get('id')}' refers to unknown KPI '{ref}'",
                    )
                )
        for t, step in _items(stage.get("steps")):
            base: Loc = ("stages", s, "steps", t)
            unique("step", step, base)
            for k, ref in _str_items(step.get("kpis")):
                if ref not in kpi_ids:
                    problems.append(
                        (
                            (*base, "kpis", k),
                            f"step '{step.get('id')}' refers to unknown KPI '{ref}'",
                        )
                    )
            custom = step.get("custom")
            if isinstance(custom, Mapping):
                for key in custom:
                    if key not in custom_lanes:
                        problems.append(
                            (
                                (*base, "custom", str(key)),
                                f"step '{step.get('id')}' fills unknown custom lane '{key}' "
                                "(declare it under lanes.custom)",
                            )
                        )
            for p, tp in _items(step.get("touchpoints")):
                unique("touchpoint", tp, (*base, "touchpoints", p))
            for p, pain in _items(step.get("pain_points")):
                unique("pain point", pain, (*base, "pain_points", p))
            for p, opp in _items(step.get("opportunities")):
                unique("opportunity", opp, (*base, "opportunities", p))

    scenario = data.get("scenario")
    improves_on = scenario.get("improves_on") if isinstance(scenario, Mapping) else None
    if improves_on is not None and improves_on == data.get("id"):
        problems.append((("scenario", "improves_on"), "a map cannot improve on itself"))
    return problems
