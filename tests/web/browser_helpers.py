"""The shared set-up of the browser tests (tests/web/test_browser*.py): headless system
Chromium (Playwright, never ``playwright install``) against the app under uvicorn on a random
loopback port.

Fixtures (conftest.py makes them available to every test module in tests/web; module scope,
so each module gets its own browser and server, as before):

* ``chromium`` — the browser (tests/chromium.py: the system Chromium, shared with the
  render tests);
* ``events_server`` — the base URL of the app over a workspace holding the three
  hand-written events of tests/web/test_live_map.py (SQLite store).

Helpers: :func:`serve` runs any app (for a module's own ``server`` fixture),
:func:`sign_up` opens a fresh browser context and signs up through the form,
:func:`page_csrf` reads a page's CSRF token for ``page.request`` calls, :func:`post_map`
creates a map through the API as the page's user.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from tests.chromium import launched

from journeylens.web.app import create_app
from journeylens.web.settings import make_settings

if TYPE_CHECKING:
    from fastapi import FastAPI
    from playwright.sync_api import Browser, Page

    from journeylens.web.store_backend import StoreBackend

#: Where the tests save the README's screenshots.
IMAGES = Path(__file__).parents[2] / "docs" / "images"


def free_port() -> int:
    """A loopback port nobody listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def sqlite_url(root: Path) -> str:
    """The URL of the web database of workspace ``root``: SQLite in ``root/web.db``."""
    return f"sqlite:///{root / 'web.db'}"


def sqlite_app(root: Path, backend: StoreBackend | None = None) -> FastAPI:
    """The app over workspace ``root`` and its web database (``backend`` when given)."""
    return create_app(make_settings(root, sqlite_url(root)), backend)


@contextmanager
def serve(app: FastAPI) -> Iterator[str]:
    """``app`` under uvicorn in a thread on a random loopback port; yields its base URL."""
    import uvicorn

    port = free_port()
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        srv.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    """System Chromium, headless (never `playwright install`; missing, it fails the test)."""
    with launched() as browser:
        yield browser


@pytest.fixture(scope="module")
def events_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app over a workspace with the events of test_live_map; yields its base URL."""
    from tests.web.test_live_map import _workspace_with_events

    root = _workspace_with_events(tmp_path_factory.mktemp("browser") / "ws")
    with serve(sqlite_app(root)) as url:
        yield url


def sign_up(chromium: Browser, server: str, name: str, email: str, width: int = 1400) -> Page:
    """A page of a fresh browser context, signed up through the form as ``name`` /
    ``email`` (password ``PASSWORD`` of conftest); it has arrived at the workspace list."""
    from tests.web.conftest import PASSWORD  # not at the top: conftest imports this module

    page = chromium.new_context(viewport={"width": width, "height": 1000}).new_page()
    page.goto(server + "/signup")
    page.fill('input[name="name"]', name)
    page.fill('input[name="email"]', email)
    page.fill('input[name="password"]', PASSWORD)
    page.click('button:has-text("Sign up")')
    page.wait_for_url("**/workspaces")
    return page


def page_csrf(page: Page) -> str:
    """The CSRF token of the page (its ``<meta name="csrf-token">``)."""
    return str(page.locator('meta[name="csrf-token"]').get_attribute("content"))


def post_map(page: Page, server: str, ws_url: str, doc: dict[str, Any]) -> int:
    """Create the map ``doc`` through the JSON API as the page's signed-in user, in the
    workspace whose page is ``ws_url`` (``…/w/N``); the answer's status."""
    answer = page.request.post(
        server + f"/api/v1/workspaces/{ws_url.rsplit('/', 1)[1]}/maps",
        data=doc,
        headers={"X-CSRF-Token": page_csrf(page)},
    )
    return answer.status
