"""The journey map as an SVG picture, drawn from the model (and measured figures, if any).

Layout, top to bottom: title; persona cards, the live-data box and the legend; stage
headers (name, goal, stage KPI badges); step headers (name, moment of truth, step KPI
badges); then one row per lane in ``journey.lanes.order`` — the line of visibility sits
above the backstage lane and the line of internal interaction above the support lane.

Every text is wrapped to its box with the deterministic widths of :mod:`.text`; row heights
are computed from the wrapped content, so no two texts overlap (the layout returns every
text box so tests can check that). Colours are the Okabe–Ito colour-blind-safe palette, and
every colour-coded mark also carries a label or a line style, so the map reads in greyscale.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from journeylens.model import JourneyMap, Persona
from journeylens.model.journey import (
    EvidenceSource,
    Lane,
    PainPoint,
    Stage,
    Step,
)
from journeylens.render.figures import HasToDict, MapFigures, Measured, NodeFigures, figures_from
from journeylens.render.icons import ICON_SIZE, channel_icon
from journeylens.render.text import FONT_FAMILY, Wrapped, text_width, wrap
from journeylens.render.xml import AttrValue, El

# Okabe–Ito palette (colour-blind safe); each use is doubled by a label or a line style.
BLUE = "#0072B2"  # designed emotion
VERMILLION = "#D55E00"  # measured emotion, pain points
GREEN = "#009E73"  # opportunities
ORANGE = "#E69F00"  # moments of truth
SKY = "#56B4E9"  # thoughts
PURPLE = "#CC79A7"  # custom lanes
INK = "#1A1A1A"
GREY = "#595959"
RULE = "#BFBFBF"
STAGE_FILL = "#23415E"

_ASCENT = 0.928  # DejaVu Sans ascent / descent in em: where the baseline sits in a line box
_DESCENT = 0.236

LANE_TITLES: Mapping[str, str] = {
    Lane.ACTIONS: "Customer actions",
    Lane.TOUCHPOINTS: "Touchpoints",
    Lane.THOUGHTS: "Thoughts",
    Lane.EMOTION: "Emotion",
    Lane.PAIN_POINTS: "Pain points",
    Lane.OPPORTUNITIES: "Opportunities",
    Lane.FRONTSTAGE: "Frontstage",
    Lane.BACKSTAGE: "Backstage",
    Lane.SUPPORT: "Support processes",
    Lane.OWNERS: "Owners",
    Lane.KPIS: "KPIs",
    Lane.EVIDENCE: "Evidence",
}


@dataclass(frozen=True)
class RenderOptions:
    """Knobs of the map layout (all in px).

    Columns share ``target_width``; a column is never narrower than ``min_col_width`` (the
    canvas grows instead) nor wider than ``max_col_width``. ``hide_empty_lanes`` leaves out
    lanes no step fills. ``id_prefix`` keeps element ids unique when several maps share one
    HTML page.
    """

    target_width: float = 1600
    min_col_width: float = 170
    max_col_width: float = 300
    label_width: float = 150
    margin: float = 24
    font_size: float = 12
    emotion_plot_height: float = 110
    hide_empty_lanes: bool = True
    legend: bool = True
    id_prefix: str = "jl"


@dataclass(frozen=True)
class TextBox:
    """Where one block of text was placed: its box and its (wrapped) lines."""

    x: float
    y: float
    width: float
    height: float
    lines: tuple[str, ...]
    role: str

    def overlaps(self, other: TextBox, tolerance: float = 0.01) -> bool:
        """Whether the two boxes share more than ``tolerance`` px in both directions."""
        return (
            min(self.x + self.width, other.x + other.width) - max(self.x, other.x) > tolerance
            and min(self.y + self.height, other.y + other.height) - max(self.y, other.y) > tolerance
        )


@dataclass(frozen=True)
class RenderedMap:
    """The SVG text, its size, and every text box placed (for layout checks)."""

    svg: str
    width: float
    height: float
    text_boxes: tuple[TextBox, ...]


FiguresInput = MapFigures | Mapping[str, Any] | HasToDict | None


def render_map_svg(
    journey: JourneyMap,
    personas: Sequence[Persona] = (),
    figures: FiguresInput = None,
    *,
    options: RenderOptions | None = None,
) -> str:
    """Draw ``journey`` as an SVG document (text). Without ``figures``: the designed map;
    with them: the live map (KPI badges, measured emotion with N, pain points confirmed by
    data). See :func:`layout_map` for the layout it returns alongside."""
    return layout_map(journey, personas, figures, options=options).svg


def layout_map(
    journey: JourneyMap,
    personas: Sequence[Persona] = (),
    figures: FiguresInput = None,
    *,
    options: RenderOptions | None = None,
) -> RenderedMap:
    """Lay out and draw the map; returns the SVG with the text boxes it placed."""
    return _MapDrawer(journey, personas, figures_from(figures), options or RenderOptions()).draw()


# -- formatting of measured values --------------------------------------------------------


def format_count(value: int) -> str:
    """``12345`` → ``'12,345'``."""
    return f"{value:,}"


def format_share(value: float) -> str:
    """A share 0 … 1 as a percentage with one decimal: ``0.4523`` → ``'45.2%'``."""
    return f"{value * 100:.1f}%"


def format_duration(seconds: float) -> str:
    """A duration in the largest readable unit.

    >>> format_duration(45), format_duration(600), format_duration(5400), format_duration(259200)
    ('45 s', '10 min', '1.5 h', '3.0 d')
    """
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} d"


def format_value(value: float, unit: str) -> str:
    """A KPI value in its unit: shares as percentages, seconds as durations.

    >>> format_value(0.7, "share"), format_value(86400, "seconds"), format_value(5.5, "score")
    ('70.0%', '24.0 h', '5.5')
    """
    if unit == "share":
        return format_share(value)
    if unit in ("seconds", "s"):
        return format_duration(value)
    if unit in ("percent", "%"):
        return f"{value:g}%"
    if unit in ("", "score", "count"):
        return f"{value:g}"
    return f"{value:g} {unit}"


def format_score(score: float) -> str:
    """An emotion score with its sign; zero has none: ``1`` → ``'+1'``, ``0`` → ``'0'``."""
    return f"{score:+g}" if score else "0"


def _survey(name: str, m: Measured, fig: MapFigures, fmt: Callable[[float], str]) -> str:
    if fig.shown(m) and m.value is not None:
        return f"{name} {fmt(m.value)} (N={format_count(m.n)})"
    return f"{name}: too few answers (N={format_count(m.n)})"


def badge_texts(node: NodeFigures, fig: MapFigures, *, compact: bool = False) -> list[str]:
    """The KPI badge labels for one stage, step or touchpoint, in a fixed order.

    ``compact`` (touchpoints) keeps reach and survey values; flow figures are on the step.
    Compact captions also leave out survey values with too few answers.
    """
    out: list[str] = []
    if node.reached is not None:
        out.append(f"{'reached' if compact else 'Reached'} {format_count(node.reached)}")
    if compact:
        # Captions keep only survey values with enough answers (the step badge says the rest).
        node = NodeFigures(
            nps=node.nps if fig.shown(node.nps) else None,
            csat=node.csat if fig.shown(node.csat) else None,
            ces=node.ces if fig.shown(node.ces) else None,
        )
    if node.conversion is not None:
        out.append(f"Conversion {format_share(node.conversion)}")
    if node.drop_off is not None:
        out.append(f"Drop-off {format_share(node.drop_off)}")
    if node.median_time_s is not None:
        out.append(f"Median time {format_duration(node.median_time_s)}")
    if node.nps is not None:
        out.append(_survey("NPS", node.nps, fig, lambda v: f"{v:+.0f}"))
    if node.csat is not None:
        out.append(_survey("CSAT", node.csat, fig, lambda v: f"{v:.0f}%"))
    if node.ces is not None:
        out.append(_survey("CES", node.ces, fig, lambda v: f"{v:.1f}"))
    return out


def pain_point_status(pain: PainPoint, fig: MapFigures | None) -> str:
    """``'data'`` when confirmed by data (its evidence or the figures say so), ``'research'``
    when backed by research, else ``'assumed'``."""
    sources = {e.source for e in pain.evidence}
    if EvidenceSource.DATA in sources or (fig is not None and pain.id in fig.confirmed_pain_points):
        return "data"
    if EvidenceSource.RESEARCH in sources:
        return "research"
    return "assumed"


# -- the drawer ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Column:
    stage: Stage
    step: Step | None
    x: float
    width: float


class _MapDrawer:
    """Draws one map; holds the layers and collects text boxes while it goes."""

    def __init__(
        self,
        journey: JourneyMap,
        personas: Sequence[Persona],
        fig: MapFigures | None,
        opt: RenderOptions,
    ) -> None:
        self.j = journey
        self.personas = list(personas)
        self.fig = fig
        self.opt = opt
        self.fs = opt.font_size
        self.boxes: list[TextBox] = []
        # Layers, so backgrounds drawn after their content still sit below it.
        self.bg = El("g", class_="backgrounds")
        self.lines = El("g", class_="rules")
        self.cards = El("g", class_="cards")
        self.fg = El("g", class_="content")
        n_cols = sum(max(1, len(s.steps)) for s in journey.stages)
        free = opt.target_width - 2 * opt.margin - opt.label_width
        self.col_w = max(opt.min_col_width, min(opt.max_col_width, free / n_cols))
        self.grid_x = opt.margin + opt.label_width
        self.columns: list[_Column] = []
        x = self.grid_x
        for stage in journey.stages:
            steps: list[Step | None] = list(stage.steps) or [None]
            for step in steps:
                self.columns.append(_Column(stage, step, x, self.col_w))
                x += self.col_w
        self.width = max(x + opt.margin, 960.0)
        self.pad = 8.0

    # -- primitives ------------------------------------------------------------------------

    def text(
        self,
        parent: El,
        x: float,
        y: float,
        width: float,
        text: str,
        *,
        size: float | None = None,
        bold: bool = False,
        italic: bool = False,
        fill: str = INK,
        role: str = "text",
        anchor_end: bool = False,
    ) -> float:
        """Wrap ``text`` into ``width`` and draw it with its top at ``y``; return its height."""
        w = wrap(text, max(width, 8.0), size or self.fs, bold=bold)
        self._draw_wrapped(
            parent, x, y, w, italic=italic, fill=fill, role=role, anchor_end=anchor_end
        )
        return w.height

    def _draw_wrapped(
        self,
        parent: El,
        x: float,
        y: float,
        w: Wrapped,
        *,
        italic: bool,
        fill: str,
        role: str,
        anchor_end: bool = False,
    ) -> None:
        lh = w.height / len(w.lines)
        inset = (lh - (_ASCENT + _DESCENT) * w.size) / 2 + _ASCENT * w.size
        for i, line in enumerate(w.lines):
            if not line:
                continue
            parent.sub(
                "text",
                line,
                x=x + w.width if anchor_end else x,
                y=y + i * lh + inset,
                font_size=w.size,
                font_weight="bold" if w.bold else None,
                font_style="italic" if italic else None,
                fill=fill if fill != INK else None,
                text_anchor="end" if anchor_end else None,
            )
        self.boxes.append(TextBox(x, y, w.width, w.height, w.lines, role))

    def rect(
        self, parent: El, x: float, y: float, w: float, h: float, **attrs: AttrValue | None
    ) -> El:
        return parent.sub("rect", x=x, y=y, width=w, height=h, **attrs)

    # -- reusable blocks -------------------------------------------------------------------

    def bullets(self, parent: El, x: float, y: float, width: float, items: Iterable[str]) -> float:
        """Bulleted items with a hanging indent; returns the height used."""
        h = 0.0
        for item in items:
            self.text(parent, x, y + h, 8, "•", fill=GREY, role="bullet")
            h += self.text(parent, x + 10, y + h, width - 10, item) + 4
        return max(0.0, h - 4)

    def badges(
        self,
        parent: El,
        x: float,
        y: float,
        width: float,
        labels: Sequence[str],
        *,
        on_dark: bool = False,
    ) -> float:
        """KPI badges flowed left to right, wrapping to new rows; returns the height used."""
        size = self.fs - 1
        cx, cy, row_h = x, y, 0.0
        for label in labels:
            w = wrap(label, width - 8, size)
            bw, bh = w.width + 8, w.height + 4
            if cx > x and cx + bw > x + width:
                cx, cy, row_h = x, cy + row_h + 3, 0.0
            self.rect(
                parent, cx, cy, bw, bh, rx=3,
                fill="#FFFFFF" if on_dark else "#F2F2F2", stroke=GREY, stroke_width=0.8,
            )  # fmt: skip
            self._draw_wrapped(parent, cx + 4, cy + 2, w, italic=False, fill=INK, role="badge")
            cx += bw + 4
            row_h = max(row_h, bh)
        return (cy + row_h - y) if labels else 0.0

    # -- the picture -----------------------------------------------------------------------

    def draw(self) -> RenderedMap:
        o = self.opt
        y = o.margin
        y += self.title(y) + 14
        y += self.header_cards(y) + 18
        y += self.stage_headers(y)
        y += self.step_headers(y) + 4
        y += self.lanes(y)
        y += 12
        y += self.footer(y) + o.margin
        return RenderedMap(self.svg(y), self.width, y, tuple(self.boxes))

    def svg(self, height: float) -> str:
        j, p = self.j, self.opt.id_prefix
        root = El(
            "svg",
            xmlns="http://www.w3.org/2000/svg",
            width=self.width,
            height=height,
            viewBox=f"0 0 {self.width:.0f} {height:.0f}",
            role="img",
            aria_labelledby=f"{p}-title {p}-desc",
            font_family=FONT_FAMILY,
            font_size=self.fs,
            fill=INK,
        )
        root.sub("title", f"Journey map: {j.title}", id=f"{p}-title")
        root.sub("desc", self.description(), id=f"{p}-desc")
        defs = root.sub("defs")
        hatch = defs.sub(
            "pattern", id=f"{p}-hatch", width=6, height=6, patternUnits="userSpaceOnUse",
            patternTransform="rotate(45)",
        )  # fmt: skip
        hatch.sub(
            "line",
            x1=0,
            y1=0,
            x2=0,
            y2=6,
            stroke=VERMILLION,
            stroke_width=1.2,
            stroke_opacity="0.35",
        )
        self.rect(root, 0, 0, self.width, height, fill="#FFFFFF")
        root.add(self.bg)
        root.add(self.lines)
        root.add(self.cards)
        root.add(self.fg)
        return '<?xml version="1.0" encoding="UTF-8"?>\n' + root.to_string()

    def description(self) -> str:
        j = self.j
        stages = ", ".join(s.name for s in j.stages)
        n_steps = sum(len(s.steps) for s in j.stages)
        kind = "to-be" if j.scenario.kind.value == "to_be" else "as-is"
        text = f"{kind.capitalize()} journey map with {len(j.stages)} stages ({stages}) and {n_steps} steps."
        if self.personas:
            text += " Persona: " + ", ".join(p.name for p in self.personas) + "."
        if self.fig is not None:
            text += f" Live figures for population {self.fig.population}"
            if self.fig.window:
                text += f", window {self.fig.window}"
            if self.fig.units is not None:
                text += f", N={format_count(self.fig.units)}"
            text += "."
        return text

    def title(self, y: float) -> float:
        o, j = self.opt, self.j
        width = self.width - 2 * o.margin
        h = self.text(self.fg, o.margin, y, width, j.title, size=22, bold=True, role="title")
        kind = "To-be" if j.scenario.kind.value == "to_be" else "As-is"
        meta = [f"{kind} journey", f"version {j.version}", j.status.value]
        if j.owner:
            meta.append(f"owner: {j.owner}")
        meta.append("live map" if self.fig is not None else "designed map (no data)")
        h += 4 + self.text(
            self.fg, o.margin, y + h + 4, width, " · ".join(meta), fill=GREY, role="meta"
        )
        for extra in (j.description, j.scenario.description):
            if extra:
                h += 4 + self.text(self.fg, o.margin, y + h + 4, width, extra, role="description")
        return h

    # -- header cards: personas, live data, legend ------------------------------------------

    def header_cards(self, y: float) -> float:
        cards: list[tuple[float, Callable[[float, float, float], float]]] = []
        for persona in self.personas:
            cards.append((360.0, functools.partial(self.persona_card, persona)))
        if self.fig is not None:
            cards.append((280.0, self.live_box))
        if self.opt.legend:
            cards.append((300.0, self.legend))
        x0, x1 = self.opt.margin, self.width - self.opt.margin
        cx, cy, row_h = x0, y, 0.0
        for width, draw in cards:
            if cx > x0 and cx + width > x1:
                cx, cy, row_h = x0, cy + row_h + 14, 0.0
            h = draw(cx, cy, width)
            cx += width + 14
            row_h = max(row_h, h)
        return cy + row_h - y

    def card_frame(self, x: float, y: float, w: float, h: float, stroke: str = GREY) -> None:
        self.rect(self.bg, x, y, w, h, rx=6, fill="#FAFAFA", stroke=stroke, stroke_width=1)

    def persona_card(self, p: Persona, x: float, y: float, w: float) -> float:
        g = self.fg.sub("g", aria_label=f"Persona: {p.name}", role="group")
        ix, iw, pad = x + 12, w - 24, 10.0
        h = pad
        h += (
            self.text(g, ix, y + h, iw, "PERSONA", size=10, bold=True, fill=GREY, role="kicker") + 2
        )
        h += self.text(g, ix, y + h, iw, p.name, size=16, bold=True, role="persona-name") + 4
        d = p.demographics
        facts = [
            f"age {d.age}" if d.age else "",
            d.generation.value.replace("_", " ") if d.generation else "",
            d.occupation or "",
            d.location or "",
            d.income_band or "",
            f"≈{p.share * 100:.0f}% of customers" if p.share else "",
        ]
        line = " · ".join(f for f in facts if f)
        if line:
            h += self.text(g, ix, y + h, iw, line, fill=GREY, role="persona-facts") + 4
        if p.summary:
            h += self.text(g, ix, y + h, iw, p.summary, role="persona-summary") + 4
        if p.quote:
            h += self.text(g, ix, y + h, iw, f"“{p.quote}”", italic=True, role="persona-quote") + 6
        for label, items in (
            ("Goals", p.goals),
            ("Needs", p.needs),
            ("Frustrations", p.frustrations),
        ):
            if items:
                h += self.text(g, ix, y + h, iw, label, bold=True, role="persona-label") + 2
                h += self.bullets(g, ix, y + h, iw, items) + 6
        if p.preferred_channels:
            h += (
                self.text(g, ix, y + h, iw, "Preferred channels", bold=True, role="persona-label")
                + 4
            )
            cx = ix
            for ch in p.preferred_channels:
                label = ch.value.replace("_", " ")
                lw = text_width(label, self.fs - 1) + ICON_SIZE + 14
                if cx > ix and cx + lw > ix + iw:
                    cx, h = ix, h + 20
                g.add(channel_icon(ch, cx, y + h))
                self.text(
                    g,
                    cx + ICON_SIZE + 4,
                    y + h,
                    iw - ICON_SIZE - 4,
                    label,
                    size=self.fs - 1,
                    role="channel",
                )
                cx += lw
            h += 20
        h += pad - 4
        self.card_frame(x, y, w, h)
        return h

    def live_box(self, x: float, y: float, w: float) -> float:
        fig = self.fig
        assert fig is not None
        g = self.fg.sub("g", aria_label="Live data", role="group")
        ix, iw = x + 12, w - 24
        h = 10.0
        h += (
            self.text(g, ix, y + h, iw, "LIVE DATA", size=10, bold=True, fill=GREY, role="kicker")
            + 4
        )
        rows = [f"Population: {fig.population}"]
        if fig.window:
            rows.append(f"Window: {fig.window}")
        if fig.units is not None:
            rows.append(f"Customers: {format_count(fig.units)}")
        rows.append(f"Survey values need N ≥ {fig.min_answers}")
        for row in rows:
            h += self.text(g, ix, y + h, iw, row, role="live") + 3
        h += 7
        self.card_frame(x, y, w, h)
        return h

    def legend(self, x: float, y: float, w: float) -> float:
        g = self.fg.sub("g", aria_label="Legend", role="group")
        ix, iw = x + 12, w - 24
        h = 10.0
        h += self.text(g, ix, y + h, iw, "LEGEND", size=10, bold=True, fill=GREY, role="kicker") + 6
        tx, tw = ix + 34, iw - 34

        def entry(label: str, mark: Callable[[float], object]) -> None:
            nonlocal h
            mark(y + h)
            h += max(16.0, self.text(g, tx, y + h, tw, label, size=self.fs - 1, role="legend")) + 5

        def line(color: str, dash: str | None, marker: str) -> Callable[[float], object]:
            def draw(top: float) -> None:
                mid = top + 7
                g.sub(
                    "line",
                    x1=ix,
                    y1=mid,
                    x2=ix + 26,
                    y2=mid,
                    stroke=color,
                    stroke_width=2.2,
                    stroke_dasharray=dash,
                )
                if marker == "circle":
                    g.sub("circle", cx=ix + 13, cy=mid, r=3.5, fill=color)
                else:
                    self.rect(g, ix + 9.5, mid - 3.5, 7, 7, fill=color)

            return draw

        def box(
            stroke: str, dash: str | None, width: float, fill: str
        ) -> Callable[[float], object]:
            return lambda top: self.rect(
                g, ix, top + 1, 26, 13, rx=2, fill=fill, stroke=stroke, stroke_width=width, stroke_dasharray=dash
            )  # fmt: skip

        def star(top: float) -> None:
            self.text(g, ix + 6, top - 1, 20, "★", size=14, fill=ORANGE, role="legend-mark")

        entry("Designed emotion (solid, circles)", line(BLUE, None, "circle"))
        if self.fig is not None:
            entry("Measured emotion with N (dashed, squares)", line(VERMILLION, "6 3", "square"))
        entry("Moment of truth", star)
        entry(
            "Pain point confirmed by data (solid, hatched)",
            box(VERMILLION, None, 2.2, f"url(#{self.opt.id_prefix}-hatch)"),
        )
        entry("Pain point from research (solid)", box(VERMILLION, None, 1.2, "#FFFFFF"))
        entry("Pain point assumed (dashed)", box(VERMILLION, "4 3", 1.2, "#FFFFFF"))
        entry("Opportunity (impact · effort)", box(GREEN, None, 1.2, "#FFFFFF"))
        h += 5
        self.card_frame(x, y, w, h)
        return h

    # -- stage and step headers ------------------------------------------------------------

    def stage_spans(self) -> list[tuple[Stage, float, float]]:
        spans: list[tuple[Stage, float, float]] = []
        for col in self.columns:
            if spans and spans[-1][0] is col.stage:
                stage, x, w = spans[-1]
                spans[-1] = (stage, x, w + col.width)
            else:
                spans.append((col.stage, col.x, col.width))
        return spans

    def stage_headers(self, y: float) -> float:
        pad = self.pad
        heights = []
        for index, (stage, x, w) in enumerate(self.stage_spans(), start=1):
            ix, iw = x + pad + 2, w - 2 * pad - 4
            g = self.fg.sub("g", aria_label=f"Stage {index}: {stage.name}", role="group")
            h = pad
            h += self.text(
                g,
                ix,
                y + h,
                iw,
                f"STAGE {index}",
                size=10,
                bold=True,
                fill="#C9D6E3",
                role="kicker",
            )
            h += 2 + self.text(
                g, ix, y + h + 2, iw, stage.name, size=15, bold=True, fill="#FFFFFF", role="stage"
            )
            if stage.goal:
                h += 4 + self.text(
                    g, ix, y + h + 4, iw, f"Goal: {stage.goal}", fill="#FFFFFF", role="goal"
                )
            if self.fig is not None and stage.id in self.fig.stages:
                labels = badge_texts(self.fig.stages[stage.id], self.fig)
                if labels:
                    h += 6 + self.badges(g, ix, y + h + 6, iw, labels, on_dark=True)
            heights.append(h + pad)
        row_h = max(heights)
        for _stage, x, w in self.stage_spans():
            self.rect(self.bg, x + 1, y, w - 2, row_h, rx=4, fill=STAGE_FILL)
        self.text(
            self.fg,
            self.opt.margin,
            y + self.pad,
            self.opt.label_width - 12,
            "Stages",
            bold=True,
            role="lane-label",
        )
        return row_h + 2

    def step_headers(self, y: float) -> float:
        pad = self.pad
        heights = []
        for col in self.columns:
            step = col.step
            if step is None:
                heights.append(0.0)
                continue
            ix, iw = col.x + pad, col.width - 2 * pad
            g = self.fg.sub("g", aria_label=f"Step: {step.name}", role="group")
            h = pad
            h += self.text(g, ix, y + h, iw, step.name, size=13, bold=True, role="step")
            if step.description:
                h += 3 + self.text(
                    g,
                    ix,
                    y + h + 3,
                    iw,
                    step.description,
                    size=self.fs - 1,
                    fill=GREY,
                    role="step-desc",
                )
            if step.expected_duration:
                h += 3 + self.text(
                    g,
                    ix,
                    y + h + 3,
                    iw,
                    f"expected within {step.expected_duration}",
                    size=self.fs - 1,
                    fill=GREY,
                    role="step-duration",
                )
            if step.moment_of_truth is not None:
                top = y + h + 6
                mh = 4.0
                mh += self.text(
                    g,
                    ix + 6,
                    top + mh,
                    iw - 12,
                    "★ Moment of truth",
                    bold=True,
                    size=self.fs - 1,
                    role="mot",
                )
                mh += 2 + self.text(
                    g,
                    ix + 6,
                    top + mh + 2,
                    iw - 12,
                    step.moment_of_truth.why,
                    size=self.fs - 1,
                    role="mot-why",
                )
                mh += 5
                self.rect(
                    self.cards,
                    ix,
                    top,
                    iw,
                    mh,
                    rx=4,
                    fill="#FDF1D6",
                    stroke=ORANGE,
                    stroke_width=1.6,
                )
                h += 6 + mh
            if self.fig is not None and step.id in self.fig.steps:
                labels = badge_texts(self.fig.steps[step.id], self.fig)
                if labels:
                    h += 6 + self.badges(g, ix, y + h + 6, iw, labels)
            heights.append(h + pad)
        row_h = max([*heights, 30.0])
        for col in self.columns:
            self.rect(self.bg, col.x + 1, y, col.width - 2, row_h, fill="#E9EEF3")
        self.text(
            self.fg,
            self.opt.margin,
            y + pad,
            self.opt.label_width - 12,
            "Steps",
            bold=True,
            role="lane-label",
        )
        return row_h

    # -- lanes -----------------------------------------------------------------------------

    def lane_names(self) -> list[str]:
        custom = {c.id for c in self.j.lanes.custom}
        shown = []
        for name in self.j.lanes.order:
            if name not in custom and name not in set(Lane):
                continue
            if self.opt.hide_empty_lanes and not self.lane_has_content(name):
                continue
            shown.append(name)
        return shown

    def lane_has_content(self, name: str) -> bool:
        steps = [c.step for c in self.columns if c.step is not None]
        if name == Lane.EMOTION:
            return any(s.emotion for s in steps) or (
                self.fig is not None
                and any(self.fig.steps.get(s.id, NodeFigures()).emotion for s in steps)
            )
        if name in set(Lane):
            return any(getattr(s, name) for s in steps)
        return any(s.custom.get(name) for s in steps)

    def lanes(self, y: float) -> float:
        start = y
        names = self.lane_names()
        titles = {c.id: c.name for c in self.j.lanes.custom}
        seen: list[str] = []
        for index, name in enumerate(names):
            if (
                name in (Lane.BACKSTAGE, Lane.SUPPORT)
                and seen
                and not any(s in (Lane.BACKSTAGE, Lane.SUPPORT) for s in seen)
            ):
                y += self.separator(y, "line of visibility")
            if name == Lane.SUPPORT and Lane.BACKSTAGE in seen:
                y += self.separator(y, "line of internal interaction")
            shade = "#F7F7F7" if index % 2 == 0 else "#FFFFFF"
            y += self.lane(y, name, titles.get(name) or LANE_TITLES.get(name, name), shade)
            seen.append(name)
        # Column rules over the whole lane area: solid between stages, dotted between steps.
        for i, col in enumerate(self.columns):
            if i == 0:
                continue
            new_stage = col.stage is not self.columns[i - 1].stage
            self.lines.sub(
                "line", x1=col.x, y1=start, x2=col.x, y2=y,
                stroke=GREY if new_stage else RULE, stroke_width=1.2 if new_stage else 0.8,
                stroke_dasharray=None if new_stage else "2 3",
            )  # fmt: skip
        return y - start

    def separator(self, y: float, label: str) -> float:
        o = self.opt
        w = wrap(label, o.label_width - 12, self.fs - 1, bold=True)
        h = max(24.0, w.height + 8)
        self._draw_wrapped(
            self.fg, o.margin, y + (h - w.height) / 2, w, italic=True, fill=GREY, role="line-label"
        )
        self.lines.sub(
            "line", x1=self.grid_x, y1=y + h / 2, x2=self.width - o.margin, y2=y + h / 2,
            stroke=INK, stroke_width=1.6, stroke_dasharray="8 4",
        )  # fmt: skip
        return h

    def lane(self, y: float, name: str, title: str, shade: str) -> float:
        o, pad = self.opt, self.pad
        label_h = self.text(
            self.fg, o.margin, y + pad, o.label_width - 12, title, bold=True, role="lane-label"
        )
        if name == Lane.EMOTION:
            h = self.emotion_lane(y, label_h)
        else:
            heights = [label_h]
            for col in self.columns:
                if col.step is not None:
                    g = self.fg.sub("g", class_=f"lane-{name}")
                    heights.append(
                        self.cell(g, name, col.step, col.x + pad, y + pad, col.width - 2 * pad)
                    )
            h = max(heights) + 2 * pad
            h = max(h, 34.0)
        self.rect(self.bg, o.margin, y, self.width - 2 * o.margin, h, fill=shade)
        self.lines.sub(
            "line",
            x1=o.margin,
            y1=y + h,
            x2=self.width - o.margin,
            y2=y + h,
            stroke=RULE,
            stroke_width=0.6,
        )
        return h

    def cell(self, g: El, name: str, step: Step, x: float, y: float, w: float) -> float:
        if name == Lane.TOUCHPOINTS:
            return self.touchpoints(g, step, x, y, w)
        if name == Lane.THOUGHTS:
            return self.stack(g, step.thoughts, x, y, w, self.thought)
        if name == Lane.PAIN_POINTS:
            return self.stack(g, step.pain_points, x, y, w, self.pain)
        if name == Lane.OPPORTUNITIES:
            return self.stack(g, step.opportunities, x, y, w, self.opportunity)
        if name == Lane.KPIS:
            return self.bullets(g, x, y, w, [self.kpi_text(k) for k in step.kpis])
        if name == Lane.EVIDENCE:
            items = [
                f"{e.source.value}: {e.reference or '—'} ({e.confidence.value} confidence)"
                for e in step.evidence
            ]
            return self.bullets(g, x, y, w, items)
        if name in (Lane.ACTIONS, Lane.FRONTSTAGE, Lane.BACKSTAGE, Lane.SUPPORT, Lane.OWNERS):
            return self.bullets(g, x, y, w, getattr(step, name))
        return self.bullets(g, x, y, w, step.custom.get(name, []))

    def stack(
        self,
        g: El,
        items: Sequence[Any],
        x: float,
        y: float,
        w: float,
        draw: Callable[[El, Any, float, float, float], float],
    ) -> float:
        h = 0.0
        for item in items:
            h += draw(g, item, x, y + h, w) + 6
        return max(0.0, h - 6)

    def kpi_text(self, kpi_id: str) -> str:
        kpi = next((k for k in self.j.kpis if k.id == kpi_id), None)
        if kpi is None:
            return kpi_id
        text = kpi.name
        if kpi.target is not None:
            text += f" — target {format_value(kpi.target, kpi.unit)}"
        if self.fig is not None and kpi_id in self.fig.kpis:
            text += f" — actual {format_value(self.fig.kpis[kpi_id], kpi.unit)}"
        return text

    def touchpoints(self, g: El, step: Step, x: float, y: float, w: float) -> float:
        h = 0.0
        for tp in step.touchpoints:
            g.add(channel_icon(tp.channel, x, y + h + 1))
            tx, tw = x + ICON_SIZE + 6, w - ICON_SIZE - 6
            th = self.text(g, tx, y + h, tw, tp.name, role="touchpoint")
            caption = tp.channel.value.replace("_", " ") + (
                "" if tp.visible else " · not visible to the customer"
            )
            # Touchpoint figures are a compact caption line, not boxed badges: a step may
            # have many touchpoints, and its flow figures are already on the step header.
            node = self.fig.touchpoints.get(tp.id) if self.fig is not None else None
            if node is not None and self.fig is not None:
                caption = " · ".join([caption, *badge_texts(node, self.fig, compact=True)])
            th += 1 + self.text(
                g, tx, y + h + th + 1, tw, caption, size=self.fs - 2,
                fill=INK if node is not None else GREY, role="channel",
            )  # fmt: skip
            h += max(th, ICON_SIZE + 2) + 8
        return max(0.0, h - 8)

    def thought(self, g: El, text: str, x: float, y: float, w: float) -> float:
        h = self.text(g, x + 6, y + 4, w - 12, f"“{text}”", italic=True, role="thought") + 8
        self.rect(self.cards, x, y, w, h, rx=8, fill="#E3F1FA", stroke=SKY, stroke_width=1)
        return h

    def pain(self, g: El, pain: PainPoint, x: float, y: float, w: float) -> float:
        status = pain_point_status(pain, self.fig)
        h = 4.0
        h += self.text(g, x + 6, y + h, w - 12, pain.text, role="pain")
        label = {"data": "✓ confirmed by data", "research": "from research", "assumed": "assumed"}[
            status
        ]
        h += 2 + self.text(
            g, x + 6, y + h + 2, w - 12, f"severity {pain.severity}/5 · {label}",
            size=self.fs - 2, bold=status == "data", fill=VERMILLION if status == "data" else GREY, role="pain-meta",
        )  # fmt: skip
        h += 5
        # Severity as a bar on the left edge whose height grows with severity: reads in greyscale.
        fill = f"url(#{self.opt.id_prefix}-hatch)" if status == "data" else "#FFFFFF"
        self.rect(
            self.cards, x, y, w, h, rx=3, fill=fill, stroke=VERMILLION,
            stroke_width=2.2 if status == "data" else 1.2,
            stroke_dasharray="4 3" if status == "assumed" else None,
        )  # fmt: skip
        self.rect(
            self.lines,
            x - 4,
            y + h - h * pain.severity / 5,
            3,
            h * pain.severity / 5,
            fill=VERMILLION,
        )
        return h

    def opportunity(self, g: El, opp: Any, x: float, y: float, w: float) -> float:
        h = 4.0
        h += self.text(g, x + 6, y + h, w - 12, opp.text, role="opportunity")
        meta = f"impact {opp.impact} · effort {opp.effort} · {opp.status.value.replace('_', ' ')}"
        if opp.owner:
            meta += f" · {opp.owner}"
        h += 2 + self.text(
            g, x + 6, y + h + 2, w - 12, meta, size=self.fs - 2, fill=GREY, role="opportunity-meta"
        )
        h += 5
        self.rect(self.cards, x, y, w, h, rx=3, fill="#FFFFFF", stroke=GREEN, stroke_width=1.2)
        return h

    # -- the emotion curve -----------------------------------------------------------------

    def emotion_lane(self, y: float, label_h: float) -> float:
        o, pad, fig = self.opt, self.pad, self.fig
        top = y + pad + label_h + 4
        plot_h = o.emotion_plot_height

        def ypos(score: float) -> float:
            return top + 8 + (2 - score) / 4 * (plot_h - 16)

        # Scale: gridlines at −2 … +2 with tick labels right-aligned in the label column.
        for score in (2, 1, 0, -1, -2):
            yy = ypos(score)
            self.lines.sub(
                "line", x1=self.grid_x, y1=yy, x2=self.width - o.margin, y2=yy,
                stroke=GREY if score == 0 else RULE, stroke_width=0.8 if score == 0 else 0.5,
                stroke_dasharray=None if score == 0 else "2 4",
            )  # fmt: skip
            label = f"{score:+d}" if score else "0"
            w = wrap(label, 30, self.fs - 2)
            self._draw_wrapped(
                self.fg,
                self.grid_x - 6 - w.width,
                yy - w.height / 2,
                w,
                italic=False,
                fill=GREY,
                role="tick",
            )
        designed: list[tuple[float, float] | None] = []
        measured: list[tuple[float, float] | None] = []
        band_heights = [0.0]
        band_top = top + plot_h + 6
        for col in self.columns:
            step = col.step
            cx = col.x + col.width / 2
            if step is None:
                designed.append(None)
                measured.append(None)
                continue
            d = step.emotion
            designed.append((cx, ypos(d.score)) if d else None)
            labels: list[tuple[str, str]] = []
            if d:
                labels.append(
                    (f"designed {format_score(d.score)}" + (f" {d.label}" if d.label else ""), BLUE)
                )
            m = fig.steps.get(step.id, NodeFigures()).emotion if fig else None
            if fig is not None and m is not None and fig.shown(m) and m.value is not None:
                measured.append((cx, ypos(max(-2.0, min(2.0, m.value)))))
                labels.append((f"measured {m.value:+.1f} (N={format_count(m.n)})", VERMILLION))
            else:
                measured.append(None)
                if fig is not None and m is not None:
                    labels.append((f"measured: too few answers (N={format_count(m.n)})", GREY))
            bh = 0.0
            for text, color in labels:
                bh += (
                    self.text(
                        self.fg,
                        col.x + pad,
                        band_top + bh,
                        col.width - 2 * pad,
                        text,
                        size=self.fs - 1,
                        fill=color,
                        role="emotion-label",
                    )
                    + 2
                )
            band_heights.append(bh)
        self.curve(designed, BLUE, None, "circle")
        if fig is not None:
            self.curve(measured, VERMILLION, "6 3", "square")
        return max(label_h + 4 + plot_h + 6 + max(band_heights), 0) + 2 * pad

    def curve(
        self, points: list[tuple[float, float] | None], color: str, dash: str | None, marker: str
    ) -> None:
        """A polyline through consecutive points; a missing point leaves a gap."""
        run: list[tuple[float, float]] = []
        runs: list[list[tuple[float, float]]] = []
        for p in [*points, None]:
            if p is None:
                if run:
                    runs.append(run)
                run = []
            else:
                run.append(p)
        for run in runs:
            if len(run) > 1:
                self.fg.sub(
                    "polyline", points=" ".join(f"{x:.1f},{y:.1f}" for x, y in run), fill="none",
                    stroke=color, stroke_width=2.4, stroke_dasharray=dash, stroke_linejoin="round",
                )  # fmt: skip
            for x, y in run:
                if marker == "circle":
                    self.fg.sub(
                        "circle", cx=x, cy=y, r=4.5, fill=color, stroke="#FFFFFF", stroke_width=1.2
                    )
                else:
                    self.fg.sub(
                        "rect",
                        x=x - 4,
                        y=y - 4,
                        width=8,
                        height=8,
                        fill=color,
                        stroke="#FFFFFF",
                        stroke_width=1.2,
                    )

    def footer(self, y: float) -> float:
        o = self.opt
        text = f"journeylens · map {self.j.id} v{self.j.version}"
        text += (
            " · live map"
            if self.fig is not None
            else " · designed map: figures appear once data is bound"
        )
        return self.text(
            self.fg,
            o.margin,
            y,
            self.width - 2 * o.margin,
            text,
            size=self.fs - 2,
            fill=GREY,
            role="footer",
        )
