"""The members page of a workspace (owners): list members with their roles, add an
existing account by email, change a role, remove a member.

The rules are the store's (:mod:`journeylens.store.service`): an unknown email or role
answers 422, an existing member 409, and the last owner can neither step down nor leave
(409); other workspaces' members are 404.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from journeylens.web.backend import Role
from journeylens.web.deps import CurrentUser, backend_of, csrf_protect
from journeylens.web.pages import redirect, render

router = APIRouter(dependencies=[Depends(csrf_protect)], include_in_schema=False)
ROLES = [r.name.lower() for r in Role]


@router.get("/w/{ws}/members")
def members(request: Request, user: CurrentUser, ws: int) -> Response:
    """The members and their roles, with the forms to manage them (owner)."""
    listed = backend_of(request).members(user, ws)
    return render(
        request,
        "members.html",
        {"user": user, "ws": ws, "members": listed, "roles": ROLES},
    )


@router.post("/w/{ws}/members")
def add_member(
    request: Request,
    user: CurrentUser,
    ws: int,
    email: Annotated[str, Form(max_length=320)],
    role: Annotated[str, Form(max_length=20)],
) -> Response:
    """Add the account with ``email`` as a member with ``role``."""
    backend_of(request).add_member(user, ws, email, role)
    return redirect(f"/w/{ws}/members")


@router.post("/w/{ws}/members/{member_id}/role")
def change_role(
    request: Request,
    user: CurrentUser,
    ws: int,
    member_id: int,
    role: Annotated[str, Form(max_length=20)],
) -> Response:
    """Give a member another role."""
    backend_of(request).change_role(user, ws, member_id, role)
    # An owner who stepped down can no longer manage members.
    return redirect(f"/w/{ws}/members" if member_id != user.id or role == "owner" else f"/w/{ws}")


@router.post("/w/{ws}/members/{member_id}/remove")
def remove_member(request: Request, user: CurrentUser, ws: int, member_id: int) -> Response:
    """Remove a member (an owner who removes themselves goes back to their workspaces)."""
    backend_of(request).remove_member(user, ws, member_id)
    return redirect(f"/w/{ws}/members" if member_id != user.id else "/workspaces")
