"""Moments of truth, survey signal: only answers about the unit's first visit count.

Hand-computed: 30 units reach step ``help`` on 1 May. 10 answer CSAT 1 (bad) there the
next day and all 10 churn. 20 more answers (CSAT 5, good) come from 20 other units, but 60
days after their first visit — by units still active then, so none churns. With the
default 7-day horizon those late answers do not count: ``help`` has only bad answers and
is not tested ("one-sided"). Counting every answer (``survey_horizon=None``) credits the
step with the late answerers' survival: effect = 0/20 − 10/10 = −1.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import narwhals as nw
import polars as pl

from journeylens.analytics.moments import moments_of_truth

T0 = datetime(2024, 5, 1)


def _data() -> tuple[nw.LazyFrame[pl.LazyFrame], nw.LazyFrame[pl.LazyFrame]]:
    units = [f"u{i:02}" for i in range(30)]
    visits = {"unit_id": units, "step_id": ["help"] * 30, "occurred_at": [T0] * 30,
              "score": [None] * 30, "score_type": [None] * 30}  # fmt: skip
    answers = {
        "unit_id": units,
        "step_id": ["help"] * 30,
        "occurred_at": [T0 + timedelta(days=1)] * 10 + [T0 + timedelta(days=60)] * 20,
        "score": [1.0] * 10 + [5.0] * 20,
        "score_type": ["csat"] * 30,
    }
    ev = pl.concat([pl.LazyFrame(visits), pl.LazyFrame(answers)], how="vertical_relaxed")
    churned = pl.LazyFrame({"unit_id": units, "churned": [True] * 10 + [False] * 20})
    return nw.from_native(ev), nw.from_native(churned)


def test_late_answers_do_not_count() -> None:
    ev, out = _data()
    (m,) = moments_of_truth(ev, out, "churned", signals=["survey"]).moments
    assert (m.location, m.n_good, m.n_bad, m.positive_bad, m.flag) == (
        "help",
        0,
        10,
        10,
        "one-sided",
    )


def test_horizon_edge_and_every_answer() -> None:
    ev, out = _data()
    # Exactly at the horizon counts (60 days): the late good answers are back.
    (m,) = moments_of_truth(
        ev, out, "churned", signals=["survey"], survey_horizon=timedelta(days=60)
    ).moments
    assert (m.n_good, m.positive_good, m.n_bad, m.positive_bad) == (20, 0, 10, 10)
    # One second less: they are out again.
    (m,) = moments_of_truth(
        ev, out, "churned", signals=["survey"], survey_horizon=timedelta(days=60, seconds=-1)
    ).moments
    assert (m.n_good, m.n_bad) == (0, 10)
    (m,) = moments_of_truth(ev, out, "churned", signals=["survey"], survey_horizon=None).moments
    assert (m.n_good, m.n_bad) == (20, 10)
    assert m.effect == -1.0  # 0/20 − 10/10
