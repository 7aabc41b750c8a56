"""JSON REST API under ``/api/v1`` (OpenAPI at ``/api/v1/openapi.json``).

Scripts authenticate with ``Authorization: Bearer <token>``; the browser's session cookie
works too, with the CSRF header on state-changing calls.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Body, Depends, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from journeylens.formats.io import DocumentError, to_data, validate_data
from journeylens.model import JourneyMap
from journeylens.web.backend import Comment, InvalidInput, StoredMap
from journeylens.web.deps import CurrentUser, backend_of, csrf_protect
from journeylens.web.svg_cache import designed_svg, svg_response

router = APIRouter(prefix="/api/v1", tags=["api"], dependencies=[Depends(csrf_protect)])


class WorkspaceOut(BaseModel):
    """A workspace and the caller's role in it."""

    id: int
    name: str
    role: str


class MapSummaryOut(BaseModel):
    """One map of a workspace."""

    map_id: str
    title: str
    status: str
    owner: str
    version: int
    updated_at: datetime
    updated_by: str


class MapOut(BaseModel):
    """A map at one version; ``map`` is the journeylens/journeymap/v1 document."""

    version: int
    updated_at: datetime
    updated_by: str
    map: dict[str, Any]


class VersionOut(BaseModel):
    """One entry of a map's history."""

    version: int
    author: str
    created_at: datetime
    message: str


class CommentIn(BaseModel):
    """A new comment on ``target`` (``stage:ID``, ``step:ID`` or ``touchpoint:ID``)."""

    target: str = Field(min_length=1, max_length=200)
    body: str = Field(min_length=1, max_length=10_000)


class CommentOut(BaseModel):
    """A comment."""

    id: int
    target: str
    author: str
    body: str
    created_at: datetime
    resolved: bool
    mentions: list[str]


class TokenIn(BaseModel):
    """A new API token: its name, workspace and scopes (``read``, ``write``, ``ingest``)."""

    name: str = Field(min_length=1, max_length=100)
    workspace_id: int
    scopes: list[str] = Field(default_factory=lambda: ["read"])


def map_out(stored: StoredMap) -> MapOut:
    """The API form of a stored map."""
    return MapOut(
        version=stored.version,
        updated_at=stored.updated_at,
        updated_by=stored.updated_by,
        map=to_data(stored.journey),
    )


def comment_out(c: Comment) -> CommentOut:
    """The API form of a comment."""
    return CommentOut(
        id=c.id,
        target=c.target,
        author=c.author,
        body=c.body,
        created_at=c.created_at,
        resolved=c.resolved,
        mentions=list(c.mentions),
    )


def parse_map(data: Any, file: str = "<request>") -> JourneyMap:
    """Validate a map document with the model (same messages as ``journeylens validate``)."""
    if not isinstance(data, dict):
        raise InvalidInput("expected a journey map object", field="map")
    try:
        return validate_data(data, JourneyMap, {}, file)
    except DocumentError as exc:
        issues = [{"field": i.path, "reason": i.message} for i in exc.issues]
        first = issues[0] if issues else {"field": "map", "reason": "invalid map"}
        raise InvalidInput(first["reason"], field=first["field"], issues=issues) from None


@router.get("/workspaces")
def list_workspaces(
    request: Request,
    user: CurrentUser,
) -> list[WorkspaceOut]:
    """The workspaces the caller belongs to."""
    return [
        WorkspaceOut(id=w.id, name=w.name, role=w.role.name.lower())
        for w in backend_of(request).workspaces(user)
    ]


@router.get("/workspaces/{ws}/maps")
def list_maps(
    request: Request,
    user: CurrentUser,
    ws: int,
) -> list[MapSummaryOut]:
    """The maps of a workspace."""
    return [MapSummaryOut(**vars(m)) for m in backend_of(request).list_maps(user, ws)]


@router.post("/workspaces/{ws}/maps", status_code=201)
def create_map(
    request: Request,
    user: CurrentUser,
    ws: int,
    document: Annotated[dict[str, Any], Body()],
) -> MapOut:
    """Add a map (editor or above)."""
    return map_out(backend_of(request).create_map(user, ws, parse_map(document)))


@router.get("/workspaces/{ws}/maps/{map_id}")
def get_map(
    request: Request,
    user: CurrentUser,
    ws: int,
    map_id: str,
) -> MapOut:
    """The latest version of a map."""
    return map_out(backend_of(request).get_map(user, ws, map_id))


@router.put("/workspaces/{ws}/maps/{map_id}")
def save_map(
    request: Request,
    user: CurrentUser,
    ws: int,
    map_id: str,
    base_version: int,
    document: Annotated[dict[str, Any], Body()],
    after: BackgroundTasks,
) -> MapOut:
    """Save a new version based on ``base_version``; 409 with the changes if it is stale."""
    journey = parse_map(document)
    if journey.id != map_id:
        raise InvalidInput(f"the map id {journey.id!r} does not match the URL", field="id")
    stored = backend_of(request).save_map(user, ws, journey, base_version)
    # Draw the new version once the answer is sent: its readers ask for it next, and they
    # would otherwise wait for the drawing (one render per version, shared by the pages).
    after.add_task(designed_svg, request, ws, stored)
    return map_out(stored)


@router.get("/workspaces/{ws}/maps/{map_id}/svg", response_class=Response)
def map_svg(
    request: Request,
    user: CurrentUser,
    ws: int,
    map_id: str,
) -> Response:
    """The designed map as SVG (rendered once per version; ETag, 304 when unchanged)."""
    stored = backend_of(request).get_map(user, ws, map_id)
    return svg_response(request, ws, stored)


