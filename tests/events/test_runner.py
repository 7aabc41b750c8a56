"""Runs as a whole: idempotence, overlap, compression, folders, mappings, clear errors."""

from __future__ import annotations

import datetime as dt
import gzip
import shutil
from pathlib import Path

import duckdb
import pytest
import zstandard
from tests.events.conftest import FIXTURES, events, quarantined, run

from journeylens.events.mapping import MappingError, read_mapping
from journeylens.events.runner import IngestError, IngestProgress, SourceSpec, _advance

T = dt.datetime


def test_reingest_adds_nothing_and_counts_duplicates(con: duckdb.DuckDBPyConnection) -> None:
    first = run(con, SourceSpec((str(FIXTURES / "orders.csv"),), "orders"))
    n_events = con.execute("SELECT count(*) FROM events").fetchall()[0][0]
    second = run(con, SourceSpec((str(FIXTURES / "orders.csv"),), "orders"))
    assert con.execute("SELECT count(*) FROM events").fetchall()[0][0] == n_events == 4
    (s1,), (s2,) = first.sources, second.sources
    assert (s2.rows_read, s2.rows_stored, s2.rows_duplicate, s2.rows_quarantined) == (9, 0, 3, 6)
    assert s1.rows_stored + s1.rows_duplicate == s2.rows_duplicate
    log = con.execute(
        "SELECT rows_read, rows_stored, rows_quarantined, rows_duplicate, status FROM ingest_log "
        "ORDER BY started_at"
    ).fetchall()
    assert log == [(9, 2, 6, 1, "ok"), (9, 0, 6, 3, "ok")]


