"""The ingest-area commands end to end, through the Typer app."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tests.events.conftest import FIXTURES
from typer.testing import CliRunner

from journeylens.cli.main import app

runner = CliRunner()


def test_init_ingest_quarantine_identities_export(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    assert runner.invoke(app, ["init", str(ws)]).exit_code == 0
    assert (ws / "journeylens.toml").is_file()
    # the fixture's times are in 2024, in the past for the real clock too
    res = runner.invoke(
        app,
        [
            "ingest",
            str(FIXTURES / "orders.csv"),
            "--format",
            "orders",
            "-w",
            str(ws),
            "--output",
            "json",
        ],
    )
    assert res.exit_code == 0, res.output
    (src,) = json.loads(res.stdout)["sources"]
    assert (src["rows_read"], src["rows_stored"], src["rows_quarantined"], src["rows_duplicate"]) == (
        9, 2, 6, 1,
    )  # fmt: skip
    res = runner.invoke(app, ["quarantine", "list", "-w", str(ws), "--output", "json"])
    assert res.exit_code == 0
    reasons = {g["reason"]: g["records"] for g in json.loads(res.stdout)}
    assert reasons == {
        "unknown_currency": 1, "missing_identity": 1, "bad_timestamp": 2,
        "missing_field": 1, "bad_value": 1,
    }  # fmt: skip
    res = runner.invoke(app, ["quarantine", "show", "-w", str(ws), "--reason", "unknown_currency"])
    assert res.exit_code == 0
    assert res.stdout.splitlines()[0].endswith(
        "orders.csv:4: unknown_currency: currency='XXX' (expected an ISO 4217 currency code)"
    )
    out = tmp_path / "q.csv"
    res = runner.invoke(
        app, ["quarantine", "export", "--to", str(out), "-w", str(ws), "--run", "latest"]
    )
    assert res.exit_code == 0
    assert out.read_text().startswith("run_id,source,file,line,field")
    res = runner.invoke(app, ["identities", "stats", "-w", str(ws), "--output", "json"])
    stats = json.loads(res.stdout)
    assert (stats["customers"], stats["identified"]) == (2, 1)
    res = runner.invoke(app, ["stitch", "-w", str(ws), "--max-users-per-identity", "2"])
    assert res.exit_code == 0
    assert "2 customers (1 identified)" in res.stdout
    res = runner.invoke(app, ["export-events", "--to", str(tmp_path / "pq"), "-w", str(ws)])
    assert res.exit_code == 0
    assert (tmp_path / "pq" / "events.parquet").is_file()


def test_errors_exit_non_zero_naming_the_problem(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    runner.invoke(app, ["init", str(ws)])
    res = runner.invoke(
        app, ["ingest", str(tmp_path / "none.csv"), "--format", "orders", "-w", str(ws)]
    )
    assert res.exit_code == 2
    assert "none.csv: no such file or folder" in res.stderr
    res = runner.invoke(app, ["ingest", str(FIXTURES / "orders.csv"), "-w", str(ws)])
    assert res.exit_code == 2
    assert "give --format F or --mapping FILE" in res.stderr
    res = runner.invoke(
        app, ["ingest", str(FIXTURES / "loyalty.csv"), "--format", "orders", "-w", str(ws)]
    )
    assert res.exit_code == 2
    assert "not a orders file: missing columns order_id" in res.stderr
    res = runner.invoke(app, ["quarantine", "list", "-w", str(tmp_path / "nowhere")])
    assert res.exit_code == 2
    assert "not a journeylens workspace" in res.stderr


def test_manifest_folder(tmp_path: Path) -> None:
    out = tmp_path / "export"
    (out / "crm").mkdir(parents=True)
    (out / "tickets").mkdir()
    shutil.copy(FIXTURES / "crm.csv", out / "crm" / "part-00000.csv")
    shutil.copy(FIXTURES / "support.csv", out / "tickets" / "part-00000.csv")
    (out / "manifest.json").write_text(
        json.dumps(
            {
                "schema": "journeylens/simulation/v1",
                "sources": [
                    {"path": "tickets", "source": "helpdesk", "format": "support"},
                    {"path": "crm", "source": "crm", "format": "crm"},
                ],
            }
        )
    )
    ws = tmp_path / "ws"
    runner.invoke(app, ["init", str(ws)])
    res = runner.invoke(app, ["ingest", str(out), "-w", str(ws), "--output", "json"])
    assert res.exit_code == 0, res.output
    got = [(s["source"], s["rows_stored"]) for s in json.loads(res.stdout)["sources"]]
    # CRM first so its e-mail links are there for the tickets; the 2099 resolution is bad
    assert got == [("crm", 2), ("helpdesk", 2)]