@router.get("/workspaces/{ws}/maps/{map_id}/versions")
def history(
    request: Request,
    user: CurrentUser,
    ws: int,
    map_id: str,
) -> list[VersionOut]:
    """Every version of the map, newest first."""
    return [VersionOut(**vars(v)) for v in backend_of(request).history(user, ws, map_id)]


@router.get("/workspaces/{ws}/maps/{map_id}/diff")
def diff(
    request: Request, user: CurrentUser, ws: int, map_id: str, old: int, new: int
) -> dict[str, Any]:
    """The semantic diff from version ``old`` to version ``new``, one change per line."""
    return {"old": old, "new": new, "changes": backend_of(request).diff(user, ws, map_id, old, new)}


@router.post("/workspaces/{ws}/maps/{map_id}/versions/{version}/restore")
def restore(
    request: Request,
    user: CurrentUser,
    ws: int,
    map_id: str,
    version: int,
) -> MapOut:
    """Save an old version again as the newest one."""
    return map_out(backend_of(request).restore(user, ws, map_id, version))


@router.get("/workspaces/{ws}/maps/{map_id}/comments")
def comments(
    request: Request,
    user: CurrentUser,
    ws: int,
    map_id: str,
) -> list[CommentOut]:
    """The map's comments, oldest first."""
    return [comment_out(c) for c in backend_of(request).comments(user, ws, map_id)]


@router.post("/workspaces/{ws}/maps/{map_id}/comments", status_code=201)
def add_comment(
    request: Request,
    user: CurrentUser,
    ws: int,
    map_id: str,
    body: CommentIn,
) -> CommentOut:
    """Comment on a stage, step or touchpoint."""
    return comment_out(backend_of(request).add_comment(user, ws, map_id, body.target, body.body))


@router.post("/workspaces/{ws}/maps/{map_id}/comments/{comment_id}/resolve")
def resolve(
    request: Request,
    user: CurrentUser,
    ws: int,
    map_id: str,
    comment_id: int,
) -> CommentOut:
    """Mark a comment resolved."""
    return comment_out(backend_of(request).set_resolved(user, ws, map_id, comment_id, True))


@router.post("/workspaces/{ws}/maps/{map_id}/comments/{comment_id}/reopen")
def reopen(
    request: Request,
    user: CurrentUser,
    ws: int,
    map_id: str,
    comment_id: int,
) -> CommentOut:
    """Reopen a resolved comment."""
    return comment_out(backend_of(request).set_resolved(user, ws, map_id, comment_id, False))


@router.post("/tokens", status_code=201)
def create_token(
    request: Request,
    user: CurrentUser,
    body: TokenIn,
) -> dict[str, str]:
    """A new API token for the caller (shown only in this answer)."""
    return {
        "name": body.name,
        "token": backend_of(request).create_token(user, body.workspace_id, body.name, body.scopes),
    }


# -- personas -----------------------------------------------------------------------------


class PersonaOut(BaseModel):
    """A persona at one version; ``persona`` is the journeylens/persona/v1 document."""

    version: int
    current_version: int
    updated_at: datetime
    updated_by: str
    persona: dict[str, Any]


def persona_out(stored: Any) -> PersonaOut:
    """The API form of a stored persona."""
    return PersonaOut(
        version=stored.version,
        current_version=stored.current_version,
        updated_at=stored.updated_at,
        updated_by=stored.updated_by,
        persona=to_data(stored.persona),
    )


@router.get("/workspaces/{ws}/personas")
def list_personas(request: Request, user: CurrentUser, ws: int) -> list[dict[str, Any]]:
    """The workspace's personas: ``[{"persona_id", "name", "version", "updated_at", "updated_by"}]``."""
    return [vars(p) for p in backend_of(request).list_personas(user, ws)]


@router.post("/workspaces/{ws}/personas", status_code=201)
def create_persona(
    request: Request, user: CurrentUser, ws: int, document: Annotated[dict[str, Any], Body()]
) -> PersonaOut:
    """Add a persona (editor or above); 409 if the id is taken."""
    from journeylens.web.pages_personas import parse_persona  # imports this module

    return persona_out(backend_of(request).create_persona(user, ws, parse_persona(document)))


@router.get("/workspaces/{ws}/personas/{persona_id}")
def get_persona(
    request: Request, user: CurrentUser, ws: int, persona_id: str, version: int = 0
) -> PersonaOut:
    """The persona (an old one with ``?version=N``)."""
    return persona_out(backend_of(request).get_persona(user, ws, persona_id, version))


@router.put("/workspaces/{ws}/personas/{persona_id}")
def save_persona(
    request: Request,
    user: CurrentUser,
    ws: int,
    persona_id: str,
    base_version: int,
    document: Annotated[dict[str, Any], Body()],
) -> PersonaOut:
    """Save a new version based on ``base_version`` (409 when stale)."""
    from journeylens.web.pages_personas import parse_persona

    persona = parse_persona(document)
    if persona.id != persona_id:
        raise InvalidInput(f"the persona id {persona.id!r} does not match the URL", field="id")
    return persona_out(backend_of(request).save_persona(user, ws, persona, base_version))


@router.get("/workspaces/{ws}/personas/{persona_id}/versions")
def persona_history(
    request: Request, user: CurrentUser, ws: int, persona_id: str
) -> list[VersionOut]:
    """Every version of the persona, newest first."""
    return [
        VersionOut(**vars(v)) for v in backend_of(request).persona_history(user, ws, persona_id)
    ]


@router.delete("/workspaces/{ws}/personas/{persona_id}", status_code=204, response_class=Response)
def delete_persona(request: Request, user: CurrentUser, ws: int, persona_id: str) -> Response:
    """Delete the persona with its versions (editor or above)."""
    backend_of(request).delete_persona(user, ws, persona_id)
    return Response(status_code=204)
