"""Browser test of the analytics pages: headless system Chromium (Playwright) against uvicorn
on loopback — open the analytics of a map, switch to the flows tab, pick a persona and a
window, and see the numbers follow (the shop of test_analytics_pages, figures by hand)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import Browser
from tests.web.browser_helpers import serve, sign_up, sqlite_app, sqlite_url
from tests.web.test_analytics_pages import MAP, PERSONAS, workspace_with_shop

from journeylens.model import JourneyMap, Persona
from journeylens.store import models as sm
from journeylens.store import service
from journeylens.store.db import session_scope
from journeylens.web.store_backend import StoreBackend

pytestmark = pytest.mark.slow


@dataclass(frozen=True)
class Server:
    """The base URL of the running app and its backend (to seed the store)."""

    url: str
    backend: StoreBackend


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The app over the shop's workspace under uvicorn in a thread."""
    root = workspace_with_shop(tmp_path_factory.mktemp("browser-analytics") / "ws")
    backend = StoreBackend.connect(sqlite_url(root))
    with serve(sqlite_app(root, backend)) as url:
        yield Server(url, backend)


def _seed(backend: StoreBackend, user_id: int) -> None:
    """The shop's personas and map in the default workspace, owned by ``user_id``."""
    with session_scope(backend.engine) as s:
        ws = service.get_workspace(s, "default")
        owner = s.get(sm.User, user_id)
        assert owner is not None
        for doc in PERSONAS:
            service.create_persona(s, ws, Persona.model_validate(doc), owner)
        service.create_map(s, ws, owner, JourneyMap.model_validate(MAP))


def test_analytics_flows_with_a_persona(server: Server, chromium: Browser) -> None:
    page = sign_up(chromium, server.url, "Ana Analyst", "ana@acme.test")
    context = page.context
    page.click("text=Default workspace")
    ws_url = page.url
    _seed(server.backend, 1)  # the first account, owner of the default workspace

    page.goto(ws_url + "/m/shop2")
    page.click('.mapnav a:text-is("Analytics")')
    page.wait_for_url("**/m/shop2/analytics")
    assert "<td>Buy</td><td>22</td>" in page.locator("table.chart-data").inner_html()

    page.click("#tab-flows")
    page.wait_for_url("**/analytics/flows")
    assert page.locator("#chart-sankey svg").count() == 1
    rows = page.locator("#flows-table").inner_text()
    assert "Look\tCart\t30\t30\tyes" in rows

    page.select_option("#filter-persona", "pro")
    page.fill("#filter-from", "2024-01-01")
    page.fill("#filter-to", "2024-01-31")
    page.click("#filter-apply")
    page.wait_for_url("**/analytics/flows?persona=pro&from=2024-01-01&to=2024-01-31")
    rows = page.locator("#flows-table").inner_text()
    assert "Look\tCart\t20\t20\tyes" in rows
    assert "Look\tBuy" not in rows
    assert (
        "persona Pro Paula (pro), 2024-01-01 – 2024-01-31"
        in page.locator("#filter-scope").inner_text()
    )
    # The tabs keep the filter.
    page.click("#tab-survey")
    page.wait_for_url("**/analytics/survey?persona=pro&from=2024-01-01&to=2024-01-31")
    assert "<td>Buy</td><td>NPS</td><td>50.0</td>" in page.locator("table.chart-data").inner_html()
    context.close()
