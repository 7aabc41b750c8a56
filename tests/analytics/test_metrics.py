"""Hand-computed examples of every part-A definition in METRICS.md, on every engine.

Each expected value is worked out in the comment next to it.
"""

from __future__ import annotations

import pytest
from tests.analytics.conftest import T0, Make, MakeEvents, at, log
from tests.analytics.reference import Ev

from journeylens.analytics import (
    AnalyticsError,
    flows,
    funnel,
    sessionize,
    sessions,
    sort_paths,
    step_matrix,
    top_paths,
    transitions,
)

# -- ordering ---------------------------------------------------------------------------------


def test_ties_keep_seq_order(make_events: MakeEvents) -> None:
    # Same instant: seq 1 (b) comes before seq 2 (a), whatever the row order.
    events = [Ev("u", T0, 2, "a"), Ev("u", T0, 1, "b"), Ev("u", at(5), 3, "c")]
    p = sort_paths(make_events(events))
    rows = p.frame.sort("pos").select("label", "pos", "next_label", "gap_s").collect().rows()
    assert rows == [("b", 1, "a", 0.0), ("a", 2, "c", 5.0), ("c", 3, None, None)]


# -- sessions ---------------------------------------------------------------------------------


def test_session_gap_exactly_timeout_stays(make_events: MakeEvents) -> None:
    # gaps: 1800 s (= timeout, same session), then 1801 s (> timeout, new session)
    events = log(("c", 0, "a"), ("c", 1800, "b"), ("c", 3601, "c"), ("d", 0, "a"))
    out = sessionize(make_events(events), timeout="30m").sort("seq").select("session_id")
    assert out.collect()["session_id"].to_list() == ["c#1", "c#1", "c#2", "d#1"]
    r = sessions(make_events(events), timeout=1800)
    # sessions: c#1 (2 events, 1800 s), c#2 (1, 0 s), d#1 (1, 0 s)
    assert (r.customers, r.sessions, r.events) == (2, 3, 4)
    assert r.events_per_session.mean == pytest.approx(4 / 3)
    assert r.duration_s.median == 0.0
    assert r.duration_s.mean == pytest.approx(600.0)
    # sessions per customer: c 2, d 1 → median 1.5, p90 = 1 + 0.9·1 = 1.9
    assert r.sessions_per_customer.median == pytest.approx(1.5)
    assert r.sessions_per_customer.p90 == pytest.approx(1.9)


def test_sessions_keep_source_ids(make: Make) -> None:
    lf = make(
        {
            "customer_id": ["c", "c", "c"],
            "event_name": ["a", "b", "c"],
            "occurred_at": [T0, at(10), at(7200)],
            "seq": [1, 2, 3],
            "session_id": ["web-1", None, None],
        }
    )
    out = sessionize(lf, keep_source=True).sort("seq").collect()["session_id"].to_list()
    # the first keeps the source's id; the others get computed ones (new session at 7200 s)
    assert out == ["web-1", "c#1", "c#2"]


def test_session_timeout_must_be_positive(make_events: MakeEvents) -> None:
    with pytest.raises(AnalyticsError, match="positive"):
        sessions(make_events(log(("c", 0, "a"))), timeout=0)


# -- transitions ------------------------------------------------------------------------------


TRANS = log(
    ("u1", 0, "a"),
    ("u1", 60, "b"),
    ("u1", 180, "a"),
    ("u2", 0, "a"),
    ("u2", 120, "b"),
)


def test_transitions_weights(make_events: MakeEvents) -> None:
    r = transitions(make_events(TRANS))
    # pairs: u1 a→b (60 s), b→a (120 s); u2 a→b (120 s). 5 events − 2 paths = 3.
    assert r.total_transitions == 3
    assert r.paths == 2
    got = {(t.from_, t.to): t for t in r.transitions}
    ab, ba = got[("a", "b")], got[("b", "a")]
    assert (ab.count, ab.unique_paths, ab.share, ab.probability) == (2, 2, 2 / 3, 1.0)
    assert ab.median_time_s == pytest.approx(90.0)  # median of 60, 120
    assert ab.p90_time_s == pytest.approx(114.0)  # 60 + 0.9·60
    assert (ba.count, ba.unique_paths, ba.probability, ba.median_time_s) == (1, 1, 1.0, 120.0)
    assert [(t.from_, t.to) for t in r.transitions] == [("a", "b"), ("b", "a")]


def test_transitions_with_markers(make_events: MakeEvents) -> None:
    r = transitions(make_events(TRANS), markers=True)
    got = {(t.from_, t.to): t for t in r.transitions}
    # + path_start→a ×2, a→path_end (u1), b→path_end (u2): 3 + 4 = 7
    assert r.total_transitions == 7
    assert got[("path_start", "a")].count == 2
    assert got[("path_start", "a")].median_time_s is None
    # leaving a: a→b 2, a→path_end 1 → P(b | a) = 2/3
    assert got[("a", "b")].probability == pytest.approx(2 / 3)
    assert got[("a", "path_end")].probability == pytest.approx(1 / 3)
    assert got[("b", "path_end")].probability == pytest.approx(1 / 2)


