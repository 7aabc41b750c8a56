"""Editing through the pages and the API: validation messages, optimistic concurrency
(409 with what changed, nothing lost), versions and restore, comments, share links."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from tests.web.conftest import World, browser

from journeylens.formats.io import parse_model
from journeylens.model import JourneyMap

STAGES = ["awareness", "consideration", "purchase", "retention", "advocacy"]


def _current(client: TestClient, ws: int, map_id: str = "shop") -> dict[str, Any]:
    answer = client.get(f"/api/v1/workspaces/{ws}/maps/{map_id}")
    assert answer.status_code == 200
    return answer.json()


def _edit_step(client: TestClient, token: str, ws: int, base: int, **fields: str) -> Any:
    return client.post(
        f"/w/{ws}/m/shop/edit/step",
        data={"csrf_token": token, "base_version": base, "step_id": "see-ad", **fields},
    )


def test_edit_step_and_emotion_makes_a_new_version(world: World) -> None:
    client, token = world.clients["editor"]
    before = _current(client, world.ws)
    answer = _edit_step(
        client, token, world.ws, before["version"], name="Spots a poster", emotion="-1.5",
        actions="Looks\nReads", thoughts="Hmm",
    )  # fmt: skip
    assert answer.status_code == 303
    after = _current(client, world.ws)
    assert after["version"] == before["version"] + 1
    assert after["updated_by"] == "Editor"
    step = after["map"]["stages"][0]["steps"][0]
    assert (step["name"], step["emotion"]["score"]) == ("Spots a poster", -1.5)
    assert (step["actions"], step["thoughts"]) == (["Looks", "Reads"], ["Hmm"])


def test_emotion_out_of_range_is_422_naming_the_field(world: World) -> None:
    client, token = world.clients["editor"]
    base = _current(client, world.ws)["version"]
    answer = _edit_step(client, token, world.ws, base, name="X", emotion="3")
    assert answer.status_code == 422
    assert "stages[0].steps[0].emotion.score" in answer.text
    assert "expected a number from -2 to 2 (got 3" in answer.text
    assert _current(client, world.ws)["version"] == base  # nothing saved


def test_stale_form_edit_is_409_with_what_changed(world: World) -> None:
    editor, e_token = world.clients["editor"]
    owner, o_token = world.clients["owner"]
    base = _current(editor, world.ws)["version"]
    # Two browsers open the editor at the same version; the owner saves first.
    assert _edit_step(owner, o_token, world.ws, base, name="Owner's name").status_code == 303
    late = _edit_step(editor, e_token, world.ws, base, name="Editor's name")
    assert late.status_code == 409
    assert "now at version" in late.text
    assert (
        "Owner&#39;s name" in late.text
        or "Owner&#x27;s name" in late.text
        or "Owner's name" in late.text
    )
    # The editor reloads and applies again: both edits are in the history, none lost.
    retry = _edit_step(editor, e_token, world.ws, base + 1, name="Editor's name")
    assert retry.status_code == 303
    history = editor.get(f"/api/v1/workspaces/{world.ws}/maps/shop/versions").json()
    assert [v["version"] for v in history[:2]] == [base + 2, base + 1]
    assert [v["author"] for v in history[:2]] == ["Editor", "Olive Owner"]


def test_stale_api_save_is_409_json_with_changes(world: World) -> None:
    client, token = world.clients["editor"]
    current = _current(client, world.ws)
    doc = current["map"]
    doc["title"] = "Shop v2"
    url = f"/api/v1/workspaces/{world.ws}/maps/shop?base_version={current['version']}"
    first = client.put(url, json=doc, headers={"X-CSRF-Token": token})
    assert first.status_code == 200
    doc["title"] = "Shop v3"
    second = client.put(url, json=doc, headers={"X-CSRF-Token": token})
    assert second.status_code == 409
    body = second.json()
    assert body["error"] == "StaleVersion"
    assert body["field"] == "base_version"
    assert body["current_version"] == current["version"] + 1
    assert any("Shop v2" in line for line in body["changes"])


def test_invalid_map_via_api_is_422_with_every_issue(world: World) -> None:
    client, token = world.clients["editor"]
    current = _current(client, world.ws)
    doc = current["map"]
    doc["title"] = ""
    doc["stages"][0]["steps"][0]["emotion"] = {"score": 9}
    answer = client.put(
        f"/api/v1/workspaces/{world.ws}/maps/shop?base_version={current['version']}",
        json=doc,
        headers={"X-CSRF-Token": token},
    )
    assert answer.status_code == 422
    fields = {issue["field"] for issue in answer.json()["issues"]}
    assert fields == {"title", "stages[0].steps[0].emotion.score"}


def test_malformed_requests_are_4xx_never_500(world: World) -> None:
    client, token = world.clients["editor"]
    h = {"X-CSRF-Token": token}
    ws = world.ws
    assert client.get("/api/v1/workspaces/abc/maps").status_code == 422
    assert client.get(f"/api/v1/workspaces/{ws}/maps/nope").status_code == 404
    assert client.put(f"/api/v1/workspaces/{ws}/maps/shop", json={}, headers=h).status_code == 422
    not_json = client.put(
        f"/api/v1/workspaces/{ws}/maps/shop?base_version=1",
        content=b"{not json",
        headers={**h, "content-type": "application/json"},
    )
    assert not_json.status_code == 422
    assert (
        client.put(
            f"/api/v1/workspaces/{ws}/maps/shop?base_version=1", json=[1, 2], headers=h
        ).status_code
        == 422
    )
    wrong_id = _current(client, ws)["map"]
    wrong_id["id"] = "other"
    answer = client.put(
        f"/api/v1/workspaces/{ws}/maps/shop?base_version=1", json=wrong_id, headers=h
    )
    assert (answer.status_code, answer.json()["field"]) == (422, "id")
    assert client.get(f"/w/{ws}/m/shop/export.exe").status_code == 404
    missing = client.post(f"/w/{ws}/m/shop/edit/step", data={"csrf_token": token})
    assert missing.status_code == 422


def test_reorder_stages_and_reject_a_bad_order(world: World) -> None:
    client, token = world.clients["editor"]
    base = _current(client, world.ws)["version"]
    new_order = [STAGES[1], STAGES[0], *STAGES[2:]]
    answer = client.post(
        f"/w/{world.ws}/m/shop/edit/reorder",
        data={"csrf_token": token, "base_version": base, "order": ",".join(new_order)},
    )
    assert answer.status_code == 303
    assert [s["id"] for s in _current(client, world.ws)["map"]["stages"]] == new_order
    bad = client.post(
        f"/w/{world.ws}/m/shop/edit/reorder",
        data={"csrf_token": token, "base_version": base + 1, "order": "awareness,awareness"},
    )
    assert bad.status_code == 422
    assert "order" in bad.text


def test_add_rename_delete_stage(world: World) -> None:
    client, token = world.clients["editor"]

    def stage(action: str, stage_id: str, name: str = "") -> int:
        base = _current(client, world.ws)["version"]
        return client.post(
            f"/w/{world.ws}/m/shop/edit/stage",
            data={
                "csrf_token": token,
                "base_version": base,
                "action": action,
                "stage_id": stage_id,
                "name": name,
            },
        ).status_code

    assert stage("add", "loyalty", "Loyalty") == 303
    assert _current(client, world.ws)["map"]["stages"][-1] == {"id": "loyalty", "name": "Loyalty"}
    assert stage("rename", "loyalty", "Loyal fans") == 303
    assert _current(client, world.ws)["map"]["stages"][-1]["name"] == "Loyal fans"
    assert stage("delete", "loyalty") == 303
    assert "loyalty" not in [s["id"] for s in _current(client, world.ws)["map"]["stages"]]
    assert stage("explode", "awareness") == 422


def test_restore_is_a_new_version_with_the_old_content(world: World) -> None:
    client, token = world.clients["editor"]
    v1 = client.get(f"/api/v1/workspaces/{world.ws}/maps/shop/versions").json()[-1]
    assert v1["version"] == 1
    before = _current(client, world.ws)["version"]
    answer = client.post(f"/w/{world.ws}/m/shop/versions/1/restore", data={"csrf_token": token})
    assert answer.status_code == 303
    now = _current(client, world.ws)
    assert now["version"] == before + 1
    assert now["map"]["title"] == "Shop"
    assert now["map"]["stages"][0]["steps"][0]["name"] == "Sees an advertisement"
    assert "restored version 1" in client.get(f"/w/{world.ws}/m/shop/versions").text


def test_comment_thread_resolve_and_reopen(world: World) -> None:
    client, token = world.clients["commenter"]
    posted = client.post(
        f"/w/{world.ws}/m/shop/comments",
        data={
            "csrf_token": token,
            "target": "touchpoint:tv-ad",
            "body": "Is this still running? @Viewer",
        },
    )
    assert posted.status_code in (303, 404, 422)
    if posted.status_code != 303:  # the template may name the touchpoint differently
        posted = client.post(
            f"/w/{world.ws}/m/shop/comments",
            data={
                "csrf_token": token,
                "target": "stage:purchase",
                "body": "Is this still running? @Viewer",
            },
        )
        assert posted.status_code == 303
    comments = client.get(f"/api/v1/workspaces/{world.ws}/maps/shop/comments").json()
    mine = [c for c in comments if c["body"].startswith("Is this still running")]
    assert len(mine) == 1
    assert not mine[0]["resolved"]
    cid = mine[0]["id"]
    assert (
        client.post(
            f"/w/{world.ws}/m/shop/comments/{cid}/resolve", data={"csrf_token": token}
        ).status_code
        == 303
    )
    panel = client.get(f"/w/{world.ws}/m/shop/panel?target={mine[0]['target']}").text
    assert f'id="comment-{cid}"' in panel
    assert "Reopen" in panel
    again = client.post(
        f"/api/v1/workspaces/{world.ws}/maps/shop/comments/{cid}/reopen",
        headers={"X-CSRF-Token": token},
    )
    assert again.json()["resolved"] is False
    empty = client.post(
        f"/w/{world.ws}/m/shop/comments", data={"csrf_token": token, "target": "map", "body": "  "}
    )
    assert empty.status_code == 422


def test_share_link_signed_out_then_revoked(world: World) -> None:
    client, token = world.clients["editor"]
    page = client.post(f"/w/{world.ws}/m/shop/share", data={"csrf_token": token}).text
    url = page.split('id="share-url" href="', 1)[1].split('"', 1)[0]
    stranger = browser(world.app)
    shown = stranger.get(url)
    assert shown.status_code == 200
    assert "<svg" in shown.text
    assert "Shared read-only" in shown.text
    link_id = page.split("/shares/", 1)[1].split("/", 1)[0]
    assert (
        client.post(
            f"/w/{world.ws}/shares/{link_id}/revoke", data={"csrf_token": token}
        ).status_code
        == 303
    )
    assert stranger.get(url).status_code == 404
    assert stranger.get("/s/guessed-token").status_code == 404


def test_new_map_from_template_and_exports(world: World) -> None:
    client, token = world.clients["editor"]
    answer = client.post(
        f"/w/{world.ws}/maps",
        data={
            "csrf_token": token,
            "template": "five-stage",
            "map_id": "onboarding",
            "title": "Onboarding",
        },
    )
    assert (answer.status_code, answer.headers["location"]) == (303, f"/w/{world.ws}/m/onboarding")
    again = client.post(
        f"/w/{world.ws}/maps",
        data={
            "csrf_token": token,
            "template": "five-stage",
            "map_id": "onboarding",
            "title": "Twice",
        },
    )
    assert again.status_code == 409
    unknown = client.post(
        f"/w/{world.ws}/maps",
        data={"csrf_token": token, "template": "nope", "map_id": "x", "title": "X"},
    )
    assert unknown.status_code == 422
    yaml_text = client.get(f"/w/{world.ws}/m/onboarding/export.yaml").text
    journey = parse_model(yaml_text, JourneyMap)
    assert (journey.id, journey.title) == ("onboarding", "Onboarding")
    svg = client.get(f"/w/{world.ws}/m/onboarding/export.svg")
    assert svg.headers["content-type"] == "image/svg+xml"
    assert svg.text.lstrip().startswith(("<svg", "<?xml"))
    listing = client.get(f"/w/{world.ws}").text
    assert "Onboarding" in listing
    assert "draft" in listing


def test_openapi_document_lists_the_api(world: World) -> None:
    doc = TestClient(world.app).get("/api/v1/openapi.json").json()
    assert "/api/v1/workspaces/{ws}/maps/{map_id}" in doc["paths"]
    assert set(doc["paths"]["/api/v1/workspaces/{ws}/maps/{map_id}"]) == {"get", "put"}
    assert not any(path.startswith("/w/") for path in doc["paths"])


def test_diff_between_any_two_versions(world: World) -> None:
    client, token = world.clients["editor"]
    base = _current(client, world.ws)["version"]
    assert (
        _edit_step(client, token, world.ws, base, name="Diffed name", emotion="2").status_code
        == 303
    )
    api = client.get(
        f"/api/v1/workspaces/{world.ws}/maps/shop/diff?old={base}&new={base + 1}"
    ).json()
    assert api["old"] == base
    assert any("Diffed name" in line for line in api["changes"])
    assert any("emotion.score" in line and "→ 2" in line for line in api["changes"])
    page = client.get(f"/w/{world.ws}/m/shop/diff?old={base}&new={base + 1}").text
    assert f"Changes from version {base} to {base + 1}" in page
    assert "Diffed name" in page
    same = client.get(f"/w/{world.ws}/m/shop/diff?old={base}&new={base}").text
    assert "No changes." in same
    assert client.get(f"/w/{world.ws}/m/shop/diff?old=999&new=1").status_code == 404
