"""Shared helpers of the ingestion tests: a fresh workspace and one-call ingestion."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

from journeylens.engine.workspace import Workspace
from journeylens.events.runner import RunResult, SourceSpec, ingest

FIXTURES = Path(__file__).parent / "fixtures"
#: Fixed "now" of test runs: times after 2024-06-02 are impossible.
NOW = dt.datetime(2024, 6, 1)


@pytest.fixture
def con(tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection to the store of a new workspace."""
    ws = Workspace.init(tmp_path / "ws")
    connection = ws.store.connect()
    yield connection
    connection.close()


def run(con: duckdb.DuckDBPyConnection, *specs: SourceSpec, **kwargs: Any) -> RunResult:
    """Ingest ``specs`` at the fixed NOW and check read = stored + quarantined + duplicate."""
    result = ingest(con, list(specs), now=NOW, **kwargs)
    for s in result.sources:
        assert s.rows_read == s.rows_stored + s.rows_quarantined + s.rows_duplicate
    return result


def events(con: duckdb.DuckDBPyConnection, where: str = "TRUE") -> list[dict[str, Any]]:
    """Stored events in seq order as dicts (properties parsed), without run-dependent columns."""
    rel = con.sql(f"SELECT * EXCLUDE (ingest_run) FROM events WHERE {where} ORDER BY seq")
    cols = rel.columns
    out = []
    for row in rel.fetchall():
        d = dict(zip(cols, row, strict=True))
        d["properties"] = json.loads(d["properties"]) if d["properties"] else None
        out.append(d)
    return out


def quarantined(con: duckdb.DuckDBPyConnection) -> list[tuple[Any, ...]]:
    """(file name, line, field, value, reason) of quarantined records, in file/line order."""
    rows = con.execute(
        "SELECT file, line, field, value, reason FROM quarantine ORDER BY file, line"
    ).fetchall()
    return [(Path(f).name, line, field, value, reason) for f, line, field, value, reason in rows]


Spec = Callable[..., SourceSpec]
