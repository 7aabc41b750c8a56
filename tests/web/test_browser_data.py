"""Browser test of the data pages: headless system Chromium (Playwright) against uvicorn on
loopback. An owner uploads a small orders file, watches the HTMX progress fragment end with
the counts (4 read, 3 stored, 1 quarantined), opens the quarantined record from there, and
adds a second account as a member. Runs on SQLite, like tests/web/test_browser.py."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import Browser, Page, expect, sync_playwright
from tests.web.data_helpers import ORDERS
from tests.web.test_browser import CHROMIUM_ARGS, _free_port

from journeylens.engine.workspace import Workspace
from journeylens.web.app import create_app
from journeylens.web.settings import make_settings

IMAGES = Path(__file__).parents[2] / "docs" / "images"
pytestmark = pytest.mark.slow
PASSWORD = "correct-horse-1"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app over a fresh workspace (empty event store) under uvicorn in a thread."""
    root = Workspace.init(tmp_path_factory.mktemp("browser_data") / "ws").root
    app = create_app(make_settings(root, f"sqlite:///{root / 'web.db'}"))
    port = _free_port()
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    """System Chromium, headless (never `playwright install`)."""
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def _sign_up(browser: Browser, server: str, name: str, email: str) -> Page:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.goto(server + "/signup")
    page.fill('input[name="name"]', name)
    page.fill('input[name="email"]', email)
    page.fill('input[name="password"]', PASSWORD)
    page.click('button:has-text("Sign up")')
    page.wait_for_url("**/workspaces")
    return page


def test_upload_watch_progress_open_quarantine_add_member(server: str, chromium: Browser) -> None:
    page = _sign_up(chromium, server, "Olive Owner", "olive@acme.test")
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
    newcomer = _sign_up(chromium, server, "Nora New", "nora@acme.test")
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
