"""Reading rules backwards (satisfy), compiling maps (plan) and scenario files (errors)."""

from __future__ import annotations

import fnmatch

import pytest
from tests.simulate.conftest import START, mini_map

from journeylens.formats.io import DocumentError
from journeylens.model import MatchRule, Touchpoint
from journeylens.model.rules import AnyOf, Condition, NotOf
from journeylens.simulate.plan import PlanError, build_plan, compile_touchpoint, country_code
from journeylens.simulate.satisfy import UnsatisfiableRuleError, solve
from journeylens.simulate.scenario import Scenario, builtin_scenario, parse_scenario


def test_solve_glob_in_and_numeric_ranges() -> None:
    s = solve(
        [
            Condition(field="properties.path", op="glob", value="/learn/*/lesson-?"),
            Condition(field="properties.plan", op="in", value=["monthly", "yearly"]),
            Condition(field="value", op="gt", value=10),
            Condition(field="value", op="lt", value=12),
        ]
    ).fields
    assert all(
        fnmatch.fnmatchcase(str(p), "/learn/*/lesson-?") for p in s["properties.path"].candidates
    )
    assert s["properties.plan"].candidates == ("monthly", "yearly")
    assert (s["value"].low, s["value"].high, s["value"].integer) == (11.0, 11.0, True)


def test_solve_any_takes_first_satisfiable_branch_and_not_negates() -> None:
    rule = AnyOf(
        any=[Condition(field="x", op="eq", value=1), Condition(field="x", op="eq", value=2)]
    )
    assert solve([rule, Condition(field="x", op="ne", value=1)]).fields["x"].candidates == (2,)
    negated = NotOf(not_=Condition(field="plan", op="in", value=["free"]))
    assert solve([negated, Condition(field="plan", op="in", value=["free", "pro"])]).fields[
        "plan"
    ].candidates == ("pro",)


def test_unsatisfiable_rule_is_an_error_naming_the_field() -> None:
    with pytest.raises(UnsatisfiableRuleError, match="'value'"):
        solve(
            [Condition(field="value", op="gt", value=5), Condition(field="value", op="lt", value=3)]
        )


def _tp(**rule: object) -> Touchpoint:
    return Touchpoint(id="tp-x", name="X", channel="web", match=[MatchRule.model_validate(rule)])


def test_compile_touchpoint_picks_source_event_and_channel() -> None:
    e = compile_touchpoint(_tp(event="campaign_*", source="ads", channel="email"), 0, 0)
    assert (e.source, e.event, e.channel) == ("ads", "campaign_click", "email")
    e = compile_touchpoint(_tp(event="purchase"), 0, 0)  # source inferred from the event
    assert (e.source, e.channel) == ("sales", "web")
    e = compile_touchpoint(_tp(event="ticket_opened", channel="phone"), 0, 0)
    assert (e.source, e.channel) == ("support", "phone")


def test_compile_touchpoint_errors_name_the_touchpoint() -> None:
    with pytest.raises(PlanError, match=r"touchpoint 'tp-x': unsatisfiable match rule"):
        compile_touchpoint(
            _tp(event="page_view", where=[{"field": "properties.n", "op": "gt", "value": 3},
                                          {"field": "properties.n", "op": "lt", "value": 2}]),
            0, 0,
        )  # fmt: skip
    with pytest.raises(PlanError, match=r"touchpoint 'tp-x': source 'sales' has no column"):
        compile_touchpoint(
            _tp(event="purchase", source="sales", where=[{"field": "properties.colour", "value": "red"}]),
            0, 0,
        )  # fmt: skip
    with pytest.raises(PlanError, match=r"touchpoint 'tp-x': no source can emit"):
        compile_touchpoint(_tp(event="nps_response", source="web", channel="app"), 0, 0)


def test_plan_of_the_test_map() -> None:
    journey, personas = mini_map()
    plan = build_plan(journey, personas, Scenario(), START, 30)
    assert [plan.step_ids[i] for i in plan.identify_step.nonzero()[0]] == ["sign-up"]
    assert plan.step_ids[plan.conversion_step] == "payment"
    assert plan.persona_p.tolist() == pytest.approx([0.7, 0.3])


def test_effect_pointing_nowhere_is_an_error_naming_the_effect() -> None:
    journey, personas = mini_map()
    scenario = parse_scenario("effects:\n  - {kind: pain, id: p1, where: {step: nowhere}}\n")
    with pytest.raises(
        PlanError, match=r"effects\[0\] \(id 'p1'\): where.step: unknown step 'nowhere'"
    ):
        build_plan(journey, personas, scenario, START, 30)


def test_scenario_errors_carry_file_line_field_and_expectation() -> None:
    text = (
        "behaviour:\n"
        "  drop: 1.5\n"
        "effects:\n"
        "  - kind: friction\n"
        "    id: f1\n"
        "    where: {step: checkout}\n"
        "    drop_factor: -2\n"
        "  - kind: teleport\n"
        "    id: t1\n"
    )
    with pytest.raises(DocumentError) as info:
        parse_scenario(text, "my.scenario.yaml")
    found = [(i.line, i.path) for i in info.value.issues]
    assert (2, "behaviour.drop") in found
    assert (7, "effects[0].drop_factor") in found
    assert any(line == 8 and path.startswith("effects[1]") for line, path in found)
    assert all(i.file == "my.scenario.yaml" for i in info.value.issues)
    assert "expected a number at most 1 (got 1.5)" in str(info.value)


def test_where_needs_exactly_one_of_step_and_touchpoint() -> None:
    with pytest.raises(DocumentError, match="exactly one of step, touchpoint"):
        parse_scenario("effects:\n  - {kind: pain, id: p, where: {}}\n")


def test_builtin_online_course_scenario_fits_the_template() -> None:
    from journeylens.templates import get_template, get_template_personas

    scenario = builtin_scenario("online-course")
    assert scenario is not None
    kinds = {e.kind for e in scenario.effects}
    assert kinds == {"friction", "pain", "moment_of_truth", "channel_lift", "channel_preference",
                     "incident", "seasonality", "campaign_spike"}  # fmt: skip
    plan = build_plan(
        get_template("online-course"), get_template_personas("online-course"), scenario, START, 180
    )
    assert plan.step_ids[plan.conversion_step] == "pay"
    assert [plan.step_ids[i] for i in plan.identify_step.nonzero()[0]] == ["create-account"]


def test_country_codes_from_locations() -> None:
    assert country_code("Berlin, Germany") == "DE"
    assert country_code("somewhere") == "DE"


def test_behaviour_must_leave_room_to_continue() -> None:
    with pytest.raises(DocumentError, match=r"behaviour: drop \+ loop \+ backtrack \+ skip"):
        parse_scenario("behaviour: {drop: 0.5, loop: 0.3, backtrack: 0.2}\n", "x.scenario.yaml")


def test_maps_without_a_builtin_scenario_get_none() -> None:
    assert builtin_scenario("mini-course") is None
