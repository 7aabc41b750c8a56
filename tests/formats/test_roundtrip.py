"""Lossless, canonical YAML and JSON round trips on hypothesis-generated maps and personas."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from tests.formats.strategies import journey_maps, personas

from journeylens.formats import dumps_json, dumps_yaml, parse_model
from journeylens.model import JourneyMap, Persona

ROUNDTRIP = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


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
