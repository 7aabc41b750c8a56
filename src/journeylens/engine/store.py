"""The embedded event store: one DuckDB file holding the canonical tables of a workspace.

Tables (created by the versioned steps in ``journeylens.engine.migrations``): ``events``,
``crm_records``, ``customers``, ``identities``, ``identity_edges``, ``identity_edges_refused``,
``quarantine``, ``ingest_log`` and ``schema_version``.

>>> import tempfile, pathlib
>>> store = EventStore(pathlib.Path(tempfile.mkdtemp()) / "events.duckdb")
>>> with store.connect() as con:
...     store.events(con).count("*").fetchall()
[(0,)]
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Final

import duckdb

from journeylens.engine.migrations import migrations

#: Name of the canonical event table (analytics read it through :meth:`EventStore.events`).
EVENTS_TABLE: Final[str] = "events"


class StoreError(Exception):
    """The store cannot be opened or is newer than this release."""


@dataclass(frozen=True, slots=True)
class EventStore:
    """A DuckDB event store at ``path`` (created and migrated on first connect)."""

    path: Path
    events_table_name: str = EVENTS_TABLE

    def connect(self, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
        """Open a connection with the session in UTC, applying any pending migrations.

        Timestamps in the store are naive UTC; the session time zone is UTC so that
        ``TIMESTAMPTZ`` values convert without surprises.
        """
        if read_only and not self.path.exists():
            raise StoreError(f"{self.path}: no event store here (run `journeylens init` first)")
        try:
            con = duckdb.connect(str(self.path), read_only=read_only)
        except duckdb.Error as exc:
            raise StoreError(f"{self.path}: cannot open the event store: {exc}") from exc
        con.execute("SET TimeZone = 'UTC'")
        if not read_only:
            migrate(con)
        return con

    def events(self, con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyRelation:
        """The canonical events as a lazy DuckDB relation (nothing is read until used)."""
        return con.table(self.events_table_name)


def schema_version(con: duckdb.DuckDBPyConnection) -> int:
    """The highest migration step applied to the store behind ``con`` (0 when empty)."""
    exists = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_version'"
    ).fetchone()
    if not exists or exists[0] == 0:
        return 0
    row = con.execute("SELECT coalesce(max(version), 0) FROM schema_version").fetchone()
    return int(row[0]) if row else 0


def migrate(con: duckdb.DuckDBPyConnection) -> list[int]:
    """Apply the migration steps the store lacks, each in its own transaction.

    Returns the versions applied (empty when the store was up to date).
    """
    con.execute(
        "CREATE TABLE IF NOT EXISTS schema_version "
        "(version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, applied_at TIMESTAMP NOT NULL)"
    )
    current = schema_version(con)
    steps = migrations()
    known = steps[-1].version if steps else 0
    if current > known:
        raise StoreError(
            f"the event store is at schema version {current}, this release knows up to {known}: "
            "upgrade journeylens"
        )
    applied = []
    for step in steps:
        if step.version <= current:
            continue
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute(step.sql)
            con.execute(
                "INSERT INTO schema_version VALUES (?, ?, now()::TIMESTAMP)",
                [step.version, step.name],
            )
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        applied.append(step.version)
    return applied


def export_events(
    con: duckdb.DuckDBPyConnection, to: Path, *, partition_by: str | None = None
) -> int:
    """Write the canonical events as Parquet under folder ``to``; returns the event count.

    Without ``partition_by`` the folder gets one ``events.parquet`` sorted by
    (occurred_at, seq); with ``partition_by="source"`` (or another column) a Hive-partitioned
    tree ``to/source=web/…`` that Spark, DuckDB and Polars read as one table.
    """
    rel = con.table(EVENTS_TABLE)
    if partition_by is not None and partition_by not in rel.columns:
        raise StoreError(
            f"--partition-by {partition_by!r}: expected one of {', '.join(rel.columns)}"
        )
    to.mkdir(parents=True, exist_ok=True)
    rel = rel.order("occurred_at, seq")
    if partition_by is None:
        rel.write_parquet(str(to / "events.parquet"), compression="zstd")
    else:
        rel.write_parquet(str(to), compression="zstd", partition_by=[partition_by], overwrite=True)
    return int(con.execute(f"SELECT count(*) FROM {EVENTS_TABLE}").fetchall()[0][0])
