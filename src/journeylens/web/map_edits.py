"""Edits of a map's plain data shared by the editor routes (web/pages.py, web/pages_edit.py):
load the latest version, find an element (422 naming the form field when missing), save
through the model (same messages as ``journeylens validate``; 409 on a stale base)."""

from __future__ import annotations

from typing import Any, cast

from fastapi import Request
from fastapi.responses import RedirectResponse, Response

from journeylens.formats.io import to_data
from journeylens.web.api import parse_map
from journeylens.web.backend import InvalidInput, User
from journeylens.web.deps import backend_of


def load(request: Request, user: User, ws: int, map_id: str) -> dict[str, Any]:
    """The map's latest version as plain data (viewer or above; 404 for an unknown map)."""
    return to_data(backend_of(request).get_map(user, ws, map_id).journey)


def save(
    request: Request, user: User, ws: int, map_id: str, base_version: int, data: dict[str, Any]
) -> Response:
    """Validate ``data`` with the model and save it as a new version; back to the editor."""
    journey = parse_map(data)
    if journey.id != map_id:
        raise InvalidInput(f"the map id must stay {map_id!r}", field="id")
    backend_of(request).save_map(user, ws, journey, base_version)
    return RedirectResponse(f"/w/{ws}/m/{map_id}/edit", status_code=303)


def find_stage(data: dict[str, Any], stage_id: str, field: str = "stage_id") -> dict[str, Any]:
    """The stage with this id (422 naming ``field`` when there is none)."""
    for stage in data["stages"]:
        if stage.get("id") == stage_id:
            return cast(dict[str, Any], stage)
    raise InvalidInput(f"no stage with id {stage_id!r}", field=field)


def find_step(data: dict[str, Any], step_id: str, field: str = "step_id") -> dict[str, Any]:
    """The step with this id, anywhere in the map."""
    for stage in data["stages"]:
        for step in stage.setdefault("steps", []):
            if step.get("id") == step_id:
                return cast(dict[str, Any], step)
    raise InvalidInput(f"no step with id {step_id!r}", field=field)


def find_touchpoint(
    data: dict[str, Any], tp_id: str, field: str = "tp_id"
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The step holding the touchpoint and the touchpoint (ids are unique per map)."""
    for stage in data["stages"]:
        for step in stage.get("steps", []):
            for tp in step.setdefault("touchpoints", []):
                if tp.get("id") == tp_id:
                    return step, tp
    raise InvalidInput(f"no touchpoint with id {tp_id!r}", field=field)


def detach_step(data: dict[str, Any], step: dict[str, Any]) -> None:
    """Take ``step`` out of the stage holding it."""
    for stage in data["stages"]:
        if step in stage.get("steps", []):
            stage["steps"].remove(step)
