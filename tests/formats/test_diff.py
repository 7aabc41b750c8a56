"""Semantic diff: golden text and JSON for a realistic edit, plus one test per kind of change."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from tests.formats.strategies import journey_maps

from journeylens.formats import load_map
from journeylens.formats.diff import Change, ChangeKind, diff_maps
from journeylens.model import (
    Channel,
    Emotion,
    JourneyMap,
    LaneConfig,
    PainPoint,
    Stage,
    Step,
    Touchpoint,
)

GOLDEN = Path(__file__).parents[1] / "golden" / "formats"


def _map(*stages: Stage, **fields: object) -> JourneyMap:
    return JourneyMap.model_validate({"id": "m", "title": "M", "stages": list(stages), **fields})


def _stage(ident: str, *steps: Step) -> Stage:
    return Stage(id=ident, name=ident.title(), steps=list(steps))


def _step(ident: str, **fields: object) -> Step:
    return Step.model_validate({"id": ident, "name": ident.title(), **fields})


def test_golden_text_diff_of_course_v1_to_v2() -> None:
    old = load_map(GOLDEN / "course.journey.yaml")
    new = load_map(GOLDEN / "course-v2.journey.yaml")
    assert diff_maps(old, new).to_text() == (GOLDEN / "course.diff.txt").read_text(encoding="utf-8")


def test_golden_json_diff_of_course_v1_to_v2() -> None:
    old = load_map(GOLDEN / "course.journey.yaml")
    new = load_map(GOLDEN / "course-v2.journey.yaml")
    expected = json.loads((GOLDEN / "course.diff.json").read_text(encoding="utf-8"))
    result = diff_maps(old, new).to_dict()
    assert result == expected
    assert result["counts"] == {"added": 8, "removed": 4, "renamed": 4, "moved": 2, "changed": 10}


def test_same_map_has_empty_diff() -> None:
    journey = load_map(GOLDEN / "course.journey.yaml")
    result = diff_maps(journey, journey.model_copy(deep=True))
    assert result.is_empty
    assert result.to_text() == ""
    assert result.to_dict()["changes"] == []


def test_inserting_a_stage_in_front_moves_nothing() -> None:
    old = _map(_stage("a"), _stage("b"))
    new = _map(_stage("z"), _stage("a"), _stage("b"))
    assert diff_maps(old, new).to_text() == '+ stage z: added "Z" at #1\n'


def test_swapping_stages_is_one_move() -> None:
    old = _map(_stage("a"), _stage("b"), _stage("c"))
    new = _map(_stage("a"), _stage("c"), _stage("b"))
    assert diff_maps(old, new).changes == (
        Change(ChangeKind.MOVED, "stage", "b", "stages[b]", "", {"position": 2}, {"position": 3}),
    )


def test_step_reordered_within_its_stage() -> None:
    old = _map(_stage("s", _step("x"), _step("y"), _step("z")))
    new = _map(_stage("s", _step("y"), _step("z"), _step("x")))
    assert diff_maps(old, new).to_text() == "> step x: moved from stage s #1 to stage s #3\n"


def test_touchpoint_moves_to_another_step_and_changes_channel() -> None:
    tp = Touchpoint(id="mail", name="Mail", channel="email")
    old = _map(_stage("s", _step("x", touchpoints=[tp]), _step("y")))
    new = _map(
        _stage(
            "s",
            _step("x"),
            _step("y", touchpoints=[tp.model_copy(update={"channel": Channel.SMS})]),
        )
    )
    assert diff_maps(old, new).to_text() == (
        "> touchpoint mail: moved from step x #1 to step y #1\n"
        '~ touchpoint mail: channel "email" → "sms"\n'
    )


def test_removed_stage_is_one_line_and_its_moved_step_is_a_move() -> None:
    old = _map(_stage("a", _step("x")), _stage("b", _step("y"), _step("w")))
    new = _map(_stage("a", _step("x"), _step("y")))
    result = diff_maps(old, new)
    assert result.to_text() == (
        '> step y: moved from stage b #1 to stage a #2\n- stage b: removed "B" at #2\n'
    )
    removed = result.changes[1].before
    assert [s["id"] for s in removed["element"]["steps"]] == ["w"]  # y is reported as moved


def test_emotion_added_removed_and_changed() -> None:
    old = _map(_stage("s", _step("x", emotion=Emotion(score=-1)), _step("y")))
    new = _map(
        _stage(
            "s",
            _step("x", emotion=Emotion(score=-2, label="angry")),
            _step("y", emotion=Emotion(score=1)),
        )
    )
    assert diff_maps(old, new).to_text() == (
        "~ step x: emotion.score -1.0 → -2.0\n"
        '~ step x: emotion.label "" → "angry"\n'
        '~ step y: emotion null → {"score": 1.0}\n'
    )


def test_pain_point_removed_and_added_in_order() -> None:
    p1 = PainPoint(id="p1", text="Slow")
    p2 = PainPoint(id="p2", text="Rude")
    p3 = PainPoint(id="p3", text="Lost")
    old = _map(_stage("s", _step("x", pain_points=[p1, p2])))
    new = _map(_stage("s", _step("x", pain_points=[p3, p2])))
    # p1 had no surviving predecessor in the old map, so its removal is listed first.
    assert diff_maps(old, new).to_text() == (
        '- pain point p1: removed "Slow" at step x #1\n+ pain point p3: added "Lost" at step x #1\n'
    )


def test_lane_order_and_list_order_changes() -> None:
    old = _map(
        _stage("s", _step("x", owners=["a", "b"])), lanes=LaneConfig(order=["actions", "emotion"])
    )
    new = _map(_stage("s", _step("x", owners=["b", "a"])), lanes=LaneConfig(order=["emotion"]))
    assert diff_maps(old, new).to_text() == (
        '- map m: lanes.order removed "actions"\n~ step x: owners ["a", "b"] → ["b", "a"]\n'
    )


def test_map_id_and_status_change() -> None:
    old = _map(_stage("s"))
    new = _map(_stage("s"), id="m2", status="published")
    assert diff_maps(old, new).to_text() == (
        '~ map m2: status "draft" → "published"\n~ map m2: id "m" → "m2"\n'
    )


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(journey_maps(), journey_maps())
def test_any_two_maps_diff_cleanly(old: JourneyMap, new: JourneyMap) -> None:
    result = diff_maps(old, new)
    assert result.is_empty == (old == new)
    assert len(result.to_text().splitlines()) == len(result.changes)
    assert json.loads(json.dumps(result.to_dict()))["changes"] == [
        c.to_dict() for c in result.changes
    ]
    assert diff_maps(new, new.model_copy(deep=True)).is_empty
