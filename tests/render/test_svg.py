"""The SVG journey map: golden files per template, escaping, layout without overlaps."""

from __future__ import annotations

import difflib
import xml.etree.ElementTree as ET
from typing import Any

import pytest
from tests.render._fixtures import GOLDEN_DIR, UPDATE_GOLDEN, sample_figures

from journeylens.model import JourneyMap, Persona
from journeylens.model.journey import LaneConfig
from journeylens.render.figures import MapFigures, Measured, NodeFigures
from journeylens.render.svg import (
    RenderedMap,
    RenderOptions,
    TextBox,
    badge_texts,
    layout_map,
    render_map_svg,
)
from journeylens.render.text import clean_text
from journeylens.templates import TEMPLATE_NAMES, get_template, get_template_personas

SVG_NS = "{http://www.w3.org/2000/svg}"


def _check_golden(name: str, text: str) -> None:
    path = GOLDEN_DIR / name
    if UPDATE_GOLDEN or not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    expected = path.read_text(encoding="utf-8")
    if text != expected:
        diff = "".join(
            list(
                difflib.unified_diff(
                    expected.splitlines(keepends=True),
                    text.splitlines(keepends=True),
                    f"golden/{name}",
                    "rendered",
                )
            )[:80]
        )
        pytest.fail(
            f"{name} differs from the golden file (JOURNEYLENS_UPDATE_GOLDEN=1 to accept):\n{diff}"
        )


def _overlaps(boxes: tuple[TextBox, ...]) -> list[tuple[TextBox, TextBox]]:
    return [(a, b) for i, a in enumerate(boxes) for b in boxes[i + 1 :] if a.overlaps(b)]


def _texts(svg: str) -> list[str]:
    root = ET.fromstring(svg.encode("utf-8"))
    return [el.text or "" for el in root.iter(f"{SVG_NS}text")]


def _map(n_stages: int, steps_per_stage: list[int], *, text: str = "") -> JourneyMap:
    """A synthetic map with long texts in every lane (to stress wrapping)."""
    long = text or "a rather long sentence that will surely need to wrap over several lines"
    stages: list[dict[str, Any]] = []
    for s in range(n_stages):
        steps = []
        for k in range(steps_per_stage[s]):
            sid = f"s{s}-{k}"
            steps.append(
                {
                    "id": sid,
                    "name": f"Step {s}.{k} {long}",
                    "actions": [long, "short"],
                    "thoughts": [long],
                    "emotion": {"score": ((s + k) % 5) - 2, "label": "mixed"},
                    "touchpoints": [{"id": f"tp-{sid}", "name": long, "channel": "web"}],
                    "pain_points": [{"id": f"pp-{sid}", "text": long, "severity": 4}],
                    "opportunities": [{"id": f"op-{sid}", "text": long}],
                    "frontstage": [long],
                    "backstage": [long],
                    "support": [long],
                    "owners": ["Team"],
                }
            )
        stages.append({"id": f"st{s}", "name": f"Stage {s} {long}", "goal": long, "steps": steps})
    return JourneyMap.model_validate({"id": "synthetic", "title": long, "stages": stages})


# -- golden files -------------------------------------------------------------------------


@pytest.mark.parametrize("name", TEMPLATE_NAMES)
def test_designed_map_of_each_template_matches_its_golden_file(name: str) -> None:
    svg = render_map_svg(get_template(name), get_template_personas(name)[:1])
    _check_golden(f"{name}.svg", svg)


def test_live_online_course_map_matches_its_golden_file() -> None:
    journey = get_template("online-course")
    svg = render_map_svg(
        journey, get_template_personas("online-course")[:1], sample_figures(journey)
    )
    _check_golden("online-course-live.svg", svg)


def test_rendering_is_deterministic() -> None:
    journey = get_template("five-stage")
    assert render_map_svg(journey) == render_map_svg(journey)


# -- structure and accessibility -----------------------------------------------------------


def test_svg_has_title_desc_and_role() -> None:
    journey = get_template("aida")
    root = ET.fromstring(render_map_svg(journey).encode("utf-8"))
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == "jl-title jl-desc"
    title = root.find(f"{SVG_NS}title")
    desc = root.find(f"{SVG_NS}desc")
    assert title is not None
    assert title.text == f"Journey map: {journey.title}"
    assert desc is not None
    assert desc.text is not None
    assert "4 stages (Awareness, Interest, Decision, Action)" in (desc.text or "")


