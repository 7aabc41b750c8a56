"""Fixtures of the web app's tests: the app over the real store, on SQLite AND PostgreSQL.

PostgreSQL is the server at 127.0.0.1:5432 (user ``postgres``, trust auth, override with
``JOURNEYLENS_TEST_PG``). Each module gets a fresh database there, dropped afterwards.
When the server is unreachable the PostgreSQL tests FAIL with a connection error; they
are never skipped.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.testclient import TestClient

# The browser tests' fixtures, for every module here (see tests/web/browser_helpers.py).
from tests.web.browser_helpers import chromium as chromium
from tests.web.browser_helpers import events_server as events_server

from journeylens.store import models as sm
from journeylens.store import service
from journeylens.store.db import session_scope
from journeylens.web.app import create_app
from journeylens.web.settings import make_settings
from journeylens.web.store_backend import StoreBackend

PG_ADMIN = os.environ.get(
    "JOURNEYLENS_TEST_PG", "host=127.0.0.1 port=5432 user=postgres dbname=test"
)
BACKENDS = ["sqlite", "postgresql"]
PASSWORD = "correct-horse-1"
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def new_database(backend: str, tmp: Path) -> tuple[str, str | None]:
    """A fresh empty database: its URL and the PostgreSQL name to drop (None for SQLite)."""
    if backend == "sqlite":
        return f"sqlite:///{tmp / 'web.db'}", None
    name = f"jl_web_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')  # generated name, not user input
    return f"postgresql://postgres@127.0.0.1:5432/{name}", name


def drop_database(name: str | None) -> None:
    """Drop a database made by :func:`new_database`."""
    if name is not None:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def csrf_of(html: str) -> str:
    """The CSRF token in a page's forms."""
    match = CSRF_RE.search(html)
    assert match, "no CSRF token in the page"
    return match.group(1)


def browser(app: FastAPI) -> TestClient:
    """A client that does not follow redirects (tests check the 303s themselves)."""
    return TestClient(app, follow_redirects=False)


def sign_in(app: FastAPI, email: str, password: str = PASSWORD) -> tuple[TestClient, str]:
    """A signed-in client and its CSRF token."""
    client = browser(app)
    token = csrf_of(client.get("/signin").text)
    answer = client.post(
        "/signin", data={"csrf_token": token, "email": email, "password": password}
    )
    assert answer.status_code == 303, answer.text
    return client, csrf_of(client.get("/workspaces").text)


@dataclass
class World:
    """Two workspaces: ``acme`` (owner, editor, commenter, viewer; map ``shop``) and
    ``other`` (its owner ``outsider``; map ``secret``)."""

    app: FastAPI
    backend: StoreBackend
    ws: int
    other_ws: int
    clients: dict[str, tuple[TestClient, str]] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)


ROLES = ("owner", "editor", "commenter", "viewer")


@pytest.fixture(scope="module", params=BACKENDS)
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    """The app over a fresh store with the users and maps of :class:`World`."""
    hasher_name = "PASSWORD_HASHER" if hasattr(service, "PASSWORD_HASHER") else "_HASHER"
    saved = getattr(service, hasher_name)
    # Minimal argon2 cost: the same algorithm, much faster, so the suite stays quick.
    setattr(service, hasher_name, PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    tmp = tmp_path_factory.mktemp(request.param)
    url, handle = new_database(request.param, tmp)
    backend = StoreBackend.connect(url)
    app = create_app(make_settings(tmp, url, secret_key="test-secret"), backend)
    try:
        owner = backend.sign_up("owner@acme.test", PASSWORD, "Olive Owner")
        with session_scope(backend.engine) as s:
            acme = service.get_workspace(s, "default")
            owner_row = s.get(sm.User, owner.id)
            assert owner_row is not None
            for role in ("editor", "commenter", "viewer"):
                row = service.create_user(s, f"{role}@acme.test", role.title(), PASSWORD)
                service.add_member(s, acme, row, sm.Role(role))
            out = service.create_user(s, "outsider@other.test", "Otto Outsider", PASSWORD)
            other = service.create_workspace(s, "other", "Other", out)
            service.create_map(
                s, acme, owner_row, template="five-stage", map_id="shop", title="Shop"
            )
            service.create_map(
                s, other, out, template="five-stage", map_id="secret", title="Top Secret Plan"
            )
            w = World(app, backend, acme.id, other.id)
        for role in ROLES:
            w.clients[role] = sign_in(app, f"{role}@acme.test")
        w.clients["outsider"] = sign_in(app, "outsider@other.test")
        yield w
    finally:
        setattr(service, hasher_name, saved)
        backend.engine.dispose()
        drop_database(handle)
