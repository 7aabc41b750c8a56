"""The data API (ingestion log, quarantine, identity stats, uploads) and the inbox rule:
a stored upload is deleted, a failed one kept and listed until discarded. Figures are
counted by hand on the small orders file of :mod:`tests.web.data_helpers` (4 records:
3 stored for C1, C2, C1; line 4's ``created_at`` is "not a date") and compared with the
library's own report functions on the same store."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from tests.web.conftest import World, sign_in
from tests.web.data_helpers import HEADER, ORDERS, data_app, wait_idle

from journeylens.engine.workspace import Workspace
from journeylens.events.reports import ingest_log_page, quarantine_page
from journeylens.events.stitch import identity_stats
from journeylens.web import ingest_jobs
from journeylens.web.app import create_app


def _api_upload(client: TestClient, ws: int, token: str, content: str, name: str) -> Any:
    answer = client.post(
        f"/api/v1/workspaces/{ws}/ingest",
        data={"format": "orders", "source": "sales"},
        files={"file": (name, content.encode(), "text/csv")},
        headers={"X-CSRF-Token": token},
    )
    assert answer.status_code == 202, answer.text
    return answer.json()


def _inbox(root: Path) -> list[str]:
    """The uploaded files in the inbox (not the jobs folder and the lock)."""
    inbox = root / "inbox"
    return sorted(p.name for p in inbox.iterdir() if not p.name.startswith("."))


def test_log_quarantine_and_identities_after_one_upload(world: World, tmp_path: Path) -> None:
    app, root = data_app(world, tmp_path)
    client, token = sign_in(app, "editor@acme.test")
    base = f"/api/v1/workspaces/{world.ws}"
    job = _api_upload(client, world.ws, token, ORDERS, "orders.csv")
    wait_idle(app)
    viewer, _ = sign_in(app, "viewer@acme.test")

    log = viewer.get(f"{base}/data/log").json()
    assert (log["total"], log["limit"], log["offset"]) == (1, 50, 0)
    entry = log["entries"][0]
    assert (entry["source"], entry["format"], entry["status"]) == ("sales", "orders", "ok")
    counts = [entry[k] for k in ("rows_read", "rows_stored", "rows_quarantined")]
    assert [*counts, entry["rows_duplicate"], entry["events_stored"]] == [4, 3, 1, 0, 3]
    assert entry["files"] == [f"{job['id']}.csv"]  # the inbox name, never the server path

    quarantine = viewer.get(f"{base}/data/quarantine").json()
    assert quarantine["total"] == 1
    assert quarantine["reasons"] == ["bad_timestamp"]
    assert quarantine["runs"] == [entry["run_id"]]
    record = quarantine["records"][0]
    assert (record["line"], record["field"], record["value"], record["reason"]) == (
        4,
        "created_at",
        "not a date",
        "bad_timestamp",
    )
    assert record["file"] == f"{job['id']}.csv"
    assert str(root) not in viewer.get(f"{base}/data/quarantine").text
    assert viewer.get(f"{base}/data/quarantine?reason=bad_timestamp").json()["total"] == 1
    assert viewer.get(f"{base}/data/quarantine?run=latest").json()["total"] == 1
    assert viewer.get(f"{base}/data/quarantine?reason=bad_amount").json()["records"] == []

    identities = viewer.get(f"{base}/data/identities").json()
    assert identities["customers"] == 2  # C1 and C2 (C3's only order was quarantined)

    store = Workspace.open(root).store
    con = store.connect(read_only=True)
    try:
        direct_log = ingest_log_page(con)[0]
        direct_record = quarantine_page(con)[0]
        direct_ids = identity_stats(con)
    finally:
        con.close()
    assert entry["run_id"] == direct_log.run_id
    assert (direct_log.rows_read, direct_log.rows_stored) == (4, 3)
    assert record["raw"] == direct_record.raw
    assert identities == {
        **dataclasses.asdict(direct_ids),
        "largest": [dataclasses.asdict(c) for c in direct_ids.largest],
        "refused": [],
    }


def test_quarantine_pages_with_limit_and_offset(world: World, tmp_path: Path) -> None:
    app, _root = data_app(world, tmp_path)
    client, token = sign_in(app, "editor@acme.test")
    rows = "".join(f"B{i},C{i},,placed,5,EUR,SKU1,bad {i},,,\n" for i in range(120))
    _api_upload(client, world.ws, token, HEADER + rows, "bad.csv")
    wait_idle(app)
    url = f"/api/v1/workspaces/{world.ws}/data/quarantine"
    last = client.get(f"{url}?reason=bad_timestamp&limit=50&offset=100").json()
    assert last["total"] == 120
    assert len(last["records"]) == 20  # records 101–120: lines 102–121
    assert [r["line"] for r in last["records"]] == list(range(102, 122))
    assert last["records"][-1]["value"] == "bad 119"
    for query, field in (
        ("limit=0", "query.limit"),
        ("limit=1001", "query.limit"),
        ("offset=-1", "query.offset"),
        ("limit=x", "query.limit"),
    ):
        answer = client.get(f"{url}?{query}")
        assert answer.status_code == 422, query
        assert answer.json()["issues"][0]["field"] == field
        assert answer.json()["issues"][0]["reason"]


def test_an_empty_store_and_no_workspace_folder(world: World, tmp_path: Path) -> None:
    app, _root = data_app(world, tmp_path)
    client, _ = sign_in(app, "viewer@acme.test")
    base = f"/api/v1/workspaces/{world.ws}/data"
    assert client.get(f"{base}/log").json() == {
        "total": 0,
        "limit": 50,
        "offset": 0,
        "entries": [],
    }
    assert client.get(f"{base}/identities").json()["customers"] == 0
    bare = create_app(
        dataclasses.replace(app.state.settings, workspace=None), world.backend
    )  # a server started without --workspace
    viewer, _ = sign_in(bare, "viewer@acme.test")
    answer = viewer.get(f"{base}/quarantine")
    assert answer.status_code == 409
    assert answer.json()["field"] == "workspace"
    assert "journeylens serve --workspace W" in answer.json()["reason"]


def test_a_stored_upload_is_deleted_a_failed_one_kept_listed_and_discarded(
    world: World, tmp_path: Path
) -> None:
    app, root = data_app(world, tmp_path)
    client, token = sign_in(app, "editor@acme.test")
    base = f"/api/v1/workspaces/{world.ws}/ingest"
    good = _api_upload(client, world.ws, token, ORDERS, "orders.csv")
    wait_idle(app)
    assert _inbox(root) == []  # stored: the copy is gone
    bad = _api_upload(client, world.ws, token, "id,total\n1,2\n", "export.csv")
    wait_idle(app)
    assert _inbox(root) == [f"{bad['id']}.csv"]  # failed: kept for inspection
    listed = client.get(base).json()
    assert [(u["id"], u["status"], u["file_kept"]) for u in listed] == [
        (bad["id"], "failed", True),
        (good["id"], "done", False),
    ]
    assert listed[0]["file_name"] == "export.csv"
    assert "not a orders file: missing columns" in listed[0]["error"]
    # A viewer may not see or discard uploads.
    viewer, viewer_token = sign_in(app, "viewer@acme.test")
    assert viewer.get(base).status_code == 403
    refused = viewer.delete(f"{base}/{bad['id']}", headers={"X-CSRF-Token": viewer_token})
    assert refused.status_code == 403
    assert _inbox(root) == [f"{bad['id']}.csv"]
    # Without the CSRF header a cookie caller cannot discard either.
    assert client.delete(f"{base}/{bad['id']}").status_code == 403
    gone = client.delete(f"{base}/{bad['id']}", headers={"X-CSRF-Token": token})
    assert gone.status_code == 204
    assert _inbox(root) == []
    assert client.get(f"{base}/{bad['id']}").json()["status"] == "failed"
    assert client.get(base).json()[0]["file_kept"] is False
    again = client.delete(f"{base}/{bad['id']}", headers={"X-CSRF-Token": token})
    assert again.status_code == 204  # nothing left to delete: not an error
    unknown = client.delete(f"{base}/0123456789ab", headers={"X-CSRF-Token": token})
    assert unknown.status_code == 404
    assert unknown.json()["field"] == "job"


def test_leftovers_of_older_versions_are_swept_at_the_next_upload(
    world: World, tmp_path: Path
) -> None:
    app, root = data_app(world, tmp_path)
    client, token = sign_in(app, "editor@acme.test")
    inbox = root / "inbox"
    inbox.mkdir()
    (inbox / "0123456789ab.csv").write_text(ORDERS)  # an old version kept every upload
    (inbox / "notes.txt").write_text("not an upload: left alone")
    _api_upload(client, world.ws, token, ORDERS, "orders.csv")
    wait_idle(app)
    assert _inbox(root) == ["notes.txt"]


def test_a_job_older_than_the_kept_ones_takes_its_file_along(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ingest_jobs, "KEEP", 1)
    app, root = data_app(world, tmp_path)
    client, token = sign_in(app, "editor@acme.test")
    bad = _api_upload(client, world.ws, token, "id,total\n1,2\n", "export.csv")
    wait_idle(app)
    assert _inbox(root) == [f"{bad['id']}.csv"]
    _api_upload(client, world.ws, token, ORDERS, "orders.csv")
    wait_idle(app)
    # Only one job is remembered: the failed one is forgotten with its file.
    assert _inbox(root) == []
    assert client.get(f"/api/v1/workspaces/{world.ws}/ingest/{bad['id']}").status_code == 404


def test_serve_takes_the_upload_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn
    from typer.testing import CliRunner

    from journeylens.cli import serve
    from journeylens.cli.main import app as cli

    started: list[Any] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: started.append(app))
    url = f"sqlite:///{tmp_path / 'w.db'}"
    result = CliRunner().invoke(
        cli,
        ["serve", "--workspace", str(tmp_path), "--database-url", url, "--upload-max-bytes", "100"],
    )
    assert result.exit_code == 0, result.output
    assert started[0].state.settings.upload_max_bytes == 100
    started[0].state.backend.engine.dispose()
    bad = CliRunner().invoke(cli, ["serve", "--upload-max-bytes", "0"])
    assert bad.exit_code == 2
    assert "--upload-max-bytes" in bad.output
    # Every worker of --workers N gets the limit through the environment.
    monkeypatch.setenv(serve._ENV_DATABASE, url)
    monkeypatch.setenv(serve._ENV_WORKSPACE, str(tmp_path))
    monkeypatch.setenv(serve._ENV_SECRET, "shared-secret")
    monkeypatch.setenv(serve._ENV_UPLOAD_MAX, "12345")
    worker = serve.app_from_env()
    assert worker.state.settings.upload_max_bytes == 12345
    worker.state.backend.engine.dispose()
