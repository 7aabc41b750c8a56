"""Charts of the web app's analytics pages that the report has no twin for.

Same conventions as :mod:`journeylens.render.charts` (plain data in, a :class:`Chart` with
the SVG and the table behind it out, offline Vega-Lite): survey metrics per map location
or persona with their 95% intervals, and shares with the counts behind them (planned vs
actual).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from journeylens.render.charts import (
    PALETTE,
    Chart,
    SurveyPoint,
    labelled_bars_spec,
    survey_rows,
    survey_values,
    vega_lite_svg,
)


@dataclass(frozen=True)
class ShareBar:
    """A share ``part / whole`` (``share`` is ``None`` when ``whole`` is 0)."""

    label: str
    part: int
    whole: int

    @property
    def share(self) -> float | None:
        """``part / whole``, or ``None`` for an empty whole.

        >>> ShareBar("fitness", 3, 4).share, ShareBar("x", 0, 0).share
        (0.75, None)
        """
        return self.part / self.whole if self.whole else None


def _pct(share: float | None) -> str:
    return "—" if share is None else f"{share * 100:.1f}%"


def shares_chart(bars: Sequence[ShareBar], *, title: str, description: str) -> Chart:
    """Horizontal bars of shares (0 … 100%), each labelled with its share and ``part of
    whole``; bars with an empty whole are listed in the table but not drawn."""
    values = [
        {
            "label": b.label,
            "order": i,
            "share": b.share,
            "text": f"{_pct(b.share)} ({b.part:,} of {b.whole:,})",
        }
        for i, b in enumerate(bars)
        if b.share is not None
    ]
    spec = labelled_bars_spec(
        values,
        title=title,
        y="label",
        x={
            "field": "share",
            "type": "quantitative",
            "title": "share",
            "axis": {"format": "%"},
            "scale": {"domain": [0, 1]},
        },
        text="text",
        width=420,
        step=24,
    )
    rows = tuple((b.label, _pct(b.share), f"{b.part:,}", f"{b.whole:,}") for b in bars)
    return Chart(
        "shares",
        title,
        description,
        vega_lite_svg(spec),
        ("measure", "share", "count", "out of"),
        rows,
    )


def survey_groups_chart(points: Sequence[SurveyPoint], *, title: str) -> Chart:
    """One panel per metric (NPS, CSAT, CES): each group's value as a point with its 95%
    CI as a rule, groups in the given order. Groups with too few answers (value ``None``)
    are listed in the table only, never drawn as zero."""
    values = survey_values(points, key="group")
    order = list(dict.fromkeys(p.period for p in points))
    spec = {
        "title": title,
        "data": {"values": values},
        "facet": {
            "row": {
                "field": "metric",
                "type": "nominal",
                "title": None,
                "header": {"labelAngle": 0, "labelOrient": "top", "labelAnchor": "start"},
            }
        },
        "resolve": {"scale": {"x": "independent"}},
        "spec": {
            "width": 420,
            "height": {"step": 22},
            "encoding": {
                "y": {"field": "group", "type": "nominal", "sort": order, "title": None},
            },
            "layer": [
                {
                    "mark": {"type": "rule", "color": "#333333"},
                    "encoding": {
                        "x": {
                            "field": "low",
                            "type": "quantitative",
                            "title": "value (95% CI)",
                            "scale": {"zero": False},
                        },
                        "x2": {"field": "high"},
                    },
                },
                {
                    "mark": {"type": "point", "filled": True, "size": 60, "color": PALETTE[0]},
                    "encoding": {"x": {"field": "value", "type": "quantitative"}},
                },
            ],
        },
    }
    rows = survey_rows(points)
    return Chart(
        "survey-groups",
        title,
        "NPS, CSAT and CES per group with 95% confidence intervals (N in the table).",
        vega_lite_svg(spec),
        ("group", "metric", "value", "95% CI", "N"),
        rows,
    )
