"""The shortcuts of the ingest hot path give the same results as the plain way.

- ``clean`` skips ``trim`` for ASCII text without edge spaces: same value as
  ``NULLIF(trim(x), '')`` on every kind of edge (Unicode space separators, tabs, empties);
- the second read parses only records none of whose events was written (a bit string of
  written ordinals): bad records, ids already stored and repeats inside the file each end
  where they belong, for CSV, JSON lines and Parquet, and on re-ingest;
- the CSV line-break scan is skipped only when the file has one line per record
  (``_physical_lines``), so quarantine lines stay physical.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from tests.events.conftest import events, quarantined, run

from journeylens.events.mapping import read_mapping
from journeylens.events.runner import SourceSpec, _physical_lines
from journeylens.events.sql import clean

EDGES = [
    ("abc", "abc"),
    (" abc", "abc"),
    ("abc ", "abc"),
    ("  ", None),
    ("", None),
    ("a b", "a b"),
    ("\tabc", "\tabc"),  # trim removes space separators only, not tabs
    ("\u00a0abc", "abc"),  # no-break space: a space separator
    ("abc\u3000", "abc"),  # ideographic space
    ("é", "é"),
    (" é ", "é"),
    (None, None),
]


@pytest.mark.parametrize(("text", "expected"), EDGES)
def test_clean_of_a_column_equals_trim_nullif(text: str | None, expected: str | None) -> None:
    con = duckdb.connect()
    con.execute('CREATE TABLE t ("a col" VARCHAR)')
    con.execute("INSERT INTO t VALUES (?)", [text])
    fast_sql = clean('"a col"')
    fast, plain = con.execute(f"SELECT {fast_sql}, NULLIF(trim(\"a col\"), '') FROM t").fetchall()[
        0
    ]
    assert fast == plain == expected


def test_clean_of_an_expression_is_plain_trim() -> None:
    assert clean("lower(x)") == "NULLIF(trim(CAST(lower(x) AS VARCHAR)), '')"


@pytest.mark.parametrize(
    ("data", "lines"),
    [
        (b"", 0),
        (b"h", 1),
        (b"h\n", 1),
        (b"h\na", 2),
        (b"h\r\na\r\n", 2),
        (b'h\n"x\ny"\n', 3),
        (b"h\n\n", 2),
    ],
)
def test_physical_lines(tmp_path: Path, data: bytes, lines: int) -> None:
    f = tmp_path / "f.csv"
    f.write_bytes(data)
    assert _physical_lines(f) == lines


def test_physical_lines_of_a_compressed_file_are_unknown(tmp_path: Path) -> None:
    f = tmp_path / "f.csv.gz"
    f.write_bytes(b"\x1f\x8b")
    assert _physical_lines(f) is None


MAPPING = (
    "time: {column: ts}\nevent_id: id\nevent_name: {column: ev}\n"
    "identities: {user_id: uid}\nvalue: amount\n"
)
# record: id, ts, uid, ev, amount — record 2 has a bad time, 4 no identity, 5 repeats 1,
# 6 a bad amount (text columns only; a numeric Parquet column cannot hold one)
ROWS = [
    ("e1", "2024-01-01T00:00:00Z", "u1", "open", "1"),
    ("e2", "not a time", "u1", "open", "2"),
    ("e3", "2024-01-03T00:00:00Z", "u2", "open", ""),
    ("e4", "2024-01-04T00:00:00Z", "", "open", "4"),
    ("e1", "2024-01-05T00:00:00Z", "u3", "open", "5"),
    ("e6", "2024-01-06T00:00:00Z", "u3", "open", "x"),
    ("e7", "2024-01-07T00:00:00Z", "u4", "open", "7"),
]
EXPECTED_BAD = [
    (3, "ts", "not a time", "bad_timestamp"),
    (5, "uid", None, "missing_identity"),
    (7, "amount", "x", "bad_value"),
]


def _write(tmp_path: Path, kind: str) -> Path:
    if kind == "csv":
        f = tmp_path / "e.csv"
        f.write_text("id,ts,uid,ev,amount\n" + "".join(",".join(r) + "\n" for r in ROWS))
    elif kind == "jsonl":
        f = tmp_path / "e.jsonl"
        keys = ("id", "ts", "uid", "ev", "amount")
        f.write_text(
            "".join(
                "{" + ", ".join(f'"{k}": "{v}"' for k, v in zip(keys, r, strict=True)) + "}\n"
                for r in ROWS
            )
        )
    else:
        f = tmp_path / "e.parquet"
        values = ", ".join("(" + ", ".join(f"'{v}'" for v in r) + ")" for r in ROWS)
        duckdb.connect().execute(
            f"COPY (SELECT * FROM (VALUES {values}) v(id, ts, uid, ev, amount)) TO '{f}' "
            "(FORMAT parquet)"
        )
    return f


@pytest.mark.parametrize("kind", ["csv", "jsonl", "parquet"])
def test_second_read_of_unwritten_records(
    con: duckdb.DuckDBPyConnection, tmp_path: Path, kind: str
) -> None:
    mapping = tmp_path / "m.yaml"
    mapping.write_text(MAPPING, encoding="utf-8")
    spec = SourceSpec((str(_write(tmp_path, kind)),), "mapping", "s", read_mapping(mapping))
    (s,) = run(con, spec).sources
    # 7 read: e1, e3, e7 stored; 3 bad; the second e1 a duplicate
    assert (s.rows_read, s.rows_stored, s.rows_quarantined, s.rows_duplicate) == (7, 3, 3, 1)
    assert [(e["event_id"], e["value"]) for e in events(con)] == [
        ("s:e1", 1.0),
        ("s:e3", None),
        ("s:e7", 7.0),
    ]
    header = 1 if kind == "csv" else 0  # quarantine lines are file lines
    got = [(line, field, value, reason) for _, line, field, value, reason in quarantined(con)]
    assert got == [(k - 1 + header, f, v, r) for k, f, v, r in EXPECTED_BAD]
    # again: nothing new, every good record a duplicate, the same 3 bad
    (s2,) = run(con, spec).sources
    assert (s2.rows_read, s2.rows_stored, s2.rows_quarantined, s2.rows_duplicate) == (7, 0, 3, 4)
    assert len(events(con)) == 3


def test_multiline_check_still_runs_when_lines_outnumber_records(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    header = "transaction_id,member_id,occurred_at,type,points,tier,reason\n"
    a = tmp_path / "a.csv"
    a.write_text(
        header
        + 'L1,C1,2024-01-01T00:00:00Z,earn,1,,"x\ny"\n'  # lines 2-3
        + "L2,C1,bad,earn,2,,\n"  # line 4
    )
    assert _physical_lines(a) == 4  # 3 records + 1 break: the scan runs
    run(con, SourceSpec((str(a),), "loyalty"))
    assert [(line, reason) for _, line, _, _, reason in quarantined(con)] == [(4, "bad_timestamp")]
