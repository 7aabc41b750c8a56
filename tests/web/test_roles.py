"""The role matrix: every endpoint × (anonymous, viewer, commenter, editor, owner, member of
another workspace). Each answer is either allowed (2xx / 3xx) or 401 / 403, nothing in
between, and no answer to an outsider carries the workspace's data."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from tests.web.conftest import World
from tests.web.roles_helpers import RANK as RANK
from tests.web.roles_helpers import WHO as WHO
from tests.web.roles_helpers import (
    Endpoint,
    check_every_role,
    check_other_workspace,
    outsider_of_scoped,
    owner_of,
)
from tests.web.roles_helpers import client_of as _client  # noqa: F401
from tests.web.roles_helpers import form as _form
from tests.web.roles_helpers import get as _get
from tests.web.roles_helpers import map_version as _version

from journeylens.web.backend import Role

# The helpers keep the names the matrices had before tests/web/roles_helpers.py (RANK, WHO,
# _client, _get, _form, _version): test_roles_api.py imports some of them from here.

_made = itertools.count(1)


def _comment_id(w: World) -> int:
    return w.backend.add_comment(owner_of(w), w.ws, "shop", "step:see-ad", "to resolve").id


def _share_id(w: World) -> int:
    return w.backend.create_share(owner_of(w), w.ws, "shop").id


def _api(method: str, path: str, body: Callable[[World], Any] | None = None) -> Callable[..., Any]:
    def call(w: World, ws: int, c: TestClient, t: str) -> Any:
        json = body(w) if body is not None else None
        return c.request(
            method, path.format(ws=ws, v=_version(w)), json=json, headers={"X-CSRF-Token": t}
        )

    return call


def _map_doc(w: World) -> dict[str, Any]:
    from journeylens.formats.io import to_data

    return to_data(w.backend.get_map(owner_of(w), w.ws, "shop").journey)


ENDPOINTS = [
    Endpoint("page workspaces", Role.VIEWER, _get("/workspaces"), scoped=False),
    Endpoint("page maps", Role.VIEWER, _get("/w/{ws}")),
    Endpoint("page map", Role.VIEWER, _get("/w/{ws}/m/shop")),
    Endpoint("page panel", Role.VIEWER, _get("/w/{ws}/m/shop/panel?target=step:see-ad")),
    Endpoint("page editor", Role.EDITOR, _get("/w/{ws}/m/shop/edit")),
    Endpoint("page versions", Role.VIEWER, _get("/w/{ws}/m/shop/versions")),
    Endpoint("page diff", Role.VIEWER, _get("/w/{ws}/m/shop/diff?old=1&new=1")),
    Endpoint(
        "api diff", Role.VIEWER, _api("GET", "/api/v1/workspaces/{ws}/maps/shop/diff?old=1&new=1")
    ),
    Endpoint("page analytics", Role.VIEWER, _get("/w/{ws}/m/shop/analytics")),
    Endpoint("export yaml", Role.VIEWER, _get("/w/{ws}/m/shop/export.yaml")),
    Endpoint("export svg", Role.VIEWER, _get("/w/{ws}/m/shop/export.svg")),
    Endpoint(
        "form new map",
        Role.EDITOR,
        _form(
            "/w/{ws}/maps",
            lambda w: {"template": "five-stage", "map_id": f"m{next(_made)}", "title": "T"},
        ),
    ),
    Endpoint(
        "form edit step",
        Role.EDITOR,
        _form(
            "/w/{ws}/m/shop/edit/step",
            lambda w: {
                "base_version": _version(w),
                "step_id": "see-ad",
                "name": "Sees an ad",
                "emotion": "0.5",
            },
        ),
    ),
    Endpoint(
        "form rename stage",
        Role.EDITOR,
        _form(
            "/w/{ws}/m/shop/edit/stage",
            lambda w: {
                "base_version": _version(w),
                "action": "rename",
                "stage_id": "awareness",
                "name": "Awareness",
            },
        ),
    ),
    Endpoint(
        "form reorder",
        Role.EDITOR,
        _form(
            "/w/{ws}/m/shop/edit/reorder",
            lambda w: {
                "base_version": _version(w),
                "order": "awareness,consideration,purchase,retention,advocacy",
            },
        ),
    ),
    Endpoint("form restore", Role.EDITOR, _form("/w/{ws}/m/shop/versions/1/restore", lambda w: {})),
    Endpoint(
        "form comment",
        Role.COMMENTER,
        _form("/w/{ws}/m/shop/comments", lambda w: {"target": "stage:awareness", "body": "hello"}),
    ),
    Endpoint(
        "form resolve",
        Role.COMMENTER,
        lambda w, ws, c, t: c.post(
            f"/w/{ws}/m/shop/comments/{_comment_id(w)}/resolve", data={"csrf_token": t}
        ),
    ),
    Endpoint("form share", Role.EDITOR, _form("/w/{ws}/m/shop/share", lambda w: {})),
    Endpoint(
        "form revoke",
        Role.EDITOR,
        lambda w, ws, c, t: c.post(f"/w/{ws}/shares/{_share_id(w)}/revoke", data={"csrf_token": t}),
    ),
    Endpoint("api workspaces", Role.VIEWER, _api("GET", "/api/v1/workspaces"), scoped=False),
    Endpoint("api maps", Role.VIEWER, _api("GET", "/api/v1/workspaces/{ws}/maps")),
    Endpoint("api map", Role.VIEWER, _api("GET", "/api/v1/workspaces/{ws}/maps/shop")),
    Endpoint("api svg", Role.VIEWER, _api("GET", "/api/v1/workspaces/{ws}/maps/shop/svg")),
    Endpoint(
        "api versions", Role.VIEWER, _api("GET", "/api/v1/workspaces/{ws}/maps/shop/versions")
    ),
    Endpoint(
        "api comments", Role.VIEWER, _api("GET", "/api/v1/workspaces/{ws}/maps/shop/comments")
    ),
    Endpoint(
        "api create map",
        Role.EDITOR,
        _api(
            "POST",
            "/api/v1/workspaces/{ws}/maps",
            lambda w: {**_map_doc(w), "id": f"api{next(_made)}"},
        ),
    ),
    Endpoint(
        "api save map",
        Role.EDITOR,
        _api("PUT", "/api/v1/workspaces/{ws}/maps/shop?base_version={v}", _map_doc),
    ),
    Endpoint(
        "api restore",
        Role.EDITOR,
        _api("POST", "/api/v1/workspaces/{ws}/maps/shop/versions/1/restore"),
    ),
    Endpoint(
        "api comment",
        Role.COMMENTER,
        _api(
            "POST",
            "/api/v1/workspaces/{ws}/maps/shop/comments",
            lambda w: {"target": "map", "body": "hi"},
        ),
    ),
    Endpoint(
        "api resolve",
        Role.COMMENTER,
        lambda w, ws, c, t: c.post(
            f"/api/v1/workspaces/{ws}/maps/shop/comments/{_comment_id(w)}/resolve",
            headers={"X-CSRF-Token": t},
        ),
    ),
    Endpoint(
        "api token",
        Role.VIEWER,
        lambda w, ws, c, t: c.post(
            "/api/v1/tokens", json={"name": "t", "workspace_id": ws}, headers={"X-CSRF-Token": t}
        ),
    ),
]


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.name)
def test_every_role_gets_allowed_or_401_403(world: World, endpoint: Endpoint) -> None:
    check_every_role(world, endpoint, ("Shop", "see-ad"), hidden_from=outsider_of_scoped)


@pytest.mark.parametrize("endpoint", [e for e in ENDPOINTS if e.scoped], ids=lambda e: e.name)
def test_no_member_of_acme_reaches_the_other_workspace(world: World, endpoint: Endpoint) -> None:
    check_other_workspace(world, endpoint, "Top Secret")


def test_workspace_lists_show_only_own_workspaces(world: World) -> None:
    viewer, _ = world.clients["viewer"]
    outsider, _ = world.clients["outsider"]
    assert [w["name"] for w in viewer.get("/api/v1/workspaces").json()] == ["Default workspace"]
    assert [w["name"] for w in outsider.get("/api/v1/workspaces").json()] == ["Other"]
    assert "Other" not in viewer.get("/workspaces").text
