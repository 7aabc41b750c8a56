"""Engines and migrations: upgrade from empty on both backends, SQLite pragmas, no drift."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from tests.store_web.conftest import BACKENDS, drop_database, new_database

from journeylens.store.db import (
    current_revision,
    default_url,
    downgrade,
    make_engine,
    open_store,
    upgrade,
)
from journeylens.store.models import Base

TABLES = {
    "users",
    "workspaces",
    "memberships",
    "maps",
    "map_versions",
    "personas",
    "persona_versions",
    "comments",
    "share_links",
    "api_tokens",
    "login_attempts",
}


@pytest.mark.parametrize("backend", BACKENDS)
def test_upgrade_from_empty_creates_every_table_and_matches_the_models(
    backend: str, tmp_path: Path
) -> None:
    url, handle = new_database(backend, tmp_path)
    engine = make_engine(url)
    try:
        assert current_revision(engine) is None
        upgrade(engine)
        assert current_revision(engine) == "0001"
        assert set(inspect(engine).get_table_names()) >= TABLES
        # Autogenerate finds nothing to do: the migration and the models agree.
        with engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={"compare_type": True})
            assert compare_metadata(ctx, Base.metadata) == []
        upgrade(engine)  # a second upgrade is a no-op
        assert current_revision(engine) == "0001"
        downgrade(engine)
        assert current_revision(engine) is None
        assert not TABLES & set(inspect(engine).get_table_names())
        upgrade(engine)
        assert set(inspect(engine).get_table_names()) >= TABLES
    finally:
        engine.dispose()
        drop_database(handle)


def test_upgrade_takes_a_url_and_open_store_migrates(tmp_path: Path) -> None:
    url = default_url(tmp_path / "ws")
    upgrade(url)
    engine = make_engine(url)
    assert current_revision(engine) == "0001"
    engine.dispose()
    engine = open_store(default_url(tmp_path / "other"))
    assert current_revision(engine) == "0001"
    assert (tmp_path / "ws" / "journeylens.db").exists()
    engine.dispose()


def test_sqlite_connections_use_wal_foreign_keys_and_a_busy_timeout(tmp_path: Path) -> None:
    engine = make_engine(default_url(tmp_path))
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 30_000
    engine.dispose()


def test_postgresql_urls_get_the_psycopg_driver() -> None:
    engine = make_engine("postgresql://postgres@127.0.0.1:5432/test")
    assert engine.dialect.driver == "psycopg"
    engine.dispose()
