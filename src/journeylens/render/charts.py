"""Charts of journey analytics, drawn offline as static SVG.

Every chart takes plain data (the frozen dataclasses below — what an analytics result
converts to), never an engine frame, and returns a :class:`Chart`: the SVG, a short
description, and the table behind it (the report prints both).

Why Vega-Lite through ``vl-convert-python`` (the ``report`` extra): the Vega and
Vega-Lite JavaScript ships inside the wheel and runs in an embedded engine, so static SVG
export needs no browser and no network; chart specs are plain JSON dicts, no plotting
framework to learn. The Sankey diagram (which Vega-Lite lacks) is drawn with the map's own
escaping SVG builder.
"""

from __future__ import annotations

import importlib
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from journeylens.render.text import FONT_FAMILY, text_width
from journeylens.render.xml import El

INSTALL_HINT = "charts need vl-convert-python: pip install 'journeylens[report]'"

# Okabe–Ito, in the order categories are coloured.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000")


class ChartsUnavailableError(RuntimeError):
    """The optional chart renderer is not installed."""


@dataclass(frozen=True)
class Chart:
    """One rendered chart: SVG text, what it shows, and the table of numbers behind it."""

    key: str
    title: str
    description: str
    svg: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


# -- input data ---------------------------------------------------------------------------


@dataclass(frozen=True)
class FunnelStep:
    """Units that reached one funnel step (METRICS.md, Funnel)."""

    label: str
    reached: int


@dataclass(frozen=True)
class FlowLink:
    """Units that went from one stage (or step) to another."""

    source: str
    target: str
    value: int


@dataclass(frozen=True)
class TransitionCell:
    """Row-normalised probability P(next = target | current = source) and its count."""

    source: str
    target: str
    probability: float
    count: int


@dataclass(frozen=True)
class DurationGroup:
    """Times to convert (seconds) of one group, e.g. a persona or a device."""

    label: str
    seconds: tuple[float, ...]


@dataclass(frozen=True)
class ConvertTime:
    """Median and p90 time (seconds) from the first funnel step to this one, over the
    ``units`` that reached it (METRICS.md, Funnel: time to convert)."""

    label: str
    median_s: float | None
    p90_s: float | None
    units: int


@dataclass(frozen=True)
class SurveyPoint:
    """A survey metric (NPS, CSAT, CES) in one period with its 95% CI and N."""

    period: str
    metric: str
    value: float | None
    low: float | None
    high: float | None
    n: int


@dataclass(frozen=True)
class OddsRatioRow:
    """One feature of an outcome comparison: odds ratio with 95% CI and BH q-value."""

    feature: str
    odds_ratio: float
    low: float
    high: float
    q_value: float | None = None


@dataclass(frozen=True)
class ChannelUse:
    """Share (0 … 1) of a persona's customers who used a channel."""

    persona: str
    channel: str
    share: float


# -- rendering ----------------------------------------------------------------------------


def vega_lite_svg(spec: dict[str, Any]) -> str:
    """Render a Vega-Lite spec (a dict) to SVG text, offline."""
    try:
        vlc = importlib.import_module("vl_convert")
    except ImportError as exc:
        raise ChartsUnavailableError(INSTALL_HINT) from exc
    full = {
        "config": {
            "font": FONT_FAMILY,
            "view": {"stroke": None},
            "range": {"category": list(PALETTE)},
            "axis": {"labelFontSize": 11, "titleFontSize": 12, "labelLimit": 220},
            "title": {"fontSize": 14, "anchor": "start"},
        },
        "background": "white",
        **spec,
    }
    svg: str = vlc.vegalite_to_svg(json.loads(json.dumps(full)))
    return svg


def _pct(share: float) -> str:
    return f"{share * 100:.1f}%"


def labelled_bars_spec(
    values: list[dict[str, Any]],
    *,
    title: str,
    y: str,
    x: dict[str, Any],
    text: str,
    width: int,
    step: int,
) -> dict[str, Any]:
    """A Vega-Lite spec of horizontal bars, one per value in the order of its ``order``
    field: the category ``y`` on the vertical axis, the bar's length by the encoding ``x``,
    and the value's ``text`` field written after the bar's end."""
    return {
        "title": title,
        "width": width,
        "height": {"step": step},
        "data": {"values": values},
        "encoding": {
            "y": {"field": y, "type": "nominal", "sort": {"field": "order"}, "title": None},
            "x": x,
        },
        "layer": [
            {"mark": {"type": "bar", "color": PALETTE[0]}},
            {
                "mark": {"type": "text", "align": "left", "dx": 4, "fontSize": 11},
                "encoding": {"text": {"field": text}},
            },
        ],
    }


