"""Mermaid journey export / import: golden files, round trip, located syntax errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from tests.formats.strategies import journey_maps

from journeylens.formats import DocumentError, load_map
from journeylens.formats.mermaid import from_mermaid, slugify, to_mermaid, unique_id
from journeylens.model import Emotion, JourneyMap, Stage, Step

GOLDEN = Path(__file__).parents[1] / "golden" / "formats"


def test_export_of_course_map_matches_golden_file() -> None:
    journey = load_map(GOLDEN / "course.journey.yaml")
    assert to_mermaid(journey) == (GOLDEN / "course.mmd").read_text(encoding="utf-8")


def test_import_of_mermaid_docs_example() -> None:
    journey = from_mermaid((GOLDEN / "working-day.mmd").read_text(encoding="utf-8"), "day.mmd")
    assert journey.id == "my-working-day"
    assert journey.title == "My working day"
    assert journey.description == "A day at the office : tea first"
    outline = [
        (
            stage.id,
            stage.name,
            [(s.id, s.name, s.emotion.score if s.emotion else None, s.owners) for s in stage.steps],
        )
        for stage in journey.stages
    ]
    assert outline == [
        (
            "go-to-work",
            "Go to work",
            [
                ("make-tea", "Make tea", 2.0, ["Me"]),
                ("go-upstairs", "Go upstairs", 0.0, ["Me"]),
                ("do-work", "Do work", -2.0, ["Me", "Cat"]),
            ],
        ),
        (
            "go-home",
            "Go home",
            [
                ("go-downstairs", "Go downstairs", 2.0, ["Me"]),
                ("sit-down", "Sit down", 1.5, ["Me"]),
                ("do-work-2", "Do work", -1.0, []),  # ids stay unique across the map
            ],
        ),
    ]


def test_special_characters_and_keywords_survive() -> None:
    step = Step(id="a", name="title: #1; ok", emotion=Emotion(score=0.3), owners=["R&D, EU"])
    journey = JourneyMap(
        id="m", title="T #2", stages=[Stage(id="s", name="section x", steps=[step])]
    )
    text = to_mermaid(journey)
    assert text == (
        "journey\n"
        "  title T #35;2\n"
        "  section #115;ection x\n"
        "    title#58; #35;1#59; ok: 3.3: R&D#44; EU\n"
    )
    back = from_mermaid(text)
    assert back.title == "T #2"
    assert back.stages[0].name == "section x"
    assert back.stages[0].steps[0].name == "title: #1; ok"
    assert back.stages[0].steps[0].emotion == Emotion(score=0.3)
    assert back.stages[0].steps[0].owners == ["R&D, EU"]


def test_syntax_errors_are_all_reported_with_line_and_column() -> None:
    text = "journey\n  a: 3\nsection A\n  x: 9\n  y\n  z: 2: a: b\n  w: two\n"
    with pytest.raises(DocumentError) as info:
        from_mermaid(text, "bad.mmd")
    assert [str(i) for i in info.value.issues] == [
        "bad.mmd:2:3: (document): a task before the first section "
        "(expected 'section <stage name>' first)",
        "bad.mmd:4:6: (document): expected a score from 1 to 5 (got '9')",
        "bad.mmd:5:3: (document): expected '<step name>: <score 1-5>: <actors>' (got 'y')",
        "bad.mmd:6:3: (document): expected '<step name>: <score 1-5>: <actors>'; "
        "write ':' inside a name as '#58;' (got 'z: 2: a: b')",
        "bad.mmd:7:6: (document): expected a score from 1 to 5 (got 'two')",
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "x.mmd:1:1: (document): empty diagram (expected 'journey' first)"),
        (
            "%% only a comment\nflowchart LR\n",
            "x.mmd:2:1: (document): expected 'journey' first (got 'flowchart LR')",
        ),
        ("journey\n  title T\n", "x.mmd: (document): no sections (expected 'section <name>')"),
    ],
)
def test_not_a_journey_diagram(text: str, message: str) -> None:
    with pytest.raises(DocumentError) as info:
        from_mermaid(text, "x.mmd")
    assert str(info.value) == message


def test_slug_ids() -> None:
    used: set[str] = set()
    assert [unique_id(n, used, "step") for n in ["Pay!", "pay", "???", "Ärger über Gebühren"]] == [
        "pay",
        "pay-2",
        "step",
        "arger-uber-gebuhren",
    ]
    assert slugify("x" * 80) == "x" * 64


def _expected_name(name: str, ident: str) -> str:
    return " ".join(name.split()) or ident


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(journey_maps())
def test_round_trip_keeps_stages_steps_names_and_scores(journey: JourneyMap) -> None:
    text = to_mermaid(journey)
    back = from_mermaid(text)
    assert back.title == _expected_name(journey.title, journey.id)
    assert [
        (
            _expected_name(st.name, st.id),
            [
                (_expected_name(s.name, s.id), s.emotion.score if s.emotion else 0.0)
                for s in st.steps
            ],
        )
        for st in journey.stages
    ] == [
        (st.name, [(s.name, s.emotion.score if s.emotion else None) for s in st.steps])
        for st in back.stages
    ]
    # Mermaid text is a fixed point: what came from Mermaid goes back to the same text.
    assert to_mermaid(back) == text
