"""The role matrix of the analytics pages and the map view's filter: every page × (anonymous,
viewer, commenter, editor, owner, member of another workspace) → allowed or 401 / 403, and
no page of another workspace's map reachable or revealing its data (SQLite and PostgreSQL,
through the ``world`` fixture)."""

from __future__ import annotations

import pytest
from tests.web.conftest import World
from tests.web.test_roles import RANK, WHO, Endpoint, _client, _get

from journeylens.web.backend import Role

WINDOW = "from=2024-01-01&to=2024-12-31"

ENDPOINTS = [
    Endpoint("page analytics funnel", Role.VIEWER, _get("/w/{ws}/m/shop/analytics?" + WINDOW)),
    Endpoint("page analytics flows", Role.VIEWER, _get("/w/{ws}/m/shop/analytics/flows")),
    Endpoint("page analytics planned", Role.VIEWER, _get("/w/{ws}/m/shop/analytics/planned")),
    Endpoint("page analytics outcomes", Role.VIEWER, _get("/w/{ws}/m/shop/analytics/outcomes")),
    Endpoint(
        "page analytics survey", Role.VIEWER, _get("/w/{ws}/m/shop/analytics/survey?by=persona")
    ),
    Endpoint("page map filtered", Role.VIEWER, _get("/w/{ws}/m/shop?" + WINDOW)),
    Endpoint(
        "page panel filtered",
        Role.VIEWER,
        _get("/w/{ws}/m/shop/panel?target=stage:awareness&" + WINDOW),
    ),
]


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.name)
def test_every_role_gets_allowed_or_401_403(world: World, endpoint: Endpoint) -> None:
    for who in WHO:
        client, token = _client(world, who)
        answer = endpoint.call(world, world.ws, client, token)
        if who == "anonymous":
            expected: set[int] | range = {401}
        elif who == "outsider":
            expected = {403}
        elif RANK[who] >= endpoint.minimum:
            expected = range(200, 300)
        else:
            expected = {403}
        assert answer.status_code in expected, (who, endpoint.name, answer.status_code)
        if who in ("anonymous", "outsider"):
            assert "Shop" not in answer.text
            assert "see-ad" not in answer.text


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.name)
def test_no_member_of_acme_reaches_the_other_workspace(world: World, endpoint: Endpoint) -> None:
    for who in ("viewer", "commenter", "editor", "owner"):
        client, token = world.clients[who]
        answer = endpoint.call(world, world.other_ws, client, token)
        assert answer.status_code in (403, 404), (who, endpoint.name, answer.status_code)
        assert "Top Secret" not in answer.text
