"""``forest_rows``: which features of an outcome comparison the forest plot draws, in which
order (one rule for the report and the web's outcome page)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from journeylens.insights.report_data import forest_rows
from journeylens.render.charts import OddsRatioRow


def _f(kind: str, feature: str, ratio: float | None, flag: str | None = None) -> Any:
    low = None if ratio is None else ratio / 2
    high = None if ratio is None else ratio * 2
    return SimpleNamespace(
        kind=kind, feature=feature, odds_ratio=ratio, or_low=low, or_high=high, flag=flag,
        q_value=0.01,
    )  # fmt: skip


def test_tested_touchpoints_and_channels_largest_effect_first() -> None:
    comparison: Any = SimpleNamespace(
        features=(
            _f("touchpoint", "site", 1.5),  # |log 1.5| = 0.41
            _f("channel", "email", 0.25),  # |log 0.25| = 1.39
            _f("step", "pay", 9.0),  # a step: not drawn
            _f("touchpoint", "rare", 3.0, flag="too rare"),  # flagged: not tested
            _f("touchpoint", "none", None),  # no odds ratio
            _f("touchpoint", "payment", 250.0),  # part of the outcome: beyond 100
            _f("touchpoint", "basket", 4.0),  # |log 4| = 1.39, after email (stable sort)
            _f("channel", "tiny", 0.005),  # under 1/100
        )
    )
    rows = forest_rows(comparison)
    assert rows == (
        OddsRatioRow("channel: email", 0.25, 0.125, 0.5, 0.01),
        OddsRatioRow("touchpoint: basket", 4.0, 2.0, 8.0, 0.01),
        OddsRatioRow("touchpoint: site", 1.5, 0.75, 3.0, 0.01),
    )
    assert forest_rows(comparison, limit=1) == rows[:1]
