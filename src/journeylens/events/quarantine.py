"""Reading the quarantine: what was refused, where, and why (headless twin of the CLI).

Rows are filtered by run, source and reason (each optional); ``run="latest"`` means the
most recent run that quarantined anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

_FILTER = """
WHERE ($run IS NULL OR run_id = CASE WHEN $run = 'latest'
        THEN (SELECT max(run_id) FROM quarantine) ELSE $run END)
  AND ($source IS NULL OR source = $source)
  AND ($reason IS NULL OR reason = $reason)
"""


@dataclass(frozen=True, slots=True)
class QuarantineGroup:
    """How many records of one file were quarantined for one reason in one run."""

    run_id: str
    source: str
    file: str
    reason: str
    records: int
    first_line: int | None


@dataclass(frozen=True, slots=True)
class QuarantinedRecord:
    """One quarantined record with its location, offending field and value."""

    run_id: str
    source: str
    file: str
    line: int | None
    field: str | None
    value: str | None
    reason: str
    expected: str | None
    raw: str | None


def _params(run: str | None, source: str | None, reason: str | None) -> dict[str, object]:
    return {"run": run, "source": source, "reason": reason}


def quarantine_summary(
    con: duckdb.DuckDBPyConnection,
    *,
    run: str | None = None,
    source: str | None = None,
    reason: str | None = None,
) -> list[QuarantineGroup]:
    """Quarantined records grouped by run, source, file and reason."""
    rows = con.execute(
        "SELECT run_id, source, file, reason, count(*), min(line) FROM quarantine "
        f"{_FILTER} GROUP BY ALL ORDER BY run_id, source, file, reason",
        _params(run, source, reason),
    ).fetchall()
    return [QuarantineGroup(*r) for r in rows]


def quarantine_records(
    con: duckdb.DuckDBPyConnection,
    *,
    run: str | None = None,
    source: str | None = None,
    reason: str | None = None,
    limit: int | None = None,
) -> list[QuarantinedRecord]:
    """Quarantined records in file and line order."""
    rows = con.execute(
        "SELECT run_id, source, file, line, field, value, reason, expected, raw FROM quarantine "
        f"{_FILTER} ORDER BY run_id, file, line LIMIT coalesce($limit, 9223372036854775807)",
        {**_params(run, source, reason), "limit": limit},
    ).fetchall()
    return [QuarantinedRecord(*r) for r in rows]


def export_quarantine(
    con: duckdb.DuckDBPyConnection,
    to: Path,
    *,
    run: str | None = None,
    source: str | None = None,
    reason: str | None = None,
) -> int:
    """Write the selected quarantined records to a CSV file (``.parquet``: Parquet); returns
    the number of records written."""
    rel = con.sql(
        "SELECT run_id, source, file, line, field, value, reason, expected, raw FROM quarantine "
        f"{_FILTER} ORDER BY run_id, file, line",
        params=_params(run, source, reason),
    )
    to.parent.mkdir(parents=True, exist_ok=True)
    if to.suffix == ".parquet":
        rel.write_parquet(str(to))
    else:
        rel.write_csv(str(to), header=True)
    count = con.execute(
        f"SELECT count(*) FROM quarantine {_FILTER}", _params(run, source, reason)
    ).fetchall()
    return int(count[0][0])
