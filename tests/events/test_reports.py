"""Pages of the quarantine and the ingestion log (``journeylens.events.reports``), on
hand-written rows: what each page, count and filter must return."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from journeylens.events.quarantine import QuarantinedRecord
from journeylens.events.reports import (
    ingest_log_count,
    ingest_log_page,
    quarantine_choices,
    quarantine_count,
    quarantine_page,
)

# (run, file, line, reason): run r2 is the latest; r1 has three records, r2 two.
ROWS = [
    ("r1", "b.csv", 3, "bad_amount"),
    ("r1", "a.csv", 9, "bad_timestamp"),
    ("r2", "a.csv", 2, "bad_timestamp"),
    ("r1", "a.csv", 4, "bad_timestamp"),
    ("r2", "a.csv", 1, "missing_field"),
]


@pytest.fixture
def filled(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    for run, file, line, reason in ROWS:
        con.execute(
            "INSERT INTO quarantine VALUES (?, 'web', ?, ?, 'f', ?, ?, 'x', NULL)",
            [run, file, line, f"v{line}", reason],
        )
    for i, run in enumerate(("r1", "r2")):
        con.execute(
            "INSERT INTO ingest_log VALUES (?, 'web', 'segment', 'a.csv;b.csv', 10, 7, 3, 0, 7,"
            " ?, NULL, 'ok', NULL)",
            [run, dt.datetime(2024, 1, 1 + i)],
        )
    return con


def _keys(records: list[QuarantinedRecord]) -> list[tuple[str, str, int | None]]:
    return [(r.run_id, r.file, r.line) for r in records]


def test_pages_follow_run_file_line_order(filled: duckdb.DuckDBPyConnection) -> None:
    assert _keys(quarantine_page(filled, limit=2)) == [("r1", "a.csv", 4), ("r1", "a.csv", 9)]
    assert _keys(quarantine_page(filled, limit=2, offset=2)) == [
        ("r1", "b.csv", 3),
        ("r2", "a.csv", 1),
    ]
    assert _keys(quarantine_page(filled, limit=2, offset=4)) == [("r2", "a.csv", 2)]
    assert quarantine_page(filled, limit=2, offset=6) == []
    assert quarantine_page(filled, limit=1)[0].value == "v4"


def test_filters_and_counts(filled: duckdb.DuckDBPyConnection) -> None:
    assert quarantine_count(filled) == 5
    assert quarantine_count(filled, reason="bad_timestamp") == 3
    assert quarantine_count(filled, run="r1", reason="bad_timestamp") == 2
    assert quarantine_count(filled, run="latest") == 2  # r2
    assert _keys(quarantine_page(filled, run="latest", reason="bad_timestamp")) == [
        ("r2", "a.csv", 2)
    ]
    assert quarantine_count(filled, source="app") == 0
    assert quarantine_choices(filled) == (
        ["r2", "r1"],
        ["bad_amount", "bad_timestamp", "missing_field"],
    )


def test_latest_of_an_empty_quarantine_selects_nothing(con: duckdb.DuckDBPyConnection) -> None:
    assert quarantine_count(con, run="latest") == 0
    assert quarantine_page(con, run="latest") == []
    assert quarantine_choices(con) == ([], [])


def test_ingest_log_newest_first(filled: duckdb.DuckDBPyConnection) -> None:
    assert ingest_log_count(filled) == 2
    entries = ingest_log_page(filled, limit=1)
    assert [e.run_id for e in entries] == ["r2"]
    assert entries[0].files == ("a.csv", "b.csv")
    assert (entries[0].rows_read, entries[0].rows_stored, entries[0].rows_quarantined) == (10, 7, 3)
    assert [e.run_id for e in ingest_log_page(filled, limit=1, offset=1)] == ["r1"]


def test_a_bad_page_is_refused(filled: duckdb.DuckDBPyConnection) -> None:
    with pytest.raises(ValueError, match="expected limit ≥ 1 and offset ≥ 0"):
        quarantine_page(filled, limit=0)
    with pytest.raises(ValueError, match="offset=-1"):
        ingest_log_page(filled, offset=-1)
