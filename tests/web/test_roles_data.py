"""The role matrix of the data pages, the ingest API and the members page: every endpoint ×
(anonymous, viewer, commenter, editor, owner, member of another workspace) is allowed or
exactly 401 / 403, on SQLite and PostgreSQL; nothing of acme reaches the outsider, and no
member of acme reaches the other workspace's data pages or members."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from tests.web.conftest import PASSWORD, World
from tests.web.data_helpers import ORDERS, data_world, wait_idle
from tests.web.roles_helpers import (
    Call,
    Endpoint,
    check_every_role,
    check_other_workspace,
    not_allowed,
)

from journeylens.store import models as sm
from journeylens.store import service
from journeylens.store.db import session_scope
from journeylens.web.backend import Role

_n = itertools.count(1)


@pytest.fixture(scope="module")
def dw(world: World, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """The shared world over an app with an event store holding one ingested run."""
    w = data_world(world, tmp_path_factory.mktemp("roles_data"))
    client, token = w.clients["owner"]
    sent = client.post(
        f"/w/{w.ws}/data/upload",
        data={"csrf_token": token, "format": "orders", "source": "acme-secret-source"},
        files={"file": ("acme-orders.csv", ORDERS.encode(), "text/csv")},
    )
    assert sent.status_code == 303
    wait_idle(w.app)
    yield w
    wait_idle(w.app)


def _job_id(w: World) -> str:
    """A finished job of acme (the fixture's upload)."""
    registry = w.app.state.ingest_jobs  # one IngestJobs per event store
    return str(next(j for jobs in registry.values() for j in jobs.recent(w.ws, 1)).id)


def _upload(api: bool) -> Call:
    def call(w: World, ws: int, c: TestClient, t: str) -> Any:
        files = {"file": (f"o{next(_n)}.csv", ORDERS.encode(), "text/csv")}
        if api:
            answer = c.post(
                f"/api/v1/workspaces/{ws}/ingest",
                data={"format": "orders"},
                files=files,
                headers={"X-CSRF-Token": t},
            )
        else:
            answer = c.post(
                f"/w/{ws}/data/upload", data={"csrf_token": t, "format": "orders"}, files=files
            )
        wait_idle(w.app)  # one run at a time: the next caller must not get 409
        return answer

    return call


def _get(path: str) -> Call:
    return lambda w, ws, c, t: c.get(path.format(ws=ws, job=_job_id(w)))


def _member(w: World, ws: int, role: str = "viewer") -> int:
    """A fresh account made a member of ``ws`` (set-up, straight in the store)."""
    email = f"member{next(_n)}@acme.test"
    with session_scope(w.backend.engine) as s:
        row = service.create_user(s, email, "Member", PASSWORD)
        workspace = s.get(sm.Workspace, ws)
        assert workspace is not None
        service.add_member(s, workspace, row, sm.Role(role))
        return row.id


def _add_member(w: World, ws: int, c: TestClient, t: str) -> Any:
    email = f"fresh{next(_n)}@acme.test"
    with session_scope(w.backend.engine) as s:
        service.create_user(s, email, "Fresh", PASSWORD)
    return c.post(f"/w/{ws}/members", data={"csrf_token": t, "email": email, "role": "viewer"})


ENDPOINTS = [
    Endpoint("page data log", Role.VIEWER, _get("/w/{ws}/data")),
    Endpoint("page data log p2", Role.VIEWER, _get("/w/{ws}/data?page=2")),
    Endpoint("page quarantine", Role.VIEWER, _get("/w/{ws}/data/quarantine?reason=bad_timestamp")),
    Endpoint("page identities", Role.VIEWER, _get("/w/{ws}/data/identities")),
    Endpoint("form upload", Role.EDITOR, _upload(api=False)),
    Endpoint("page job", Role.EDITOR, _get("/w/{ws}/data/jobs/{job}")),
    Endpoint("fragment job progress", Role.EDITOR, _get("/w/{ws}/data/jobs/{job}/progress")),
    Endpoint("api ingest", Role.EDITOR, _upload(api=True)),
    Endpoint("api ingest job", Role.EDITOR, _get("/api/v1/workspaces/{ws}/ingest/{job}")),
    Endpoint("page members", Role.OWNER, _get("/w/{ws}/members")),
    Endpoint("form add member", Role.OWNER, _add_member),
    Endpoint(
        "form change role",
        Role.OWNER,
        lambda w, ws, c, t: c.post(
            f"/w/{ws}/members/{_member(w, ws)}/role", data={"csrf_token": t, "role": "editor"}
        ),
    ),
    Endpoint(
        "form remove member",
        Role.OWNER,
        lambda w, ws, c, t: c.post(
            f"/w/{ws}/members/{_member(w, ws)}/remove", data={"csrf_token": t}
        ),
    ),
]

SECRETS = ("acme-orders.csv", "acme-secret-source", "Olive Owner", "owner@acme.test")


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.name)
def test_every_role_gets_allowed_or_401_403(dw: World, endpoint: Endpoint) -> None:
    check_every_role(dw, endpoint, SECRETS, hidden_from=not_allowed)


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.name)
def test_no_member_of_acme_reaches_the_other_workspace(dw: World, endpoint: Endpoint) -> None:
    check_other_workspace(dw, endpoint, "Otto Outsider")


def test_a_job_of_one_workspace_is_404_in_another(dw: World, tmp_path: Path) -> None:
    job = _job_id(dw)
    outsider, _ = dw.clients["outsider"]
    for path in (
        f"/w/{dw.other_ws}/data/jobs/{job}",
        f"/w/{dw.other_ws}/data/jobs/{job}/progress",
        f"/api/v1/workspaces/{dw.other_ws}/ingest/{job}",
    ):
        answer = outsider.get(path)
        assert answer.status_code == 404, path
        assert "acme-orders.csv" not in answer.text
    assert tmp_path.is_dir()
