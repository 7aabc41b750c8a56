"""Pages of the ingestion log and the quarantine, for screens that show a slice at a time.

The quarantine can hold millions of rows: every function here asks DuckDB for one page
(``LIMIT`` / ``OFFSET``) or an aggregate, never for the whole table. Filters are the ones
of :mod:`journeylens.events.quarantine` (run, source, reason; ``run="latest"`` is the most
recent run that quarantined anything).

>>> import duckdb
>>> from journeylens.engine.store import migrate
>>> con = duckdb.connect()
>>> _ = migrate(con)
>>> ingest_log_count(con), quarantine_count(con), quarantine_page(con, limit=10)
(0, 0, [])
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb

from journeylens.events.quarantine import QuarantinedRecord

_COLUMNS = "run_id, source, file, line, field, value, reason, expected, raw"
_ORDER = "run_id, file, line, field"


@dataclass(frozen=True, slots=True)
class IngestLogEntry:
    """One source of one ingest run, as ``ingest_log`` records it.

    ``files`` are the paths the run read; ``status`` is ``ok`` or ``failed`` (then
    ``message`` says why and nothing of the run was stored).
    """

    run_id: str
    source: str
    format: str
    files: tuple[str, ...]
    rows_read: int
    rows_stored: int
    rows_quarantined: int
    rows_duplicate: int
    events_stored: int
    started_at: dt.datetime
    finished_at: dt.datetime | None
    status: str
    message: str | None


def _check_page(limit: int, offset: int) -> None:
    if limit < 1 or offset < 0:
        raise ValueError(f"expected limit ≥ 1 and offset ≥ 0, got limit={limit} offset={offset}")


def ingest_log_page(
    con: duckdb.DuckDBPyConnection, *, limit: int = 50, offset: int = 0
) -> list[IngestLogEntry]:
    """The ingestion log, newest run first (sources of a run by name), one page of it."""
    _check_page(limit, offset)
    rows = con.execute(
        "SELECT run_id, source, format, files, rows_read, rows_stored, rows_quarantined, "
        "rows_duplicate, events_stored, started_at, finished_at, status, message "
        "FROM ingest_log ORDER BY started_at DESC, run_id DESC, source "
        "LIMIT $limit OFFSET $offset",
        {"limit": limit, "offset": offset},
    ).fetchall()
    return [
        IngestLogEntry(r[0], r[1], r[2], tuple(p for p in r[3].split(";") if p), *r[4:])
        for r in rows
    ]


def ingest_log_count(con: duckdb.DuckDBPyConnection) -> int:
    """How many entries the ingestion log holds (one per run and source)."""
    row = con.execute("SELECT count(*) FROM ingest_log").fetchone()
    return int(row[0]) if row else 0


def _where(
    con: duckdb.DuckDBPyConnection, run: str | None, source: str | None, reason: str | None
) -> tuple[str, dict[str, object]]:
    """The WHERE clause of the active filters only, and its parameters.

    Written out per call on purpose: the catch-all form ``($run IS NULL OR run_id = …)``
    keeps DuckDB from pushing the filters down and made a deep page ten times slower on
    2M records (bench/bench_data_pages.py).
    """
    if run == "latest":
        row = con.execute("SELECT max(run_id) FROM quarantine").fetchone()
        run = str(row[0]) if row and row[0] is not None else ""  # "" matches no run
    wanted = {"run_id": run, "source": source, "reason": reason}
    active = {column: value for column, value in wanted.items() if value is not None}
    if not active:
        return "", {}
    return "WHERE " + " AND ".join(f"{c} = ${c}" for c in active), dict(active)


def quarantine_page(
    con: duckdb.DuckDBPyConnection,
    *,
    run: str | None = None,
    source: str | None = None,
    reason: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[QuarantinedRecord]:
    """One page of quarantined records in run, file and line order (the order of
    ``journeylens quarantine show``)."""
    _check_page(limit, offset)
    where, params = _where(con, run, source, reason)
    # Sort only the keys and row ids, then fetch the page's 50 full rows: a deep OFFSET
    # sorts every selected record, and the values and raw lines need not go through it.
    rows = con.execute(
        f"SELECT {_COLUMNS} FROM quarantine WHERE rowid IN (SELECT rowid FROM quarantine "
        f"{where} ORDER BY {_ORDER} LIMIT $limit OFFSET $offset) ORDER BY {_ORDER}",
        {**params, "limit": limit, "offset": offset},
    ).fetchall()
    return [QuarantinedRecord(*r) for r in rows]


def quarantine_count(
    con: duckdb.DuckDBPyConnection,
    *,
    run: str | None = None,
    source: str | None = None,
    reason: str | None = None,
) -> int:
    """How many quarantined records the filters select."""
    where, params = _where(con, run, source, reason)
    row = con.execute(f"SELECT count(*) FROM quarantine {where}", params).fetchone()
    return int(row[0]) if row else 0


def quarantine_choices(
    con: duckdb.DuckDBPyConnection, *, runs: int = 100
) -> tuple[list[str], list[str]]:
    """What the quarantine can be filtered by: the ``runs`` most recent run ids that
    quarantined anything (newest first) and every reason (alphabetical)."""
    run_ids = con.execute(
        "SELECT DISTINCT run_id FROM quarantine ORDER BY run_id DESC LIMIT $n", {"n": runs}
    ).fetchall()
    reasons = con.execute("SELECT DISTINCT reason FROM quarantine ORDER BY reason").fetchall()
    return [str(r[0]) for r in run_ids], [str(r[0]) for r in reasons]
