"""Small statistics on counts: the formulas of METRICS.md, one function each.

Every function here takes aggregates (counts, sums) that the engine computed and returns a
frozen result; nothing here touches events. The 95% intervals use z = 1.96 exactly as
METRICS.md writes it (not ``norm.ppf(0.975)`` = 1.959964…), so hand-computed figures match.

The 2×2 table of an outcome comparison is always laid out as METRICS.md names it::

                 with feature   without feature
    positive          a               b
    negative          c               d
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any

from scipy import stats as _sp  # type: ignore[import-untyped]

Z95 = 1.96
"""The normal quantile METRICS.md uses for every 95% interval."""


class SignificanceTest(StrEnum):
    """Which significance test produced a p-value."""

    FISHER = "fisher"
    CHI_SQUARE = "chi_square"


@dataclass(frozen=True)
class Estimate:
    """A point estimate with its 95% interval (``None`` where undefined)."""

    value: float | None
    low: float | None
    high: float | None

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict."""
        return asdict(self)


@dataclass(frozen=True)
class NpsEstimate:
    """NPS with its standard error and 95% interval, and the counts behind it."""

    n: int
    promoters: int
    passives: int
    detractors: int
    nps: float | None
    se: float | None
    low: float | None
    high: float | None

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict."""
        return asdict(self)


@dataclass(frozen=True)
class CesEstimate:
    """CES mean with its t-based 95% interval, and the share of answers ≥ 5."""

    n: int
    mean: float | None
    low: float | None
    high: float | None
    share_ge5: float | None

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict."""
        return asdict(self)


def _check_counts(**counts: int) -> None:
    for name, value in counts.items():
        if value < 0:
            raise ValueError(f"count '{name}' must be ≥ 0, got {value}")


def odds_ratio(a: int, b: int, c: int, d: int) -> Estimate:
    """Odds ratio with the Haldane 0.5 correction and its 95% Wald interval on the log scale.

    OR = ((a+0.5)(d+0.5)) / ((b+0.5)(c+0.5));
    CI = exp(log OR ± 1.96·sqrt(1/(a+.5) + 1/(b+.5) + 1/(c+.5) + 1/(d+.5))).
    The correction is always applied (not only when a cell is zero), as METRICS.md says.

    >>> r = odds_ratio(10, 20, 30, 40)  # 10.5·40.5 / (20.5·30.5) = 425.25 / 625.25
    >>> round(r.value, 4), round(r.low, 4), round(r.high, 4)
    (0.6801, 0.2822, 1.6394)
    """
    _check_counts(a=a, b=b, c=c, d=d)
    ah, bh, ch, dh = a + 0.5, b + 0.5, c + 0.5, d + 0.5
    log_or = math.log(ah * dh / (bh * ch))
    se = math.sqrt(1 / ah + 1 / bh + 1 / ch + 1 / dh)
    return Estimate(math.exp(log_or), math.exp(log_or - Z95 * se), math.exp(log_or + Z95 * se))


def lift(a: int, b: int, c: int, d: int) -> float | None:
    """Lift = P(positive | feature) / P(positive) = (a/(a+c)) / ((a+b)/(a+b+c+d)).

    ``None`` when no unit has the feature or no unit is positive (the ratio is undefined).

    >>> lift(10, 20, 30, 40)  # (10/40) / (30/100)
    0.8333333333333334
    """
    _check_counts(a=a, b=b, c=c, d=d)
    n = a + b + c + d
    if a + c == 0 or a + b == 0:
        return None
    return (a / (a + c)) / ((a + b) / n)


def fisher_p(a: int, b: int, c: int, d: int) -> float:
    """Two-sided p-value of Fisher's exact test on [[a, b], [c, d]] (scipy's definition:
    the sum of the probabilities of all tables with the same margins that are no more
    likely than the observed one).

    >>> round(fisher_p(3, 1, 1, 3), 4)
    0.4857
    """
    _check_counts(a=a, b=b, c=c, d=d)
    return float(_sp.fisher_exact([[a, b], [c, d]], alternative="two-sided").pvalue)


def chi_square_p(a: int, b: int, c: int, d: int) -> float:
    """p-value of Pearson's chi-square test with 1 df on [[a, b], [c, d]], **without** the
    Yates continuity correction (METRICS.md does not ask for one).

    χ² = N·(ad − bc)² / ((a+b)(c+d)(a+c)(b+d)); a table with an empty margin carries no
    evidence and gets p = 1.

    >>> round(chi_square_p(10, 20, 30, 40), 4)  # χ² = 100·(400−600)²/(30·70·40·60) = 0.7937
    0.373
    """
    _check_counts(a=a, b=b, c=c, d=d)
    n = a + b + c + d
    denom = (a + b) * (c + d) * (a + c) * (b + d)
    if denom == 0:
        return 1.0
    chi2 = n * (a * d - b * c) ** 2 / denom
    return float(_sp.chi2.sf(chi2, 1))


def table_p_value(a: int, b: int, c: int, d: int) -> tuple[float, SignificanceTest]:
    """The METRICS.md rule: Fisher's exact test when any cell < 5, else chi-square (1 df).

    >>> table_p_value(3, 1, 1, 3)[1].value, table_p_value(10, 20, 30, 40)[1].value
    ('fisher', 'chi_square')
    """
    if min(a, b, c, d) < 5:
        return fisher_p(a, b, c, d), SignificanceTest.FISHER
    return chi_square_p(a, b, c, d), SignificanceTest.CHI_SQUARE


