"""The editor's step / touchpoint edits, every lane, match rules with their live count,
exports (PNG, PDF, report), share links with expiry, and folder sync — SQLite and PostgreSQL.

Each edit is checked on the saved document; the live count on the three hand-written events
of tests/web/test_live_map.py (a: order_placed, purchase; b: order_placed).
"""

from __future__ import annotations

import io
import itertools
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from tests.web.conftest import World, sign_in
from tests.web.test_live_map import MAP, _workspace_with_events

from journeylens.web.app import create_app
from journeylens.web.settings import make_settings

_ids = itertools.count(1)


def _new_map(world: World, client: TestClient, token: str) -> tuple[str, str]:
    """A fresh copy of the two-stage Orders map; its id and its URL prefix."""
    map_id = f"orders-e{next(_ids)}"
    made = client.post(
        f"/api/v1/workspaces/{world.ws}/maps",
        json={**MAP, "id": map_id},
        headers={"X-CSRF-Token": token},
    )
    assert made.status_code == 201, made.text
    return map_id, f"/w/{world.ws}/m/{map_id}"


def _doc(client: TestClient, world: World, map_id: str) -> dict[str, Any]:
    answer = client.get(f"/api/v1/workspaces/{world.ws}/maps/{map_id}")
    assert answer.status_code == 200
    body: dict[str, Any] = answer.json()
    return body


def _post(client: TestClient, token: str, url: str, **fields: Any) -> Any:
    return client.post(url, data={"csrf_token": token, **fields})


def test_add_rename_reorder_and_delete_steps(world: World) -> None:
    client, token = world.clients["editor"]
    map_id, url = _new_map(world, client, token)
    added = _post(
        client, token, url + "/edit/step/add", base_version=1, stage_id="order",
        step_id="browse", name="Browses the shop",
    )  # fmt: skip
    assert added.status_code == 303
    doc = _doc(client, world, map_id)
    assert doc["version"] == 2
    assert [s["id"] for s in doc["map"]["stages"][0]["steps"]] == ["place", "browse"]
    assert doc["map"]["stages"][0]["steps"][1] == {"id": "browse", "name": "Browses the shop"}

    moved = _post(
        client, token, url + "/edit/step/reorder", base_version=2, stage_id="order",
        order="browse,place",
    )  # fmt: skip
    assert moved.status_code == 303
    assert [s["id"] for s in _doc(client, world, map_id)["map"]["stages"][0]["steps"]] == [
        "browse",
        "place",
    ]
    renamed = _post(
        client, token, url + "/edit/step/lanes", base_version=3, step_id="browse", name="Looks"
    )
    assert renamed.status_code == 303
    assert _doc(client, world, map_id)["map"]["stages"][0]["steps"][0]["name"] == "Looks"

    deleted = _post(client, token, url + "/edit/step/delete", base_version=4, step_id="browse")
    assert deleted.status_code == 303
    doc = _doc(client, world, map_id)
    assert doc["version"] == 5
    assert [s["id"] for s in doc["map"]["stages"][0]["steps"]] == ["place"]


def test_move_a_step_to_another_stage(world: World) -> None:
    client, token = world.clients["editor"]
    map_id, url = _new_map(world, client, token)
    moved = _post(
        client, token, url + "/edit/step/move", base_version=1, step_id="place", stage_id="buy"
    )
    assert moved.status_code == 303
    stages = _doc(client, world, map_id)["map"]["stages"]
    assert stages[0].get("steps", []) == []
    assert [s["id"] for s in stages[1]["steps"]] == ["pay", "place"]
    assert stages[1]["steps"][1]["touchpoints"][0]["id"] == "site"  # moved with its lanes
    unknown = _post(
        client, token, url + "/edit/step/move", base_version=2, step_id="place", stage_id="nope"
    )
    assert unknown.status_code == 422
    assert "no stage with id" in unknown.text


