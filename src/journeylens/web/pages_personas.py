"""Persona pages: list, view, create (a blank persona as ``journeylens persona new`` makes,
or a pasted YAML document), edit, version history with restore, delete.

Every persona is validated by the model (``journeylens.formats.io.validate_data``), so a
bad value answers 422 with the message ``journeylens validate`` gives; an edit based on an
old version answers 409.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from journeylens.formats.io import DocumentError, parse_model, to_data, validate_data
from journeylens.model import Channel, Generation, Persona
from journeylens.web.backend import InvalidInput, Role, User
from journeylens.web.deps import CurrentUser, backend_of, csrf_protect
from journeylens.web.pages import redirect, render
from journeylens.web.pages_edit import lines, parse_yaml_field, yaml_text

router = APIRouter(dependencies=[Depends(csrf_protect)], include_in_schema=False)


def parse_persona(data: Any) -> Persona:
    """Validate a persona document with the model (same messages as ``journeylens validate``)."""
    if not isinstance(data, dict):
        raise InvalidInput("expected a persona object", field="persona")
    try:
        return validate_data(data, Persona, {}, "<request>")
    except DocumentError as exc:
        raise _invalid(exc) from None


def _invalid(exc: DocumentError) -> InvalidInput:
    issues = [{"field": i.path or "persona", "reason": i.message} for i in exc.issues]
    first = issues[0] if issues else {"field": "persona", "reason": "invalid persona"}
    return InvalidInput(first["reason"], field=first["field"], issues=issues)


def _context(request: Request, user: User, ws: int) -> dict[str, Any]:
    role = backend_of(request).role(user, ws)
    return {
        "user": user,
        "ws": ws,
        "role": role,
        "can_edit": role >= Role.EDITOR,
        "generations": [g.value for g in Generation],
        "channels": [c.value for c in Channel],
    }


@router.get("/w/{ws}/personas")
def personas(request: Request, user: CurrentUser, ws: int) -> Response:
    """The workspace's personas, and the forms to create one."""
    return render(
        request,
        "personas.html",
        {**_context(request, user, ws), "personas": backend_of(request).list_personas(user, ws)},
    )


@router.post("/w/{ws}/personas")
def create_persona(
    request: Request,
    user: CurrentUser,
    ws: int,
    persona_id: Annotated[str, Form()] = "",
    name: Annotated[str, Form()] = "",
    generation: Annotated[str, Form()] = "",
    document: Annotated[str, Form()] = "",
) -> Response:
    """A new persona: from a pasted YAML document when given, else a blank one with an id,
    a name and a generation (what ``journeylens persona new`` writes)."""
    if document.strip():
        try:
            persona = parse_model(document, Persona, "<pasted persona>")
        except DocumentError as exc:
            raise _invalid(exc) from None
    else:
        data: dict[str, Any] = {
            "id": persona_id.strip(),
            "name": name.strip() or persona_id.replace("-", " ").replace("_", " ").title(),
        }
        if generation:
            data["demographics"] = {"generation": generation}
        persona = parse_persona(data)
    backend_of(request).create_persona(user, ws, persona)
    return redirect(f"/w/{ws}/personas/{persona.id}")


@router.get("/w/{ws}/personas/{persona_id}")
def persona_view(
    request: Request, user: CurrentUser, ws: int, persona_id: str, version: int = 0
) -> Response:
    """The persona card (an old version with ``?version=N``), its edit form and history."""
    backend = backend_of(request)
    stored = backend.get_persona(user, ws, persona_id, version)
    current = stored if not version else backend.get_persona(user, ws, persona_id)
    p = stored.persona
    return render(
        request,
        "persona.html",
        {
            **_context(request, user, ws),
            "stored": stored,
            "current": current,
            "persona": p,
            "history": backend.persona_history(user, ws, persona_id),
            "segment_yaml": yaml_text(to_data(p).get("segment")),
            "maps": [
                m
                for m in backend.list_maps(user, ws)
                if persona_id in backend.get_map(user, ws, m.map_id).journey.personas
            ],
        },
    )


@router.post("/w/{ws}/personas/{persona_id}/edit")
def edit_persona(
    request: Request,
    user: CurrentUser,
    ws: int,
    persona_id: str,
    base_version: Annotated[int, Form()],
    name: Annotated[str, Form()],
    summary: Annotated[str, Form()] = "",
    quote: Annotated[str, Form()] = "",
    age: Annotated[str, Form()] = "",
    generation: Annotated[str, Form()] = "",
    location: Annotated[str, Form()] = "",
    occupation: Annotated[str, Form()] = "",
    income_band: Annotated[str, Form()] = "",
    values: Annotated[str, Form()] = "",
    attitudes: Annotated[str, Form()] = "",
    interests: Annotated[str, Form()] = "",
    goals: Annotated[str, Form()] = "",
    needs: Annotated[str, Form()] = "",
    frustrations: Annotated[str, Form()] = "",
    preferred_channels: Annotated[str, Form()] = "",
    segment: Annotated[str, Form()] = "",
    share: Annotated[str, Form()] = "",
) -> Response:
    """Save every field of the persona as a new version (lists: one item per line;
    channels: one per line or comma separated; the segment rule as YAML)."""
    demographics = {
        key: value.strip()
        for key, value in (
            ("age", age),
            ("generation", generation),
            ("location", location),
            ("occupation", occupation),
            ("income_band", income_band),
        )
        if value.strip()
    }
    data: dict[str, Any] = {
        "id": persona_id,
        "name": name,
        "summary": summary,
        "quote": quote,
        "demographics": demographics,
        "psychographics": {
            "values": lines(values),
            "attitudes": lines(attitudes),
            "interests": lines(interests),
        },
        "goals": lines(goals),
        "needs": lines(needs),
        "frustrations": lines(frustrations),
        "preferred_channels": [
            c.strip() for c in preferred_channels.replace(",", "\n").splitlines() if c.strip()
        ],
    }
    rule = parse_yaml_field(segment, "segment")
    if rule is not None:
        data["segment"] = rule
    if share.strip():
        try:
            data["share"] = float(share)
        except ValueError:
            raise InvalidInput(
                f"expected a number above 0 and at most 1, got {share!r}", field="share"
            ) from None
    persona = parse_persona(data)
    backend_of(request).save_persona(user, ws, persona, base_version)
    return redirect(f"/w/{ws}/personas/{persona_id}")


@router.post("/w/{ws}/personas/{persona_id}/versions/{version}/restore")
def restore_persona(
    request: Request, user: CurrentUser, ws: int, persona_id: str, version: int
) -> Response:
    """Make an old version current again, as a new version."""
    backend_of(request).restore_persona(user, ws, persona_id, version)
    return redirect(f"/w/{ws}/personas/{persona_id}")


@router.post("/w/{ws}/personas/{persona_id}/delete")
def delete_persona(request: Request, user: CurrentUser, ws: int, persona_id: str) -> Response:
    """Delete the persona with all its versions."""
    backend_of(request).delete_persona(user, ws, persona_id)
    return redirect(f"/w/{ws}/personas")
