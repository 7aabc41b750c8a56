"""Browser tests: headless system Chromium (Playwright) against uvicorn on loopback.

They walk the main paths of issue 7: sign up / sign in, create a map from a template, edit a
step and its emotion, reorder stages by dragging, comment and resolve, the live map with
figures, restore a version, open a share link signed out. The map view and the editor are
saved as screenshots in docs/images/ for the README. Runs on SQLite (the store's
PostgreSQL behaviour is covered by the API tests).
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser
from tests.web.browser_helpers import IMAGES, post_map, sign_up
from tests.web.test_live_map import MAP

pytestmark = pytest.mark.slow


def test_main_paths_in_a_browser(events_server: str, chromium: Browser) -> None:
    server = events_server
    # Sign up: the first account owns the default workspace.
    page = sign_up(chromium, server, "Olive Owner", "olive@acme.test", width=1500)
    context = page.context
    page.click("text=Default workspace")

    # Sign out and in again.
    page.click('button:has-text("Sign out")')
    page.wait_for_url("**/signin")
    page.fill('input[name="email"]', "olive@acme.test")
    page.fill('input[name="password"]', "correct-horse-1")
    page.click('button:has-text("Sign in")')
    page.wait_for_url("**/workspaces")
    page.click("text=Default workspace")
    ws_url = page.url

    # Create a map from a template.
    page.select_option('select[name="template"]', "five-stage")
    page.fill('#new-map input[name="map_id"]', "shop")
    page.fill('#new-map input[name="title"]', "Shop journey")
    page.click('#new-map button[type="submit"]')
    page.wait_for_url("**/m/shop")
    assert page.locator("h1").inner_text() == "Shop journey"

    # Edit a step and its emotion.
    page.click("text=Edit")
    page.wait_for_url("**/m/shop/edit")
    step = page.locator("#step-see-ad")
    step.locator('input[name="name"]').fill("Spots a billboard")
    step.locator('input[name="emotion"]').fill("-1.5")
    step.locator('button:has-text("Save step")').click()
    page.wait_for_url("**/m/shop/edit")
    assert page.locator('#step-see-ad input[name="name"]').input_value() == "Spots a billboard"
    assert page.locator('#step-see-ad input[name="emotion"]').input_value() == "-1.5"

    # Reorder stages by dragging "Consideration" above "Awareness".
    items = page.locator("#stage-order li")
    items.nth(1).drag_to(items.nth(0), target_position={"x": 5, "y": 2})
    page.click('#reorder-form button:has-text("Save order")')
    page.wait_for_url("**/m/shop/edit")
    order = page.locator("#stage-order li").all_inner_texts()
    assert order[:2] == ["Consideration", "Awareness"]
    page.screenshot(path=str(IMAGES / "web-editor.png"), full_page=False)

    # Comment on a step through the HTMX side panel, then resolve it.
    page.goto(ws_url + "/m/shop")
    page.click('.elements a:text-is("Spots a billboard")')
    page.wait_for_selector("#panel textarea[name=body]")
    page.fill("#panel textarea[name=body]", "Which billboard? @Olive")
    page.click('#panel button:has-text("Comment")')
    page.wait_for_url("**/m/shop")
    page.click('.elements a:text-is("Spots a billboard")')
    page.wait_for_selector('#panel button:has-text("Resolve")')
    page.click('#panel button:has-text("Resolve")')
    page.wait_for_url("**/m/shop")
    page.click('.elements a:text-is("Spots a billboard")')
    page.wait_for_selector('#panel button:has-text("Reopen")')
    assert "Which billboard?" in page.locator("#panel li.resolved").inner_text()

    # Restore version 1 (a new version with the template's content).
    page.click("text=Versions")
    page.locator('#version-1 button:has-text("Restore")').click()
    page.wait_for_url("**/versions")
    assert "restored version 1" in page.locator("table.versions").inner_text()
    page.goto(ws_url + "/m/shop/edit")
    assert page.locator('#step-see-ad input[name="name"]').input_value() == "Sees an advertisement"

    # The live map: a map bound to the workspace's events shows figures.
    assert post_map(page, server, ws_url, MAP) == 201
    page.goto(ws_url + "/m/orders")
    assert "Live: 2 customers, 3 events" in page.locator("#live-summary").inner_text()
    page.click('.elements a:text-is("Place")')
    page.wait_for_selector("#panel .reached")
    assert page.locator("#panel .reached").inner_text() == "2"
    page.screenshot(path=str(IMAGES / "web-map-view.png"), full_page=False)

    # Share link, opened signed out.
    page.goto(ws_url + "/m/shop")
    page.click('button:has-text("Share link")')
    url = str(page.locator("#share-url").get_attribute("href"))
    stranger = chromium.new_context().new_page()
    stranger.goto(url)
    assert stranger.locator("h1").inner_text() == "Shop journey"
    assert stranger.locator("#map-svg svg").count() == 1
    assert stranger.locator('button:has-text("Sign out")').count() == 0
    context.close()
