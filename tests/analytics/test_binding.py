"""Binding: rule semantics, precedence, unbound summary, outcomes and populations."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import pytest
from tests.analytics.conftest import Make

from journeylens.analytics import (
    BindingError,
    Population,
    bind,
    evaluate_outcomes,
    unbound_summary,
)
from journeylens.analytics.binding import glob_to_regex
from journeylens.model import Condition, JourneyMap, Persona

T0 = datetime(2024, 2, 1)


def shop_map(**extra: Any) -> JourneyMap:
    """Two stages; 'any_web' is a catch-all placed after the specific 'courses' touchpoint."""
    return JourneyMap.model_validate(
        {
            "id": "shop",
            "title": "Shop",
            "stages": [
                {
                    "id": "discover",
                    "name": "Discover",
                    "steps": [
                        {
                            "id": "browse",
                            "name": "Browse",
                            "touchpoints": [
                                {
                                    "id": "courses",
                                    "name": "Courses",
                                    "channel": "web",
                                    "match": [
                                        {
                                            "event": "page_*",
                                            "where": [
                                                {
                                                    "field": "properties.path",
                                                    "op": "glob",
                                                    "value": "/courses/*",
                                                }
                                            ],
                                        }
                                    ],
                                },
                                {
                                    "id": "any_web",
                                    "name": "Any web",
                                    "channel": "web",
                                    "match": [{"source": "web"}],
                                },
                            ],
                        }
                    ],
                },
                {
                    "id": "buy",
                    "name": "Buy",
                    "steps": [
                        {
                            "id": "pay",
                            "name": "Pay",
                            "touchpoints": [
                                {
                                    "id": "big_order",
                                    "name": "Big order",
                                    "channel": "web",
                                    "match": [
                                        {
                                            "event": "purchase",
                                            "where": [
                                                {
                                                    "field": "properties.amount",
                                                    "op": "ge",
                                                    "value": 100,
                                                }
                                            ],
                                        }
                                    ],
                                },
                                {
                                    "id": "order",
                                    "name": "Order",
                                    "channel": "app",
                                    "match": [{"event": ["purchase", "refund"]}],
                                },
                            ],
                        }
                    ],
                },
            ],
            **extra,
        }
    )


def events(make: Make) -> Any:
    rows = [
        # customer, hour, event, source, properties
        ("c1", 0, "page_view", "web", {"path": "/courses/python"}),
        ("c1", 1, "page_view", "web", {"path": "/about"}),
        ("c1", 2, "purchase", "app", {"amount": 120}),
        ("c2", 0, "purchase", "app", {"amount": "99.5"}),
        ("c2", 1, "ticket_opened", "support", None),
        ("c2", 2, "ticket_opened", "support", {}),
        ("c3", 0, "Page_View", "app", {"path": "/courses/x"}),
    ]
    return make(
        {
            "customer_id": [r[0] for r in rows],
            "occurred_at": [T0 + timedelta(hours=r[1]) for r in rows],
            "seq": list(range(1, len(rows) + 1)),
            "event_name": [r[2] for r in rows],
            "source": [r[3] for r in rows],
            "channel": ["web"] * len(rows),
            "properties": [None if r[4] is None else json.dumps(r[4]) for r in rows],
        }
    )


def test_bind_precedence_and_indexes(make: Make) -> None:
    bound = bind(events(make), shop_map())
    got = (
        bound.sort("seq")
        .select("touchpoint_id", "step_id", "stage_id", "stage_index", "step_index")
        .collect()
        .rows()
    )
    assert got == [
        ("courses", "browse", "discover", 1, 1),  # specific rule first in map order wins
        ("any_web", "browse", "discover", 1, 1),  # /about: only the catch-all matches
        ("big_order", "pay", "buy", 2, 2),  # amount 120 ≥ 100
        ("order", "pay", "buy", 2, 2),  # "99.5" is a number < 100 → the later touchpoint
        (None, None, None, None, None),
        (None, None, None, None, None),
        (None, None, None, None, None),  # globs are case-sensitive: Page_View ≠ page_*
    ]


def test_unbound_summary_counts_per_source_and_event(make: Make) -> None:
    s = unbound_summary(bind(events(make), shop_map()))
    assert (s.total_events, s.unbound_events) == (7, 3)
    assert s.unbound_share == pytest.approx(3 / 7)
    assert [(r.source, r.event_name, r.events) for r in s.rows] == [
        ("support", "ticket_opened", 2),
        ("app", "Page_View", 1),
    ]
    assert s.to_frame().num_rows == 2


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        # properties per row: {"path": /courses/python}, {/about}, {amount 120}, {"99.5"},
        # null, {}, {"path": "/courses/x"}
        ({"field": "properties.amount", "op": "gt", "value": 99}, [3, 4]),
        ({"field": "properties.amount", "op": "lt", "value": 100}, [4]),
        ({"field": "properties.amount", "op": "eq", "value": 120}, [3]),
        ({"field": "properties.path", "op": "eq", "value": "/about"}, [2]),
        ({"field": "properties.path", "op": "ne", "value": "/about"}, [1, 7]),
        ({"field": "properties.path", "op": "in", "value": ["/about", "/courses/x"]}, [2, 7]),
        ({"field": "properties.path", "op": "not_in", "value": ["/about"]}, [1, 7]),
        ({"field": "properties.path", "op": "regex", "value": "^/cour"}, [1, 7]),
        ({"field": "properties.path", "op": "glob", "value": "/courses/?"}, [7]),
        ({"field": "properties.path", "op": "exists"}, [1, 2, 7]),
        ({"field": "properties.path", "op": "missing"}, [3, 4, 5, 6]),
        ({"field": "source", "op": "eq", "value": "support"}, [5, 6]),
        ({"not": {"field": "properties.path", "op": "eq", "value": "/about"}}, [1, 3, 4, 5, 6, 7]),
        (
            {
                "any": [
                    {"field": "source", "op": "eq", "value": "support"},
                    {"all": [{"field": "event_name", "op": "glob", "value": "purch*"}]},
                ]
            },
            [3, 4, 5, 6],
        ),
    ],
)
def test_condition_operators(make: Make, condition: dict[str, Any], expected: list[int]) -> None:
    jm = JourneyMap.model_validate(
        {
            "id": "m",
            "title": "M",
            "stages": [
                {
                    "id": "s",
                    "name": "S",
                    "steps": [
                        {
                            "id": "x",
                            "name": "X",
                            "touchpoints": [
                                {
                                    "id": "t",
                                    "name": "T",
                                    "channel": "web",
                                    "match": [{"where": [condition]}],
                                }
                            ],
                        }
                    ],
                }
            ],
        }
    )
    bound = bind(events(make), jm).sort("seq").collect()
    hits = [
        s
        for s, tp in zip(bound["seq"].to_list(), bound["touchpoint_id"].to_list(), strict=True)
        if tp
    ]
    assert hits == expected


def test_unknown_field_is_a_clear_error(make: Make) -> None:
    jm = shop_map()
    jm.stages[0].steps[0].touchpoints[1].match[0].where = [Condition(field="nope", value=1)]
    with pytest.raises(
        BindingError, match=r"field 'nope' is not a column; the columns are: .*event_name"
    ):
        bind(events(make), jm)


def test_glob_translation() -> None:
    assert glob_to_regex("a.b*") == "^(?s:a\\.b.*)$"
    assert glob_to_regex("[!ab]x") == "^(?s:[^ab]x)$"


def test_outcomes_did_did_not_inactive_edge(make: Make) -> None:
    jm = shop_map(
        outcomes=[
            {"id": "bought", "name": "Bought", "did": {"event": "purchase"}},
            {"id": "no_ticket", "name": "No ticket", "did_not": {"event": "ticket_*"}},
            {"id": "churned", "name": "Churned", "inactive_days": 1, "polarity": "negative"},
        ]
    )
    # as_of = T0 + 1 day + 2 h: c1 and c2 last seen at 2 h → exactly 1 day inactive counts;
    # c3 last seen at 0 h → 1 day 2 h inactive.
    out = evaluate_outcomes(events(make), jm, as_of=T0 + timedelta(days=1, hours=2))
    assert sorted(out.collect().rows()) == [
        ("c1", True, True, True),
        ("c2", True, False, True),
        ("c3", False, True, True),
    ]
    # default as_of = the last event (T0 + 2 h): nobody has been inactive a whole day
    default = evaluate_outcomes(events(make), jm).select("unit_id", "churned").collect().rows()
    assert sorted(default) == [("c1", False), ("c2", False), ("c3", False)]


def test_population_segment_attributes_and_window(make: Make) -> None:
    customers = make(
        {
            "customer_id": ["c1", "c2", "c3"],
            "generation": ["gen_z", "millennial", "gen_z"],
            "attributes": [json.dumps({"tier": "gold"}), json.dumps({"tier": "silver"}), None],
        }
    )
    persona = Persona.model_validate(
        {"id": "young", "name": "Young", "segment": {"field": "generation", "value": "gen_z"}}
    )
    pop = Population.for_persona(persona)
    got = pop.apply(events(make), customers).select("customer_id").unique().collect()
    assert sorted(got["customer_id"].to_list()) == ["c1", "c3"]
    # an attribute that is not a column is read from the JSON attributes
    gold = Population(attributes={"tier": "gold"}).apply(events(make), customers)
    assert gold.select("customer_id").unique().collect()["customer_id"].to_list() == ["c1"]
    # time window [1 h, 2 h): only the events at hour 1
    window = Population(start=T0 + timedelta(hours=1), end=T0 + timedelta(hours=2))
    assert sorted(window.apply(events(make)).collect()["seq"].to_list()) == [2, 5]
    with pytest.raises(ValueError, match="customers frame"):
        pop.apply(events(make))
