"""Issue 7: each web workspace has its own event store, no page shows another's data.

``acme`` (slug ``default``) owns the server's folder ``W``; ``other`` owns
``W/workspaces/<id>``. acme gets ``data_helpers.ORDERS`` (4 records: O1 C1, O2 C2, O4 C1
stored, O3 quarantined for created_at "not a date" on line 4), other gets :data:`OTHER`
(3 records: O7 and O9 of C9 stored, O8 quarantined for created_at "yesterday" on line 3).
Each stored order is one ``order_placed`` event, so acme has 3 events of 2 customers and
other 2 events of 1 customer. Both workspaces hold map ``orders`` (:data:`MAP`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from tests.web.conftest import World, sign_in
from tests.web.data_helpers import HEADER, data_app, upload, wait_idle

from journeylens.engine.workspace import Workspace
from journeylens.web.workspace_store import store_root

OTHER = HEADER + (
    "O7,C9,,placed,3,EUR,SKU9,2024-04-01T10:00:00Z,,,\n"
    "O8,C9,,placed,4,EUR,SKU9,yesterday,,,\n"
    "O9,C9,,placed,5,EUR,SKU9,2024-04-02T10:00:00Z,,,\n"
)

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


@dataclass
class Two:
    """The app over folder ``root`` and a signed-in owner of each web workspace."""

    root: Path
    acme: int
    other: int
    acme_client: tuple[TestClient, str]
    other_client: tuple[TestClient, str]


def _post_map(client: TestClient, token: str, ws: int, map_id: str = "orders") -> None:
    doc = {**MAP, "id": map_id}
    made = client.post(f"/api/v1/workspaces/{ws}/maps", json=doc, headers={"X-CSRF-Token": token})
    assert made.status_code == 201, made.text


@pytest.fixture(scope="module")
def two(world: World, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Two]:
    """Both workspaces with map ``orders``, each with its own file ingested by upload."""
    app, root = data_app(world, tmp_path_factory.mktemp("isolation"))
    acme = sign_in(app, "owner@acme.test")
    other = sign_in(app, "outsider@other.test")
    _post_map(*acme, world.ws)
    _post_map(*other, world.other_ws)
    sent = upload(acme[0], world.ws, acme[1], name="acme-orders.csv", source="acme-src")
    assert sent.status_code == 303, sent.text
    wait_idle(app)
    sent = upload(
        other[0], world.other_ws, other[1], content=OTHER, name="other-orders.csv", source="oth"
    )
    assert sent.status_code == 303, sent.text
    wait_idle(app)
    yield Two(root, world.ws, world.other_ws, acme, other)
    wait_idle(app)


def _events(root: Path) -> list[tuple[str, str]]:
    """(customer id, event name) of every event in the store at ``root``."""
    ws = Workspace.open(root)
    con = ws.store.connect(read_only=True)
    try:
        rows = con.execute(
            "SELECT customer_id, event_name FROM events ORDER BY customer_id, event_id"
        ).fetchall()
    finally:
        con.close()
    return [(str(c), str(e)) for c, e in rows]


def test_the_rule_default_owns_the_folder_others_their_id() -> None:
    assert store_root(Path("/w"), 1, "default") == Path("/w")
    assert store_root(Path("/w"), 12, "other") == Path("/w/workspaces/12")
    # The slug never reaches the path, whatever it says.
    assert store_root(Path("/w"), 3, "..") == Path("/w/workspaces/3")


def test_each_upload_lands_in_its_own_store(two: Two) -> None:
    # C1 and C2 in acme's store only (C3's row was quarantined), C9 in other's only.
    assert _events(two.root) == [
        ("C1", "order_placed"),
        ("C1", "order_placed"),
        ("C2", "order_placed"),
    ]
    other_root = two.root / "workspaces" / str(two.other)
    assert _events(other_root) == [("C9", "order_placed"), ("C9", "order_placed")]
    # Each upload went through its own store's inbox, deleted once its events were stored.
    assert (two.root / "inbox").is_dir()
    assert (other_root / "inbox").is_dir()
    assert list((two.root / "inbox").glob("*.csv")) == []
    assert list((other_root / "inbox").glob("*.csv")) == []


def test_ingestion_logs_show_only_their_own_runs(two: Two) -> None:
    client, _ = two.acme_client
    log = client.get(f"/w/{two.acme}/data").text
    assert log.count('<tr class="status-ok">') == 1  # one run in acme's store
    assert '<td class="read">4</td><td class="stored">3</td>' in log
    assert "acme-src" in log
    assert "oth</td>" not in log
    assert "other-orders.csv" not in log

    client, _ = two.other_client
    log = client.get(f"/w/{two.other}/data").text
    assert log.count('<tr class="status-ok">') == 1
    assert '<td class="read">3</td><td class="stored">2</td>' in log
    assert "<td>oth</td>" in log
    assert "acme-src" not in log
    assert "acme-orders.csv" not in log


def test_quarantines_show_only_their_own_records(two: Two) -> None:
    client, _ = two.acme_client
    page = client.get(f"/w/{two.acme}/data/quarantine").text
    assert '<p id="quarantine-total">1 records</p>' in page
    assert '<td class="value">not a date</td>' in page
    assert '<td class="line">4</td>' in page
    assert "yesterday" not in page

    client, _ = two.other_client
    page = client.get(f"/w/{two.other}/data/quarantine").text
    assert '<p id="quarantine-total">1 records</p>' in page
    assert '<td class="value">yesterday</td>' in page
    assert '<td class="line">3</td>' in page
    assert "not a date" not in page


def test_identity_stats_count_only_their_own_customers(two: Two) -> None:
    client, _ = two.acme_client
    ids = client.get(f"/w/{two.acme}/data/identities").text
    assert '<dd class="customers">2</dd>' in ids  # C1, C2
    client, _ = two.other_client
    ids = client.get(f"/w/{two.other}/data/identities").text
    assert '<dd class="customers">1</dd>' in ids  # C9


def test_live_maps_and_panels_read_their_own_events(two: Two) -> None:
    client, _ = two.acme_client
    page = client.get(f"/w/{two.acme}/m/orders").text
    assert "Live: 2 customers, 3 events, 2024-03-01 – 2024-03-03" in page
    step = client.get(f"/w/{two.acme}/m/orders/panel?target=step:place").text
    assert '<dd class="reached">2</dd>' in step

    client, _ = two.other_client
    page = client.get(f"/w/{two.other}/m/orders").text
    assert "Live: 1 customers, 2 events, 2024-04-01 – 2024-04-02" in page
    step = client.get(f"/w/{two.other}/m/orders/panel?target=step:place").text
    assert '<dd class="reached">1</dd>' in step


def test_analytics_funnels_count_their_own_customers(two: Two) -> None:
    def first_stage(client: TestClient, ws: int) -> str:
        page = client.get(f"/w/{ws}/m/orders/analytics").text
        table = page.split('<table class="chart-data">', 1)[1].split("</table>", 1)[0]
        return table.split("<tr><td>Order</td>", 1)[1].split("</tr>", 1)[0]

    assert first_stage(two.acme_client[0], two.acme).startswith("<td>2</td>")
    assert first_stage(two.other_client[0], two.other).startswith("<td>1</td>")


def test_rule_counts_count_their_own_events(two: Two) -> None:
    params = {"match": "- event: order_placed", "tp_id": "site"}
    client, _ = two.acme_client
    answer = client.get(f"/w/{two.acme}/m/orders/edit/touchpoint/count", params=params)
    assert "matches 3 events of 2 customers" in answer.text
    client, _ = two.other_client
    answer = client.get(f"/w/{two.other}/m/orders/edit/touchpoint/count", params=params)
    assert "matches 2 events of 1 customer" in answer.text


def test_folder_sync_of_other_uses_only_its_own_maps_folder(two: Two) -> None:
    own = two.root / "workspaces" / str(two.other) / "maps"
    # A map file in the folder's (acme's) maps/ must never reach "other".
    (two.root / "maps").mkdir(exist_ok=True)
    leak = two.root / "maps" / "leak.journey.yaml"
    leak.write_text("id: leak\ntitle: Leak\nstages: []\n", encoding="utf-8")
    acme_files = sorted(p.name for p in (two.root / "maps").iterdir())

    client, token = two.other_client
    page = client.get(f"/w/{two.other}/sync").text
    assert f"workspaces/{two.other}/maps" in page
    written = client.post(
        f"/w/{two.other}/sync/folder", data={"csrf_token": token, "direction": "export"}
    )
    assert written.status_code == 200, written.text
    assert sorted(p.name for p in own.iterdir()) == [
        "orders.journey.yaml",
        "secret.journey.yaml",
    ]
    assert sorted(p.name for p in (two.root / "maps").iterdir()) == acme_files  # untouched

    read = client.post(
        f"/w/{two.other}/sync/folder", data={"csrf_token": token, "direction": "import"}
    )
    assert read.status_code == 200, read.text
    assert "leak" not in read.text
    maps = client.get(f"/api/v1/workspaces/{two.other}/maps").json()
    assert sorted(m["map_id"] for m in maps) == ["orders", "secret"]


def test_a_workspace_without_uploads_has_no_store_and_no_events(
    world: World, tmp_path: Path
) -> None:
    app, root = data_app(world, tmp_path)
    # Acme's folder has events (its own ingest), "other" has never uploaded.
    client, token = sign_in(app, "owner@acme.test")
    assert upload(client, world.ws, token).status_code == 303
    wait_idle(app)
    client, token = sign_in(app, "outsider@other.test")
    _post_map(client, token, world.other_ws, "fresh")  # "orders" may exist (module world)
    log = client.get(f"/w/{world.other_ws}/data").text
    assert "No ingest runs yet." in log
    assert "cannot be read" not in log
    page = client.get(f"/w/{world.other_ws}/data/quarantine").text
    assert '<p id="quarantine-total">0 records</p>' in page
    page = client.get(f"/w/{world.other_ws}/m/fresh").text
    assert "Designed map (no events in this workspace)." in page
    answer = client.get(
        f"/w/{world.other_ws}/m/fresh/edit/touchpoint/count",
        params={"match": "- event: order_placed", "tp_id": "site"},
    )
    assert "no events in this workspace to count" in answer.text
    report = client.get(f"/w/{world.other_ws}/m/fresh/report.html")
    assert report.status_code == 409
    assert "the report needs events: upload a file on the Data page" in report.text
    assert not (root / "workspaces").exists()  # reading never creates a store
