"""CSV grid export / import: golden files, lossless round trip, hand-made sheets, cell errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from tests.formats.strategies import journey_maps

from journeylens.formats import DocumentError, load_map
from journeylens.formats.csvgrid import from_csv, to_csv
from journeylens.model import JourneyMap

GOLDEN = Path(__file__).parents[1] / "golden" / "formats"


def test_export_of_course_map_matches_golden_file() -> None:
    journey = load_map(GOLDEN / "course.journey.yaml")
    assert to_csv(journey) == (GOLDEN / "course.csv").read_text(encoding="utf-8")


def test_golden_grid_reads_back_to_the_same_map() -> None:
    journey = load_map(GOLDEN / "course.journey.yaml")
    assert from_csv((GOLDEN / "course.csv").read_text(encoding="utf-8")) == journey


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(journey_maps())
def test_round_trip_is_lossless(journey: JourneyMap) -> None:
    text = to_csv(journey)
    again = from_csv(text)
    assert again == journey
    assert to_csv(again) == text


def test_hand_made_team_sheet() -> None:
    journey = from_csv((GOLDEN / "team-sheet.csv").read_text(encoding="utf-8"), "team.csv")
    assert journey.id == "sneaker-purchase"
    assert journey.title == "Sneaker purchase"
    assert [(s.id, s.name, [t.id for t in s.steps]) for s in journey.stages] == [
        ("awareness", "Awareness", ["sees-an-ad", "reads-reviews"]),
        ("purchase", "Purchase", ["pays"]),
    ]
    reviews = journey.step("reads-reviews")
    assert reviews.actions == ["Opens Trustpilot", "Compares stars"]
    assert reviews.emotion is not None
    assert reviews.emotion.score == -0.5
    assert [(p.id, p.text, p.severity) for p in reviews.pain_points] == [
        ("fake-looking-reviews", "Fake-looking reviews", 3)
    ]
    pays = journey.step("pays")
    # "Price:" is not an id (upper case), so the whole line is the text.
    assert [(p.id, p.text, p.severity) for p in pays.pain_points] == [
        ("price-higher-than-the-ad-said", "Price: higher than the ad said", 4),
        ("slow", "Slow page", 3),
    ]
    assert [(t.id, t.name, t.channel.value) for t in pays.touchpoints] == [
        ("shop", "Web shop", "web")
    ]
    assert pays.owners == ["E-commerce", "Payments"]


def _errors(text: str) -> list[str]:
    with pytest.raises(DocumentError) as info:
        from_csv(text, "grid.csv")
    return [str(issue) for issue in info.value.issues]


def test_bad_cells_are_all_reported_by_row_and_column() -> None:
    text = (
        "stage,buy,,later\n"
        "stage_goal,,oops,\n"
        "step,pay,Bad Id,\n"
        "step_name,Pay,Other,\n"
        "emotion,9,x,\n"
        "emotion_label,,,sad\n"
        "touchpoints,web shop,,\n"
        "match,,{not json},\n"
        "colour,red\n"
        "\n"
        "map.title,T\n"
        "map.colour,red\n"
    )
    assert _errors(text) == [
        "grid.csv:2:3: stages[0]: 'stage_goal' belongs in the first column of the stage (cell C2)",
        "grid.csv:3:3: stages[0].steps[1].id: expected an id: lower-case letters, digits, '-' and "
        "'_', starting with a letter or digit, at most 64 characters (got 'Bad Id') (cell C3)",
        "grid.csv:3:4: stages[1].steps[0]: a step needs an id (row 'step') or a name "
        "(row 'step_name') (cell D3)",
        "grid.csv:5:2: stages[0].steps[0].emotion.score: expected a number from -2 to 2 (got 9.0) "
        "(cell B5)",
        "grid.csv:5:3: stages[0].steps[1].emotion.score: expected a number (got 'x') (cell C5)",
        "grid.csv:7:2: stages[0].steps[0].touchpoints: expected 'id: name (channel)' "
        "(got 'web shop') (cell B7)",
        "grid.csv:8:3: stages[0].steps[1].touchpoints: expected an object by touchpoint id as "
        "JSON: Expecting property name enclosed in double quotes at character 2 (cell C8)",
        "grid.csv:9:1: (document): unknown row 'colour' (expected one of stage, stage_name, "
        "stage_description, stage_goal, stage_expectations, stage_kpis, step, step_name, "
        "description, actions, thoughts, emotion, emotion_label, emotion_note, touchpoints, "
        "touchpoint_descriptions, match, pain_points, pain_point_evidence, opportunities, "
        "frontstage, backstage, support, owners, kpis, moment_of_truth, expected_duration, "
        "evidence, custom:<lane id> or map.<field>) (cell A9)",
        "grid.csv:12:1: (document): unknown map row 'map.colour' (cell A12)",
    ]


def test_match_for_a_touchpoint_in_another_column() -> None:
    text = 'stage,s\nstep,a\nstep_name,A\nmatch,"{""nope"": []}"\n\nmap.title,T\n'
    assert _errors(text) == [
        "grid.csv:4:2: stages[0].steps[0].touchpoints: touchpoint 'nope' is not in this column (cell B4)"
    ]


def test_a_grid_without_stage_row() -> None:
    assert _errors("step,a\n\nmap.title,T\n") == [
        "grid.csv:1:1: stages: expected a 'stage' or 'stage_name' row naming each column's stage (cell A1)",
        "grid.csv:1:1: stages: a journey map needs at least one stage (cell A1)",
    ]


def test_spreadsheet_exports_with_bom_crlf_and_semicolons() -> None:
    text = (
        "\ufeffstage_name;Awareness, online;Purchase\r\n"
        'step_name;Sees an ad;"Pays\r\nonline"\r\n'
        "actions;Scrolls;\r\n"
        "\r\n"
        "map.title;Sneakers\r\n"
    )
    journey = from_csv(text, "excel.csv")
    assert [(s.name, [t.name for t in s.steps]) for s in journey.stages] == [
        ("Awareness, online", ["Sees an ad"]),
        ("Purchase", ["Pays\nonline"]),
    ]
    assert journey.step("sees-an-ad").actions == ["Scrolls"]
    tabbed = "stage\ts\nstep\tx\nstep_name\tX\n\nmap.title\tT\n"
    assert from_csv(tabbed).step("x").name == "X"


def test_unreadable_csv_is_a_located_error() -> None:
    with pytest.raises(DocumentError) as info:
        from_csv("map.title,T\nstage,s\nstep,a\rb\n", "bad.csv")
    assert [str(i) for i in info.value.issues] == [
        "bad.csv:3:1: (document): not valid CSV: new-line character seen in unquoted field - "
        "do you need to open the file in universal-newline mode? (cell A3)"
    ]
