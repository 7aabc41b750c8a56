"""The domain model: field constraints, the rule language and cross-object invariants."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from journeylens.model import (
    AllOf,
    Condition,
    InvariantError,
    JourneyMap,
    MatchRule,
    NotOf,
    Op,
    Outcome,
    Persona,
    Stage,
    Step,
    Touchpoint,
    duration_seconds,
)


def _map(**overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "id": "m",
        "title": "Map",
        "stages": [{"id": "a", "name": "A", "steps": [{"id": "s1", "name": "One"}]}],
    }
    data.update(overrides)
    return data


def _invariant_problems(data: dict[str, object]) -> list[str]:
    with pytest.raises(ValidationError) as info:
        JourneyMap.model_validate(data)
    cause = info.value.errors()[0]["ctx"]["error"]
    assert isinstance(cause, InvariantError)
    return [message for _, message in cause.problems]


def test_minimal_map_builds_and_navigates() -> None:
    journey = JourneyMap.model_validate(_map())
    assert journey.schema_ == "journeylens/journeymap/v1"
    assert [step.id for _, step in journey.iter_steps()] == ["s1"]
    assert journey.stage("a").name == "A"
    with pytest.raises(KeyError, match="no step 'zz' in map 'm'"):
        journey.step("zz")


def test_map_without_stages_is_rejected() -> None:
    assert _invariant_problems(_map(stages=[])) == ["a journey map needs at least one stage"]


def test_all_invariant_problems_are_reported_together() -> None:
    data = _map(
        kpis=[{"id": "k", "name": "K"}, {"id": "k", "name": "K2"}],
        stages=[
            {"id": "a", "name": "A", "kpis": ["nope"], "steps": [{"id": "s", "name": "S"}]},
            {
                "id": "a",
                "name": "B",
                "steps": [
                    {
                        "id": "s",
                        "name": "S again",
                        "custom": {"regulation": ["GDPR"]},
                        "touchpoints": [
                            {"id": "t", "name": "T", "channel": "web"},
                            {"id": "t", "name": "T2", "channel": "app"},
                        ],
                    }
                ],
            },
        ],
    )
    assert _invariant_problems(data) == [
        "duplicate KPI id 'k' (first used at kpis[0])",
        "stage 'a' refers to unknown KPI 'nope'",
        "duplicate stage id 'a' (first used at stages[0])",
        "duplicate step id 's' (first used at stages[0].steps[0])",
        "step 's' fills unknown custom lane 'regulation' (declare it under lanes.custom)",
        "duplicate touchpoint id 't' (first used at stages[1].steps[0].touchpoints[0])",
    ]


def test_lane_order_names_known_lanes_once() -> None:
    problems = _invariant_problems(
        _map(lanes={"order": ["actions", "emotion", "actions", "gossip"]})
    )
    assert problems[0] == "lane 'actions' is listed twice"
    assert problems[1].startswith("unknown lane 'gossip' (expected one of actions, touchpoints")


def test_custom_lane_declared_can_be_filled_and_ordered() -> None:
    journey = JourneyMap.model_validate(
        _map(
            lanes={
                "order": ["actions", "devices"],
                "custom": [{"id": "devices", "name": "Devices"}],
            },
            stages=[
                {
                    "id": "a",
                    "name": "A",
                    "steps": [{"id": "s", "name": "S", "custom": {"devices": ["phone"]}}],
                }
            ],
        )
    )
    assert journey.stages[0].steps[0].custom == {"devices": ["phone"]}


def test_to_be_map_cannot_improve_on_itself() -> None:
    problems = _invariant_problems(_map(scenario={"kind": "to_be", "improves_on": "m"}))
    assert problems == ["a map cannot improve on itself"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("id", "Not An Id"),
        ("version", 0),
        ("status", "final"),
    ],
)
def test_scalar_fields_are_constrained(field: str, value: object) -> None:
    with pytest.raises(ValidationError) as info:
        JourneyMap.model_validate(_map(**{field: value}))
    assert info.value.errors()[0]["loc"] == (field,)


def test_emotion_score_range_is_minus_two_to_two() -> None:
    ok = Step(id="s", name="S", emotion={"score": -2})
    assert ok.emotion is not None
    assert ok.emotion.score == -2
    with pytest.raises(ValidationError) as info:
        Step(id="s", name="S", emotion={"score": 2.5})
    assert info.value.errors()[0]["loc"] == ("emotion", "score")


def test_unknown_fields_are_errors_not_silently_dropped() -> None:
    with pytest.raises(ValidationError) as info:
        Stage.model_validate({"id": "a", "name": "A", "colour": "red"})
    assert info.value.errors()[0]["type"] == "extra_forbidden"


@pytest.mark.parametrize(
    ("condition", "message"),
    [
        (
            {"field": "x", "op": "in", "value": "a"},
            "operator 'in' expects a non-empty list of values",
        ),
        ({"field": "x", "op": "gt", "value": "ten"}, "operator 'gt' expects a number, got 'ten'"),
        ({"field": "x", "op": "gt", "value": True}, "operator 'gt' expects a number, got True"),
        (
            {"field": "x", "op": "regex", "value": "(unclosed"},
            "invalid regular expression '(unclosed'",
        ),
        ({"field": "x", "op": "exists", "value": 1}, "operator 'exists' takes no value"),
        ({"field": "x", "op": "eq"}, "operator 'eq' expects a single value"),
        ({"field": "x", "op": "glob", "value": 3}, "operator 'glob' expects a text pattern, got 3"),
    ],
)
def test_condition_value_must_fit_operator(condition: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message.replace("(", r"\(")):
        Condition.model_validate(condition)


def test_nested_rules_parse_into_the_right_classes() -> None:
    persona = Persona.model_validate(
        {
            "id": "p",
            "name": "P",
            "segment": {
                "all": [
                    {"field": "generation", "op": "in", "value": ["gen_z", "millennial"]},
                    {"not": {"field": "country", "value": "DE"}},
                ]
            },
        }
    )
    segment = persona.segment
    assert isinstance(segment, AllOf)
    assert isinstance(segment.all[0], Condition)
    assert segment.all[0].op is Op.IN
    assert isinstance(segment.all[1], NotOf)
    assert persona.model_dump(mode="json", exclude_defaults=True)["segment"]["all"][1] == {
        "not": {"field": "country", "value": "DE"}
    }


def test_match_rule_needs_at_least_one_part() -> None:
    with pytest.raises(ValidationError, match="a match rule needs at least one of"):
        MatchRule()
    rule = MatchRule(event=["page_view", "screen_view"], channel="web")
    assert rule.event == ["page_view", "screen_view"]


def test_touchpoint_channel_is_a_controlled_vocabulary() -> None:
    with pytest.raises(ValidationError) as info:
        Touchpoint(id="t", name="T", channel="carrier_pigeon")  # type: ignore[arg-type]
    assert info.value.errors()[0]["loc"] == ("channel",)


def test_outcome_needs_exactly_one_rule() -> None:
    assert Outcome(id="churned", name="Churned", inactive_days=60).inactive_days == 60
    with pytest.raises(ValidationError, match="exactly one of did, did_not, inactive_days"):
        Outcome(id="x", name="X")
    with pytest.raises(ValidationError, match=r"\(got did, inactive_days\)"):
        Outcome(id="x", name="X", did={"event": "purchase"}, inactive_days=3)


def test_duration_strings() -> None:
    assert duration_seconds("45s") == 45
    assert duration_seconds("2w") == 2 * 7 * 86400
    with pytest.raises(ValueError, match="not a duration"):
        duration_seconds("two days")
    with pytest.raises(ValidationError):
        Step(id="s", name="S", expected_duration="2 days")