def test_step_edits_answer_422_with_the_validate_message(world: World) -> None:
    client, token = world.clients["editor"]
    map_id, url = _new_map(world, client, token)
    bad_id = _post(
        client, token, url + "/edit/step/add", base_version=1, stage_id="order", step_id="Bad Id"
    )
    assert bad_id.status_code == 422
    assert "stages[0].steps[1].id" in bad_id.text
    duplicate = _post(
        client, token, url + "/edit/step/add", base_version=1, stage_id="buy", step_id="place"
    )
    assert duplicate.status_code == 422
    assert "stages[1].steps[1].id" in duplicate.text
    assert "duplicate step id &#39;place&#39; (first used at stages[0].steps[0])" in duplicate.text
    wrong_order = _post(
        client, token, url + "/edit/step/reorder", base_version=1, stage_id="order",
        order="place,ghost",
    )  # fmt: skip
    assert wrong_order.status_code == 422
    assert "expected each of place exactly once" in wrong_order.text
    unknown = _post(client, token, url + "/edit/step/delete", base_version=1, step_id="ghost")
    assert unknown.status_code == 422
    assert "no step with id" in unknown.text
    assert _doc(client, world, map_id)["version"] == 1  # nothing saved


def test_every_lane_of_a_step_is_editable(world: World) -> None:
    client, token = world.clients["editor"]
    map_id, url = _new_map(world, client, token)
    answer = _post(
        client,
        token,
        url + "/edit/step/lanes",
        base_version=1,
        step_id="place",
        name="Places the order",
        description="On the site",
        actions="Fills the cart\n\n  Pays  ",
        thoughts="Is it safe?",
        emotion="-0.5",
        emotion_label="anxious",
        emotion_note="card form",
        frontstage="Checkout page",
        backstage="Fraud check",
        support="Payment provider",
        owners="Web team",
        kpis="",
        moment_of_truth="First payment",
        expected_duration="5m",
        pain_points="- id: slow\n  text: Slow page\n  severity: 4\n",
        opportunities="- id: one-click\n  text: One-click pay\n  impact: 5\n  effort: 2\n",
        evidence="- source: data\n  reference: dashboard 12\n",
        custom="",
    )
    assert answer.status_code == 303, answer.text
    step = _doc(client, world, map_id)["map"]["stages"][0]["steps"][0]
    assert step == {
        "id": "place",
        "name": "Places the order",
        "description": "On the site",
        "actions": ["Fills the cart", "Pays"],
        "thoughts": ["Is it safe?"],
        "emotion": {"score": -0.5, "label": "anxious", "note": "card form"},
        "touchpoints": MAP["stages"][0]["steps"][0]["touchpoints"],  # type: ignore[index]
        "pain_points": [{"id": "slow", "text": "Slow page", "severity": 4}],
        "opportunities": [{"id": "one-click", "text": "One-click pay", "impact": 5, "effort": 2}],
        "frontstage": ["Checkout page"],
        "backstage": ["Fraud check"],
        "support": ["Payment provider"],
        "owners": ["Web team"],
        "moment_of_truth": {"why": "First payment"},
        "expected_duration": "5m",
        "evidence": [{"source": "data", "reference": "dashboard 12"}],
    }
    # "no emotion" removes it; a blank moment of truth and duration remove them.
    cleared = _post(
        client, token, url + "/edit/step/lanes", base_version=2, step_id="place",
        emotion="1", emotion_none="1", moment_of_truth=" ", expected_duration="", thoughts="",
        fields_sent="thoughts,expected_duration",
    )  # fmt: skip
    assert cleared.status_code == 303
    step = _doc(client, world, map_id)["map"]["stages"][0]["steps"][0]
    assert "emotion" not in step
    assert "moment_of_truth" not in step
    assert "expected_duration" not in step
    assert "thoughts" not in step
    assert step["actions"] == ["Fills the cart", "Pays"]  # fields not sent stay


def test_bad_lane_values_answer_422_naming_the_field(world: World) -> None:
    client, token = world.clients["editor"]
    map_id, url = _new_map(world, client, token)
    severity = _post(
        client, token, url + "/edit/step/lanes", base_version=1, step_id="place",
        pain_points="- id: slow\n  text: Slow\n  severity: 9\n",
    )  # fmt: skip
    assert severity.status_code == 422
    assert "stages[0].steps[0].pain_points[0].severity" in severity.text
    yaml = _post(
        client, token, url + "/edit/step/lanes", base_version=1, step_id="place",
        opportunities="- id: [oops",
    )  # fmt: skip
    assert yaml.status_code == 422
    assert "opportunities" in yaml.text
    assert "not valid YAML" in yaml.text
    duration = _post(
        client, token, url + "/edit/step/lanes", base_version=1, step_id="place",
        expected_duration="soon",
    )  # fmt: skip
    assert duration.status_code == 422
    assert "stages[0].steps[0].expected_duration" in duration.text
    stale = _post(client, token, url + "/edit/step/lanes", base_version=0, step_id="place")
    assert stale.status_code == 409
    assert _doc(client, world, map_id)["version"] == 1