def test_lines_of_visibility_and_internal_interaction_are_drawn() -> None:
    boxes = layout_map(get_template("service-blueprint")).text_boxes
    y = {" ".join(b.lines): b.y for b in boxes if b.role in ("line-label", "lane-label")}
    # The line of visibility sits above the backstage lane, which sits above support.
    assert y["Frontstage"] < y["line of visibility"] < y["Backstage"]
    assert y["Backstage"] < y["line of internal interaction"] < y["Support processes"]


def test_lanes_follow_the_configured_order() -> None:
    journey = _map(1, [1])
    journey = journey.model_copy(
        update={"lanes": journey.lanes.model_copy(update={"order": ["owners", "actions"]})}
    )
    texts = _texts(render_map_svg(journey))
    assert texts.index("Owners") < texts.index("Customer actions")
    assert "Thoughts" not in texts  # lanes left out of the order are not drawn


def test_designed_map_has_no_badges_and_live_map_has_them() -> None:
    journey = get_template("online-course")
    designed = _texts(render_map_svg(journey))
    live = _texts(render_map_svg(journey, figures=sample_figures(journey)))
    assert not any(t.startswith("Reached ") for t in designed)
    assert "Reached 100,000" in live
    assert "NPS: too few answers (N=4)" in " ".join(live)  # third step: too few answers
    assert "✓ confirmed by data" in " ".join(live)


def test_badge_texts_hand_computed() -> None:
    fig = MapFigures(min_answers=10)
    node = NodeFigures(
        reached=12345,
        conversion=0.4523,
        drop_off=0.12,
        median_time_s=5400,
        nps=Measured(32.4, 240),
        csat=Measured(81.0, 9),
        ces=Measured(5.25, 88),
    )
    assert badge_texts(node, fig) == [
        "Reached 12,345",
        "Conversion 45.2%",
        "Drop-off 12.0%",
        "Median time 1.5 h",
        "NPS +32 (N=240)",
        "CSAT: too few answers (N=9)",
        "CES 5.2 (N=88)",
    ]


def test_measured_curve_leaves_a_gap_where_too_few_answered() -> None:
    journey = _map(1, [3])
    ids = [step.id for _, step in journey.iter_steps()]
    fig = MapFigures(
        steps={
            ids[0]: NodeFigures(emotion=Measured(1.0, 50)),
            ids[1]: NodeFigures(emotion=Measured(0.5, 3)),
            ids[2]: NodeFigures(emotion=Measured(-1.0, 50)),
        }
    )
    root = ET.fromstring(render_map_svg(journey, figures=fig).encode("utf-8"))
    dashed = [
        el
        for el in root.iter(f"{SVG_NS}polyline")
        if el.get("stroke") == "#D55E00"  # the measured curve
    ]
    # Points 1 and 3 are not neighbours once point 2 is withheld: no measured segment at all.
    assert dashed == []
    texts = _texts(render_map_svg(journey, figures=fig))
    assert "measured +1.0 (N=50)" in texts
    assert "measured: too few answers (N=3)" in texts


def test_figures_from_dict_round_trip_and_errors() -> None:
    fig = MapFigures.from_dict(
        {
            "population": "persona maya",
            "units": 10,
            "steps": {"a": {"reached": 5, "nps": {"value": 10.0, "n": 12}}},
            "confirmed_pain_points": ["p1"],
        }
    )
    assert fig.steps["a"].nps == Measured(10.0, 12)
    assert fig.confirmed_pain_points == frozenset({"p1"})
    with pytest.raises(ValueError, match=r"figures\.steps\.a\.reached: expected a whole number"):
        MapFigures.from_dict({"steps": {"a": {"reached": "many"}}})
    with pytest.raises(ValueError, match=r"figures: unknown key\(s\) stepz"):
        MapFigures.from_dict({"stepz": {}})
    with pytest.raises(ValueError, match=r"figures\.steps\.a\.nps\.n: expected the number"):
        MapFigures.from_dict({"steps": {"a": {"nps": {"value": 1.0}}}})


def test_figures_accept_any_object_with_to_dict() -> None:
    class Live:
        def to_dict(self) -> dict[str, Any]:
            return {"units": 7, "stages": {"st0": {"reached": 7}}}

    texts = _texts(render_map_svg(_map(1, [1]), figures=Live()))
    assert "Reached 7" in texts


# -- escaping -----------------------------------------------------------------------------

