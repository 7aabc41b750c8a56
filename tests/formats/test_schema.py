"""The checked-in JSON Schemas match the model, and every example file validates against them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from tests.formats.strategies import journey_maps, personas

from journeylens.formats import load_any, to_data
from journeylens.formats.io import _parse
from journeylens.formats.schema import generate_schemas, main, schema_text, write_schemas
from journeylens.model import JourneyMap, Persona

ROOT = Path(__file__).resolve().parents[2]
SCHEMA_DIR = ROOT / "schema"
SCHEMAS = generate_schemas()
REGENERATE = "regenerate with: python -m journeylens.formats.schema"


def _validator(name: str) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(SCHEMAS[name])


def _example_files() -> list[Path]:
    """Every map and persona file meant as an example: templates, docs, golden files.

    Other test data folders hold deliberately broken files, so they are not searched.
    """
    found: list[Path] = []
    for folder in ("src", "tests/golden", "docs", "examples"):
        for pattern in ("*.journey.yaml", "*.journey.json", "*.persona.yaml", "*.persona.json"):
            found.extend((ROOT / folder).rglob(pattern))
    return sorted(found)


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_checked_in_schema_matches_the_model(name: str) -> None:
    path = SCHEMA_DIR / name
    assert path.exists(), f"{path} is missing; {REGENERATE}"
    assert path.read_text(encoding="utf-8") == schema_text(SCHEMAS[name]), (
        f"{path} has drifted from the model; {REGENERATE}"
    )


def test_schemas_carry_id_title_and_descriptions() -> None:
    journey = SCHEMAS["journeymap.v1.json"]
    assert journey["$id"] == "https://journeylens.dev/schema/journeymap.v1.json"
    assert journey["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert journey["title"] == "journeylens journey map (v1)"
    assert journey["properties"]["schema"]["const"] == "journeylens/journeymap/v1"
    assert journey["$defs"]["Step"]["properties"]["backstage"]["description"] == (
        "What staff do out of the customer's view."
    )
    assert SCHEMAS["persona.v1.json"]["$id"].endswith("/persona.v1.json")
    for schema in SCHEMAS.values():
        jsonschema.Draft202012Validator.check_schema(schema)


def test_write_schemas_and_main_write_both_files(tmp_path: Path, capsys: Any) -> None:
    written = write_schemas(tmp_path / "a")
    assert [p.name for p in written] == ["journeymap.v1.json", "persona.v1.json"]
    assert json.loads(written[1].read_text(encoding="utf-8")) == SCHEMAS["persona.v1.json"]
    assert main([str(tmp_path / "b")]) == 0
    assert "persona.v1.json" in capsys.readouterr().out
    assert (tmp_path / "b" / "journeymap.v1.json").read_text(encoding="utf-8") == (
        written[0].read_text(encoding="utf-8")
    )


def test_there_are_example_files_to_validate() -> None:
    assert len(_example_files()) >= 2


@pytest.mark.parametrize("path", _example_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_example_file_validates_against_schema(path: Path) -> None:
    obj = load_any(path)  # valid for the model …
    name = "journeymap.v1.json" if isinstance(obj, JourneyMap) else "persona.v1.json"
    data, _ = _parse(path.read_text(encoding="utf-8"), str(path))
    errors = [e.message for e in _validator(name).iter_errors(data)]  # … and for the schema
    assert errors == []


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(journey_maps())
def test_every_valid_map_validates_against_schema(journey: JourneyMap) -> None:
    data = json.loads(json.dumps(to_data(journey)))
    assert [e.message for e in _validator("journeymap.v1.json").iter_errors(data)] == []


@settings(max_examples=30, deadline=None)
@given(personas())
def test_every_valid_persona_validates_against_schema(persona: Persona) -> None:
    data = json.loads(json.dumps(to_data(persona)))
    assert [e.message for e in _validator("persona.v1.json").iter_errors(data)] == []


def test_schema_rejects_what_the_model_rejects() -> None:
    bad = {"id": "Bad Id", "title": "t", "stages": [{"id": "s", "name": "S", "colour": 1}]}
    messages = sorted(e.message for e in _validator("journeymap.v1.json").iter_errors(bad))
    assert messages == [
        "'Bad Id' does not match '^[a-z0-9][a-z0-9_-]{0,63}$'",
        "Additional properties are not allowed ('colour' was unexpected)",
    ]