def test_add_edit_and_delete_a_touchpoint_with_match_rules(world: World) -> None:
    client, token = world.clients["editor"]
    map_id, url = _new_map(world, client, token)
    added = _post(
        client, token, url + "/edit/touchpoint/add", base_version=1, step_id="pay",
        tp_id="app-pay", name="App payment", channel="app",
        match="- event: purchase\n  source: app\n",
    )  # fmt: skip
    assert added.status_code == 303, added.text
    tps = _doc(client, world, map_id)["map"]["stages"][1]["steps"][0]["touchpoints"]
    assert tps[1] == {
        "id": "app-pay",
        "name": "App payment",
        "channel": "app",
        "match": [{"event": "purchase", "source": "app"}],
    }
    edited = _post(
        client, token, url + "/edit/touchpoint", base_version=2, tp_id="app-pay",
        name="In-app payment", channel="app", description="", visible_sent="1",
        match='[{"event": ["purchase", "refund"]}]',
    )  # fmt: skip
    assert edited.status_code == 303, edited.text
    tp = _doc(client, world, map_id)["map"]["stages"][1]["steps"][0]["touchpoints"][1]
    assert tp == {
        "id": "app-pay",
        "name": "In-app payment",
        "channel": "app",
        "visible": False,  # the box was on the form and not ticked
        "match": [{"event": ["purchase", "refund"]}],
    }
    deleted = _post(client, token, url + "/edit/touchpoint/delete", base_version=3, tp_id="app-pay")
    assert deleted.status_code == 303
    tps = _doc(client, world, map_id)["map"]["stages"][1]["steps"][0]["touchpoints"]
    assert [t["id"] for t in tps] == ["checkout"]


def test_an_invalid_rule_is_422_with_the_validate_message(world: World) -> None:
    client, token = world.clients["editor"]
    map_id, url = _new_map(world, client, token)
    empty_rule = _post(
        client, token, url + "/edit/touchpoint", base_version=1, tp_id="checkout",
        match="- {}\n",
    )  # fmt: skip
    assert empty_rule.status_code == 422
    assert "stages[1].steps[0].touchpoints[0].match[0]" in empty_rule.text
    assert "a match rule needs at least one of event, source, channel, where" in empty_rule.text
    bad_op = _post(
        client, token, url + "/edit/touchpoint", base_version=1, tp_id="checkout",
        match="- where:\n  - {field: properties.total, op: gt, value: lots}\n",
    )  # fmt: skip
    assert bad_op.status_code == 422
    assert "expects a number" in bad_op.text
    channel = _post(
        client, token, url + "/edit/touchpoint/add", base_version=1, step_id="pay",
        tp_id="fax", channel="fax",
    )  # fmt: skip
    assert channel.status_code == 422
    assert "stages[1].steps[0].touchpoints[1].channel" in channel.text
    assert _doc(client, world, map_id)["version"] == 1


def test_live_count_of_a_rule_on_hand_written_events(world: World, tmp_path: Path) -> None:
    root = _workspace_with_events(tmp_path / "ws")
    app = create_app(make_settings(root, "unused", secret_key="test-secret"), world.backend)
    client, token = sign_in(app, "editor@acme.test")
    _map_id, url = _new_map(world, client, token)
    count = url + "/edit/touchpoint/count"
    # order_placed: e1 (a) and e3 (b) → 2 events of 2 customers.
    assert (
        "matches 2 events of 2 customers"
        in client.get(count, params={"match": "- event: order_placed", "tp_id": "site"}).text
    )
    # Any of two rules: all three events, customers a and b.
    both = client.get(count, params={"match": "- event: order_*\n- event: purchase"}).text
    assert "matches 3 events of 2 customers" in both
    # purchase only: e2 of customer a.
    assert (
        "matches 1 event of 1 customer<"
        in client.get(count, params={"match": "- event: purchase"}).text
    )
    assert (
        "matches 0 events of 0 customers"
        in client.get(count, params={"match": "- event: refund"}).text
    )
    bad = client.get(count, params={"match": "- source: []", "tp_id": "site"}).text
    assert "stages[0].steps[0].touchpoints[0].match[0].source" in bad
    assert "rule-problem" in bad
    broken = client.get(count, params={"match": "- event: [a"}).text
    assert "not valid YAML" in broken