EVIL = [
    "<script>alert(1)</script>",
    '"><svg onload=alert(1)>',
    "]]><x>&amp;&lt;",
    "bell\x07null\x00 & done",
]


def _evil_map(evil: str) -> tuple[JourneyMap, Persona]:
    step = {
        "id": "s1",
        "name": evil,
        "description": evil,
        "actions": [evil],
        "thoughts": [evil],
        "emotion": {"score": 1, "label": evil},
        "touchpoints": [{"id": "t1", "name": evil, "channel": "web"}],
        "pain_points": [{"id": "p1", "text": evil}],
        "opportunities": [{"id": "o1", "text": evil, "owner": evil}],
        "frontstage": [evil],
        "backstage": [evil],
        "support": [evil],
        "owners": [evil],
        "moment_of_truth": {"why": evil},
        "custom": {"regs": [evil]},
    }
    journey = JourneyMap.model_validate(
        {
            "id": "evil",
            "title": evil,
            "description": evil,
            "owner": evil,
            "lanes": {
                "order": [*LaneConfig().order, "regs"],
                "custom": [{"id": "regs", "name": evil}],
            },
            "stages": [{"id": "a", "name": evil, "goal": evil, "steps": [step]}],
        }
    )
    persona = Persona.model_validate(
        {"id": "p", "name": evil, "quote": evil, "summary": evil, "goals": [evil]}
    )
    return journey, persona


@pytest.mark.parametrize("evil", EVIL)
def test_user_text_renders_as_text_never_as_markup(evil: str) -> None:
    journey, persona = _evil_map(evil)
    wide = RenderOptions(min_col_width=900, max_col_width=900)  # no wrapping: whole strings
    svg = render_map_svg(journey, [persona], options=wide)
    root = ET.fromstring(svg.encode("utf-8"))  # parses: the document is well-formed
    for el in root.iter():
        tag = el.tag.split("}")[-1]
        assert tag not in ("script", "foreignObject", "iframe", "x")
        assert not any(name.lower().startswith("on") for name in el.attrib)
    expected = clean_text(evil)
    texts = [el.text or "" for el in root.iter(f"{SVG_NS}text")]
    # Whole-field texts appear verbatim, as many times as the fields that show them alone.
    assert texts.count(expected) >= 8
    assert f"“{expected}”" in texts  # the thought
    assert f"Goal: {expected}" in texts
    title = root.find(f"{SVG_NS}title")
    assert title is not None
    assert title.text == f"Journey map: {expected}"


# -- layout --------------------------------------------------------------------------------


@pytest.mark.parametrize("name", TEMPLATE_NAMES)
def test_no_two_text_boxes_overlap_in_any_template(name: str) -> None:
    journey = get_template(name)
    rendered = layout_map(journey, get_template_personas(name), sample_figures(journey))
    assert rendered.text_boxes
    assert _overlaps(rendered.text_boxes) == []


@pytest.mark.parametrize(
    ("n_stages", "steps"),
    [(3, [1, 1, 1]), (12, [1] * 12), (12, [2] * 8 + [1] * 4)],
)
def test_three_to_twelve_stages_and_twenty_steps_stay_legible(
    n_stages: int, steps: list[int]
) -> None:
    journey = _map(n_stages, steps)
    rendered: RenderedMap = layout_map(journey, figures=sample_figures(journey))
    n_cols = sum(steps)
    options = RenderOptions()
    # Columns never shrink below the minimum: the canvas grows instead.
    assert (
        rendered.width >= options.margin * 2 + options.label_width + n_cols * options.min_col_width
    )
    assert _overlaps(rendered.text_boxes) == []
    # Every text box lies inside the canvas.
    for box in rendered.text_boxes:
        assert box.x >= 0
        assert box.x + box.width <= rendered.width
        assert box.y >= 0
        assert box.y + box.height <= rendered.height
    assert n_cols in (3, 12, 20)


def test_text_stays_inside_its_column() -> None:
    journey = _map(3, [1, 1, 1], text="x" * 300)  # one unbreakable 300-character word
    rendered = layout_map(journey)
    grid_x = RenderOptions().margin + RenderOptions().label_width
    col_w = (rendered.width - RenderOptions().margin - grid_x) / 3
    for box in rendered.text_boxes:
        if box.role in ("pain", "thought", "touchpoint", "opportunity", "step"):
            col = int((box.x - grid_x) // col_w)
            assert box.x + box.width <= grid_x + (col + 1) * col_w
