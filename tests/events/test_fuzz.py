"""Hypothesis fuzzes every adapter with malformed records: no crash, nothing lost.

For each generated file, every record is accounted for: read = stored + quarantined +
duplicate, read equals the records written, and the store holds exactly the quarantine rows
and events the run reports.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from journeylens.engine.workspace import Workspace
from journeylens.events.formats import (
    CAMPAIGNS_COLUMNS,
    CRM_FILE_COLUMNS,
    LOYALTY_COLUMNS,
    ORDERS_COLUMNS,
    SUPPORT_COLUMNS,
    SURVEYS_COLUMNS,
)
from journeylens.events.runner import SourceSpec, ingest

NOW = dt.datetime(2024, 6, 1)
CSV_FORMATS = {
    "orders": ORDERS_COLUMNS,
    "campaigns": CAMPAIGNS_COLUMNS,
    "loyalty": LOYALTY_COLUMNS,
    "surveys": SURVEYS_COLUMNS,
    "support": SUPPORT_COLUMNS,
    "crm": CRM_FILE_COLUMNS,
}
JSON_FIELDS = {
    "segment": ["type", "messageId", "timestamp", "anonymousId", "userId", "event", "name",
                "properties", "traits", "previousId", "context"],
    "ga4": ["event_date", "event_timestamp", "event_name", "event_params", "user_pseudo_id",
            "user_id", "device", "geo", "platform"],
    "social": ["id", "created_at", "platform", "author_handle", "text", "url", "likes",
               "customer_id"],
}  # fmt: skip

# Plausible values mixed with junk: times, ids, scores, currencies, quotes, commas, unicode.
cell = st.one_of(
    st.sampled_from(
        ["", "2024-03-01T10:00:00Z", "1985-01-01", "2099-01-01T00:00:00Z", "C1", "a1", "9",
         "11", "-3", "EUR", "XXX", "nps", "csat", "ces", "track", "page", "identify", "click",
         "earn", "web", "email", "fax", "1709287200000000", "x@y.z", '"', "'", ",", ";"]
    ),
    st.text(st.characters(blacklist_categories=["Cs"], blacklist_characters="\r\n\x00\x01"), max_size=12),
)  # fmt: skip
json_value = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**40), 2**60) | st.floats(allow_nan=False) | cell,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(cell, inner, max_size=3),
    max_leaves=6,
)


def _csv_record(columns: tuple[str, ...]) -> st.SearchStrategy[bytes]:
    n = len(columns)
    fields = st.lists(cell, min_size=max(n - 1, 1), max_size=n + 1)

    def encode(values: list[str]) -> bytes:
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerow(values)
        return buf.getvalue().encode("utf-8")

    plain = fields.map(encode)
    latin1 = fields.map(lambda v: encode(v).replace(b"a", b"\xe9", 1))
    return st.one_of(plain, plain, plain, latin1)


def _json_line(fields: list[str]) -> st.SearchStrategy[bytes]:
    obj = st.fixed_dictionaries({}, optional=dict.fromkeys(fields, json_value)).map(
        lambda d: json.dumps(d).encode("utf-8")
    )
    junk = cell.filter(lambda s: s.strip() != "").map(lambda s: s.encode("utf-8"))
    latin1 = obj.map(lambda b: b.replace(b"{", b"{\xff", 1))
    return st.one_of(obj, obj, obj, junk, latin1)


def _check(con: duckdb.DuckDBPyConnection, path: Path, fmt: str, records: int) -> None:
    before_events = con.execute("SELECT count(*) FROM events").fetchall()[0][0]
    before_q = con.execute("SELECT count(*) FROM quarantine").fetchall()[0][0]
    result = ingest(con, [SourceSpec((str(path),), fmt)], now=NOW)
    (s,) = result.sources
    assert s.rows_read == s.rows_stored + s.rows_quarantined + s.rows_duplicate
    assert s.rows_read == records
    after_q = con.execute("SELECT count(*) FROM quarantine").fetchall()[0][0]
    assert after_q - before_q == s.rows_quarantined
    after_events = con.execute("SELECT count(*) FROM events").fetchall()[0][0]
    assert after_events - before_events == s.events_stored


FUZZ = settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


@pytest.mark.slow
@pytest.mark.parametrize("fmt", sorted(CSV_FORMATS))
def test_csv_adapters_never_lose_a_record(fmt: str, tmp_path: Path) -> None:
    ws = Workspace.init(tmp_path / "ws")
    con = ws.store.connect()
    columns = CSV_FORMATS[fmt]
    header = (",".join(columns) + "\n").encode()

    @FUZZ
    @given(st.lists(_csv_record(columns), min_size=1, max_size=12))
    def check(rows: list[bytes]) -> None:
        path = tmp_path / f"{fmt}.csv"
        path.write_bytes(header + b"".join(rows))
        _check(con, path, fmt, len(rows))

    check()
    con.close()


@pytest.mark.slow
@pytest.mark.parametrize("fmt", sorted(JSON_FIELDS))
def test_jsonl_adapters_never_lose_a_record(fmt: str, tmp_path: Path) -> None:
    ws = Workspace.init(tmp_path / "ws")
    con = ws.store.connect()

    @FUZZ
    @given(st.lists(_json_line(JSON_FIELDS[fmt]), min_size=1, max_size=12))
    def check(lines: list[bytes]) -> None:
        path = tmp_path / f"{fmt}.jsonl"
        path.write_bytes(b"\n".join(lines) + b"\n")
        _check(con, path, fmt, len(lines))

    check()
    con.close()


@pytest.mark.slow
def test_mapping_adapter_never_loses_a_record(tmp_path: Path) -> None:
    from journeylens.events.mapping import read_mapping

    ws = Workspace.init(tmp_path / "ws")
    con = ws.store.connect()
    mapping = tmp_path / "m.yaml"
    mapping.write_text(
        "time: {column: ts, format: '%Y-%m-%d %H:%M', timezone: Europe/Paris}\n"
        "event_name: {column: ev}\nidentities: {user_id: uid, email: mail}\n"
        "value: amount\nscore: s\nscore_type: {column: st}\nproperties: [p]\n",
        encoding="utf-8",
    )
    spec_mapping = read_mapping(mapping)
    columns = ("ts", "ev", "uid", "mail", "amount", "s", "st", "p")
    header = (",".join(columns) + "\n").encode()

    @FUZZ
    @given(st.lists(_csv_record(columns), min_size=1, max_size=12))
    def check(rows: list[bytes]) -> None:
        path = tmp_path / "generic.csv"
        path.write_bytes(header + b"".join(rows))
        before = con.execute("SELECT count(*) FROM quarantine").fetchall()[0][0]
        result = ingest(con, [SourceSpec((str(path),), "mapping", "gen", spec_mapping)], now=NOW)
        (s,) = result.sources
        assert s.rows_read == s.rows_stored + s.rows_quarantined + s.rows_duplicate == len(rows)
        after = con.execute("SELECT count(*) FROM quarantine").fetchall()[0][0]
        assert after - before == s.rows_quarantined

    check()
    con.close()
