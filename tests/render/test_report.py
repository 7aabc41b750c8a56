"""The HTML report: self-contained, every chart present, user text escaped."""

from __future__ import annotations

import base64
import xml.etree.ElementTree as ET
from datetime import datetime
from html.parser import HTMLParser

import polars as pl
import pytest
from tests.render._fixtures import sample_figures

from journeylens.analytics.livemap import compute_livemap
from journeylens.model import JourneyMap
from journeylens.render.charts import (
    ChannelUse,
    DurationGroup,
    FlowLink,
    FunnelStep,
    OddsRatioRow,
    SurveyPoint,
    TransitionCell,
)
from journeylens.render.figures import figures_from, figures_from_livemap
from journeylens.render.report import ChartsData, Finding, PlannedVsActual, render_report_html
from journeylens.templates import get_template, get_template_personas


class _Collect(HTMLParser):
    """Every start tag with its attributes, and all text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _parse(html: str) -> _Collect:
    parser = _Collect()
    parser.feed(html)
    parser.close()
    return parser


def _charts_data(label: str = "") -> ChartsData:
    a, b, c = f"Visit{label}", f"Sign up{label}", f"Pay{label}"
    return ChartsData(
        funnel=[FunnelStep(a, 1000), FunnelStep(b, 600), FunnelStep(c, 240)],
        flows=[FlowLink(a, b, 600), FlowLink(b, c, 240), FlowLink(a, "exit", 400)],
        flow_order=[a, b, c],
        transitions=[TransitionCell(a, b, 0.6, 600), TransitionCell(a, c, 0.4, 400)],
        time_to_convert=[DurationGroup(a, tuple(float(60 * i) for i in range(50)))],
        survey=[SurveyPoint("2026-01", f"NPS{label}", 20.0, 10.0, 30.0, 100)],
        outcome=[OddsRatioRow(f"live chat{label}", 2.0, 1.5, 2.7, 0.01)],
        outcome_name=f"churned{label}",
        channel_use=[ChannelUse(f"Maya{label}", "web", 0.9)],
        planned=PlannedVsActual(fitness=0.8, unbound_share=0.05, backtrack_share=0.2),
    )


ALL_CHARTS = ("funnel", "sankey", "transitions", "time-to-convert", "survey", "forest", "channels")


def test_report_loads_nothing_from_the_network_and_has_every_chart() -> None:
    journey = get_template("online-course")
    html = render_report_html(
        journey,
        get_template_personas("online-course")[:1],
        sample_figures(journey),
        _charts_data(),
        ["38% of mobile customers drop between shipping and payment, 3× the desktop rate"],
    )
    parsed = _parse(html)
    for tag, attrs in parsed.tags:
        for name in ("src", "href", "action", "data", "poster"):
            value = attrs.get(name) or ""
            assert not value.lower().startswith(("http://", "https://", "//")), (tag, name, value)
        assert tag not in ("script", "iframe", "link", "object", "embed")
    ids = {attrs.get("id") for _, attrs in parsed.tags}
    assert {f"chart-{key}" for key in ALL_CHARTS} <= ids
    images = [attrs for tag, attrs in parsed.tags if tag == "img"]
    assert len(images) == len(ALL_CHARTS)
    assert all((a.get("src") or "").startswith("data:image/svg+xml;base64,") for a in images)
    text = " ".join(parsed.text)
    assert "3× the desktop rate" in text
    assert "80.0%" in text  # fitness in the planned-vs-actual table and the facts
    assert "100,000" in text  # customers in scope


def test_designed_report_says_how_to_bind_data() -> None:
    html = render_report_html(get_template("aida"))
    text = " ".join(_parse(html).text)
    assert "No data bound yet" in text
    assert "The designed map" in text
    assert "<svg" in html


def test_live_table_hand_computed() -> None:
    journey = JourneyMap.model_validate(
        {
            "id": "m",
            "title": "M",
            "stages": [{"id": "s", "name": "Stage S", "steps": [{"id": "a", "name": "Step A"}]}],
        }
    )
    fig = figures_from(
        {
            "units": 10,
            "steps": {
                "a": {
                    "reached": 1234,
                    "conversion": 0.5,
                    "median_time_s": 120,
                    "nps": {"value": 12.4, "n": 40},
                    "csat": {"value": 90.0, "n": 3},
                }
            },
        }
    )
    text = " ".join(_parse(render_report_html(journey, figures=fig)).text)
    for expected in ("1,234", "50.0%", "2 min", "+12 (40)", "too few answers (3)"):
        assert expected in text


EVIL = ["<script>alert(1)</script>", '"><img src=x onerror=alert(1)>', "]]>&amp;"]


@pytest.mark.parametrize("evil", EVIL)
def test_report_escapes_user_text_everywhere(evil: str) -> None:
    journey = JourneyMap.model_validate(
        {
            "id": "evil",
            "title": evil,
            "description": evil,
            "stages": [
                {
                    "id": "s",
                    "name": evil,
                    "goal": evil,
                    "steps": [{"id": "a", "name": evil, "actions": [evil]}],
                }
            ],
        }
    )
    html = render_report_html(
        journey,
        figures={"population": evil, "window": evil, "units": 3},
        charts_data=_charts_data(evil),
        findings=[Finding(evil, title=evil)],
        title=evil,
    )
    parsed = _parse(html)
    for tag, attrs in parsed.tags:
        assert tag not in ("script", "iframe", "object", "embed")
        assert not any(name.startswith("on") for name in attrs), (tag, attrs)
        assert not (tag == "img" and attrs.get("src") == "x")
    text = "".join(parsed.text)
    assert text.count(evil) >= 5  # title, header, finding, population, … all shown as text
    # Every chart image is itself a well-formed SVG without script or event handlers.
    for tag, attrs in parsed.tags:
        if tag == "img":
            svg = base64.b64decode((attrs["src"] or "").split(",", 1)[1])
            root = ET.fromstring(svg)
            for el in root.iter():
                assert el.tag.split("}")[-1] not in ("script", "foreignObject")
                assert not any(name.lower().startswith("on") for name in el.attrib)


def test_livemap_adapter_reads_compute_livemap_output() -> None:
    m = JourneyMap.model_validate(
        {
            "id": "m",
            "title": "Shop",
            "stages": [
                {
                    "id": "look",
                    "name": "Look",
                    "steps": [
                        {
                            "id": "browse",
                            "name": "Browse",
                            "touchpoints": [
                                {
                                    "id": "site",
                                    "name": "Site",
                                    "channel": "web",
                                    "match": [{"event": "page_view"}],
                                }
                            ],
                        }
                    ],
                },
                {
                    "id": "buy",
                    "name": "Buy",
                    "steps": [
                        {
                            "id": "pay",
                            "name": "Pay",
                            "touchpoints": [
                                {
                                    "id": "checkout",
                                    "name": "Checkout",
                                    "channel": "web",
                                    "match": [{"event": "purchase"}],
                                }
                            ],
                        }
                    ],
                },
            ],
        }
    )
    ev = pl.DataFrame(
        {
            "customer_id": ["a", "a", "b"],
            "event_name": ["page_view", "purchase", "page_view"],
            "occurred_at": [datetime(2024, 1, 1, h) for h in (1, 3, 2)],
            "seq": [1, 2, 3],
        }
    )
    livemap = compute_livemap(ev, m)
    fig = figures_from_livemap(livemap.to_dict())
    # Hand-computed: a and b reach Look, only a goes on to Buy (the doctest of compute_livemap).
    assert fig.units == 2
    assert fig.stages["look"].reached == 2
    assert fig.stages["look"].conversion == 0.5
    assert fig.steps["pay"].reached == 1
    assert fig.touchpoints["site"].reached == 2
    assert fig.window == "2024-01-01 – 2024-01-01"
    # The LiveMap object itself is accepted too (via its to_dict()).
    assert figures_from(livemap) == fig