def funnel_chart(steps: Sequence[FunnelStep], *, title: str = "Funnel") -> Chart:
    """Horizontal bars of units reached per step, labelled with the count and the
    conversion from step 1 (reached j / reached 1)."""
    first = steps[0].reached if steps and steps[0].reached else 0
    rows = []
    values = []
    for i, s in enumerate(steps):
        conv = s.reached / first if first else 0.0
        step_conv = s.reached / steps[i - 1].reached if i and steps[i - 1].reached else 1.0
        label = f"{s.reached:,} ({_pct(conv)})"
        values.append({"step": s.label, "order": i, "reached": s.reached, "label": label})
        rows.append((s.label, f"{s.reached:,}", _pct(conv), _pct(step_conv) if i else "—"))
    spec = labelled_bars_spec(
        values,
        title=title,
        y="step",
        x={"field": "reached", "type": "quantitative", "title": "units reached"},
        text="label",
        width=520,
        step=26,
    )
    return Chart(
        "funnel",
        title,
        "Units reaching each step; in brackets the conversion from the first step.",
        vega_lite_svg(spec),
        ("step", "reached", "conversion from step 1", "step conversion"),
        tuple(rows),
    )


def transition_heatmap(
    cells: Sequence[TransitionCell], *, title: str = "Transitions", order: Sequence[str] = ()
) -> Chart:
    """Heatmap of P(next | current): rows are the current stage, columns the next, both in
    ``order`` (the map's order) when given, else in order of appearance."""
    axis_sort: list[str] | None = list(order) or None
    values = [
        {"from": c.source, "to": c.target, "p": c.probability, "label": f"{c.probability:.2f}"}
        for c in cells
    ]
    spec = {
        "title": title,
        "width": {"step": 44},
        "height": {"step": 28},
        "data": {"values": values},
        "encoding": {
            "y": {"field": "from", "type": "nominal", "title": "current", "sort": axis_sort},
            "x": {"field": "to", "type": "nominal", "title": "next", "sort": axis_sort},
        },
        "layer": [
            {
                "mark": "rect",
                "encoding": {
                    "color": {
                        "field": "p",
                        "type": "quantitative",
                        "title": "P(next | current)",
                        "scale": {"scheme": "blues", "domain": [0, 1]},
                    }
                },
            },
            {
                "mark": {"type": "text", "fontSize": 10},
                "encoding": {
                    "text": {"field": "label"},
                    "color": {
                        "condition": {"test": "datum.p > 0.5", "value": "white"},
                        "value": "black",
                    },
                },
            },
        ],
    }
    rows = tuple((c.source, c.target, f"{c.probability:.3f}", f"{c.count:,}") for c in cells)
    return Chart(
        "transitions",
        title,
        "Probability of each next stage given the current one (rows sum to 1).",
        vega_lite_svg(spec),
        ("current", "next", "P(next | current)", "transitions"),
        rows,
    )


