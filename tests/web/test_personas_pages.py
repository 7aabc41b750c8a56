"""Persona pages: create (blank or from YAML), view, edit, history and restore, delete, the
link from the map view — SQLite and PostgreSQL."""

from __future__ import annotations

from tests.web.conftest import World

from journeylens.model import Generation


def _post(world: World, role: str, url: str, **fields: object) -> object:
    client, token = world.clients[role]
    return client.post(url, data={"csrf_token": token, **fields})


def test_create_edit_restore_and_delete_a_persona(world: World) -> None:
    client, token = world.clients["editor"]
    base = f"/w/{world.ws}/personas"
    made = client.post(
        base,
        data={"csrf_token": token, "persona_id": "ana-k", "name": "", "generation": "millennial"},
    )
    assert made.status_code == 303
    assert made.headers["location"] == f"{base}/ana-k"
    owner = world.backend.user(1)
    assert owner is not None
    first = world.backend.get_persona(owner, world.ws, "ana-k")
    # As `journeylens persona new ana-k.persona.yaml --generation millennial` writes it.
    assert (first.version, first.persona.name) == (1, "Ana K")
    assert first.persona.demographics.generation is Generation.MILLENNIAL

    edited = client.post(
        f"{base}/ana-k/edit",
        data={
            "csrf_token": token,
            "base_version": "1",
            "name": "Ana, the career changer",
            "quote": "I want a job I like",
            "age": "29",
            "generation": "millennial",
            "goals": "Switch careers\n\nwithin a year",
            "preferred_channels": "web, app",
            "segment": "all:\n  - {field: generation, op: eq, value: millennial}\n",
            "share": "0.25",
        },
    )
    assert edited.status_code == 303, edited.text
    second = world.backend.get_persona(owner, world.ws, "ana-k").persona
    assert second.name == "Ana, the career changer"
    assert second.goals == ["Switch careers", "within a year"]
    assert [c.value for c in second.preferred_channels] == ["web", "app"]
    assert second.share == 0.25
    assert second.demographics.age == "29"
    assert second.segment is not None

    page = client.get(f"{base}/ana-k").text
    assert "Ana, the career changer" in page
    assert 'id="pversion-2"' in page
    assert "edited in the browser" in page
    old = client.get(f"{base}/ana-k?version=1").text
    assert "Ana K" in old
    assert "an old version" in old

    restored = client.post(f"{base}/ana-k/versions/1/restore", data={"csrf_token": token})
    assert restored.status_code == 303
    third = world.backend.get_persona(owner, world.ws, "ana-k")
    assert (third.version, third.persona.name) == (3, "Ana K")
    history = world.backend.persona_history(owner, world.ws, "ana-k")
    assert [(v.version, v.message) for v in history] == [
        (3, "restored version 1"),
        (2, "edited in the browser"),
        (1, "created"),
    ]
    assert "Ana K" in client.get(base).text

    deleted = client.post(f"{base}/ana-k/delete", data={"csrf_token": token})
    assert deleted.status_code == 303
    assert client.get(f"{base}/ana-k").status_code == 404
    assert "ana-k" not in client.get(base).text


