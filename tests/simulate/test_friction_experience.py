"""Friction also shows in the experience data: more tickets, lower CSAT, angrier comments.

A small run where every mobile checkout is affected (painful_share 1): the tickets, survey
scores and comments about the checkout page are compared between mobile and desktop
customers, computed from the raw files.
"""

from __future__ import annotations

import pytest
from tests.simulate.conftest import START, mini_map
from tests.simulate.readers import Output

from journeylens.simulate.run import simulate
from journeylens.simulate.scenario import parse_scenario
from journeylens.simulate.text import COMMENTS

SCENARIO = """
behaviour: {loop: 0, backtrack: 0, skip: 0, survey_rate: 0.6, ticket_rate: 0.01, social_rate: 0}
effects:
  - kind: friction
    id: mobile-checkout
    where: {touchpoint: checkout-page}
    who: {device_type: [mobile]}
    drop_factor: 1
    ticket_factor: 4
    painful_share: 1
"""


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Output:
    journey, personas = mini_map()
    root = tmp_path_factory.mktemp("friction")
    simulate(
        journey, personas, parse_scenario(SCENARIO), root, 6000, start=START, days=112, seed=21
    )
    return Output(root)


def _groups(out: Output) -> tuple[dict[str, bool], list[tuple[str, object, str, dict[str, str]]]]:
    events = out.events()
    mobile = {
        c: r["context"]["device"]["type"] == "mobile"
        for c, _, src, r in events
        if src == "web" and r.get("event") == "checkout_started"
    }
    return mobile, events


def test_affected_visits_open_more_tickets(out: Output) -> None:
    mobile, events = _groups(out)
    ticketed = {
        c for c, _, src, r in events if src == "support" and "Checkout page" in r["subject"]
    }
    rate = {
        flag: sum(c in ticketed for c, m in mobile.items() if m == flag)
        / sum(m == flag for m in mobile.values())
        for flag in (True, False)
    }
    # tickets ×4 (ticket_factor) and ×5 for a painful visit: 0.01 → 0.2
    assert rate[True] == pytest.approx(0.2, abs=0.04)
    assert rate[False] == pytest.approx(0.01, abs=0.01)


def test_affected_visits_get_low_scores_and_painful_comments(out: Output) -> None:
    mobile, events = _groups(out)
    painful = {p.format(tp="Checkout page") for p in COMMENTS[2]}
    scores: dict[bool, list[int]] = {True: [], False: []}
    comments: dict[bool, list[str]] = {True: [], False: []}
    for c, _, src, r in events:
        if src == "surveys" and r["touchpoint"] == "checkout-page" and r["survey_type"] == "csat":
            scores[mobile[c]].append(int(r["score"]))
            if r["comment"]:
                comments[mobile[c]].append(r["comment"])
    assert len(scores[True]) > 100
    assert set(scores[True]) <= {1, 2}  # painful: CSAT 1–2
    # good (60%): 4–5, neutral: 3–4 → mean 0.6 * 4.5 + 0.4 * 3.5 = 4.1
    assert sum(scores[False]) / len(scores[False]) == pytest.approx(4.1, abs=0.15)
    assert set(comments[True]) <= painful
    assert not set(comments[False]) & painful