def benjamini_hochberg(p_values: Sequence[float]) -> list[float]:
    """Benjamini–Hochberg q-values, in the input order.

    Sort p ascending, q_(i) = min over j ≥ i of p_(j)·m/j, capped at 1 (the step-up
    adjustment, same as R's ``p.adjust(method="BH")``).

    >>> [round(q, 4) for q in benjamini_hochberg([0.01, 0.04, 0.03, 0.20])]
    [0.04, 0.0533, 0.0533, 0.2]
    """
    m = len(p_values)
    for p in p_values:
        if not 0.0 <= p <= 1.0 or math.isnan(p):
            raise ValueError(f"p-values must lie in [0, 1], got {p}")
    order = sorted(range(m), key=lambda i: p_values[i])
    q = [0.0] * m
    running = 1.0
    for rank in range(m, 0, -1):
        i = order[rank - 1]
        running = min(running, p_values[i] * m / rank)
        q[i] = running
    return q


def nps(promoters: int, passives: int, detractors: int) -> NpsEstimate:
    """Net Promoter Score on 0–10 answers (promoters 9–10, passives 7–8, detractors 0–6).

    NPS = 100·(P − D)/N; SE = 100·sqrt((p + d − (p − d)²)/N) with p = P/N, d = D/N;
    95% CI = NPS ± 1.96·SE. With N = 0 every figure is ``None``.

    >>> r = nps(5, 3, 2)  # N=10, p=.5, d=.2: NPS=30, SE=100·sqrt((.7−.09)/10)=24.698
    >>> r.nps, round(r.se, 3), round(r.low, 3), round(r.high, 3)
    (30.0, 24.698, -18.408, 78.408)
    """
    _check_counts(promoters=promoters, passives=passives, detractors=detractors)
    n = promoters + passives + detractors
    if n == 0:
        return NpsEstimate(0, 0, 0, 0, None, None, None, None)
    p, d = promoters / n, detractors / n
    value = 100.0 * (p - d)
    se = 100.0 * math.sqrt(max(p + d - (p - d) ** 2, 0.0) / n)
    return NpsEstimate(
        n, promoters, passives, detractors, value, se, value - Z95 * se, value + Z95 * se
    )


def wilson(successes: int, n: int) -> Estimate:
    """A share with its Wilson 95% score interval (z = 1.96), as fractions 0 … 1.

    centre = (x + z²/2)/(n + z²); half = z·sqrt(x(n−x)/n + z²/4)/(n + z²).

    >>> r = wilson(8, 10)
    >>> r.value, round(r.low, 4), round(r.high, 4)
    (0.8, 0.4902, 0.9433)
    """
    _check_counts(successes=successes, n=n)
    if successes > n:
        raise ValueError(f"successes ({successes}) exceed n ({n})")
    if n == 0:
        return Estimate(None, None, None)
    z2 = Z95 * Z95
    centre = (successes + z2 / 2) / (n + z2)
    half = Z95 * math.sqrt(successes * (n - successes) / n + z2 / 4) / (n + z2)
    return Estimate(successes / n, max(0.0, centre - half), min(1.0, centre + half))


def csat(satisfied: int, n: int) -> Estimate:
    """CSAT on 1–5 answers: the share of answers 4 or 5 as a percentage, Wilson 95% CI.

    >>> r = csat(8, 10)
    >>> r.value, round(r.low, 2), round(r.high, 2)
    (80.0, 49.02, 94.33)
    """
    w = wilson(satisfied, n)
    if w.value is None or w.low is None or w.high is None:
        return w
    return Estimate(100.0 * w.value, 100.0 * w.low, 100.0 * w.high)


def ces(n: int, total: float, total_sq: float, at_least_5: int) -> CesEstimate:
    """CES on 1–7 answers from engine aggregates: the mean with a t-based 95% CI, and the
    share of answers ≥ 5.

    ``total`` = Σs, ``total_sq`` = Σs², so the sample variance is (Σs² − (Σs)²/n)/(n − 1) and
    CI = mean ± t(0.975, n − 1)·sd/√n. The interval needs n ≥ 2.

    >>> r = ces(4, 4 + 5 + 6 + 7, 16 + 25 + 36 + 49, 3)  # mean 5.5, sd 1.291, t(.975,3)=3.1824
    >>> r.mean, round(r.low, 4), round(r.high, 4), r.share_ge5
    (5.5, 3.4457, 7.5543, 0.75)
    """
    _check_counts(n=n, at_least_5=at_least_5)
    if n == 0:
        return CesEstimate(0, None, None, None, None)
    mean = total / n
    share = at_least_5 / n
    if n < 2:
        return CesEstimate(n, mean, None, None, share)
    var = max(total_sq - total * total / n, 0.0) / (n - 1)
    half = float(_sp.t.ppf(0.975, n - 1)) * math.sqrt(var / n)
    return CesEstimate(n, mean, mean - half, mean + half, share)


def difference_of_proportions(x1: int, n1: int, x2: int, n2: int) -> Estimate:
    """p1 − p2 with its 95% Wald interval: ± 1.96·sqrt(p1(1−p1)/n1 + p2(1−p2)/n2).

    ``None`` when either group is empty.

    >>> r = difference_of_proportions(30, 50, 20, 50)  # .6 − .4, se = sqrt(.24/50·2) = .09798
    >>> round(r.value, 4), round(r.low, 4), round(r.high, 4)
    (0.2, 0.008, 0.392)
    """
    _check_counts(x1=x1, n1=n1, x2=x2, n2=n2)
    if x1 > n1 or x2 > n2:
        raise ValueError("successes exceed their group size")
    if n1 == 0 or n2 == 0:
        return Estimate(None, None, None)
    p1, p2 = x1 / n1, x2 / n2
    se = math.sqrt(p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2)
    diff = p1 - p2
    return Estimate(diff, diff - Z95 * se, diff + Z95 * se)
