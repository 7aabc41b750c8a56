"""The 4xx answers of the editor's step / touchpoint routes (web/pages_edit.py) to bad route
parameters: which check answers first (CSRF, sign-in, field validation, role, map) and with
which field and message. Pinned so that the routes' shared parameter dependency keeps them
(SQLite and PostgreSQL, through the ``world`` fixture)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from tests.web.conftest import World, browser, csrf_of

JSON = {"accept": "application/json"}
EDITOR_ONLY = "editing needs the 'editor' role in the workspace"


def _add_step(client: TestClient, path: str, **fields: Any) -> Any:
    return client.post(path, data=fields, headers=JSON)


def _issues(answer: Any) -> list[tuple[str, str]]:
    return [(i["field"], i["reason"]) for i in answer.json()["issues"]]


@pytest.fixture(scope="module")
def add_path(world: World) -> str:
    return f"/w/{world.ws}/m/shop/edit/step/add"


def test_a_wrong_csrf_token_is_403_before_anything_else(world: World, add_path: str) -> None:
    client, _token = world.clients["viewer"]
    answer = _add_step(client, add_path, csrf_token="wrong")  # every field missing too
    assert answer.status_code == 403
    assert answer.json()["field"] == "csrf_token"


def test_signed_out_is_401_before_field_validation(world: World, add_path: str) -> None:
    client = browser(world.app)
    token = csrf_of(client.get("/signin").text)
    answer = _add_step(client, add_path, csrf_token=token)
    assert answer.status_code == 401
    assert answer.json() == {"error": "Unauthorized", "field": "session", "reason": "sign in first"}


def test_missing_fields_are_422_in_declaration_order_even_for_a_viewer(
    world: World, add_path: str
) -> None:
    for who in ("viewer", "editor"):
        client, token = world.clients[who]
        answer = _add_step(client, add_path, csrf_token=token, stage_id="awareness")
        assert answer.status_code == 422, who
        assert _issues(answer) == [
            ("base_version", "Field required"),
            ("step_id", "Field required"),
        ]


def test_a_bad_workspace_and_version_are_422_path_first(world: World) -> None:
    client, token = world.clients["editor"]
    answer = _add_step(client, "/w/acme/m/shop/edit/step/add", csrf_token=token, base_version="one")
    assert answer.status_code == 422
    assert [field for field, _ in _issues(answer)] == [
        "path.ws",
        "base_version",
        "stage_id",
        "step_id",
    ]


def test_the_html_422_names_the_first_problem(world: World, add_path: str) -> None:
    client, token = world.clients["editor"]
    answer = client.post(add_path, data={"csrf_token": token, "base_version": "x"})
    assert answer.status_code == 422
    assert "base_version" in answer.text
    assert "valid integer" in answer.text


def test_a_viewer_with_every_field_is_403_naming_the_role(world: World, add_path: str) -> None:
    client, token = world.clients["viewer"]
    answer = _add_step(
        client, add_path, csrf_token=token, base_version=1, stage_id="awareness", step_id="z"
    )
    assert answer.status_code == 403
    assert answer.json() == {"error": "Forbidden", "field": "role", "reason": EDITOR_ONLY}
    count = client.get(f"/w/{world.ws}/m/shop/edit/touchpoint/count", headers=JSON)
    assert count.status_code == 403
    assert count.json()["reason"] == EDITOR_ONLY


def test_an_unknown_map_is_404_and_another_workspace_403(world: World) -> None:
    client, token = world.clients["editor"]
    fields = {"csrf_token": token, "base_version": 1, "step_id": "see-ad"}
    unknown = _add_step(client, f"/w/{world.ws}/m/nope/edit/step/delete", **fields)
    assert unknown.status_code == 404
    assert unknown.json()["error"] == "NotFound"
    other = _add_step(client, f"/w/{world.other_ws}/m/secret/edit/step/delete", **fields)
    assert other.status_code == 403
    assert other.json()["reason"] == f"you are not a member of workspace {world.other_ws}"


def test_a_stale_base_version_is_409(world: World) -> None:
    client, token = world.clients["editor"]
    answer = _add_step(
        client,
        f"/w/{world.ws}/m/shop/edit/touchpoint",
        csrf_token=token,
        base_version=0,
        tp_id="ads",
        name="Ads",
    )
    assert answer.status_code == 409
    assert answer.json()["error"] == "StaleVersion"