def test_live_count_without_events_says_so(world: World) -> None:
    client, token = world.clients["editor"]
    _map_id, url = _new_map(world, client, token)
    answer = client.get(url + "/edit/touchpoint/count", params={"match": "- event: x"})
    assert answer.status_code == 200
    assert "valid (1 rule); no events in this workspace to count" in answer.text


def test_editor_page_shows_the_new_forms(world: World) -> None:
    client, token = world.clients["editor"]
    _map_id, url = _new_map(world, client, token)
    page = client.get(url + "/edit").text
    assert 'id="add-step-order"' in page
    assert 'id="add-tp-place"' in page
    assert 'id="tp-form-site"' in page
    assert "- event: order_placed" in page
    assert 'name="pain_points"' in page
    assert 'name="moment_of_truth"' in page


def test_png_pdf_and_report_exports(world: World, tmp_path: Path) -> None:
    client, _token = world.clients["viewer"]
    png = client.get(f"/w/{world.ws}/m/shop/export.png")
    assert png.status_code == 200
    assert png.content[:8] == b"\x89PNG\r\n\x1a\n"
    assert png.headers["content-type"] == "image/png"
    pdf = client.get(f"/w/{world.ws}/m/shop/export.pdf")
    assert pdf.status_code == 200
    assert pdf.content[:5] == b"%PDF-"
    # No events in this app's workspace folder: the report says what is missing.
    report = client.get(f"/w/{world.ws}/m/shop/report.html")
    assert report.status_code == 409
    assert "the report needs events" in report.text
    # With events: the self-contained report of the measured map.
    root = _workspace_with_events(tmp_path / "ws")
    app = create_app(make_settings(root, "unused", secret_key="test-secret"), world.backend)
    editor, token = sign_in(app, "editor@acme.test")
    _map_id, url = _new_map(world, editor, token)
    answer = editor.get(url + "/report.html")
    assert answer.status_code == 200, answer.text[:300]
    assert answer.text.startswith("<!DOCTYPE html>")
    assert "Orders" in answer.text
    assert "<script src=" not in answer.text


def test_missing_pdf_extra_is_501_naming_it(world: World, monkeypatch: Any) -> None:
    import journeylens.render.export as export

    def missing() -> Any:
        raise export.ExportUnavailableError(export.INSTALL_HINT)

    monkeypatch.setattr(export, "_cairosvg", missing)
    client, token = world.clients["editor"]
    _map_id, url = _new_map(world, client, token)  # a version no export is cached for
    answer = client.get(url + "/export.pdf")
    assert answer.status_code == 501
    assert "pip install &#39;journeylens[pdf]&#39;" in answer.text


def test_share_links_expire_and_revoke(world: World) -> None:
    client, token = world.clients["editor"]
    map_id, url = _new_map(world, client, token)
    made = _post(client, token, url + "/shares", expires="7d")
    assert made.status_code == 200
    link = made.text.split('id="share-url" href="', 1)[1].split('"', 1)[0]
    path = link.split("testserver", 1)[1]
    anonymous = TestClient(world.app)
    assert anonymous.get(path).status_code == 200
    links = world.backend.share_links(world.backend.user(1), world.ws, map_id)  # type: ignore[arg-type]
    assert len(links) == 1
    assert links[0].expires_at is not None
    left = links[0].expires_at - datetime.now(UTC)
    assert timedelta(days=6, hours=23) < left <= timedelta(days=7)
    # An expired link answers 404 and is listed as expired.
    owner = world.backend.user(1)
    assert owner is not None
    old = world.backend.create_share(owner, world.ws, map_id, datetime.now(UTC) - timedelta(1))
    assert anonymous.get(f"/s/{old.token}").status_code == 404
    page = client.get(url + "/shares").text
    assert f'id="share-{old.id}" class="expired"' in page
    assert f'id="share-{links[0].id}" class="live"' in page
    revoked = _post(client, token, url + f"/shares/{links[0].id}/revoke")
    assert revoked.status_code == 303
    assert anonymous.get(path).status_code == 404
    assert f'id="share-{links[0].id}" class="revoked"' in client.get(url + "/shares").text
    # Bad expiry input names the field; another map's link is not revocable from here.
    past = _post(client, token, url + "/shares", expires_on="2020-01-01")
    assert past.status_code == 422
    assert "expires_on" in past.text
    unknown = _post(client, token, url + "/shares", expires="forever")
    assert unknown.status_code == 422
    assert "expected one of never, 1d" in unknown.text
    other = _post(client, token, f"/w/{world.ws}/m/shop/shares/{old.id}/revoke")
    assert other.status_code == 404