def _median(values: Sequence[float]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def time_to_convert_chart(
    groups: Sequence[DurationGroup], *, title: str = "Time to convert"
) -> Chart:
    """Histogram of times to convert (hours, log-binned is avoided: plain bins) per group,
    with each group's median as a rule."""
    values = [{"group": g.label, "hours": s / 3600} for g in groups for s in g.seconds]
    medians = [{"group": g.label, "hours": _median(g.seconds) / 3600} for g in groups if g.seconds]
    spec = {
        "title": title,
        "width": 520,
        "height": 200,
        "layer": [
            {
                "data": {"values": values},
                "mark": {"type": "bar", "opacity": 0.7},
                "encoding": {
                    "x": {
                        "field": "hours",
                        "type": "quantitative",
                        "bin": {"maxbins": 30},
                        "title": "hours",
                    },
                    "y": {
                        "aggregate": "count",
                        "type": "quantitative",
                        "title": "units",
                        "stack": None,
                    },
                    "color": {"field": "group", "type": "nominal", "title": None},
                },
            },
            {
                "data": {"values": medians},
                "mark": {"type": "rule", "strokeDash": [4, 3], "strokeWidth": 2},
                "encoding": {
                    "x": {"field": "hours", "type": "quantitative"},
                    "color": {"field": "group", "type": "nominal"},
                },
            },
        ],
    }
    rows = []
    for g in groups:
        if not g.seconds:
            rows.append((g.label, "0", "—", "—"))
            continue
        ordered = sorted(g.seconds)
        p90 = ordered[min(len(ordered) - 1, math.ceil(0.9 * len(ordered)) - 1)]
        rows.append(
            (
                g.label,
                f"{len(ordered):,}",
                f"{_median(ordered) / 3600:.1f} h",
                f"{p90 / 3600:.1f} h",
            )
        )
    return Chart(
        "time-to-convert",
        title,
        "Distribution of time from the first to the converting step; dashed rules are medians.",
        vega_lite_svg(spec),
        ("group", "units", "median", "p90"),
        tuple(rows),
    )


def convert_time_chart(rows_in: Sequence[ConvertTime], *, title: str = "Time to convert") -> Chart:
    """Per funnel step: a bar from the median to the p90 time to convert, median marked.

    Used when only the summary is known (the funnel analytics return median and p90, not
    every unit's time); :func:`time_to_convert_chart` draws the full distribution."""
    values = [
        {"step": r.label, "order": i, "median": r.median_s / 3600, "p90": r.p90_s / 3600}
        for i, r in enumerate(rows_in)
        if r.median_s is not None and r.p90_s is not None
    ]
    spec = {
        "title": title,
        "width": 460,
        "height": {"step": 26},
        "data": {"values": values},
        "encoding": {
            "y": {"field": "step", "type": "nominal", "sort": {"field": "order"}, "title": None}
        },
        "layer": [
            {
                "mark": {"type": "bar", "color": PALETTE[5], "height": 10},
                "encoding": {
                    "x": {
                        "field": "median",
                        "type": "quantitative",
                        "title": "hours from the first step (median → p90)",
                    },
                    "x2": {"field": "p90"},
                },
            },
            {
                "mark": {"type": "tick", "color": PALETTE[0], "thickness": 3, "size": 18},
                "encoding": {"x": {"field": "median", "type": "quantitative"}},
            },
        ],
    }

    def hours(v: float | None) -> str:
        return "—" if v is None else f"{v / 3600:.1f} h"

    rows = tuple((r.label, f"{r.units:,}", hours(r.median_s), hours(r.p90_s)) for r in rows_in)
    return Chart(
        "time-to-convert",
        title,
        "Time from the first step to each later step: median (tick) to p90 (end of the bar).",
        vega_lite_svg(spec),
        ("step", "units", "median", "p90"),
        rows,
    )


def survey_values(points: Sequence[SurveyPoint], key: str = "period") -> list[dict[str, Any]]:
    """The data of a survey chart: one record per point with a value (the period or group
    under ``key``); points with too few answers are left out, never drawn as zero."""
    return [
        {
            key: p.period,
            "metric": p.metric,
            "value": p.value,
            "low": p.low,
            "high": p.high,
            "n": p.n,
        }
        for p in points
        if p.value is not None
    ]


def survey_rows(points: Sequence[SurveyPoint]) -> tuple[tuple[str, ...], ...]:
    """The table behind a survey chart: group or period, metric, value, 95% CI, N."""
    return tuple(
        (
            p.period,
            p.metric,
            "too few answers" if p.value is None else f"{p.value:.1f}",
            "—" if p.low is None or p.high is None else f"{p.low:.1f} … {p.high:.1f}",
            f"{p.n:,}",
        )
        for p in points
    )


def survey_trend_chart(
    points: Sequence[SurveyPoint], *, title: str = "Survey metrics over time"
) -> Chart:
    """One panel per metric: the value per period with its 95% CI band; periods with too
    few answers (value ``None``) are left out, not drawn as zero."""
    spec = {
        "title": title,
        "data": {"values": survey_values(points)},
        "facet": {
            "row": {
                "field": "metric",
                "type": "nominal",
                "title": None,
                "header": {
                    "labelAngle": 0,
                    "labelOrient": "top",
                    "labelAnchor": "start",
                    "labelFontWeight": "bold",
                },
            }
        },
        "resolve": {"scale": {"y": "independent"}},
        "spec": {
            "width": 520,
            "height": 110,
            "encoding": {"x": {"field": "period", "type": "ordinal", "title": None, "sort": None}},
            "layer": [
                {
                    "mark": {"type": "area", "opacity": 0.25, "color": PALETTE[0]},
                    "encoding": {
                        "y": {
                            "field": "low",
                            "type": "quantitative",
                            "title": "value (95% CI)",
                            "scale": {"zero": False},
                        },
                        "y2": {"field": "high"},
                    },
                },
                {
                    "mark": {"type": "line", "point": True, "color": PALETTE[0]},
                    "encoding": {"y": {"field": "value", "type": "quantitative"}},
                },
            ],
        },
    }
    rows = survey_rows(points)
    return Chart(
        "survey",
        title,
        "NPS, CSAT and CES per period with 95% confidence intervals.",
        vega_lite_svg(spec),
        ("period", "metric", "value", "95% CI", "N"),
        rows,
    )


def forest_plot(rows_in: Sequence[OddsRatioRow], *, title: str = "Outcome comparison") -> Chart:
    """Odds ratios with 95% CIs on a log scale; the rule at 1 means no association.
    Filled points are significant after Benjamini–Hochberg (q ≤ 0.05)."""
    values = [
        {
            "feature": r.feature,
            "or": r.odds_ratio,
            "low": r.low,
            "high": r.high,
            "significant": "q ≤ 0.05"
            if r.q_value is not None and r.q_value <= 0.05
            else "not significant",
        }
        for r in rows_in
    ]
    spec = {
        "title": title,
        "width": 420,
        "height": {"step": 24},
        "layer": [
            {
                "data": {"values": values},
                "encoding": {
                    "y": {"field": "feature", "type": "nominal", "sort": None, "title": None}
                },
                "layer": [
                    {
                        "mark": {"type": "rule", "color": "#333333"},
                        "encoding": {
                            "x": {
                                "field": "low",
                                "type": "quantitative",
                                "scale": {"type": "log"},
                                "title": "odds ratio (95% CI, log scale)",
                            },
                            "x2": {"field": "high"},
                        },
                    },
                    {
                        "mark": {"type": "point", "size": 70, "strokeWidth": 2},
                        "encoding": {
                            "x": {"field": "or", "type": "quantitative"},
                            "shape": {"field": "significant", "type": "nominal", "title": None},
                            "color": {"field": "significant", "type": "nominal", "title": None},
                            "fill": {"field": "significant", "type": "nominal", "title": None},
                        },
                    },
                ],
            },
            {
                "data": {"values": [{"x": 1}]},
                "mark": {"type": "rule", "strokeDash": [4, 3], "color": "#777777"},
                "encoding": {"x": {"field": "x", "type": "quantitative"}},
            },
        ],
    }
    rows = tuple(
        (
            r.feature,
            f"{r.odds_ratio:.2f}",
            f"{r.low:.2f} … {r.high:.2f}",
            "—" if r.q_value is None else f"{r.q_value:.3g}",
        )
        for r in rows_in
    )
    return Chart(
        "forest",
        title,
        "Odds ratio of the outcome for units with each feature vs without, with 95% CI.",
        vega_lite_svg(spec),
        ("feature", "odds ratio", "95% CI", "q (BH)"),
        rows,
    )


def channel_use_chart(
    rows_in: Sequence[ChannelUse], *, title: str = "Channel use per persona"
) -> Chart:
    """Grouped bars: the share of each persona's customers who used each channel."""
    values = [{"persona": r.persona, "channel": r.channel, "share": r.share} for r in rows_in]
    spec = {
        "title": title,
        "data": {"values": values},
        "width": {"step": 16},
        "height": 200,
        "mark": "bar",
        "encoding": {
            "column": {
                "field": "channel",
                "type": "nominal",
                "title": None,
                "header": {"labelAngle": -40, "labelAlign": "right", "labelOrient": "bottom"},
            },
            "x": {"field": "persona", "type": "nominal", "axis": None},
            "y": {
                "field": "share",
                "type": "quantitative",
                "axis": {"format": "%"},
                "title": "share of customers",
                "scale": {"domain": [0, 1]},
            },
            "color": {"field": "persona", "type": "nominal", "title": "persona"},
        },
    }
    rows = tuple((r.persona, r.channel, _pct(r.share)) for r in rows_in)
    return Chart(
        "channels",
        title,
        "Share of each persona's customers who used each channel.",
        vega_lite_svg(spec),
        ("persona", "channel", "share"),
        rows,
    )


# -- Sankey (own SVG: Vega-Lite has none) --------------------------------------------------


def sankey_chart(
    links: Sequence[FlowLink],
    order: Sequence[str],
    *,
    title: str = "Flows between stages",
    width: float = 760,
    height: float = 300,
) -> Chart:
    """Flows as bands between node columns placed in ``order`` (stages, or steps).

    Nodes not named in ``order`` (e.g. ``exit``) go in a last column. Only forward links are
    drawn as bands; backward links (backtracks) are listed in the table and the description.
    Band widths are proportional to ``value``.
    """
    names = list(order) + sorted({n for ln in links for n in (ln.source, ln.target)} - set(order))
    col = {n: (order.index(n) if n in order else len(order)) for n in names}
    forward = [ln for ln in links if col[ln.target] > col[ln.source] and ln.value > 0]
    backward = [ln for ln in links if col[ln.target] <= col[ln.source] and ln.value > 0]
    n_cols = max(col.values(), default=0) + 1
    # A node's size is the larger of what flows in and what flows out.
    inflow: dict[str, int] = dict.fromkeys(names, 0)
    outflow: dict[str, int] = dict.fromkeys(names, 0)
    for ln in forward:
        outflow[ln.source] += ln.value
        inflow[ln.target] += ln.value
    size = {n: max(inflow[n], outflow[n]) for n in names}
    columns: list[list[str]] = [
        [n for n in names if col[n] == c and size[n] > 0] for c in range(n_cols)
    ]
    total = max((sum(size[n] for n in c) for c in columns), default=1) or 1
    top, label_h, node_w, gap = 40.0, 16.0, 14.0, 18.0
    plot_h = height - top - 30
    scale = (plot_h - gap * max((len(c) for c in columns), default=1)) / total if columns else 1.0
    # Every label sits right of its node: leave room for the widest one, and make columns
    # at least as far apart as the widest label so labels of neighbours never collide.
    labels = {n: f"{n} ({size[n]:,})" for n in names}
    widest = max((text_width(labels[n], 11) for c in columns for n in c), default=0.0)
    x_step = max(widest + node_w + 16, (width - 40 - node_w - widest) / max(1, n_cols - 1))
    width = max(width, 40 + node_w + widest + x_step * max(0, n_cols - 1))
    pos: dict[str, tuple[float, float, float]] = {}
    for c, nodes in enumerate(columns):
        y = top
        for n in nodes:
            h = max(2.0, size[n] * scale)
            pos[n] = (20 + c * x_step, y, h)
            y += h + gap
    root = El(
        "svg", xmlns="http://www.w3.org/2000/svg", width=width, height=height,
        viewBox=f"0 0 {width:.0f} {height:.0f}", role="img", aria_label=title,
        font_family=FONT_FAMILY, font_size=11,
    )  # fmt: skip
    root.sub("title", title)
    root.sub("rect", x=0, y=0, width=width, height=height, fill="#FFFFFF")
    root.sub("text", title, x=20, y=22, font_size=14, font_weight="bold")
    out_off = dict.fromkeys(names, 0.0)
    in_off = dict.fromkeys(names, 0.0)
    bands = root.sub("g", fill_opacity="0.35")
    for i, ln in enumerate(
        sorted(forward, key=lambda ln: (col[ln.source], names.index(ln.target)))
    ):
        sx, sy, _ = pos[ln.source]
        tx, ty, _ = pos[ln.target]
        w = ln.value * scale
        y0 = sy + out_off[ln.source] + w / 2
        y1 = ty + in_off[ln.target] + w / 2
        out_off[ln.source] += w
        in_off[ln.target] += w
        x0, x1 = sx + node_w, tx
        mid = (x0 + x1) / 2
        band = bands.sub(
            "path", d=f"M{x0:.1f} {y0:.1f} C{mid:.1f} {y0:.1f} {mid:.1f} {y1:.1f} {x1:.1f} {y1:.1f}",
            fill="none", stroke=PALETTE[i % 6], stroke_width=max(1.0, w), stroke_opacity="0.4",
        )  # fmt: skip
        band.sub("title", f"{ln.source} → {ln.target}: {ln.value:,}")
    for n, (x, y, h) in pos.items():
        root.sub("rect", x=x, y=y, width=node_w, height=h, fill="#23415E")
        label = labels[n]
        lx = x + node_w + 4
        ly = y + min(h, label_h) / 2 + 4
        # A white halo keeps the label readable where it crosses a band.
        root.sub("text", label, x=lx, y=ly, stroke="#FFFFFF", stroke_width=3, paint_order="stroke")
    rows = tuple(
        (ln.source, ln.target, f"{ln.value:,}", "backtrack" if ln in backward else "")
        for ln in links
    )
    desc = "Band width is the number of units moving between stages."
    if backward:
        desc += f" {len(backward)} backward flow(s) (backtracks) are listed in the table."
    return Chart("sankey", title, desc, root.to_string(), ("from", "to", "units", "note"), rows)
