"""Moments of truth: survey and pain signals, horizon edges, ranking, BH."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from tests.analytics_b.conftest import Make

from journeylens.analytics import stats
from journeylens.analytics.moments import moments_of_truth

T0 = datetime(2024, 5, 1)


def _survey_data(make: Make):  # type: ignore[no-untyped-def]
    """40 units at step 'pay' answer CSAT: 20 good (4–5), 10 bad (1–2), 10 neutral (3).

    Good: 16 converted; bad: 2 converted; neutral units are left out.
    At step 'browse' everyone answers NPS 10 (only good: not testable, 'one-sided').
    """
    units = [f"u{i:02}" for i in range(40)]
    csat = [5.0] * 10 + [4.0] * 10 + [1.0] * 5 + [2.0] * 5 + [3.0] * 10
    events = make(
        {
            "unit_id": units + units,
            "step_id": ["pay"] * 40 + ["browse"] * 40,
            "touchpoint_id": ["checkout"] * 40 + ["site"] * 40,
            "event_name": ["csat_response"] * 40 + ["nps_response"] * 40,
            "occurred_at": [T0] * 80,
            "score": csat + [10.0] * 40,
            "score_type": ["csat"] * 40 + ["nps"] * 40,
        }
    )
    converted = [True] * 16 + [False] * 4 + [True] * 2 + [False] * 8 + [True] * 5 + [False] * 5
    outcomes = make({"unit_id": units, "converted": converted})
    return events, outcomes


def test_survey_signal(make: Make) -> None:
    events, outcomes = _survey_data(make)
    r = moments_of_truth(events, outcomes, "converted", signals=["survey"])
    pay = next(m for m in r.moments if m.location == "pay")
    assert (pay.n_good, pay.positive_good, pay.n_bad, pay.positive_bad) == (20, 16, 10, 2)
    # .8 − .2 = .6; se = sqrt(.8·.2/20 + .2·.8/10) = sqrt(.024) = .154919
    assert pay.effect == pytest.approx(0.6)
    assert pay.low == pytest.approx(0.6 - 1.96 * 0.024**0.5)
    # table [[16, 2], [4, 8]]: a cell < 5 → Fisher
    assert pay.test == "fisher"
    assert pay.p_value == pytest.approx(stats.fisher_p(16, 2, 4, 8))
    assert pay.q_value == pytest.approx(pay.p_value)  # the only location tested
    assert pay.significant
    browse = next(m for m in r.moments if m.location == "browse")
    assert (browse.n_good, browse.n_bad, browse.flag, browse.significant) == (
        40, 0, "one-sided", False,
    )  # fmt: skip
    assert r.moments[0] is pay  # significant first
    assert r.to_frame().num_rows == 2


def test_pain_signal_with_horizon_edges(make: Make) -> None:
    """30 units reach step 'pay' at T0. Bad (pain within 7 days, inclusive): u00–u09 get an
    error exactly 7 days later, u10–u14 a ticket at T0. u15–u19 get an error 7 days and 1
    second later (outside: good), u20–u29 none (good). Errors before T0 do not count."""
    units = [f"u{i:02}" for i in range(30)]
    rows: list[tuple[str, str | None, str, datetime]] = [(u, "pay", "checkout", T0) for u in units]
    rows += [(u, None, "error", T0 + timedelta(days=7)) for u in units[:10]]
    rows += [(u, None, "ticket_opened", T0) for u in units[10:15]]
    rows += [(u, None, "error", T0 + timedelta(days=7, seconds=1)) for u in units[15:20]]
    rows += [(u, None, "error", T0 - timedelta(seconds=1)) for u in units[20:30]]
    events = make(
        {
            "unit_id": [r[0] for r in rows],
            "step_id": [r[1] for r in rows],
            "touchpoint_id": ["checkout" if r[1] else None for r in rows],
            "event_name": [r[2] for r in rows],
            "occurred_at": [r[3] for r in rows],
        }
    )
    # Bad units (15) convert 3 times; good ones (15) 12 times.
    converted = [i < 3 for i in range(15)] + [i < 12 for i in range(15)]
    outcomes = make({"unit_id": units, "converted": converted})
    r = moments_of_truth(events, outcomes, "converted", signals=["pain"], level="touchpoint")
    (m,) = r.moments
    assert (m.location, m.signal) == ("checkout", "pain")
    assert (m.n_good, m.positive_good, m.n_bad, m.positive_bad) == (15, 12, 15, 3)
    assert m.effect == pytest.approx(0.6)
    assert m.test == "fisher"  # cells 12, 3, 3, 12: two below 5


def test_min_support_and_errors(make: Make) -> None:
    events, outcomes = _survey_data(make)
    r = moments_of_truth(events, outcomes, "converted", signals=["survey"], min_support=31)
    pay = next(m for m in r.moments if m.location == "pay")
    assert (pay.flag, pay.p_value, pay.significant) == ("too rare", None, False)
    assert pay.effect == pytest.approx(0.6)  # the effect is still shown
    with pytest.raises(ValueError, match="level must be"):
        moments_of_truth(events, outcomes, "converted", level="stage")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown signal"):
        moments_of_truth(events, outcomes, "converted", signals=["mood"])  # type: ignore[list-item]