def test_import_yaml_files_and_download_all_as_zip(world: World) -> None:
    client, token = world.clients["owner"]
    map_yaml = "id: imported-e\ntitle: Imported\nstages:\n  - id: one\n    name: One\n"
    persona_yaml = "schema: journeylens/persona/v1\nid: pia\nname: Pia\n"
    answer = client.post(
        f"/w/{world.ws}/sync/upload",
        data={"csrf_token": token},
        files=[
            ("files", ("imported.journey.yaml", map_yaml.encode(), "application/yaml")),
            ("files", ("pia.yaml", persona_yaml.encode(), "application/yaml")),
        ],
    )
    assert answer.status_code == 200, answer.text
    assert "created: imported-e, pia" in answer.text
    again = client.post(
        f"/w/{world.ws}/sync/upload",
        data={"csrf_token": token},
        files=[("files", ("imported.journey.yaml", map_yaml.encode(), "application/yaml"))],
    )
    assert "unchanged: imported-e" in again.text
    bad = client.post(
        f"/w/{world.ws}/sync/upload",
        data={"csrf_token": token},
        files=[("files", ("broken.yaml", b"id: x\ntitle: X\nstages: []\n", "application/yaml"))],
    )
    assert bad.status_code == 422
    assert "broken.yaml" in bad.text
    archive = client.get(f"/w/{world.ws}/sync/export.zip")
    assert archive.status_code == 200
    names = zipfile.ZipFile(io.BytesIO(archive.content)).namelist()
    assert "imported-e.journey.yaml" in names
    assert "pia.persona.yaml" in names
    assert "shop.journey.yaml" in names


def test_sync_with_the_workspace_folder(world: World, tmp_path: Path) -> None:
    root = tmp_path / "wsfolder"
    root.mkdir()
    app = create_app(make_settings(root, "unused", secret_key="test-secret"), world.backend)
    client, token = sign_in(app, "owner@acme.test")
    written = _post(client, token, f"/w/{world.ws}/sync/folder", direction="export")
    assert written.status_code == 200
    assert (root / "maps" / "shop.journey.yaml").is_file()
    text = (root / "maps" / "shop.journey.yaml").read_text()
    (root / "maps" / "shop.journey.yaml").write_text(text.replace("title: Shop", "title: Shop2"))
    read = _post(client, token, f"/w/{world.ws}/sync/folder", direction="import")
    assert read.status_code == 200
    assert "updated (new version): shop" in read.text
    owner = world.backend.user(1)
    assert owner is not None
    assert world.backend.get_map(owner, world.ws, "shop").journey.title == "Shop2"
    wrong = _post(client, token, f"/w/{world.ws}/sync/folder", direction="sideways")
    assert wrong.status_code == 422


def test_exports_are_made_once_per_map_version(world: World, monkeypatch: Any) -> None:
    import journeylens.render.export as export

    calls: list[str] = []
    real = export.render_png

    def counting(svg: str, *, scale: float = 1.0) -> bytes:
        calls.append(svg)
        return real(svg, scale=scale)

    monkeypatch.setattr(export, "render_png", counting)
    client, token = world.clients["editor"]
    _map_id, url = _new_map(world, client, token)
    first = client.get(url + "/export.png").content
    assert client.get(url + "/export.png").content == first
    assert len(calls) == 1
    _post(client, token, url + "/edit/step/lanes", base_version=1, step_id="place", name="P2")
    assert client.get(url + "/export.png").status_code == 200
    assert len(calls) == 2  # a new version is drawn again
    assert "P2" in calls[1]