def test_create_from_yaml_and_validation_messages(world: World) -> None:
    client, token = world.clients["editor"]
    base = f"/w/{world.ws}/personas"
    doc = "id: ben\nname: Ben\nfrustrations:\n  - Long forms\npreferred_channels: [phone]\n"
    made = client.post(base, data={"csrf_token": token, "document": doc})
    assert made.status_code == 303
    page = client.get(f"{base}/ben").text
    assert "Long forms" in page
    assert "phone" in page
    duplicate = client.post(base, data={"csrf_token": token, "document": doc})
    assert duplicate.status_code == 409
    bad_id = client.post(base, data={"csrf_token": token, "persona_id": "Not An Id"})
    assert bad_id.status_code == 422
    assert "<b>id</b>" in bad_id.text
    bad_doc = client.post(
        base, data={"csrf_token": token, "document": "id: c\nname: C\nshare: 2\n"}
    )
    assert bad_doc.status_code == 422
    assert "share" in bad_doc.text
    bad_channel = client.post(
        f"{base}/ben/edit",
        data={"csrf_token": token, "base_version": "1", "name": "Ben", "preferred_channels": "fax"},
    )
    assert bad_channel.status_code == 422
    assert "preferred_channels[0]" in bad_channel.text
    bad_rule = client.post(
        f"{base}/ben/edit",
        data={
            "csrf_token": token,
            "base_version": "1",
            "name": "Ben",
            "segment": "{field: age, op: gt, value: old}",
        },
    )
    assert bad_rule.status_code == 422
    assert "expects a number" in bad_rule.text
    stale = client.post(
        f"{base}/ben/edit", data={"csrf_token": token, "base_version": "0", "name": "B"}
    )
    assert stale.status_code == 409
    owner = world.backend.user(1)
    assert owner is not None
    assert world.backend.get_persona(owner, world.ws, "ben").version == 1


def test_map_view_links_its_personas(world: World) -> None:
    client, token = world.clients["editor"]
    client.post(f"/w/{world.ws}/personas", data={"csrf_token": token, "persona_id": "cara"})
    doc = client.get(f"/api/v1/workspaces/{world.ws}/maps/shop").json()
    body = {**doc["map"], "personas": ["cara"]}
    saved = client.put(
        f"/api/v1/workspaces/{world.ws}/maps/shop?base_version={doc['version']}",
        json=body,
        headers={"X-CSRF-Token": token},
    )
    assert saved.status_code == 200, saved.text
    page = client.get(f"/w/{world.ws}/m/shop").text
    assert f'<a href="/w/{world.ws}/personas/cara">cara</a>' in page
    card = client.get(f"/w/{world.ws}/personas/cara").text
    assert f'<a href="/w/{world.ws}/m/shop">' in card


def test_viewer_sees_but_cannot_change_personas(world: World) -> None:
    client, token = world.clients["editor"]
    client.post(f"/w/{world.ws}/personas", data={"csrf_token": token, "persona_id": "dora"})
    viewer, vtoken = world.clients["viewer"]
    page = viewer.get(f"/w/{world.ws}/personas/dora").text
    assert "Dora" in page
    assert 'id="edit-persona"' not in page
    answer = viewer.post(
        f"/w/{world.ws}/personas/dora/edit",
        data={"csrf_token": vtoken, "base_version": "1", "name": "Hacked"},
    )
    assert answer.status_code == 403


def test_persona_api_round_trip(world: World) -> None:
    client, token = world.clients["editor"]
    api = f"/api/v1/workspaces/{world.ws}/personas"
    headers = {"X-CSRF-Token": token}
    made = client.post(api, json={"id": "eve", "name": "Eve", "goals": ["Learn"]}, headers=headers)
    assert made.status_code == 201
    assert made.json()["persona"] == {
        "schema": "journeylens/persona/v1",
        "id": "eve",
        "name": "Eve",
        "goals": ["Learn"],
    }
    saved = client.put(
        f"{api}/eve?base_version=1", json={"id": "eve", "name": "Eve B"}, headers=headers
    )
    assert saved.status_code == 200
    assert saved.json()["version"] == 2
    stale = client.put(
        f"{api}/eve?base_version=1", json={"id": "eve", "name": "X"}, headers=headers
    )
    assert stale.status_code == 409
    bad = client.put(f"{api}/eve?base_version=2", json={"id": "eve", "name": ""}, headers=headers)
    assert bad.status_code == 422
    assert bad.json()["field"] == "name"
    assert client.get(f"{api}/eve?version=1").json()["persona"]["name"] == "Eve"
    assert [v["version"] for v in client.get(f"{api}/eve/versions").json()] == [2, 1]
    assert "eve" in [p["persona_id"] for p in client.get(api).json()]
    assert client.delete(f"{api}/eve", headers=headers).status_code == 204
    assert client.get(f"{api}/eve").status_code == 404
