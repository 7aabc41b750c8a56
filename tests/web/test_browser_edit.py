"""Browser test of the editor's additions (headless system Chromium, Playwright): add a step,
drag it above another, add a touchpoint with a match rule and see its live count, delete
it, create a persona. Same server set-up as tests/web/test_browser.py (SQLite, a workspace
with the three hand-written events of test_live_map)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser
from tests.web.browser_helpers import post_map, sign_up
from tests.web.test_live_map import MAP

pytestmark = pytest.mark.slow


def test_add_step_touchpoint_with_live_count_and_persona(
    events_server: str, chromium: Browser
) -> None:
    server = events_server
    page = sign_up(chromium, server, "Eda Editor", "eda@acme.test")
    context = page.context
    page.click("text=Default workspace")
    ws_url = page.url
    assert post_map(page, server, ws_url, MAP) == 201

    # Add a step to stage Order, then drag it above "Place".
    page.goto(ws_url + "/m/orders/edit")
    page.fill('#add-step-order input[name="step_id"]', "browse")
    page.fill('#add-step-order input[name="name"]', "Browses")
    page.click('#add-step-order button:has-text("Add step")')
    page.wait_for_url("**/m/orders/edit")
    assert page.locator('#step-browse input[name="name"]').input_value() == "Browses"
    items = page.locator("#step-order-order li")
    assert items.all_inner_texts() == ["Place", "Browses"]
    items.nth(1).drag_to(items.nth(0), target_position={"x": 5, "y": 2})
    page.click('#step-order-order button:has-text("Save step order")')
    page.wait_for_url("**/m/orders/edit")
    assert page.locator("#step-order-order li").all_inner_texts() == ["Browses", "Place"]

    # Add a touchpoint with a rule: the count appears while typing (HTMX, debounced).
    form = page.locator("#add-tp-browse")
    form.locator('input[name="tp_id"]').fill("catalog")
    form.locator('input[name="name"]').fill("Catalog")
    form.locator('textarea[name="match"]').fill("- event: order_placed")
    page.wait_for_selector("#count-new-browse .rule-ok")
    # order_placed: e1 of customer a, e3 of customer b.
    assert page.locator("#count-new-browse").inner_text() == "matches 2 events of 2 customers"
    form.locator('textarea[name="match"]').fill("- event: [order_placed")
    page.wait_for_selector("#count-new-browse .rule-problem")
    assert "not valid YAML" in page.locator("#count-new-browse").inner_text()
    form.locator('textarea[name="match"]').fill("- event: order_placed")
    page.wait_for_selector("#count-new-browse .rule-ok")
    form.locator('button:has-text("Add touchpoint")').click()
    page.wait_for_url("**/m/orders/edit")
    assert "Catalog · web · 1 match rule" in page.locator("#tp-catalog .tp-summary").inner_text()
    assert "matches 2 customers" in page.locator("#tp-catalog .tp-summary").inner_text()

    # Delete it again.
    page.locator('#tp-catalog button:has-text("Delete touchpoint")').click()
    page.wait_for_url("**/m/orders/edit")
    assert page.locator("#tp-catalog").count() == 0

    # Create a persona and find it in the list.
    page.click("text=Personas")
    page.wait_for_url("**/personas")
    page.fill('#new-persona input[name="persona_id"]', "ana")
    page.fill('#new-persona input[name="name"]', "Ana, the career changer")
    page.select_option('#new-persona select[name="generation"]', "millennial")
    page.click('#new-persona button:has-text("Create")')
    page.wait_for_url("**/personas/ana")
    assert "Ana, the career changer" in page.locator("h1").inner_text()
    assert "millennial" in page.locator("#persona-card").inner_text()
    context.close()
