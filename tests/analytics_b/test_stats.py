"""Hand-computed checks of every formula in journeylens.analytics.stats (METRICS.md)."""

from __future__ import annotations

import math

import pytest

from journeylens.analytics import stats


def test_odds_ratio_haldane_always_applied() -> None:
    # OR = (10.5·40.5)/(20.5·30.5) = 425.25/625.25 = 0.680128
    # se = sqrt(1/10.5 + 1/20.5 + 1/30.5 + 1/40.5) = sqrt(0.201496) = 0.448884
    # CI = exp(ln 0.680128 ± 1.96·0.448884) = exp(−0.385474 ± 0.879813) = (0.282158, 1.639413)
    r = stats.odds_ratio(10, 20, 30, 40)
    assert r.value == pytest.approx(0.680128, abs=1e-6)
    assert r.low == pytest.approx(0.282158, abs=1e-6)
    assert r.high == pytest.approx(1.639413, abs=1e-6)


def test_odds_ratio_with_zero_cells_is_finite() -> None:
    # (0.5·0.5)/(5.5·5.5) = 0.25/30.25 = 0.00826446
    r = stats.odds_ratio(0, 5, 5, 0)
    assert r.value == pytest.approx(0.25 / 30.25)
    se = math.sqrt(1 / 0.5 + 1 / 5.5 + 1 / 5.5 + 1 / 0.5)  # = sqrt(4.363636) = 2.088932
    assert r.low == pytest.approx(0.25 / 30.25 * math.exp(-1.96 * se))
    assert r.high == pytest.approx(0.25 / 30.25 * math.exp(1.96 * se))


def test_negative_counts_are_rejected_with_the_name() -> None:
    with pytest.raises(ValueError, match="count 'c' must be ≥ 0"):
        stats.odds_ratio(1, 1, -1, 1)


def test_lift() -> None:
    # P(pos | f) = 10/40 = 0.25; P(pos) = 30/100 = 0.3; lift = 0.8333…
    assert stats.lift(10, 20, 30, 40) == pytest.approx(0.25 / 0.3)
    assert stats.lift(0, 5, 0, 5) is None  # nobody has the feature
    assert stats.lift(0, 0, 5, 5) is None  # nobody is positive


def test_fisher_two_sided() -> None:
    # Margins 4/4 × 4/4, N = 8: P(a=k) = C(4,k)·C(4,4−k)/70 → 1, 16, 36, 16, 1 (/70).
    # Observed a = 3 has 16/70; tables no more likely: k = 0, 1, 3, 4 → 34/70.
    assert stats.fisher_p(3, 1, 1, 3) == pytest.approx(34 / 70)
    # The most likely table (k = 2) sums everything: p = 1.
    assert stats.fisher_p(2, 2, 2, 2) == pytest.approx(1.0)


def test_chi_square_without_continuity_correction() -> None:
    # χ² = 100·(10·40 − 20·30)²/(30·70·40·60) = 4 000 000/5 040 000 = 0.793651
    # For 1 df, P(X > x) = erfc(sqrt(x/2)).
    chi2 = 100 * (400 - 600) ** 2 / (30 * 70 * 40 * 60)
    assert stats.chi_square_p(10, 20, 30, 40) == pytest.approx(math.erfc(math.sqrt(chi2 / 2)))
    assert stats.chi_square_p(10, 20, 30, 40) == pytest.approx(0.37299, abs=1e-5)
    assert stats.chi_square_p(0, 0, 5, 5) == 1.0  # empty margin: no evidence


def test_table_p_value_switches_on_the_smallest_cell() -> None:
    assert stats.table_p_value(4, 10, 10, 10)[1] is stats.SignificanceTest.FISHER
    assert stats.table_p_value(5, 10, 10, 10)[1] is stats.SignificanceTest.CHI_SQUARE


def test_benjamini_hochberg_step_up() -> None:
    # sorted p: .01 .03 .04 .20; p·m/rank: .04 .06 .05333 .20; running min from the top:
    # .20, .05333, .05333, .04 → back in input order.
    q = stats.benjamini_hochberg([0.01, 0.04, 0.03, 0.20])
    assert q == pytest.approx([0.04, 0.16 / 3, 0.16 / 3, 0.20])
    # Capped at 1 and monotone: .9·2/1 = 1.8 → min(1.8, .95) = .95.
    assert stats.benjamini_hochberg([0.9, 0.95]) == pytest.approx([0.95, 0.95])
    assert stats.benjamini_hochberg([]) == []
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        stats.benjamini_hochberg([1.5])


def test_nps_with_se_and_ci() -> None:
    # N = 10, p = .5, d = .2: NPS = 30; SE = 100·sqrt((.7 − .09)/10) = 100·sqrt(.061) = 24.698
    r = stats.nps(5, 3, 2)
    assert r.nps == pytest.approx(30.0)
    assert r.se == pytest.approx(100 * math.sqrt(0.061))
    assert r.low == pytest.approx(30 - 1.96 * 100 * math.sqrt(0.061))
    assert r.high == pytest.approx(30 + 1.96 * 100 * math.sqrt(0.061))
    assert stats.nps(0, 0, 0).nps is None
    # All promoters: p = 1, d = 0 → SE = 0, NPS = 100.
    assert (stats.nps(4, 0, 0).nps, stats.nps(4, 0, 0).se) == (100.0, 0.0)


def test_csat_share_with_wilson_interval() -> None:
    # x = 8, n = 10, z² = 3.8416: centre = 9.9208/13.8416 = 0.716738;
    # half = 1.96·sqrt(1.6 + 0.9604)/13.8416 = 0.226584 → (0.490154, 0.943322), as %.
    r = stats.csat(8, 10)
    assert r.value == pytest.approx(80.0)
    assert r.low == pytest.approx(49.0154, abs=1e-3)
    assert r.high == pytest.approx(94.3322, abs=1e-3)
    assert stats.csat(0, 0).value is None
    assert stats.wilson(0, 5).low == 0.0
    with pytest.raises(ValueError, match="exceed"):
        stats.wilson(6, 5)


def test_ces_mean_t_interval_and_share() -> None:
    # scores 4 5 6 7: mean 5.5; var = (126 − 22²/4)/3 = 5/3; se = sqrt(5/3/4) = 0.645497
    # t(0.975, 3) = 3.182446 → half = 2.054261
    r = stats.ces(4, 22.0, 126.0, 3)
    assert r.mean == pytest.approx(5.5)
    assert r.low == pytest.approx(5.5 - 3.182446 * math.sqrt(5 / 12), abs=1e-5)
    assert r.high == pytest.approx(5.5 + 3.182446 * math.sqrt(5 / 12), abs=1e-5)
    assert r.share_ge5 == 0.75
    single = stats.ces(1, 6.0, 36.0, 1)
    assert (single.mean, single.low, single.high) == (6.0, None, None)


def test_difference_of_proportions() -> None:
    # .6 − .4 = .2; se = sqrt(.24/50 + .24/50) = sqrt(.0096) = 0.0979796; ±0.192040
    r = stats.difference_of_proportions(30, 50, 20, 50)
    assert r.value == pytest.approx(0.2)
    assert r.low == pytest.approx(0.2 - 1.96 * math.sqrt(0.0096))
    assert r.high == pytest.approx(0.2 + 1.96 * math.sqrt(0.0096))
    assert stats.difference_of_proportions(1, 2, 0, 0).value is None
