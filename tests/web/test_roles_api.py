"""The role matrix of the JSON API's analytics, data, upload and share-link endpoints:
every endpoint × (anonymous, viewer, commenter, editor, owner, member of another
workspace) is allowed or exactly 401 / 403, on SQLite and PostgreSQL; nothing of acme
reaches the outsider, and no member of acme reaches the other workspace's data.

The app's event store holds one upload (a job to read and discard) and the shop of
:mod:`tests.web.test_analytics_pages` (map ``shop2`` with its personas, so every analytics
call has figures to answer with)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from tests.web.conftest import World
from tests.web.data_helpers import ORDERS, data_world, wait_idle
from tests.web.roles_helpers import Endpoint, check_every_role, check_other_workspace, not_allowed
from tests.web.test_analytics_pages import MAP, PERSONAS, workspace_with_shop

from journeylens.model import JourneyMap, Persona
from journeylens.store import models as sm
from journeylens.store import service
from journeylens.store.db import session_scope
from journeylens.web.backend import Role

Call = Callable[[World, int, TestClient, str], Any]
FILTER = "persona=pro&from=2024-01-01&to=2024-12-31"


@pytest.fixture(scope="module")
def aw(world: World, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """The shared world over an app whose event store holds the shop and one upload."""
    tmp = tmp_path_factory.mktemp("roles_api")
    w = data_world(world, tmp)
    with session_scope(world.backend.engine) as s:
        acme = service.get_workspace(s, "default")
        owner = s.get(sm.User, 1)
        assert owner is not None
        for doc in PERSONAS:
            service.create_persona(s, acme, Persona.model_validate(doc), owner)
        service.create_map(s, acme, owner, JourneyMap.model_validate(MAP))
    client, token = w.clients["owner"]
    sent = client.post(
        f"/api/v1/workspaces/{w.ws}/ingest",
        data={"format": "orders", "source": "acme-secret-source"},
        files={"file": ("acme-orders.csv", ORDERS.encode(), "text/csv")},
        headers={"X-CSRF-Token": token},
    )
    assert sent.status_code == 202, sent.text
    wait_idle(w.app)
    # The shop after the upload: its stitching rebuilds the customers table.
    workspace_with_shop(tmp / "ws")  # the app's folder (init is idempotent)
    yield w
    wait_idle(w.app)


def _job_id(w: World) -> str:
    registry = w.app.state.ingest_jobs  # one IngestJobs per event store
    return str(next(j for jobs in registry.values() for j in jobs.recent(w.ws, 1)).id)


def _share_id(w: World) -> int:
    owner = w.backend.user(1)
    assert owner is not None
    return w.backend.create_share(owner, w.ws, "shop2").id


def _get(path: str) -> Call:
    return lambda w, ws, c, t: c.get(path.format(ws=ws, job=_job_id(w)))


def _send(method: str, path: str, json: Any = None) -> Call:
    def call(w: World, ws: int, c: TestClient, t: str) -> Any:
        url = path.format(ws=ws, job=_job_id(w), link=_share_id(w))
        return c.request(method, url, json=json, headers={"X-CSRF-Token": t})

    return call


MAP_URL = "/api/v1/workspaces/{ws}/maps/shop2"
ENDPOINTS = [
    Endpoint("api live map", Role.VIEWER, _get(MAP_URL + "/live?" + FILTER)),
    Endpoint("api funnel", Role.VIEWER, _get(MAP_URL + "/analytics/funnel?" + FILTER)),
    Endpoint("api flows", Role.VIEWER, _get(MAP_URL + "/analytics/flows")),
    Endpoint("api planned", Role.VIEWER, _get(MAP_URL + "/analytics/planned?from=2024-01-02")),
    Endpoint("api outcomes", Role.VIEWER, _get(MAP_URL + "/analytics/outcomes?outcome=converted")),
    Endpoint("api survey", Role.VIEWER, _get(MAP_URL + "/analytics/survey?by=persona")),
    Endpoint("api data log", Role.VIEWER, _get("/api/v1/workspaces/{ws}/data/log")),
    Endpoint(
        "api quarantine",
        Role.VIEWER,
        _get("/api/v1/workspaces/{ws}/data/quarantine?reason=bad_timestamp&limit=10"),
    ),
    Endpoint("api identities", Role.VIEWER, _get("/api/v1/workspaces/{ws}/data/identities")),
    Endpoint("api uploads", Role.EDITOR, _get("/api/v1/workspaces/{ws}/ingest")),
    Endpoint(
        "api discard upload", Role.EDITOR, _send("DELETE", "/api/v1/workspaces/{ws}/ingest/{job}")
    ),
    Endpoint("api shares", Role.EDITOR, _get(MAP_URL + "/shares")),
    Endpoint("api create share", Role.EDITOR, _send("POST", MAP_URL + "/shares", {})),
    Endpoint("api revoke share", Role.EDITOR, _send("POST", MAP_URL + "/shares/{link}/revoke")),
]

SECRETS = ("acme-orders.csv", "acme-secret-source", "Shop two", "Pro Paula", "checkout")


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.name)
def test_every_role_gets_allowed_or_401_403(aw: World, endpoint: Endpoint) -> None:
    # Allowed means 2xx here: no API call of these answers with a redirect.
    check_every_role(aw, endpoint, SECRETS, hidden_from=not_allowed, allowed=range(200, 300))


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.name)
def test_no_member_of_acme_reaches_the_other_workspace(aw: World, endpoint: Endpoint) -> None:
    check_other_workspace(aw, endpoint, "Top Secret", "Otto Outsider")


def test_a_token_acts_only_within_its_scopes(aw: World) -> None:
    owner = aw.backend.user(1)
    assert owner is not None
    read = aw.backend.create_token(owner, aw.ws, "reader", ["read"])
    client = TestClient(aw.app)
    headers = {"Authorization": f"Bearer {read}"}
    assert client.get(f"/api/v1/workspaces/{aw.ws}/data/log", headers=headers).status_code == 200
    # Listing uploads and discarding one need the 'ingest' scope; a share needs 'write'.
    uploads = client.get(f"/api/v1/workspaces/{aw.ws}/ingest", headers=headers)
    assert uploads.status_code == 403
    assert uploads.json()["reason"] == "this token lacks the 'ingest' scope"
    share = client.post(f"/api/v1/workspaces/{aw.ws}/maps/shop2/shares", json={}, headers=headers)
    assert share.status_code == 403
    assert share.json()["reason"] == "this token lacks the 'write' scope"
