"""Maps and personas: create, list, versions, optimistic concurrency, diff, restore, YAML."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from journeylens.formats.io import dumps_yaml
from journeylens.model.journey import JourneyMap, Status
from journeylens.model.persona import Persona
from journeylens.store import service
from journeylens.store.errors import Conflict, InvalidMap, NotFound, StaleVersion
from journeylens.store.models import User, Workspace
from journeylens.templates import get_template


def renamed(journey: JourneyMap, stage_index: int, name: str) -> JourneyMap:
    """``journey`` with one stage renamed (a small, diffable edit)."""
    data = journey.model_dump(by_alias=True)
    data["stages"][stage_index]["name"] = name
    return JourneyMap.model_validate(data)


def test_create_from_template_and_from_a_map(session: Session, owner: User, ws: Workspace) -> None:
    snap = service.create_map(session, ws, owner, template="three-phase", map_id="m1", title="One")
    assert (snap.map_id, snap.version, snap.current_version) == ("m1", 1, 1)
    assert snap.journey.title == "One"
    assert snap.yaml == dumps_yaml(snap.journey)  # stored canonically
    assert snap.author_id == owner.id
    journey = get_template("aida")
    other = service.create_map(session, ws, owner, journey)
    assert other.map_id == journey.id
    with pytest.raises(Conflict, match="already has a map 'm1'"):
        service.create_map(session, ws, owner, template="three-phase", map_id="m1")
    with pytest.raises(NotFound):
        service.create_map(session, ws, owner, template="no-such-template")
    with pytest.raises(InvalidMap) as info:
        service.create_map(session, ws, owner, template="three-phase", map_id="Bad Id!")
    assert info.value.issues[0].path == "id"
    with pytest.raises(ValueError, match="exactly one"):
        service.create_map(session, ws, owner)


def test_list_maps_shows_status_owner_and_last_change(
    session: Session, owner: User, ws: Workspace
) -> None:
    ed = service.create_user(session, "ed@acme.test", "Ed", "editor-pass")
    service.create_map(session, ws, owner, template="three-phase", map_id="a")
    b = service.create_map(session, ws, owner, template="aida", map_id="b")
    published = b.journey.model_copy(update={"status": Status.PUBLISHED})
    service.save_map(session, ws, published, ed, base_version=1, message="publish")
    listing = service.list_maps(session, ws)
    assert [(m.map_id, m.status, m.current_version) for m in listing] == [
        ("b", "published", 2),
        ("a", "draft", 1),
    ]
    assert (listing[0].owner_name, listing[0].updated_by_name) == ("Olive Owner", "Ed")
    assert [m.map_id for m in service.list_maps(session, ws, Status.DRAFT)] == ["a"]
    # Another workspace sees none of them.
    other = service.create_workspace(session, "beta", "Beta", ed)
    assert service.list_maps(session, other) == []
    with pytest.raises(NotFound):
        service.get_map(session, other, "a")


def test_every_save_is_a_version_and_old_versions_stay_readable(
    session: Session, owner: User, ws: Workspace
) -> None:
    v1 = service.create_map(session, ws, owner, template="three-phase", map_id="m")
    v2 = service.save_map(session, ws, renamed(v1.journey, 0, "Before"), owner, 1, "rename")
    v3 = service.save_map(session, ws, renamed(v2.journey, 1, "Buying"), owner, 2)
    assert (v3.version, v3.current_version) == (3, 3)
    assert service.get_map(session, ws, "m").journey.stages[1].name == "Buying"
    old = service.get_map(session, ws, "m", version=1)
    assert (old.version, old.current_version) == (1, 3)
    assert old.journey.stages[0].name == "Pre-purchase"
    assert [
        (h.number, h.message, h.author_name) for h in service.map_history(session, ws, "m")
    ] == [
        (3, "", "Olive Owner"),
        (2, "rename", "Olive Owner"),
        (1, "created", "Olive Owner"),
    ]
    diff = service.diff_versions(session, ws, "m", 1, 3)
    assert diff.to_text() == (
        '~ stage pre-purchase: renamed "Pre-purchase" → "Before"\n'
        '~ stage purchase: renamed "Purchase" → "Buying"\n'
    )
    with pytest.raises(NotFound, match="no version 0"):
        service.get_map(session, ws, "m", version=0)
    with pytest.raises(NotFound, match="no version 9"):
        service.get_map(session, ws, "m", version=9)


def test_a_stale_save_gets_the_diff_of_what_changed_and_loses_nothing(
    session: Session, owner: User, ws: Workspace
) -> None:
    v1 = service.create_map(session, ws, owner, template="three-phase", map_id="m")
    service.save_map(session, ws, renamed(v1.journey, 0, "Alice's name"), owner, 1)
    with pytest.raises(StaleVersion) as info:
        service.save_map(session, ws, renamed(v1.journey, 2, "Bob's name"), owner, 1)
    err = info.value
    assert (err.base_version, err.current_version) == (1, 2)
    assert err.diff is not None
    assert err.diff.to_text() == '~ stage pre-purchase: renamed "Pre-purchase" → "Alice\'s name"\n'
    body = err.to_dict()
    assert (body["error"], body["base_version"], body["current_version"]) == ("stale_version", 1, 2)
    assert body["diff"]["counts"]["renamed"] == 1
    current = service.get_map(session, ws, "m")
    assert current.version == 2
    assert current.journey.stages[0].name == "Alice's name"
    assert current.journey.stages[2].name == "Post-purchase"
    # Rebasing on the current version succeeds and keeps Alice's change.
    rebased = renamed(current.journey, 2, "Bob's name")
    v3 = service.save_map(session, ws, rebased, owner, 2)
    assert [s.name for s in v3.journey.stages] == ["Alice's name", "Purchase", "Bob's name"]
    with pytest.raises(NotFound):
        service.save_map(session, ws, get_template("aida"), owner, 1)


def test_save_yaml_reports_located_validation_issues(
    session: Session, owner: User, ws: Workspace
) -> None:
    v1 = service.create_map(session, ws, owner, template="three-phase", map_id="m")
    bad = v1.yaml.replace("title: ", "title:\n  nested: wrong\nx_title: ", 1)
    with pytest.raises(InvalidMap) as info:
        service.save_map_yaml(session, ws, "m", bad, owner, 1)
    paths = {i.path for i in info.value.issues}
    assert "title" in paths
    assert all(i.file == "m.journey.yaml" and i.line is not None for i in info.value.issues)
    body = info.value.to_dict()
    assert body["error"] == "invalid_map"
    assert {i["path"] for i in body["issues"]} == paths
    with pytest.raises(InvalidMap, match="expected the map id 'other'"):
        service.save_map_yaml(session, ws, "other", v1.yaml, owner, 1)
    edited = v1.yaml.replace("name: Pre-purchase", "name: Discover", 1)
    v2 = service.save_map_yaml(session, ws, "m", edited, owner, 1, "via yaml")
    assert v2.journey.stages[0].name == "Discover"
    assert service.get_map(session, ws, "m").version == 2


def test_restore_makes_a_new_version_equal_to_the_old_one(
    session: Session, owner: User, ws: Workspace
) -> None:
    v1 = service.create_map(session, ws, owner, template="three-phase", map_id="m")
    service.save_map(session, ws, renamed(v1.journey, 0, "Changed"), owner, 1)
    v3 = service.restore_map(session, ws, "m", 1, owner)
    assert (v3.version, v3.message) == (3, "restored version 1")
    assert v3.yaml == v1.yaml
    assert service.diff_versions(session, ws, "m", 1, 3).is_empty
    assert len(service.map_history(session, ws, "m")) == 3


def test_archive_then_delete(session: Session, owner: User, ws: Workspace) -> None:
    service.create_map(session, ws, owner, template="three-phase", map_id="m")
    archived = service.archive_map(session, ws, "m", owner)
    assert (archived.version, archived.journey.status) == (2, Status.ARCHIVED)
    assert service.list_maps(session, ws)[0].status == "archived"
    service.add_comment(session, ws, "m", owner, "bye")
    service.create_share_link(session, ws, "m", owner)
    service.delete_map(session, ws, "m")
    session.flush()
    assert service.list_maps(session, ws) == []
    with pytest.raises(NotFound):
        service.map_history(session, ws, "m")
    with pytest.raises(NotFound):
        service.delete_map(session, ws, "m")


def test_import_and_export_yaml(session: Session, owner: User, ws: Workspace) -> None:
    text = dumps_yaml(get_template("three-phase"))
    created = service.import_map_yaml(session, ws, text, owner, "x.journey.yaml")
    assert (created.version, created.message) == (1, "imported from x.journey.yaml")
    same = service.import_map_yaml(session, ws, text, owner)
    assert same.version == 1  # nothing changed, no new version
    changed = text.replace("name: Purchase", "name: Checkout", 1)
    assert service.import_map_yaml(session, ws, changed, owner).version == 2
    assert service.export_map_yaml(session, ws, "three-phase") == changed
    assert service.export_map_yaml(session, ws, "three-phase", version=1) == text
    with pytest.raises(InvalidMap) as info:
        service.import_map_yaml(session, ws, "schema: journeylens/journeymap/v1\nid: x\n", owner)
    assert {i.path for i in info.value.issues} >= {"title", "stages"}


def persona(name: str = "Pat") -> Persona:
    """A minimal persona."""
    return Persona(id="pat", name=name, goals=["get it done"])


def test_personas_are_versioned_like_maps(session: Session, owner: User, ws: Workspace) -> None:
    v1 = service.create_persona(session, ws, persona(), owner)
    assert (v1.persona_id, v1.version) == ("pat", 1)
    with pytest.raises(Conflict):
        service.create_persona(session, ws, persona(), owner)
    v2 = service.save_persona(session, ws, persona("Patricia"), owner, 1, "full name")
    assert (v2.version, v2.persona.name) == (2, "Patricia")
    with pytest.raises(StaleVersion) as info:
        service.save_persona(session, ws, persona("Patty"), owner, 1)
    assert (info.value.current_version, info.value.diff) == (2, None)
    assert [
        (p.persona_id, p.name, p.current_version) for p in service.list_personas(session, ws)
    ] == [("pat", "Patricia", 2)]
    assert service.get_persona(session, ws, "pat", 1).persona.name == "Pat"
    v3 = service.restore_persona(session, ws, "pat", 1, owner)
    assert (v3.version, v3.persona.name, v3.message) == (3, "Pat", "restored version 1")
    assert [h.number for h in service.persona_history(session, ws, "pat")] == [3, 2, 1]
    service.delete_persona(session, ws, "pat")
    with pytest.raises(NotFound):
        service.get_persona(session, ws, "pat")
