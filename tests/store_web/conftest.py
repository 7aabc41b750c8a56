"""Fixtures of the web store's tests: every test runs on SQLite AND PostgreSQL.

PostgreSQL is the server at 127.0.0.1:5432 (user ``postgres``, trust auth). Each test
session creates its own database there and drops it afterwards. When the server is
unreachable the PostgreSQL tests FAIL (a connection error), they are never skipped.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from argon2 import PasswordHasher
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from journeylens.store import service
from journeylens.store.db import make_engine, session_factory, upgrade
from journeylens.store.models import Base, User, Workspace

PG_ADMIN = os.environ.get(
    "JOURNEYLENS_TEST_PG", "host=127.0.0.1 port=5432 user=postgres dbname=test"
)
BACKENDS = ["sqlite", "postgresql"]


def _pg_admin() -> psycopg.Connection[tuple[object, ...]]:
    return psycopg.connect(PG_ADMIN, autocommit=True)


def new_database(backend: str, tmp: Path) -> tuple[str, object]:
    """A fresh empty database for ``backend``: its URL and a handle for :func:`drop_database`."""
    if backend == "sqlite":
        return f"sqlite:///{tmp / 'store.db'}", None
    name = f"jl_store_web_{uuid.uuid4().hex[:12]}"
    with _pg_admin() as conn:
        conn.execute(f'CREATE DATABASE "{name}"')  # name is generated above, not user input
    return f"postgresql://postgres@127.0.0.1:5432/{name}", name


def drop_database(handle: object) -> None:
    """Drop a PostgreSQL database made by :func:`new_database` (nothing to do for SQLite)."""
    if handle is None:
        return
    with _pg_admin() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{handle}" WITH (FORCE)')


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """argon2 with minimal cost: the same algorithm, ~100x faster, so the suite stays quick."""
    monkeypatch.setattr(
        service, "PASSWORD_HASHER", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    )


@pytest.fixture(scope="session", params=BACKENDS)
def migrated_engine(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    """One migrated database per backend for the whole session."""
    url, handle = new_database(request.param, tmp_path_factory.mktemp(request.param))
    engine = make_engine(url)
    upgrade(engine)
    yield engine
    engine.dispose()
    drop_database(handle)


@pytest.fixture
def engine(migrated_engine: Engine) -> Engine:
    """The backend's engine with every table emptied, so each test starts clean."""
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    # DELETE, children first, rather than TRUNCATE: on a handful of rows it is several
    # times faster on PostgreSQL (no table locks, no file swaps).
    with migrated_engine.begin() as conn:
        for name in tables:
            conn.execute(text(f"DELETE FROM {name}"))  # names from our own metadata
    return migrated_engine


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session on the clean database; committed by the tests that need it."""
    with session_factory(engine)() as s:
        yield s


@pytest.fixture
def owner(session: Session) -> User:
    """Olive, the owner of workspace ``acme``."""
    return service.create_user(session, "olive@acme.test", "Olive Owner", "owner-pass-1")


@pytest.fixture
def ws(session: Session, owner: User) -> Workspace:
    """Workspace ``acme`` owned by Olive."""
    return service.create_workspace(session, "acme", "Acme", owner)
