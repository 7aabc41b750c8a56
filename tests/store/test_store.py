"""The event store and workspace: migrations, schema agreement, config, export."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pytest

from journeylens.engine.migrations import migrations
from journeylens.engine.store import EventStore, StoreError, export_events, migrate, schema_version
from journeylens.engine.workspace import Workspace, WorkspaceError
from journeylens.events.runner import SourceSpec, ingest
from journeylens.events.schema import CRM_COLUMNS, EVENT_COLUMNS

FIXTURES = Path(__file__).parents[1] / "events" / "fixtures"


def test_events_table_matches_the_schema_module(tmp_path: Path) -> None:
    con = EventStore(tmp_path / "e.duckdb").connect()
    described = [(r[0], r[1]) for r in con.execute("DESCRIBE events").fetchall()]
    assert described == [(c.name, c.sql_type) for c in EVENT_COLUMNS]
    crm = [r[0] for r in con.execute("DESCRIBE customers").fetchall()]
    assert crm[3:-1] == [c.name for c in CRM_COLUMNS]
    con.close()


def test_migrations_are_numbered_and_applied_once(tmp_path: Path) -> None:
    versions = [m.version for m in migrations()]
    assert versions == list(range(1, len(versions) + 1))
    con = duckdb.connect(str(tmp_path / "m.duckdb"))
    assert migrate(con) == versions
    assert migrate(con) == []
    assert schema_version(con) == versions[-1]
    con.execute("INSERT INTO schema_version VALUES (999, 'future', now()::TIMESTAMP)")
    with pytest.raises(StoreError, match="schema version 999, this release knows up to"):
        migrate(con)
    con.close()


def test_workspace_init_find_and_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JOURNEYLENS_WORKSPACE", raising=False)
    ws = Workspace.init(tmp_path / "shop")
    assert ws.maps_dir.is_dir()
    assert ws.store.path.is_file()
    assert ws.max_users_per_identity == 5
    assert ws.max_identities_per_user == 100
    assert Workspace.init(tmp_path / "shop").root == ws.root  # idempotent
    nested = ws.maps_dir / "a" / "b"
    nested.mkdir(parents=True)
    assert Workspace.find(nested).root == ws.root
    assert Workspace.find(explicit=ws.root).root == ws.root
    monkeypatch.setenv("JOURNEYLENS_WORKSPACE", str(ws.root))
    assert Workspace.find(tmp_path).root == ws.root
    monkeypatch.delenv("JOURNEYLENS_WORKSPACE")
    with pytest.raises(WorkspaceError, match="no journeylens workspace at or above"):
        Workspace.find(tmp_path)
    ws.config_path.write_text("[stitching]\nmax_users_per_identity = 0\n")
    with pytest.raises(
        WorkspaceError, match=r"max_users_per_identity = 0: expected an integer ≥ 1"
    ):
        _ = Workspace.open(ws.root).max_users_per_identity
    ws.config_path.write_text("[store\n")
    with pytest.raises(WorkspaceError, match="invalid TOML"):
        Workspace.open(ws.root)


def test_export_events_to_parquet(tmp_path: Path) -> None:
    ws = Workspace.init(tmp_path / "ws")
    con = ws.store.connect()
    ingest(
        con,
        [
            SourceSpec((str(FIXTURES / "orders.csv"),), "orders"),
            SourceSpec((str(FIXTURES / "loyalty.csv"),), "loyalty"),
        ],
        now=dt.datetime(2024, 6, 1),
    )
    assert export_events(con, tmp_path / "flat") == 6
    flat = con.execute(
        "SELECT event_id FROM read_parquet($f)", {"f": str(tmp_path / "flat" / "events.parquet")}
    ).fetchall()
    # sorted by (occurred_at, seq)
    assert [r[0] for r in flat] == [
        "sales:O1:placed", "sales:O1:paid", "loyalty:L1", "sales:O2:placed",
        "sales:O2:cancelled", "loyalty:L2",
    ]  # fmt: skip
    assert export_events(con, tmp_path / "lake", partition_by="source") == 6
    parts = sorted(p.name for p in (tmp_path / "lake").iterdir())
    assert parts == ["source=loyalty", "source=sales"]
    back = con.execute(
        "SELECT source, count(*) FROM read_parquet($g, hive_partitioning = true) GROUP BY 1 ORDER BY 1",
        {"g": str(tmp_path / "lake" / "**" / "*.parquet")},
    ).fetchall()
    assert back == [("loyalty", 2), ("sales", 4)]
    with pytest.raises(StoreError, match="--partition-by 'nope'"):
        export_events(con, tmp_path / "x", partition_by="nope")
    con.close()


def test_events_relation_is_lazy_and_typed(tmp_path: Path) -> None:
    store = EventStore(tmp_path / "e.duckdb")
    con = store.connect()
    rel = store.events(con)
    assert store.events_table_name == "events"
    assert rel.columns[:3] == ["event_id", "occurred_at", "seq"]
    con.close()
    with pytest.raises(StoreError, match="no event store here"):
        EventStore(tmp_path / "missing.duckdb").connect(read_only=True)
