"""Outcome comparison: a/b/c/d in the engine, OR + CI, lift, test choice, BH, too rare."""

from __future__ import annotations

import math

import pytest
from tests.analytics_b.conftest import Make

from journeylens.analytics import stats
from journeylens.analytics.outcomes import TOO_RARE, compare_outcome


def _data(make: Make):  # type: ignore[no-untyped-def]
    """100 units u00…u99; 50 positive (u00–u49).

    - event 'help': units u00–u29 (30 positive) and u50–u59 (10 negative): a=30, c=10
      → b = 20, d = 40 (all cells ≥ 5 → chi-square).
    - event 'promo': u00–u02 (positive) and u50–u71 (negative): a=3, c=22 → a + c = 25
      (tested; a < 5 → Fisher).
    - event 'rare': u00–u23: a + c = 24 → too rare.
    - channel 'web' everywhere (a + c = 100, a=50: OR 1).
    Each unit also has several events of the same feature (counts are units, not events).
    """
    units: list[str] = []
    names: list[str] = []

    def add(ids: range, name: str, times: int = 1) -> None:
        for i in ids:
            for _ in range(times):
                units.append(f"u{i:02}")
                names.append(name)

    add(range(30), "help", times=2)
    add(range(50, 60), "help")
    add(range(3), "promo")
    add(range(50, 72), "promo")
    add(range(24), "rare")
    add(range(100), "visit")
    events = make({"unit_id": units, "event_name": names, "channel": ["web"] * len(units)})
    outcomes = make(
        {"unit_id": [f"u{i:02}" for i in range(100)], "converted": [i < 50 for i in range(100)]}
    )
    return events, outcomes


def test_counts_and_statistics(make: Make) -> None:
    events, outcomes = _data(make)
    r = compare_outcome(events, outcomes, "converted", features=["event", "channel"])
    assert (r.units, r.positive, r.base_rate) == (100, 50, 0.5)
    h = r.get("event", "help")
    assert h is not None
    assert (h.a, h.b, h.c, h.d) == (30, 20, 10, 40)
    # OR = 30.5·40.5/(20.5·10.5) = 1235.25/215.25 = 5.738676
    assert h.odds_ratio == pytest.approx(1235.25 / 215.25)
    assert h.lift == pytest.approx((30 / 40) / 0.5)  # 1.5
    assert h.test == "chi_square"
    # χ² = 100·(30·40 − 20·10)²/(50·50·40·60) = 100·1e6/6e6 = 16.6667
    assert h.p_value == pytest.approx(math.erfc(math.sqrt(100 / 6 / 2)))
    assert (h.rate_with, h.rate_without) == (0.75, pytest.approx(20 / 60))
    p = r.get("event", "promo")
    assert p is not None
    assert (p.a, p.c, p.test) == (3, 22, "fisher")
    assert p.p_value == pytest.approx(stats.fisher_p(3, 47, 22, 28))
    rare = r.get("event", "rare")
    assert rare is not None
    assert (rare.flag, rare.p_value, rare.q_value, rare.significant) == (
        TOO_RARE,
        None,
        None,
        False,
    )


def test_bh_across_all_features_tested(make: Make) -> None:
    events, outcomes = _data(make)
    r = compare_outcome(events, outcomes, "converted", features=["event", "channel"])
    tested = [f for f in r.features if f.flag is None]
    assert {(f.kind, f.feature) for f in tested} == {
        ("event", "help"), ("event", "promo"), ("event", "visit"), ("channel", "web"),
    }  # fmt: skip
    qs = stats.benjamini_hochberg([f.p_value for f in tested if f.p_value is not None])
    assert [f.q_value for f in tested] == pytest.approx(qs)
    assert all(f.significant == (f.q_value is not None and f.q_value <= 0.05) for f in r.features)
    # Ranked: tested first by q; the too-rare feature last.
    assert r.features[0].feature in ("help", "promo")
    assert r.features[-1].flag == TOO_RARE
    # 'visit' and 'web' are on every unit: OR = (50.5·0.5)/(0.5·50.5) = 1, p = 1.
    web = r.get("channel", "web")
    assert web is not None
    assert web.odds_ratio == pytest.approx(1.0)
    assert web.p_value == 1.0


def test_to_frame_and_errors(make: Make) -> None:
    events, outcomes = _data(make)
    r = compare_outcome(events, outcomes, "converted", features=["event"])
    assert r.to_frame().num_rows == 4
    assert r.to_dict()["outcome"] == "converted"
    with pytest.raises(ValueError, match=r"no outcome 'churned'.*converted"):
        compare_outcome(events, outcomes, "churned")
    with pytest.raises(ValueError, match="unknown feature kind"):
        compare_outcome(events, outcomes, "converted", features=["colour"])
    with pytest.raises(ValueError, match=r"'touchpoint_id' column.*bind the map"):
        compare_outcome(events, outcomes, "converted", features=["touchpoint"])
