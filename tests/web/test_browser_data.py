"""Browser test of the data pages: headless system Chromium (Playwright) against uvicorn on
loopback. An owner uploads a small orders file, watches the HTMX progress fragment end with
the counts (4 read, 3 stored, 1 quarantined), opens the quarantined record from there, and
adds a second account as a member. Runs on SQLite, like tests/web/test_browser.py."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, expect
from tests.web.browser_helpers import IMAGES, serve, sign_up, sqlite_app
from tests.web.data_helpers import ORDERS

from journeylens.engine.workspace import Workspace

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app over a fresh workspace (empty event store) under uvicorn in a thread."""
    root = Workspace.init(tmp_path_factory.mktemp("browser_data") / "ws").root
    with serve(sqlite_app(root)) as url:
        yield url


def test_upload_watch_progress_open_quarantine_add_member(server: str, chromium: Browser) -> None:
    page = sign_up(chromium, server, "Olive Owner", "olive@acme.test")
    page.click("text=Default workspace")
    page.click("text=Data")
    page.wait_for_url("**/data")
    expect(page.locator("#ingest-log")).to_contain_text("No ingest runs yet.")

    # Upload through the HTMX form and watch the polled fragment until the run has ended.
    page.set_input_files(
        '#upload-form input[name="file"]',
        {"name": "orders.csv", "mimeType": "text/csv", "buffer": ORDERS.encode()},
    )
    page.select_option('#upload-form select[name="format"]', "orders")
    page.fill('#upload-form input[name="source"]', "sales")
    page.click('#upload-form button[type="submit"]')
    job = page.locator('#ingest-job[data-status="done"]')
    expect(job).to_be_visible(timeout=60_000)
    expect(job.locator("td.read")).to_have_text("4")
    expect(job.locator("td.stored")).to_have_text("3")
    expect(job.locator("td.quarantined")).to_have_text("1")
    expect(job.locator("td.duplicate")).to_have_text("0")
    # The finished run reloads the page's tables (HX-Trigger: ingest-finished).
    expect(page.locator("#ingest-log tbody tr.status-ok td.read")).to_have_text("4")
    page.screenshot(path=str(IMAGES / "web-data-upload.png"), full_page=True)

    # From the finished job to its quarantined record.
    page.click("#job-quarantine")
    page.wait_for_url("**/data/quarantine?run=*")
    row = page.locator("#quarantine tbody tr").first
    expect(row.locator("td.reason")).to_have_text("bad_timestamp")
    expect(row.locator("td.line")).to_have_text("4")
    expect(row.locator("td.field")).to_have_text("created_at")
    expect(row.locator("td.value")).to_have_text("not a date")

    # The ingestion log now lists the run.
    page.click("text=Ingestion log")
    expect(page.locator("#ingest-log tbody tr.status-ok td.stored")).to_have_text("3")

    # A second account joins the workspace through the members page.
    newcomer = sign_up(chromium, server, "Nora New", "nora@acme.test")
    expect(newcomer.locator("main")).to_contain_text("You belong to no workspace yet.")
    page.click("text=Maps")
    page.click("text=Members")
    page.wait_for_url("**/members")
    page.fill('#add-member input[name="email"]', "nora@acme.test")
    page.select_option('#add-member select[name="role"]', "editor")
    page.click('#add-member button[type="submit"]')
    page.wait_for_url("**/members")
    expect(page.locator("#members")).to_contain_text("Nora New")
    newcomer.reload()
    expect(newcomer.locator("main")).to_contain_text("Default workspace")
