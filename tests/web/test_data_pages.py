"""Data pages: upload a file, follow its ingest, read the ingestion log, the quarantine and
the identity stats; the refusals (409 busy, 413 too big, 422 bad format / name / source).

Every count is checked against the tiny orders file of ``data_helpers.ORDERS``: 4 records,
3 stored (O1, O2, O4), 1 quarantined (O3 on line 4: created_at "not a date"), 0
duplicates; customers C1 (2 orders) and C2.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import threading
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from tests.web.conftest import World, csrf_of, sign_in
from tests.web.data_helpers import HEADER, ORDERS, data_app, poll_fragment, upload, wait_idle

from journeylens.engine.workspace import Workspace
from journeylens.web import ingest_jobs
from journeylens.web.app import create_app
from journeylens.web.settings import make_settings


def _job_id(location: str) -> str:
    return location.rstrip("/").rsplit("/", 1)[-1]


def _uploads(root: Path) -> list[str]:
    """The uploaded files kept in the inbox (not the jobs folder and the lock)."""
    inbox = root / "inbox"
    return (
        sorted(p.name for p in inbox.iterdir() if not p.name.startswith("."))
        if inbox.exists()
        else []
    )


def test_tiny_ingest_shows_hand_counted_figures_everywhere(world: World, tmp_path: Path) -> None:
    app, root = data_app(world, tmp_path)
    client, token = sign_in(app, "editor@acme.test")
    answer = upload(client, world.ws, token)
    assert answer.status_code == 303
    job_id = _job_id(answer.headers["location"])
    assert answer.headers["location"] == f"/w/{world.ws}/data/jobs/{job_id}"
    assert client.get(answer.headers["location"]).status_code == 200

    final = poll_fragment(client, world.ws, job_id)
    assert 'data-status="done"' in final
    assert '<td class="read">4</td>' in final
    assert '<td class="stored">3</td>' in final
    assert '<td class="quarantined">1</td>' in final
    assert '<td class="duplicate">0</td>' in final
    assert '<td class="events">3</td>' in final  # one order_placed per stored order
    # Its events stored, the upload was deleted from the inbox (it kept a generated name).
    assert _uploads(root) == []

    log = client.get(f"/w/{world.ws}/data").text
    row = log.split('<tr class="status-ok">', 1)[1].split("</tr>", 1)[0]
    assert "<td>sales</td><td>orders</td>" in row
    assert '<td class="read">4</td><td class="stored">3</td>' in row
    assert ">1</a></td>" in row  # quarantined, linked to the run's records
    assert '<td class="duplicate">0</td>' in row
    assert f"{job_id}.csv" in row

    page = client.get(f"/w/{world.ws}/data/quarantine").text
    assert '<p id="quarantine-total">1 records</p>' in page
    assert '<td class="reason">bad_timestamp</td>' in page
    assert '<td class="line">4</td>' in page
    assert '<td class="field">created_at</td>' in page
    assert '<td class="value">not a date</td>' in page
    assert "an ISO 8601 time between 1990-01-01 and one day after the run" in page
    assert (
        '<p id="quarantine-total">1 records</p>'
        in client.get(f"/w/{world.ws}/data/quarantine?reason=bad_timestamp&run=latest").text
    )
    assert (
        '<p id="quarantine-total">0 records</p>'
        in client.get(f"/w/{world.ws}/data/quarantine?reason=missing_field").text
    )

    ids = client.get(f"/w/{world.ws}/data/identities").text
    assert '<dd class="customers">2</dd>' in ids  # C1 and C2; C3's only row was refused
    assert '<dd class="identified">2</dd>' in ids
    assert '<dd class="anonymous">0.0%</dd>' in ids
    assert '<dd class="refused">0</dd>' in ids


def test_htmx_upload_answers_202_with_a_polling_fragment(world: World, tmp_path: Path) -> None:
    app, _root = data_app(world, tmp_path)
    client, token = sign_in(app, "owner@acme.test")
    answer = upload(client, world.ws, token, htmx=True)
    assert answer.status_code == 202
    assert 'id="ingest-job"' in answer.text
    job_id = answer.text.split("/data/jobs/", 1)[1].split("/", 1)[0]
    final = poll_fragment(client, world.ws, job_id)
    assert '<td class="stored">3</td>' in final
    assert f"/w/{world.ws}/data/quarantine?run=" in final
    ended = client.get(f"/w/{world.ws}/data/jobs/{job_id}/progress")
    assert ended.headers["HX-Trigger"] == "ingest-finished"  # the data page reloads its tables


def test_a_second_upload_while_one_runs_gets_409(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app, root = data_app(world, tmp_path)
    client, token = sign_in(app, "editor@acme.test")
    release = threading.Event()
    connect = ingest_jobs._connect_waiting

    def held(ws: object) -> object:
        release.wait(60)  # the first run stays "running" until the test lets it go
        return connect(ws)  # type: ignore[arg-type]

    monkeypatch.setattr(ingest_jobs, "_connect_waiting", held)
    try:
        first = upload(client, world.ws, token)
        assert first.status_code == 303
        second = upload(client, world.ws, token, name="again.csv")
        assert second.status_code == 409
        assert "an ingest is already running in this workspace (orders.csv" in second.text
        htmx = upload(client, world.ws, token, htmx=True)
        assert htmx.status_code == 409
        assert 'id="upload-error"' in htmx.text
        api = client.post(
            f"/api/v1/workspaces/{world.ws}/ingest",
            data={"format": "orders"},
            files={"file": ("x.csv", ORDERS.encode(), "text/csv")},
            headers={"X-CSRF-Token": token},
        )
        assert api.status_code == 409
        assert api.json()["error"] == "Conflict"
        # While the run goes the data page shows it instead of the (locked) store.
        page = client.get(f"/w/{world.ws}/data").text
        assert "An ingest is running" in page
        assert 'data-status="running"' in page
    finally:
        release.set()
    wait_idle(app)
    assert _uploads(root) == []  # refused uploads left nothing; the stored one is deleted
    final = poll_fragment(client, world.ws, _job_id(first.headers["location"]))
    assert '<td class="stored">3</td>' in final
    assert upload(client, world.ws, token).status_code == 303  # free again
    wait_idle(app)


def test_a_file_over_the_size_limit_gets_413(world: World, tmp_path: Path) -> None:
    app, root = data_app(world, tmp_path, upload_max_bytes=100)
    client, token = sign_in(app, "editor@acme.test")
    answer = upload(client, world.ws, token)  # 288 bytes
    assert answer.status_code == 413
    assert "larger than this server accepts (100 bytes)" in answer.text
    # Content-Length alone is enough to refuse a body far over the limit.
    huge = upload(client, world.ws, token, content=b"x" * 200_000)
    assert huge.status_code == 413
    api = client.post(
        f"/api/v1/workspaces/{world.ws}/ingest",
        data={"format": "orders"},
        files={"file": ("orders.csv", ORDERS.encode(), "text/csv")},
        headers={"X-CSRF-Token": token},
    )
    assert api.status_code == 413
    assert api.json() == {
        "error": "PayloadTooLarge",
        "field": "file",
        "reason": "the file is larger than this server accepts (100 bytes)",
    }
    assert _uploads(root) == []


def test_bad_format_name_and_source_get_422_naming_the_field(world: World, tmp_path: Path) -> None:
    app, root = data_app(world, tmp_path)
    client, token = sign_in(app, "editor@acme.test")
    bad_format = client.post(
        f"/api/v1/workspaces/{world.ws}/ingest",
        data={"format": "xlsx"},
        files={"file": ("orders.csv", ORDERS.encode(), "text/csv")},
        headers={"X-CSRF-Token": token},
    )
    assert bad_format.status_code == 422
    assert bad_format.json()["field"] == "format"
    assert bad_format.json()["reason"] == (
        "expected one of campaigns, crm, ga4, loyalty, orders, segment, social, support, "
        "surveys, got 'xlsx'"
    )
    page = upload(client, world.ws, token, fmt="xlsx")
    assert page.status_code == 422
    assert "<b>format</b>: expected one of campaigns" in page.text
    bad_name = upload(client, world.ws, token, name="orders.xlsx")
    assert bad_name.status_code == 422
    assert "<b>file</b>: expected a .csv, .tsv, .jsonl, .json or .parquet file" in bad_name.text
    bad_source = upload(client, world.ws, token, source="web app")
    assert bad_source.status_code == 422
    assert "<b>source</b>:" in bad_source.text
    missing = client.post(
        f"/api/v1/workspaces/{world.ws}/ingest",
        data={"format": "orders"},
        headers={"X-CSRF-Token": token},
    )
    assert missing.status_code == 422
    assert missing.json()["issues"][0]["field"] == "file"
    assert _uploads(root) == []


def test_a_file_of_the_wrong_shape_fails_with_the_runners_reason(
    world: World, tmp_path: Path
) -> None:
    app, root = data_app(world, tmp_path)
    client, token = sign_in(app, "editor@acme.test")
    answer = upload(client, world.ws, token, content="id,total\n1,2\n", name="export.csv")
    final = poll_fragment(client, world.ws, _job_id(answer.headers["location"]))
    assert 'data-status="failed"' in final
    assert "Nothing was stored: export.csv: not a orders file: missing columns" in final
    assert str(root) not in final  # the server's inbox path stays private
    # The runner refused the file before touching the store: no run in the log, but the
    # failed upload is listed with its reason.
    log = client.get(f"/w/{world.ws}/data").text
    assert "No ingest runs yet." in log
    recent = log.split('id="recent-uploads"', 1)[1].split("</table>", 1)[0]
    assert '<tr class="status-failed">' in recent
    assert "export.csv</a>" in recent
    assert "failed: export.csv: not a orders file: missing columns" in recent


def test_quarantine_pages_through_many_records(world: World, tmp_path: Path) -> None:
    app, _root = data_app(world, tmp_path)
    client, token = sign_in(app, "editor@acme.test")
    rows = "".join(f"B{i},C{i},,placed,5,EUR,SKU1,bad {i},,,\n" for i in range(120))
    answer = upload(client, world.ws, token, content=HEADER + rows)
    poll_fragment(client, world.ws, _job_id(answer.headers["location"]))
    first = client.get(f"/w/{world.ws}/data/quarantine").text
    assert '<p id="quarantine-total">120 records</p>' in first
    assert first.count('<td class="reason">') == 50
    assert '<td class="line">2</td>' in first
    assert '<td class="line">51</td>' in first
    assert '<td class="line">52</td>' not in first
    assert "page 1 of 3 (120 rows)" in first
    last = client.get(f"/w/{world.ws}/data/quarantine?reason=bad_timestamp&page=3").text
    assert last.count('<td class="reason">') == 20  # records 101–120: lines 102–121
    assert '<td class="line">102</td>' in last
    assert '<td class="line">121</td>' in last
    assert '<td class="value">bad 119</td>' in last
    assert client.get(f"/w/{world.ws}/data/quarantine?page=0").status_code == 422
    assert client.get(f"/w/{world.ws}/data/quarantine?page=x").status_code == 422


def test_api_token_with_the_ingest_scope_uploads_and_polls(world: World, tmp_path: Path) -> None:
    app, _root = data_app(world, tmp_path)
    client, token = sign_in(app, "editor@acme.test")

    def make_token(scopes: list[str]) -> str:
        made = client.post(
            "/api/v1/tokens",
            json={"name": "loader", "workspace_id": world.ws, "scopes": scopes},
            headers={"X-CSRF-Token": token},
        )
        assert made.status_code == 201
        return str(made.json()["token"])

    bearer = {"Authorization": f"Bearer {make_token(['read', 'ingest'])}"}
    script = TestClient(app)  # a script: no cookies, only the bearer token
    sent = script.post(
        f"/api/v1/workspaces/{world.ws}/ingest",
        data={"format": "orders", "source": "shop"},
        files={"file": ("orders.csv", ORDERS.encode(), "text/csv")},
        headers=bearer,
    )
    assert sent.status_code == 202, sent.text
    body = sent.json()
    assert body["status"] in ("running", "done")
    assert body["file_name"] == "orders.csv"
    wait_idle(app)
    done = script.get(body["url"], headers=bearer).json()
    assert done["status"] == "done"
    assert (done["rows_read"], done["rows_stored"], done["rows_quarantined"]) == (4, 3, 1)
    assert done["rows_duplicate"] == 0
    assert done["source"] == "shop"

    read_only = {"Authorization": f"Bearer {make_token(['read'])}"}
    refused = script.post(
        f"/api/v1/workspaces/{world.ws}/ingest",
        data={"format": "orders"},
        files={"file": ("orders.csv", ORDERS.encode(), "text/csv")},
        headers=read_only,
    )
    assert refused.status_code == 403
    assert refused.json()["reason"] == "this token lacks the 'ingest' scope"
    assert script.get(body["url"], headers=read_only).status_code == 403
    # The same file again: every record is a duplicate now.
    again = script.post(
        f"/api/v1/workspaces/{world.ws}/ingest",
        data={"format": "orders", "source": "shop"},
        files={"file": ("orders.csv", ORDERS.encode(), "text/csv")},
        headers=bearer,
    )
    wait_idle(app)
    twice = script.get(again.json()["url"], headers=bearer).json()
    assert (twice["rows_read"], twice["rows_stored"], twice["rows_duplicate"]) == (4, 0, 3)
    assert twice["rows_quarantined"] == 1


def test_injection_in_file_names_and_quarantined_values_is_escaped(
    world: World, tmp_path: Path
) -> None:
    app, _root = data_app(world, tmp_path)
    client, token = sign_in(app, "editor@acme.test")
    evil = '"><img src=x onerror=alert(1)>.csv'
    content = HEADER + "X1,C9,,placed,5,EUR,SKU1,<script>alert(2)</script>,,,\n"
    answer = upload(client, world.ws, token, content=content, name=evil, source="")
    job_page = client.get(answer.headers["location"]).text
    final = poll_fragment(client, world.ws, _job_id(answer.headers["location"]))
    for html in (job_page, final):
        assert "<img src=x" not in html
        # (the client sends the quote percent-encoded; the rest arrives as typed)
        assert "&gt;&lt;img src=x onerror=alert(1)&gt;.csv" in html
    page = client.get(f"/w/{world.ws}/data/quarantine").text
    assert "<script>alert(2)</script>" not in page
    assert '<td class="value">&lt;script&gt;alert(2)&lt;/script&gt;</td>' in page
    # A path in the name keeps only its last part (and the saved file gets its own name).
    sneaky = upload(client, world.ws, token, name="../../etc/evil.csv")
    assert sneaky.status_code == 303
    assert "<b>evil.csv</b>" in client.get(sneaky.headers["location"]).text
    wait_idle(app)


def test_without_a_workspace_folder_the_pages_say_so(world: World) -> None:
    app = create_app(make_settings(None, "unused", secret_key="test-secret"), world.backend)
    client, token = sign_in(app, "owner@acme.test")
    for path in ("", "/quarantine", "/identities"):
        page = client.get(f"/w/{world.ws}/data{path}")
        assert page.status_code == 200
        assert "This server has no workspace folder" in page.text
    assert 'id="upload-form"' not in client.get(f"/w/{world.ws}/data").text
    refused = upload(client, world.ws, token)
    assert refused.status_code == 409
    assert "journeylens serve --workspace W" in refused.text
    assert csrf_of(client.get("/workspaces").text) == token


def test_another_process_holding_the_lock_gets_409_and_a_dead_run_is_failed(
    world: World, tmp_path: Path
) -> None:
    app, root = data_app(world, tmp_path)
    client, token = sign_in(app, "editor@acme.test")
    (root / "inbox" / ".jobs").mkdir(parents=True)
    # What another server process does while it ingests: hold the lock, mark its job.
    job = ingest_jobs.IngestJob(
        "0123456789ab", world.ws, "big.csv", "orders", None, "Editor", 10,
        dt.datetime(2024, 1, 1),
    )  # fmt: skip
    (root / "inbox" / ".jobs" / "0123456789ab.json").write_text(job.to_json())
    (root / "inbox" / ".jobs" / "running").write_text("0123456789ab")
    with (root / "inbox" / ".ingest.lock").open("ab") as held:
        fcntl.flock(held.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        busy = upload(client, world.ws, token)
        assert busy.status_code == 409
        assert "already running in this workspace (big.csv, started by Editor)" in busy.text
        assert "An ingest is running" in client.get(f"/w/{world.ws}/data").text
    # The lock is gone but the job still says "running": its process died.
    page = client.get(f"/w/{world.ws}/data/jobs/0123456789ab/progress").text
    assert 'data-status="failed"' in page
    assert "the server stopped during the run; nothing of it was stored" in page
    assert upload(client, world.ws, token).status_code == 303
    wait_idle(app)
    assert client.get(f"/w/{world.ws}/data/jobs/not-a-job/progress").status_code == 404


def test_upload_without_the_csrf_token_is_refused(world: World, tmp_path: Path) -> None:
    app, root = data_app(world, tmp_path)
    client, token = sign_in(app, "editor@acme.test")
    files = {"file": ("orders.csv", ORDERS.encode(), "text/csv")}
    for data in ({"format": "orders"}, {"format": "orders", "csrf_token": token[::-1]}):
        refused = client.post(f"/w/{world.ws}/data/upload", data=data, files=files)
        assert refused.status_code == 403
        assert "CSRF" in refused.text
        api = client.post(f"/api/v1/workspaces/{world.ws}/ingest", data=data, files=files)
        assert api.status_code == 403
    assert _uploads(root) == []


def test_a_store_held_by_another_writer_shows_a_notice_without_paths(
    world: World, tmp_path: Path
) -> None:
    app, root = data_app(world, tmp_path)
    client, _token = sign_in(app, "viewer@acme.test")
    writer = Workspace.open(root).store.connect()  # as `journeylens ingest` would hold it
    try:
        for path in ("", "/quarantine", "/identities"):
            page = client.get(f"/w/{world.ws}/data{path}")
            assert page.status_code == 200
            assert "The event store cannot be read right now" in page.text
            assert str(root) not in page.text
    finally:
        writer.close()
    assert "cannot be read" not in client.get(f"/w/{world.ws}/data").text
