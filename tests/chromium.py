"""The system Chromium of every browser test (tests/web/test_browser*.py,
tests/render/test_browser.py): ``/usr/bin/chromium`` (or ``JOURNEYLENS_CHROMIUM``), headless,
never a browser downloaded by Playwright. A missing Chromium fails the test: it is not a
reason to skip (scripts/_setup.sh installs it in CI)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser

CHROMIUM = os.environ.get("JOURNEYLENS_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@contextmanager
def launched() -> Iterator[Browser]:
    """Chromium started with :data:`ARGS`, closed on leaving."""
    if not Path(CHROMIUM).is_file():
        pytest.fail(
            f"{CHROMIUM} is missing: install the system chromium (scripts/_setup.sh does it as "
            "root; or apt-get install -y chromium) — the browser test must run, not skip"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()
