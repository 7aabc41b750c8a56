"""Helpers of the data-page tests: an app over the shared store with a workspace folder
(so it has an event store), small CSV files, and waiting for an ingest job to end."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from tests.web.conftest import World, sign_in

from journeylens.engine.workspace import Workspace
from journeylens.web.app import create_app
from journeylens.web.ingest_jobs import IngestJobs
from journeylens.web.settings import make_settings

HEADER = (
    "order_id,customer_id,email,status,amount,currency,items,created_at,paid_at,"
    "cancelled_at,refunded_at\n"
)
# Three good orders (C1 twice, C2) and one with a created_at that is not a time (line 4).
ORDERS = HEADER + (
    "O1,C1,,placed,10,EUR,SKU1,2024-03-01T10:00:00Z,,,\n"
    "O2,C2,,placed,12,EUR,SKU1,2024-03-02T10:00:00Z,,,\n"
    "O3,C3,,placed,5,EUR,SKU1,not a date,,,\n"
    "O4,C1,,placed,7,EUR,SKU2,2024-03-03T10:00:00Z,,,\n"
)
# Give up waiting for a job after this long (a hang, not a speed check).
JOB_DEADLINE_S = 120.0


def data_app(world: World, tmp: Path, **settings: Any) -> tuple[FastAPI, Path]:
    """An app over ``world``'s store whose workspace folder ``tmp/ws`` has an event store."""
    root = Workspace.init(tmp / "ws").root
    base = make_settings(root, "unused", secret_key="test-secret")
    app = create_app(dataclasses.replace(base, **settings), world.backend)
    return app, root


def data_world(world: World, tmp: Path) -> World:
    """``world`` over an app with an event store, every role signed in again."""
    app, _root = data_app(world, tmp)
    w = World(app, world.backend, world.ws, world.other_ws)
    for role in ("owner", "editor", "commenter", "viewer"):
        w.clients[role] = sign_in(app, f"{role}@acme.test")
    w.clients["outsider"] = sign_in(app, "outsider@other.test")
    return w


def upload(
    client: TestClient,
    ws: int,
    token: str,
    *,
    content: str | bytes = ORDERS,
    name: str = "orders.csv",
    fmt: str = "orders",
    source: str = "sales",
    htmx: bool = False,
) -> Any:
    """POST the upload form as a browser would (multipart, CSRF field)."""
    data = content.encode() if isinstance(content, str) else content
    return client.post(
        f"/w/{ws}/data/upload",
        data={"csrf_token": token, "format": fmt, "source": source},
        files={"file": (name, data, "text/csv")},
        headers={"HX-Request": "true"} if htmx else {},
    )


def wait_idle(app: FastAPI) -> None:
    """Block until no ingest job of ``app`` is running."""
    # One IngestJobs per event store (each web workspace has its own, issue 7).
    registry: dict[Path, IngestJobs] = getattr(app.state, "ingest_jobs", None) or {}
    deadline = time.monotonic() + JOB_DEADLINE_S
    while any(jobs.any_running() for jobs in list(registry.values())):
        assert time.monotonic() < deadline, "an ingest job did not end"
        time.sleep(0.05)


def poll_fragment(client: TestClient, ws: int, job_id: str) -> str:
    """Poll the progress fragment as HTMX does until it stops asking to be polled."""
    deadline = time.monotonic() + JOB_DEADLINE_S
    while True:
        answer = client.get(f"/w/{ws}/data/jobs/{job_id}/progress")
        assert answer.status_code == 200, answer.text
        if "hx-trigger" not in answer.text:
            return answer.text
        assert time.monotonic() < deadline, "the progress fragment kept polling"
        time.sleep(0.1)
