"""Per-persona, per-step transition probabilities: declared, validated, seen in the raw files."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from tests.simulate.conftest import DAYS, START, mini_map
from tests.simulate.readers import Output

from journeylens.formats.io import DocumentError
from journeylens.model import Persona
from journeylens.simulate.plan import PlanError, build_plan, persona_defaults
from journeylens.simulate.run import simulate
from journeylens.simulate.scenario import parse_scenario

SCENARIO = """
behaviour:
  drop: 0.02
  loop: 0
  backtrack: 0
  skip: 0
  revisit_days: 0.5
  survey_rate: 0
  ticket_rate: 0
  social_rate: 0
  guest_share: 0
  personas:
    career-switcher:
      steps:
        checkout: {drop: 0.1, loop: 0.3}
    retiree:
      drop_factor: 1
      steps:
        checkout: {drop: 0.4, loop: 0.05}
"""


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    journey, personas = mini_map()
    scenario = parse_scenario(SCENARIO)
    root = tmp_path_factory.mktemp("behaviour")
    simulate(journey, personas, scenario, root, 6000, start=START, days=DAYS, seed=11)
    return root


def test_two_personas_walk_checkout_at_their_declared_rates(out: Path) -> None:
    o = Output(out)
    gen = {row["customer_id"]: row["generation"] for row in o.rows("crm")}
    ids = o.identities()
    persona_of = {ids[("user_id", c)]: ("retiree" if g == "baby_boomer" else "switcher")
                  for c, g in gen.items()}  # fmt: skip
    cutoff = START + timedelta(days=DAYS - 30)  # walks still under way at the end are cut
    visits: Counter[str] = Counter()
    reached: dict[str, set[str]] = {"retiree": set(), "switcher": set()}
    early: set[str] = set()
    ordered: set[str] = set()
    for c, t, src, r in o.events():
        if src == "web" and r.get("event") == "checkout_started":
            visits[c] += 1
            reached[persona_of[c]].add(c)
            if t.date() < cutoff:
                early.add(c)
        elif src == "orders":
            ordered.add(c)
    for persona, (drop, loop) in {"switcher": (0.1, 0.3), "retiree": (0.4, 0.05)}.items():
        group = reached[persona] & early
        v = sum(visits[c] for c in group)
        drops = sum(1 for c in group if c not in ordered)  # no order: left at checkout
        loops = v - len(group)  # every visit after a customer's first is a repeat
        assert len(group) > 400, persona
        # Per visit: drop with p_drop, repeat with p_loop, else go on to payment.
        assert drops / v == pytest.approx(drop, abs=0.035), persona
        assert loops / v == pytest.approx(loop, abs=0.035), persona


def test_persona_probabilities_are_validated_with_their_location() -> None:
    text = (
        "behaviour:\n"
        "  personas:\n"
        "    retiree:\n"
        "      drop: 0.5\n"
        "      steps:\n"
        "        checkout: {drop: 0.6, loop: 0.5}\n"
        "        landing: {skip: 1.2}\n"
    )
    with pytest.raises(DocumentError) as info:
        parse_scenario(text, "p.scenario.yaml")
    found = {(i.line, i.path) for i in info.value.issues}
    assert (6, "behaviour.personas.retiree.steps.checkout") in found
    assert (7, "behaviour.personas.retiree.steps.landing.skip") in found
    assert "expected ≤ 0.95" in str(info.value)


def test_unknown_step_and_a_crowded_combination_name_persona_and_step() -> None:
    journey, personas = mini_map()
    bad_step = parse_scenario("behaviour: {personas: {retiree: {steps: {nowhere: {drop: 0.1}}}}}")
    with pytest.raises(PlanError, match=r"behaviour.personas.retiree.steps names unknown step"):
        build_plan(journey, personas, bad_step, START, 30)
    # Each level is valid alone; together (step drop + persona loop) they leave no room.
    crowded = parse_scenario(
        "behaviour: {steps: {checkout: {drop: 0.6}}, personas: {retiree: {loop: 0.4}}}"
    )
    with pytest.raises(PlanError, match=r"persona 'retiree' at step 'checkout'.*= 1"):
        build_plan(journey, personas, crowded, START, 30)


def test_most_specific_probability_wins_and_defaults_follow_the_persona() -> None:
    journey, personas = mini_map()
    scenario = parse_scenario(
        "behaviour:\n"
        "  drop: 0.1\n  loop: 0.04\n  backtrack: 0.02\n  skip: 0.02\n"
        "  steps: {checkout: {drop: 0.3}}\n"
        "  personas:\n"
        "    career-switcher: {drop: 0.2, drop_factor: 2, steps: {browse: {loop: 0.25}}}\n"
    )
    plan = build_plan(journey, personas, scenario, START, 30)
    sw = [p.id for p in plan.personas].index("career-switcher")
    rt = [p.id for p in plan.personas].index("retiree")
    s = plan.step_ids.index
    assert plan.drop[sw, s("landing")] == pytest.approx(0.4)  # persona 0.2 × drop_factor 2
    assert plan.drop[sw, s("checkout")] == pytest.approx(0.6)  # step 0.3 beats persona 0.2
    assert plan.loop[sw, s("browse")] == pytest.approx(0.25)  # persona's own step value
    # The retiree declares nothing: baby boomer defaults (loop, backtrack ×1.25, skip ×0.8).
    assert plan.drop[rt, s("landing")] == pytest.approx(0.1)
    assert plan.loop[rt, s("landing")] == pytest.approx(0.05)
    assert plan.back[rt, s("landing")] == pytest.approx(0.025)
    assert plan.skip[rt, s("landing")] == pytest.approx(0.016)
    assert plan.back[rt, 0] == 0.0
    assert plan.skip[rt, -1] == 0.0


def test_persona_defaults_from_frustrations_and_generation() -> None:
    young = Persona(id="y", name="Y", frustrations=["a", "b", "c", "d", "e"],
                    demographics={"generation": "gen_z"})  # type: ignore[arg-type]  # fmt: skip
    assert persona_defaults(young) == (1.2, 0.85, 0.85, 1.25)
    assert persona_defaults(Persona(id="n", name="N")) == (1.0, 1.0, 1.0, 1.0)


@pytest.mark.parametrize("after", [0.0, 15.0])
def test_churning_customers_go_quiet_after_churn_after_days(tmp_path: Path, after: float) -> None:
    """With ``churn_after_days`` churning customers keep using the product for a while
    (mean ≈ that many days) and then leave no activity; without it they stop at once
    (only the NPS survey three days later)."""
    journey, personas = mini_map()
    scenario = parse_scenario(
        "behaviour: {drop: 0.02, loop: 0, backtrack: 0, skip: 0, revisit_days: 0.3,"
        f" churn: 0.5, churn_after_days: {after}, survey_rate: 0, ticket_rate: 0,"
        " social_rate: 0}"
    )
    simulate(journey, personas, scenario, tmp_path, 1500, start=START, days=240, seed=5)
    events = Output(tmp_path).events()
    end = START + timedelta(days=240)
    finished = {c: t for c, t, src, _ in events if src == "social"}  # the last step
    last: dict[str, object] = {}
    for c, t, _, _ in events:
        last[c] = t
    early = [c for c, t in finished.items() if t.date() < end - timedelta(days=150)]
    quiet = [c for c in early if last[c].date() < end - timedelta(days=60)]  # type: ignore[attr-defined]
    assert len(early) > 300
    assert len(quiet) / len(early) == pytest.approx(0.5, abs=0.07)
    used = [(last[c] - finished[c]).total_seconds() / 86400 for c in quiet]  # type: ignore[operator]
    mean_used = sum(used) / len(used)
    if after == 0:
        assert max(used) <= 3.01  # nothing after the NPS survey three days on
    else:
        # Retained-style visits every few days until a stop ~ Exp(15 days) away: the last
        # one lands a few days before the stop.
        assert 7 < mean_used < 17
