"""Survey metrics by stage, step, touchpoint, persona and period, on every engine."""

from __future__ import annotations

import json
import math
from datetime import datetime

import pytest
from tests.analytics_b.conftest import Make
from tests.analytics_b.maps import shop_map

from journeylens.analytics.survey import TOO_FEW, survey_metrics

NPS = [10, 10, 9, 9, 9, 8, 7, 7, 3, 0]  # P = 5, passives 3, D = 2 → NPS 30
CSAT = [5, 5, 4, 4, 4, 4, 4, 3, 2, 1]  # 7 of 10 are 4 or 5 → 70 %
CES = [7, 7, 6, 6, 5, 5, 4, 3, 2, 1]  # mean 4.6, Σs² = 250, 6 of 10 ≥ 5


def _answers(make: Make):  # type: ignore[no-untyped-def]
    """30 answers: NPS asked about stage 'buy', CSAT about touchpoint 'checkout' (named in
    properties, although binding put them at 'browse'), CES bound to step 'onboard'."""
    n = len(NPS)
    props = (
        [json.dumps({"stage": "buy"})] * n
        + [json.dumps({"touchpoint": "checkout"})] * n
        + [None] * n
    )
    return make(
        {
            "unit_id": [f"u{i}" for i in range(3 * n)],
            "occurred_at": [datetime(2024, 1, 1 + (i % 10)) for i in range(3 * n)],
            "score": [float(s) for s in NPS + CSAT + CES],
            "score_type": ["nps"] * n + ["csat"] * n + ["ces"] * n,
            "properties": props,
            "touchpoint_id": [None] * n + ["site"] * n + ["app_home"] * n,
            "step_id": [None] * n + ["browse"] * n + ["onboard"] * n,
            "stage_id": [None] * n + ["look"] * n + ["use"] * n,
            "persona": ["maya"] * (2 * n) + ["robert"] * n,
        }
    )


def test_nps_by_stage_from_properties(make: Make) -> None:
    r = survey_metrics(_answers(make), by="stage", journey_map=shop_map())
    nps = r.get("buy", "nps")
    assert nps is not None
    assert (nps.n, nps.value) == (10, pytest.approx(30.0))
    assert nps.se == pytest.approx(100 * math.sqrt(0.061))  # sqrt((.5 + .2 − .09)/10)
    # CSAT named touchpoint 'checkout', whose stage on the map is 'buy' (not binding's 'look').
    csat = r.get("buy", "csat")
    assert csat is not None
    assert csat.value == pytest.approx(70.0)
    assert r.get("look", "csat") is None
    ces = r.get("use", "ces")
    assert ces is not None
    assert ces.value == pytest.approx(4.6)


def test_csat_by_touchpoint_with_wilson(make: Make) -> None:
    r = survey_metrics(_answers(make), by="touchpoint", journey_map=shop_map())
    row = r.get("checkout", "csat")
    assert row is not None
    # Wilson 7/10: centre (7 + 1.9208)/13.8416 = 0.644492; half = 1.96·sqrt(2.1 + .9604)/13.8416
    half = 1.96 * math.sqrt(2.1 + 0.9604) / 13.8416
    assert row.low == pytest.approx(100 * (8.9208 / 13.8416 - half))
    assert row.high == pytest.approx(100 * (8.9208 / 13.8416 + half))
    # The NPS answers name only a stage: no touchpoint → the group None.
    assert r.get(None, "nps") is not None


def test_ces_by_step_t_interval(make: Make) -> None:
    r = survey_metrics(_answers(make), by="step", journey_map=shop_map())
    row = r.get("onboard", "ces")
    assert row is not None
    # var = (250 − 46²/10)/9 = 38.4/9; t(.975, 9) = 2.262157
    half = 2.262157 * math.sqrt(38.4 / 9 / 10)
    assert (row.value, row.share_ge5) == (pytest.approx(4.6), pytest.approx(0.6))
    assert row.low == pytest.approx(4.6 - half, abs=1e-5)
    assert row.high == pytest.approx(4.6 + half, abs=1e-5)
    assert r.get("pay", "csat") is not None  # touchpoint checkout → step pay


def test_persona_and_too_few_answers(make: Make) -> None:
    r = survey_metrics(_answers(make), by="persona", min_answers=11)
    rows = {(x.group, x.score_type): x for x in r.rows}
    assert set(rows) == {("maya", "nps"), ("maya", "csat"), ("robert", "ces")}
    for row in rows.values():
        assert (row.n, row.value, row.low, row.flag) == (10, None, None, TOO_FEW)


def test_periods_roll_up_from_days(make: Make) -> None:
    lf = make(
        {
            # Mon 1 Jan, Sun 7 Jan, Mon 8 Jan, Thu 1 Feb 2024
            "occurred_at": [datetime(2024, 1, 1, 9), datetime(2024, 1, 7, 23),
                            datetime(2024, 1, 8), datetime(2024, 2, 1)],
            "score": [10.0, 0.0, 9.0, 8.0],
            "score_type": ["nps"] * 4,
        }
    )  # fmt: skip
    week = survey_metrics(lf, by="week", min_answers=1)
    assert [(r.group, r.n, r.value) for r in week.rows] == [
        ("2024-01-01", 2, 0.0),  # one promoter, one detractor
        ("2024-01-08", 1, 100.0),
        ("2024-01-29", 1, 0.0),  # Thu 1 Feb is in the week of Mon 29 Jan; 8 is passive
    ]
    month = survey_metrics(lf, by="month", min_answers=1)
    assert [(r.group, r.n) for r in month.rows] == [("2024-01-01", 3), ("2024-02-01", 1)]
    day = survey_metrics(lf, by="day", min_answers=1)
    assert [r.group for r in day.rows] == ["2024-01-01", "2024-01-07", "2024-01-08", "2024-02-01"]


def test_bad_arguments_name_what_is_expected(make: Make) -> None:
    lf = make({"score": [1.0], "score_type": ["nps"], "occurred_at": [datetime(2024, 1, 1)]})
    with pytest.raises(ValueError, match="expected one of all, stage"):
        survey_metrics(lf, by="year")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="'persona' column"):
        survey_metrics(lf, by="persona")
    with pytest.raises(ValueError, match="'score_type' column"):
        survey_metrics(make({"score": [1.0]}))


def test_to_frame_and_to_dict(make: Make) -> None:
    r = survey_metrics(_answers(make), by="stage", journey_map=shop_map())
    t = r.to_frame()
    assert t.num_rows == len(r.rows) == 3
    assert r.to_dict()["rows"][0]["group"] == "buy"