def test_transitions_single_event_paths_and_empty(make_events: MakeEvents) -> None:
    r = transitions(make_events(log(("u", 0, "a"), ("v", 0, "b"))))
    assert r.total_transitions == 0
    assert r.transitions == ()
    assert r.paths == 2
    empty = transitions(make_events([]))
    assert (empty.paths, empty.total_transitions, empty.transitions) == (0, 0, ())


# -- step matrix ------------------------------------------------------------------------------


def test_step_matrix_columns_sum_to_one(make_events: MakeEvents) -> None:
    events = log(("u1", 0, "a"), ("u1", 1, "b"), ("u1", 2, "c"), ("u2", 0, "a"), ("u3", 0, "b"))
    r = step_matrix(make_events(events), max_steps=3)
    rows = {row.event: row.shares for row in r.rows}
    # step 1: a (u1, u2) 2/3, b (u3) 1/3; step 2: b (u1) 1/3, end 2/3; step 3: c 1/3, end 2/3
    assert rows["a"] == pytest.approx((2 / 3, 0, 0))
    assert rows["b"] == pytest.approx((1 / 3, 1 / 3, 0))
    assert rows["c"] == pytest.approx((0, 0, 1 / 3))
    assert rows["path_end"] == pytest.approx((0, 2 / 3, 2 / 3))
    assert r.rows[-1].event == "path_end"
    for k in range(3):
        assert sum(row.shares[k] for row in r.rows) == pytest.approx(1.0)


def test_step_matrix_empty_and_bad_k(make_events: MakeEvents) -> None:
    r = step_matrix(make_events([]), max_steps=2)
    assert r.paths == 0
    assert [row.event for row in r.rows] == ["path_end"]
    with pytest.raises(AnalyticsError, match="max_steps"):
        step_matrix(make_events([]), max_steps=0)


# -- funnel -----------------------------------------------------------------------------------


def test_funnel_denominators_and_drop_off(make_events: MakeEvents) -> None:
    events = log(
        ("u1", 0, "a"),
        ("u1", 10, "b"),
        ("u1", 30, "c"),
        ("u2", 0, "a"),
        ("u2", 20, "b"),
        ("u2", 25, "z"),
        ("u3", 0, "a"),
        ("u4", 0, "x"),
    )
    r = funnel(make_events(events), ["a", "b", "c"])
    assert r.total_units == 4
    got = [(s.reached, s.conversion_from_start, s.step_conversion, s.share_of_all) for s in r.steps]
    assert got == [
        (3, 1.0, 3 / 4, 3 / 4),  # step 1: of all 4 units
        (2, 2 / 3, 2 / 3, 2 / 4),
        (1, 1 / 3, 1 / 2, 1 / 4),
    ]
    # times: b: 10, 20 → median 15, p90 19; c: 30
    assert r.steps[1].median_time_to_convert_s == pytest.approx(15.0)
    assert r.steps[1].p90_time_to_convert_s == pytest.approx(19.0)
    assert r.steps[2].median_time_to_convert_s == pytest.approx(30.0)
    # drop-off: at a u3 (path ended there); at b u2 (went on to z)
    assert (r.steps[0].dropped, r.steps[0].ended_share, r.steps[0].next_events) == (1, 1.0, ())
    assert r.steps[1].dropped == 1
    assert r.steps[1].ended_share == 0.0
    assert [(n.event, n.units) for n in r.steps[1].next_events] == [("z", 1)]
    assert r.steps[2].dropped == 0


@pytest.mark.parametrize(("gap", "reached_b"), [(60, 1), (61, 0)])
def test_funnel_window_edge(make_events: MakeEvents, gap: int, reached_b: int) -> None:
    # exactly at the window counts; one second past does not
    events = log(("u", 0, "a"), ("u", gap, "b"))
    r = funnel(make_events(events), ["a", "b"], window="60s")
    assert r.steps[1].reached == reached_b


def test_funnel_attempts_and_earliest_attempt_time(make_events: MakeEvents) -> None:
    # a@0, a@100, b@150. Window 60 s: attempt 1 fails (150 s), attempt 2 converts in 50 s.
    events = log(("u", 0, "a"), ("u", 100, "a"), ("u", 150, "b"))
    windowed = funnel(make_events(events), ["a", "b"], window=60)
    assert windowed.steps[1].reached == 1
    assert windowed.steps[1].median_time_to_convert_s == pytest.approx(50.0)
    # No window: order alone decides; the earliest attempt (a@0) reaches b in 150 s.
    plain = funnel(make_events(events), ["a", "b"])
    assert plain.steps[1].median_time_to_convert_s == pytest.approx(150.0)


