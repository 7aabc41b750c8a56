"""The data shows who finished the journey as the ground truth does (issue 5).

Churn is planted on customers who finish the journey, and analytics find them as the units
with a record at the map's last step. Three things keep the two the same population:

* reaching the last step is finishing (no drop-off there: leaving afterwards is the
  churn decision, with its planted factors), so every customer with a record at the last
  step is one the ground truth counts as completed;
* a campaign touchpoint whose rule names its campaign (``campaign_id eq next_course``)
  writes rows of that campaign, so the map binds them — the online-course map's last step
  is the ``next_course`` follow-up email, which was written as ``CMP-000`` and bound to
  nothing, leaving most finishers invisible;
* whether the listening tool knows a social author is the author's property (40% of
  identified authors), not each post's: per post, a customer who posts more — one who stays
  — would be stitched more often, and their posts credited with their staying.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from pathlib import Path

import pytest
from tests.simulate.conftest import DAYS, START, mini_map
from tests.simulate.readers import Output, parse_time

from journeylens.formats.io import find_personas, load_map
from journeylens.simulate.run import simulate
from journeylens.simulate.scenario import builtin_scenario, parse_scenario
from journeylens.templates import create_from_template

# Half of the customers leave at every step (the last one included, were it a step one
# could leave); nothing else writes social mentions, so a mention is a visit to the last
# step ("share").
HALVING = """
behaviour:
  drop: 0.5
  loop: 0
  backtrack: 0
  skip: 0
  survey_rate: 0
  ticket_rate: 0
  social_rate: 0
  guest_share: 0
"""


def test_every_customer_at_the_last_step_has_finished(tmp_path: Path) -> None:
    journey, personas = mini_map()
    result = simulate(journey, personas, parse_scenario(HALVING), tmp_path, 20000, start=START,
                      days=DAYS, seed=11)  # fmt: skip
    out = Output(result.out)
    ids = out.identities()
    at_last = {ids[("social_handle", r["author_handle"])] for r in out.rows("social")}
    completed = out.truth()["outcomes"]["completed"]
    # 20,000 × 0.5^10 steps ≈ 20 reach the end: enough to tell "all of them" from "half".
    assert len(at_last) >= 8
    assert completed == len(at_last)


@pytest.fixture(scope="module")
def course(tmp_path_factory: pytest.TempPathFactory) -> Output:
    root = tmp_path_factory.mktemp("finishers")
    (root / "maps").mkdir()
    create_from_template("online-course", root / "maps")
    journey = load_map(root / "maps" / "online-course.journey.yaml")
    found = find_personas(root / "maps")
    scenario = builtin_scenario(journey.id)
    assert scenario is not None
    simulate(journey, [found[k][1] for k in sorted(found)], scenario, root / "raw", 3000,
             seed=5)  # fmt: skip
    return Output(root / "raw")


def test_campaign_rows_carry_the_campaign_their_rule_names(course: Output) -> None:
    rows = list(course.rows("campaigns"))
    ids = {r["campaign_id"] for r in rows}
    named = {"newsletter", "onboarding", "next_course"}  # the online-course map's rules
    assert named <= ids
    assert {i for i in ids if i not in named} == {f"CMP-{i:03d}" for i in range(5)}
    follow_up = [r for r in rows if r["campaign_id"] == "next_course"]
    assert {(r["channel"], r["interaction"]) for r in follow_up} <= {
        ("email", "open"),
        ("email", "click"),
    }
    assert {r["campaign_name"] for r in follow_up} == {"next_course"}
    # The newsletter the scenario's channel lift names keeps its name on every row.
    assert {r["campaign_name"] for r in rows if r["campaign_id"] == "newsletter"} == {"newsletter"}


def test_a_known_social_author_is_known_on_every_post_once_identified(course: Output) -> None:
    ids = course.identities()
    posts: dict[str, list[tuple[datetime, bool]]] = defaultdict(list)
    for r in course.rows("social"):
        posts[r["author_handle"]].append((parse_time(r["created_at"]), bool(r["customer_id"])))
    for handle, seen in posts.items():
        seen.sort()
        flags = [f for _, f in seen]
        if any(flags):
            # Identification is for good: after the first post carrying the id, all do.
            assert all(flags[flags.index(True) :]), handle
    # Authors who posted after the day they signed up (CRM): 40% of them are known.
    person = {v: c for (t, v), c in ids.items() if t == "social_handle"}
    signup = {ids[("user_id", r["customer_id"])]: r["signup_date"] for r in course.rows("crm")}
    after = {
        h
        for h, seen in posts.items()
        if person[h] in signup and any(t.date().isoformat() > signup[person[h]] for t, _ in seen)
    }
    known = {h for h in after if any(f for _, f in posts[h])}
    assert len(after) > 200
    assert len(known) / len(after) == pytest.approx(0.4, abs=0.07)
