"""Workspace ↔ folder of YAML files, so maps can live in git."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from journeylens.formats.io import load_map, save
from journeylens.model.persona import Persona
from journeylens.store import service
from journeylens.store.errors import InvalidMap
from journeylens.store.models import User, Workspace
from journeylens.store.service import SyncDirection
from journeylens.templates import get_template


def test_export_then_import_round_trips(
    session: Session, owner: User, ws: Workspace, tmp_path: Path
) -> None:
    service.create_map(session, ws, owner, template="three-phase", map_id="m")
    service.create_persona(session, ws, Persona(id="pat", name="Pat"), owner)
    report = service.sync_folder(session, ws, tmp_path / "maps", SyncDirection.EXPORT, owner)
    assert report.written == ("m.journey.yaml", "pat.persona.yaml")
    assert (
        load_map(tmp_path / "maps" / "m.journey.yaml") == service.get_map(session, ws, "m").journey
    )
    again = service.sync_folder(session, ws, tmp_path / "maps", SyncDirection.IMPORT, owner)
    assert (again.created, again.updated, again.unchanged) == ((), (), ("m", "pat"))


def test_import_creates_updates_and_leaves_equal_ones(
    session: Session, owner: User, ws: Workspace, tmp_path: Path
) -> None:
    service.create_map(session, ws, owner, template="three-phase", map_id="m")
    service.create_persona(session, ws, Persona(id="pat", name="Pat"), owner)
    changed = get_template("three-phase").model_copy(update={"id": "m", "title": "From git"})
    save(changed, tmp_path / "m.journey.yaml")
    save(get_template("aida"), tmp_path / "aida.journey.yaml")
    save(Persona(id="pat", name="Pat"), tmp_path / "pat.persona.yaml")
    (tmp_path / "notes.txt").write_text("not a map", encoding="utf-8")
    report = service.sync_folder(session, ws, tmp_path, SyncDirection.IMPORT, owner)
    assert (report.created, report.updated, report.unchanged) == (("aida",), ("m",), ("pat",))
    m = service.get_map(session, ws, "m")
    assert (m.version, m.journey.title, m.message) == (
        2,
        "From git",
        "imported from m.journey.yaml",
    )


def test_one_bad_file_imports_nothing(
    session: Session, owner: User, ws: Workspace, tmp_path: Path
) -> None:
    save(get_template("aida"), tmp_path / "aida.journey.yaml")
    (tmp_path / "bad.journey.yaml").write_text(
        "schema: journeylens/journeymap/v1\nid: bad\ntitle: Bad\nstages: []\n", encoding="utf-8"
    )
    with pytest.raises(InvalidMap) as info:
        service.sync_folder(session, ws, tmp_path, SyncDirection.IMPORT, owner)
    issue = info.value.issues[0]
    assert issue.file.endswith("bad.journey.yaml")
    assert (issue.line, issue.path) == (4, "stages")
    assert service.list_maps(session, ws) == []