def test_funnel_strict_order_with_ties(make_events: MakeEvents) -> None:
    # b and a at the same instant; seq puts b first, so a → b is not in order.
    events = [Ev("u", T0, 1, "b"), Ev("u", T0, 2, "a")]
    r = funnel(make_events(events), ["a", "b"])
    assert [s.reached for s in r.steps] == [1, 0]
    # the same step twice needs two distinct events
    twice = funnel(make_events(log(("v", 0, "a"))), ["a", "a"])
    assert [s.reached for s in twice.steps] == [1, 0]


def test_funnel_empty_and_errors(make_events: MakeEvents) -> None:
    r = funnel(make_events([]), ["a", "b"])
    assert r.total_units == 0
    assert [(s.reached, s.conversion_from_start, s.share_of_all) for s in r.steps] == [
        (0, None, None),
        (0, None, None),
    ]
    with pytest.raises(AnalyticsError, match="at least one step"):
        funnel(make_events([]), [])


# -- top paths and flows -------------------------------------------------------------------------


def test_top_paths_truncation_and_collapse(make_events: MakeEvents) -> None:
    events = log(
        ("u1", 0, "a"),
        ("u1", 1, "a"),
        ("u1", 2, "b"),
        ("u2", 0, "a"),
        ("u2", 1, "b"),
        ("u3", 0, "a"),
        ("u3", 1, "a"),
        ("u3", 2, "c"),
    )
    r = top_paths(make_events(events), max_length=2)
    # first two events: u1 (a, a)+, u2 (a, b), u3 (a, a)+ → (a, a) truncated ×2
    assert [(v.events, v.truncated, v.units) for v in r.variants] == [
        (("a", "a"), True, 2),
        (("a", "b"), False, 1),
    ]
    collapsed = top_paths(make_events(events), collapse=True)
    # a a b → a b; a b; a a c → a c
    assert [(v.events, v.units) for v in collapsed.variants] == [
        (("a", "b"), 2),
        (("a", "c"), 1),
    ]
    assert collapsed.variants[0].share == pytest.approx(2 / 3)


def test_flows_between_stages(make: Make) -> None:
    lf = make(
        {
            "customer_id": ["u1"] * 5 + ["u2"] * 2,
            "event_name": ["e"] * 7,
            "occurred_at": [at(s) for s in (0, 1, 2, 3, 4, 0, 1)],
            "seq": list(range(1, 8)),
            "stage_id": ["look", "look", None, "buy", "look", "look", "buy"],
            "stage_index": [1, 1, None, 2, 1, 1, 2],
        }
    )
    r = flows(lf, markers=False)
    # u1: look → buy → look (the unbound event is skipped, repeats collapse); u2: look → buy
    assert [(n.id, n.index, n.visits, n.units) for n in r.nodes] == [
        ("look", 1, 3, 2),
        ("buy", 2, 2, 2),
    ]
    assert [(x.source, x.target, x.value, x.units) for x in r.links] == [
        ("look", "buy", 2, 2),
        ("buy", "look", 1, 1),
    ]


def test_session_unit_needs_sessions(make_events: MakeEvents) -> None:
    with pytest.raises(AnalyticsError, match="sessionize"):
        transitions(make_events(log(("u", 0, "a"))), unit="session")


def test_session_unit_after_sessionize(make_events: MakeEvents) -> None:
    events = log(("u", 0, "a"), ("u", 10, "b"), ("u", 4000, "a"), ("u", 4010, "b"))
    r = funnel(sessionize(make_events(events)), ["a", "b"], unit="session")
    # two sessions, each a → b
    assert r.total_units == 2
    assert r.steps[1].reached == 2


def test_funnel_steps_as_rules_and_touchpoints(make: Make) -> None:
    from journeylens.model import MatchRule

    lf = make(
        {
            "customer_id": ["u1", "u1", "u2", "u2"],
            "event_name": ["view", "purchase", "view", "purchase"],
            "occurred_at": [at(0), at(10), at(0), at(20)],
            "seq": [1, 2, 3, 4],
            "properties": ['{"amount": 50}', '{"amount": 150}', "{}", '{"amount": 80}'],
        }
    )
    big = MatchRule.model_validate(
        {"event": "purchase", "where": [{"field": "properties.amount", "op": "gt", "value": 100}]}
    )
    r = funnel(lf, ["view", big])
    # only u1's purchase is over 100
    assert [(s.step, s.reached) for s in r.steps] == [("view", 2), ("purchase", 1)]
    assert r.steps[1].median_time_to_convert_s == pytest.approx(10.0)
