"""Each lint rule: a hand-written map that triggers it (exact message) and one that does not."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from journeylens.model import JourneyMap, Persona
from journeylens.model.lint import (
    RULES,
    RULES_BY_ID,
    LintFinding,
    Severity,
    has_errors,
    lint_map,
)


def _step(stage: str, n: int, channel: str, score: float) -> dict[str, Any]:
    return {
        "id": f"{stage}-{n}",
        "name": f"Step {n} of {stage}",
        "actions": ["Does something"],
        "thoughts": ["Thinks something"],
        "emotion": {"score": score, "label": "feeling"},
        "touchpoints": [
            {
                "id": f"{stage}-{n}-tp",
                "name": "Touchpoint",
                "channel": channel,
                "match": [{"event": f"{stage}_{n}", "source": "web"}],
            }
        ],
        "owners": ["Team"],
        "backstage": ["Something behind the scenes"],
        "evidence": [{"source": "data", "reference": "dashboard"}],
    }


def good_map() -> dict[str, Any]:
    """A map that passes every checklist rule: 3 stages × 4 steps, two channels, …"""
    stages: list[dict[str, Any]] = []
    for s, (sid, channel) in enumerate([("before", "web"), ("during", "email"), ("after", "web")]):
        steps = [_step(sid, n, channel, score=(n - 2) * 0.5 + s * 0.1) for n in range(4)]
        stages.append({"id": sid, "name": sid.title(), "goal": f"Goal of {sid}", "steps": steps})
    first: dict[str, Any] = stages[1]["steps"][0]
    first["pain_points"] = [
        {
            "id": "slow",
            "text": "Too slow",
            "severity": 4,
            "evidence": [{"source": "research", "reference": "interviews"}],
        }
    ]
    first["opportunities"] = [{"id": "faster", "text": "Make it faster"}]
    first["moment_of_truth"] = {"why": "It decides everything"}
    first["expected_duration"] = "2d"
    return {"id": "good", "title": "Good map", "personas": ["ann"], "stages": stages}


ANN = Persona(id="ann", name="Ann", preferred_channels=["web", "email"])


def lint(data: dict[str, Any], personas: dict[str, Persona] | None = None) -> list[LintFinding]:
    return lint_map(JourneyMap.model_validate(data), personas)


def only(findings: list[LintFinding], rule: str) -> list[tuple[str, str, str]]:
    return [(str(f.severity), f.path, f.message) for f in findings if f.rule == rule]


SUMMARY = (
    "bound to data: 12 of 12 touchpoints have match rules; backed by data or research: "
    "12 of 12 steps, 1 of 1 pain point; the rest is assumption"
)


def test_good_map_has_only_the_evidence_summary() -> None:
    findings = lint(good_map(), {"ann": ANN})
    assert [f.to_dict() for f in findings] == [
        {"rule": "evidence-vs-assumption", "severity": "info", "path": "", "message": SUMMARY}
    ]
    assert not has_errors(findings)


def test_rule_catalogue_is_data_with_unique_ids_and_descriptions() -> None:
    assert len({r.id for r in RULES}) == len(RULES) == len(RULES_BY_ID)
    assert all(r.description for r in RULES)
    assert RULES_BY_ID["persona-set"].severity is Severity.ERROR
    assert RULES_BY_ID["steps-per-stage"].to_dict() == {
        "id": "steps-per-stage",
        "severity": "warning",
        "description": "Each stage has 4–12 action steps, the articles' recommended range "
        "(counted per stage, since action steps are documented for each phase).",
    }


def test_finding_str_and_dict() -> None:
    f = LintFinding("step-has-emotion", Severity.WARNING, "stages[0].steps[1]", "step 'x' ...")
    assert str(f) == "stages[0].steps[1]: warning [step-has-emotion] step 'x' ..."
    assert f.to_dict()["severity"] == "warning"


def mutate(change: Any) -> dict[str, Any]:
    data = copy.deepcopy(good_map())
    change(data)
    return data


def _no_persona(d: dict[str, Any]) -> None:
    d["personas"] = []


def _two_personas(d: dict[str, Any]) -> None:
    d["personas"] = ["ann", "bob"]


def _two_stages(d: dict[str, Any]) -> None:
    del d["stages"][2]


def _stage_without_touchpoints(d: dict[str, Any]) -> None:
    for step in d["stages"][2]["steps"]:
        step["touchpoints"] = []


def _stage_without_goal(d: dict[str, Any]) -> None:
    d["stages"][0]["goal"] = ""


def _three_steps(d: dict[str, Any]) -> None:
    del d["stages"][2]["steps"][3]


def _thirteen_steps(d: dict[str, Any]) -> None:
    d["stages"][0]["steps"] += [_step("extra", n, "web", 0) for n in range(9)]


def _no_emotion(d: dict[str, Any]) -> None:
    del d["stages"][1]["steps"][2]["emotion"]


def _no_pain_points(d: dict[str, Any]) -> None:
    del d["stages"][1]["steps"][0]["pain_points"]


def _pain_without_evidence(d: dict[str, Any]) -> None:
    d["stages"][1]["steps"][0]["pain_points"][0]["evidence"] = []


def _no_opportunities(d: dict[str, Any]) -> None:
    del d["stages"][1]["steps"][0]["opportunities"]


def _one_channel(d: dict[str, Any]) -> None:
    for step in d["stages"][1]["steps"]:
        step["touchpoints"][0]["channel"] = "web"


def _to_be_alone(d: dict[str, Any]) -> None:
    d["scenario"] = {"kind": "to_be"}


def _all_assumption(d: dict[str, Any]) -> None:
    for stage in d["stages"]:
        for step in stage["steps"]:
            step["evidence"] = [{"source": "assumption"}]
            for tp in step["touchpoints"]:
                del tp["match"]


def _flat_emotions(d: dict[str, Any]) -> None:
    for stage in d["stages"]:
        for step in stage["steps"]:
            step["emotion"] = {"score": 1}


def _no_moment_of_truth(d: dict[str, Any]) -> None:
    del d["stages"][1]["steps"][0]["moment_of_truth"]


def _no_owners(d: dict[str, Any]) -> None:
    for stage in d["stages"]:
        for step in stage["steps"]:
            step["owners"] = []


def _no_expectation(d: dict[str, Any]) -> None:
    del d["stages"][1]["steps"][0]["expected_duration"]


def _no_backstage(d: dict[str, Any]) -> None:
    for stage in d["stages"]:
        for step in stage["steps"]:
            del step["backstage"]


STEP_RANGE = "4–12 action steps per stage is the recommended range"

CASES = [
    (
        "persona-set",
        _no_persona,
        [
            (
                "error",
                "personas",
                "no persona set: name the persona this map is for (personas: [<persona id>])",
            )
        ],
    ),
    (
        "one-point-of-view",
        _two_personas,
        [
            (
                "warning",
                "personas",
                "the map is for 2 personas ('ann', 'bob'): keep one point of view per map "
                "and make one map per persona",
            )
        ],
    ),
    (
        "begin-middle-end",
        _two_stages,
        [
            (
                "warning",
                "stages",
                "the journey has 2 stages; give it a beginning, a middle and an end "
                "(at least 3 stages)",
            )
        ],
    ),
    (
        "stage-has-touchpoints",
        _stage_without_touchpoints,
        [("warning", "stages[2]", "stage 'after' has no touchpoints")],
    ),
    (
        "stage-has-goal",
        _stage_without_goal,
        [("warning", "stages[0]", "stage 'before' has no goal")],
    ),
    (
        "steps-per-stage",
        _three_steps,
        [("warning", "stages[2]", f"stage 'after' has 3 steps; {STEP_RANGE}")],
    ),
    (
        "steps-per-stage",
        _thirteen_steps,
        [("warning", "stages[0]", f"stage 'before' has 13 steps; {STEP_RANGE}")],
    ),
    (
        "step-has-emotion",
        _no_emotion,
        [("warning", "stages[1].steps[2]", "step 'during-2' has no emotion")],
    ),
    (
        "pain-points-exist",
        _no_pain_points,
        [("warning", "", "the map documents no pain points")],
    ),
    (
        "pain-point-evidence",
        _pain_without_evidence,
        [
            (
                "warning",
                "stages[1].steps[0].pain_points[0]",
                "pain point 'slow' has no evidence "
                "(say whether it comes from research, data or assumption)",
            )
        ],
    ),
    (
        "opportunities-exist",
        _no_opportunities,
        [("warning", "", "the map lists no opportunities")],
    ),
    (
        "multi-channel",
        _one_channel,
        [
            (
                "warning",
                "",
                "the touchpoints use only 'web'; a journey crosses more than one channel",
            )
        ],
    ),
    (
        "to-be-names-as-is",
        _to_be_alone,
        [
            (
                "warning",
                "scenario",
                "a to-be map should name the as-is map it improves on (scenario.improves_on)",
            )
        ],
    ),
    (
        "backed-by-data",
        _all_assumption,
        [
            (
                "warning",
                "",
                "nothing on the map is backed by company data: bind touchpoints to events with "
                "match rules, or cite data as evidence",
            )
        ],
    ),
    (
        "evidence-vs-assumption",
        _all_assumption,
        [
            (
                "info",
                "",
                "bound to data: 0 of 12 touchpoints have match rules; backed by data or "
                "research: 0 of 12 steps, 1 of 1 pain point; the rest is assumption",
            )
        ],
    ),
    (
        "emotion-highs-lows",
        _flat_emotions,
        [("info", "", "all 12 emotions score 1: the story has no highs and lows")],
    ),
    (
        "moment-of-truth",
        _no_moment_of_truth,
        [("info", "", "no step is marked as a moment of truth")],
    ),
    (
        "owners-set",
        _no_owners,
        [
            (
                "info",
                "",
                "12 steps without owners: 'before-0', 'before-1', 'before-2', 'before-3', "
                "'during-0' and 7 more",
            )
        ],
    ),
    (
        "quantified-expectations",
        _no_expectation,
        [
            (
                "info",
                "",
                "no quantifiable expectation: give a KPI a target or a step an expected duration",
            )
        ],
    ),
    (
        "backstage-documented",
        _no_backstage,
        [("info", "", "no step documents backstage actions or support processes")],
    ),
]


@pytest.mark.parametrize(
    ("rule", "change", "expected"), CASES, ids=[f"{c[0]}-{c[1].__name__}" for c in CASES]
)
def test_rule_triggers_with_exact_message(
    rule: str, change: Any, expected: list[tuple[str, str, str]]
) -> None:
    findings = lint(mutate(change), {"ann": ANN})
    assert only(findings, rule) == expected
    assert RULES_BY_ID[rule].severity.value == expected[0][0]


@pytest.mark.parametrize("rule", sorted({c[0] for c in CASES} - {"evidence-vs-assumption"}))
def test_rule_silent_on_good_map(rule: str) -> None:
    assert only(lint(good_map(), {"ann": ANN}), rule) == []


def test_every_rule_has_a_triggering_case() -> None:
    covered = {c[0] for c in CASES} | {"persona-known", "persona-channels"}
    assert covered == set(RULES_BY_ID)


def test_persona_known_only_when_personas_given() -> None:
    data = good_map()
    assert only(lint(data, {}), "persona-known") == [
        ("error", "personas[0]", "unknown persona 'ann' (known personas: none)")
    ]
    bob = Persona(id="bob", name="Bob")
    assert only(lint(data, {"bob": bob}), "persona-known") == [
        ("error", "personas[0]", "unknown persona 'ann' (known personas: bob)")
    ]
    assert only(lint(data, None), "persona-known") == []
    assert only(lint(data, {"ann": ANN}), "persona-known") == []


def test_persona_channels() -> None:
    robert = Persona(
        id="ann",
        name="Ann",
        preferred_channels=["print", "phone", "web"],
    )
    assert only(lint(good_map(), {"ann": robert}), "persona-channels") == [
        (
            "warning",
            "personas[0]",
            "persona 'ann' prefers print, phone, but no touchpoint is on those channels",
        )
    ]
    one = Persona(id="ann", name="Ann", preferred_channels=["sms", "web"])
    assert only(lint(good_map(), {"ann": one}), "persona-channels") == [
        (
            "warning",
            "personas[0]",
            "persona 'ann' prefers sms, but no touchpoint is on that channel",
        )
    ]
    assert only(lint(good_map(), None), "persona-channels") == []


def test_multi_channel_without_touchpoints() -> None:
    data = good_map()
    for stage in data["stages"]:
        for step in stage["steps"]:
            step["touchpoints"] = []
    assert only(lint(data), "multi-channel") == [
        ("warning", "", "the touchpoints use no channel; a journey crosses more than one channel")
    ]


def test_minimal_map_findings_in_catalogue_order() -> None:
    data = {"id": "m", "title": "M", "stages": [{"id": "s", "name": "S"}]}
    assert [f.rule for f in lint(data)] == [
        "persona-set",
        "begin-middle-end",
        "stage-has-touchpoints",
        "stage-has-goal",
        "steps-per-stage",
        "pain-points-exist",
        "opportunities-exist",
        "multi-channel",
        "backed-by-data",
        "evidence-vs-assumption",
        "moment-of-truth",
        "quantified-expectations",
        "backstage-documented",
    ]
    assert has_errors(lint(data))
