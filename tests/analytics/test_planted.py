"""On simulator data with planted effects, the outcome analytics find each planted effect
and rank it first among features of its kind (issue 5).

One 10,000-customer run of the built-in online-course story (seed 42) is simulated,
ingested and stitched into a workspace, and bound to the map. The effects that act on an
outcome are:

* ``first-lesson`` (moment of truth): a bad first lesson makes churn after the journey
  ×3. Its kind is a **survey moment at step level**: the signal ``survey`` of
  :func:`~journeylens.analytics.moments.moments_of_truth` (good vs bad answers) with
  ``level="step"``; the planted step must be the first of that ranking.
* ``help-needed-churn`` (pain): reaching ``get-help`` makes churn ×2. Its kind is a
  **step** feature of :func:`~journeylens.analytics.outcomes.compare_outcome`.

Both plant churn *after finishing the journey*, so the population is the one the ground
truth realises them on (docs/usage/simulate.md): customers who reached the map's last step
at least ``inactive_days`` (60) before the end of the data, with the map's churn outcome
(no activity in the last 60 days).

The simulator writes what the map can see of those finishers: a visit to the last step
(``enrol-next``: the follow-up email of the ``next_course`` campaign, or a loyalty redeem)
is a campaign row of the campaign its rule names, reaching the last step is finishing (the
churn decision follows it), and a social account is known per author, not per post; so
the data's finishers and their churn are nearly the ground truth's (see the pain test).

Their events are cut at finishing (the unit's first event at the last step): features and
survey answers are the ones observed *before* the churn outcome starts to be observed.
METRICS.md defines the comparison on the events it is given and does not fix this cut-off;
it is the caller's choice of exposure window, made here because an event after finishing
exists more often for a customer who stays (returning visits of retained customers), so
counting it credits the step with the customer's survival, not with their experience of it.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import narwhals as nw
import pytest

from journeylens.analytics.binding import bind, evaluate_outcomes
from journeylens.analytics.moments import moments_of_truth
from journeylens.analytics.outcomes import compare_outcome
from journeylens.cli.ingest import manifest_specs
from journeylens.engine.frames import TIME, cache, to_lazy
from journeylens.engine.workspace import Workspace
from journeylens.events.runner import ingest
from journeylens.events.stitch import stitch
from journeylens.formats.io import find_personas, load_map
from journeylens.simulate.run import simulate
from journeylens.simulate.scenario import builtin_scenario
from journeylens.templates import create_from_template

pytestmark = pytest.mark.slow

CUSTOMERS = 10_000
SEED = 42


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The simulated, ingested, stitched and bound run; finishers and their churn outcome."""
    root = tmp_path_factory.mktemp("planted")
    ws = Workspace.init(root / "ws")
    create_from_template("online-course", ws.maps_dir)
    journey = load_map(ws.maps_dir / "online-course.journey.yaml")
    found = find_personas(ws.maps_dir)
    scenario = builtin_scenario(journey.id)
    assert scenario is not None
    simulate(journey, [found[k][1] for k in sorted(found)], scenario, root / "raw", CUSTOMERS,
             seed=SEED)  # fmt: skip
    truth = json.loads((root / "raw" / "ground_truth.json").read_text("utf-8"))
    con = ws.store.connect()
    ingest(con, manifest_specs(root / "raw"))
    con.execute("BEGIN TRANSACTION")
    stitch(con, max_users_per_identity=ws.max_users_per_identity)
    con.execute("COMMIT")
    bound = cache(bind(to_lazy(con.table("events")), journey))
    as_of = bound.select(nw.col(TIME).max()).collect().item()
    churn = next(o for o in journey.outcomes if o.inactive_days is not None)
    assert churn.inactive_days is not None
    last_step = [s.id for _, s in journey.iter_steps()][-1]
    finished = (
        bound.filter(nw.col("step_id") == last_step)
        .group_by("unit_id")
        .agg(nw.col(TIME).min().alias("_done"))
        .filter(nw.col("_done") <= nw.lit(as_of - timedelta(days=churn.inactive_days)))
        .select("unit_id")
    )
    everything = cache(bound.join(finished, on="unit_id", how="semi"))
    # The outcome from all their events; the features from events up to finishing only
    # (module docstring).
    outcomes = cache(evaluate_outcomes(everything, [churn], as_of=as_of))
    done = (
        everything.filter(nw.col("step_id") == last_step)
        .group_by("unit_id")
        .agg(nw.col(TIME).min().alias("_done"))
    )
    pop = cache(
        everything.join(done, on="unit_id").filter(nw.col(TIME) <= nw.col("_done")).drop("_done")
    )
    effects = {e["id"]: e for e in truth["effects"]}
    return {"journey": journey, "pop": pop, "outcomes": outcomes, "churn": churn.id,
            "effects": effects, "con": con}  # fmt: skip


def test_moment_of_truth_is_the_first_survey_moment(run: dict[str, Any]) -> None:
    realised = run["effects"]["first-lesson"]["realised"]
    # Realised strongly enough to be found at this N: among customers who finished early
    # enough, a bad first lesson churns 60% vs 17% (×3.6 in this run).
    assert realised["inactive_60d_rate_exposed"] / realised["inactive_60d_rate_other"] >= 2
    mot = moments_of_truth(
        run["pop"], run["outcomes"], run["churn"], level="step", signals=["survey"],
        journey_map=run["journey"],
    )  # fmt: skip
    top = mot.moments[0]
    assert top.location == "first-lesson"
    assert top.significant
    assert top.rate_bad is not None
    assert top.rate_good is not None
    assert top.rate_bad > top.rate_good  # a bad first lesson goes with more churn
    # give-feedback (the NPS) is significant too, and rightly: a survey answer reflects the
    # journey so far, and every customer who hit the get-help pain answers it badly — that
    # pain doubles churn. It is that pain's echo, not a moment of its own: without the units
    # that reached get-help it is not significant (bad answers 19% churn, good 22%, q 0.68,
    # in this run) and first-lesson is still the first moment.
    assert {m.location for m in mot.significant()} <= {"first-lesson", "give-feedback"}
    helped = run["pop"].filter(nw.col("step_id") == "get-help").select("unit_id").unique()
    without = moments_of_truth(
        run["pop"].join(helped, on="unit_id", how="anti"),
        run["outcomes"].join(helped, on="unit_id", how="anti"),
        run["churn"], level="step", signals=["survey"], journey_map=run["journey"],
    )  # fmt: skip
    assert "give-feedback" not in {m.location for m in without.significant()}
    assert without.moments[0].location == "first-lesson"


def test_pain_step_is_the_first_step_feature(run: dict[str, Any]) -> None:
    realised = run["effects"]["help-needed-churn"]["realised"]
    assert realised["inactive_60d_rate_exposed"] / realised["inactive_60d_rate_other"] >= 1.5
    cmp = compare_outcome(run["pop"], run["outcomes"], run["churn"], features=["step"])
    top = cmp.features[0]
    assert (top.feature, top.significant) == ("get-help", True)
    assert top.odds_ratio is not None
    assert top.odds_ratio > 1
    # The data's finishers are nearly the ground truth's (763 here, of whom 751 really
    # finished 60 days before the end, of 817 who did): the comparison sees the population
    # the effect was planted on, and get-help's churn gap is the planted one (46% vs 23%;
    # ground truth 46% vs 21%).
    assert 700 <= cmp.units <= 850
    assert top.rate_with is not None
    assert top.rate_without is not None
    assert top.rate_with / top.rate_without >= 1.5
