"""Per-persona breakdowns from the map's personas (segment rules on customer attributes),
without a prepared ``persona`` column: survey metrics by persona and channel use per
persona, hand-computed, on DuckDB and Polars.

Customers: ``a`` gen Z on the pro plan (plan in the JSON ``attributes``), ``b`` a baby
boomer, ``c`` gen Z on the free plan; ``d`` has events but no customer row. Personas:
``young`` (generation in [gen_z]) = a, c; ``pro`` (plan = pro, read from ``attributes``)
= a; ``everyone`` (no segment rule) = every event.
"""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from tests.analytics.conftest import Make

from journeylens.analytics._common import AnalyticsError
from journeylens.analytics.channels import channel_use
from journeylens.analytics.personas import with_personas
from journeylens.analytics.survey import survey_metrics
from journeylens.model import Persona

YOUNG = Persona.model_validate(
    {"id": "young", "name": "Young", "segment": {"field": "generation", "op": "in",
                                                  "value": ["gen_z"]}}
)  # fmt: skip
PRO = Persona.model_validate(
    {"id": "pro", "name": "Pro", "segment": {"field": "plan", "op": "eq", "value": "pro"}}
)
EVERYONE = Persona.model_validate({"id": "everyone", "name": "Everyone"})
PERSONAS = [YOUNG, PRO, EVERYONE]


def _customers(make: Make):  # type: ignore[no-untyped-def]
    return make(
        {
            "customer_id": ["a", "b", "c"],
            "generation": ["gen_z", "baby_boomer", "gen_z"],
            "attributes": [json.dumps({"plan": p}) for p in ("pro", "free", "free")],
        }
    )


def _events(make: Make):  # type: ignore[no-untyped-def]
    """a: NPS 10 and 9 on web, a web visit, an app visit; b: NPS 0 on web; c: NPS 8 on
    app; d: NPS 10 by email."""
    who = ["a", "a", "a", "a", "b", "c", "d"]
    return make(
        {
            "customer_id": who,
            "unit_id": who,
            "event_name": ["nps_response"] * 2
            + ["page_view", "screen_view"]
            + ["nps_response"] * 3,
            "occurred_at": [datetime(2024, 1, 1, h) for h in range(7)],
            "channel": ["web", "web", "web", "app", "web", "app", "email"],
            "score": [10.0, 9.0, None, None, 0.0, 8.0, 10.0],
            "score_type": ["nps", "nps", None, None, "nps", "nps", "nps"],
        }
    )


def test_survey_by_persona_from_segment_rules(make: Make) -> None:
    r = survey_metrics(
        _events(make), by="persona", personas=PERSONAS, customers=_customers(make),
        min_answers=1,
    )  # fmt: skip
    got = {(row.group, row.score_type): (row.n, row.value) for row in r.rows}
    assert got == {
        # everyone: 10, 9, 0, 8, 10 → P = 3, D = 1, N = 5 → 100·(3 − 1)/5
        ("everyone", "nps"): (5, pytest.approx(40.0)),
        # pro = a: 10, 9 → P = 2 of 2
        ("pro", "nps"): (2, pytest.approx(100.0)),
        # young = a, c: 10, 9, 8 → P = 2, D = 0, N = 3
        ("young", "nps"): (3, pytest.approx(200 / 3)),
    }
    # Groups sort by name; the boomer b counts only in "everyone".
    assert [row.group for row in r.rows] == ["everyone", "pro", "young"]


def test_channel_use_per_persona_from_segment_rules(make: Make) -> None:
    r = channel_use(_events(make), personas=PERSONAS, customers=_customers(make))
    got = [(x.persona, x.channel, x.events, x.share_of_events, x.units, x.share_of_units)
           for x in r.rows]  # fmt: skip
    assert got == [
        # everyone: 7 events of 4 units; web 4 (a a a b), app 2 (a c), email 1 (d)
        ("everyone", "web", 4, pytest.approx(4 / 7), 2, 0.5),
        ("everyone", "app", 2, pytest.approx(2 / 7), 2, 0.5),
        ("everyone", "email", 1, pytest.approx(1 / 7), 1, 0.25),
        # pro = a: 3 web, 1 app
        ("pro", "web", 3, 0.75, 1, 1.0),
        ("pro", "app", 1, 0.25, 1, 1.0),
        # young = a, c: web 3 (a), app 2 (a, c) of 5 events, 2 units
        ("young", "web", 3, 0.6, 1, 0.5),
        ("young", "app", 2, 0.4, 2, 1.0),
    ]
    assert r.get("young", "app") is not None
    assert r.get("young", "email") is None


def test_persona_rules_need_the_customers_frame(make: Make) -> None:
    with pytest.raises(AnalyticsError, match="pass the customers frame"):
        with_personas(_events(make), [YOUNG], None)
    with pytest.raises(AnalyticsError, match="at least one persona"):
        with_personas(_events(make), [], _customers(make))
