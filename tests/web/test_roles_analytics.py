"""The role matrix of the analytics pages and the map view's filter: every page × (anonymous,
viewer, commenter, editor, owner, member of another workspace) → allowed or 401 / 403, and
no page of another workspace's map reachable or revealing its data (SQLite and PostgreSQL,
through the ``world`` fixture)."""

from __future__ import annotations

import pytest
from tests.web.conftest import World
from tests.web.roles_helpers import (
    Endpoint,
    check_every_role,
    check_other_workspace,
    get,
    signed_out_or_outsider,
)

from journeylens.web.backend import Role

WINDOW = "from=2024-01-01&to=2024-12-31"

ENDPOINTS = [
    Endpoint("page analytics funnel", Role.VIEWER, get("/w/{ws}/m/shop/analytics?" + WINDOW)),
    Endpoint("page analytics flows", Role.VIEWER, get("/w/{ws}/m/shop/analytics/flows")),
    Endpoint("page analytics planned", Role.VIEWER, get("/w/{ws}/m/shop/analytics/planned")),
    Endpoint("page analytics outcomes", Role.VIEWER, get("/w/{ws}/m/shop/analytics/outcomes")),
    Endpoint(
        "page analytics survey", Role.VIEWER, get("/w/{ws}/m/shop/analytics/survey?by=persona")
    ),
    Endpoint("page map filtered", Role.VIEWER, get("/w/{ws}/m/shop?" + WINDOW)),
    Endpoint(
        "page panel filtered",
        Role.VIEWER,
        get("/w/{ws}/m/shop/panel?target=stage:awareness&" + WINDOW),
    ),
]


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.name)
def test_every_role_gets_allowed_or_401_403(world: World, endpoint: Endpoint) -> None:
    check_every_role(
        world, endpoint, ("Shop", "see-ad"), signed_out_or_outsider, allowed=range(200, 300)
    )


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.name)
def test_no_member_of_acme_reaches_the_other_workspace(world: World, endpoint: Endpoint) -> None:
    check_other_workspace(world, endpoint, "Top Secret")