def test_overlapping_exports_merge(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    header = "transaction_id,member_id,occurred_at,type,points,tier,reason\n"
    a = tmp_path / "a.csv"
    b = tmp_path / "b.csv"
    a.write_text(
        header + "L1,C1,2024-01-01T00:00:00Z,earn,1,,\nL2,C1,2024-01-02T00:00:00Z,earn,2,,\n"
    )
    b.write_text(
        header + "L2,C1,2024-01-02T00:00:00Z,earn,2,,\nL3,C1,2024-01-03T00:00:00Z,earn,3,,\n"
    )
    res = run(con, SourceSpec((str(a), str(b)), "loyalty"))
    (s,) = res.sources
    assert (s.rows_read, s.rows_stored, s.rows_duplicate) == (4, 3, 1)
    assert [e["event_id"] for e in events(con)] == ["loyalty:L1", "loyalty:L2", "loyalty:L3"]
    # seq increases across runs
    run(con, SourceSpec((str(b),), "loyalty"))
    c = tmp_path / "c.csv"
    c.write_text(header + "L4,C1,2024-01-01T00:00:00Z,earn,4,,\n")
    run(con, SourceSpec((str(c),), "loyalty"))
    seqs = {e["event_id"]: e["seq"] for e in events(con)}
    assert seqs["loyalty:L4"] > max(seqs["loyalty:L1"], seqs["loyalty:L2"], seqs["loyalty:L3"])
    # event_id and seq are unique by construction (the table has no index to enforce it)
    assert con.execute(
        "SELECT count(*), count(DISTINCT event_id), count(DISTINCT seq) FROM events"
    ).fetchall() == [(4, 4, 4)]


def test_compressed_files_folders_and_globs(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    folder = tmp_path / "exports"
    folder.mkdir()
    raw = (FIXTURES / "social.jsonl").read_bytes()
    (folder / "part-0.jsonl.gz").write_bytes(gzip.compress(raw))
    (folder / "part-1.jsonl.zst").write_bytes(zstandard.ZstdCompressor().compress(raw))
    res = run(con, SourceSpec((str(folder),), "social"))
    (s,) = res.sources
    assert len(s.files) == 2
    assert (s.rows_read, s.rows_stored, s.rows_quarantined, s.rows_duplicate) == (6, 2, 2, 2)
    assert [q[:2] for q in quarantined(con)] == [("part-0.jsonl.gz", 3), ("part-1.jsonl.zst", 3)]
    shutil.copy(FIXTURES / "loyalty.csv", folder / "loyalty-1.csv")
    res = run(con, SourceSpec((str(folder / "loyalty-*.csv"),), "loyalty"))
    assert res.sources[0].rows_stored == 2


def test_csv_mapping_with_time_zone(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    data = tmp_path / "clicks.csv"
    data.write_text(
        "when;who;cookie;what;amount;page\n"
        "01/03/2024 10:00;U1;;click;;/home\n"
        "01/05/2024 10:00;;k9;view;2.5;/shop\n"
        "31/02/2024 10:00;U2;;click;;/x\n"
        "01/03/2024 11:00;;;click;;/x\n",
        encoding="utf-8",
    )
    mapping = tmp_path / "clicks.yaml"
    mapping.write_text(
        "delimiter: ';'\n"
        "time: {column: when, format: '%d/%m/%Y %H:%M', timezone: Europe/Paris}\n"
        "event_name: {column: what}\n"
        "channel: {constant: web}\n"
        "identities: {user_id: who, anonymous_id: cookie}\n"
        "value: amount\n"
        "properties: [page]\n"
        "constants: {country: FR}\n",
        encoding="utf-8",
    )
    res = run(con, SourceSpec((str(data),), "mapping", "site", read_mapping(mapping)))
    (s,) = res.sources
    assert (s.rows_read, s.rows_stored, s.rows_quarantined) == (4, 2, 2)
    rows = events(con)
    # Paris is UTC+1 in March and UTC+2 in May
    assert [
        (e["occurred_at"], e["user_id"], e["anonymous_id"], e["event_name"], e["value"])
        for e in rows
    ] == [
        (T(2024, 3, 1, 9, 0), "U1", None, "click", None),
        (T(2024, 5, 1, 8, 0), None, "k9", "view", 2.5),
    ]
    assert rows[0]["properties"] == {"page": "/home", "country": "FR"}
    assert rows[0]["event_id"].startswith("site:h:")
    assert rows[0]["channel"] == "web"
    assert [(q[1], q[2], q[4]) for q in quarantined(con)] == [
        (4, "when", "bad_timestamp"),
        (5, "who|cookie", "missing_identity"),
    ]


def test_jsonl_and_parquet_mappings(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    mapping = tmp_path / "m.yaml"
    mapping.write_text(
        "time: {column: ts, format: epoch_ms}\nevent_id: id\nevent_name: {column: ev.name}\n"
        "identities: {device_id: dev}\nproperties: [ev.kind]\n",
        encoding="utf-8",
    )
    lines = tmp_path / "e.jsonl"
    lines.write_text(
        '{"id": "1", "ts": 1709287200000, "ev": {"name": "open", "kind": "a"}, "dev": "D1"}\n'
        '{"id": "2", "ts": 1709287200000, "ev": {"name": "open"}}\n',
        encoding="utf-8",
    )
    res = run(con, SourceSpec((str(lines),), "mapping", "iot", read_mapping(mapping)))
    assert (res.sources[0].rows_stored, res.sources[0].rows_quarantined) == (1, 1)
    assert [
        (e["event_id"], e["occurred_at"], e["device_id"], e["properties"]) for e in events(con)
    ] == [("iot:1", T(2024, 3, 1, 10, 0), "D1", {"ev.kind": "a"})]
    pq = tmp_path / "e.parquet"
    con.execute(
        "COPY (SELECT 'p' || i AS id, TIMESTAMP '2024-03-01 10:00:00' + i * INTERVAL 1 MINUTE AS ts, "
        "'tick' AS name, 'D' || (i % 2) AS dev, i * 1.5 AS amount FROM range(3) t(i)) TO "
        f"'{pq}' (FORMAT parquet)"
    )
    pmap = tmp_path / "p.yaml"
    pmap.write_text(
        "time: {column: ts, timezone: America/New_York}\nevent_id: id\n"
        "event_name: {column: name}\nidentities: {device_id: dev}\nvalue: amount\n",
        encoding="utf-8",
    )
    run(con, SourceSpec((str(pq),), "mapping", "pq", read_mapping(pmap)))
    got = events(con, "source = 'pq'")
    assert [(e["event_id"], e["occurred_at"], e["device_id"], e["value"]) for e in got] == [
        ("pq:p0", T(2024, 3, 1, 15, 0), "D0", 0.0),
        ("pq:p1", T(2024, 3, 1, 15, 1), "D1", 1.5),
        ("pq:p2", T(2024, 3, 1, 15, 2), "D0", 3.0),
    ]


def test_unreadable_inputs_are_clear_errors(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    with pytest.raises(IngestError, match=r"nope\.csv: no such file or folder"):
        run(con, SourceSpec((str(tmp_path / "nope.csv"),), "orders"))
    png = tmp_path / "image.csv"
    png.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    with pytest.raises(IngestError, match=r"image\.csv: cannot read as CSV"):
        run(con, SourceSpec((str(png),), "orders"))
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("a,b\n1,2\n")
    with pytest.raises(
        IngestError, match=r"wrong\.csv: not a orders file: missing columns order_id"
    ):
        run(con, SourceSpec((str(wrong),), "orders"))
    with pytest.raises(IngestError, match="unknown format 'xml'"):
        run(con, SourceSpec((str(wrong),), "xml"))
    bad_map = tmp_path / "m.yaml"
    bad_map.write_text("time: {column: t}\nevent_name: {column: e, constant: x}\nidentities: {}\n")
    with pytest.raises(MappingError, match=r"m\.yaml: invalid mapping: event_name: .*exactly one"):
        read_mapping(bad_map)
    ok_map = tmp_path / "ok.yaml"
    ok_map.write_text("time: {column: t}\nevent_name: {column: e}\nidentities: {user_id: u}\n")
    with pytest.raises(IngestError, match=r"wrong\.csv: columns t, e, u named by the mapping"):
        run(con, SourceSpec((str(wrong),), "mapping", "x", read_mapping(ok_map)))
    # nothing was stored by any of these
    assert con.execute("SELECT count(*) FROM events").fetchall() == [(0,)]


def test_failed_run_is_rolled_back_and_logged(con: duckdb.DuckDBPyConnection) -> None:
    def boom(_: duckdb.DuckDBPyConnection) -> None:
        raise RuntimeError("stitching exploded")

    with pytest.raises(RuntimeError):
        run(con, SourceSpec((str(FIXTURES / "orders.csv"),), "orders"), after=boom)
    assert con.execute("SELECT count(*) FROM events").fetchall() == [(0,)]
    assert con.execute("SELECT count(*) FROM quarantine").fetchall() == [(0,)]
    assert con.execute("SELECT status, message FROM ingest_log").fetchall() == [
        ("failed", "stitching exploded")
    ]


def test_first_occurrence_in_the_run_wins(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    header = "transaction_id,member_id,occurred_at,type,points,tier,reason\n"
    a = tmp_path / "a.csv"
    # L1 twice in the same file: the first line (1 point) is stored, the second is a duplicate
    a.write_text(
        header + "L1,C1,2024-01-01T00:00:00Z,earn,1,,\nL1,C1,2024-01-05T00:00:00Z,earn,9,,\n"
        "L2,C1,2024-01-02T00:00:00Z,earn,2,,\n"
    )
    (s,) = run(con, SourceSpec((str(a),), "loyalty")).sources
    assert (s.rows_read, s.rows_stored, s.rows_duplicate, s.events_stored) == (3, 2, 1, 2)
    stored = {e["event_id"]: e["value"] for e in events(con)}
    assert stored == {"loyalty:L1": 1.0, "loyalty:L2": 2.0}
    # seq = run base (1) + record ordinal (line index 1, 3 times the stride of 8)
    assert [e["seq"] for e in events(con)] == [1 + 8, 1 + 24]


def test_progress_reports_files_and_bytes(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    header = "transaction_id,member_id,occurred_at,type,points,tier,reason\n"
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    a.write_text(header + "L1,C1,2024-01-01T00:00:00Z,earn,1,,\n")
    b.write_text(header + "L2,C1,2024-01-02T00:00:00Z,earn,2,,\nL3,C1,2024-01-03T00:00:00Z,,,,\n")
    seen: list[IngestProgress] = []
    run(con, SourceSpec((str(a), str(b)), "loyalty"), progress=seen.append)
    total = a.stat().st_size + b.stat().st_size
    # before each file: where it starts; in between, DuckDB's share of the file read
    assert seen[0] == IngestProgress(str(a), 1, 2, 0, total)
    assert any(p.path == str(b) and p.bytes_done == a.stat().st_size for p in seen)
    assert all(p.bytes_total == total and 0 <= p.bytes_done <= total for p in seen)
    done = [p.bytes_done for p in seen]
    assert done == sorted(done)


def test_progress_within_a_file_counts_bytes() -> None:
    seen: list[IngestProgress] = []
    start = IngestProgress("big.csv", 2, 3, bytes_done=1000, bytes_total=5000)
    _advance(seen.append, start, 2000, 0.25)
    assert seen == [IngestProgress("big.csv", 2, 3, bytes_done=1500, bytes_total=5000)]


def test_quarantine_lines_are_physical_after_multiline_fields(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    header = "transaction_id,member_id,occurred_at,type,points,tier,reason\n"
    a = tmp_path / "a.csv"
    a.write_text(
        header
        + 'L1,C1,2024-01-01T00:00:00Z,earn,1,,"two\nlines"\n'  # lines 2-3
        + "L2,C1,not a date,earn,2,,\n"  # line 4
        + 'L3,C1,2024-01-03T00:00:00Z,earn,3,,"a\nb\nc"\n'  # lines 5-7
        + "L4,C1,2024-01-04T00:00:00Z,earn,4,,,extra\n"  # line 8: one column too many
        + "L5,C1,bad,earn,5,,\n"  # line 9
    )
    (s,) = run(con, SourceSpec((str(a),), "loyalty")).sources
    assert (s.rows_read, s.rows_stored, s.rows_quarantined) == (5, 2, 3)
    # record numbers + 1 would say 3, 5 and 6: each line break inside a quoted field counts
    assert [(line, reason) for _, line, _, _, reason in quarantined(con)] == [
        (4, "bad_timestamp"),
        (8, "malformed_row"),
        (9, "bad_timestamp"),
    ]
    assert [e["event_id"] for e in events(con)] == ["loyalty:L1", "loyalty:L3"]
