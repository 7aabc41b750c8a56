"""The map view over a workspace with events: the live figures from analytics.livemap."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from fastapi.testclient import TestClient
from tests.web.conftest import World, sign_in

from journeylens.engine.workspace import Workspace
from journeylens.web.app import create_app
from journeylens.web.settings import make_settings

MAP = {
    "id": "orders",
    "title": "Orders",
    "stages": [
        {"id": "order", "name": "Order", "steps": [{"id": "place", "name": "Place", "touchpoints": [
            {"id": "site", "name": "Site", "channel": "web", "match": [{"event": "order_placed"}]}]}]},
        {"id": "buy", "name": "Buy", "steps": [{"id": "pay", "name": "Pay", "touchpoints": [
            {"id": "checkout", "name": "Checkout", "channel": "web", "match": [{"event": "purchase"}]}]}]},
    ],
}  # fmt: skip

# Customer a places an order and pays; b only places one.
EVENTS = [
    ("e1", "a", "order_placed", 1),
    ("e2", "a", "purchase", 2),
    ("e3", "b", "order_placed", 3),
]


def _workspace_with_events(root: Path) -> Path:
    ws = Workspace.init(root)
    con = ws.store.connect()
    for event_id, customer, name, hour in EVENTS:
        con.execute(
            "INSERT INTO events (event_id, occurred_at, seq, source, event_name, customer_id,"
            " ingest_run) VALUES (?, ?, ?, 'test', ?, ?, 'r1')",
            [event_id, dt.datetime(2024, 1, 1, hour), hour, name, customer],
        )
    con.close()
    return ws.root


def test_map_view_and_panel_show_live_figures(world: World, tmp_path: Path) -> None:
    root = _workspace_with_events(tmp_path / "ws")
    app = create_app(make_settings(root, "unused", secret_key="test-secret"), world.backend)
    client, token = sign_in(app, "editor@acme.test")
    made = client.post(
        f"/api/v1/workspaces/{world.ws}/maps", json=MAP, headers={"X-CSRF-Token": token}
    )
    assert made.status_code == 201
    page = client.get(f"/w/{world.ws}/m/orders").text
    assert "Live: 2 customers, 3 events, 2024-01-01 – 2024-01-01" in page
    step = client.get(f"/w/{world.ws}/m/orders/panel?target=step:place").text
    assert '<dd class="reached">2</dd>' in step
    stage = client.get(f"/w/{world.ws}/m/orders/panel?target=stage:order").text
    assert "<dd>50.0 %</dd>" in stage  # a of {a, b} went on to Buy
    paid = client.get(f"/w/{world.ws}/m/orders/panel?target=touchpoint:checkout").text
    assert '<dd class="reached">1</dd>' in paid


def test_without_events_the_designed_map_is_shown(world: World) -> None:
    client, _ = world.clients["viewer"]
    page = client.get(f"/w/{world.ws}/m/shop").text
    assert "Designed map (no events in this workspace)." in page
    assert "<svg" in page
    assert isinstance(client, TestClient)


def test_analytics_page_shows_the_funnel_through_the_stages(world: World, tmp_path: Path) -> None:
    root = _workspace_with_events(tmp_path / "ws2")
    app = create_app(make_settings(root, "unused", secret_key="test-secret"), world.backend)
    client, _token = sign_in(app, "viewer@acme.test")
    editor, e_token = sign_in(app, "editor@acme.test")
    doc = {**MAP, "id": "orders2"}
    made = editor.post(
        f"/api/v1/workspaces/{world.ws}/maps", json=doc, headers={"X-CSRF-Token": e_token}
    )
    assert made.status_code == 201
    page = client.get(f"/w/{world.ws}/m/orders2/analytics").text
    assert "Funnel through the stages" in page
    rows = page.split('<table class="chart-data">', 1)[1]
    assert "<td>Order</td><td>2</td>" in rows
    assert "<td>Buy</td><td>1</td>" in rows


def test_analytics_page_without_events_says_so(world: World) -> None:
    client, _ = world.clients["viewer"]
    page = client.get(f"/w/{world.ws}/m/shop/analytics").text
    assert "No events in this workspace" in page


def test_editor_shows_how_many_customers_each_touchpoint_matches(
    world: World, tmp_path: Path
) -> None:
    root = _workspace_with_events(tmp_path / "ws3")
    app = create_app(make_settings(root, "unused", secret_key="test-secret"), world.backend)
    editor, token = sign_in(app, "editor@acme.test")
    doc = {**MAP, "id": "orders3"}
    made = editor.post(
        f"/api/v1/workspaces/{world.ws}/maps", json=doc, headers={"X-CSRF-Token": token}
    )
    assert made.status_code == 201
    page = editor.get(f"/w/{world.ws}/m/orders3/edit").text
    site = page.split('id="tp-site"', 1)[1].split("</li>", 1)[0]
    checkout = page.split('id="tp-checkout"', 1)[1].split("</li>", 1)[0]
    assert "1 match rule" in site
    assert "matches 2 customers" in site
    assert "matches 1 customer<" in checkout
