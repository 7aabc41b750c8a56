"""Engines, sessions and migrations of the store.

SQLite is the embedded default (one file per workspace folder, WAL so readers never wait
for a writer); PostgreSQL is used with a ``postgresql://`` URL (driven by psycopg 3).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

#: File name of the default SQLite database inside a workspace folder.
DEFAULT_DB_NAME = "journeylens.db"

#: How long a SQLite writer waits for another writer before failing (milliseconds).
SQLITE_BUSY_TIMEOUT_MS = 30_000


def default_url(workspace: str | Path) -> str:
    """The SQLite URL of the default database in ``workspace`` (``<workspace>/journeylens.db``).

    >>> default_url("/srv/ws")
    'sqlite:////srv/ws/journeylens.db'
    """
    return f"sqlite:///{Path(workspace) / DEFAULT_DB_NAME}"


def normalize_url(url: str) -> str:
    """``url`` with the psycopg 3 driver named for PostgreSQL (``postgresql://`` → ``+psycopg``).

    >>> normalize_url("postgresql://u@h/db")
    'postgresql+psycopg://u@h/db'
    >>> normalize_url("sqlite:///x.db")
    'sqlite:///x.db'
    """
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Set on every new connection: WAL lets readers run beside one writer; SQLite leaves
    # foreign keys off unless asked; a busy timeout makes a second writer wait, not fail.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS:d}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for ``url``: SQLite (file, with WAL, foreign keys and a busy timeout) or PostgreSQL.

    A SQLite file's folder is created when missing. ``kwargs`` go to ``create_engine``.
    """
    url = normalize_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """A session maker whose objects stay readable after commit (no expire on commit)."""
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error, always close."""
    with session_factory(engine)() as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def _alembic_config(engine: Engine) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(target: str | Engine, revision: str = "head") -> None:
    """Bring the database at ``target`` (a URL or an engine) up to ``revision`` of the schema."""
    from alembic import command

    engine = make_engine(target) if isinstance(target, str) else target
    command.upgrade(_alembic_config(engine), revision)
    if isinstance(target, str):
        engine.dispose()


def downgrade(target: str | Engine, revision: str = "base") -> None:
    """Take the database at ``target`` back to ``revision`` (``base``: no store tables left)."""
    from alembic import command

    engine = make_engine(target) if isinstance(target, str) else target
    command.downgrade(_alembic_config(engine), revision)
    if isinstance(target, str):
        engine.dispose()


def open_store(url: str) -> Engine:
    """An engine for ``url`` with the schema migrated to the latest revision (the app's start-up)."""
    engine = make_engine(url)
    upgrade(engine)
    return engine


def current_revision(engine: Engine) -> str | None:
    """The schema revision the database is at (``None`` before the first migration)."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


__all__ = [
    "DEFAULT_DB_NAME",
    "current_revision",
    "default_url",
    "downgrade",
    "make_engine",
    "normalize_url",
    "open_store",
    "session_factory",
    "session_scope",
    "upgrade",
]
